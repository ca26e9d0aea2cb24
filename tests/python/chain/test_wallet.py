"""Signing rules: dev keys on 31337 only, encrypted keystores elsewhere, against real anvil nodes."""

from __future__ import annotations

import json

import pytest

from modelmint.chain import deployments, devnet, wallet
from modelmint.chain.client import Chain
from modelmint.errors import ChainError, InputError
from modelmint.home import Home
from tests_support import rpc

SEPOLIA_ID = 11155111
PASSWORD = "correct horse battery staple"


@pytest.fixture
def foreign_node(start_anvil):
    """A real anvil that claims to be Sepolia: a chain where dev keys must be refused."""
    return start_anvil("--chain-id", str(SEPOLIA_ID))


def test_dev_key_is_the_default_on_the_devnet(chain):
    assert chain.chain_id == devnet.DEV_CHAIN_ID
    assert chain.signer.address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_dev_keys_are_refused_on_other_chains(foreign_node, tmp_path, monkeypatch):
    chain = Chain.connect(Home(tmp_path), foreign_node)
    assert chain.chain_id == SEPOLIA_ID
    with pytest.raises(ChainError, match="sign with an encrypted eth-account keystore"):
        _ = chain.signer
    # A dev key inside a keystore is refused too.
    monkeypatch.setenv(wallet.PASSWORD_ENV, PASSWORD)
    keystore = tmp_path / "dev.json"
    wallet.create_keystore(keystore, PASSWORD, wallet.dev_account(3).key.hex())
    with pytest.raises(ChainError, match="public anvil dev key"):
        _ = Chain.connect(Home(tmp_path), foreign_node, keystore).signer


def test_keystore_deploys_on_a_non_dev_chain_and_never_holds_the_key_in_plain_text(
    foreign_node, tmp_path, monkeypatch
):
    monkeypatch.setenv(wallet.PASSWORD_ENV, PASSWORD)
    keystore = tmp_path / "me.json"
    address = wallet.create_keystore(keystore, PASSWORD)
    rpc(foreign_node, "anvil_setBalance", address, hex(10**20))
    chain = Chain.connect(Home(tmp_path / "home"), foreign_node, keystore)
    chain.confirmations = 1  # this anvil mines only on demand; test_client.py covers the waiting
    key_hex = chain.signer.key.hex().removeprefix("0x")
    assert key_hex not in keystore.read_text()
    assert keystore.stat().st_mode & 0o077 == 0
    deployment = deployments.deploy(chain)
    assert deployment.chain_id == SEPOLIA_ID
    assert (tmp_path / "home" / "deployments" / f"{SEPOLIA_ID}.json").exists()


def test_wrong_password_and_bad_keystores_are_clear_errors(tmp_path, monkeypatch):
    keystore = tmp_path / "k.json"
    wallet.create_keystore(keystore, PASSWORD)
    monkeypatch.setenv(wallet.PASSWORD_ENV, "wrong")
    with pytest.raises(InputError, match="wrong password"):
        wallet.load_signer(1, keystore)
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(InputError, match="not a JSON keystore"):
        wallet.load_signer(1, tmp_path / "junk.json")
    with pytest.raises(InputError, match="cannot read keystore"):
        wallet.load_signer(1, tmp_path / "missing.json")
    with pytest.raises(InputError, match="already exists"):
        wallet.create_keystore(keystore, PASSWORD)
    assert json.loads(keystore.read_text())["crypto"]


def test_cli_refuses_dev_keys_off_devnet_in_one_line(cli, foreign_node):
    result = cli("deploy", "--rpc-url", foreign_node)
    result.assert_user_error(f"chain {SEPOLIA_ID} is not the devnet", "--keystore")


def test_cli_wallet_create_uses_the_password_from_the_environment(cli, tmp_path):
    path = tmp_path / "w.json"
    result = cli("wallet", "create", str(path), env={wallet.PASSWORD_ENV: PASSWORD})
    assert result.code == 0, result.stderr
    assert "0x" in result.stdout
    assert path.exists()

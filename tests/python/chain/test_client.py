"""Sending and reading through Chain against real anvil nodes: timeouts, failures, lying nodes."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from eth_utils import keccak

from modelmint.chain import deployments, devnet, wallet
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import Chain, decode_revert
from modelmint.errors import ChainError, InputError, RevertError
from modelmint.home import Home
from modelmint.registry import commit_dataset
from modelmint.storage import LocalStore
from tests_support import SAMPLE


@pytest.fixture
def own_devnet(tmp_path) -> Iterator[Home]:
    """A devnet of this test's own: these tests switch automatic mining off."""
    home = Home(tmp_path / "own")
    devnet.start(home)
    yield home
    devnet.stop(home)


def _rpc(url: str, method: str, *params):
    answer = requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10)
    return answer.json()["result"]


def test_a_transaction_not_mined_in_time_gets_its_own_message(own_devnet):
    chain = Chain.connect(own_devnet)
    chain.receipt_timeout_s = 1
    _rpc(chain.url, "evm_setAutomine", False)
    with pytest.raises(ChainError, match=r"transaction 0x[0-9a-f]{64} was not mined within 1 s") as caught:
        chain.deploy("DatasetNFT")
    assert "re-running the command is safe" in str(caught.value)


def test_a_failed_transaction_is_explained_by_the_state_it_ran_on(own_devnet, tmp_path):
    """Token 1 changes hands later in the same block: the state after the block tells another story."""
    chain = Chain.connect(own_devnet)
    deployment = deployments.deploy(chain)
    commit_dataset(chain, LocalStore(tmp_path / "store"), SAMPLE / "member.jsonl", name="one")
    me, other = chain.signer.address, wallet.dev_account(1).address
    nft = chain.w3.eth.contract(address=deployment.contracts["DatasetNFT"].address, abi=load_artifact("DatasetNFT").abi)
    nonce = chain.w3.eth.get_transaction_count(me)
    fees = {"gas": 200_000, "chainId": chain.chain_id, "from": me}
    # A: take token 1 from `other`, who does not own it yet: fails with ERC721IncorrectOwner.
    doomed = nft.functions.transferFrom(other, me, 1)
    a = doomed.build_transaction({**fees, "nonce": nonce})
    # B, mined after A in the same block: token 1 goes to `other`; A replayed after it would
    # fail for another reason (me not approved by the new owner).
    b = nft.functions.transferFrom(me, other, 1).build_transaction({**fees, "nonce": nonce + 1})
    _rpc(chain.url, "evm_setAutomine", False)
    chain.w3.eth.send_raw_transaction(chain.signer.sign_transaction(b).raw_transaction)
    threading.Timer(0.5, lambda: _rpc(chain.url, "evm_mine")).start()  # one block: A, then B
    with pytest.raises(ChainError) as caught:
        chain._sign_and_wait(a, replay=doomed)  # the path every send takes after its gas estimate
    error = caught.value
    assert isinstance(error, RevertError), error
    assert error.name == "ERC721IncorrectOwner", error


def test_undecodable_revert_data_is_one_line_not_a_traceback():
    selector = keccak(text="ERC721NonexistentToken(uint256)")[:4].hex()
    for data in ("0x" + selector + "00", "0x" + selector + "zz", "0x" + selector + "0" * 63):
        error = decode_revert(data)
        assert type(error) is ChainError and "undecodable data" in str(error)
    assert isinstance(decode_revert("0x" + selector + "0" * 64), RevertError)


@pytest.mark.parametrize(
    "url,allowed",
    [
        ("http://127.0.0.1:8545", True),
        ("http://localhost:8545", True),
        ("http://[::1]:8545", True),
        ("http://127.3.2.1:8545", True),
        ("http://192.0.2.10:8545", False),
        ("https://rpc.example.org", False),
        ("http://localhost.example.org:8545", False),
    ],
)
def test_dev_keys_only_for_a_devnet_on_this_machine(url, allowed):
    """A remote node can report 31337 to be handed the public dev key: it is refused."""
    if allowed:
        assert wallet.load_signer(devnet.DEV_CHAIN_ID, None, url).address == wallet.dev_account(0).address
    else:
        with pytest.raises(ChainError, match="is not on this machine"):
            wallet.load_signer(devnet.DEV_CHAIN_ID, None, url)


def test_a_dev_key_in_a_keystore_is_refused_by_a_remote_31337(tmp_path, monkeypatch):
    monkeypatch.setenv(wallet.PASSWORD_ENV, "pw")
    keystore = tmp_path / "dev.json"
    wallet.create_keystore(keystore, "pw", wallet.dev_account(2).key.hex())
    with pytest.raises(ChainError, match="public anvil dev key"):
        wallet.load_signer(devnet.DEV_CHAIN_ID, keystore, "http://192.0.2.10:8545")


@pytest.mark.parametrize("key", ["ab" * 31 + "c", "0x" + "ab" * 31 + "c", "ab" * 33, "zz" * 32, "0x"])
def test_a_short_or_malformed_private_key_is_refused_not_padded(key, tmp_path):
    target = tmp_path / "k.json"
    with pytest.raises(InputError, match="not 64 hex digits"):
        wallet.create_keystore(target, "pw", key)
    assert not target.exists()

"""Sending and reading through Chain against real anvil nodes: timeouts, failures, lying nodes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from eth_utils import keccak

from modelmint.chain import deployments, devnet, wallet
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import Chain, decode_revert
from modelmint.errors import ChainError, InputError, RevertError
from modelmint.home import Home
from modelmint.registry import commit_dataset
from modelmint.registry.registries import Registries
from modelmint.storage import LocalStore
from tests_support import SAMPLE, rpc


@pytest.fixture
def own_devnet(tmp_path) -> Iterator[Home]:
    """A devnet of this test's own: these tests switch automatic mining off."""
    home = Home(tmp_path / "own")
    devnet.start(home)
    yield home
    devnet.stop(home)


def test_a_transaction_not_mined_in_time_gets_its_own_message(own_devnet):
    chain = Chain.connect(own_devnet)
    chain.receipt_timeout_s = 1
    rpc(chain.url, "evm_setAutomine", False)
    with pytest.raises(ChainError, match=r"transaction 0x[0-9a-f]{64} was not mined within 1 s") as caught:
        chain.deploy("DatasetNFT")
    assert "re-running the command is safe" in str(caught.value)


def test_a_failed_transaction_is_explained_by_the_state_it_ran_on(own_devnet, tmp_path):
    """Token 1 changes hands later in the same block: the state after the block tells another story."""
    chain = Chain.connect(own_devnet)
    deployment = deployments.deploy(chain)
    commit_dataset(
        Registries.from_deployment(chain, deployment, LocalStore(tmp_path / "store")),
        SAMPLE / "member.jsonl",
        name="one",
    )
    me, other = chain.signer.address, wallet.dev_account(1).address
    nft = chain.w3.eth.contract(
        address=deployment.contracts["DatasetNFT"].address, abi=load_artifact("DatasetNFT").abi
    )
    nonce = chain.w3.eth.get_transaction_count(me)
    fees = {"gas": 200_000, "chainId": chain.chain_id, "from": me}
    # A: take token 1 from `other`, who does not own it yet: fails with ERC721IncorrectOwner.
    doomed = nft.functions.transferFrom(other, me, 1)
    a = doomed.build_transaction({**fees, "nonce": nonce})
    # B, mined after A in the same block: token 1 goes to `other`; A replayed after it would
    # fail for another reason (me not approved by the new owner).
    b = nft.functions.transferFrom(me, other, 1).build_transaction({**fees, "nonce": nonce + 1})
    rpc(chain.url, "evm_setAutomine", False)
    chain.w3.eth.send_raw_transaction(chain.signer.sign_transaction(b).raw_transaction)
    threading.Timer(0.5, lambda: rpc(chain.url, "evm_mine")).start()  # one block: A, then B
    with pytest.raises(ChainError) as caught:
        chain._sign_and_wait(a, replay=doomed)  # the path every send takes after its gas estimate
    error = caught.value
    assert isinstance(error, RevertError), error
    assert error.name == "ERC721IncorrectOwner", error


def test_undecodable_revert_data_is_one_line_not_a_traceback():
    selector = keccak(text="ERC721NonexistentToken(uint256)")[:4].hex()
    for data in ("0x" + selector + "00", "0x" + selector + "zz", "0x" + selector + "0" * 63):
        error = decode_revert(data)
        assert type(error) is ChainError
        assert "undecodable data" in str(error)
    assert isinstance(decode_revert("0x" + selector + "0" * 64), RevertError)


@pytest.mark.parametrize(
    ("url", "allowed"),
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
    """A remote node can report 31337 to be handed the public dev key: it is refused, even on
    the port of a recorded devnet (tests/python/chain/test_node_trust.py: unrecorded local nodes)."""
    recorded = "http://127.0.0.1:8545"
    if allowed:
        signer = wallet.load_signer(devnet.DEV_CHAIN_ID, None, url, devnet_url=recorded)
        assert signer.address == wallet.dev_account(0).address
    else:
        with pytest.raises(ChainError, match="is not on this machine"):
            wallet.load_signer(devnet.DEV_CHAIN_ID, None, url, devnet_url=recorded)


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


@pytest.fixture
def sepolia_rehearsal(tmp_path, monkeypatch, start_anvil) -> Chain:
    """A real anvil with Sepolia's chain id, mining only when told to, and a funded keystore."""
    url = start_anvil("--chain-id", "11155111", "--no-mining")
    monkeypatch.setenv(wallet.PASSWORD_ENV, "pw")
    keystore = tmp_path / "me.json"
    address = wallet.create_keystore(keystore, "pw")
    rpc(url, "anvil_setBalance", address, hex(10**20))
    chain = Chain.connect(Home(tmp_path / "home"), url, keystore)
    chain.poll_s = 0.05
    return chain


def _mine_every(url: str, seconds: float, stop: threading.Event) -> threading.Thread:
    def run() -> None:
        while not stop.wait(seconds):
            rpc(url, "evm_mine")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_off_the_devnet_a_transaction_waits_for_its_confirmations(sepolia_rehearsal):
    chain = sepolia_rehearsal
    assert chain.confirmations == 3
    stop = threading.Event()
    _mine_every(chain.url, 0.2, stop)
    try:
        _, sent = chain.deploy("DatasetNFT")
        assert chain.w3.eth.block_number - sent.block + 1 >= 3
    finally:
        stop.set()


def test_a_transaction_dropped_by_a_reorganisation_is_reported_not_assumed(sepolia_rehearsal):
    chain = sepolia_rehearsal
    chain.receipt_timeout_s = 10

    def reorg_after_inclusion() -> None:
        while int(rpc(chain.url, "txpool_status")["pending"], 16) == 0:
            time.sleep(0.02)
        rpc(chain.url, "evm_mine")  # the deploy lands in this block...
        time.sleep(0.3)
        rpc(chain.url, "anvil_reorg", 1, [])  # ...which a reorganisation replaces with an empty one

    threading.Thread(target=reorg_after_inclusion, daemon=True).start()
    with pytest.raises(ChainError, match="dropped by a reorganisation") as caught:
        chain.deploy("DatasetNFT")
    assert "run the command again" in str(caught.value)


def test_the_confirmation_depth_is_a_cli_option(cli, anvil):
    result = cli("--confirmations", "0", "devnet", "status")
    assert result.code == 2
    assert "--confirmations" in result.stderr

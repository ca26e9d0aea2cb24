"""A remote signer (what ``--wallet browser`` is to the chain) against a real anvil: the hash it
gives back must name the call that was prepared, a transaction sent and never seen mined is
waited for again on a retry instead of being sent twice, and a public dev key is refused.

The signer here is anvil itself: an impersonated account of no known key, sending with
``eth_sendTransaction`` as a wallet would."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account

from modelmint.chain.client import Chain
from modelmint.errors import ChainError
from modelmint.home import Home
from tests_support import AnvilWallet, rpc


@pytest.fixture
def node(start_anvil) -> str:
    return start_anvil()  # a 31337 node this project folder did not record: not the devnet


@pytest.fixture
def own_account(node) -> str:
    address = Account.create().address
    rpc(node, "anvil_impersonateAccount", address)
    rpc(node, "anvil_setBalance", address, hex(10**18))
    return address


def _chain(tmp_path: Path, node: str) -> Chain:
    chain = Chain.connect(Home(tmp_path / "home"), node)
    chain.confirmations = 1
    return chain


def test_the_wallet_sends_what_was_prepared_and_sees_it_described(tmp_path, node, own_account):
    chain = _chain(tmp_path, node)
    wallet = AnvilWallet(node, own_account)
    chain.use_remote_signer(wallet)
    address, sent = chain.deploy("DatasetNFT")
    assert rpc(node, "eth_getCode", address, "latest") != "0x"
    assert wallet.sent == [sent.tx_hash]
    described = wallet.described[0]
    assert (described.contract, described.function, described.address) == ("DatasetNFT", "constructor", None)
    assert described.gas > 0
    assert not chain.sent_journal.path.exists()  # mined: nothing left for a retry to find


def test_a_hash_of_another_transaction_is_not_taken_as_the_step(tmp_path, node, own_account):
    chain = _chain(tmp_path, node)
    # The wallet sends a plain transfer to itself instead of the deployment it was handed.
    chain.use_remote_signer(AnvilWallet(node, own_account, swap={"to": own_account, "data": "0x"}))
    with pytest.raises(
        ChainError,
        match=r"not the DatasetNFT.constructor it was asked to sign \(its contract, calldata differs\)",
    ):
        chain.deploy("DatasetNFT")
    assert not chain.sent_journal.path.exists()


def test_a_transaction_sent_but_not_seen_mined_is_waited_for_again_not_sent_twice(
    tmp_path, node, own_account
):
    rpc(node, "evm_setAutomine", False)
    first = _chain(tmp_path, node)
    first.receipt_timeout_s = 0.5
    wallet = AnvilWallet(node, own_account)
    first.use_remote_signer(wallet)
    with pytest.raises(ChainError, match="was not mined within"):
        first.deploy("DatasetNFT")
    assert len(wallet.sent) == 1
    assert first.sent_journal.path.exists()

    # The retry (a new process: a new Chain over the same project folder) prepares the same
    # call, finds its hash and waits for it; the wallet is not asked again.
    rpc(node, "evm_setAutomine", True)
    rpc(node, "evm_mine")
    retry = _chain(tmp_path, node)
    again = AnvilWallet(node, own_account)
    retry.use_remote_signer(again)
    _, sent = retry.deploy("DatasetNFT")
    assert again.sent == []
    assert sent.tx_hash == wallet.sent[0]
    assert not retry.sent_journal.path.exists()


def test_a_wallet_holding_a_public_dev_key_is_refused_off_the_devnet(tmp_path, node):
    dev = rpc(node, "eth_accounts")[0]
    chain = _chain(tmp_path, node)
    wallet = AnvilWallet(node, dev)
    chain.use_remote_signer(wallet)
    with pytest.raises(ChainError, match="is a public anvil dev key, refused on chain 31337"):
        chain.deploy("DatasetNFT")
    assert wallet.sent == []


def test_a_keystore_and_a_remote_wallet_together_are_refused(tmp_path, node, own_account):
    chain = Chain.connect(Home(tmp_path / "home"), node, tmp_path / "key.json")
    with pytest.raises(ChainError, match="both a keystore and a remote wallet"):
        chain.use_remote_signer(AnvilWallet(node, own_account))

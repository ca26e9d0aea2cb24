"""A public testnet rehearsed end to end through the CLI (issue 13, item 5): docs/testnet.md's steps.

The node is a real anvil that reports Sepolia's chain id (11155111) and makes a block every
half second whether or not anything is sent, as a public chain does (only faster): a two-step
mint reveals a block after its commitment, and every transaction waits for the 3
confirmations off-devnet commands wait for. The signer is a new key in a keystore, funded
the way a faucet would fund it; nothing here would pass on the devnet rules alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from modelmint.chain import wallet
from modelmint.chain.artifacts import load_artifact
from modelmint.chain.client import DEFAULT_CONFIRMATIONS
from modelmint.chain.contracts import mint_commitment_of
from modelmint.home import Home
from tests_support import SAMPLE, rpc

SEPOLIA_ID = 11155111
PASSWORD = "rehearsal password"
MAX_FEE = "0.05"  # ETH per transaction: ModelNFT's deployment (3.1M gas) fits at anvil's fees
MAX_FEE_WEI = 5 * 10**16
BLOCK_TIME_S = "0.5"


@pytest.fixture
def sepolia(start_anvil: Any) -> str:
    """A real anvil claiming to be Sepolia, mining each transaction at once and an empty block
    every BLOCK_TIME_S besides: the blocks a commitment matures in and confirmations come from."""
    return str(start_anvil("--chain-id", str(SEPOLIA_ID), "--block-time", BLOCK_TIME_S, "--mixed-mining"))


def _json(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _transaction(url: str, tx_hash: str, signer: str) -> dict[str, Any]:
    """The transaction as the node has it, checked to be a mined, successful EIP-1559
    transaction of Sepolia from ``signer`` whose maximum fee is under the cap."""
    tx: dict[str, Any] = rpc(url, "eth_getTransactionByHash", tx_hash)
    assert tx is not None, tx_hash
    assert tx["type"] == "0x2", tx  # EIP-1559: maxFeePerGas and maxPriorityFeePerGas, no gasPrice
    assert int(tx["chainId"], 16) == SEPOLIA_ID
    assert Web3.to_checksum_address(tx["from"]) == signer
    max_fee = int(tx["gas"], 16) * int(tx["maxFeePerGas"], 16)
    assert 0 < max_fee <= MAX_FEE_WEI, (tx_hash, max_fee)
    assert int(tx["maxPriorityFeePerGas"], 16) <= int(tx["maxFeePerGas"], 16)
    receipt = rpc(url, "eth_getTransactionReceipt", tx_hash)
    assert receipt["status"] == "0x1", receipt
    return tx


def _call(contract: str, address: str, tx: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The function a transaction called on ``contract`` at ``address``, and its arguments."""
    assert Web3.to_checksum_address(tx["to"]) == address
    fn, args = Web3().eth.contract(abi=load_artifact(contract).abi).decode_function_input(tx["input"])
    return str(fn.fn_name), dict(args)


def _sent_count(url: str, address: str) -> int:
    return int(rpc(url, "eth_getTransactionCount", address, "pending"), 16)


def _check_two_step(
    url: str, signer: str, contract: str, address: str, minted: dict[str, Any], root: str
) -> None:
    """``minted`` (a mint's JSON) went through commitMint, then a later revealMint that opens it;
    ``root`` names the root both in that JSON and among revealMint's arguments."""
    assert minted["commitTxHash"]
    assert minted["txHash"] != minted["commitTxHash"]
    commit = _transaction(url, minted["commitTxHash"], signer)
    reveal = _transaction(url, minted["txHash"], signer)
    commit_fn, commit_args = _call(contract, address, commit)
    reveal_fn, reveal_args = _call(contract, address, reveal)
    assert (commit_fn, reveal_fn) == ("commitMint", "revealMint")
    assert int(reveal["blockNumber"], 16) > int(commit["blockNumber"], 16)  # matured: a later block
    assert int(reveal["nonce"], 16) == int(commit["nonce"], 16) + 1  # nothing in between
    root_bytes = bytes.fromhex(minted[root].removeprefix("0x"))
    assert reveal_args[root] == root_bytes
    assert Web3.to_checksum_address(reveal_args["to"]) == signer
    # The reveal's salt opens this very commitment of (root, minter, salt): from the same key.
    assert commit_args["commitment"] == mint_commitment_of(root_bytes, signer, reveal_args["salt"])
    assert minted["block"] == int(reveal["blockNumber"], 16)


def test_a_sepolia_deployment_rehearsed_end_to_end_through_the_cli(
    cli: Any, home: Home, tmp_path: Path, sepolia: str, tiny_model: Path
) -> None:
    env = {wallet.PASSWORD_ENV: PASSWORD}
    # A new key, in an encrypted keystore; the faucet's part is anvil_setBalance.
    keystore = tmp_path / "sepolia-key.json"
    created = cli("wallet", "create", str(keystore), env=env)
    assert created.code == 0, created.stderr
    found = re.search(r"0x[0-9a-fA-F]{40}", created.stdout)
    assert found is not None, created.stdout
    signer = Web3.to_checksum_address(found.group(0))
    assert not wallet.is_dev_address(signer)
    rpc(sepolia, "anvil_setBalance", signer, hex(10**18))  # 1 test ETH
    # The options docs/testnet.md gives every sending command; the default confirmations (3).
    sending = ("--chain-id", str(SEPOLIA_ID), "--max-fee", MAX_FEE, "--yes")
    node = ("--rpc-url", sepolia)
    signing = (*node, "--keystore", str(keystore))

    deployed = _json(cli(*sending, "deploy", *signing, "--json", env=env))
    assert deployed["chainId"] == SEPOLIA_ID
    assert deployed["alreadyDeployed"] is False
    record = json.loads((home.deployments_dir / f"{SEPOLIA_ID}.json").read_text())
    assert record["chainId"] == SEPOLIA_ID
    addresses = {name: item["address"] for name, item in record["contracts"].items()}
    assert set(addresses) == {"DatasetNFT", "ModelNFT"}
    for name, item in record["contracts"].items():
        tx = _transaction(sepolia, item["txHash"], signer)
        assert tx["to"] is None  # a contract creation
        assert rpc(sepolia, "eth_getCode", addresses[name], "latest") != "0x"
        # Waited for: the deploy's command returned only once 3 blocks held each contract.
        assert int(rpc(sepolia, "eth_blockNumber"), 16) - item["block"] + 1 >= DEFAULT_CONFIRMATIONS

    data = SAMPLE / "train.jsonl"
    dataset = _json(
        cli(*sending, "dataset", "mint", str(data), "--name", "rehearsal", *signing, "--json", env=env)
    )
    assert (dataset["tokenId"], dataset["chainId"], dataset["datapointCount"]) == (1, SEPOLIA_ID, 256)
    _check_two_step(sepolia, signer, "DatasetNFT", addresses["DatasetNFT"], dataset, "merkleRoot")

    lineage = ("--name", "tiny", "--dataset", "1")  # trained on the dataset just minted
    model = _json(cli(*sending, "model", "mint", str(tiny_model), *lineage, *signing, "--json", env=env))
    assert (model["tokenId"], model["chainId"], model["datasetIds"]) == (1, SEPOLIA_ID, [1])
    _check_two_step(sepolia, signer, "ModelNFT", addresses["ModelNFT"], model, "weightsRoot")
    assert _sent_count(sepolia, signer) == 6  # two deployments, two commits, two reveals: nothing else

    # Read back with no key at all: a listing, the dataset's datapoints, the model's files.
    listed = _json(cli("--chain-id", str(SEPOLIA_ID), "list", *node, "--json"))
    assert [(r["kind"], r["tokenId"], r["owner"], r["txHash"]) for r in listed] == [
        ("dataset", 1, signer, dataset["txHash"]),
        ("model", 1, signer, model["txHash"]),
    ]
    assert {r["chainId"] for r in listed} == {SEPOLIA_ID}
    verified = _json(cli("dataset", "verify", str(data), "--token", "1", *node, "--json"))
    assert (verified["checked"], verified["included"]) == (256, 256)
    outsider = cli("dataset", "verify", str(SAMPLE / "outsider.jsonl"), "--token", "1", *node)
    assert outsider.code == 1, outsider
    files = _json(cli("model", "verify", str(tiny_model), "--token", "1", *node, "--json"))
    assert files["weightsRoot"] == files["localRoot"] == model["weightsRoot"]
    assert files["matching"] == files["checked"] == model["fileCount"]

    # A public anvil dev key is refused there, in a keystore or as the default, before signing.
    dev = wallet.dev_account(1)
    dev_keystore = tmp_path / "dev-key.json"
    wallet.create_keystore(dev_keystore, PASSWORD, dev.key.hex())
    mint_again = (*sending, "dataset", "mint", str(SAMPLE / "member.jsonl"), *node)
    cli(*mint_again, "--keystore", str(dev_keystore), env=env).assert_user_error(
        f"holds a public anvil dev key ({dev.address}), refused on chain {SEPOLIA_ID}",
        "modelmint wallet create",
    )
    cli(*mint_again, env=env).assert_user_error(f"chain {SEPOLIA_ID} is not the devnet", "--keystore")
    for address in (dev.address, wallet.dev_account(0).address):
        assert _sent_count(sepolia, address) == 0
    assert _sent_count(sepolia, signer) == 6

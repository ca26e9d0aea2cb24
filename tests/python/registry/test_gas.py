"""Gas of the calls that matter at scale, measured on anvil and written to docs/benchmarks.md.

Execution gas is what the EVM spends running the call: the struct-log trace of the call
(``debug_traceCall``), gas left at the first step minus gas left after the last. A
transaction costs that plus 21,000 and its calldata charge (4 gas a zero byte, 16 a
non-zero byte), or the EIP-7623 calldata floor (21,000 + 10 gas a token, a zero byte one
token and a non-zero byte four) when that is higher, as it is for proofs, which are mostly
calldata. ``eth_estimateGas`` gives that transaction figure; the mint's receipt checks the
method (receipt gas = 21,000 + calldata + execution).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from modelmint.chain.contracts import DatasetContract, checked_address
from modelmint.hashing import MerkleTree, encode_leaf_list, sha256
from modelmint.hashing.canonical import canonical_json
from modelmint.registry.datasets import dataset_metadata
from modelmint.storage import to_uri
from tests_support import REPO

VERIFY_TARGET = 15_000
MINT_TARGET = 150_000
DEPTH = 20


def _publish(markdown: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "bench" / "_report.py")
    assert spec and spec.loader
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    report.publish("gas", markdown)


def _calldata_gas(data: bytes) -> tuple[int, int]:
    """The standard calldata charge and the EIP-7623 floor's calldata part."""
    zeros = data.count(0)
    nonzeros = len(data) - zeros
    return 4 * zeros + 16 * nonzeros, 10 * (zeros + 4 * nonzeros)


def _measure(chain, tx: dict[str, Any], block: Any = "latest") -> dict[str, int]:
    """Execution, calldata and transaction gas of a call, as the module docstring defines them."""
    limit = 5_000_000
    call = {"from": chain.signer.address, "to": tx["to"], "data": tx["data"], "gas": hex(limit)}
    traced = chain.w3.provider.make_request(
        "debug_traceCall", [call, block, {"disableStack": True, "disableMemory": True, "disableStorage": True}]
    )["result"]
    assert not traced["failed"]
    steps = traced["structLogs"]
    execution = steps[0]["gas"] - steps[-1]["gas"] + steps[-1]["gasCost"]
    data = bytes.fromhex(tx["data"][2:])
    calldata, floor = _calldata_gas(data)
    assert limit - steps[0]["gas"] == 21_000 + calldata  # the intrinsic gas the node charged
    return {
        "execution": execution,
        "calldata": calldata,
        "transaction": max(21_000 + calldata + execution, 21_000 + floor),
        "bytes": len(data),
        "output": int(traced["returnValue"], 16),
    }


def _view(chain, contract: DatasetContract, data: str) -> dict[str, Any]:
    gas: dict[str, Any] = _measure(chain, {"to": contract.address, "data": data})
    assert gas["output"] == 1  # the proof holds
    return {**gas, "data": data}


def _dataset(store, n: int, seed: str) -> tuple[MerkleTree, str]:
    """A dataset of ``n`` datapoints: its tree, and its metadata stored as a mint stores it."""
    hashes = b"".join(sha256(f"{seed} {i}".encode()) for i in range(n))
    tree = MerkleTree.build(hashes)
    leaves_uri = to_uri(store.put(encode_leaf_list(hashes)))
    metadata = dataset_metadata(
        name=f"{seed} ({n} datapoints)", description=None, count=n, fmt="folder", scheme="modelmint.folder.v1",
        root_hex="0x" + tree.root.hex(), leaves_uri=leaves_uri,
    )  # fmt: skip
    return tree, to_uri(store.put(canonical_json(metadata)))


@pytest.mark.slow
def test_gas_of_proofs_and_mints(chain, store, deployed):
    contract = DatasetContract(chain, deployed)
    me = chain.signer.address
    functions = contract.contract.functions
    rows: list[tuple[str, dict[str, int], str]] = []

    def mint(tree: MerkleTree, uri: str, to: str, what: str, token_id: int) -> dict[str, int]:
        fn = functions.mint(to, tree.root, len(tree), uri)
        tx = fn.build_transaction({"from": me})
        block = chain.w3.eth.block_number
        minted = contract.mint(to, tree.root, len(tree), uri)
        assert minted.token_id == token_id
        gas = _measure(chain, tx, hex(block))  # the same call on the state the mint ran on
        assert minted.gas_used == 21_000 + gas["calldata"] + gas["execution"]  # the method agrees with the receipt
        gas["transaction"] = minted.gas_used
        rows.append((what, gas, f"≤ {MINT_TARGET:,} execution"))
        return gas

    small, small_uri = _dataset(store, 32, "small")
    first = mint(small, small_uri, me, "`mint`, first token of the contract (32 datapoints)", 1)
    big, big_uri = _dataset(store, 2**DEPTH, "big")
    by_size = {}
    for token_id, (n, tree, uri) in enumerate(
        [(1, *_dataset(store, 1, "one")), (1024, *_dataset(store, 1024, "kilo")), (2**DEPTH, big, big_uri)], start=2
    ):
        by_size[n] = mint(tree, uri, me, f"`mint`, {n:,} datapoint{'s' if n > 1 else ''} (owner already holds a token)", token_id)
    fresh_owner = checked_address("0x" + "5a" * 20)
    other, other_uri = _dataset(store, 1024, "other")
    newcomer = mint(other, other_uri, fresh_owner, "`mint`, 1,024 datapoints (owner's first token)", 5)

    position = 123_456
    proof = big.proof(position)
    assert len(proof) == DEPTH
    single = _view(chain, contract, contract.verify_calldata(4, big.hash_at(position), proof))
    rows.append((f"`verifyDatapoint`, 2^{DEPTH}-leaf tree ({DEPTH}-node proof)", single, f"≤ {VERIFY_TARGET:,} execution"))

    picked = [(i * 32_771) % 2**DEPTH for i in range(32)]
    multi = big.multiproof(picked)
    wide = _view(chain, contract, contract.multi_verify_calldata(4, list(multi.leaves), list(multi.proof), list(multi.proof_flags)))
    rows.append((f"`multiVerifyDatapoints`, 32 datapoints of the 2^{DEPTH}-leaf tree ({len(multi.proof)}-node proof)", wide, "recorded"))

    whole = small.multiproof(range(32))
    full = _view(chain, contract, contract.multi_verify_calldata(1, list(whole.leaves), list(whole.proof), list(whole.proof_flags)))
    rows.append(("`multiVerifyDatapoints`, all 32 datapoints of a 32-leaf tree (empty proof)", full, "recorded"))

    lines = [
        "Gas on anvil (`debug_traceCall` and receipts), DatasetNFT as packaged (solc 0.8.37, optimizer 200 runs, "
        "EVM cancun); written by `tests/python/registry/test_gas.py`, which asserts the targets. "
        "*Execution* is what the EVM spends running the call; a transaction adds 21,000 and the calldata charge "
        "(4 / 16 gas a zero / non-zero byte), or the EIP-7623 calldata floor (10 gas a token) when higher, "
        "as it is for proofs. View calls cost nothing when made with `eth_call`; the transaction figure is what "
        "a contract calling them, or a transaction wrapping them, pays.",
        "",
        "| call | calldata bytes | execution gas | calldata gas | transaction gas | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for what, gas, target in rows:
        lines.append(
            f"| {what} | {gas['bytes']:,} | {gas['execution']:,} | {gas['calldata']:,} | {gas['transaction']:,} | {target} |"
        )
    lines.append("")
    lines.append(
        f"A mint's execution gas does not depend on the dataset's size: {by_size[1]['execution']:,} for 1, "
        f"1,024 and 2^{DEPTH} datapoints alike (the transaction differs by a few gas with the zero bytes of root and count)."
    )
    _publish("\n".join(lines))

    for _, gas, _ in rows[-3:]:  # the view calls: eth_estimateGas agrees with the method
        assert chain.w3.eth.estimate_gas({"from": me, "to": contract.address, "data": gas.pop("data")}) == gas["transaction"]
    assert by_size[1]["execution"] == by_size[1024]["execution"] == by_size[2**DEPTH]["execution"]
    assert single["execution"] <= VERIFY_TARGET
    for gas in (first, newcomer, *by_size.values()):
        assert gas["execution"] <= MINT_TARGET

"""Gas of the calls that matter at scale, measured on anvil: the ``gas`` section of docs/benchmarks.md.

Run by `make bench` (or `.venv/bin/python bench/gas.py`): it starts its own anvil, deploys
fresh contracts, measures every row, checks the targets and rewrites the section.
tests/python/registry/test_gas.py runs the same :func:`measure` and asserts the targets and
the committed figures (bench/gas.json) without writing anything.

Execution gas is what the EVM spends running the call: the struct-log trace of the call
(``debug_traceCall``), gas left at the first step minus gas left after the last. A
transaction costs that plus 21,000 and its calldata charge (4 gas a zero byte, 16 a
non-zero byte), or the EIP-7623 calldata floor (21,000 + 10 gas a token, a zero byte one
token and a non-zero byte four) when that is higher, as it is for proofs, which are mostly
calldata. ``eth_estimateGas`` gives that transaction figure; the mint's receipt checks the
method (receipt gas = 21,000 + calldata + execution).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

VERIFY_TARGET = 15_000
MINT_TARGET = 150_000
DEPTH = 20
# The committed figures (bench/gas.json): the test fails when a row's execution gas moves by
# more than this, so a change of gas is seen, and the table regenerated, on purpose.
SNAPSHOT = Path(__file__).resolve().parent / "gas.json"
SNAPSHOT_TOLERANCE = 100

MINT = f"≤ {MINT_TARGET:,} execution"
VERIFY = f"≤ {VERIFY_TARGET:,} execution"
RECORDED = "recorded"


@dataclass
class Row:
    what: str
    gas: dict[str, int]
    target: str
    key: str = ""  # its name in bench/gas.json, if not `what` (which may quote a measured figure)
    # How far (in %) the row may stray from bench/gas.json beyond SNAPSHOT_TOLERANCE: OML reveals
    # depend on the contract's address, which changes their leaves' sorted order and proof.
    spread: int = 0

    @property
    def held_to_mint_target(self) -> bool:
        return self.target == MINT


@dataclass
class GasTable:
    """Every measured row, in table order, and the figures the text and the checks quote."""

    rows: list[Row] = field(default_factory=list)
    mint_by_size: dict[int, int] = field(default_factory=dict)  # datapoints -> execution gas
    reveal_by_size: dict[int, int] = field(default_factory=dict)
    newcomer_reveal: int = 0
    verify: int = 0
    estimates: list[tuple[int, int]] = field(default_factory=list)  # (eth_estimateGas, method)

    def add(
        self, what: str, gas: dict[str, int], target: str, key: str = "", spread: int = 0
    ) -> dict[str, int]:
        self.rows.append(Row(what, gas, target, key, spread))
        return gas

    def execution(self) -> dict[str, int]:
        """Each row's execution gas by its name, as bench/gas.json stores them."""
        return {row.key or row.what: row.gas["execution"] for row in self.rows}


def _calldata_gas(data: bytes) -> tuple[int, int]:
    """The standard calldata charge and the EIP-7623 floor's calldata part."""
    zeros = data.count(0)
    nonzeros = len(data) - zeros
    return 4 * zeros + 16 * nonzeros, 10 * (zeros + 4 * nonzeros)


def measure_call(chain: Any, tx: dict[str, Any], block: Any = "latest") -> dict[str, int]:
    """Execution, calldata and transaction gas of a call, as the module docstring defines them."""
    limit = 5_000_000
    call = {"from": chain.signer.address, "to": tx["to"], "data": tx["data"], "gas": hex(limit)}
    traced = chain.w3.provider.make_request(
        "debug_traceCall",
        [call, block, {"disableStack": True, "disableMemory": True, "disableStorage": True}],
    )["result"]
    if traced["failed"]:
        raise AssertionError(f"the traced call failed: {traced.get('returnValue')}")
    steps = traced["structLogs"]
    execution = steps[0]["gas"] - steps[-1]["gas"] + steps[-1]["gasCost"]
    data = bytes.fromhex(tx["data"][2:])
    calldata, floor = _calldata_gas(data)
    if limit - steps[0]["gas"] != 21_000 + calldata:  # the intrinsic gas the node charged
        raise AssertionError(f"intrinsic gas {limit - steps[0]['gas']:,}, expected {21_000 + calldata:,}")
    return {
        "execution": execution,
        "calldata": calldata,
        "transaction": max(21_000 + calldata + execution, 21_000 + floor),
        "bytes": len(data),
        "output": int(traced["returnValue"], 16) if traced["returnValue"] not in ("", "0x") else 0,
    }


def _dataset(store: Any, n: int, seed: str) -> tuple[Any, str]:
    """A dataset of ``n`` datapoints: its tree, and its metadata stored as a mint stores it."""
    from modelmint.hashing import MerkleTree, encode_leaf_list, sha256
    from modelmint.hashing.canonical import canonical_json
    from modelmint.registry.datasets import dataset_metadata
    from modelmint.storage import to_uri

    hashes = b"".join(sha256(f"{seed} {i}".encode()) for i in range(n))
    tree = MerkleTree.build(hashes)
    leaves_uri = to_uri(store.put(encode_leaf_list(hashes)))
    metadata = dataset_metadata(
        name=f"{seed} ({n} datapoints)", description=None, count=n, fmt="folder", scheme="modelmint.folder.v1",
        root_hex="0x" + tree.root.hex(), leaves_uri=leaves_uri,
    )  # fmt: skip
    return tree, to_uri(store.put(canonical_json(metadata)))


def _plural(n: int) -> str:
    return f"{n:,} datapoint{'s' if n > 1 else ''}"


def measure(chain: Any, store: Any, registries: Any) -> GasTable:
    """Mints, reveals and proofs on fresh registries (no token yet), measured row by row.

    Raises:
        AssertionError: a call failed, or a measurement disagrees with its receipt.
    """
    from modelmint.chain.contracts import checked_address

    table = GasTable()
    contract = registries.dataset_contract
    me = chain.signer.address
    functions = contract.contract.functions

    def mint(tree: Any, uri: str, to: str, what: str, token_id: int) -> dict[str, int]:
        tx = functions.mint(to, tree.root, len(tree), uri).build_transaction({"from": me})
        block = chain.w3.eth.block_number
        minted = contract.mint(to, tree.root, len(tree), uri)
        assert minted.token_id == token_id
        gas = measure_call(chain, tx, hex(block))  # the same call on the state the mint ran on
        # The method agrees with the receipt.
        assert minted.gas_used == 21_000 + gas["calldata"] + gas["execution"], (minted.gas_used, gas)
        gas["transaction"] = minted.gas_used
        return table.add(what, gas, MINT)

    def view(what: str, data: str, target: str) -> dict[str, int]:
        gas = measure_call(chain, {"to": contract.address, "data": data})
        assert gas["output"] == 1  # the proof holds
        # eth_estimateGas gives the transaction figure of the method.
        table.estimates.append((chain.w3.eth.estimate_gas({"from": me, "to": contract.address, "data": data}),
                                gas["transaction"]))  # fmt: skip
        return table.add(what, gas, target)

    small, small_uri = _dataset(store, 32, "small")
    mint(small, small_uri, me, "`mint`, first token of the contract (32 datapoints)", 1)
    big, big_uri = _dataset(store, 2**DEPTH, "big")
    sizes = [
        (1, *_dataset(store, 1, "one")),
        (1024, *_dataset(store, 1024, "kilo")),
        (2**DEPTH, big, big_uri),
    ]
    for token_id, (n, tree, uri) in enumerate(sizes, start=2):
        gas = mint(tree, uri, me, f"`mint`, {_plural(n)} (owner already holds a token)", token_id)
        table.mint_by_size[n] = gas["execution"]
    other, other_uri = _dataset(store, 1024, "other")
    mint(
        other,
        other_uri,
        checked_address("0x" + "5a" * 20),
        "`mint`, 1,024 datapoints (owner's first token)",
        5,
    )

    position = 123_456
    proof = big.proof(position)
    assert len(proof) == DEPTH
    single = view(
        f"`verifyDatapoint`, 2^{DEPTH}-leaf tree ({DEPTH}-node proof)",
        contract.verify_calldata(4, big.hash_at(position), proof),
        VERIFY,
    )
    table.verify = single["execution"]
    picked = [(i * 32_771) % 2**DEPTH for i in range(32)]
    multi = big.multiproof(picked)
    view(
        f"`multiVerifyDatapoints`, 32 datapoints of the 2^{DEPTH}-leaf tree ({len(multi.proof)}-node proof)",
        contract.multi_verify_calldata(4, list(multi.leaves), list(multi.proof), list(multi.proof_flags)),
        RECORDED,
    )

    _reveal_rows(chain, store, contract, table, big, big_uri)
    _model_rows(chain, store, registries, table)

    whole = small.multiproof(range(32))
    view(
        "`multiVerifyDatapoints`, all 32 datapoints of a 32-leaf tree (empty proof)",
        contract.multi_verify_calldata(1, list(whole.leaves), list(whole.proof), list(whole.proof_flags)),
        RECORDED,
    )
    return table


def _reveal_rows(chain: Any, store: Any, contract: Any, table: GasTable, big: Any, big_uri: str) -> None:
    """The front-running-proof mint: commitMint, then revealMint a block later (issue 10)."""
    from modelmint.chain.contracts import checked_address

    me = chain.signer.address
    functions = contract.contract.functions

    def two_step(
        tree: Any, uri: str, what: str, token_id: int, to: str = me, commit_row: bool = False
    ) -> int:
        committed = contract.commit_mint(tree.root, me)
        tx = functions.revealMint(to, tree.root, len(tree), uri, 0, committed.salt).build_transaction(
            {"from": me}
        )
        block = chain.w3.eth.block_number
        minted = contract.reveal_mint(to, tree.root, len(tree), uri, committed.salt)
        assert minted.token_id == token_id
        gas = measure_call(chain, tx, hex(block))
        # The used commitment's slot is cleared, so the receipt is lower by the refund.
        assert minted.gas_used <= 21_000 + gas["calldata"] + gas["execution"]
        if commit_row:  # one commitMint row is enough: it does not depend on the dataset
            commit = measure_call(chain, functions.commitMint(b"\x01" * 32).build_transaction({"from": me}))
            table.add(f"`commitMint` (step 1 of {what})", commit, RECORDED)
        gas["transaction"] = minted.gas_used
        return table.add(f"`revealMint` (step 2), {what}", gas, MINT)["execution"]

    for token_id, n in enumerate((1, 1024, 2**DEPTH), start=6):
        tree, uri = _dataset(store, n, f"revealed {n}")
        table.reveal_by_size[n] = two_step(tree, uri, _plural(n), token_id, commit_row=n == 1)
    two_step(big, big_uri, f"a second claim of the 2^{DEPTH}-leaf root", 9)
    late, late_uri = _dataset(store, 1024, "newcomer reveal")
    table.newcomer_reveal = two_step(late, late_uri, "1,024 datapoints (owner's first token)", 10,
                                     checked_address("0x" + "5b" * 20))  # fmt: skip
    two_step(big, big_uri, f"a third claim of the 2^{DEPTH}-leaf root (owner's first token)", 11,
             checked_address("0x" + "5c" * 20))  # fmt: skip


def _model_rows(chain: Any, store: Any, registries: Any, table: GasTable) -> None:
    """ModelNFT: the two-step mint, commit-at-mint, and OML reveals per fingerprint."""
    from modelmint.chain.contracts import RevealedFingerprint
    from modelmint.fingerprints.oml.commitment import new_secrets, reveal_plan, salt
    from modelmint.fingerprints.oml.file import Fingerprint
    from modelmint.hashing import sha256
    from modelmint.storage import to_uri

    models = registries.model_contract
    me = chain.signer.address
    uri = to_uri(store.put(b"model metadata"))
    root = sha256(b"weights for the gas table")
    committed = models.commit_mint(root, me)
    tx = models.contract.functions.revealMint(
        me, root, uri, 0, [1, 2, 3], committed.salt, (0, b"\0" * 32, "")
    ).build_transaction({"from": me})
    block = chain.w3.eth.block_number
    minted = models.reveal_mint(me, root, uri, 0, [1, 2, 3], committed.salt)
    gas = measure_call(chain, tx, hex(block))
    gas["transaction"] = minted.gas_used
    table.add("ModelNFT `revealMint` (step 2), 3 datasets, no OML", gas, RECORDED)

    pairs = [Fingerprint(f"gas key {i}", f" r{i}", "random_word", 2.0**-13) for i in range(64)]
    token = models.next_token_id()
    kept = new_secrets(pairs, chain.chain_id, models.address, token, salt(pairs))
    oml_uri = to_uri(store.put(b"oml document"))
    oml = (token, kept.root, oml_uri)
    tx = models.contract.functions.mintWithFingerprint(
        me, sha256(b"more weights"), uri, 0, [1, 2, 3], oml
    ).build_transaction({"from": me})
    block = chain.w3.eth.block_number
    minted = models.mint_with_fingerprint(me, sha256(b"more weights"), uri, 0, [1, 2, 3], oml)
    gas = measure_call(chain, tx, hex(block))
    assert minted.gas_used == 21_000 + gas["calldata"] + gas["execution"]
    gas["transaction"] = minted.gas_used
    table.add("ModelNFT `mintWithFingerprint` (commit-at-mint), 3 datasets, OML root and URI", gas, RECORDED)

    for chosen in ([17], [7 * i + 1 for i in range(8)]):
        order, proof = reveal_plan(kept, chosen)
        items = [
            RevealedFingerprint(
                kept.fingerprints[i].salt, kept.fingerprints[i].key, kept.fingerprints[i].response
            )
            for i in order
        ]
        raw = [(r.salt, r.key, r.response) for r in items]
        tx = models.contract.functions.revealFingerprints(
            token, raw, list(proof.proof), list(proof.proof_flags)
        ).build_transaction({"from": me})
        block = chain.w3.eth.block_number
        sent = models.reveal_fingerprints(token, items, proof.proof, proof.proof_flags)
        gas = measure_call(chain, tx, hex(block))
        gas["transaction"] = sent.gas_used
        n = len(chosen)
        table.add(
            f"ModelNFT `revealFingerprints`, {n} of 64 ({gas['execution'] // n:,} execution gas a fingerprint)",
            gas,
            RECORDED,
            key=f"ModelNFT `revealFingerprints`, {n} of 64",
            spread=5,
        )


def problems(table: GasTable) -> list[str]:
    """Every target the table misses, and every disagreement between methods; empty if none."""
    found = [f"eth_estimateGas {a:,} != method {b:,}" for a, b in table.estimates if a != b]
    if len(set(table.mint_by_size.values())) != 1:
        found.append(f"mint gas depends on the dataset size: {table.mint_by_size}")
    if len(set(table.reveal_by_size.values())) != 1:
        found.append(f"revealMint gas depends on the dataset size: {table.reveal_by_size}")
    if table.verify > VERIFY_TARGET:
        found.append(f"verifyDatapoint {table.verify:,} > {VERIFY_TARGET:,}")
    found += [
        f"{row.what}: {row.gas['execution']:,} > {MINT_TARGET:,}"
        for row in table.rows
        if row.held_to_mint_target and row.gas["execution"] > MINT_TARGET
    ]
    return found


def snapshot_changes(table: GasTable, tolerance: int = SNAPSHOT_TOLERANCE) -> list[str]:
    """The rows whose execution gas differs from bench/gas.json by more than ``tolerance``."""
    expected = json.loads(SNAPSHOT.read_text())
    measured = table.execution()
    spreads = {row.key or row.what: row.spread for row in table.rows}
    changes = [f"{what}: no longer measured" for what in expected if what not in measured]
    for what, gas in measured.items():
        if what not in expected:
            changes.append(f"{what}: {gas:,}, not in {SNAPSHOT.name}")
        elif abs(gas - expected[what]) > tolerance + expected[what] * spreads[what] // 100:
            changes.append(f"{what}: {gas:,}, {SNAPSHOT.name} has {expected[what]:,}")
    return changes


def markdown(table: GasTable) -> str:
    first = table.rows[0].gas["execution"]
    mint = next(iter(table.mint_by_size.values()))
    reveal = next(iter(table.reveal_by_size.values()))
    lines = [
        (
            "Gas on anvil (`debug_traceCall` and receipts), DatasetNFT and ModelNFT as packaged (solc 0.8.37, optimizer 200 runs, "
            "EVM cancun); written by `bench/gas.py` (`make bench`), whose measurements `tests/python/registry/test_gas.py` "
            "repeats to assert the targets. "
            "*Execution* is what the EVM spends running the call; a transaction adds 21,000 and the calldata charge "
            "(4 / 16 gas a zero / non-zero byte), or the EIP-7623 calldata floor (10 gas a token) when higher, "
            "as it is for proofs. View calls cost nothing when made with `eth_call`; the transaction figure is what "
            "a contract calling them, or a transaction wrapping them, pays."
        ),
        "",
        "| call | calldata bytes | execution gas | calldata gas | transaction gas | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in table.rows:
        g = row.gas
        lines.append(
            f"| {row.what} | {g['bytes']:,} | {g['execution']:,} | {g['calldata']:,} | {g['transaction']:,} | {row.target} |"
        )
    lines.append("")
    lines.append(
        f"A mint's execution gas does not depend on the dataset's size: {mint:,} for 1, 1,024 and 2^{DEPTH} "
        "datapoints alike (the transaction differs by a few gas with the zero bytes of root and count). "
        f"So does the front-running-proof mint's reveal: {reveal:,} for each size; reading and deleting the "
        f"commitment adds {reveal - mint:,} to a one-step mint. An owner's first token pays its balance slot "
        f"(22,100) in either form: {first:,} for a one-step mint, {table.newcomer_reveal:,} for the reveal, "
        f"within the {MINT_TARGET:,} target. A root's first claim keeps its record's facts in the root's head "
        "slot, so an uncontested mint writes two record slots and the head; a later claim of the root writes a "
        "third record slot, which also holds its link to the claim before (docs/security.md)."
    )
    return "\n".join(lines)


def main() -> int:
    bench = Path(__file__).resolve().parent
    sys.path.insert(0, str(bench))
    from _report import publish

    sys.path.remove(str(bench))
    from modelmint.chain import deployments, devnet
    from modelmint.chain.client import Chain
    from modelmint.home import Home
    from modelmint.registry.registries import Registries
    from modelmint.storage import LocalStore

    with tempfile.TemporaryDirectory(prefix="modelmint-gas-") as tmp:
        home = Home(Path(tmp) / "home")
        home.root.mkdir(parents=True)
        devnet.start(home)
        try:
            chain = Chain.connect(home)
            store = LocalStore(home.store_dir)
            registries = Registries.from_deployment(chain, deployments.deploy(chain, home), store)
            table = measure(chain, store, registries)
        finally:
            devnet.stop(home)
    missed = problems(table)
    for problem in missed:
        print(f"target missed: {problem}", file=sys.stderr)
    publish("gas", markdown(table))
    SNAPSHOT.write_text(json.dumps(table.execution(), indent=2, ensure_ascii=False) + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Fuzz target: the proof file reader (modelmint.registry.proofs.read_proof).

Any bytes as a proof file, in a process that has imported web3 (as the CLI has; web3 raises
the recursion limit): it reads back as a proof, or raises an InputError. What reads back
writes out as the same proof again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from _harness import InputFile, check, instrumented, main

with instrumented(__name__):
    from modelmint.hashing.merkle import leaf_hash
    from modelmint.registry.proofs import DatapointProof, read_proof

_FILE = InputFile(".json")


def test_one_input(data: bytes) -> None:
    proof, _ = check(lambda: read_proof(_FILE.write(data)))
    if proof is not None:
        again = _FILE.write(json.dumps(proof.to_json()).encode())
        assert read_proof(again) == proof


def _hash(n: int) -> str:
    return "0x" + bytes([n]).hex() * 32


def _leaf(n: int) -> str:
    return "0x" + leaf_hash(bytes.fromhex(_hash(n)[2:])).hex()


def seeds() -> Iterator[bytes]:
    single = DatapointProof(
        chain_id=31337,
        contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        token_id=1,
        merkle_root=_hash(9),
        datapoint_count=4,
        positions=(2,),
        datapoint_hashes=(_hash(2),),
        leaves=(_leaf(2),),
        proof=(_hash(7), _hash(8)),
        proof_flags=None,
        calldata="0x1234",
    )
    multi = DatapointProof(
        chain_id=1,
        contract="0x5FbDB2315678afecb367f032d93F642f64180aa3",
        token_id=7,
        merkle_root=_hash(9),
        datapoint_count=3,
        positions=(0, 2),
        datapoint_hashes=(_hash(0), _hash(2)),
        leaves=(_leaf(0), _leaf(2)),
        proof=(_hash(1),),
        proof_flags=(True, False),
        calldata="0xabcd",
    )
    for proof in (single, multi):
        yield json.dumps(proof.to_json(), indent=1).encode()
    yield b'{"schema": "modelmint.dataset-proof.v1"}'
    yield b'{"schema": 1, "positions": [[[[]]]]}'
    yield b"[" * 64 + b"]" * 64
    yield b"[" * 300_000  # segfaulted the reader (issue 14): deeper than the C stack once web3 has imported
    yield b'{"a": {"a": {"a": {"a": {}}}}}'
    yield b"\xef\xbb\xbf{}"
    yield b'"\\ud800"'


if __name__ == "__main__":
    main("proof", test_one_input, seeds)

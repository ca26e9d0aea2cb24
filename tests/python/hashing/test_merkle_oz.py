"""The tree against the real @openzeppelin/merkle-tree: same root, proofs and multiproofs."""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import pytest

from modelmint.hashing import MerkleTree
from tests_support import run_node

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("oz_reference.js")

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules/@openzeppelin/merkle-tree").is_dir(),
    reason="needs node and node_modules/@openzeppelin/merkle-tree (make deps)",
)


def _hashes(n: int, distinct: int | None = None) -> list[bytes]:
    pool = [hashlib.sha256(f"datapoint {i}".encode()).digest() for i in range(distinct or n)]
    rng = random.Random(n * 1000 + (distinct or 0))
    return [pool[i] if distinct is None else rng.choice(pool) for i in range(n)]


def _multiproof_sets(n: int) -> list[list[int]]:
    rng = random.Random(n)
    sets = [[], [0], [n - 1], list(range(n)), list(range(n))[::-1]]
    for _ in range(6):
        k = rng.randint(1, n)
        sets.append(rng.sample(range(n), k))
    return sets


CASES = [_hashes(n) for n in (1, 2, 3, 7, 8, 33)] + [
    _hashes(8, distinct=3),
    _hashes(33, distinct=5),
    [_hashes(1)[0]] * 4,
]


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    request = [
        {"values": ["0x" + h.hex() for h in values], "multiproofs": _multiproof_sets(len(values))}
        for values in CASES
    ]
    return run_node(SCRIPT, request)


def _hex(items) -> list[str]:
    return ["0x" + bytes(x).hex() for x in items]


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"n{len(c)}-distinct{len(set(c))}" for c in CASES])
def test_same_root_proofs_and_multiproofs_as_openzeppelin(case: int, reference: list[dict]) -> None:
    values, expected = CASES[case], reference[case]
    tree = MerkleTree.build(values)

    assert "0x" + tree.root.hex() == expected["root"]
    assert [_hex(tree.proof(i)) for i in range(len(values))] == expected["proofs"]
    for indices, mp in zip(_multiproof_sets(len(values)), expected["multiproofs"], strict=True):
        ours = tree.multiproof(indices)
        assert _hex(ours.leaves) == mp["leaves"]
        assert _hex(ours.proof) == mp["proof"]
        assert list(ours.proof_flags) == mp["proofFlags"]
        assert MerkleTree.verify_multiproof(tree.root, ours)

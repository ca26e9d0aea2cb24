"""Properties of the Merkle tree that hold for every input, and its input forms."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, MultiProof, keccak256, leaf_hash

hash32 = st.binary(min_size=32, max_size=32)
# A small pool makes repeated datapoints (and repeated leaves) common.
hash_lists = st.lists(hash32, min_size=1, max_size=8).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), min_size=1, max_size=40)
)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def test_leaf_is_double_keccak_of_the_hash() -> None:
    h = hashlib.sha256(b"x").digest()
    assert leaf_hash(h) == keccak256(keccak256(h))
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def test_one_datapoint_root_is_its_leaf() -> None:
    h = hashlib.sha256(b"only").digest()
    tree = MerkleTree.build([h])
    assert tree.root == leaf_hash(h)
    assert tree.proof(0) == []
    assert MerkleTree.verify(tree.root, h, [])


@pytest.mark.parametrize("k", range(7))
def test_power_of_two_trees_have_full_depth_proofs(k: int) -> None:
    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(2**k)]
    tree = MerkleTree.build(hashes)
    assert all(len(tree.proof(i)) == k for i in range(len(hashes)))
    assert all(MerkleTree.verify(tree.root, hashes[i], tree.proof(i)) for i in range(len(hashes)))


def test_input_forms_give_the_same_tree() -> None:
    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(5)]
    buffer = b"".join(hashes)
    array = np.frombuffer(buffer, dtype=np.uint8).reshape(5, 32)
    roots = {MerkleTree.build(x).root for x in (hashes, buffer, bytearray(buffer), memoryview(buffer), array)}
    assert len(roots) == 1
    assert MerkleTree.build(buffer).hashes.tobytes() == buffer


@pytest.mark.parametrize(
    "bad", [[], b"", b"\x00" * 33, [b"\x00" * 31], np.zeros((2, 31), np.uint8), np.zeros(64, np.uint8)]
)
def test_malformed_input_is_refused(bad) -> None:
    with pytest.raises(ValueError, match=r"32|datapoint"):
        MerkleTree.build(bad)


def test_root_depends_only_on_the_multiset_of_hashes() -> None:
    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(9)]
    assert MerkleTree.build(hashes).root == MerkleTree.build(hashes[::-1]).root


def test_duplicates_are_allowed_and_each_position_has_a_proof() -> None:
    a, b = hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()
    tree = MerkleTree.build([a, b, a, a])
    assert tree.values_for(a) == [0, 2, 3]
    assert tree.values_for(b) == [1]
    assert tree.values_for(hashlib.sha256(b"c").digest()) == []
    assert all(MerkleTree.verify(tree.root, a, tree.proof(i)) for i in (0, 2, 3))
    mp = tree.multiproof([3, 0, 2])
    assert mp.leaves == (a, a, a)
    assert MerkleTree.verify_multiproof(tree.root, mp)


def test_positions_outside_the_dataset_or_repeated_are_input_errors() -> None:
    tree = MerkleTree.build([hashlib.sha256(b"a").digest()] * 3)
    for bad in (-1, 3, True, "1"):
        with pytest.raises(InputError):
            tree.proof(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="twice"):
        tree.multiproof([1, 1])


def test_empty_multiproof_carries_the_root() -> None:
    tree = MerkleTree.build([hashlib.sha256(b"a").digest(), hashlib.sha256(b"b").digest()])
    mp = tree.multiproof([])
    assert mp == MultiProof(leaves=(), proof=(tree.root,), proof_flags=())
    assert MerkleTree.verify_multiproof(tree.root, mp)


@settings(max_examples=60, deadline=None)
@given(hashes=hash_lists, data=st.data())
def test_every_proof_verifies_and_tampering_fails(hashes: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.build(hashes)
    for i, h in enumerate(hashes):
        proof = tree.proof(i)
        assert MerkleTree.verify(tree.root, h, proof)
        assert i in tree.values_for(h)
        bit = data.draw(st.integers(0, 255), label="bit")
        assert not MerkleTree.verify(tree.root, _flip(h, bit), proof)
        assert not MerkleTree.verify(_flip(tree.root, bit), h, proof)
        if proof:
            j = data.draw(st.integers(0, len(proof) - 1), label="proof element")
            tampered = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
            assert not MerkleTree.verify(tree.root, h, tampered)
            assert not MerkleTree.verify(tree.root, h, proof[:-1])


@settings(max_examples=60, deadline=None)
@given(hashes=hash_lists, data=st.data())
def test_every_multiproof_verifies_and_tampering_fails(hashes: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.build(hashes)
    positions = data.draw(st.lists(st.integers(0, len(hashes) - 1), unique=True), label="positions")
    mp = tree.multiproof(positions)
    assert sorted(mp.leaves) == sorted(hashes[p] for p in positions)
    assert MerkleTree.verify_multiproof(tree.root, mp)

    bit = data.draw(st.integers(0, 255), label="bit")
    if mp.leaves:
        j = data.draw(st.integers(0, len(mp.leaves) - 1), label="leaf")
        leaves = (*mp.leaves[:j], _flip(mp.leaves[j], bit), *mp.leaves[j + 1 :])
        assert not MerkleTree.verify_multiproof(tree.root, MultiProof(leaves, mp.proof, mp.proof_flags))
    if mp.proof:
        j = data.draw(st.integers(0, len(mp.proof) - 1), label="proof element")
        proof = (*mp.proof[:j], _flip(mp.proof[j], bit), *mp.proof[j + 1 :])
        assert not MerkleTree.verify_multiproof(tree.root, MultiProof(mp.leaves, proof, mp.proof_flags))
    if mp.proof_flags:
        assert not MerkleTree.verify_multiproof(
            tree.root, MultiProof(mp.leaves, mp.proof, mp.proof_flags[:-1])
        )


@settings(max_examples=100, deadline=None)
@given(
    hashes=st.lists(
        hash32 | st.binary(min_size=30, max_size=30).map(lambda b: b + b"\x00\x00"), min_size=1, max_size=30
    )
)
def test_leaves_are_sorted_bytewise(hashes: list[bytes]) -> None:
    """The C sort must agree with a plain bytes sort (as OpenZeppelin's), trailing zeros too."""
    tree = MerkleTree.build(hashes)
    n = len(hashes)
    nodes = tree.nodes
    leaves_in_tree_order = [nodes[2 * n - 2 - k].tobytes() for k in range(n)]
    assert leaves_in_tree_order == sorted(leaf_hash(h) for h in hashes)

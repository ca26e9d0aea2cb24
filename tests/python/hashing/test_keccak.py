"""The C Keccak-256 and tree batch operations, against pycryptodome and plain Python."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pytest
from Crypto.Hash import keccak as reference_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmint.hashing import _keccak


def reference(data: bytes) -> bytes:
    return reference_keccak.new(digest_bits=256, data=data).digest()


def reference_pair(a: bytes, b: bytes) -> bytes:
    return reference(min(a, b) + max(a, b))


def items(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(32 * n)


def split(buffer: bytes | bytearray | np.ndarray) -> list[bytes]:
    raw = bytes(buffer)
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]


def test_known_vectors() -> None:
    assert _keccak.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert (
        _keccak.keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    # Not NIST SHA3-256, which pads with 0x06 instead of 0x01.
    assert _keccak.keccak256(b"") != hashlib.sha3_256(b"").digest()


def test_every_length_matches_pycryptodome() -> None:
    """Every padding case: empty, partial block, one byte short of a block (0x81 padding),
    exactly a block (a whole padding block), several blocks, and the GIL-free path."""
    for length in [*range(300), 1000, 4095, 4096, 10_000, 100_000]:
        data = random.Random(length).randbytes(length)
        assert _keccak.keccak256(data) == reference(data), length


def test_accepts_any_buffer() -> None:
    data = b"modelmint" * 20
    expected = reference(data)
    assert _keccak.keccak256(bytearray(data)) == expected
    assert _keccak.keccak256(memoryview(data)) == expected
    assert _keccak.keccak256(np.frombuffer(data, dtype=np.uint8)) == expected
    with pytest.raises(TypeError):
        _keccak.keccak256("text")  # type: ignore[arg-type]


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("n", [0, 1, 2, 5, 4095, 4096, 4097, 20_000])
def test_leaves_are_double_keccak(n: int, threads: int) -> None:
    hashes = items(n, seed=n)
    out = bytearray(len(hashes))
    _keccak.leaves(hashes, out, threads)
    got = split(out)
    for i in sorted({0, n // 2, n - 1} if n else set()) + random.Random(n).sample(range(n), min(n, 200)):
        h = hashes[32 * i : 32 * i + 32]
        assert got[i] == reference(reference(h)), i


@pytest.mark.parametrize("threads", [1, 2, 5])
@pytest.mark.parametrize("n", [0, 1, 3, 4096, 9_999])
def test_parents_hash_the_sorted_pair(n: int, threads: int) -> None:
    children = items(2 * n, seed=n)
    # Equal children and children differing only in the last byte sort correctly too.
    if n >= 3:
        children = children[:32] * 2 + children[64:95] + b"\x00" + children[64:95] + b"\x01" + children[128:]
    out = bytearray(32 * n)
    _keccak.parents(children, out, threads)
    pairs = split(children)
    assert split(out) == [reference_pair(pairs[2 * i], pairs[2 * i + 1]) for i in range(n)]


def _sorted_reference(leaves: list[bytes]) -> list[int]:
    return sorted(range(len(leaves)), key=lambda i: (leaves[i], i))


@settings(max_examples=200, deadline=None)
@given(
    pool=st.lists(
        st.binary(min_size=32, max_size=32)
        # Shared prefixes longer than the 8-byte key, and trailing zero bytes.
        | st.binary(min_size=1, max_size=24).map(lambda b: (b * 32)[:32])
        | st.binary(min_size=0, max_size=31).map(lambda b: b + b"\x00" * (32 - len(b))),
        min_size=1,
        max_size=12,
    ),
    picks=st.lists(st.integers(0, 11), min_size=1, max_size=300),
    threads=st.integers(1, 4),
)
def test_sort_is_stable_and_bytewise(pool: list[bytes], picks: list[int], threads: int) -> None:
    leaves = [pool[i % len(pool)] for i in picks]
    buffer = bytearray(b"".join(leaves))
    order = np.empty(len(leaves), dtype=np.uint32)
    _keccak.sort_leaves(buffer, order, threads)
    expected = _sorted_reference(leaves)
    assert order.tolist() == expected
    assert split(buffer) == [leaves[i] for i in expected]


@pytest.mark.parametrize("threads", [1, 2, 7])
@pytest.mark.parametrize(
    "shape",
    ["random", "one-bucket", "all-equal", "few-values"],
)
def test_sort_big_buckets_and_many_duplicates(shape: str, threads: int) -> None:
    """Buckets of more than 16 leaves take the merge sort."""
    rng = random.Random(shape)
    n = 5000
    if shape == "random":
        leaves = [rng.randbytes(32) for _ in range(n)]
    elif shape == "one-bucket":  # same top bits, different tails
        leaves = [b"\x00\x00\x00" + rng.randbytes(29) for _ in range(n)]
    elif shape == "all-equal":
        leaves = [b"\x42" * 32] * n
    else:
        values = [rng.randbytes(32) for _ in range(3)]
        leaves = [rng.choice(values) for _ in range(n)]
    buffer = bytearray(b"".join(leaves))
    order = np.empty(n, dtype=np.uint32)
    _keccak.sort_leaves(buffer, order, threads)
    assert order.tolist() == _sorted_reference(leaves)


def _reference_tree(sorted_leaves: list[bytes]) -> list[bytes]:
    n = len(sorted_leaves)
    tree = [b""] * (2 * n - 1)
    for k, leaf in enumerate(sorted_leaves):
        tree[2 * n - 2 - k] = leaf
    for i in range(n - 2, -1, -1):
        tree[i] = reference_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 17, 64, 100, 513])
def test_subtree_roots_are_the_tree_nodes(n: int) -> None:
    leaves = sorted(split(items(n, seed=n)))
    tree = _reference_tree(leaves)
    for threads in (1, 3):
        out = bytearray(32 * (2 * n - 1))
        _keccak.subtree_roots(b"".join(leaves), 0, out, threads)
        assert split(out) == tree
    first = n // 3
    out = bytearray(32 * 2)
    if first + 2 <= 2 * n - 1:
        _keccak.subtree_roots(b"".join(leaves), first, out, 2)
        assert split(out) == tree[first : first + 2]


def test_threads_give_identical_bytes() -> None:
    hashes = items(50_000, seed=7)
    results = []
    for threads in (1, 2, 4, 16):
        leaves = bytearray(len(hashes))
        _keccak.leaves(hashes, leaves, threads)
        order = np.empty(50_000, dtype=np.uint32)
        _keccak.sort_leaves(leaves, order, threads)
        top = bytearray(32 * 1023)
        _keccak.subtree_roots(leaves, 0, top, threads)
        results.append((bytes(leaves), order.tobytes(), bytes(top)))
    assert all(r == results[0] for r in results)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: _keccak.leaves(b"\x00" * 33, bytearray(33), 1), "whole number of 32-byte items"),
        (lambda: _keccak.leaves(b"\x00" * 32, bytearray(64), 1), "as long as"),
        (lambda: _keccak.leaves(b"\x00" * 32, bytearray(32), 0), "threads"),
        (lambda: _keccak.parents(b"\x00" * 96, bytearray(48), 1), "64-byte items"),
        (lambda: _keccak.parents(b"\x00" * 64, bytearray(64), 1), "half as long"),
        (lambda: _keccak.sort_leaves(bytearray(64), np.empty(3, np.uint32), 1), "one uint32 per leaf"),
        (lambda: _keccak.subtree_roots(b"\x00" * 64, 2, bytearray(64), 1), "out of the tree"),
        (lambda: _keccak.subtree_roots(b"", 0, bytearray(32), 1), "out of the tree"),
    ],
)
def test_bad_arguments_are_refused(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_outputs_must_be_writable() -> None:
    with pytest.raises(TypeError):
        _keccak.leaves(b"\x00" * 32, b"\x00" * 32, 1)

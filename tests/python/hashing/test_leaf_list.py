"""The leaf list file: dataset-order hashes, 32 bytes each, from which the tree is rebuilt."""

from __future__ import annotations

import hashlib

import pytest

from modelmint.errors import IntegrityError
from modelmint.hashing import MerkleTree, decode_leaf_list, encode_leaf_list


def test_round_trip_rebuilds_the_same_tree() -> None:
    hashes = [hashlib.sha256(str(i).encode()).digest() for i in range(5)] * 2
    data = encode_leaf_list(hashes)
    assert data == b"".join(hashes)
    decoded = decode_leaf_list(data, count=10)
    assert [row.tobytes() for row in decoded] == hashes
    assert MerkleTree.build(decoded).root == MerkleTree.build(hashes).root


@pytest.mark.parametrize("data", [b"", b"\x00" * 31, b"\x00" * 65])
def test_malformed_sizes_are_refused(data: bytes) -> None:
    with pytest.raises(IntegrityError, match="not a non-empty run of 32-byte hashes"):
        decode_leaf_list(data)


def test_count_mismatch_is_refused() -> None:
    with pytest.raises(IntegrityError, match="holds 2 hashes but the commitment counts 3"):
        decode_leaf_list(b"\x00" * 64, count=3)

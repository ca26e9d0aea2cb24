"""The commitment: the digest's ABI encoding, the tree over digests, reveal plans, the secrets file."""

from __future__ import annotations

import random
import stat

import pytest
from eth_abi import encode
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmint.errors import InputError
from modelmint.fingerprints.oml.commitment import (
    abi_encode_fingerprint,
    commitment_document,
    fingerprint_digest,
    new_secrets,
    read_secrets,
    reveal_plan,
    salt,
    write_secrets,
)
from modelmint.fingerprints.oml.evidence import false_match_probability
from modelmint.fingerprints.oml.file import Fingerprint
from modelmint.hashing.merkle import MerkleTree, keccak256

text = st.text(st.characters(codec="utf-8"), max_size=80)


@settings(max_examples=200, deadline=None)
@given(salt_=st.binary(min_size=32, max_size=32), key=text, response=text)
def test_the_encoding_is_solidity_abi_encode(salt_, key, response):
    expected = encode(["bytes32", "string", "string"], [salt_, key, response])
    assert abi_encode_fingerprint(salt_, key, response) == expected
    assert fingerprint_digest(salt_, key, response) == keccak256(expected)


def test_a_known_digest():
    # keccak256(abi.encode(bytes32(0x11..11), "key", "response")), as `cast keccak $(cast abi-encode ...)` gives it.
    digest = fingerprint_digest(b"\x11" * 32, "key", "response")
    assert digest == keccak256(encode(["bytes32", "string", "string"], [b"\x11" * 32, "key", "response"]))
    assert len(digest) == 32


def _secrets(n: int, seed: int = 0):
    rng = random.Random(seed)
    fps = [Fingerprint(f"key {i}", f" r{i % 3}", "random_word", 2.0**-13) for i in range(n)]
    salted = salt(fps, lambda size: rng.randbytes(size))
    return new_secrets(fps, 31337, "0x" + "ab" * 20, 7, salted)


def test_the_root_is_the_dataset_tree_over_digests():
    kept = _secrets(5)
    assert kept.root == MerkleTree.build([f.digest for f in kept.fingerprints]).root
    assert kept.strategy == "random_word" and kept.null_match_prob == 2.0**-13


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_reveal_plans_verify_and_list_what_they_prove(n):
    kept = _secrets(n, seed=n)
    tree = kept.tree()
    for count in range(1, n + 1):
        chosen = random.Random(count).sample(range(n), count)
        order, proof = reveal_plan(kept, chosen)
        assert sorted(order) == sorted(chosen)
        assert list(proof.leaves) == [kept.fingerprints[i].digest for i in order]
        assert MerkleTree.verify_multiproof(tree.root, proof)


def test_salts_differ_and_hide_equal_pairs():
    fps = [Fingerprint("same", "pair")] * 2
    a, b = salt(fps)
    assert a.salt != b.salt and a.digest != b.digest


def test_the_secrets_file_round_trips_and_is_private(tmp_path):
    kept = _secrets(4)
    path = tmp_path / "oml" / "s.json"
    write_secrets(path, kept.with_revealed([2]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = read_secrets(path)
    assert back.root == kept.root and back.token_id == 7
    assert [f.revealed for f in back.fingerprints] == [False, False, True, False]
    assert [f.digest for f in back.fingerprints] == [f.digest for f in kept.fingerprints]


def test_a_bad_secrets_file(tmp_path):
    with pytest.raises(InputError, match="no OML secrets file"):
        read_secrets(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    with pytest.raises(InputError, match="is not a modelmint OML secrets file"):
        read_secrets(tmp_path / "x.json")


def test_the_public_document_holds_nothing_secret():
    kept = _secrets(3)
    doc = commitment_document(kept.root, 3, "ipfs://bafkreiexample", kept.strategy, kept.null_match_prob)
    flat = repr(doc)
    assert all(f.key not in flat and f.salt.hex() not in flat for f in kept.fingerprints)
    assert doc["root"] == "0x" + kept.root.hex() and doc["count"] == 3


def test_false_match_probability():
    assert false_match_probability(10, 0, 0.5) == 1.0
    assert false_match_probability(1, 1, 0.25) == pytest.approx(0.25)
    assert false_match_probability(3, 3, 1 / 3) == pytest.approx(1 / 27)
    assert false_match_probability(4, 2, 0.5) == pytest.approx(11 / 16)
    assert false_match_probability(1024, 1000, 2.0**-13) < 1e-300 or false_match_probability(1024, 1000, 2.0**-13) == 0.0
    assert false_match_probability(8, 8, 2.0**-13) == pytest.approx(2.0**-104)

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
    Binding,
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


BOUND = Binding(31337, "0x" + "ab" * 20, 7)
TYPES = ["uint256", "address", "uint256", "bytes32", "bytes32", "bytes32"]


@settings(max_examples=200, deadline=None)
@given(
    chain_id=st.integers(1, 2**64), token_id=st.integers(1, 2**64), address=st.binary(min_size=20, max_size=20),
    salt_=st.binary(min_size=32, max_size=32), key=text, response=text,
)  # fmt: skip
def test_the_encoding_is_solidity_abi_encode(chain_id, token_id, address, salt_, key, response):
    binding = Binding(chain_id, "0x" + address.hex(), token_id)
    values = [
        chain_id,
        "0x" + address.hex(),
        token_id,
        salt_,
        keccak256(key.encode()),
        keccak256(response.encode()),
    ]
    expected = encode(TYPES, values)
    assert abi_encode_fingerprint(binding, salt_, key, response) == expected
    assert fingerprint_digest(binding, salt_, key, response) == keccak256(expected)


@settings(max_examples=100, deadline=None)
@given(salt_=st.binary(min_size=32, max_size=32), key=text, response=text, other=st.integers(1, 2**32))
def test_a_digest_names_its_token_chain_and_contract(salt_, key, response, other):
    digest = fingerprint_digest(BOUND, salt_, key, response)
    if other != BOUND.token_id:
        assert digest != fingerprint_digest(
            Binding(BOUND.chain_id, BOUND.contract, other), salt_, key, response
        )
    if other != BOUND.chain_id:
        assert digest != fingerprint_digest(
            Binding(other, BOUND.contract, BOUND.token_id), salt_, key, response
        )
    assert digest != fingerprint_digest(
        Binding(BOUND.chain_id, "0x" + "cd" * 20, BOUND.token_id), salt_, key, response
    )


def test_a_known_digest():
    # keccak256(abi.encode(31337, 0xabab..ab, 7, bytes32(0x11..11), keccak256("key"), keccak256("response"))).
    digest = fingerprint_digest(BOUND, b"\x11" * 32, "key", "response")
    values = [31337, BOUND.contract, 7, b"\x11" * 32, keccak256(b"key"), keccak256(b"response")]
    assert digest == keccak256(encode(TYPES, values))
    assert len(digest) == 32


def _secrets(n: int, seed: int = 0):
    rng = random.Random(seed)
    fps = [Fingerprint(f"key {i}", f" r{i % 3}", "random_word", 2.0**-13) for i in range(n)]
    salted = salt(fps, rng.randbytes)
    return new_secrets(fps, 31337, "0x" + "ab" * 20, 7, salted)


def test_the_root_is_the_dataset_tree_over_digests():
    kept = _secrets(5)
    assert kept.root == MerkleTree.build([f.digest(BOUND) for f in kept.fingerprints]).root
    assert kept.strategy == "random_word"
    assert kept.null_match_prob == 2.0**-13


@pytest.mark.parametrize("n", [1, 2, 7, 16])
def test_reveal_plans_verify_and_list_what_they_prove(n):
    kept = _secrets(n, seed=n)
    tree = kept.tree()
    for count in range(1, n + 1):
        chosen = random.Random(count).sample(range(n), count)
        order, proof = reveal_plan(kept, chosen)
        assert sorted(order) == sorted(chosen)
        assert list(proof.leaves) == [kept.fingerprints[i].digest(BOUND) for i in order]
        assert MerkleTree.verify_multiproof(tree.root, proof)


def test_salts_differ_and_hide_equal_pairs():
    fps = [Fingerprint("same", "pair")] * 2
    a, b = salt(fps)
    assert a.salt != b.salt
    assert a.digest(BOUND) != b.digest(BOUND)


def test_the_secrets_file_round_trips_and_is_private(tmp_path):
    kept = _secrets(4)
    path = tmp_path / "oml" / "s.json"
    write_secrets(path, kept.with_revealed([2]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = read_secrets(path)
    assert back.root == kept.root
    assert back.token_id == 7
    assert [f.revealed for f in back.fingerprints] == [False, False, True, False]
    assert back.digests() == kept.digests()


def test_a_bad_secrets_file(tmp_path):
    with pytest.raises(InputError, match="no OML secrets file"):
        read_secrets(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"schema": "other"}')
    with pytest.raises(InputError, match="is not a modelmint OML secrets file"):
        read_secrets(tmp_path / "x.json")


def test_the_public_document_holds_nothing_secret():
    kept = _secrets(3)
    doc = commitment_document(
        kept.root, 3, "ipfs://bafkreiexample", kept.strategy, kept.null_match_prob, kept.binding
    )
    flat = repr(doc)
    assert all(f.key not in flat and f.salt.hex() not in flat for f in kept.fingerprints)
    assert doc["root"] == "0x" + kept.root.hex()
    assert doc["count"] == 3
    assert (doc["chainId"], doc["contract"], doc["tokenId"]) == (31337, "0x" + "ab" * 20, 7)


def test_false_match_probability():
    assert false_match_probability(10, 0, 0.5) == 1.0
    assert false_match_probability(1, 1, 0.25) == pytest.approx(0.25)
    assert false_match_probability(3, 3, 1 / 3) == pytest.approx(1 / 27)
    assert false_match_probability(4, 2, 0.5) == pytest.approx(11 / 16)
    assert (
        false_match_probability(1024, 1000, 2.0**-13) < 1e-300
        or false_match_probability(1024, 1000, 2.0**-13) == 0.0
    )
    assert false_match_probability(8, 8, 2.0**-13) == pytest.approx(2.0**-104)


def test_the_verifier_refuses_a_probability_of_zero():
    """Finding 2: a p of 0 would make any match look certain; it is refused, never printed as 0."""
    with pytest.raises(ValueError, match=r"must be in \(0, 1\]"):
        false_match_probability(3, 3, 0.0)


def test_the_verifier_computes_the_bound_itself():
    from modelmint.fingerprints.oml.evidence import null_match_bound
    from modelmint.fingerprints.oml.generate import words

    vocabulary = words()
    one, two = f" {vocabulary[5]}", f" {vocabulary[1]} {vocabulary[2]}"
    assert null_match_bound("random_word", [one]) == 1 / len(vocabulary)
    assert null_match_bound("random_word", [two, one]) == 1 / len(
        vocabulary
    )  # the shortest response bounds the set
    assert null_match_bound("random_word", [two]) == len(vocabulary) ** -2.0
    assert null_match_bound("english_random_response", [one]) == 1 / len(vocabulary)
    # perinucleus: the document's k counts only when it weakens the evidence.
    assert null_match_bound("perinucleus", [" x"], {"nucleus_k": 1000}) == pytest.approx(1 / 3)
    assert null_match_bound("perinucleus", [" x"], {"nucleus_k": 2}) == 0.5
    for strategy in ("english", "mixed", "", "made-up"):
        with pytest.raises(InputError, match="cannot be computed by a verifier"):
            null_match_bound(strategy, [one])
    with pytest.raises(InputError, match="not made of words of the public list"):
        null_match_bound("random_word", [" notaword12345"])
    with pytest.raises(InputError, match="nucleus_k"):
        null_match_bound("perinucleus", [" x"], {"nucleus_k": 0})

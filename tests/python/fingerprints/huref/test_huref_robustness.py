"""HuRef on real weights (SmolLM2-135M): what it must see through, and what it must tell apart.

The conftest's ``pairs`` fixture measures each pair once per session, the first time a test
asks for it: exact ICS (from the terms), sketch ICS (what identification uses) and PCS,
recorded in .cache/huref/results.json; docs/huref.md quotes them and the threshold they
calibrate. The threshold test asks for every pair, so it also passes when run alone.
"""

from __future__ import annotations

import pytest

from modelmint.fingerprints import huref

pytestmark = pytest.mark.slow


def _assert_sketch_agrees(pair) -> None:
    if pair.found.comparable:
        assert abs(pair.sketch_ics - pair.found.ics) <= 0.01, (pair.sketch_ics, pair.found.ics)  # its promise


@pytest.mark.parametrize("name", ["rotation", "permutation and scaling", "norm-gain rescale"])
def test_function_preserving_changes_keep_ics_and_break_pcs(name, base, pairs) -> None:
    pair = pairs[name]
    # The same function: the copy's logits on the probe sentence are the base model's.
    assert float((pair.logits - base.logits).abs().max()) < 2e-3 * float(base.logits.abs().max())
    _assert_sketch_agrees(pair)
    assert pair.found.ics > 0.99
    assert pair.pcs < (0.9 if name == "norm-gain rescale" else 0.05)  # every matrix changed: PCS collapses
    assert pair.found.vector_similarity > 0.99  # the same picture


@pytest.mark.parametrize("name", ["20% magnitude pruning", "int8 weight rounding"])
def test_lossy_changes_keep_ics(name, pairs) -> None:
    pair = pairs[name]
    _assert_sketch_agrees(pair)
    assert pair.found.ics > 0.99


def test_fine_tuned_copy_keeps_ics(base, pairs) -> None:
    from modelmint.fingerprints.huref._reference import dense_ics, dense_terms
    from modelmint.fingerprints.huref._weights import open_weights

    pair = pairs["fine-tuned 200 steps"]
    _assert_sketch_agrees(pair)
    assert pair.found.ics > 0.9
    assert pair.found.related
    layers = list(pair.other.layer_indices)
    dense = [
        dense_terms(open_weights(path), pair.other.tokens.ids, layers) for path in (base.path, pair.folder)
    ]
    assert abs(dense_ics(*dense) - pair.found.ics) < 1e-4  # the paper's dense float32 computation agrees


def test_random_initialisation_is_unrelated(pairs) -> None:
    pair = pairs["random initialisation"]
    _assert_sketch_agrees(pair)
    assert abs(pair.found.ics) < 0.05
    assert not pair.found.related


def test_other_vocabulary_is_not_comparable_unless_tokens_are_shared(base, gemma, pairs) -> None:
    found = huref.compare(base.fingerprint, huref.fingerprint(gemma))
    assert found.ics is None
    assert not found.related
    assert "different vocabularies" in found.reason

    shared = pairs["Gemma-3-270M, shared tokens"]
    assert shared.base.tokens.k == shared.other.tokens.k == huref.DEFAULT_TOKENS
    _assert_sketch_agrees(shared)
    assert abs(shared.found.ics) < 0.2
    assert not shared.found.related


def test_threshold_separates_related_from_unrelated(pairs) -> None:
    related = [pairs[name].found.ics for name in pairs.RELATED]
    unrelated = [abs(pairs[name].found.ics) for name in pairs.UNRELATED]
    assert max(unrelated) + 0.3 < huref.DECISION_THRESHOLD < min(related) - 0.3

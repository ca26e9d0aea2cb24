"""HuRef on real weights (SmolLM2-135M): what it must see through, and what it must tell apart.

Each pair's exact ICS (from the terms), sketch ICS (what identification uses) and PCS are
recorded in .cache/huref/results.json; docs/huref.md quotes them and the threshold they
calibrate.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelmint.fingerprints import huref
from modelmint.fingerprints.huref import disguise
from modelmint.fingerprints.huref._sketch import sketch_ics

pytestmark = pytest.mark.slow

FUNCTION_PRESERVING = {
    "rotation": lambda state, config: disguise.rotate(state, config, seed=1),
    "permutation and scaling": lambda state, config: disguise.permute_and_scale(state, config, seed=2),
    "norm-gain rescale": lambda state, config: disguise.rescale_gains(state, config, seed=3),
}


def _record(
    results: dict[str, Any], name: str, base_fp: Any, other: Any, pcs: float | None
) -> huref.Comparison:
    found = huref.compare(base_fp, other)
    estimate = sketch_ics(base_fp.sketch, other.sketch) if found.comparable else None
    results[name] = {"ics": found.ics, "sketch_ics": estimate, "pcs": pcs, "vector": found.vector_similarity}
    if found.comparable:
        assert abs(estimate - found.ics) <= 0.01, (name, estimate, found.ics)  # the sketch's promise
    return found


@pytest.mark.parametrize("name", list(FUNCTION_PRESERVING))
def test_function_preserving_changes_keep_ics_and_break_pcs(name, base, build, results) -> None:
    import torch

    state, config = FUNCTION_PRESERVING[name](base.state, base.config)
    model = build(state, config)
    with torch.no_grad():
        logits = model(torch.tensor([base.probe])).logits
    assert float((logits - base.logits).abs().max()) < 2e-3 * float(base.logits.abs().max())  # same function

    other = huref.fingerprint(model, tokenizer=base.path)
    pcs = huref.parameter_cosine(base.model, model)
    found = _record(results, name, base.fingerprint, other, pcs)
    assert found.ics > 0.99
    assert pcs < (0.9 if name == "norm-gain rescale" else 0.05)  # every matrix changed: PCS collapses
    assert found.vector_similarity > 0.99  # the same picture


@pytest.mark.parametrize(
    "name, change",
    [
        ("20% magnitude pruning", lambda state, config: disguise.prune(state, config, 0.2)),
        ("int8 weight rounding", disguise.round_int8),
    ],
)
def test_lossy_changes_keep_ics(name, change, base, build, results) -> None:
    model = build(*change(base.state, base.config))
    found = _record(
        results,
        name,
        base.fingerprint,
        huref.fingerprint(model, tokenizer=base.path),
        huref.parameter_cosine(base.model, model),
    )
    assert found.ics > 0.99


def test_fine_tuned_copy_keeps_ics(base, finetuned, results) -> None:
    from modelmint.fingerprints.huref._reference import dense_ics, dense_terms
    from modelmint.fingerprints.huref._weights import open_weights

    other = huref.fingerprint(finetuned)
    found = _record(
        results, "fine-tuned 200 steps", base.fingerprint, other, huref.parameter_cosine(base.path, finetuned)
    )
    assert found.ics > 0.9
    assert found.related
    layers = list(other.layer_indices)
    dense = [dense_terms(open_weights(path), other.tokens.ids, layers) for path in (base.path, finetuned)]
    assert abs(dense_ics(*dense) - found.ics) < 1e-4  # the paper's dense float32 computation agrees


def test_random_initialisation_is_unrelated(base, build, results) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    model = LlamaForCausalLM(
        LlamaConfig(**{k: v for k, v in base.config.items() if k != "architectures"})
    ).eval()
    found = _record(results, "random initialisation", base.fingerprint, huref.fingerprint(model, tokenizer=base.path),
                    huref.parameter_cosine(base.model, model))  # fmt: skip
    assert abs(found.ics) < 0.05
    assert not found.related


def test_other_vocabulary_is_not_comparable_unless_tokens_are_shared(base, gemma, results) -> None:
    found = huref.compare(base.fingerprint, huref.fingerprint(gemma))
    assert found.ics is None and not found.related
    assert "different vocabularies" in found.reason
    results["Gemma-3-270M"] = {
        "ics": None,
        "sketch_ics": None,
        "pcs": huref.parameter_cosine(base.path, gemma),
    }

    ours, theirs = huref.fingerprint_shared(base.path, gemma)
    assert ours.tokens.k == theirs.tokens.k == huref.DEFAULT_TOKENS
    shared = _record(results, "Gemma-3-270M, shared tokens", ours, theirs, None)
    assert abs(shared.ics) < 0.2 and not shared.related


def test_threshold_separates_related_from_unrelated(results) -> None:
    related = [
        r["ics"]
        for name, r in results.items()
        if r["ics"] is not None and "random" not in name and "Gemma" not in name
    ]
    unrelated = [
        abs(r["ics"])
        for name, r in results.items()
        if r["ics"] is not None and ("random" in name or "Gemma" in name)
    ]
    if len(related) < 6 or len(unrelated) < 2:
        pytest.skip("run with the other robustness tests to calibrate")
    assert max(unrelated) + 0.3 < huref.DECISION_THRESHOLD < min(related) - 0.3

"""The HuRef computation on small random models: factored terms against the dense reference,
the invariances that hold exactly, the published formats, and the refusals."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelmint.errors import InputError, IntegrityError
from modelmint.fingerprints import huref
from modelmint.fingerprints.huref import disguise
from modelmint.fingerprints.huref._reference import dense_ics, dense_terms
from modelmint.fingerprints.huref._sketch import feature_vector, sketch_positions
from modelmint.fingerprints.huref._terms import model_terms
from modelmint.fingerprints.huref._tokens import (
    TokenSet,
    corpus_ranking,
    load_vocabulary,
    ranking,
    vocabulary_json,
)
from modelmint.fingerprints.huref._weights import open_weights
from modelmint.hashing.canonical import canonical_json

TINY = {
    "vocab_size": 4096, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
    "num_key_value_heads": 2, "head_dim": 16, "tie_word_embeddings": True, "bos_token_id": 1, "eos_token_id": 2,
}  # fmt: skip
IDS = tuple(range(100, 1124))  # k = 1024


def tiny(seed: int = 0, **overrides):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**{**TINY, **overrides})).eval()
    with torch.no_grad():  # non-trivial gains, so folding them matters
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
    return model


def tokens(ids=IDS) -> TokenSet:
    return TokenSet(tuple(ids), "0xtest", "test")


def rebuild(model, state, config):
    from transformers import LlamaConfig, LlamaForCausalLM

    other = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in config.items() if k != "architectures"}))
    other.load_state_dict(state)
    return other.eval()


def test_factored_ics_equals_the_dense_reference() -> None:
    a, b = open_weights(tiny(0)), open_weights(tiny(1))
    layers = [1, 2]
    ta, tb = model_terms(a, IDS, layers), model_terms(b, IDS, layers)
    da, db = dense_terms(a, IDS, layers), dense_terms(b, IDS, layers)
    for term in ta:
        raw = term.dense()
        assert term.mean == pytest.approx(float(raw.double().mean()), rel=1e-5, abs=1e-9)
        assert term.std == pytest.approx(float(raw.double().std()), rel=1e-5)
    assert huref._terms.ics(ta, tb) == pytest.approx(
        dense_ics(da, db), abs=1e-5
    )  # 1e-5: bfloat16 FFN products
    assert huref._terms.ics(ta, ta) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("change", [disguise.rotate, disguise.permute_and_scale, disguise.rescale_gains])
def test_function_preserving_changes_leave_the_terms_unchanged(change) -> None:
    import torch

    model = tiny(0)
    state, config = change(model.state_dict(), model.config.to_dict(), 5)
    other = rebuild(model, state, config)
    probe = torch.tensor([[5, 17, 300, 4000, 12]])
    with torch.no_grad():
        assert torch.allclose(model(probe).logits, other(probe).logits, atol=1e-4)
    fa = huref.fingerprint(model, tokens=1024, token_set=tokens())
    fb = huref.fingerprint(other, tokens=1024, token_set=tokens())
    assert huref.compare(fa, fb).ics == pytest.approx(1.0, abs=1e-5)


def test_untied_head_does_not_change_the_terms() -> None:
    import torch

    model = tiny(0)
    untied = tiny(0, tie_word_embeddings=False)
    untied.load_state_dict(
        {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}, strict=False
    )
    with torch.no_grad():
        untied.lm_head.weight.normal_()
    fa = huref.fingerprint(model, token_set=tokens())
    fb = huref.fingerprint(untied, token_set=tokens())
    assert huref.compare(fa, fb).ics == pytest.approx(1.0, abs=1e-9)


def test_feature_vector_is_the_papers_mean_pooling(monkeypatch) -> None:
    """Blocks of whole rows of the stacked standardised terms, averaged, then standardised."""
    monkeypatch.setattr(
        huref._terms, "fast_bfloat16", lambda: False
    )  # compared exactly with the float32 reference
    weights = open_weights(tiny(0))
    terms = model_terms(weights, IDS, [1, 2])  # 6 x 1024 rows: 12 rows a block
    dense = np.stack([t.numpy() for t in dense_terms(weights, IDS, [1, 2])])
    pooled = dense.astype(np.float64).reshape(512, -1).mean(-1)
    expected = (pooled - pooled.mean()) / pooled.std(ddof=1)
    assert np.allclose(feature_vector(terms), expected, atol=1e-4)


def test_sketch_estimates_ics_and_positions_are_reproducible() -> None:
    rows, cols = sketch_positions(4096)
    stream = hashlib.shake_256(b"modelmint.huref.sketch.v1" + (4096).to_bytes(4, "big")).digest(8 * 65536)
    flat = np.sort(np.frombuffer(stream, "<u8") % np.uint64(4096 * 4096))
    assert rows[0] * 4096 + cols[0] == flat[0]
    assert rows[-1] * 4096 + cols[-1] == flat[-1]
    assert (np.diff(rows * 4096 + cols) >= 0).all()

    fa = huref.fingerprint(tiny(0), token_set=tokens())
    fb = huref.fingerprint(tiny(1), token_set=tokens())
    exact = huref.compare(fa, fb)
    stored_a = huref.read_bundle(fa.to_bundle(), "a")
    stored_b = huref.read_bundle(fb.to_bundle(), "b")
    estimate = huref.compare(stored_a, stored_b)
    assert exact.exact
    assert not estimate.exact
    assert abs(estimate.ics - exact.ics) < 0.01


def test_bundle_round_trip_and_refusals() -> None:
    fp = huref.fingerprint(tiny(0), token_set=tokens())
    data = fp.to_bundle("ipfs://bafkreidummy", "0x" + "00" * 32)
    bundle = huref.read_bundle(data, "test")
    header_length = int.from_bytes(data[8:12], "big")
    assert data[:8] == b"MMHUREF\x01"
    assert data[12 : 12 + header_length] == canonical_json(bundle.header)
    assert np.array_equal(bundle.sketch, fp.sketch)
    assert np.array_equal(bundle.vector, fp.vector)
    assert bundle.header["tokens"]["ids"] == list(IDS)
    assert len(data) <= 16 * 2**20
    for broken in (b"XXXXXXXX" + data[8:], data[:-2], data[:12] + b"[" + data[13:]):
        with pytest.raises(IntegrityError, match="not a modelmint HuRef fingerprint"):
            huref.read_bundle(broken, "test")


def test_picture_is_deterministic_and_follows_the_vector() -> None:
    rng = np.random.default_rng(0)
    vector = rng.standard_normal(512).astype(np.float32)
    png = huref.render_png(vector)
    assert png == huref.render_png(vector.copy())
    assert png.startswith(b"\x89PNG")
    from modelmint.fingerprints.huref._picture import render

    near = render(vector + 0.02 * rng.standard_normal(512))
    far = render(rng.standard_normal(512))
    base = render(vector).astype(float)
    assert np.abs(base - near).mean() < 0.25 * np.abs(base - far).mean()


def test_different_token_sets_are_not_comparable() -> None:
    model = tiny(0)
    fa = huref.fingerprint(model, token_set=tokens())
    fb = huref.fingerprint(model, token_set=tokens(range(200, 1224)))
    fc = huref.fingerprint(model, token_set=TokenSet(IDS, "0xother", "test"))
    assert "different token sets" in huref.compare(fa, fb).reason
    assert "different vocabularies" in huref.compare(fa, fc).reason
    all_layers = huref.fingerprint(model, token_set=tokens(), layers="all")
    assert "different layer choices" in huref.compare(fa, all_layers).reason


def test_unsupported_architecture_lists_the_supported_ones(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]})
    )
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(InputError, match=r"GPT2LMHeadModel.*supported architectures: LlamaForCausalLM"):
        huref.fingerprint(tmp_path)


def test_missing_and_misshapen_weights_are_named(tmp_path: Path) -> None:
    model = tiny(0)
    model.save_pretrained(tmp_path)
    from safetensors.torch import load_file, save_file

    state = load_file(str(tmp_path / "model.safetensors"))
    del state["model.layers.2.mlp.down_proj.weight"]
    save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    weights = open_weights(tmp_path)
    with pytest.raises(InputError, match=r"no model\.layers\.2\.mlp\.down_proj\.weight"):
        huref.fingerprint(weights, token_set=tokens())


def test_too_few_tokens(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has 1000 tokens, fewer than the 4096"):
        huref.fingerprint(tiny(0, vocab_size=1000), tokenizer=tmp_path)
    with pytest.raises(InputError, match="has 4096 tokens, fewer than the 8192"):
        huref.fingerprint(tiny(0), tokens=8192, tokenizer=tmp_path)


@pytest.mark.slow
def test_shipped_ranking_is_the_corpus_ranking(smollm2: Path) -> None:
    vocab = load_vocabulary(smollm2)
    shipped = json.loads((Path(huref.__file__).parent / "data" / "tokens-smollm2.json").read_text())
    assert shipped["vocabSha256"] == vocab.sha256
    from tokenizers import Tokenizer

    assert list(corpus_ranking(vocab, Tokenizer.from_file(str(smollm2 / "tokenizer.json")))) == shipped["ids"]
    top = ranking(vocab)[:4096]
    assert len(set(top)) == 4096
    assert not set(top) & vocab.special
    assert vocabulary_json(list(vocab.tokens)) == canonical_json(list(vocab.tokens))


@pytest.mark.slow
def test_a_copied_folder_gets_the_same_fingerprint(smollm2: Path, tmp_path: Path) -> None:
    """The token set depends on the vocabulary only, so a copy (or a fine-tune) is comparable."""
    copy = tmp_path / "copy"
    shutil.copytree(smollm2, copy)
    fa, fb = huref.fingerprint(smollm2), huref.fingerprint(copy)
    assert fa.tokens == fb.tokens
    assert fa.to_bundle() == fb.to_bundle()


@pytest.mark.parametrize("family", ["mistral", "qwen2"])
def test_other_llama_family_architectures(family: str) -> None:
    import torch
    from transformers import MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM

    config_class, model_class = {
        "mistral": (MistralConfig, MistralForCausalLM),
        "qwen2": (Qwen2Config, Qwen2ForCausalLM),
    }[family]
    torch.manual_seed(0)
    config = {k: v for k, v in TINY.items() if k != "head_dim"}
    model = model_class(config_class(**config)).eval()
    weights = open_weights(model)
    assert weights.model_type == family
    terms = model_terms(weights, IDS, [1, 2])
    assert huref._terms.ics(terms, model_terms(open_weights(tiny(1)), IDS, [1, 2])) == pytest.approx(
        dense_ics(dense_terms(weights, IDS, [1, 2]), dense_terms(open_weights(tiny(1)), IDS, [1, 2])),
        abs=1e-5,
    )


def test_bfloat16_products_barely_move_ics(monkeypatch) -> None:
    from modelmint.fingerprints.huref import _terms

    if not _terms.fast_bfloat16():
        pytest.skip("this CPU multiplies bfloat16 natively only through emulation: float32 is used")
    weights = open_weights(tiny(0))
    fast = model_terms(weights, IDS, [1, 2])
    monkeypatch.setattr(_terms, "fast_bfloat16", lambda: False)
    exact = model_terms(weights, IDS, [1, 2])
    assert _terms.ics(fast, exact) > 1 - 1e-5
    for a, b in zip(fast, exact, strict=True):
        assert a.std == pytest.approx(b.std, rel=1e-2)

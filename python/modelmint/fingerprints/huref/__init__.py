"""HuRef fingerprints (Zeng et al., "HuRef: HUman-REadable Fingerprint for Large Language
Models", NeurIPS 2024): invariants of a model's weights that identify its base model.

A fine-tuned, pruned, quantised or re-parametrised copy (rotated, permuted, rescaled: the
same function with different weights) keeps the invariant terms of its base model, while
its parameters' cosine similarity (PCS) can fall to zero. modelmint computes the terms
from factors (nothing k x k is formed), publishes a sketch of them and a 512-d vector, and
draws a picture from the vector. docs/huref.md specifies every step.

    fp = fingerprint("path/to/model")          # terms, vector, sketch
    compare(fp, fingerprint("path/to/suspect")).ics
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from modelmint.errors import InputError
from modelmint.fingerprints.huref import _bundle
from modelmint.fingerprints.huref._bundle import Bundle, decode
from modelmint.fingerprints.huref._picture import GENERATOR, render_png
from modelmint.fingerprints.huref._sketch import (
    SKETCH_ENTRIES,
    SKETCH_SEED,
    VECTOR_DIM,
    feature_vector,
    sketch,
    sketch_ics,
    vector_similarity,
)
from modelmint.fingerprints.huref._terms import TERM_NAMES, Term, ics, model_terms, pcs
from modelmint.fingerprints.huref._tokens import TokenSet, load_vocabulary, select_tokens, shared_tokens
from modelmint.fingerprints.huref._weights import ModelWeights, open_weights, supported
from modelmint.hashing import sha256_hex

__all__ = [
    "DECISION_THRESHOLD",
    "DEFAULT_TOKENS",
    "LAYER_CHOICES",
    "MAX_BUNDLE_BYTES",
    "MAX_PICTURE_BYTES",
    "Bundle",
    "Comparison",
    "Fingerprint",
    "ModelShape",
    "TokenSet",
    "compare",
    "fingerprint",
    "fingerprint_shared",
    "open_weights",
    "parameter_cosine",
    "read_bundle",
    "render_png",
    "sha256_hex",
    "supported",
    "vector_similarity",
]

DEFAULT_TOKENS = 4096
#: The most bytes read from a content store for a bundle, and for its picture (a 256 x 256 RGB
#: PNG is under 200 KB even uncompressed): docs/security.md, "Untrusted documents".
MAX_BUNDLE_BYTES = _bundle.MAX_BYTES
MAX_PICTURE_BYTES = 1 << 20
#: "last2": the paper's choice, the last two decoder layers; "all": every layer.
LAYER_CHOICES = ("last2", "all")
#: ICS at or above this means "derived from the same base model" (calibration: docs/huref.md).
DECISION_THRESHOLD = 0.5


@dataclass(frozen=True)
class ModelShape:
    architecture: str
    model_type: str
    num_layers: int
    hidden_size: int
    vocab_size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "architecture": self.architecture,
            "modelType": self.model_type,
            "layers": self.num_layers,
            "hiddenSize": self.hidden_size,
            "vocabSize": self.vocab_size,
        }


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """A model's HuRef fingerprint: exact terms when computed here, vector and sketch always."""

    shape: ModelShape
    tokens: TokenSet
    layers: str
    layer_indices: tuple[int, ...]
    vector: np.ndarray
    sketch: np.ndarray
    terms: tuple[Term, ...] | None = None  # None when read back from a bundle
    seconds: float = 0.0

    def header(self, image_uri: str | None = None, image_sha256: str | None = None) -> dict[str, Any]:
        """The bundle header (docs/huref.md), with the picture's URI and hash if stored."""
        tokens: dict[str, Any] = {
            "count": self.tokens.k,
            "ranking": self.tokens.ranking,
            "vocabSha256": self.tokens.vocab_sha256,
            "idsSha256": self.tokens.sha256,
            "ids": list(self.tokens.ids),
        }
        if self.tokens.pair_ids is not None:
            tokens["pairedIds"] = list(self.tokens.pair_ids)
            tokens["pairedIdsSha256"] = self.tokens.pair_sha256
            tokens["pairedVocabSha256"] = self.tokens.pair_vocab_sha256
        header: dict[str, Any] = {
            "schema": _bundle.SCHEMA,
            "method": {
                "name": "HuRef",
                "terms": list(TERM_NAMES),
                "layers": self.layers,
                "standardise": "per term, over its k^2 entries, unbiased std",
                "foldGains": True,
                "ffn": "((X Wgate) * (X Wup)) Wdown X^T",
            },
            "model": {**self.shape.to_json(), "layerIndices": list(self.layer_indices)},
            "tokens": tokens,
            "vector": {
                "dim": int(self.vector.size),
                "pooling": "mean",
                "values": [float(v) for v in self.vector],
            },
            "sketch": {
                "terms": int(self.sketch.shape[0]),
                "entries": int(self.sketch.shape[1]),
                "encoding": _bundle.SKETCH_ENCODING,
                "positions": _bundle.POSITIONS,
                "seed": SKETCH_SEED.decode(),
            },
        }
        if image_uri:
            header["image"] = {"uri": image_uri, "sha256": image_sha256, "generator": GENERATOR}
        return header

    def to_bundle(self, image_uri: str | None = None, image_sha256: str | None = None) -> bytes:
        return _bundle.encode(self.header(image_uri, image_sha256), self.sketch)

    def picture(self) -> bytes:
        """The PNG drawn from the vector."""
        return render_png(self.vector)

    @cached_property
    def sketch32(self) -> np.ndarray:
        """The sketch as float32, converted once (a suspect is compared with every registered model)."""
        return self.sketch.astype(np.float32)


@dataclass(frozen=True)
class Comparison:
    """ICS between two fingerprints, or why they cannot be compared (``ics`` is None then)."""

    ics: float | None
    exact: bool  # from the terms themselves, not from sketches
    reason: str | None = None
    vector_similarity: float | None = None

    @property
    def comparable(self) -> bool:
        return self.ics is not None

    @property
    def related(self) -> bool:
        return self.ics is not None and self.ics >= DECISION_THRESHOLD


def fingerprint(
    model: Any,
    *,
    tokens: int = DEFAULT_TOKENS,
    layers: str = "last2",
    tokenizer: Any = None,
    token_set: TokenSet | None = None,
) -> Fingerprint:
    """Compute the HuRef fingerprint of ``model``.

    Args:
        model: a Hugging Face model folder (safetensors), a ``.gguf`` file, or a loaded
            transformers model.
        tokens: k, the number of tokens whose embedding rows make X.
        layers: ``"last2"`` (the paper's) or ``"all"``.
        tokenizer: where the tokenizer is (default: the model's folder or GGUF); needed for
            a loaded model.
        token_set: a token set to use instead of the model's own top-k (see
            :func:`fingerprint_shared`).

    Raises:
        InputError: an unsupported architecture (the message lists the supported ones), a
            checkpoint missing attention or FFN weights, fewer than k tokens, no tokenizer.
    """
    if layers not in LAYER_CHOICES:
        raise InputError(f"unknown layer choice {layers!r}", f"use one of {', '.join(LAYER_CHOICES)}")
    if tokens < 16:
        raise InputError(
            f"{tokens} tokens are too few for a fingerprint", "use at least 16 (the paper uses 4096)"
        )
    started = time.perf_counter()
    weights = model if isinstance(model, ModelWeights) else open_weights(model)
    rows = weights.embedding_rows()
    if token_set is None:
        source = tokenizer if tokenizer is not None else weights.tokenizer
        if source is None:
            raise InputError(f"no tokenizer for {weights.label}", "pass the folder that holds its tokenizer")
        if rows < tokens:
            raise InputError(
                f"{weights.label} has {rows} tokens, fewer than the {tokens} HuRef reads",
                "fingerprint with a smaller token count; fingerprints compare only at the same count",
                hint="huref-tokens",
            )
        token_set = select_tokens(load_vocabulary(source), tokens, rows)
    indices = _layer_indices(layers, weights.num_layers)
    terms = tuple(model_terms(weights, token_set.ids, indices))
    shape = ModelShape(weights.architecture, weights.model_type, weights.num_layers, weights.hidden, rows)
    return Fingerprint(
        shape=shape,
        tokens=token_set,
        layers=layers,
        layer_indices=indices,
        vector=feature_vector(terms, VECTOR_DIM),
        sketch=sketch(terms, SKETCH_ENTRIES),
        terms=terms,
        seconds=time.perf_counter() - started,
    )


def fingerprint_shared(
    model_a: Any, model_b: Any, *, tokens: int = DEFAULT_TOKENS, layers: str = "last2"
) -> tuple[Fingerprint, Fingerprint]:
    """Fingerprints of two models with different vocabularies over tokens they share.

    The tokens are ``model_a``'s ranking restricted to tokens whose text is also one token
    of ``model_b``'s vocabulary; row i of X is the same text in both models.
    """
    wa = model_a if isinstance(model_a, ModelWeights) else open_weights(model_a)
    wb = model_b if isinstance(model_b, ModelWeights) else open_weights(model_b)
    for w in (wa, wb):
        if w.tokenizer is None:
            raise InputError(f"no tokenizer for {w.label}", "give model folders with their tokenizers")
    va, vb = load_vocabulary(wa.tokenizer), load_vocabulary(wb.tokenizer)
    shared = shared_tokens(va, vb, tokens, wa.embedding_rows(), wb.embedding_rows())
    mirrored = TokenSet(shared.pair_ids or (), vb.sha256, shared.ranking, shared.ids, va.sha256)
    return (
        fingerprint(wa, tokens=tokens, layers=layers, token_set=shared),
        fingerprint(wb, tokens=tokens, layers=layers, token_set=mirrored),
    )


def compare(a: Fingerprint | Bundle, b: Fingerprint | Bundle) -> Comparison:
    """ICS of two fingerprints: exact when both carry terms, else from their sketches.

    Fingerprints over different token sets (different vocabularies, token counts or
    rankings), or different layer choices, are not comparable: ``ics`` is None and
    ``reason`` says why.
    """
    fa, fb = _as_fingerprint(a), _as_fingerprint(b)
    reason = _incomparable(fa, fb)
    if reason:
        return Comparison(None, False, reason)
    similarity = vector_similarity(fa.vector, fb.vector)
    if fa.terms is not None and fb.terms is not None:
        return Comparison(ics(fa.terms, fb.terms), True, None, similarity)
    return Comparison(sketch_ics(fa.sketch32, fb.sketch32), False, None, similarity)


def parameter_cosine(model_a: Any, model_b: Any) -> float | None:
    """PCS: the cosine of the two models' parameters over tensors with the same name and shape."""
    wa = model_a if isinstance(model_a, ModelWeights) else open_weights(model_a)
    wb = model_b if isinstance(model_b, ModelWeights) else open_weights(model_b)
    return pcs(wa, wb)


def read_bundle(data: bytes, where: str) -> Bundle:
    """Decode a stored fingerprint (raises IntegrityError if it is not one)."""
    return decode(data, where)


def _as_fingerprint(value: Fingerprint | Bundle) -> Fingerprint:
    if isinstance(value, Fingerprint):
        return value
    h = value.header
    t = h["tokens"]
    model = h["model"]
    tokens = TokenSet(  # decode checked the ids against their hashes
        tuple(t["ids"]),
        t["vocabSha256"],
        t["ranking"],
        tuple(t["pairedIds"]) if "pairedIds" in t else None,
        t.get("pairedVocabSha256"),
        sha256=t["idsSha256"],
        pair_sha256=t.get("pairedIdsSha256"),
    )
    shape = ModelShape(
        model["architecture"], model["modelType"], model["layers"], model["hiddenSize"], model["vocabSize"]
    )
    return Fingerprint(
        shape, tokens, h["method"]["layers"], tuple(model["layerIndices"]), value.vector, value.sketch
    )


def _comparable_key(tokens: TokenSet) -> frozenset[tuple[str, str]]:
    sides = {(tokens.vocab_sha256, tokens.sha256)}
    if tokens.pair_sha256 is not None and tokens.pair_vocab_sha256 is not None:
        sides.add((tokens.pair_vocab_sha256, tokens.pair_sha256))
    return frozenset(sides)


def _incomparable(a: Fingerprint, b: Fingerprint) -> str | None:
    if a.tokens.vocab_sha256 != b.tokens.vocab_sha256 and _comparable_key(a.tokens) != _comparable_key(
        b.tokens
    ):
        return (
            "different vocabularies: the invariant terms are over different tokens "
            "(compare over a shared token set instead)"
        )
    if _comparable_key(a.tokens) != _comparable_key(b.tokens):
        return f"different token sets ({a.tokens.k} and {b.tokens.k} tokens, or another ranking)"
    if a.layers != b.layers or a.sketch.shape != b.sketch.shape:
        return f"different layer choices ({a.layers}, {len(a.layer_indices)} layers vs {b.layers}, {len(b.layer_indices)})"
    return None


def _layer_indices(layers: str, num_layers: int) -> tuple[int, ...]:
    if layers == "all":
        return tuple(range(num_layers))
    return tuple(range(max(0, num_layers - 2), num_layers))

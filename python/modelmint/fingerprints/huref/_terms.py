"""HuRef's invariant terms, kept as factor pairs, and ICS computed from the factors.

For each chosen layer, with X the embedding rows of the token set (k x d) and every
normalisation gain folded into the matrix it feeds (so rescaling a gain against the next
matrix changes nothing), three k x k terms:

- ``qk``:  M_a = X Wq Wk^T X^T, summed over heads; a key/value head shared by a group of
  query heads (grouped-query attention) pairs with each of them, which is the same as
  repeating it;
- ``vo``:  M_b = X Wv Wo X^T, summed over heads the same way;
- ``ffn``: M_f = ((X Wgate) ⊙ (X Wup)) Wdown X^T, the gated FFN with the gate's activation
  dropped. The paper's code forms ``Wgate ⊙ Wup`` on the weights; that is unchanged by a
  permutation of the hidden dimensions but not by an orthogonal rotation of them, which
  is function-preserving in an RMSNorm model once the gains are folded. Multiplying the
  projections of X keeps the paper's "gate times up, then down" and is invariant to both.

Each term is stored as ``left @ right.T`` with ``left, right`` of k x r (r <= d). Nothing
k x k is ever formed: the paper's standardisation needs the sum and the sum of squares of
the entries, and its cosine needs inner products, all of which the factors give:
sum(A B^T) = (1^T A)(B^T 1), <A B^T, C D^T>_F = sum((A^T C) ⊙ (B^T D)).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from modelmint.errors import InputError

if TYPE_CHECKING:
    import torch

    from modelmint.fingerprints.huref._weights import Layer, ModelWeights

TERM_NAMES = ("qk", "vo", "ffn")


@dataclass(frozen=True, eq=False)
class Term:
    """One k x k invariant term ``left @ right.T`` and the statistics of its entries."""

    layer: int
    name: str
    left: torch.Tensor
    right: torch.Tensor
    total: float  # sum of the k^2 entries
    sumsq: float  # sum of their squares

    @property
    def count(self) -> int:
        return self.left.shape[0] ** 2

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def centered_sumsq(self) -> float:
        return max(self.sumsq - self.count * self.mean**2, 0.0)

    @property
    def std(self) -> float:
        """The unbiased standard deviation of the entries (``torch.std``, as the paper's code)."""
        return math.sqrt(self.centered_sumsq / (self.count - 1))

    def dense(self) -> torch.Tensor:
        """The k x k matrix (tests only)."""
        return self.left @ self.right.T


def layer_terms(
    x: torch.Tensor,
    layer: Layer,
    index: int,
    num_heads: int,
    num_kv_heads: int,
    x_gram: torch.Tensor | None = None,
) -> list[Term]:
    """The three factored terms of one layer, from the embedding rows ``x`` (k x d).

    ``x_gram`` is ``x.T @ x`` when the caller has it (it serves every layer's ``ffn`` term).
    """
    import torch

    with torch.no_grad():
        group = num_heads // num_kv_heads
        d = x.shape[1]
        head_dim = layer.q.shape[0] // num_heads
        q, k = layer.q, layer.k
        if layer.q_gain is not None:
            q = (q.view(num_heads, head_dim, d) * layer.q_gain[None, :, None]).reshape(-1, d)
        if layer.k_gain is not None:
            k = (k.view(num_kv_heads, head_dim, d) * layer.k_gain[None, :, None]).reshape(-1, d)
        # The query heads of a group share one key head: sum them first (same as repeating keys).
        q_group = q.view(num_kv_heads, group, head_dim, d).sum(1).reshape(-1, d)
        o_group = layer.o.view(d, num_kv_heads, group, head_dim).sum(2).reshape(d, -1)
        down = layer.down
        if layer.attn_out_gain is not None:
            o_group = o_group * layer.attn_out_gain[:, None]
        if layer.ffn_out_gain is not None:
            down = down * layer.ffn_out_gain[:, None]

        x_attn = x * layer.attn_in_gain
        pairs = (
            ("qk", x_attn @ q_group.T, x_attn @ k.T),
            ("vo", x_attn @ layer.v.T, x @ o_group),
            ("ffn", _ffn_left(x * layer.ffn_in_gain, layer.gate, layer.up, down), x),
        )
        grams = {"ffn": x_gram}
        return [_term(index, name, left.contiguous(), right, grams.get(name)) for name, left, right in pairs]


def _ffn_left(x: torch.Tensor, gate: torch.Tensor, up: torch.Tensor, down: torch.Tensor) -> torch.Tensor:
    """((X Wgate^T) ⊙ (X Wup^T)) Wdown^T: two thirds of all the work, so in bfloat16 where the
    hardware multiplies it natively (float32 accumulation; ICS moves by < 1e-5, see the tests)."""
    import torch

    if not fast_bfloat16():
        return (x @ gate.T).mul_(x @ up.T) @ down.T
    xb = x.bfloat16()
    hidden = (xb @ gate.bfloat16().T).mul_(xb @ up.bfloat16().T)
    return (hidden @ down.bfloat16().T).to(torch.float32)


@lru_cache(maxsize=1)
def fast_bfloat16() -> bool:
    """Whether this CPU has native bfloat16 matrix products (AVX512-BF16 or AMX); off with MODELMINT_HUREF_FP32=1."""
    import torch

    if os.environ.get("MODELMINT_HUREF_FP32") == "1":
        return False
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in probes)


def _term(
    index: int, name: str, left: torch.Tensor, right: torch.Tensor, right_gram: torch.Tensor | None
) -> Term:
    if right_gram is None:
        right_gram = right.T @ right
    total = float(left.sum(0).double() @ right.sum(0).double())
    sumsq = float(((left.T @ left).double() * right_gram.double()).sum())
    return Term(index, name, left, right.contiguous(), total, sumsq)


def model_terms(weights: ModelWeights, ids: Sequence[int], layers: Sequence[int]) -> list[Term]:
    """The terms of ``layers`` (absolute indices) for the embedding rows ``ids``, layer-major."""
    import torch

    x = weights.embedding(list(ids))
    with torch.no_grad():
        x_gram = x.T @ x
    terms: list[Term] = []
    for index in layers:
        layer = weights.layer(index)
        terms.extend(layer_terms(x, layer, index, weights.num_heads, weights.num_kv_heads, x_gram))
    return terms


def term_correlation(a: Term, b: Term, right_gram: torch.Tensor | None = None) -> float:
    """The cosine of the two standardised terms (their entries' Pearson correlation)."""
    if a.count != b.count:
        raise InputError(f"terms over {a.count} and {b.count} entries cannot be compared")
    if right_gram is None:
        right_gram = a.right.T @ b.right
    cross = float(((a.left.T @ b.left).double() * right_gram.double()).sum())
    denominator = math.sqrt(a.centered_sumsq * b.centered_sumsq)
    if denominator == 0.0:
        return 0.0
    return (cross - a.count * a.mean * b.mean) / denominator


def ics(a: Sequence[Term], b: Sequence[Term]) -> float:
    """Invariant-terms cosine similarity: the cosine of the concatenated standardised terms.

    Every standardised term has the same norm, so this is the mean of the per-term
    correlations, which is what the paper's code computes on the dense matrices.
    """
    import torch

    if len(a) != len(b) or not a:
        raise InputError(f"fingerprints with {len(a)} and {len(b)} terms cannot be compared")
    grams: dict[tuple[int, int], torch.Tensor] = {}  # right factors shared between terms (X)
    total = 0.0
    with torch.no_grad():
        for ta, tb in zip(a, b, strict=True):
            key = (id(ta.right), id(tb.right))
            if key not in grams:
                grams[key] = ta.right.T @ tb.right
            total += term_correlation(ta, tb, grams[key])
    return total / len(a)


def pcs(a: ModelWeights, b: ModelWeights) -> float | None:
    """Parameter cosine similarity over the tensors both models have (same name and shape).

    None when they share no tensor: different architectures or sizes are not comparable.
    """
    import torch

    theirs = dict(b.parameters())
    dot = norm_a = norm_b = 0.0
    shared = 0
    with torch.no_grad():
        for name, ta in a.parameters():
            tb = theirs.get(name)
            if tb is None or tb.shape != ta.shape:
                continue
            va, vb = ta.reshape(-1).double(), tb.reshape(-1).double()
            dot += float(va @ vb)
            norm_a += float(va @ va)
            norm_b += float(vb @ vb)
            shared += 1
    if not shared or norm_a == 0.0 or norm_b == 0.0:
        return None
    return dot / math.sqrt(norm_a * norm_b)

"""The straightforward HuRef computation, as the paper's code does it: every k x k term dense.

Kept as the yardstick the factored implementation is tested and benchmarked against: it
repeats key/value heads instead of summing query heads, forms each term in float32,
standardises it over its k^2 entries and takes one cosine over all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from modelmint.fingerprints.huref._weights import ModelWeights


def dense_terms(weights: ModelWeights, ids: Sequence[int], layers: Sequence[int]) -> list[torch.Tensor]:
    """The standardised k x k terms (qk, vo, ffn per layer), float32."""
    import torch

    out: list[torch.Tensor] = []
    with torch.no_grad():
        x = weights.embedding(list(ids))
        heads, kv_heads = weights.num_heads, weights.num_kv_heads
        for index in layers:
            w = weights.layer(index)
            d = x.shape[1]
            head_dim = w.q.shape[0] // heads
            q, k = w.q, w.k
            if w.q_gain is not None:
                q = (q.view(heads, head_dim, d) * w.q_gain[None, :, None]).reshape(-1, d)
            if w.k_gain is not None:
                k = (k.view(kv_heads, head_dim, d) * w.k_gain[None, :, None]).reshape(-1, d)
            repeat = heads // kv_heads
            k = k.view(kv_heads, head_dim, d).repeat_interleave(repeat, 0).reshape(-1, d)
            v = w.v.view(kv_heads, head_dim, d).repeat_interleave(repeat, 0).reshape(-1, d)
            o = w.o if w.attn_out_gain is None else w.o * w.attn_out_gain[:, None]
            down = w.down if w.ffn_out_gain is None else w.down * w.ffn_out_gain[:, None]
            xa, xf = x * w.attn_in_gain, x * w.ffn_in_gain
            terms = (
                (xa @ q.T) @ (xa @ k.T).T,
                (xa @ v.T) @ (x @ o).T,
                (((xf @ w.gate.T) * (xf @ w.up.T)) @ down.T) @ x.T,
            )
            out.extend((t - t.mean()) / t.std() for t in terms)
    return out


def dense_ics(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """The cosine of the concatenated standardised terms."""
    import torch

    dot = norm_a = norm_b = 0.0
    for ta, tb in zip(a, b, strict=True):
        dot += float((ta * tb).sum(dtype=torch.float64))
        norm_a += float((ta * ta).sum(dtype=torch.float64))
        norm_b += float((tb * tb).sum(dtype=torch.float64))
    return dot / math.sqrt(norm_a * norm_b)

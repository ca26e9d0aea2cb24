"""What a fingerprint publishes: a sketch of the standardised terms and a 512-d feature vector.

The sketch is each standardised term's value at the same n pseudo-random entries
(row, column) for every model, stored as float16. The mean of the products of two
sketches estimates the correlation of the full terms with a standard error of about
1/sqrt(n) per term (n = 65,536: under 0.004; ICS averages the terms, so about 0.002 for 6),
and a related pair's error is far smaller, since the error scales with 1 - correlation².
The entries are the little-endian uint64 words of SHAKE-256 over a fixed seed, taken modulo
k^2 and sorted (docs/huref.md), so anyone can regenerate them.

The feature vector is the paper's mean pooling: the standardised terms stacked (layer by
layer: qk, vo, ffn) are cut along their rows into 512 consecutive blocks, each block is
averaged, and the 512 means are standardised. Row sums come from the factors, so no term is
formed; for k = 4096 and 2 layers each block is 48 whole rows, exactly the paper's pooling.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from modelmint.errors import InputError

if TYPE_CHECKING:
    from modelmint.fingerprints.huref._terms import Term

SKETCH_SEED = b"modelmint.huref.sketch.v1"
SKETCH_ENTRIES = 65536
VECTOR_DIM = 512
_CHUNK = 1024


@lru_cache(maxsize=4)
def sketch_positions(k: int, n: int = SKETCH_ENTRIES) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) of each sampled entry of a k x k term."""
    stream = hashlib.shake_256(SKETCH_SEED + k.to_bytes(4, "big")).digest(8 * n)
    flat = np.sort(
        np.frombuffer(stream, dtype="<u8") % np.uint64(k * k)
    )  # row-major order: rows stay in cache
    return (flat // np.uint64(k)).astype(np.int64), (flat % np.uint64(k)).astype(np.int64)


def sketch(terms: Sequence[Term], n: int = SKETCH_ENTRIES) -> np.ndarray:
    """The standardised value of every term at the sampled entries: float16, terms x n."""
    k = terms[0].left.shape[0]
    rows, cols = sketch_positions(k, n)
    out = np.empty((len(terms), n), dtype=np.float16)
    values = np.empty(n, dtype=np.float32)
    for t, term in enumerate(terms):
        left, right = term.left.detach().numpy(), term.right.detach().numpy()
        for start in range(0, n, _CHUNK):  # small chunks stay in cache; rows are sorted, so left rows repeat
            r, c = rows[start : start + _CHUNK], cols[start : start + _CHUNK]
            values[start : start + _CHUNK] = np.einsum("ij,ij->i", left[r], right[c])
        out[t] = ((values.astype(np.float64) - term.mean) / term.std).astype(np.float16)
    return out


def sketch_ics(a: np.ndarray, b: np.ndarray) -> float:
    """ICS estimated from two sketches: the mean over terms of their cosines.

    Sums run in float32 (SIMD; relative error ~1e-6 over 65,536 products of values of order 1).
    """
    if a.shape != b.shape:
        raise InputError(f"sketches of shape {a.shape} and {b.shape} cannot be compared")
    fa = a if a.dtype == np.float32 else a.astype(np.float32)
    fb = b if b.dtype == np.float32 else b.astype(np.float32)
    dots = np.einsum("ij,ij->i", fa, fb).astype(np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", fa, fa).astype(np.float64) * np.einsum("ij,ij->i", fb, fb))
    return float(np.mean(np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)))


def feature_vector(terms: Sequence[Term], dim: int = VECTOR_DIM) -> np.ndarray:
    """The mean-pooled, standardised feature vector (float32, ``dim`` values)."""
    import torch

    k = terms[0].left.shape[0]
    with torch.no_grad():
        row_sums = [((term.left @ term.right.sum(0)).double() - k * term.mean) / term.std for term in terms]
    stacked = torch.cat(row_sums).numpy()
    if stacked.size < dim:
        raise InputError(f"{stacked.size} term rows cannot be pooled into {dim} values", "use more tokens")
    blocks = np.array_split(stacked, dim)
    pooled = np.array([block.sum() / (block.size * k) for block in blocks])
    spread = pooled.std(ddof=1)
    sketch: np.ndarray = ((pooled - pooled.mean()) / (spread if spread > 0 else 1.0)).astype(np.float32)
    return sketch


def vector_similarity(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """The cosine of two feature vectors."""
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norm = math.sqrt(float(va @ va) * float(vb @ vb))
    return float(va @ vb) / norm if norm else 0.0

"""The human-readable fingerprint: a picture drawn deterministically from the 512-d vector.

The paper feeds the vector to a StyleGAN2 trained on dog faces; those weights cannot be
obtained here, so modelmint ships a small generator with fixed pseudo-random weights
instead, a compositional pattern-producing network (CPPN): every pixel's colour is a
small tanh network of its coordinates (mirrored left-right, plus Fourier features), whose
biases and input gains are set by the vector. The map is smooth, so close vectors (related
models) give near-identical pictures, and random-looking, so unrelated vectors give unlike
ones. Its weights are the SHAKE-256 stream of a fixed seed (docs/huref.md): nothing is
trained or downloaded, and anyone can redraw a picture from a published vector.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

import numpy as np

GENERATOR = "modelmint.huref-cppn.v1"
SIZE = 256
_LATENT = 48
_HIDDEN = 32
_FOURIER = 12


def _uniform(label: str, *shape: int) -> np.ndarray:
    """Uniform values in [-1, 1) from SHAKE-256(GENERATOR/label): little-endian uint32 / 2^31 - 1."""
    count = int(np.prod(shape))
    stream = hashlib.shake_256(f"{GENERATOR}/{label}".encode()).digest(4 * count)
    return (np.frombuffer(stream, dtype="<u4").astype(np.float64) / 2**31 - 1.0).reshape(shape)


@lru_cache(maxsize=1)
def _weights() -> dict[str, np.ndarray]:
    features = 3 + 2 * _FOURIER
    return {
        "latent": _uniform("latent", _LATENT, 512)
        * np.sqrt(3.0 / 512),  # unit variance for a standardised vector
        "freq": _uniform("freq", _FOURIER, 2) * 5.0,
        "in": _uniform("in", _HIDDEN, features) * 1.6,
        "in_gain": _uniform("in_gain", features, _LATENT) * 0.6,
        "bias": [_uniform(f"bias{i}", _HIDDEN, _LATENT) * 0.9 for i in range(3)],
        "hidden": [_uniform(f"hidden{i}", _HIDDEN, _HIDDEN) * (2.2 / np.sqrt(_HIDDEN)) for i in range(2)],
        "out": _uniform("out", 3, _HIDDEN) * (2.5 / np.sqrt(_HIDDEN)),
    }


def render(vector: np.ndarray, size: int = SIZE) -> np.ndarray:
    """The picture of ``vector`` as a ``size`` x ``size`` x 3 uint8 array."""
    w = _weights()
    style = np.tanh(w["latent"] @ np.asarray(vector, dtype=np.float64))
    axis = np.linspace(-1.0, 1.0, size)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    x = np.abs(x)  # mirror symmetry, which people read as a face or an emblem
    angles = np.stack([x, y], -1) @ w["freq"].T
    features = np.concatenate(
        [x[..., None], y[..., None], np.hypot(x, y)[..., None], np.sin(angles), np.cos(angles)], -1
    )
    features = features * (1.0 + w["in_gain"] @ style)
    h = np.tanh(features @ w["in"].T + w["bias"][0] @ style)
    for layer, bias in zip(w["hidden"], w["bias"][1:], strict=True):
        h = np.tanh(h @ layer.T + bias @ style)
    rgb = 1.0 / (1.0 + np.exp(-4.5 * (h @ w["out"].T)))
    picture: np.ndarray = np.round(rgb * 255).astype(np.uint8)
    return picture


def render_png(vector: np.ndarray, size: int = SIZE) -> bytes:
    """The picture as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(render(vector, size), mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()

"""The published fingerprint: one content-addressed file, its SHA-256 committed on-chain.

Layout (docs/huref.md specifies it; this module is its only implementation):

    magic    8 bytes   b"MMHUREF\\x01"
    length   4 bytes   big-endian byte length H of the header
    header   H bytes   RFC 8785 canonical JSON, UTF-8 (schema modelmint.huref-fingerprint.v1)
    sketch   the rest  float16 little-endian, terms x entries, row-major

The header names the method, the model's shape, the token ids, the 512-d vector and the
picture's URI and hash; the sketch follows raw, so a verifier reads it with no decoding.
What binds a bundle is its SHA-256, committed on-chain; decoding checks the structure and
sizes (re-canonicalising every header would cost more than the rest of an identification).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelmint.errors import IntegrityError
from modelmint.fingerprints.huref._tokens import ids_sha256
from modelmint.hashing.canonical import canonical_json

MAGIC = b"MMHUREF\x01"
SCHEMA = "modelmint.huref-fingerprint.v1"
SKETCH_ENCODING = "float16-le"
POSITIONS = "shake256-u64le-mod-k2"


@dataclass(frozen=True)
class Bundle:
    """A decoded fingerprint file: its header (a JSON object) and its sketch."""

    header: dict[str, Any]
    sketch: np.ndarray  # float16, terms x entries

    @property
    def vector(self) -> np.ndarray:
        return np.asarray(self.header["vector"]["values"], dtype=np.float32)

    @property
    def tokens_sha256(self) -> str:
        return str(self.header["tokens"]["idsSha256"])

    @property
    def vocab_sha256(self) -> str:
        return str(self.header["tokens"]["vocabSha256"])

    @property
    def layers(self) -> str:
        return str(self.header["method"]["layers"])


def encode(header: dict[str, Any], sketch: np.ndarray) -> bytes:
    """The bundle's bytes; ``header['sketch']`` must describe ``sketch``."""
    body = canonical_json(header)
    payload = np.ascontiguousarray(sketch, dtype="<f2").tobytes()
    return MAGIC + len(body).to_bytes(4, "big") + body + payload


def decode(data: bytes, where: str) -> Bundle:
    """Parse and check a bundle.

    Raises:
        IntegrityError: wrong magic, a header that is not a JSON object of this schema, or a
            sketch whose size or values do not match the header.
    """

    def refuse(why: str) -> IntegrityError:
        return IntegrityError(
            f"{where} is not a modelmint HuRef fingerprint ({why})", "the commitment points at other content"
        )

    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise refuse("bad magic")
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    body = data[start : start + size]
    try:
        header = json.loads(body)
        if not isinstance(header, dict):
            raise refuse("header is not a JSON object")
        if header.get("schema") != SCHEMA:
            raise refuse(f"schema {header.get('schema')!r}, expected {SCHEMA}")
        shape = (int(header["sketch"]["terms"]), int(header["sketch"]["entries"]))
        if (
            header["sketch"]["encoding"] != SKETCH_ENCODING
            or len(header["vector"]["values"]) != header["vector"]["dim"]
        ):
            raise refuse("unknown sketch encoding or vector size")
        tokens = header["tokens"]
        if ids_sha256(tokens["ids"]) != tokens["idsSha256"] or len(tokens["ids"]) != tokens["count"]:
            raise refuse("token ids do not match their hash")
        if "pairedIds" in tokens and ids_sha256(tokens["pairedIds"]) != tokens["pairedIdsSha256"]:
            raise refuse("paired token ids do not match their hash")
        tokens["vocabSha256"], header["method"]["layers"], header["model"]["layerIndices"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise refuse("malformed header") from None
    payload = data[start + size :]
    if len(payload) != 2 * shape[0] * shape[1]:
        raise refuse(f"sketch has {len(payload)} bytes, header says {shape[0]} x {shape[1]} float16")
    sketch = np.frombuffer(payload, dtype="<f2").reshape(shape)
    if not np.isfinite(sketch).all() or not all(math.isfinite(v) for v in header["vector"]["values"]):
        raise refuse("non-finite values")
    return Bundle(header, sketch)

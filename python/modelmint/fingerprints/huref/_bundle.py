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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelmint.errors import IntegrityError
from modelmint.fingerprints.huref._sketch import SKETCH_ENTRIES, VECTOR_DIM
from modelmint.fingerprints.huref._tokens import ids_sha256
from modelmint.hashing.canonical import canonical_json
from modelmint.storage.documents import Fields, parse_document

MAGIC = b"MMHUREF\x01"
SCHEMA = "modelmint.huref-fingerprint.v1"
SKETCH_ENCODING = "float16-le"
POSITIONS = "shake256-u64le-mod-k2"
#: The largest header read: about 60 KB for 4,096 tokens of a shared set, so room for some 300,000 ids.
HEADER_MAX_BYTES = 4 << 20
#: The most sketch rows a bundle read from a store may have: ``--layers all`` of a 170-layer model.
MAX_SKETCH_TERMS = 512
#: The largest bundle read from a store (docs/security.md, "Untrusted documents"): magic, length,
#: the largest header and a sketch of MAX_SKETCH_TERMS rows of n float16 entries; 68 MiB.
MAX_BYTES = len(MAGIC) + 4 + HEADER_MAX_BYTES + 2 * MAX_SKETCH_TERMS * SKETCH_ENTRIES
_FLOAT32_MAX = float(np.finfo(np.float32).max)


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

    @property
    def image_uri(self) -> str:
        """The picture's ``ipfs://`` URI, "" when the bundle names none."""
        return str((self.header.get("image") or {}).get("uri", ""))


def encode(header: dict[str, Any], sketch: np.ndarray) -> bytes:
    """The bundle's bytes; ``header['sketch']`` must describe ``sketch``."""
    body = canonical_json(header)
    payload = np.ascontiguousarray(sketch, dtype="<f2").tobytes()
    return MAGIC + len(body).to_bytes(4, "big") + body + payload


def decode(data: bytes, where: str) -> Bundle:
    """Parse and check a bundle, which came from an untrusted store: every field used anywhere
    (here, in ``compare`` and in the registry) has its type and range checked.

    Raises:
        IntegrityError: wrong magic, a header that is not a JSON object of this schema (too
            large, not strict JSON, a field of the wrong type, which is named), or a sketch
            whose size or values do not match the header.
    """

    def refuse(why: str) -> IntegrityError:
        return IntegrityError(
            f"{where} is not a modelmint HuRef fingerprint ({why})", "the commitment points at other content"
        )

    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise refuse("bad magic")
    size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
    start = len(MAGIC) + 4
    if size > len(data) - start:
        raise refuse(f"its header length {size:,} runs past the end of its {len(data):,} bytes")
    try:
        parsed = parse_document(data[start : start + size], what="its header", max_bytes=HEADER_MAX_BYTES)
    except IntegrityError as exc:
        raise refuse(exc.problem) from None
    read = Fields(refuse)
    header = read.top(parsed)
    terms, entries = _checked_shape(read, header)
    payload = data[start + size :]
    if len(payload) != 2 * terms * entries:
        raise refuse(f"sketch has {len(payload)} bytes, header says {terms} x {entries} float16")
    sketch = np.frombuffer(payload, dtype="<f2").reshape((terms, entries))
    if not np.isfinite(sketch).all():
        raise refuse("non-finite values")
    return Bundle(dict(header), sketch)


def _checked_shape(read: Fields, header: Mapping[str, Any]) -> tuple[int, int]:
    """Check every header field any reader uses; the sketch's (terms, entries)."""
    if header.get("schema") != SCHEMA:
        raise read.refuse(f"its schema is not {SCHEMA}")
    read.text(read.object(header, "method"), "layers", "method")
    model = read.object(header, "model")
    for key in ("architecture", "modelType"):
        read.text(model, key, "model")
    for key in ("layers", "hiddenSize", "vocabSize"):
        read.count(model, key, "model")
    layer_indices = read.counts(model, "layerIndices", "model")
    tokens = read.object(header, "tokens")
    read.text(tokens, "ranking", "tokens")
    read.text(tokens, "vocabSha256", "tokens")
    ids = read.counts(tokens, "ids", "tokens")
    if ids_sha256(ids) != read.text(tokens, "idsSha256", "tokens") or len(ids) != read.count(
        tokens, "count", "tokens"
    ):
        raise read.refuse("token ids do not match their hash")
    if "pairedIds" in tokens:
        paired = read.counts(tokens, "pairedIds", "tokens")
        if ids_sha256(paired) != read.text(tokens, "pairedIdsSha256", "tokens"):
            raise read.refuse("paired token ids do not match their hash")
        read.optional(tokens, "pairedVocabSha256", "tokens", read.text)
    vector = read.object(header, "vector")
    dim, values = read.count(vector, "dim", "vector"), read.numbers(vector, "values", "vector")
    if dim != VECTOR_DIM or len(values) != dim:
        raise read.refuse(f"its vector has {len(values)} values and dim {dim}, not {VECTOR_DIM}")
    if not all(abs(v) <= _FLOAT32_MAX for v in values):
        raise read.refuse("a vector value is too large for float32")
    sketch_info = read.object(header, "sketch")
    terms, entries = read.count(sketch_info, "terms", "sketch"), read.count(sketch_info, "entries", "sketch")
    if read.text(sketch_info, "encoding", "sketch") != SKETCH_ENCODING:
        raise read.refuse(f"its sketch encoding is not {SKETCH_ENCODING}")
    if entries == 0 or terms == 0 or terms != 3 * len(layer_indices):
        raise read.refuse(
            f"a sketch of {terms} x {entries} is not 3 terms for each of its {len(layer_indices)} layers"
        )
    image = read.optional(header, "image", "", read.object)
    if image is not None:
        read.text(image, "uri", "image")
    return terms, entries

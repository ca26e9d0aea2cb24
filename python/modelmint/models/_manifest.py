"""The weights manifest: every file of a model as (path, SHA-256, size), and its Merkle root.

The root is OpenZeppelin's ``StandardMerkleTree`` with the leaf encoding
``["string", "bytes32", "uint256"]`` over the manifest entries, so any contract can prove
that one file belongs to a registered model with ``MerkleProof.verify``, and anyone can
recompute the root with ``@openzeppelin/merkle-tree``. docs/hashing.md ("Model weights
manifest") specifies the rule; this module is its only implementation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from modelmint.errors import InputError, IntegrityError
from modelmint.hashing import canonical_json, from_hex, keccak256, to_hex
from modelmint.hashing.merkle import LeafTree, process_proof
from modelmint.storage.documents import MANIFEST_MAX_BYTES, json_type, parse_document

SCHEME = "modelmint.model-manifest.v1"
TREE = "openzeppelin.standard-merkle-tree.string-bytes32-uint256"
_WORD = 32


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a model: its relative POSIX path, the SHA-256 of its bytes, its size."""

    path: str
    sha256: bytes
    size: int

    def encoded(self) -> bytes:
        """``abi.encode(string path, bytes32 sha256, uint256 size)``."""
        name = self.path.encode("utf-8")
        return (
            (3 * _WORD).to_bytes(_WORD, "big")  # offset of the string's tail
            + self.sha256
            + self.size.to_bytes(_WORD, "big")
            + len(name).to_bytes(_WORD, "big")
            + name
            + bytes(-len(name) % _WORD)
        )

    def leaf(self) -> bytes:
        """The tree leaf: ``keccak256(bytes.concat(keccak256(abi.encode(path, sha256, size))))``."""
        return keccak256(keccak256(self.encoded()))

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": to_hex(self.sha256), "size": self.size}


@dataclass(frozen=True)
class FileDifference:
    """A path present on both sides whose content differs."""

    path: str
    expected_sha256: str
    actual_sha256: str
    expected_size: int
    actual_size: int


@dataclass(frozen=True)
class ManifestDiff:
    """How a model's files differ from a manifest, by path."""

    differing: list[FileDifference] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.differing or self.missing or self.extra)


@dataclass(frozen=True)
class WeightsManifest:
    """The files of a model in manifest order (paths ascending as UTF-8 bytes), and their root."""

    files: tuple[ManifestEntry, ...]

    def __post_init__(self) -> None:
        if not self.files:
            raise InputError(
                "a model with no files cannot be registered", "give a folder or file that holds the model"
            )
        keys = [f.path.encode("utf-8") for f in self.files]
        if any(a >= b for a, b in itertools.pairwise(keys)):
            raise ValueError("manifest entries must be sorted by path and distinct (use WeightsManifest.of)")
        for f in self.files:
            if len(f.sha256) != _WORD or not 0 <= f.size < 2**53 or not f.path:
                raise ValueError(f"malformed manifest entry {f!r}")

    @classmethod
    def of(cls, entries: Iterable[ManifestEntry]) -> WeightsManifest:
        """The manifest of ``entries`` in any order."""
        return cls(tuple(sorted(entries, key=lambda e: e.path.encode("utf-8"))))

    @cached_property
    def _tree(self) -> LeafTree:
        return LeafTree([f.leaf() for f in self.files])

    @property
    def root(self) -> bytes:
        """The 32-byte weights root, as committed on chain."""
        return self._tree.root

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def entry(self, path: str) -> ManifestEntry | None:
        return self._by_path.get(path)

    @cached_property
    def _by_path(self) -> dict[str, ManifestEntry]:
        return {f.path: f for f in self.files}

    def proof(self, path: str) -> list[bytes]:
        """The proof that file ``path`` is in this manifest, leaf to root (OpenZeppelin's ``getProof``).

        Raises:
            InputError: the manifest has no file ``path``.
        """
        entry = self.entry(path)
        if entry is None:
            raise InputError(f"the manifest has no file {path}", "give the path of one of its files")
        return self._tree.proof(entry.leaf())

    @staticmethod
    def verify_proof(root: bytes, entry: ManifestEntry, proof: Sequence[bytes]) -> bool:
        """Whether ``proof`` shows that ``entry`` is a file of the model whose weights root is ``root``."""
        return process_proof(entry.leaf(), proof) == bytes(root)

    def compare(self, actual: WeightsManifest) -> ManifestDiff:
        """How ``actual`` differs from this (the expected) manifest, by path."""
        differing = [
            FileDifference(e.path, to_hex(e.sha256), to_hex(a.sha256), e.size, a.size)
            for e in self.files
            if (a := actual.entry(e.path)) is not None and (a.sha256, a.size) != (e.sha256, e.size)
        ]
        missing = [e.path for e in self.files if actual.entry(e.path) is None]
        extra = [a.path for a in actual.files if self.entry(a.path) is None]
        return ManifestDiff(differing, missing, extra)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEME,
            "tree": TREE,
            "root": to_hex(self.root),
            "files": [f.to_json() for f in self.files],
        }

    def canonical(self) -> bytes:
        """The manifest file stored in the content store: RFC 8785 canonical JSON."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: bytes, source: str = "the manifest") -> WeightsManifest:
        """Parse a stored manifest and check that its stated root is the root of its files.

        ``data`` is read as an untrusted document (at most MANIFEST_MAX_BYTES,
        modelmint.storage.documents) and every field's type is checked.

        Raises:
            IntegrityError: ``data`` is not a modelmint manifest, or its root does not match.
        """
        doc = parse_document(data, what=source, max_bytes=MANIFEST_MAX_BYTES)
        try:
            if not isinstance(doc, dict):
                raise ValueError(f"the document is {json_type(doc)}, not an object")
            if doc.get("schema") != SCHEME or doc.get("tree") != TREE:
                raise ValueError(f"its schema or tree is not {SCHEME} / {TREE}")
            files = doc.get("files")
            if not isinstance(files, list):
                raise ValueError(f"files is {json_type(files)}, not an array")
            manifest = cls(tuple(_entry(f, i) for i, f in enumerate(files)))
            stated = _word(doc, "root", "")
        except (ValueError, InputError) as exc:
            why = exc.problem if isinstance(exc, InputError) else str(exc)
            raise IntegrityError(
                f"{source} is not a {SCHEME} manifest ({why})", "the token was not registered by modelmint"
            ) from None
        if stated != manifest.root:
            raise IntegrityError(
                f"{source} states root {to_hex(stated)} but its files give {to_hex(manifest.root)}",
                "the manifest was altered; it cannot be trusted",
            )
        return manifest


def _entry(value: Any, index: int) -> ManifestEntry:
    where = f"files[{index}]"
    if not isinstance(value, dict):
        raise ValueError(f"{where} is {json_type(value)}, not an object")
    path, digest = _text(value, "path", where), _word(value, "sha256", where)
    size = value.get("size")
    if isinstance(size, bool) or not isinstance(size, int):
        raise ValueError(f"{where}.size is {json_type(size)}, not a whole number")
    if not path or not 0 <= size < 2**53:
        raise ValueError(f"{where} has an empty path or a size outside 0 .. 2^53 - 1")
    return ManifestEntry(path, digest, size)


def _word(obj: dict[str, Any], key: str, where: str) -> bytes:
    text = _text(obj, key, where)
    if len(text) != 2 + 2 * _WORD:  # checked first: a hostile value is never echoed whole
        raise ValueError(f"{f'{where}.' if where else ''}{key} is not a 0x-prefixed {_WORD}-byte hex value")
    return from_hex(text, _WORD)


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{f'{where}.' if where else ''}{key} is {json_type(value)}, not a string")
    return value

"""Typed views of the ERC-721 metadata modelmint stores for its tokens.

The stored JSON is the published form (docs/hashing.md, docs/models.md) and is never
rewritten; these classes read its ``modelmint`` section into named fields, so no caller
indexes ``metadata["modelmint"]["format"]`` by hand. ``document`` keeps the JSON as stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetMetadata:
    """A dataset token's metadata: how its datapoints were hashed and where its leaf list is."""

    name: str | None
    format: str
    hash_scheme: str
    datapoint_count: int | None
    merkle_root: str | None
    tree: str | None
    leaves: str
    #: (shard name, datapoints) of a dataset committed as several shard files, in order.
    shards: tuple[tuple[str, int], ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_document(cls, document: Any) -> DatasetMetadata:
        """Reads stored dataset metadata.

        Raises:
            KeyError, TypeError, ValueError: it is not modelmint dataset metadata.
        """
        section = _section(document)
        shards = tuple((str(s["name"]), int(s["datapoints"])) for s in section.get("shards") or ())
        return cls(
            name=_text_or_none(document.get("name")),
            format=_text(section["format"]),
            hash_scheme=_text(section.get("hashScheme", "")),
            datapoint_count=_int_or_none(section.get("datapointCount")),
            merkle_root=_text_or_none(section.get("merkleRoot")),
            tree=_text_or_none(section.get("tree")),
            leaves=_text(section["leaves"]),
            shards=shards,
            document=document,
        )

    def to_json(self) -> Mapping[str, Any]:
        """The metadata as it is stored."""
        return self.document


@dataclass(frozen=True)
class ModelMetadata:
    """A model token's metadata: its manifest, lineage as the minter stated it, and model facts."""

    name: str | None
    schema: str
    weights_root: str
    manifest: str
    manifest_scheme: str | None
    tree: str | None
    parent_model_id: int
    dataset_ids: tuple[int, ...]
    total_size: int | None
    image: str | None = None
    #: What the model's own files say (architecture, parameter count, ...; docs/models.md).
    model: Mapping[str, Any] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_document(cls, document: Any) -> ModelMetadata:
        """Reads stored model metadata.

        Raises:
            KeyError, TypeError, ValueError: it is not modelmint model metadata.
        """
        section = _section(document)
        facts = section.get("model")
        return cls(
            name=_text_or_none(document.get("name")),
            schema=_text(section["schema"]),
            weights_root=_text(section["weightsRoot"]),
            manifest=_text(section["manifest"]),
            manifest_scheme=_text_or_none(section.get("manifestScheme")),
            tree=_text_or_none(section.get("tree")),
            parent_model_id=int(section.get("parentModelId") or 0),
            dataset_ids=tuple(int(i) for i in section.get("datasetIds") or ()),
            total_size=_int_or_none(section.get("totalSize")),
            image=_text_or_none(document.get("image")),
            model=facts if isinstance(facts, dict) else {},
            document=document,
        )

    def to_json(self) -> Mapping[str, Any]:
        """The metadata as it is stored."""
        return self.document


def _section(document: Any) -> Mapping[str, Any]:
    if not isinstance(document, Mapping) or not isinstance(document.get("modelmint"), Mapping):
        raise ValueError("no modelmint section")
    section: Mapping[str, Any] = document["modelmint"]
    return section


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a string")
    return value


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

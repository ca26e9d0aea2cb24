"""Typed views of the ERC-721 metadata modelmint stores for its tokens.

The stored JSON is the published form (docs/hashing.md, docs/models.md) and is never
rewritten; these classes read its ``modelmint`` section into named fields, so no caller
indexes ``metadata["modelmint"]["format"]`` by hand. ``document`` keeps the JSON as stored.

Metadata is whatever the minter stored, so every field read here has its type checked, and
a field of the wrong type is refused with one ``IntegrityError`` that names it
(docs/security.md, "Untrusted documents"); an optional field may be absent or null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelmint.errors import IntegrityError
from modelmint.storage.documents import Fields

#: The model facts modelmint writes (``models.ModelDetails.to_json``) and readers use, by type.
_TEXT_FACTS = (
    "name", "source", "weightsFormat", "architecture", "modelType", "dtype", "pipelineTask", "category",
    "license", "lastModified", "repoId", "revision",
)  # fmt: skip
_COUNT_FACTS = ("parameterCount", "vocabSize", "contextLength", "hiddenSize", "numLayers")


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
    def from_document(cls, document: Any, source: str = "the metadata") -> DatasetMetadata:
        """Reads stored dataset metadata; ``source`` names it in errors.

        Raises:
            IntegrityError: it is not modelmint dataset metadata (the field that is not is named).
        """
        read = _fields(source, "dataset")
        top = read.top(document)
        section = read.object(top, "modelmint")
        shards = tuple(
            (
                read.text(s, "name", f"modelmint.shards[{i}]"),
                read.count(s, "datapoints", f"modelmint.shards[{i}]"),
            )
            for i, s in enumerate(read.optional(section, "shards", "modelmint", read.objects) or ())
        )
        return cls(
            name=read.optional(top, "name", "", read.text),
            format=read.text(section, "format", "modelmint"),
            hash_scheme=read.optional(section, "hashScheme", "modelmint", read.text) or "",
            datapoint_count=read.optional(section, "datapointCount", "modelmint", read.count),
            merkle_root=read.optional(section, "merkleRoot", "modelmint", read.text),
            tree=read.optional(section, "tree", "modelmint", read.text),
            leaves=read.text(section, "leaves", "modelmint"),
            shards=shards,
            document=top,
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
    #: What the model's own files say (architecture, parameter count, ...; docs/models.md); every
    #: fact modelmint writes has its type checked, others are kept as stored.
    model: Mapping[str, Any] = field(default_factory=dict)
    document: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_document(cls, document: Any, source: str = "the metadata") -> ModelMetadata:
        """Reads stored model metadata; ``source`` names it in errors.

        Raises:
            IntegrityError: it is not modelmint model metadata (the field that is not is named).
        """
        read = _fields(source, "model")
        top = read.top(document)
        section = read.object(top, "modelmint")
        return cls(
            name=read.optional(top, "name", "", read.text),
            schema=read.text(section, "schema", "modelmint"),
            weights_root=read.text(section, "weightsRoot", "modelmint"),
            manifest=read.text(section, "manifest", "modelmint"),
            manifest_scheme=read.optional(section, "manifestScheme", "modelmint", read.text),
            tree=read.optional(section, "tree", "modelmint", read.text),
            parent_model_id=read.optional(section, "parentModelId", "modelmint", read.count) or 0,
            dataset_ids=tuple(read.optional(section, "datasetIds", "modelmint", read.counts) or ()),
            total_size=read.optional(section, "totalSize", "modelmint", read.count),
            image=read.optional(top, "image", "", read.text),
            model=_facts(read, section),
            document=top,
        )

    def to_json(self) -> Mapping[str, Any]:
        """The metadata as it is stored."""
        return self.document


def _facts(read: Fields, section: Mapping[str, Any]) -> Mapping[str, Any]:
    facts = read.optional(section, "model", "modelmint", read.object)
    if facts is None:
        return {}
    where = "modelmint.model"
    for key in _TEXT_FACTS:
        read.optional(facts, key, where, read.text)
    for key in _COUNT_FACTS:
        read.optional(facts, key, where, read.count)
    for key, check in (("specialTokens", read.text), ("parametersByDtype", read.count)):
        table = read.optional(facts, key, where, read.object) or {}
        for name in table:
            check(table, name, f"{where}.{key}")
    return facts


def _fields(source: str, kind: str) -> Fields:
    def refuse(why: str) -> IntegrityError:
        return IntegrityError(
            f"{source} is not modelmint {kind} metadata ({why})",
            "the token was not minted by modelmint; nothing can be verified against it",
        )

    return Fields(refuse)

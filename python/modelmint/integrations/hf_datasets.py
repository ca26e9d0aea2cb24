"""Commit a Hugging Face ``datasets`` object in memory: the same token as its rows saved or as JSONL."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint.datasets import write_memory_jsonl
from modelmint.datasets._memory import MEMORY_FORMAT
from modelmint.registry import DatasetCommitment, Registries, commit_dataset

# Builders named after a file format, not a dataset: a name no better than none.
_PACKAGED_BUILDERS = frozenset(
    {"json", "csv", "parquet", "text", "arrow", "generator", "pandas", "sql", "webdataset"}
)


@dataclass(frozen=True)
class TrainingData:
    """One training dataset for :class:`~modelmint.integrations.transformers.ProvenanceCallback`.

    Attributes:
        data: a ``Dataset``, ``DatasetDict``, ``IterableDataset`` or ``IterableDatasetDict``;
            a dataset path (anything ``modelmint dataset mint`` reads); or the id of a
            DatasetNFT already minted.
        columns: for an in-memory dataset, the columns that make a datapoint [default: all
            but the tokenised ones, :data:`modelmint.datasets.PREPROCESSING_COLUMNS`].
        name: the token name [default: the dataset's own name, or its file name].
        hub_id: the name the card's ``datasets`` front matter gives it (a Hub repo id)
            [default: the token name].
    """

    data: Any
    columns: Sequence[str] | None = None
    name: str | None = None
    hub_id: str | None = None


def commit_hf_dataset(
    registries: Registries,
    data: Any,
    *,
    columns: Sequence[str] | None = None,
    name: str | None = None,
    description: str | None = None,
) -> DatasetCommitment:
    """Commit an in-memory ``datasets`` object as a DatasetNFT, or report the token its rows
    already have.

    The rows are written, one canonical JSON line each, to a temporary JSONL file that
    :func:`~modelmint.registry.commit_dataset` commits: the same leaves and root as the rows
    saved with ``save_to_disk`` or written as JSONL, by the one JSONL rule.

    Raises:
        InputError: as :func:`modelmint.datasets.iter_memory_datapoints`.
        ChainError, StoreError: as :func:`~modelmint.registry.commit_dataset`.
    """
    with tempfile.TemporaryDirectory(prefix="modelmint-dataset-") as tmp:
        path = Path(tmp) / "rows.jsonl"
        write_memory_jsonl(data, path, columns)
        return commit_dataset(
            registries, path, name=name or dataset_name(data), description=description, fmt=MEMORY_FORMAT
        )


def dataset_name(data: Any) -> str:
    """A ``datasets`` object's own name (its builder's or info's), else ``in-memory dataset``."""
    info = getattr(data, "info", None)
    if info is None and hasattr(data, "values"):  # a dict of splits: the first split's info
        info = getattr(next(iter(data.values()), None), "info", None)
    for attr in ("dataset_name", "builder_name"):
        value = getattr(info, attr, None)
        if isinstance(value, str) and value and value not in _PACKAGED_BUILDERS:
            return value
    return "in-memory dataset"

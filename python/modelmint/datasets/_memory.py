"""Hugging Face ``datasets`` objects in memory: ``Dataset``, ``DatasetDict``, ``IterableDataset``
and ``IterableDatasetDict``, read as the same datapoints as the rows saved with ``save_to_disk``.

Rows come out of ``datasets`` as Arrow tables (``with_format("arrow")``, which follows any
``select`` or ``shuffle`` the way ``save_to_disk`` does) and are mapped to JSON by the
Parquet reader's code, so a row has the same canonical bytes here, in a saved folder and in
a JSONL line. Splits come in the order :mod:`._hf` gives a saved
``DatasetDict``.

Columns a tokenizer or collator adds during preprocessing (:data:`PREPROCESSING_COLUMNS`)
are not datapoints: they are left out unless named in ``columns``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmint.datasets._digest import DatasetDigest, scheme_of
from modelmint.datasets._hf import split_order
from modelmint.errors import InputError
from modelmint.hashing import sha256

if TYPE_CHECKING:
    import pyarrow as pa

PREPROCESSING_COLUMNS = frozenset(
    {
        "input_ids",
        "attention_mask",
        "token_type_ids",
        "position_ids",
        "special_tokens_mask",
        "offset_mapping",
        "overflow_to_sample_mapping",
        "length",
        "labels",
        "pixel_values",
        "input_features",
        "decoder_input_ids",
        "decoder_attention_mask",
    }
)
"""Columns left out by default: what tokenizers, processors and collators of ``transformers``
add (``labels`` is the causal-LM collator's copy of ``input_ids``; a dataset's own target
column is usually ``label``, which is kept)."""

MEMORY_FORMAT = "jsonl"
"""The format an in-memory dataset is committed as: its rows are JSON objects, one canonical
line each, exactly the JSONL rule (docs/hashing.md)."""

_BATCH = 1024


def is_in_memory_dataset(value: Any) -> bool:
    """Whether ``value`` is a ``datasets`` object this module reads (checked without importing
    ``datasets`` when the caller never did)."""
    import sys

    module = sys.modules.get("datasets")
    if module is None:
        return False
    kinds = (module.Dataset, module.DatasetDict, module.IterableDataset, module.IterableDatasetDict)
    return isinstance(value, kinds)


def iter_memory_datapoints(data: Any, columns: Sequence[str] | None = None) -> Iterator[tuple[str, bytes]]:
    """Yields ``(label, canonical bytes)`` for each row, in dataset order: ``row N`` for a
    dataset, ``<split> row N`` for a dict of splits, N counting from 1 within each split.

    Args:
        data: a ``Dataset``, ``DatasetDict``, ``IterableDataset`` or ``IterableDatasetDict``.
        columns: the columns that make a datapoint, in any order (keys are sorted by the
            canonical form); None for every column but :data:`PREPROCESSING_COLUMNS`.

    Raises:
        InputError: ``data`` is not a ``datasets`` object, a chosen column is missing, no
            column is left, a value has no JSON mapping, or there are no rows.
    """
    # Imported here: pyarrow takes a while to import.
    from modelmint.datasets._parquet import arrow_rows

    empty = True
    for split, part in _splits(data):
        prefix = f"{split} " if split else ""
        where = f"split {split!r} of the dataset" if split else "the dataset"
        row = 0
        for table in _tables(part, columns, where):
            for data_bytes in arrow_rows(table.schema, [table], f"{where} from row {row + 1}"):
                row += 1
                empty = False
                yield f"{prefix}row {row}", data_bytes
    if empty:
        raise InputError("the dataset holds no rows", "a dataset needs at least one datapoint to commit to")


def hash_memory_dataset(data: Any, columns: Sequence[str] | None = None) -> DatasetDigest:
    """The digest of an in-memory dataset: the same hashes, count and Merkle root as the same
    rows written as JSONL (or saved with ``save_to_disk``).

    Raises:
        InputError: as :func:`iter_memory_datapoints`.
    """
    hashes = b"".join(sha256(d) for _, d in iter_memory_datapoints(data, columns))
    return DatasetDigest(
        format=MEMORY_FORMAT, scheme=scheme_of(MEMORY_FORMAT), count=len(hashes) // 32, hashes=hashes
    )


def write_memory_jsonl(data: Any, path: Path, columns: Sequence[str] | None = None) -> int:
    """Writes each row's canonical bytes as one line of a JSONL file; returns the row count.

    Read back as JSONL, the file gives the rows' own bytes again (canonical JSON is a fixed
    point of canonicalisation), so it commits to the same root as ``data``.
    """
    count = 0
    with open(path, "wb") as f:
        for _, data_bytes in iter_memory_datapoints(data, columns):
            f.write(data_bytes + b"\n")
            count += 1
    return count


def committed_columns(
    names: Iterable[str], columns: Sequence[str] | None, where: str = "the dataset"
) -> list[str]:
    """The columns of a table that make its datapoints, in the table's order.

    Raises:
        InputError: a chosen column is not in the table, or no column is left.
    """
    present = list(names)
    if columns is not None:
        missing = [c for c in columns if c not in present]
        if missing:
            raise InputError(
                f"{where} has no column {', '.join(map(repr, missing))} (it has {', '.join(map(repr, present))})",
                "name columns the dataset has, or leave columns out for all but the tokenised ones",
            )
        chosen = [c for c in present if c in set(columns)]
    else:
        chosen = [c for c in present if c not in PREPROCESSING_COLUMNS]
    if not chosen:
        raise InputError(
            f"{where} has only tokenised columns ({', '.join(present)}), which are not datapoints",
            "commit the dataset before tokenising it, or name the columns to commit (columns=[...])",
        )
    return chosen


def _splits(data: Any) -> list[tuple[str, Any]]:
    import datasets

    if isinstance(data, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        if not data:
            raise InputError("the DatasetDict has no splits", "give a DatasetDict with at least one split")
        return [(split, data[split]) for split in split_order(data.keys())]
    if isinstance(data, (datasets.Dataset, datasets.IterableDataset)):
        return [("", data)]
    raise InputError(
        f"a {type(data).__name__} is not a Hugging Face dataset",
        "give a datasets.Dataset, DatasetDict, IterableDataset or IterableDatasetDict, or a dataset path",
    )


def _tables(part: Any, columns: Sequence[str] | None, where: str) -> Iterator[pa.Table]:
    """The rows of one split as Arrow tables of the committed columns (``arrow_rows`` views
    extension types as their storage).

    A streaming dataset may not know its features until it yields rows, so the columns are
    chosen from each table as it comes."""
    for table in part.with_format("arrow").iter(batch_size=_BATCH):
        chosen = committed_columns(table.column_names, columns, where)
        yield table.select(chosen).replace_schema_metadata(None)

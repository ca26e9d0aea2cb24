"""Hugging Face ``datasets`` saved with ``save_to_disk``: each row a JSON object, as Parquet.

A ``Dataset`` folder holds ``state.json``, ``dataset_info.json`` and Arrow stream files; a
``DatasetDict`` folder holds ``dataset_dict.json`` and one such folder per split. Rows are
read with pyarrow alone (the ``datasets`` package is not needed) and mapped to JSON by the
Parquet reader's code, so a row hashes the same whichever of the two formats holds it.
Features are not decoded: a ``ClassLabel`` is its integer, an ``Image`` its stored
``{bytes, path}`` struct, an ``Array2D`` its nested lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmint.datasets._progress import Meter
from modelmint.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

DICT_FILE = "dataset_dict.json"
STATE_FILE = "state.json"
INFO_FILE = "dataset_info.json"

# The names ``datasets`` accepts for splits (``NamedSplit``): word characters, dot-separated.
_SPLIT_NAME = re.compile(r"\w+(\.\w+)*", re.ASCII)


@dataclass(frozen=True)
class ArrowFile:
    """One Arrow stream file of a saved dataset: the split it belongs to ("" for a plain
    ``Dataset``), its location and size."""

    split: str
    path: Path
    size: int


def is_hf_dataset(folder: Path) -> bool:
    """Whether a folder is a saved ``Dataset`` or ``DatasetDict`` (by its marker files)."""
    return (folder / DICT_FILE).is_file() or (
        (folder / STATE_FILE).is_file() and (folder / INFO_FILE).is_file()
    )


def list_arrow_files(root: Path) -> list[ArrowFile]:
    """Returns the dataset's Arrow files in dataset order.

    A ``DatasetDict``'s splits come in the UTF-8 byte order of their names; within a
    split (or a plain ``Dataset``) the files come in the order ``state.json`` lists them,
    which is the order ``datasets.load_from_disk`` concatenates them in.

    Raises:
        InputError: a marker file is missing or malformed, a split or file name would
            leave the folder, or a listed file is missing.
    """
    if (root / DICT_FILE).is_file():
        splits = _read_json(root / DICT_FILE).get("splits")
        if not isinstance(splits, list) or not splits or not all(isinstance(s, str) for s in splits):
            raise InputError(
                f"{root / DICT_FILE} lists no splits", "save the DatasetDict again with save_to_disk"
            )
        if len(set(splits)) != len(splits):
            raise InputError(
                f"{root / DICT_FILE} lists a split twice", "save the DatasetDict again with save_to_disk"
            )
        files: list[ArrowFile] = []
        for split in split_order(splits):
            if not _SPLIT_NAME.fullmatch(split):
                raise InputError(
                    f"{root / DICT_FILE}: {split!r} is not a split name",
                    "name splits with letters, digits, _ and .",
                )
            files += _split_files(root / split, split)
        return files
    return _split_files(root, "")


def split_order(splits: Iterable[str]) -> list[str]:
    """A ``DatasetDict``'s splits in dataset order: the UTF-8 byte order of their names."""
    return sorted(splits, key=lambda s: s.encode("utf-8"))


def read_hf_dataset(root: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("row N", canonical bytes)`` for a ``Dataset``, ``("<split> row N", ...)``
    for a ``DatasetDict``, N counting from 1 within each split.

    Raises:
        InputError: as :func:`list_arrow_files`, or a file is not an Arrow stream, or a
            column or value has no JSON mapping (the Parquet rules).
    """
    files = list_arrow_files(root)
    for split in dict.fromkeys(f.split for f in files):
        prefix = f"{split} " if split else ""
        for row, data in enumerate(_split_rows([f for f in files if f.split == split], meter), 1):
            yield f"{prefix}row {row}", data
    meter.flush()


def _split_rows(files: list[ArrowFile], meter: Meter) -> Iterator[bytes]:
    """The rows of one split: its files' tables, each file mapped with its own schema
    (errors name the file and the row within it)."""
    from modelmint.datasets._parquet import arrow_rows  # pyarrow takes a while to import

    for f in files:
        schema, tables = _open_stream(f, meter)
        yield from arrow_rows(schema, tables, str(f.path))


def _open_stream(f: ArrowFile, meter: Meter) -> tuple[pa.Schema, Iterator[pa.Table]]:
    import pyarrow as pa

    try:
        source = pa.memory_map(str(f.path))
        reader = pa.ipc.open_stream(source)
    except (pa.ArrowException, OSError) as e:
        raise InputError(
            f"{f.path} is not a readable Arrow stream ({e})", "check that the dataset was saved completely"
        ) from None
    schema = reader.schema

    def tables() -> Iterator[pa.Table]:
        reported = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as e:
                raise InputError(
                    f"{f.path} cannot be read ({e})", "check that the file is complete and not corrupt"
                ) from None
            yield pa.Table.from_batches([batch])
            done = source.tell()
            meter(done - reported)
            reported = done
        meter(f.size - reported)

    return schema, tables()


def _split_files(folder: Path, split: str) -> list[ArrowFile]:
    state_path = folder / STATE_FILE
    if not state_path.is_file() or not (folder / INFO_FILE).is_file():
        raise InputError(
            f"{folder} is not a saved Hugging Face dataset (no {STATE_FILE} and {INFO_FILE})",
            "save it with save_to_disk",
        )
    state = _read_json(state_path)
    if state.get("_indices_data_files"):
        raise InputError(
            f"{state_path} keeps an indices mapping", "save the dataset after dataset.flatten_indices()"
        )
    listed = state.get("_data_files")
    if not isinstance(listed, list):  # empty for a dataset of no rows
        raise InputError(
            f"{state_path} has no list of data files", "save the dataset again with save_to_disk"
        )
    files = []
    for item in listed:
        name = item.get("filename") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name or "/" in name or "\\" in name or name in (".", ".."):
            raise InputError(
                f"{state_path}: {name!r} is not a data file name in the folder",
                "save the dataset again with save_to_disk",
            )
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError as e:
            raise InputError(
                f"cannot read {path}, listed in {state_path}: {e.strerror or e}",
                "check that the dataset folder is complete",
            ) from None
        files.append(ArrowFile(split, path, size))
    return files


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    except ValueError as e:
        raise InputError(
            f"{path} is not valid JSON ({e})", "save the dataset again with save_to_disk"
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{path} is not a JSON object", "save the dataset again with save_to_disk")
    return value

"""The dataset digest: every datapoint's SHA-256 in dataset order, by one routine for
committing and for verifying."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

from modelmint.datasets._folder import hash_folder, read_folder
from modelmint.datasets._hf import is_hf_dataset, list_arrow_files
from modelmint.datasets._pieces import Hashed
from modelmint.datasets._progress import Meter
from modelmint.errors import InputError
from modelmint.hashing import MerkleTree, sha256
from modelmint.hashing.files import Progress, list_files

FORMATS = ("jsonl", "csv", "parquet", "folder", "hf-datasets")
"""The dataset formats, named as in scheme ids (``modelmint.<format>.v1``)."""

_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_FOLDER_FORMATS = ("folder", "hf-datasets")

Reader = Callable[[Path, Meter], Iterator[tuple[str, bytes]]]


@dataclass(frozen=True)
class DatasetDigest:
    """The hashes that commit to a dataset.

    Attributes:
        format: one of :data:`FORMATS`.
        scheme: the id of the datapoint hashing rule, ``modelmint.<format>.v1``.
        count: the number of datapoints.
        hashes: the datapoints' SHA-256 in dataset order, ``count * 32`` bytes; this is
            also the leaf list file.
        shards: for a dataset of several shard files, each shard's name and datapoint
            count in dataset order; empty otherwise.
    """

    format: str
    scheme: str
    count: int
    hashes: bytes
    shards: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.count < 1 or len(self.hashes) != 32 * self.count:
            raise ValueError(f"a digest of {self.count} datapoints holds {32 * self.count} bytes of hashes")

    def hash_at(self, position: int) -> bytes:
        """Returns the SHA-256 of the datapoint at a dataset position (from 0)."""
        return self.hashes[32 * position : 32 * position + 32]

    def tree(self) -> MerkleTree:
        """Builds the dataset's Merkle tree."""
        return MerkleTree.build(self.hashes)


def scheme_of(fmt: str) -> str:
    """Returns the scheme id of a format's datapoint hashing rule."""
    return f"modelmint.{fmt}.v1"


def detect_format(path: str | os.PathLike[str]) -> str:
    """Returns the format of a dataset: ``hf-datasets`` for a folder saved by Hugging Face
    ``save_to_disk``, ``folder`` for any other directory, else by extension.

    Raises:
        InputError: the path does not exist or cannot be read, or its extension is not
            one of .jsonl/.ndjson/.jsonlines, .csv, .parquet/.pq.
    """
    p = Path(path)
    if _is_dir(p):
        return "hf-datasets" if is_hf_dataset(p) else "folder"
    fmt = _SUFFIXES.get(p.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the dataset format of {p} from its extension",
            "name it .jsonl, .csv or .parquet, or give the format (jsonl, csv, parquet) explicitly",
        )
    return fmt


def input_size(path: str | os.PathLike[str], fmt: str | None = None) -> int:
    """Returns the bytes a progress callback receives in total while the dataset is read."""
    p, fmt = _resolve(path, fmt)
    if fmt == "folder":
        return sum(f.size for f in list_files(p))
    if fmt == "hf-datasets":
        return sum(f.size for f in list_arrow_files(p))
    return p.stat().st_size


def iter_datapoints(
    path: str | os.PathLike[str], fmt: str | None = None, progress: Progress | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yields ``(label, canonical bytes)`` for each datapoint, in dataset order.

    ``label`` names the datapoint in messages: ``line 12`` (JSONL), ``row 4`` (CSV,
    Parquet), ``images/cat.png`` (folder). The path and format are checked before the
    first datapoint is read; the dataset's content as it is read.

    Raises:
        InputError: the path is missing or unreadable, the format does not fit it, a
            datapoint breaks its format's rules, or there are no datapoints.
    """
    p, fmt = _resolve(path, fmt)
    return _non_empty(p, _reader(fmt)(p, Meter(progress)))


def iter_datapoint_hashes(
    path: str | os.PathLike[str], fmt: str | None = None, progress: Progress | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yields ``(label, SHA-256)`` for each datapoint, in dataset order.

    The routine for both committing (:func:`hash_dataset`) and verifying a dataset.

    Raises:
        InputError: as :func:`iter_datapoints`.
    """
    p, fmt = _resolve(path, fmt)
    return _non_empty(p, _labelled(_hash_blocks(p, fmt, Meter(progress))))


def iter_hash_blocks(
    path: str | os.PathLike[str], fmt: str | None = None, progress: Progress | None = None
) -> Iterator[bytes]:
    """Yields the datapoints' SHA-256 in dataset order, 32 bytes each, in blocks of any size.

    The same hashes as :func:`iter_datapoint_hashes`, without naming each datapoint: the
    quicker way to hash a large dataset. Checks as :func:`iter_datapoints`, except that an
    empty dataset yields nothing.
    """
    p, fmt = _resolve(path, fmt)
    return (block.hashes for block in _hash_blocks(p, fmt, Meter(progress)))


def hash_dataset(
    path: str | os.PathLike[str], fmt: str | None = None, progress: Progress | None = None
) -> DatasetDigest:
    """Hashes every datapoint of a dataset, on every core.

    Memory is the digest's 32 bytes a datapoint and a few MiB a core, whatever the size of
    the dataset.

    Args:
        path: a .jsonl, .csv or .parquet file, or a folder.
        fmt: one of :data:`FORMATS`; detected from the path when None. ``folder`` with a
            file path reads that file as a one-datapoint folder dataset.
        progress: called in this thread with the input bytes consumed, every MiB or few
            MiB; the calls sum to :func:`input_size`.

    Raises:
        InputError: as :func:`iter_datapoints`.
    """
    p, fmt = _resolve(path, fmt)
    # The hashes wait on disk, not in memory, until they are read back as one bytes object:
    # 32 bytes a datapoint at the peak, never twice that.
    with tempfile.TemporaryFile() as spill:
        for block in iter_hash_blocks(p, fmt, progress):
            spill.write(block)
        if spill.tell() == 0:
            raise _no_datapoints(p)
        spill.seek(0)
        hashes = spill.read()
    return DatasetDigest(format=fmt, scheme=scheme_of(fmt), count=len(hashes) // 32, hashes=hashes)


def _resolve(path: str | os.PathLike[str], fmt: str | None) -> tuple[Path, str]:
    p = Path(path)
    if fmt is None:
        return p, detect_format(p)
    if fmt not in FORMATS:
        raise InputError(f"unknown dataset format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    # A single file may be read as a one-file folder dataset, to check it against one.
    is_dir = _is_dir(p)
    if is_dir and fmt not in _FOLDER_FORMATS:
        raise InputError(
            f"{p} is a folder, not a {fmt} dataset", "give the format that fits the path, or leave it out"
        )
    if not is_dir and fmt == "hf-datasets":
        raise InputError(
            f"{p} is a file, not a {fmt} dataset (a folder)", "give the folder save_to_disk wrote"
        )
    return p, fmt


def _is_dir(p: Path) -> bool:
    """Whether the dataset path is a folder; raises InputError unless it is a folder or
    a regular file (the path itself may be a symbolic link)."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{p} does not exist", "check the path") from None
    except OSError as e:
        raise InputError(
            f"cannot read {p}: {e.strerror or e}", "check the path and its permissions"
        ) from None
    if stat.S_ISDIR(mode):
        return True
    if not stat.S_ISREG(mode):
        raise InputError(f"{p} is neither a regular file nor a folder", "give a dataset file or folder")
    return False


def _reader(fmt: str) -> Reader:
    if fmt == "jsonl":
        from modelmint.datasets._jsonl import read_jsonl

        return read_jsonl
    if fmt == "csv":
        from modelmint.datasets._csv import read_csv

        return read_csv
    if fmt == "parquet":
        from modelmint.datasets._parquet import read_parquet  # pyarrow takes a while to import

        return read_parquet
    if fmt == "hf-datasets":
        from modelmint.datasets._hf import read_hf_dataset

        return read_hf_dataset
    return read_folder


def _hash_blocks(p: Path, fmt: str, meter: Meter) -> Iterator[Hashed]:
    """The datapoints' hashes: on every core for the formats that split (JSONL, CSV and
    Parquet files in worker processes, folders in threads), else hashed here as the
    format's reader yields them."""
    if fmt == "jsonl":
        from modelmint.datasets._jsonl import hash_jsonl

        return hash_jsonl(p, meter)
    if fmt == "csv":
        from modelmint.datasets._csv import hash_csv

        return hash_csv(p, meter)
    if fmt == "parquet":
        from modelmint.datasets._parquet import hash_parquet

        return hash_parquet(p, meter)
    if fmt == "folder":
        return hash_folder(p, meter)
    return _hash_each(_reader(fmt)(p, meter))


def _hash_each(datapoints: Iterator[tuple[str, bytes]], batch: int = 4096) -> Iterator[Hashed]:
    while chunk := list(islice(datapoints, batch)):
        labels = [label for label, _ in chunk]
        yield Hashed(b"".join(sha256(data) for _, data in chunk), partial(iter, labels))


def _labelled(blocks: Iterator[Hashed]) -> Iterator[tuple[str, bytes]]:
    for block in blocks:
        hashes = block.hashes
        for start, label in enumerate(block.labels()):
            yield label, hashes[32 * start : 32 * start + 32]


def _no_datapoints(p: Path) -> InputError:
    return InputError(f"{p} holds no datapoints", "a dataset needs at least one datapoint to commit to")


def _non_empty(p: Path, items: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:
        raise _no_datapoints(p)

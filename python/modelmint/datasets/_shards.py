"""A dataset spread over several files of one format, committed as one tree.

Shards are ordered by a rule that depends only on their names, never on the order they
were given in (a shell's glob order depends on the locale): the shard index of names like
``train-00003-of-00010.parquet`` counts as a number, everything else as UTF-8 bytes.
Datapoints are the shards' datapoints concatenated in that order; each keeps the bytes its
format gives it, so any one shard verifies against the dataset on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from modelmint.datasets._digest import (
    DatasetDigest,
    detect_format,
    hash_dataset,
    input_size,
    iter_datapoint_hashes,
)
from modelmint.errors import InputError
from modelmint.hashing.files import Progress

SHARD_SCHEME = "modelmint.shards.v1"
SHARD_FORMATS = ("jsonl", "csv", "parquet")

_MARK = re.compile(r"-(\d+)-of-\d+")


@dataclass(frozen=True)
class Shard:
    """One shard: its name (path relative to the shards' common folder, ``/``-separated)
    and its location."""

    name: str
    path: Path


def shard_order_key(name: str) -> tuple[bytes, int, bytes]:
    """The sort key of a shard name: (the name without its shard index, the index, the name).

    The shard index is the number ``i`` of the last ``-i-of-n`` in the name; a name
    without one has index -1. Text compares as UTF-8 bytes.
    """
    marks = list(_MARK.finditer(name))
    if not marks:
        return name.encode("utf-8"), -1, name.encode("utf-8")
    start, end = marks[-1].span(1)
    return (name[:start] + name[end:]).encode("utf-8"), int(name[start:end]), name.encode("utf-8")


def order_shards(paths: Sequence[str | os.PathLike[str]], fmt: str | None = None) -> tuple[str, list[Shard]]:
    """Returns the shards' common format and the shards in dataset order.

    Raises:
        InputError: no path is given, a path is missing, is a folder or is given twice,
            a name is not valid UTF-8, or the shards are not all of one row format
            (JSONL, CSV or Parquet).
    """
    if not paths:
        raise InputError("no shard files given", "give the dataset's shard files")
    formats: dict[str, None] = {}
    for p in paths:
        shard_format = detect_format(p) if fmt is None else fmt
        if shard_format not in SHARD_FORMATS:
            raise InputError(
                f"{p} is a {shard_format} dataset, which cannot be a shard",
                "give JSONL, CSV or Parquet files",
            )
        formats.setdefault(shard_format)
    if len(formats) != 1:
        raise InputError(
            f"shards must share one format, got {', '.join(formats)}", "give shards of one format"
        )
    (shard_format,) = formats
    absolute = [Path(os.path.abspath(p)) for p in paths]
    common = Path(os.path.commonpath([p.parent for p in absolute]))
    shards: dict[str, Shard] = {}
    for given, path in zip(paths, absolute, strict=True):
        name = path.relative_to(common).as_posix()
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                f"the shard name {name!r} is not valid UTF-8", "rename the file; shards are ordered by name"
            ) from None
        if name in shards or any(_same_file(path, s.path) for s in shards.values()):
            raise InputError(f"shard {given} is given twice", "give each shard once")
        shards[name] = Shard(name, path)
    return shard_format, sorted(shards.values(), key=lambda s: shard_order_key(s.name))


def iter_shard_hashes(
    paths: Sequence[str | os.PathLike[str]], fmt: str | None = None, progress: Progress | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yields ``("<shard name> <label>", SHA-256)`` for each datapoint of every shard, in
    dataset order.

    Raises:
        InputError: as :func:`order_shards`, or as the shard format's reader; a shard
            without datapoints is refused like a dataset without any.
    """
    shard_format, shards = order_shards(paths, fmt)
    return _labelled(shard_format, shards, progress)


def hash_shards(
    paths: Sequence[str | os.PathLike[str]], fmt: str | None = None, progress: Progress | None = None
) -> DatasetDigest:
    """Hashes a dataset of several shard files as one dataset.

    Args:
        paths: the shard files, in any order.
        fmt: jsonl, csv or parquet; detected from the extensions when None.
        progress: as for :func:`~modelmint.datasets.hash_dataset`; the calls sum to
            :func:`shards_input_size`.

    Raises:
        InputError: as :func:`iter_shard_hashes`.
    """
    shard_format, shards = order_shards(paths, fmt)
    digests = [hash_dataset(shard.path, shard_format, progress) for shard in shards]
    hashes = b"".join(d.hashes for d in digests)
    counts = tuple((shard.name, d.count) for shard, d in zip(shards, digests, strict=True))
    return DatasetDigest(
        format=shard_format, scheme=SHARD_SCHEME, count=len(hashes) // 32, hashes=hashes, shards=counts
    )


def shards_input_size(paths: Sequence[str | os.PathLike[str]], fmt: str | None = None) -> int:
    """Returns the bytes a progress callback receives in total while the shards are read."""
    shard_format, shards = order_shards(paths, fmt)
    return sum(input_size(s.path, shard_format) for s in shards)


def _labelled(
    shard_format: str, shards: list[Shard], progress: Progress | None
) -> Iterator[tuple[str, bytes]]:
    for shard in shards:
        for label, h in iter_datapoint_hashes(shard.path, shard_format, progress):
            yield f"{shard.name} {label}", h


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False

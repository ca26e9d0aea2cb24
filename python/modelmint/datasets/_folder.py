"""A folder of files: every regular file is one datapoint, its raw bytes.

Order is the relative POSIX path sorted by its UTF-8 bytes. Symbolic links and special
files inside the folder are refused: a link's target can lie outside the dataset or change
after the commitment, so hashing through it would commit to something the folder does not
hold. Hidden files count like any other; empty folders contribute nothing. A single
regular file given as a folder dataset is a dataset of that one file, which is how one file
is checked against a folder dataset.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modelmint.datasets._progress import Meter
from modelmint.errors import InputError
from modelmint.hashing import sha256_file


@dataclass(frozen=True)
class FolderFile:
    """A regular file of a dataset folder: its relative POSIX path, location and size."""

    name: str
    path: Path
    size: int


def list_files(root: Path) -> list[FolderFile]:
    """Returns the folder's regular files, in dataset order (``root`` itself if a file).

    Raises:
        InputError: a folder cannot be listed, or an entry is a symbolic link, a special
            file, or has a name that is not valid UTF-8.
    """
    if root.is_file():
        return [FolderFile(root.name, root, root.stat().st_size)]
    found: list[tuple[bytes, FolderFile]] = []
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError as e:
            raise InputError(f"cannot list {directory}: {e.strerror or e}", "check that the folder is readable") from None
        for entry in listed:
            name = prefix + entry.name
            try:
                key = name.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    f"{root}: the name {name!r} is not valid UTF-8", "rename the file; datapoints are ordered by UTF-8 names"
                ) from None
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as e:
                raise InputError(f"cannot read {entry.path}: {e.strerror or e}", "check that the file is readable") from None
            if stat.S_ISLNK(info.st_mode):
                raise InputError(
                    f"{root}: {name} is a symbolic link, and links are not hashed",
                    "replace the link with a copy of its target, or move it out of the folder",
                )
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), name + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((key, FolderFile(name, Path(entry.path), info.st_size)))
            else:
                raise InputError(
                    f"{root}: {name} is not a regular file (a pipe, socket or device)", "move it out of the folder"
                )
    found.sort(key=lambda item: item[0])
    return [f for _, f in found]


def read_folder(root: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``(relative path, file bytes)`` for each file, in dataset order."""
    for f in list_files(root):
        try:
            data = f.path.read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {f.path}: {e.strerror or e}", "check that the file is readable") from None
        meter(len(data))
        yield f.name, data
    meter.flush()


def hash_folder(root: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``(relative path, SHA-256 of the file)`` in dataset order, streaming each file."""
    for f in list_files(root):
        yield f.name, sha256_file(f.path, meter)
    meter.flush()

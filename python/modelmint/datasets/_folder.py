"""A folder of files: every regular file is one datapoint, its raw bytes.

Order is the relative POSIX path sorted by its UTF-8 bytes. Symbolic links and special
files inside the folder are refused: a link's target can lie outside the dataset or change
after the commitment, so hashing through it would commit to something the folder does not
hold. Hidden files count like any other; empty folders contribute nothing. A single
regular file given as a folder dataset is a dataset of that one file, which is how one file
is checked against a folder dataset.

Files are hashed by one thread a core (hashlib releases the GIL while it hashes), in
order. Each file must keep the state it was listed in until it is hashed, and the folder
must list the same files in the same states afterwards, or the dataset is refused.
"""

from __future__ import annotations

import os
import queue
import stat
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

from modelmint.datasets._pieces import FileState, Hashed, changed_error, check_unchanged, cores
from modelmint.datasets._progress import Meter
from modelmint.errors import InputError
from modelmint.hashing.canonical import sha256_stream

_BLOCK = 256  # files per block of hashes handed on


@dataclass(frozen=True)
class FolderFile:
    """A regular file of a dataset folder: its relative POSIX path, location, size and
    state when listed."""

    name: str
    path: Path
    size: int
    state: FileState


def list_files(root: Path) -> list[FolderFile]:
    """Returns the folder's regular files, in dataset order (``root`` itself if a file).

    Raises:
        InputError: a folder cannot be listed, or an entry is a symbolic link, a special
            file, or has a name that is not valid UTF-8.
    """
    if root.is_file():
        st = root.stat()
        return [FolderFile(root.name, root, st.st_size, FileState.of(st))]
    found: list[tuple[bytes, FolderFile]] = []
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError as e:
            raise InputError(
                f"cannot list {directory}: {e.strerror or e}", "check that the folder is readable"
            ) from None
        for entry in listed:
            name = prefix + entry.name
            try:
                key = name.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    f"{root}: the name {name!r} is not valid UTF-8",
                    "rename the file; datapoints are ordered by UTF-8 names",
                ) from None
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError as e:
                raise InputError(
                    f"cannot read {entry.path}: {e.strerror or e}", "check that the file is readable"
                ) from None
            if stat.S_ISLNK(info.st_mode):
                raise InputError(
                    f"{root}: {name} is a symbolic link, and links are not hashed",
                    "replace the link with a copy of its target, or move it out of the folder",
                )
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), name + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((key, FolderFile(name, Path(entry.path), info.st_size, FileState.of(info))))
            else:
                raise InputError(
                    f"{root}: {name} is not a regular file (a pipe, socket or device)",
                    "move it out of the folder",
                )
    found.sort(key=lambda item: item[0])
    return [f for _, f in found]


def read_folder(root: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``(relative path, file bytes)`` for each file, in dataset order.

    Raises:
        InputError: as :func:`list_files`, or a file changes while it is read.
    """
    files = list_files(root)
    for f in files:
        try:
            with open(f.path, "rb") as stream:
                _check_open(f, stream)
                data = stream.read()
                _check_open(f, stream)
        except FileNotFoundError:
            raise changed_error(f.path) from None  # listed, and gone
        except OSError as e:
            raise InputError(
                f"cannot read {f.path}: {e.strerror or e}", "check that the file is readable"
            ) from None
        if len(data) != f.size:
            raise changed_error(f.path)
        check_unchanged(f.path, f.state, follow_symlinks=f.path != root)
        meter(len(data))
        yield f.name, data
    _check_listing(root, files)
    meter.flush()


def hash_folder(root: Path, meter: Meter, workers: int | None = None) -> Iterator[Hashed]:
    """Yields the SHA-256 of every file in dataset order, hashing ``workers`` files at a time
    (one a core by default), each streamed in 1 MiB reads.

    Raises:
        InputError: as :func:`read_folder`.
    """
    files = list_files(root)
    done: list[tuple[str, bytes]] = []
    for f, digest in _hash_in_order(root, files, meter, workers or cores()):
        done.append((f.name, digest))
        if len(done) == _BLOCK:
            yield _block(done)
            done = []
    if done:
        yield _block(done)
    _check_listing(root, files)
    meter.flush()


def hash_file(root: Path, f: FolderFile, progress: Callable[[int], None] | None = None) -> bytes:
    """Returns the SHA-256 of a listed file, which must keep its listed state throughout.

    Raises:
        InputError: the file cannot be read, or it changed since it was listed.
    """
    try:
        with open(f.path, "rb") as stream:
            _check_open(f, stream)
            digest, size = sha256_stream(stream, progress)
            _check_open(f, stream)
    except FileNotFoundError:
        raise changed_error(f.path) from None  # listed, and gone
    except OSError as e:
        raise InputError(
            f"cannot read {f.path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if size != f.size:
        raise changed_error(f.path)
    check_unchanged(f.path, f.state, follow_symlinks=f.path != root)  # not replaced by another file
    return digest


def _hash_in_order(
    root: Path, files: list[FolderFile], meter: Meter, workers: int
) -> Iterator[tuple[FolderFile, bytes]]:
    """Yields ``(file, SHA-256)`` in the files' order, hashing up to ``workers`` at once.

    Progress is reported from this thread: the hashing threads post the bytes they read
    to a queue, and a file's completion posts None, which wakes this thread to hand on
    the next file in order.
    """
    if workers < 2 or len(files) < 2:
        for f in files:
            yield f, hash_file(root, f, meter)
        return
    events: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    with ThreadPoolExecutor(workers, thread_name_prefix="modelmint-hash") as pool:

        def submit(f: FolderFile) -> tuple[FolderFile, Future[bytes]]:
            future = pool.submit(hash_file, root, f, events.put)
            future.add_done_callback(lambda _: events.put(None))
            return f, future

        pending = iter(files)
        window = deque(submit(f) for f in islice(pending, 2 * workers))
        try:
            while window:
                f, future = window[0]
                while not future.done():
                    if n := events.get():
                        meter(n)
                window.popleft()
                window.extend(submit(nxt) for nxt in islice(pending, 1))
                yield f, future.result()
            while not events.empty():
                if n := events.get():
                    meter(n)
        finally:
            for _, future in window:
                future.cancel()


def _check_open(f: FolderFile, stream: object) -> None:
    if FileState.of(os.fstat(stream.fileno())) != f.state:  # type: ignore[attr-defined]
        raise changed_error(f.path)


def _check_listing(root: Path, files: list[FolderFile]) -> None:
    """Raises InputError if the folder now lists other files, or files in other states."""
    if list_files(root) != files:
        raise changed_error(root)


def _block(done: list[tuple[str, bytes]]) -> Hashed:
    return Hashed(b"".join(digest for _, digest in done), partial(iter, [name for name, _ in done]))

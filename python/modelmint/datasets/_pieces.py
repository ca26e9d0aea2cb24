"""Hashing a dataset on every core, in dataset order, with memory that does not grow with it.

A dataset file is cut into pieces of about :data:`PIECE_BYTES` that start a line (or row
groups, for Parquet). Worker processes hash the pieces, each opening the file and reading
its own part, so only hashes travel between processes; the caller receives the pieces'
results in file order, a few pieces ahead at most. A piece knows nothing of the pieces
before it, so it numbers lines and rows from 1 and the caller adds what came before. When
a piece fails, the caller reads it again itself, where it knows the true numbers, so an
error reads exactly as it would had the file been read from start to end in one go.

A commitment is to one content. A dataset that changes while it is hashed (a writer
appending, a file replaced) would be committed as a mix of old and new bytes, so the state
of every file (device, inode, size, modification and change times) is taken before hashing
and compared after, and any difference refuses the dataset.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from modelmint.datasets._frames import read_frame, write_frame
from modelmint.errors import InputError
from modelmint.hashing.files import FileState, changed_error, cores

#: The size of a piece: big enough that a piece's overhead (a task, a result) is noise,
#: small enough that the pieces in flight take little memory and progress moves often.
PIECE_BYTES = 4 << 20

#: The smallest file hashed by worker processes: below it, starting them (a Python
#: interpreter each, about 0.15 s) costs more than they save.
PARALLEL_BYTES = 16 << 20

T = TypeVar("T")


def workers_for(size: int) -> int:
    """The number of worker processes worth starting to hash ``size`` bytes."""
    return cores() if size >= PARALLEL_BYTES else 1


def file_state(path: Path, *, follow_symlinks: bool = True) -> FileState:
    """Returns a file's state.

    Raises:
        InputError: the file cannot be read.
    """
    try:
        return FileState.of(os.stat(path, follow_symlinks=follow_symlinks))
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file exists and is readable"
        ) from None


def check_unchanged(path: Path, before: FileState, *, follow_symlinks: bool = True) -> None:
    """Raises InputError if the file at ``path`` is no longer in state ``before``."""
    try:
        now = FileState.of(os.stat(path, follow_symlinks=follow_symlinks))
    except OSError:
        raise changed_error(path) from None
    if now != before:
        raise changed_error(path)


def read_range(path: Path | str, state: FileState, start: int, end: int) -> bytes:
    """Returns bytes ``start .. end - 1`` of the file, which must still be the one in ``state``.

    Raises:
        InputError: the file cannot be read, or it is another file now (replaced), or it
            is shorter than the range (truncated).
    """
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if (st.st_dev, st.st_ino) != (state.device, state.inode):
                raise changed_error(path)
            f.seek(start)
            data = f.read(end - start)
    except FileNotFoundError:
        raise changed_error(path) from None  # there when hashing started, and gone
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if len(data) != end - start:
        raise changed_error(path)
    return data


def line_ranges(path: Path, start: int, size: int, piece_bytes: int | None = None) -> list[tuple[int, int]]:
    """Cuts bytes ``start .. size - 1`` of a file into ranges of about ``piece_bytes`` that
    each end just after a line feed (the last ends at ``size``)."""
    piece_bytes = piece_bytes or PIECE_BYTES
    ranges: list[tuple[int, int]] = []
    try:
        with open(path, "rb") as f:
            while start < size:
                end = size
                if start + piece_bytes < size:
                    f.seek(start + piece_bytes - 1)
                    while block := f.read(1 << 16):
                        newline = block.find(b"\n")
                        if newline >= 0:
                            end = min(size, f.tell() - len(block) + newline + 1)
                            break
                ranges.append((start, end))
                start = end
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    return ranges


def run_in_order(
    work: Callable[..., T], tasks: list[tuple[Any, ...]], workers: int | None = None, *, threads: bool = False
) -> Iterator[T | None]:
    """Yields ``work(*task)`` for each task, in order; None where it raised InputError.

    With more than one task and core, the tasks run in worker processes (``work`` and the
    tasks must pickle), up to two a worker ahead of the one being yielded; otherwise they
    run here, one at a time as they are consumed. ``threads`` runs them in threads of this
    process instead, for work that releases the GIL (C code, file reads): no interpreter
    to start and nothing to pickle.
    """
    workers = min(workers or cores(), len(tasks))
    if workers >= 2 and threads:
        yield from _in_threads(work, tasks, workers)
        return
    if workers < 2 or not sys.executable:
        for task in tasks:
            yield attempt(work, task)
        return
    with _WorkerProcesses(workers) as pool:
        yield from pool.run(work, tasks)


def _in_threads(work: Callable[..., T], tasks: list[tuple[Any, ...]], workers: int) -> Iterator[T | None]:
    pool = ThreadPoolExecutor(workers, thread_name_prefix="modelmint-hash")
    try:
        pending: deque[Future[T | None]] = deque()
        queued = iter(tasks)
        for task in islice(queued, 2 * workers):
            pending.append(pool.submit(attempt, work, task))
        while pending:
            result = pending.popleft().result()
            for task in islice(queued, 1):
                pending.append(pool.submit(attempt, work, task))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def attempt(work: Callable[..., T], task: tuple[Any, ...]) -> T | None:
    """``work(*task)``, or None if it raised InputError (the caller runs the task again
    where it knows the numbers that go in the message)."""
    try:
        return work(*task)
    except InputError:
        return None


class _WorkerProcesses:
    """Python processes running ``python -m modelmint.datasets._worker``, which run the
    tasks sent to them in turn (length-prefixed pickles over their stdin and stdout).

    Fresh interpreters rather than ``multiprocessing``: forking would copy whatever locks
    the caller's other threads hold, and its spawn and forkserver methods import the
    caller's ``__main__`` again, which runs an unguarded script a second time. Task ``i``
    goes to worker ``i mod n``, so results are read back in order without bookkeeping.
    """

    def __init__(self, count: int) -> None:
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding modelmint/
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self._processes = [
            subprocess.Popen(
                [sys.executable, "-m", "modelmint.datasets._worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path},
            )
            for _ in range(count)
        ]

    def __enter__(self) -> _WorkerProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._processes:
            with contextlib.suppress(OSError):
                process.stdin.close()  # type: ignore[union-attr]
        for process in self._processes:
            try:
                process.wait(timeout=0 if exc[0] is not None else 5)
            except subprocess.TimeoutExpired:
                process.kill()  # abandoned mid-task: no need to let it finish
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]

    def run(self, work: Callable[..., T], tasks: list[tuple[Any, ...]]) -> Iterator[T | None]:
        count = len(self._processes)
        sent = 0
        for index in range(len(tasks)):
            while sent < min(len(tasks), index + 2 * count):
                self._send(self._processes[sent % count], (work, tasks[sent]))
                sent += 1
            yield self._receive(self._processes[index % count])

    @staticmethod
    def _send(process: subprocess.Popen[bytes], message: object) -> None:
        try:
            write_frame(process.stdin, message)  # type: ignore[arg-type]
        except OSError:
            raise RuntimeError(f"a hashing worker process stopped (exit code {process.poll()})") from None

    @staticmethod
    def _receive(process: subprocess.Popen[bytes]) -> Any:
        received, result = read_frame(process.stdout)  # type: ignore[arg-type]
        if not received:
            raise RuntimeError(f"a hashing worker process stopped (exit code {process.wait()})")
        status, value = result
        if status == "bug":
            raise RuntimeError(f"a hashing worker process failed:\n{value}")
        return value


@dataclass(frozen=True)
class Hashed:
    """The SHA-256 of consecutive datapoints, 32 bytes each, and their labels on demand
    (naming a million datapoints costs time that committing does not need)."""

    hashes: bytes
    labels: Callable[[], Iterator[str]]

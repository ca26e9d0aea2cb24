"""A folder of files: every regular file is one datapoint, its raw bytes.

Order is the relative POSIX path sorted by its UTF-8 bytes. Symbolic links and special
files inside the folder are refused: a link's target can lie outside the dataset or change
after the commitment, so hashing through it would commit to something the folder does not
hold. Hidden files count like any other; empty folders contribute nothing. A single
regular file given as a folder dataset is a dataset of that one file, which is how one file
is checked against a folder dataset.

Files are hashed by one thread a core (hashlib releases the GIL while it hashes), in
order. Each file must keep the state it was listed in until it is hashed, and the folder
must list the same files in the same states afterwards, or the dataset is refused. The
walker and the change check are :mod:`modelmint.hashing.files`'s, shared with model folders.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from itertools import islice
from pathlib import Path

from modelmint.datasets._pieces import Hashed
from modelmint.datasets._progress import Meter
from modelmint.hashing.files import (
    ListedFile,
    check_listing,
    cores,
    hash_listed_file,
    list_files,
    read_listed_file,
)

_BLOCK = 256  # files per block of hashes handed on


def read_folder(root: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``(relative path, file bytes)`` for each file, in dataset order.

    Raises:
        InputError: as :func:`~modelmint.hashing.files.list_files`, or a file changes while
            it is read.
    """
    files = list_files(root)
    for f in files:
        data = read_listed_file(root, f)
        meter(len(data))
        yield f.name, data
    check_listing(root, files)
    meter.flush()


def hash_folder(root: Path, meter: Meter, workers: int | None = None) -> Iterator[Hashed]:
    """Yields the SHA-256 of every file in dataset order, hashing ``workers`` files at a time
    (one a core by default), each streamed through one buffer.

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
    check_listing(root, files)
    meter.flush()


def _hash_in_order(
    root: Path, files: list[ListedFile], meter: Meter, workers: int
) -> Iterator[tuple[ListedFile, bytes]]:
    """Yields ``(file, SHA-256)`` in the files' order, hashing up to ``workers`` at once.

    Progress is reported from this thread: the hashing threads post the bytes they read
    to a queue, and a file's completion posts None, which wakes this thread to hand on
    the next file in order.
    """
    if workers < 2 or len(files) < 2:
        for f in files:
            yield f, hash_listed_file(root, f, meter)
        return
    events: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    with ThreadPoolExecutor(workers, thread_name_prefix="modelmint-hash") as pool:

        def submit(f: ListedFile) -> tuple[ListedFile, Future[bytes]]:
            future = pool.submit(hash_listed_file, root, f, events.put)
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


def _block(done: list[tuple[str, bytes]]) -> Hashed:
    return Hashed(b"".join(digest for _, digest in done), partial(iter, [name for name, _ in done]))

"""Listing a model's files and hashing them: streamed, several files at once, checked for changes.

Rules (docs/hashing.md, "Model weights manifest"): every regular file under the folder is in
the manifest except version-control and download bookkeeping (:data:`IGNORED`); symbolic
links are refused unless the caller opts in to hashing their targets; a file or folder that
changes while it is hashed is refused, because the manifest would describe no state the
folder was ever in. The walker and the change check are :mod:`modelmint.hashing.files`'s,
shared with folder datasets.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from modelmint.hashing.files import ListedFile, Progress, check_listing, cores, hash_listed_file
from modelmint.hashing.files import list_files as _list_files
from modelmint.models._manifest import ManifestEntry

#: Names skipped at any depth: git's own files (a Hub repo always has ``.gitattributes``) and
#: ``.cache`` (``huggingface_hub`` download state, rewritten by every download).
IGNORED = frozenset({".git", ".gitattributes", ".gitignore", ".cache"})

_LINK_FIX = (
    "hash the files they point to with follow_symlinks (a Hugging Face cache snapshot is links), "
    "or copy the model with `cp -rL`"
)
_LINK_HINT = "follow-symlinks"


def list_files(root: Path, *, follow_symlinks: bool = False) -> list[ListedFile]:
    """The files of a model folder in manifest order (``root`` itself if it is a file).

    Raises:
        InputError: an entry is a symbolic link (and ``follow_symlinks`` is off, or it points
            at a folder or a special file), a special file, has a name that is not UTF-8,
            or cannot be read.
    """
    return _list_files(
        Path(root), skip=IGNORED, follow_symlinks=follow_symlinks, link_fix=_LINK_FIX, link_hint=_LINK_HINT
    )


def hash_files(
    root: Path,
    files: list[ListedFile],
    *,
    follow_symlinks: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[ManifestEntry]:
    """SHA-256 of every file, several files at a time, then a check that nothing changed.

    Each file is streamed through one buffer per thread, so memory stays flat for any
    model size; ``hashlib`` and file reads release the GIL, so threads run in parallel.
    The largest files start first, which keeps the threads busy to the end.

    Args:
        root: the folder (or file) ``files`` were listed from, listed again at the end.
        files: from :func:`list_files`.
        progress: called with the number of bytes just hashed, from worker threads, one
            call at a time.
        workers: threads [default: the cores this process may run on].

    Raises:
        InputError: a file cannot be read, or the folder changed while it was hashed.
    """
    root = Path(root)
    stop = threading.Event()
    lock = threading.Lock()

    def report(n: int) -> None:
        with lock:
            progress(n)  # type: ignore[misc]

    def one(f: ListedFile) -> ManifestEntry:
        return ManifestEntry(f.name, hash_listed_file(root, f, report if progress else None, stop), f.size)

    count = max(1, min(len(files), workers or cores()))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="modelmint-hash") as pool:
        futures = [pool.submit(one, f) for f in sorted(files, key=lambda f: -f.size)]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and f.exception() is not None), None)
        if failed is not None:
            stop.set()
            for f in futures:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]
    entries = {e.path: e for e in (f.result() for f in futures)}
    check_listing(
        root, files, skip=IGNORED, follow_symlinks=follow_symlinks, link_fix=_LINK_FIX, link_hint=_LINK_HINT
    )
    return [entries[f.name] for f in files]

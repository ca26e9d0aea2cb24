"""Listing a model's files and hashing them: streamed, several files at once, checked for changes.

Rules (docs/hashing.md, "Model weights manifest"): every regular file under the folder is in
the manifest except version-control and download bookkeeping (:data:`IGNORED`); symbolic
links are refused unless the caller opts in to hashing their targets; a file or folder that
changes while it is hashed is refused, because the manifest would describe no state the
folder was ever in.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from modelmint.errors import InputError
from modelmint.models._manifest import ManifestEntry

#: Names skipped at any depth: git's own files (a Hub repo always has ``.gitattributes``) and
#: ``.cache`` (``huggingface_hub`` download state, rewritten by every download).
IGNORED = frozenset({".git", ".gitattributes", ".gitignore", ".cache"})

_CHUNK = 4 << 20

Progress = Callable[[int], None]


@dataclass(frozen=True)
class LocalFile:
    """A file to hash: its manifest path, where to read it, and the stat taken when listed."""

    path: str
    location: Path
    size: int
    stamp: tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns of the content


def list_files(root: Path, *, follow_symlinks: bool = False) -> list[LocalFile]:
    """The files of a model folder in manifest order (``root`` itself if it is a file).

    Raises:
        InputError: an entry is a symbolic link (and ``follow_symlinks`` is off, or it points
            at a folder or outside any file), a special file, has a name that is not UTF-8,
            or cannot be read.
    """
    root = Path(root)
    if not root.is_dir():
        info = _stat(root, follow=True)
        return [LocalFile(root.name, root, info.st_size, _stamp(info))]
    found: list[tuple[bytes, LocalFile]] = []
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
            if entry.name in IGNORED:
                continue
            name = prefix + entry.name
            try:
                key = name.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    f"{root}: the name {name!r} is not valid UTF-8",
                    "rename the file; the manifest orders UTF-8 names",
                ) from None
            info = _stat(Path(entry.path), follow=False)
            if stat.S_ISLNK(info.st_mode):
                info = _follow(root, name, Path(entry.path), follow_symlinks)
            if stat.S_ISDIR(info.st_mode):
                pending.append((Path(entry.path), name + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((key, LocalFile(name, Path(entry.path), info.st_size, _stamp(info))))
            else:
                raise InputError(
                    f"{root}: {name} is not a regular file (a pipe, socket or device)",
                    "move it out of the folder",
                )
    found.sort(key=lambda item: item[0])
    return [f for _, f in found]


def hash_files(
    root: Path,
    files: list[LocalFile],
    *,
    follow_symlinks: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> list[ManifestEntry]:
    """SHA-256 of every file, several files at a time, then a check that nothing changed.

    Each file is read in 4 MiB chunks into one buffer per thread, so memory stays flat for
    any model size; ``hashlib`` and file reads release the GIL, so threads run in
    parallel. The largest files start first, which keeps the threads busy to the end.

    Args:
        root: the folder (or file) ``files`` were listed from, listed again at the end.
        files: from :func:`list_files`.
        progress: called with the number of bytes just hashed, from worker threads, one
            call at a time.
        workers: threads [default: the number of CPUs].

    Raises:
        InputError: a file cannot be read, or the folder changed while it was hashed.
    """
    stop = threading.Event()
    lock = threading.Lock()

    def report(n: int) -> None:
        with lock:
            progress(n)  # type: ignore[misc]

    def one(f: LocalFile) -> ManifestEntry:
        return ManifestEntry(f.path, _hash_one(root, f, report if progress else None, stop), f.size)

    count = max(1, min(len(files), workers or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="modelmint-hash") as pool:
        futures = [pool.submit(one, f) for f in sorted(files, key=lambda f: -f.size)]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f.done() and f.exception() is not None), None)
        if failed is not None:
            stop.set()
            for f in futures:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]
    entries = {e.path: e for e in (f.result() for f in futures)}
    _check_unchanged(root, files, follow_symlinks)
    return [entries[f.path] for f in files]


def _hash_one(root: Path, f: LocalFile, progress: Progress | None, stop: threading.Event) -> bytes:
    digest = hashlib.sha256()
    buffer = bytearray(min(_CHUNK, max(f.size, 1)))
    view = memoryview(buffer)
    read = 0
    try:
        with open(f.location, "rb", buffering=0) as stream:
            before = os.fstat(stream.fileno())
            if _stamp(before) != f.stamp:
                raise _changed(root, f.path)
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            # Read the listed size and no more: a file that keeps growing would never end.
            while read < f.size and not stop.is_set():
                n = stream.readinto(view[: min(len(buffer), f.size - read)])
                if not n:
                    break
                digest.update(view[:n])
                read += n
                if progress is not None:
                    progress(n)
            after = os.fstat(stream.fileno())
    except OSError as e:
        raise InputError(
            f"cannot read {f.location}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if not stop.is_set() and (read != f.size or _stamp(after) != f.stamp):
        raise _changed(root, f.path)
    return digest.digest()


def _check_unchanged(root: Path, files: list[LocalFile], follow_symlinks: bool) -> None:
    """Lists ``root`` again: a file added, removed or rewritten since the listing is refused."""
    now = {f.path: f.stamp for f in list_files(root, follow_symlinks=follow_symlinks)}
    then = {f.path: f.stamp for f in files}
    for path in sorted(now.keys() | then.keys()):
        if now.get(path) != then.get(path):
            raise _changed(root, path)


def _changed(root: Path, path: str) -> InputError:
    return InputError(
        f"{root} changed while it was being hashed ({path} was added, removed or rewritten)",
        "wait until nothing writes to the model, then run the command again",
    )


def _follow(root: Path, name: str, location: Path, follow: bool) -> os.stat_result:
    if not follow:
        raise InputError(
            f"{root}: {name} is a symbolic link, and links are not hashed by default",
            "pass --follow-symlinks to hash the files they point to (a Hugging Face cache snapshot is links), "
            "or copy the model with `cp -rL`",
        )
    info = _stat(location, follow=True)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{root}: {name} is a symbolic link to a folder or a special file",
            "only links to regular files are followed",
        )
    return info


def _stat(path: Path, *, follow: bool) -> os.stat_result:
    try:
        return os.stat(path, follow_symlinks=follow)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", "check the path") from None
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "check that it is readable") from None


def _stamp(info: os.stat_result) -> tuple[int, int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)

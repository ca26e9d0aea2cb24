"""Listing a folder's files and hashing them, refusing a folder that changes meanwhile.

Folder datasets (docs/hashing.md, "Folders") and model folders (docs/hashing.md, "Model
weights manifest") are both a sorted list of regular files, each hashed by streaming its
bytes; this module is the one walker and the one change check for both.

Order is the relative POSIX path sorted by its UTF-8 bytes. Symbolic links are refused
unless the caller asks to hash their targets: a link's target can lie outside the folder
or change after the commitment, so hashing through it by default would commit to
something the folder does not hold. Special files (pipes, sockets, devices) are refused.

A commitment is to one content, so every file's :class:`FileState` is taken when it is
listed and compared when it is opened, after it is read, and when the folder is listed
again at the end; any difference refuses the folder.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from modelmint.errors import InputError
from modelmint.hashing.canonical import sha256_stream

Progress = Callable[[int], None]
"""Called with the number of bytes just read; the sum over a run is the bytes hashed."""

_LINK_FIX = "replace the link with a copy of its target, or move it out of the folder"


def cores() -> int:
    """The number of cores this process may run on: the threads or processes worth hashing on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class FileState:
    """What must stay the same while a file is hashed."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int  # the inode change time, which no one can set back

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class ListedFile:
    """A regular file of a folder: its relative POSIX name, where to read it, its size and
    its state when listed."""

    name: str
    path: Path
    size: int
    state: FileState


def changed_error(path: Path | str, name: str | None = None) -> InputError:
    """The error for a file or folder ``path`` that changed while it was hashed; ``name``
    is the file inside the folder that was added, removed or rewritten, if known."""
    which = f" ({name} was added, removed or rewritten)" if name is not None else ""
    return InputError(
        f"{path} changed while it was being hashed{which}",
        "hash it again once nothing writes to it: a commitment is to one fixed content",
    )


def list_files(
    root: Path,
    *,
    skip: Collection[str] = (),
    follow_symlinks: bool = False,
    link_fix: str = _LINK_FIX,
    link_hint: str | None = None,
) -> list[ListedFile]:
    """Returns the folder's regular files sorted by UTF-8 name (``root`` itself if a file).

    Args:
        root: a folder, or one regular file (a link to one is followed).
        skip: entry names left out at any depth, with everything under them.
        follow_symlinks: list the file a link points to under the link's name, instead of
            refusing the link; a link to a folder or a special file is refused still.
        link_fix: what the error for a refused link says to do.
        link_hint: that error's ``hint`` (:class:`~modelmint.errors.ModelmintError`).

    Raises:
        InputError: ``root`` does not exist, a folder cannot be listed, or an entry is a
            refused symbolic link, a special file, or has a name that is not valid UTF-8.
    """
    root = Path(root)
    if not root.is_dir():
        info = _stat(root, follow=True)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{root} is not a regular file (a pipe, socket or device)", "give a file or folder"
            )
        return [ListedFile(root.name, root, info.st_size, FileState.of(info))]
    found: list[tuple[bytes, ListedFile]] = []
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
            if entry.name in skip:
                continue
            name = prefix + entry.name
            try:
                key = name.encode("utf-8")
            except UnicodeEncodeError:
                raise InputError(
                    f"{root}: the name {name!r} is not valid UTF-8",
                    "rename the file; files are ordered by their UTF-8 names",
                ) from None
            location = Path(entry.path)
            info = _entry_stat(root, name, location, follow_symlinks, (link_fix, link_hint))
            if stat.S_ISDIR(info.st_mode):
                pending.append((location, name + "/"))
            elif stat.S_ISREG(info.st_mode):
                found.append((key, ListedFile(name, location, info.st_size, FileState.of(info))))
            else:
                raise InputError(
                    f"{root}: {name} is not a regular file (a pipe, socket or device)",
                    "move it out of the folder",
                )
    found.sort(key=lambda item: item[0])
    return [f for _, f in found]


def hash_listed_file(
    root: Path, f: ListedFile, progress: Progress | None = None, stop: threading.Event | None = None
) -> bytes:
    """Returns the SHA-256 of a listed file, which must keep its listed state throughout.

    Reads the listed size and no more (a file that keeps growing would never end); ``stop``
    set by another thread ends the read early, and the result is then meaningless.

    Raises:
        InputError: the file cannot be read, or it changed since it was listed.
    """
    try:
        with open(f.path, "rb", buffering=0) as stream:
            if FileState.of(os.fstat(stream.fileno())) != f.state:
                raise _changed(root, f)
            if hasattr(os, "posix_fadvise"):
                os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            digest, size = sha256_stream(stream, progress, limit=f.size, stop=stop)
            after = FileState.of(os.fstat(stream.fileno()))
    except FileNotFoundError:
        raise _changed(root, f) from None  # listed, and gone
    except OSError as e:
        raise InputError(
            f"cannot read {f.path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if stop is not None and stop.is_set():
        return digest
    if size != f.size or after != f.state:
        raise _changed(root, f)
    _check_path(root, f)
    return digest


def read_listed_file(root: Path, f: ListedFile) -> bytes:
    """Returns the bytes of a listed file, which must keep its listed state throughout.

    Raises:
        InputError: as :func:`hash_listed_file`.
    """
    try:
        with open(f.path, "rb") as stream:
            if FileState.of(os.fstat(stream.fileno())) != f.state:
                raise _changed(root, f)
            data = stream.read(f.size + 1)
            after = FileState.of(os.fstat(stream.fileno()))
    except FileNotFoundError:
        raise _changed(root, f) from None  # listed, and gone
    except OSError as e:
        raise InputError(
            f"cannot read {f.path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if len(data) != f.size or after != f.state:
        raise _changed(root, f)
    _check_path(root, f)
    return data


def check_listing(
    root: Path,
    files: list[ListedFile],
    *,
    skip: Collection[str] = (),
    follow_symlinks: bool = False,
    link_fix: str = _LINK_FIX,
    link_hint: str | None = None,
) -> None:
    """Lists ``root`` again with the same options: a file added, removed or rewritten since
    ``files`` were listed is refused.

    Raises:
        InputError: the folder changed, or cannot be listed now.
    """
    now = {
        f.name: f.state
        for f in list_files(
            root, skip=skip, follow_symlinks=follow_symlinks, link_fix=link_fix, link_hint=link_hint
        )
    }
    then = {f.name: f.state for f in files}
    for name in sorted(now.keys() | then.keys()):
        if now.get(name) != then.get(name):
            raise changed_error(root, name if root.is_dir() else None)


def _check_path(root: Path, f: ListedFile) -> None:
    """Raises InputError if ``f``'s name no longer leads to the listed file (replaced)."""
    try:
        now = FileState.of(os.stat(f.path))
    except OSError:
        raise _changed(root, f) from None
    if now != f.state:
        raise _changed(root, f)


def _entry_stat(
    root: Path, name: str, location: Path, follow_symlinks: bool, refusal: tuple[str, str | None]
) -> os.stat_result:
    """The entry's own stat, or its target's for a link followed; a refused link raises."""
    info = _stat(location, follow=False)
    if not stat.S_ISLNK(info.st_mode):
        return info
    if not follow_symlinks:
        fix, hint = refusal
        raise InputError(f"{root}: {name} is a symbolic link, and links are not hashed", fix, hint=hint)
    info = _stat(location, follow=True)
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"{root}: {name} is a symbolic link to a folder or a special file",
            "only links to regular files are followed",
        )
    return info


def _changed(root: Path, f: ListedFile) -> InputError:
    return changed_error(f.path) if f.path == root else changed_error(root, f.name)


def _stat(path: Path, *, follow: bool) -> os.stat_result:
    try:
        return os.stat(path, follow_symlinks=follow)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", "check the path") from None
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None

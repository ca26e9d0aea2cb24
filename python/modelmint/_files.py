"""File helpers shared by every layer."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelmint.errors import InputError


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same folder, are flushed to disk, and are
    renamed over ``path``; a crash leaves at worst a stray temporary file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a folder in the way, a full disk: the user's to fix
            raise _cannot_write(path, exc) from None
        raise


def _cannot_write(path: Path, exc: OSError) -> InputError:
    return InputError(f"cannot write {path} ({exc.strerror or exc})", "check the path and its permissions")


def write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, only if no file is there (mode 0600).

    Like :func:`write_atomic`, but the temporary file is hard-linked into place, which fails
    with FileExistsError if ``path`` exists: two writers never replace each other's file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def build_dir_atomic(path: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty folder beside ``path`` to fill; on success it is renamed to ``path``.

    Readers see no folder or the whole one: if the block raises (or the process dies),
    ``path`` is untouched and the scratch folder is removed (or left as ``.<name>.*.tmp``).
    An existing ``path`` is replaced only with ``replace``; an empty one always is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        scratch.chmod(0o777 & ~umask)  # mkdtemp makes it 0700; give it the mode mkdir would
        yield scratch
        if path.is_dir() and (replace or not any(path.iterdir())):
            shutil.rmtree(path)
        os.rename(scratch, path)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise

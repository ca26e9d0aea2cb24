"""The embedded content store: a folder of files named by their CID, no daemon."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from modelmint.errors import InputError, IntegrityError, StoreError
from modelmint.storage._bounded import MAX_GET_BYTES, too_large
from modelmint.storage.cid import cid_of_bytes, cid_of_stream, parse_cid


@dataclass(frozen=True)
class LocalStore:
    """Content under ``root/<cid>``; temporary files under ``root/.tmp`` until complete.

    A file appears under its CID name only by an atomic rename after its bytes reached the
    disk, so a crash leaves at most a stray file in ``.tmp``, never a half file under a CID.
    Putting the same content again rewrites the same name, which also repairs a damaged copy.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def put(self, data: bytes) -> str:
        def fill(out: BinaryIO) -> str:
            out.write(data)
            return cid_of_bytes(data)

        return self._store(fill)

    def put_file(self, path: str | Path) -> str:
        path = Path(path)
        try:
            source = path.open("rb")
        except OSError as exc:
            raise InputError(
                f"cannot read {path} ({exc.strerror or exc})", "check the path and its permissions"
            ) from exc
        with source:
            return self._store(lambda out: cid_of_stream(_Tee(source, out, path)))

    def get(self, cid: str, max_bytes: int = MAX_GET_BYTES) -> bytes:
        parse_cid(cid)
        try:
            with self._path(cid).open("rb") as file:
                if os.fstat(file.fileno()).st_size > max_bytes:
                    raise too_large(cid, f"the local store {self.root}", max_bytes)
                data = file.read(max_bytes + 1)
            if len(data) > max_bytes:  # grew while being read
                raise too_large(cid, f"the local store {self.root}", max_bytes)
        except FileNotFoundError:
            raise self._missing(cid) from None
        except OSError as exc:
            raise StoreError(
                f"cannot read {cid} from {self.root} ({exc.strerror or exc})",
                "check the folder's permissions",
            ) from exc
        actual = cid_of_bytes(data)
        if actual != cid:
            raise IntegrityError(
                f"the local store's copy of {cid} was altered: its content hashes to {actual}",
                f"delete {self._path(cid)} and put the original content again",
            )
        return data

    def has(self, cid: str) -> bool:
        parse_cid(cid)
        return self._path(cid).is_file()

    def pin(self, cid: str) -> None:
        """Nothing to do beyond checking presence: a local store keeps everything it holds."""
        if not self.has(cid):
            raise self._missing(cid)

    def _path(self, cid: str) -> Path:
        return self.root / cid

    def _missing(self, cid: str) -> StoreError:
        return StoreError(
            f"{cid} is not in the local store {self.root}",
            "put the content first, or read it from the IPFS daemon that holds it",
        )

    def _store(self, fill: Callable[[BinaryIO], str]) -> str:
        """Let ``fill`` write the content to a temporary file and return its CID, then make the
        bytes durable and rename the file to that CID."""
        tmp_dir = self.root / ".tmp"
        tmp_name = None
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                cid = fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, self._path(cid))
            _fsync_dir(self.root)
            return cid
        except OSError as exc:
            raise StoreError(
                f"cannot write to the local store {self.root} ({exc.strerror or exc})",
                "check the folder's permissions and free disk space",
            ) from exc
        finally:
            if tmp_name is not None and os.path.exists(tmp_name):
                os.unlink(tmp_name)


class _Tee:
    """A readable stream that copies what it reads into the staged file."""

    def __init__(self, source: BinaryIO, sink: BinaryIO, path: Path) -> None:
        self._source = source
        self._sink = sink
        self._path = path

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._source.read(size)
        except OSError as exc:
            raise InputError(f"cannot read {self._path} ({exc.strerror or exc})", "check the file") from exc
        self._sink.write(data)
        return data


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: the directory entry, not only the file, must reach the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

"""The content store: bytes in, ``ipfs://`` CID out, and every read checked against its CID.

Two stores implement one small protocol: ``LocalStore``, a folder that needs no daemon (the
default), and ``KuboStore``, a Kubo-compatible IPFS daemon over its HTTP RPC. Both compute
CIDs locally with ``modelmint.storage.cid`` exactly as ``ipfs add --cid-version=1`` does,
so a record made with one store resolves on the public IPFS network or the other store.
docs/content-store.md specifies the CID computation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from modelmint.errors import InputError
from modelmint.storage._bounded import MAX_GET_BYTES
from modelmint.storage._kubo import KuboStore
from modelmint.storage._local import LocalStore
from modelmint.storage.cid import cid_of_bytes, cid_of_file, parse_cid
from modelmint.storage.documents import parse_document, read_content, read_document

__all__ = [
    "MAX_GET_BYTES",
    "ContentStore",
    "KuboStore",
    "LocalStore",
    "cid_of_bytes",
    "cid_of_file",
    "open_store",
    "parse_document",
    "parse_uri",
    "read_content",
    "read_document",
    "to_uri",
]

URI_SCHEME = "ipfs://"


@runtime_checkable
class ContentStore(Protocol):
    """Where metadata, Merkle trees and fingerprint vectors live, addressed by CID.

    Errors: ``StoreError`` when the store cannot serve a request, ``IntegrityError`` when
    content does not hash to its CID, ``InputError`` for a malformed CID or unreadable file.
    """

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its CID."""
        ...

    def put_file(self, path: str | Path) -> str:
        """Store a file's content, streamed, and return its CID."""
        ...

    def get(self, cid: str, max_bytes: int = MAX_GET_BYTES) -> bytes:
        """The content of ``cid``, verified against it.

        Content over ``max_bytes`` is refused (``IntegrityError``) before more than that is
        read: a store is untrusted, so a caller that knows how large a document can be (a
        leaf list of a known count, a manifest) passes that bound.
        """
        ...

    def has(self, cid: str) -> bool:
        """Whether the store holds ``cid`` now, without looking elsewhere."""
        ...

    def pin(self, cid: str) -> None:
        """Keep ``cid`` from garbage collection."""
        ...


def open_store(store_dir: Path, ipfs_api: str | None) -> ContentStore:
    """The daemon at ``ipfs_api`` when one is given, else the local folder ``store_dir``."""
    if ipfs_api:
        return KuboStore(ipfs_api)
    return LocalStore(Path(store_dir))


def to_uri(cid: str) -> str:
    """``ipfs://<cid>``, the form records carry.

    Raises:
        InputError: ``cid`` is not a CID modelmint produces.
    """
    parse_cid(cid)
    return URI_SCHEME + cid


def parse_uri(uri: str) -> str:
    """The CID inside an ``ipfs://<cid>`` URI.

    Raises:
        InputError: anything else, including paths below the CID and gateway URLs.
    """
    if not isinstance(uri, str) or not uri.startswith(URI_SCHEME):
        raise InputError(f"not an ipfs:// URI: {uri!r}", "give ipfs://<cid>, as modelmint records carry")
    cid = uri[len(URI_SCHEME) :]
    parse_cid(cid)
    return cid

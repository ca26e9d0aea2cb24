"""Content identifiers exactly as ``ipfs add --cid-version=1`` computes them with Kubo's defaults.

Raw leaves, a fixed-size chunker of 262,144 bytes, the balanced DAG layout with at most 174
links per node, sha2-256, CIDv1 in lowercase base32. Content of at most one chunk (including
the empty file) is a single raw block (``bafkrei...``); anything longer becomes a tree of
dag-pb UnixFS ``File`` nodes over raw leaves (``bafybei...``). docs/content-store.md
specifies every byte, so a third party can recompute a CID from the spec alone.

The builder streams: it keeps at most one chunk and 174 links per tree level in memory, so
``cid_of_file`` hashes files of any size.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from modelmint.errors import InputError

CHUNK_SIZE = 262_144
MAX_LINKS = 174

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
_SHA2_256 = 0x12
_UNIXFS_FILE = 2


class Readable(Protocol):
    """Anything with a binary ``read``: an open file, a socket file, a pipe."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Block:
    """One block of a DAG: its CID and the bytes that hash to it."""

    cid: str
    data: bytes


@dataclass(frozen=True)
class _Link:
    codec: int
    digest: bytes  # sha2-256 of the child block
    tsize: int  # bytes of the child block plus everything below it
    filesize: int  # bytes of file content below the child


def cid_of_bytes(data: bytes) -> str:
    """The CID of ``data``."""
    return _build(_chunks_of_bytes(data), on_block=None)


def cid_of_file(path: str | Path) -> str:
    """The CID of the file at ``path``, read in chunks, never whole.

    Raises:
        InputError: the file cannot be read.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            return cid_of_stream(stream)
    except OSError as exc:
        raise InputError(
            f"cannot read {path} ({exc.strerror or exc})", "check the path and its permissions"
        ) from exc


def cid_of_stream(stream: Readable) -> str:
    """The CID of everything left in a binary stream."""
    return _build(_chunks_of_stream(stream), on_block=None)


def blocks_of_bytes(data: bytes) -> tuple[str, list[Block]]:
    """The CID of ``data`` and every block of its DAG, leaves first, root last."""
    blocks: list[Block] = []
    root = _build(_chunks_of_bytes(data), on_block=blocks.append)
    return root, blocks


def parse_cid(text: str) -> tuple[int, bytes]:
    """Check that ``text`` is a CID modelmint produces and return its codec and sha2-256 digest.

    Raises:
        InputError: not a CIDv1 in base32 with the raw or dag-pb codec and a sha2-256 hash.
    """
    fix = "give a CIDv1 in base32 (bafk... or bafy...), as modelmint and `ipfs add --cid-version=1` print"
    if not isinstance(text, str) or not text.startswith("b") or text != text.lower():
        raise InputError(f"not a CIDv1 in lowercase base32: {text!r}", fix)
    body = text[1:].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise InputError(f"not valid base32: {text!r}", fix) from exc
    version, rest = _read_varint(raw)
    codec, rest = _read_varint(rest)
    hash_code, rest = _read_varint(rest)
    length, digest = _read_varint(rest)
    if version != 1 or codec not in (CODEC_RAW, CODEC_DAG_PB):
        raise InputError(f"not a CIDv1 with the raw or dag-pb codec: {text!r}", fix)
    if hash_code != _SHA2_256 or length != 32 or len(digest) != 32:
        raise InputError(f"not a sha2-256 CID: {text!r}", fix)
    if _encode_cid(codec, digest) != text:
        raise InputError(f"not a canonical CID string: {text!r}", fix)
    return codec, digest


# --- the builder -----------------------------------------------------------------------------


def _build(chunks: Iterator[bytes], on_block: Callable[[Block], None] | None) -> str:
    """Bottom-up form of Kubo's balanced layout (go-unixfs ``importer/balanced``).

    ``levels[h]`` collects the links of the node being filled at height ``h + 1``. A node with
    174 links is closed at once and linked from the level above. At the end, each partial node
    is closed from the bottom up until one link is left: the root. This gives exactly the tree
    of ``balanced.Layout`` and ``fillNodeRec``, where every child of a node but the last is a
    full subtree and the last one has the same height as its siblings.
    """
    levels: list[list[_Link]] = [[]]
    for chunk in chunks:
        levels[0].append(_leaf(chunk, on_block))
        height = 0
        while len(levels[height]) == MAX_LINKS:
            _close(levels, height, on_block)
            height += 1
    if not levels[0] and len(levels) == 1:
        levels[0].append(_leaf(b"", on_block))
    height = 0
    while height < len(levels) - 1 or len(levels[height]) > 1:
        if levels[height]:
            _close(levels, height, on_block)
        height += 1
    root = levels[-1][0]
    return _encode_cid(root.codec, root.digest)


def _close(levels: list[list[_Link]], height: int, on_block: Callable[[Block], None] | None) -> None:
    """Make the links at ``height`` one node, linked from the level above."""
    if height + 1 == len(levels):
        levels.append([])
    levels[height + 1].append(_file_node(levels[height], on_block))
    levels[height].clear()


def _leaf(chunk: bytes, on_block: Callable[[Block], None] | None) -> _Link:
    digest = hashlib.sha256(chunk).digest()
    if on_block is not None:
        on_block(Block(_encode_cid(CODEC_RAW, digest), chunk))
    return _Link(CODEC_RAW, digest, len(chunk), len(chunk))


def _file_node(links: list[_Link], on_block: Callable[[Block], None] | None) -> _Link:
    filesize = sum(link.filesize for link in links)
    # UnixFS Data: Type (1) = File, filesize (3), then one blocksizes (4) entry per child, unpacked.
    unixfs = _field_varint(1, _UNIXFS_FILE) + _field_varint(3, filesize)
    unixfs += b"".join(_field_varint(4, link.filesize) for link in links)
    # dag-pb PBNode in canonical order: every Links (2) entry first, then Data (1).
    # Each PBLink: Hash (1), Name (2, always present, empty), Tsize (3).
    node = b"".join(
        _field_bytes(
            2,
            _field_bytes(1, _binary_cid(link.codec, link.digest))
            + _field_bytes(2, b"")
            + _field_varint(3, link.tsize),
        )
        for link in links
    )
    node += _field_bytes(1, unixfs)
    digest = hashlib.sha256(node).digest()
    if on_block is not None:
        on_block(Block(_encode_cid(CODEC_DAG_PB, digest), node))
    return _Link(CODEC_DAG_PB, digest, len(node) + sum(link.tsize for link in links), filesize)


# --- chunks, varints, protobuf, multibase ----------------------------------------------------


def _chunks_of_bytes(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_SIZE):
        yield view[start : start + CHUNK_SIZE].tobytes()


def _chunks_of_stream(stream: Readable) -> Iterator[bytes]:
    while True:
        chunk = _read_full(stream, CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


def _read_full(stream: Readable, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes and sockets return less)."""
    parts: list[bytes] = []
    wanted = size
    while wanted:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes) -> tuple[int, bytes]:
    value = shift = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, data[index + 1 :]
    return -1, b""


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _binary_cid(codec: int, digest: bytes) -> bytes:
    return _varint(1) + _varint(codec) + bytes([_SHA2_256, len(digest)]) + digest


def _encode_cid(codec: int, digest: bytes) -> str:
    return "b" + base64.b32encode(_binary_cid(codec, digest)).decode("ascii").rstrip("=").lower()

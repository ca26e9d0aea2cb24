"""CIDs as ``ipfs add --cid-version=1`` computes them: golden values, the layout, the spec."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmint.errors import InputError
from modelmint.storage import cid as cidlib
from modelmint.storage import cid_of_bytes, cid_of_file, parse_uri, to_uri
from storage_samples import Sample, content

# What the daemon (js-ipfs 0.66.1: cid-version=1, raw-leaves, size-262144, balanced, 174 links)
# printed for the shared samples; test_kubo.py checks the daemon against cid.py live.
GOLDEN = {
    "0B": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    "1B": "bafkreib7hhk4gshfw6oqn2ccyekontcxcwb3x5cojmhl7wq2ahwak5c5im",
    "1.7KB": "bafkreifh4byav7w6xhulxetzdovzdtc4u63rdohoypn7avjveje76pkyc4",
    "256KiB": "bafkreibl4kaidhufpiebz5mrmduphrhryolkziq72atb42mufhjwpst7my",
    "256KiB+1": "bafybeihumsbba6ndla6oeeypdla74jhihvlq6yy6cttobb4vgjktslhjpq",
    "1.3MB": "bafybeibrautwv6tihze753st5ci23ha5n5m6qs3djxgdnzmmgyf45zuq6a",
    "174x256KiB": "bafybeibsp4z6ulvgk2lny2r4non347jomqskf6izcbuek7z5lygr5ztv64",
    "174x256KiB+1": "bafybeice326ssx4efcpsoiui5kp7raxomos24kwdzhrvqif64o3oc2fwra",
}


def test_cid_of_bytes_matches_the_daemon(sample: Sample) -> None:
    assert cid_of_bytes(sample.data) == GOLDEN[sample.name]


def test_the_worked_example_of_the_spec() -> None:
    """docs/content-store.md, "Worked example": 262,145 zero bytes, block by block."""
    root, blocks = cidlib.blocks_of_bytes(bytes(262_145))
    assert [block.cid for block in blocks] == [
        "bafkreiekhhjkxu4ztk3tyng3er3ijhg56mb44oe3gwbgquhzu4afrg2ksa",
        "bafkreidogqfzz75tpkmjzjke425xqcrmpcib2p5tg44hnbirumdbpl5adu",
        "bafybeigllfqgfpqydppr6cmv56g7ax4wyhruzswvcefv6j5kj77nzttfki",
    ]
    assert root == blocks[-1].cid
    assert blocks[-1].data.hex() == (
        "122c0a24015512208a39d2abd3999ab73c34db2476849cddf303ce389b35826850f9a700589b4a90120018808010"
        "122a0a24015512206e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d12001801"
        "0a0c080218818010208080102001"
    )


def test_cid_of_file_matches_cid_of_bytes(sample: Sample, tmp_path: Path) -> None:
    path = tmp_path / "content"
    path.write_bytes(sample.data)
    assert cid_of_file(path) == cid_of_bytes(sample.data)


def test_the_root_codec_follows_the_size() -> None:
    assert cid_of_bytes(content(cidlib.CHUNK_SIZE)).startswith("bafkrei")
    assert cid_of_bytes(content(cidlib.CHUNK_SIZE + 1)).startswith("bafybei")


class _ShortReads(io.RawIOBase):
    """A pipe-like stream that returns at most 1000 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(min(size, 1000) if size >= 0 else 1000)


def test_short_reads_give_the_same_cid() -> None:
    data = content(3 * cidlib.CHUNK_SIZE + 17)
    assert cidlib.cid_of_stream(_ShortReads(data)) == cid_of_bytes(data)


def test_blocks_hash_to_their_cids_and_rebuild_the_content() -> None:
    data = content(5 * cidlib.CHUNK_SIZE + 3)
    root, blocks = cidlib.blocks_of_bytes(data)
    assert root == cid_of_bytes(data) == blocks[-1].cid
    for block in blocks:
        _codec, digest = cidlib.parse_cid(block.cid)
        assert hashlib.sha256(block.data).digest() == digest
    leaves = [block.data for block in blocks if block.cid.startswith("bafkrei")]
    assert b"".join(leaves) == data
    assert len(blocks) == 7


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        cid_of_file(tmp_path / "absent")


# --- the layout, checked against a direct transcription of go-unixfs importer/balanced --------


def _reference_cid(data: bytes, chunk_size: int, max_links: int) -> str:
    """Kubo's balanced.Layout and fillNodeRec, top down, with the encoding written out from the spec."""

    def varint(value: int) -> bytes:
        out = b""
        while value >= 0x80:
            out += bytes([value & 0x7F | 0x80])
            value >>= 7
        return out + bytes([value])

    def lenfield(number: int, payload: bytes) -> bytes:
        return varint(number << 3 | 2) + varint(len(payload)) + payload

    def intfield(number: int, value: int) -> bytes:
        return varint(number << 3) + varint(value)

    def cid_bytes(codec: int, block: bytes) -> bytes:
        return bytes([1, codec, 0x12, 0x20]) + hashlib.sha256(block).digest()

    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    position = 0

    def leaf() -> tuple[bytes, int, int]:  # (cid, tsize, filesize)
        nonlocal position
        chunk = chunks[position]
        position += 1
        return cid_bytes(0x55, chunk), len(chunk), len(chunk)

    def node(children: list[tuple[bytes, int, int]]) -> tuple[bytes, int, int]:
        filesize = sum(c[2] for c in children)
        unixfs = intfield(1, 2) + intfield(3, filesize) + b"".join(intfield(4, c[2]) for c in children)
        links = b"".join(
            lenfield(2, lenfield(1, c[0]) + lenfield(2, b"") + intfield(3, c[1])) for c in children
        )
        block = links + lenfield(1, unixfs)
        return cid_bytes(0x70, block), len(block) + sum(c[1] for c in children), filesize

    def fill(first: tuple[bytes, int, int] | None, depth: int) -> tuple[bytes, int, int]:
        children = [first] if first else []
        while len(children) < max_links and position < len(chunks):
            children.append(leaf() if depth == 1 else fill(None, depth - 1))
        return node(children)

    if not chunks:
        root = cid_bytes(0x55, b"")
    else:
        current = leaf()
        depth = 1
        while position < len(chunks):
            current = fill(current, depth)
            depth += 1
        root = current[0]
    return "b" + base64.b32encode(root).decode().rstrip("=").lower()


@pytest.mark.parametrize("leaves", range(70))
def test_the_streaming_builder_is_the_balanced_layout(leaves: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # 3 links per node and 2-byte chunks reach a height of 4 with 70 leaves.
    monkeypatch.setattr(cidlib, "CHUNK_SIZE", 2)
    monkeypatch.setattr(cidlib, "MAX_LINKS", 3)
    data = content(2 * leaves)[: max(0, 2 * leaves - 1)]  # an odd last chunk where possible
    assert cid_of_bytes(data) == _reference_cid(data, chunk_size=2, max_links=3)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=0, max_value=400), max_links=st.integers(min_value=2, max_value=6))
def test_the_balanced_layout_for_any_fanout(size: int, max_links: int) -> None:
    data = content(size)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cidlib, "CHUNK_SIZE", 3)
        patch.setattr(cidlib, "MAX_LINKS", max_links)
        assert cid_of_bytes(data) == _reference_cid(data, chunk_size=3, max_links=max_links)


def test_the_reference_agrees_with_the_real_parameters() -> None:
    data = content(174 * cidlib.CHUNK_SIZE + 1)
    assert _reference_cid(data, cidlib.CHUNK_SIZE, cidlib.MAX_LINKS) == cid_of_bytes(data)


# --- CID strings and ipfs:// URIs ------------------------------------------------------------

EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_uri_round_trip() -> None:
    assert to_uri(EMPTY) == "ipfs://" + EMPTY
    assert parse_uri("ipfs://" + EMPTY) == EMPTY


@pytest.mark.parametrize(
    "uri",
    [
        EMPTY,  # no scheme
        "https://ipfs.io/ipfs/" + EMPTY,
        "ipfs://" + EMPTY + "/file.json",
        "ipfs://QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",  # CIDv0
        "ipfs://" + EMPTY.upper(),
        "ipfs://" + EMPTY[:-1],  # truncated
        "ipfs://" + EMPTY[:-1] + "v",  # non-canonical trailing bits
        "ipfs://zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58btc
        "ipfs://bafyreigbtj4x7ip5legnfznufuopl4sg4knzc2cof6duas4b3q2fy6swua",  # dag-cbor
        "ipfs://",
        "",
    ],
)
def test_anything_but_an_ipfs_uri_of_a_modelmint_cid_is_refused(uri: str) -> None:
    with pytest.raises(InputError):
        parse_uri(uri)


def test_to_uri_refuses_a_malformed_cid() -> None:
    with pytest.raises(InputError):
        to_uri("not-a-cid")

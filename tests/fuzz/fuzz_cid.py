#!/usr/bin/env python3
"""Fuzz target: the CID parser (modelmint.storage.cid.parse_cid, modelmint.storage.parse_uri).

Any text as a CID and as an ``ipfs://`` URI: it parses, or raises an InputError. What parses
is canonical: encoding its codec and digest again gives the same text, and the URI form gives
the same CID.
"""

from __future__ import annotations

from collections.abc import Iterator

from _harness import check, instrumented, main

with instrumented(__name__):
    from modelmint.storage import URI_SCHEME, parse_uri
    from modelmint.storage.cid import _encode_cid, cid_of_bytes, parse_cid


def test_one_input(data: bytes) -> None:
    # Not UTF-8 is a caller's concern (CIDs arrive as str); surrogates keep every byte in play.
    text = data.decode("utf-8", "surrogateescape")
    parsed, error = check(lambda: parse_cid(text))
    via_uri, uri_error = check(lambda: parse_uri(URI_SCHEME + text))
    assert (error is None) == (uri_error is None), f"cid: {error!r}, uri: {uri_error!r}"
    if parsed is not None:
        codec, digest = parsed
        assert _encode_cid(codec, digest) == text
        assert via_uri == text
    check(lambda: parse_uri(text))


def seeds() -> Iterator[bytes]:
    yield cid_of_bytes(b"").encode()
    yield cid_of_bytes(b"x" * 300_000).encode()
    yield b"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    yield b"QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
    yield b"BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU"
    yield b"ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku/path"
    yield b"b"
    yield b"bafy\xff"


if __name__ == "__main__":
    main("cid", test_one_input, seeds)

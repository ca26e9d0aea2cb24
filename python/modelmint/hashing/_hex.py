"""Hashes and other byte strings as text: lowercase hex with a ``0x`` prefix, as everywhere
in modelmint's documents (docs/hashing.md) and in Ethereum's JSON-RPC."""

from __future__ import annotations

import hashlib


def to_hex(data: bytes | bytearray | memoryview) -> str:
    """Returns ``data`` as ``0x`` and two lowercase hex digits a byte."""
    return "0x" + bytes(data).hex()


def from_hex(value: object, size: int) -> bytes:
    """Returns the ``size`` bytes a ``0x``-prefixed hex string spells (either case).

    Raises:
        ValueError: ``value`` is not a string, lacks the prefix, or is not ``size`` bytes
            of hex.
    """
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 2 + 2 * size:
        raise ValueError(f"not a 0x-prefixed {size}-byte hex value: {value!r}")
    raw = bytes.fromhex(value[2:])
    if len(raw) != size:  # fromhex skips spaces
        raise ValueError(f"not a 0x-prefixed {size}-byte hex value: {value!r}")
    return raw


def sha256_hex(data: bytes | bytearray | memoryview) -> str:
    """Returns the SHA-256 of ``data`` as ``0x``-prefixed hex."""
    return "0x" + hashlib.sha256(data).hexdigest()

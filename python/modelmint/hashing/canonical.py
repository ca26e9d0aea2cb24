"""Canonical bytes of a datapoint, and the SHA-256 that names them.

A datapoint that is a JSON value is hashed as its RFC 8785 (JCS) serialisation, so two
files that differ only in whitespace, key order or number spelling (``1.0`` vs ``1``)
commit to the same hashes. docs/hashing.md states the rules; this module is their only
implementation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785

from modelmint.errors import InputError

#: JSON numbers are IEEE-754 doubles; integers beyond this lose digits silently.
MAX_SAFE_INTEGER = 2**53 - 1

_CHUNK = 1 << 20


def sha256(data: bytes | bytearray | memoryview) -> bytes:
    """Returns the 32-byte SHA-256 digest of ``data``."""
    return hashlib.sha256(data).digest()


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> bytes:
    """Returns the SHA-256 of a file's bytes, read in 1 MiB chunks.

    Args:
        path: the file to hash.
        progress: called with the number of bytes read after each chunk.

    Raises:
        InputError: the file cannot be read.
    """
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    try:
        with open(path, "rb") as f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
                if progress is not None:
                    progress(n)
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "check that the file exists and is readable") from None
    return digest.digest()


def canonical_json(value: Any) -> bytes:
    """Returns the RFC 8785 canonical UTF-8 bytes of a JSON value.

    ``value`` is built from ``None``, ``bool``, ``int``, ``float``, ``str``, ``list`` and
    ``dict`` with string keys.

    Raises:
        InputError: the value has a NaN or infinite float, an integer outside
            ±(2^53 − 1), a string that is not valid Unicode (a lone surrogate), a
            non-string object key, or nesting too deep to serialise.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as e:
        raise InputError(
            f"integer {e.args[0].split()[0]} is outside the JSON safe range ±(2^53 − 1)",
            "store it as a string, since JSON numbers are IEEE-754 doubles that would round it",
        ) from None
    except rfc8785.FloatDomainError as e:
        raise InputError(
            f"number {e.args[0].split()[0]} is not finite",
            "replace NaN and infinities with null or a string; JSON has no such numbers",
        ) from None
    except rfc8785.CanonicalizationError as e:
        raise InputError(f"value cannot be canonicalised as JSON ({e})", "use only JSON types and valid Unicode text") from None
    except RecursionError:
        raise InputError("value is nested too deeply to canonicalise", "flatten the datapoint") from None


def canonicalize_json_text(text: str) -> bytes:
    """Parses one JSON text and returns its RFC 8785 canonical bytes.

    Stricter than :func:`json.loads`: an object with a repeated key, the non-JSON
    constants ``NaN``/``Infinity``, a number that overflows to infinity and an integer
    outside ±(2^53 − 1) are all refused rather than silently changed.

    Raises:
        InputError: the text is not JSON, or breaks one of the rules above.
    """
    _check_nesting(text)
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} at column {e.colno}", "fix the JSON syntax") from None
    except RecursionError:
        raise InputError("JSON is nested too deeply to parse", "flatten the datapoint") from None
    except ValueError as e:
        # Integers longer than Python's int-conversion limit (4300 digits) land here.
        raise InputError(f"invalid JSON: {e}", "fix the JSON value") from None
    return canonical_json(value)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise InputError(
            f"JSON object repeats the key {json.dumps(duplicate)}",
            "keep one value per key; parsers disagree on which repeated value wins",
        )
    return result


def _no_constants(name: str) -> Any:
    raise InputError(f"invalid JSON: {name} is not a JSON number", "replace it with null or a string")


MAX_NESTING = 512
"""The deepest array/object nesting accepted. CPython's C JSON scanner recurses on the C
stack, and a raised recursion limit (some libraries raise it) lets a deeply nested line
crash the process instead of raising RecursionError, so depth is checked before parsing."""


def _check_nesting(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return  # cannot be deeper than the number of openers: the common case costs two counts
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise InputError(
                    f"JSON is nested too deeply to parse (more than {MAX_NESTING} levels)", "flatten the datapoint"
                )
        elif char in "]}":
            depth -= 1

"""Canonical bytes of a datapoint, and the SHA-256 that names them.

A datapoint that is a JSON value is hashed as its RFC 8785 (JCS) serialisation, so two
files that differ only in whitespace, key order or number spelling (``1.0`` vs ``1``)
commit to the same hashes. docs/hashing.md states the rules; this module is their only
implementation.

Two routes give the same bytes. The general one is the ``rfc8785`` package, in Python. The
fast one is, for a JSON text, modelmint's C canonicaliser (``_jcs.c``, whose notes say which
texts it vouches for), then the standard library's C JSON parser and encoder, for the
values where their output is RFC 8785's by construction (the notes above ``_NotFast`` say
why); a value outside them, or any error, goes the general way, which also words the
errors. Tests check that the routes agree, the C one against rfc8785 by differential fuzzing.
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import rfc8785

from modelmint.errors import InputError

try:
    from modelmint.hashing import _jcs
except ImportError as e:  # a source checkout that was never installed
    raise ImportError(
        "modelmint's C extension modelmint.hashing._jcs is not built: run `pip install -e .` "
        "(it needs a C compiler and the Python headers)"
    ) from e

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
    try:
        with open(path, "rb") as f:
            return sha256_stream(f, progress)[0]
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file exists and is readable"
        ) from None


class ReadInto(Protocol):
    """A binary stream that reads into a caller's buffer: a raw or buffered file, BytesIO."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


def sha256_stream(
    stream: ReadInto,
    progress: Callable[[int], None] | None = None,
    *,
    limit: int | None = None,
    stop: threading.Event | None = None,
) -> tuple[bytes, int]:
    """Returns the SHA-256 of the rest of a binary stream and the number of bytes read.

    Reads 1 MiB at a time into one buffer; hashlib releases the GIL on blocks that size,
    so threads hashing files run on all cores.

    Args:
        stream: read from where it stands.
        progress: called with the number of bytes read after each chunk.
        limit: read at most this many bytes.
        stop: when another thread sets it, reading ends after the current chunk.

    Raises:
        OSError: the stream cannot be read.
    """
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK if limit is None else min(_CHUNK, max(limit, 1)))
    view = memoryview(buffer)
    total = 0
    while limit is None or total < limit:
        n = stream.readinto(view if limit is None else view[: min(len(buffer), limit - total)])
        if not n:
            break
        digest.update(view[:n])
        total += n
        if progress is not None:
            progress(n)
        if stop is not None and stop.is_set():
            break
    return digest.digest(), total


def canonical_json(value: Any) -> bytes:
    """Returns the RFC 8785 canonical UTF-8 bytes of a JSON value.

    ``value`` is built from ``None``, ``bool``, ``int``, ``float``, ``str``, ``list`` and
    ``dict`` with string keys.

    Raises:
        InputError: the value has a NaN or infinite float, an integer outside
            ±(2^53 - 1), a string that is not valid Unicode (a lone surrogate), a
            non-string object key, or nesting too deep to serialise.
    """
    if type(value) is dict and all(map(_plain_scalar, value.values())) and _plain_keys(value):
        try:
            return _encode_fast(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the general route names the error
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError as e:
        raise InputError(
            f"integer {e.args[0].split()[0]} is outside the JSON safe range ±(2^53 - 1)",
            "store it as a string, since JSON numbers are IEEE-754 doubles that would round it",
        ) from None
    except rfc8785.FloatDomainError as e:
        raise InputError(
            f"number {e.args[0].split()[0]} is not finite",
            "replace NaN and infinities with null or a string; JSON has no such numbers",
        ) from None
    except rfc8785.CanonicalizationError as e:
        raise InputError(
            f"value cannot be canonicalised as JSON ({e})", "use only JSON types and valid Unicode text"
        ) from None
    except UnicodeEncodeError:  # rfc8785 sorts keys as UTF-16 before it checks them
        raise InputError(
            "value cannot be canonicalised as JSON (an object key contains non-UTF-8 codepoints)",
            "use only JSON types and valid Unicode text",
        ) from None
    except RecursionError:
        raise InputError("value is nested too deeply to canonicalise", "flatten the datapoint") from None


def canonicalize_json_text(text: str) -> bytes:
    """Parses one JSON text and returns its RFC 8785 canonical bytes.

    Stricter than :func:`json.loads`: an object with a repeated key, the non-JSON
    constants ``NaN``/``Infinity``, a number that overflows to infinity and an integer
    outside ±(2^53 - 1) are all refused rather than silently changed.

    Raises:
        InputError: the text is not JSON, or breaks one of the rules above.
    """
    check_nesting(text)
    fast = _canonical_fast(text.strip(_JSON_WHITESPACE))
    if fast is not None:
        return fast
    # Outside the fast route, or not JSON: the general route decides, and words any error.
    return canonical_json(_parse_strict(text))


def parse_json_text(text: str) -> Any:
    """Parses one JSON text by the rules :func:`canonicalize_json_text` applies before
    canonicalising: nesting checked first, a repeated key and the non-JSON constants refused.

    For JSON that is read rather than hashed (documents from the content store,
    :mod:`modelmint.storage.documents`), so that both follow one rule.

    Raises:
        InputError: the text is not JSON, is nested too deeply, or breaks one of the rules above.
    """
    check_nesting(text)
    return _parse_strict(text)


def _parse_strict(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constants)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} at column {e.colno}", "fix the JSON syntax") from None
    except RecursionError:
        raise InputError("JSON is nested too deeply to parse", "flatten the datapoint") from None
    except ValueError as e:
        # Integers longer than Python's int-conversion limit (4300 digits) land here.
        raise InputError(f"invalid JSON: {e}", "fix the JSON value") from None


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


def check_nesting(text: str) -> None:
    """Refuses a JSON text nested more than :data:`MAX_NESTING` levels deep, before any parser sees it.

    Raises:
        InputError: it is nested deeper.
    """
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
                    f"JSON is nested too deeply to parse (more than {MAX_NESTING} levels)",
                    "flatten the datapoint",
                )
        elif char in "]}":
            depth -= 1


def _canonical_fast(text: str) -> bytes | None:
    """Returns the RFC 8785 bytes of a JSON text (no surrounding whitespace) by the fast
    route, or None where that route cannot vouch for them."""
    # surrogatepass keeps a lone surrogate as bytes the C route refuses (not UTF-8).
    canonical = _jcs.canonical(text.encode("utf-8", "surrogatepass"))
    if canonical is not None:
        return canonical
    try:
        value, end = _scan_fast(text, 0)
        if end == len(text):
            return _encode_fast(value).encode("utf-8")
    except (_NotFast, ValueError, StopIteration, RecursionError):
        pass
    return None


# The fast route. Python's json module writes a value exactly as RFC 8785 does when:
# - every object key is in the Basic Multilingual Plane, so sorting by code point (Python)
#   equals sorting by UTF-16 code unit (RFC 8785);
# - every string is valid Unicode (no lone surrogate: encoding to UTF-8 checks it); both
#   escape only '"', '\\' and U+0000-U+001F, with the same short forms and lowercase \u00xx;
# - every integer literal has fewer than 16 characters, so it is within ±(2^53 - 1);
# - every float's shortest repr has no exponent, which is then RFC 8785's form too, except
#   that an integral one (``2.0``) is written without ``.0``: it is parsed as the int.
# Anything else (a repeated key, NaN, a longer integer, an exponent) leaves the fast route.

_JSON_WHITESPACE = " \t\r\n"
_NON_BMP = re.compile("[\U00010000-\U0010ffff]")


class _NotFast(Exception):
    """The value is outside the fast route."""


def _fast_int(literal: str) -> int:
    if len(literal) < 16:
        return int(literal)
    raise _NotFast


def _fast_float(literal: str) -> float | int:
    number = float(literal)
    text = repr(number)
    if "e" in text or "n" in text:  # an exponent, inf or nan
        raise _NotFast
    return int(number) if text.endswith(".0") else number


def _not_fast(_literal: str) -> Any:
    raise _NotFast


def _bmp_keys(obj: dict[str, Any]) -> bool:
    return all(map(str.isascii, obj)) or not _NON_BMP.search("".join(obj))


def _plain_keys(obj: dict[Any, Any]) -> bool:
    return all(type(key) is str for key in obj) and _bmp_keys(obj)


def _fast_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs) or not _bmp_keys(obj):
        raise _NotFast
    return obj


def _plain_scalar(value: Any) -> bool:
    kind = type(value)
    return (
        kind is str
        or value is None
        or kind is bool
        or (kind is int and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    )


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON type")


def _fast_encoder() -> Callable[[Any], str]:
    """Returns json's C encoder set up as RFC 8785 (no spaces, sorted keys, raw UTF-8).

    Built once and called directly: ``json.dumps`` would build an encoder per call.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            encode = make(None, _reject, json.encoder.encode_basestring, None, ":", ",", True, False, False)
            if "".join(encode({"b": [1, "\u00e9"], "a": None}, 0)) == '{"a":null,"b":[1,"\u00e9"]}':
                return lambda value: "".join(encode(value, 0))
        except TypeError:  # another Python's signature: use the public API
            pass
    encoder = json.JSONEncoder(
        ensure_ascii=False, check_circular=False, allow_nan=False, sort_keys=True, separators=(",", ":")
    )
    return encoder.encode


_encode_fast = _fast_encoder()
# scan_once(text, index) -> (value, end) is set by JSONDecoder.__init__; typeshed does not declare it.
_scan_fast: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(
    object_pairs_hook=_fast_object, parse_float=_fast_float, parse_int=_fast_int, parse_constant=_not_fast
).scan_once  # type: ignore[attr-defined]

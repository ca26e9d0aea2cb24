"""The C route (``_jcs.c``) against the reference, by differential fuzzing.

For any text, ``_jcs.canonical`` either hands it back (None) or returns exactly what the
reference gives: ``rfc8785.dumps(json.loads(text))``. Where the reference refuses a text
(not JSON, a repeated key, an unsafe integer, a lone surrogate, a non-finite number) the C
route must hand it back, so the exact route words the error. ``hash_lines`` hashes a piece
of a JSONL file line by line with the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from typing import Any

import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from json_strategies import tricky_text
from modelmint.hashing import _jcs


def _reference(text: str) -> bytes | None:
    """The reference bytes, or None where the reference refuses the text."""

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("repeated key")
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        return rfc8785.dumps(json.loads(text, object_pairs_hook=unique, parse_constant=no_constant))
    except (ValueError, rfc8785.CanonicalizationError, UnicodeEncodeError, RecursionError):
        return None


def _check(text: str) -> bytes | None:
    fast = _jcs.canonical(text.encode("utf-8", "surrogatepass"))
    reference = _reference(text)
    if fast is not None:
        assert fast == reference, text
    return fast


doubles = st.floats(allow_nan=False, allow_infinity=False) | st.builds(
    lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0], st.integers(0, 2**64 - 1)
).filter(math.isfinite)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | doubles
    | tricky_text
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=5),
    max_leaves=20,
)


def _float_text(x: float, style: int) -> str:
    return [repr(x), f"{x:.17g}", f"{x:.17e}", f"{x:.3E}", f"{x:.20f}", f"{x:.15g}"][style]


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    """A JSON text of a value, spelt in one of several ways (spacing, escapes, number forms)."""
    value = draw(values)
    style = draw(st.integers(0, 5))
    space = draw(st.sampled_from(["", " ", "\t", " \r ", "\n"]))
    ascii_only = draw(st.booleans())

    def write(v: Any) -> str:
        if isinstance(v, bool) or v is None or isinstance(v, str):
            try:
                return json.dumps(v, ensure_ascii=ascii_only)
            except UnicodeEncodeError:
                return json.dumps(v)
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return _float_text(v, style)
        if isinstance(v, list):
            return "[" + space + ("," + space).join(write(x) for x in v) + space + "]"
        return (
            "{"
            + space
            + ("," + space).join(write(k) + space + ":" + space + write(x) for k, x in v.items())
            + "}"
        )

    return space + write(value) + space


@settings(max_examples=3000, deadline=None)
@given(json_texts())
@example('{"b": 1, "a": {"d": [1.0, -0.0, 1e21, 1e-7, 123e-20], "c": "\\u00e9\\n\\u001f"}}')
@example('{"\\ue000": 1, "\\ud83d\\ude00": 2, "\U0001f600x": 3, "\uffff": 4}')
@example('{"a": 1, "a": 2}')
@example('{"k": "\\ud800"}')
@example("[9007199254740991, -9007199254740991, 9007199254740992, 1E400, -1e-400, 5e-324]")
@example("[0.1, 0.30000000000000004, 2.2250738585072014e-308, 1.7976931348623157e308, 9007199254740993.0]")
@example("[NaN, Infinity]")
@example("\ufeff{}")
def test_c_route_is_rfc8785(text: str) -> None:
    _check(text)


number_literals = st.from_regex(r"\A-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?\Z")


@settings(max_examples=5000, deadline=None)
@given(number_literals)
@example("4.35")
@example("0.1e1")
@example("1e23")
@example("8.41e21")
@example("5e-7")
@example("1.0000000000000002")
@example("9.999999999999999e22")
@example("0.000001")
@example("1e-6")
@example("123456789012345.6789")
def test_number_literals_are_ecmascript(literal: str) -> None:
    _check(literal)
    _check("[" + literal + "]")


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=40))
def test_arbitrary_bytes_never_disagree(data: bytes) -> None:
    fast = _jcs.canonical(data)
    if fast is not None:
        assert fast == _reference(data.decode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(json_texts() | st.sampled_from(["", "   ", "\r", "{bad", "[1,]", "\xff"]), max_size=12),
    st.booleans(),
)
def test_hash_lines_hashes_each_line(lines: list[str], final_newline: bool) -> None:
    lines = [line.replace("\n", " ") for line in lines]
    data = "\n".join(lines).encode("utf-8", "surrogatepass") + (b"\n" if final_newline else b"")
    hashes, positions, slow = _jcs.hash_lines(data)
    expected_lines = [i for i, line in enumerate(lines) if line.strip(" \t\r")]
    assert list(memoryview(positions).cast("I")) == expected_lines
    slow_datapoints = {datapoint for datapoint, _, _, _ in slow}
    for datapoint, line in enumerate(expected_lines):
        digest = hashes[32 * datapoint : 32 * datapoint + 32]
        if datapoint in slow_datapoints:
            assert digest == bytes(32)
        else:
            assert digest == hashlib.sha256(_reference(lines[line])).digest()  # type: ignore[arg-type]
    for datapoint, line, start, end in slow:
        assert expected_lines[datapoint] == line
        assert data[start:end] == lines[line].encode("utf-8", "surrogatepass")


def test_typical_rows_take_the_c_route() -> None:
    """The common rows are not handed back, or the C route would not pay."""
    rows = [
        '{"id": 12, "text": "caf\\u00e9 and tea", "label": 3, "score": 0.75, "tags": ["a", "b"], "ok": true, "x": null}',
        '{"text": "naïve 漢字 ☃", "nested": {"b": [1, 2.5, -0.0, 1e-9, 0.30000000000000004], "a": {}}}',
        '{"emb": [0.12345678901234566, -3.4028234663852886e+38, 6.02214076e23]}',
    ]
    for row in rows:
        assert _check(row) is not None


@given(st.binary(max_size=300))
@example(b"a" * 55)
@example(b"a" * 56)
@example(b"a" * 64)
@example(b"a" * 119)
@example(b"a" * 120)
def test_sha256_is_fips(data: bytes) -> None:
    assert _jcs.sha256(data) == hashlib.sha256(data).digest()

"""Canonical bytes of JSON datapoints (RFC 8785) and the strict JSON text rules."""

from __future__ import annotations

import pytest

from modelmint.errors import InputError
from modelmint.hashing import MAX_SAFE_INTEGER, canonical_json, canonicalize_json_text, sha256


def test_sha256() -> None:
    assert sha256(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ('{"b": 1, "a": [1.0, 2.50, -0.0, 1e21, 1E-7]}', b'{"a":[1,2.5,0,1e+21,1e-7],"b":1}'),
        ('  "caf\\u00e9 \\u20ac"  ', '"café €"'.encode()),
        ('{"\\u20ac": 1, "\\r": 2, "a": 3}', '{"\\r":2,"a":3,"€":1}'.encode()),
        ("[true, false, null]", b"[true,false,null]"),
        ('"\\u0001\\t"', b'"\\u0001\\t"'),
        (str(MAX_SAFE_INTEGER), str(MAX_SAFE_INTEGER).encode()),
        (str(-MAX_SAFE_INTEGER), str(-MAX_SAFE_INTEGER).encode()),
        ("1e300", b"1e+300"),
        ("[0.000001, 1e-7, 123.456e2]", b"[0.000001,1e-7,12345.6]"),
    ],
)
def test_rfc8785_canonical_form(text: str, canonical: bytes) -> None:
    assert canonicalize_json_text(text) == canonical


def test_equivalent_texts_have_the_same_bytes() -> None:
    assert canonicalize_json_text('{"x": 1.0, "y": "a"}') == canonicalize_json_text('{ "y":"a","x":1 }')


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (str(MAX_SAFE_INTEGER + 1), "outside the JSON safe range"),
        (str(-MAX_SAFE_INTEGER - 1), "outside the JSON safe range"),
        ("[1, 123456789012345678901234567890]", "outside the JSON safe range"),
        ("1e400", "not finite"),
        ("[NaN]", "NaN is not a JSON number"),
        ("-Infinity", "-Infinity is not a JSON number"),
        ('{"a": 1, "a": 2}', 'repeats the key "a"'),
        ('{"a": 1', "invalid JSON: Expecting ',' delimiter at column 8"),
        ('"\\ud800"', "cannot be canonicalised"),
        ("", "invalid JSON"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
        ("1" * 5000, "invalid JSON"),
    ],
)
def test_refused_json(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        canonicalize_json_text(text)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 2**53, {1: "a"}, object()])
def test_refused_values(value: object) -> None:
    with pytest.raises(InputError):
        canonical_json(value)

"""The fast canonical route (Python's C json) gives exactly the general route's bytes (rfc8785).

Each test runs the same input through ``canonicalize_json_text`` / ``canonical_json`` as
they are, and again with the fast route switched off, and requires the same outcome:
the same bytes, or the same error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from json_strategies import tricky_text
from modelmint.errors import InputError
from modelmint.hashing import canonical
from modelmint.hashing.canonical import canonical_json, canonicalize_json_text


def _general_only() -> Any:
    """Switches the fast route off: every value takes the rfc8785 route."""
    return mock.patch.multiple(canonical, _canonical_fast=lambda _text: None, _plain_keys=lambda _obj: False)


def _outcome(function: Callable[[Any], bytes], argument: Any) -> tuple[str, Any]:
    try:
        return "bytes", function(argument)
    except InputError as e:
        return "error", str(e)


def _both(function: Callable[[Any], bytes], argument: Any) -> tuple[tuple[str, Any], tuple[str, Any]]:
    fast = _outcome(function, argument)
    with _general_only():
        general = _outcome(function, argument)
    return fast, general


def _fast_route_taken(text: str) -> bool:
    return canonical._canonical_fast(text.strip(" \t\r\n")) is not None


numbers = (
    st.integers(-(2**60), 2**60)
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.sampled_from([0, -1, 2**53 - 1, -(2**53) + 1, 2**53, 10**15, 10**16])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [0.0, -0.0, 1.0, 2.5, 1e-4, 1e-5, 1e-7, 1e15, 1e16, 1e21, 1e22, 123456789.0, 0.1, 5e-324]
    )
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=15,
)


def _spell(value: Any, ascii_only: bool, spaced: bool) -> str:
    separators = (", ", ": ") if spaced else (",", ":")
    return json.dumps(value, ensure_ascii=ascii_only, separators=separators, allow_nan=True)


@settings(max_examples=600, deadline=None)
@given(
    value=json_values,
    ascii_only=st.booleans(),
    spaced=st.booleans(),
    padding=st.sampled_from(["", " ", "\t\r\n "]),
)
@example(value={"\ue000": 1, "😀": 2}, ascii_only=False, spaced=False, padding="")
@example(value={"a": "\ud800"}, ascii_only=True, spaced=False, padding="")
@example(value=[1.0, -0.0, 1e16, 1e-7, 0.0001], ascii_only=False, spaced=False, padding="")
@example(value={"a:": "b:c", "d": {":": ":"}}, ascii_only=False, spaced=True, padding="")
def test_json_text_routes_agree(value: Any, ascii_only: bool, spaced: bool, padding: str) -> None:
    text = padding + _spell(value, ascii_only, spaced) + padding
    fast, general = _both(canonicalize_json_text, text)
    assert fast == general


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": "x:y", "a": "z"}',
        '{"a": {"b": 1, "b": {"c": 2}}}',
        '[{"k": 1}, {"k": 2, "k": 3}]',
        '{"a\\u003a": 1, "a:": 2}',  # the same key, once escaped
        '{"a\\u003A": 1, "a:": 2}',
        '{"\\u00e9": 1, "\u00e9": 2}',
        '{"a:b": 1, "c": "d:e:f"}',
        '{"k": "\\ud83d\\ude00", "\\ud83d\\ude00": 1, "\\uffff": 2}',
    ],
)
def test_repeated_and_escaped_keys(text: str) -> None:
    fast, general = _both(canonicalize_json_text, text)
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(tricky_text, min_size=2, max_size=4),
    values=st.lists(st.integers(0, 5), min_size=2, max_size=4),
    repeat=st.booleans(),
)
def test_repeated_keys_take_the_general_route(keys: list[str], values: list[int], repeat: bool) -> None:
    if repeat:
        keys = [*keys, keys[0]]
    members = ",".join(f"{json.dumps(k)}:{v}" for k, v in zip(keys, values * 3, strict=False))
    text = "{" + members + "}"
    fast, general = _both(canonicalize_json_text, text)
    assert fast == general


@settings(max_examples=500, deadline=None)
@given(
    text=st.lists(
        st.sampled_from([*'{}[]":,0123456789.eE+-tfnrueals \\u', "NaN", "Infinity", "d800", '"k"']),
        max_size=20,
    ).map("".join)
)
def test_arbitrary_text_routes_agree(text: str) -> None:
    """Malformed JSON, odd numbers and constants: same bytes or the same error message."""
    fast, general = _both(canonicalize_json_text, text)
    assert fast == general


@pytest.mark.parametrize(
    "literal",
    [
        "1.0",
        "-0.0",
        "-0",
        "2.50",
        "1e21",
        "1E-7",
        "0.000001",
        "1e-5",
        "0.0001",
        "123456789012345",
        "1234567890123456",
        "9007199254740991",
        "9007199254740993",
        "1e999",
        "-1e999",
        "1.5e3",
        "100000000000000000000.0",
        "4.35",
        "0.1",
    ],
)
def test_number_spellings(literal: str) -> None:
    fast, general = _both(canonicalize_json_text, f'{{"n": {literal}}}')
    assert fast == general


@settings(max_examples=400, deadline=None)
@given(
    value=st.dictionaries(
        tricky_text | st.integers(0, 3),
        st.none() | st.booleans() | numbers | tricky_text | st.lists(st.integers(), max_size=2),
        max_size=6,
    )
)
def test_objects_routes_agree(value: dict[Any, Any]) -> None:
    """``canonical_json`` of a flat object (CSV and Parquet rows), including non-string keys."""
    fast, general = _both(canonical_json, value)
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_general_route_is_rfc8785(value: Any) -> None:
    with _general_only():
        try:
            expected = rfc8785.dumps(value)
        except (rfc8785.CanonicalizationError, UnicodeEncodeError, RecursionError):
            return
        assert canonical_json(value) == expected


def test_typical_rows_take_the_fast_route() -> None:
    """Plain rows (the common case) do not fall back, or the fast route would not pay."""
    rows = [
        '{"id": 12, "text": "caf\\u00e9 and tea", "label": 3, "score": 0.75, "tags": ["a", "b"], "ok": true, "x": null}',
        '{"text": "naïve 漢字 ☃", "nested": {"b": [1, 2.5, -0.0], "a": {}}}',
        '[1, "two", 3.0]',
    ]
    assert all(_fast_route_taken(row) for row in rows)
    # The C route also takes exponents and keys outside the BMP (sorted as UTF-16), with rfc8785's bytes.
    for row in ('{"k": 1e-7}', '{"😀": 1, "\ue000": 2}'):
        assert _fast_route_taken(row)
        assert canonicalize_json_text(row) == rfc8785.dumps(json.loads(row))
    assert not _fast_route_taken('{"k": 1, "k": 2}')  # repeated key: general route, which refuses it

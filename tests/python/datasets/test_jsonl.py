"""JSONL datapoints: one JSON value per non-blank line, RFC 8785 bytes, errors by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmint.datasets import hash_dataset, iter_datapoints
from modelmint.errors import InputError
from modelmint.hashing import sha256


def _write(tmp_path: Path, content: bytes, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_lines_become_canonical_json(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        b'\xef\xbb\xbf{"b": 2, "a": 1.0}\r\n\n   \t \n  ["caf\\u00e9", null]  \n"last line without newline"',
    )
    assert list(iter_datapoints(path)) == [
        ("line 1", b'{"a":1,"b":2}'),
        ("line 4", '["café",null]'.encode()),
        ("line 5", b'"last line without newline"'),
    ]


def test_digest_is_sha256_of_canonical_bytes_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"x": 1}\n{"x": 2}\n')
    digest = hash_dataset(path)
    assert (digest.format, digest.scheme, digest.count) == ("jsonl", "modelmint.jsonl.v1", 2)
    assert digest.hashes == sha256(b'{"x":1}') + sha256(b'{"x":2}')


def test_duplicates_and_a_single_datapoint(tmp_path: Path) -> None:
    assert hash_dataset(_write(tmp_path, b"1\n1.0\n1\n")).hashes == sha256(b"1") * 3
    assert hash_dataset(_write(tmp_path, b'"only"', "one.jsonl")).count == 1


def test_malformed_line_names_file_line_and_json_error(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"a": 1}\n\n{"a": 2}\n{"a": 3,}\n')
    with pytest.raises(InputError) as e:
        list(iter_datapoints(path))
    assert str(path) in e.value.problem
    assert "line 4" in e.value.problem
    assert "Expecting property name enclosed in double quotes at column 9" in e.value.problem


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"9007199254740993", "integer 9007199254740993 is outside the JSON safe range"),
        (b"[NaN]", "NaN is not a JSON number"),
        (b'{"k": 1, "k": 1}', "repeats the key"),
        (b"1e999", "not finite"),
    ],
)
def test_values_json_cannot_carry_exactly_are_refused_with_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    path = _write(tmp_path, b"1\n2\n" + line + b"\n")
    with pytest.raises(InputError, match=message) as e:
        hash_dataset(path)
    assert "line 3" in e.value.problem


def test_non_utf8_line_is_refused_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b'"ok"\n"caf\xe9"\n')
    with pytest.raises(InputError, match=r"line 2 is not valid UTF-8 \(byte 0xe9 at byte 5"):
        hash_dataset(path)


def test_blank_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no datapoints"):
        hash_dataset(_write(tmp_path, b"\n  \n\r\n"))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(json_values, min_size=1, max_size=5),
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 0]),
)
def test_any_spelling_of_a_value_hashes_as_its_rfc8785_form(
    tmp_path_factory, values, ascii_only, indent
) -> None:
    lines = [
        json.dumps(v, ensure_ascii=ascii_only, separators=(", ", ": ") if indent is None else (",", ":"))
        for v in values
    ]
    path = tmp_path_factory.mktemp("jsonl") / "d.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [data for _, data in iter_datapoints(path)] == [rfc8785.dumps(v) for v in values]

"""CSV datapoints: a header row, then each row as a JSON object of strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelmint.datasets import hash_dataset, iter_datapoints
from modelmint.errors import InputError
from modelmint.hashing import sha256


def _write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    return path


def test_rows_become_objects_of_strings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        b'\xef\xbb\xbftext,label\r\n"hello, ""world""",1\r\n\r\n"two\nlines",\r\ncaf\xc3\xa9,3',
    )
    assert list(iter_datapoints(path)) == [
        ("row 1", b'{"label":"1","text":"hello, \\"world\\""}'),
        ("row 2", b'{"label":"","text":"two\\nlines"}'),
        ("row 3", '{"label":"3","text":"café"}'.encode()),
    ]


def test_digest_duplicates_and_single_row(tmp_path: Path) -> None:
    digest = hash_dataset(_write(tmp_path, b"a\nx\nx\n"))
    assert (digest.format, digest.scheme, digest.count) == ("csv", "modelmint.csv.v1", 2)
    assert digest.hashes == sha256(b'{"a":"x"}') * 2


def test_ragged_row_names_row_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, b'a,b\n1,2\n"3\n3",4\n5,6,7\n')
    with pytest.raises(InputError, match=r"row 3 \(line 5\) has 3 fields but the header has 2") as e:
        hash_dataset(path)
    assert str(path) in e.value.problem


@pytest.mark.parametrize(
    ("header", "message"),
    [(b"a,,b", "column 2 has an empty name"), (b"a,b,a", "column name 'a' appears twice")],
)
def test_bad_header_is_refused(tmp_path: Path, header: bytes, message: str) -> None:
    with pytest.raises(InputError, match=r"header \(line 1\): " + message):
        hash_dataset(_write(tmp_path, header + b"\n1,2,3\n"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'a,b\n1,"2"x\n', r"line 2: malformed CSV"),
        (b'a,b\n1,"2\n', r"line 2: malformed CSV"),
        (b"a,b\n1,2\n3,\xff\n", r"line 3 is not valid UTF-8"),
        (b"", "has no header row"),
        (b"a,b\n", "holds no datapoints"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        hash_dataset(_write(tmp_path, content))


def test_long_fields_are_accepted(tmp_path: Path) -> None:
    text = "x" * 300_000
    path = _write(tmp_path, f"t\n{text}\n".encode())
    assert hash_dataset(path).hashes == sha256(b'{"t":"' + text.encode() + b'"}')

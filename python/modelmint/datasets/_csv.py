"""CSV with a header row: each data row is a JSON object of strings, hashed as RFC 8785."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from modelmint.datasets._progress import Meter
from modelmint.datasets._text import utf8_lines
from modelmint.errors import InputError
from modelmint.hashing import canonical_json

# The csv module caps a field at 128 KiB by default; text datasets have longer documents.
_FIELD_LIMIT = 2**31 - 1


def read_csv(path: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("row N", canonical bytes)`` for each data row, N counting from 1.

    The dialect is RFC 4180 (comma, double quotes, quotes doubled inside quotes). Blank
    lines are skipped; the first non-blank row is the header.

    Raises:
        InputError: the file has no header, a header name is empty or repeated, a row
            has a different number of fields than the header, or quoting is broken.
    """
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader((text for _, text in utf8_lines(path, meter)), strict=True)
    header: list[str] | None = None
    row_number = 0
    try:
        for fields in reader:
            if not fields:
                continue
            if header is None:
                header = _check_header(path, fields, reader.line_num)
                continue
            row_number += 1
            if len(fields) != len(header):
                raise InputError(
                    f"{path} row {row_number} (line {reader.line_num}) has {len(fields)} fields but the header has {len(header)}",
                    "give every row one field per header column",
                )
            yield f"row {row_number}", canonical_json(dict(zip(header, fields, strict=True)))
    except csv.Error as e:
        raise InputError(f"{path} line {reader.line_num}: malformed CSV ({e})", "fix the quoting on that line") from None
    if header is None:
        raise InputError(f"{path} has no header row", "put the column names on the first line")


def _check_header(path: Path, names: list[str], line: int) -> list[str]:
    seen: set[str] = set()
    for column, name in enumerate(names, 1):
        if not name:
            raise InputError(f"{path} header (line {line}): column {column} has an empty name", "name every column")
        if name in seen:
            raise InputError(f"{path} header (line {line}): column name {name!r} appears twice", "give every column a distinct name")
        seen.add(name)
    return names

"""CSV with a header row: each data row is a JSON object of strings, hashed as RFC 8785.

Reading streams the file through one ``csv.reader``. Hashing cuts the rows after the
header into pieces (:mod:`._pieces`) at line feeds outside double quotes, judged by the
parity of the quotes before them, which is right for every RFC 4180 file. A piece is then
parsed on its own; if a file fools the parity (a stray quote inside an unquoted field),
the piece fails to parse cleanly and the rest of the file is read here instead, from the
failed piece on. Either way every record is parsed as one reader over the whole file
would, and errors name the same row and line.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path

from modelmint.datasets import _pieces
from modelmint.datasets._pieces import (
    Hashed,
    check_unchanged,
    file_state,
    read_range,
    run_in_order,
    workers_for,
)
from modelmint.datasets._progress import Meter
from modelmint.datasets._text import decode_line, utf8_lines
from modelmint.errors import InputError
from modelmint.hashing import canonical_json, sha256
from modelmint.hashing.files import FileState

# The csv module caps a field at 128 KiB by default; text datasets have longer documents.
_FIELD_LIMIT = 2**31 - 1
_SCAN = 1 << 20


def read_csv(path: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("row N", canonical bytes)`` for each data row, N counting from 1.

    The dialect is RFC 4180 (comma, double quotes, quotes doubled inside quotes). Blank
    lines are skipped; the first non-blank row is the header.

    Raises:
        InputError: the file has no header, a header name is empty or repeated, a row
            has a different number of fields than the header, quoting is broken, or the
            file changes while it is read.
    """
    state = file_state(path)
    header, body, header_lines = _read_header(path)
    meter(body)
    for number, data in _rows(path, header, _texts(path, meter, body, header_lines + 1), header_lines + 1, 1):
        yield f"row {number}", data
    check_unchanged(path, state)


def hash_csv(path: Path, meter: Meter) -> Iterator[Hashed]:
    """Yields the SHA-256 of every data row, a piece at a time, hashing pieces in parallel.

    Raises:
        InputError: as :func:`read_csv`.
    """
    state = file_state(path)
    header, body, header_lines = _read_header(path)
    meter(body)
    ranges = list(_unquoted_ranges(path, body, state.size))
    tasks = [(str(path), state, start, end, header, 1, 1) for start, end in ranges]
    line, row = header_lines + 1, 1
    for (start, end), piece in zip(
        ranges, run_in_order(hash_piece, tasks, workers_for(state.size - body)), strict=True
    ):
        if piece is None:
            check_unchanged(path, state)
            # Read the rest here: this raises the error with its true row and line, or
            # gets past a quote that the parity misjudged.
            yield from _hash_here(path, header, _texts(path, meter, start, line), line, row)
            break
        yield Hashed(piece.hashes, partial(_labels, row, piece.rows))
        line, row = line + piece.lines, row + piece.rows
        meter(end - start)
    check_unchanged(path, state)
    meter.flush()


def _hash_here(
    path: Path, header: list[str], lines: Iterable[str], first_line: int, first_row: int
) -> Iterator[Hashed]:
    rows = _rows(path, header, lines, first_line, first_row)
    while batch := list(islice(rows, 4096)):
        yield Hashed(b"".join(sha256(data) for _, data in batch), partial(_labels, batch[0][0], len(batch)))


@dataclass(frozen=True)
class Piece:
    """The hashes of the rows in a piece of a CSV file."""

    hashes: bytes
    rows: int
    lines: int


def hash_piece(
    path: str, state: FileState, start: int, end: int, header: list[str], first_line: int, first_row: int
) -> Piece:
    """Hashes the rows in bytes ``start .. end - 1``, a range that starts a record.

    Runs in worker processes. Raises InputError if the range does not parse cleanly to its
    end: an error, or a quoted field still open at the end of the range.
    """
    data = read_range(path, state, start, end)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not valid UTF-8", "re-encode the file as UTF-8") from None
    lines = text.split("\n")
    last = lines.pop()  # "" when the range ends with a line feed
    with_endings = [line + "\n" for line in lines] + ([last] if last else [])
    hashes = bytearray()
    sha256 = hashlib.sha256
    rows = 0
    for _, datapoint in _rows(path, header, with_endings, first_line, first_row):
        hashes += sha256(datapoint).digest()
        rows += 1
    return Piece(bytes(hashes), rows, len(with_endings))


def _rows(
    path: Path | str, header: list[str], lines: Iterable[str], first_line: int, first_row: int
) -> Iterator[tuple[int, bytes]]:
    """Yields ``(row number, canonical bytes)`` for the records in ``lines``, which start a
    record at line ``first_line``, row ``first_row``."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(_no_bare_cr(path, lines, first_line), strict=True)
    row = first_row - 1
    try:
        for fields in reader:
            if not fields:
                continue
            row += 1
            if len(fields) != len(header):
                raise InputError(
                    f"{path} row {row} (line {first_line - 1 + reader.line_num}) has {len(fields)} fields but the header has {len(header)}",
                    "give every row one field per header column",
                )
            yield row, canonical_json(dict(zip(header, fields, strict=True)))
    except csv.Error as e:
        raise InputError(
            f"{path} line {first_line - 1 + reader.line_num}: malformed CSV ({e})",
            "fix the quoting on that line",
        ) from None


def _no_bare_cr(path: Path | str, lines: Iterable[str], first_line: int) -> Iterator[str]:
    """The lines, refusing a last line that ends in a bare CR.

    Records end at LF or CRLF (docs/hashing.md §1.3). Python's csv reader would end a record
    at a bare CR that ends the file, where the spec keeps no such rule: a CR outside quotes
    that does not start a CRLF is malformed, at the end of the file as anywhere else (the
    reader refuses it inside a line on its own).
    """
    for number, text in enumerate(lines, first_line):
        if text.endswith("\r"):
            raise InputError(
                f"{path} line {number}: malformed CSV (a bare CR ends the line; records end at LF or CRLF)",
                "end the line with LF or CRLF, or quote a field that holds a CR",
            )
        yield text


def _read_header(path: Path) -> tuple[list[str], int, int]:
    """Reads the header record; returns it, the byte offset after it, and the number of
    the last line it took (blank lines before it included)."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    after = [0, 0]  # the byte offset and number of the last line the reader took

    def lines() -> Iterator[str]:
        try:
            with open(path, "rb") as f:
                for number, raw in enumerate(f, 1):
                    after[0] += len(raw)
                    after[1] = number
                    yield decode_line(path, raw, number, at_start=number == 1)
        except OSError as e:
            raise InputError(
                f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
            ) from None

    reader = csv.reader(_no_bare_cr(path, lines(), 1), strict=True)
    try:
        for fields in reader:  # the reader takes lines only as far as the record it returns
            if fields:
                return _check_header(path, fields, reader.line_num), after[0], after[1]
    except csv.Error as e:
        raise InputError(
            f"{path} line {reader.line_num}: malformed CSV ({e})", "fix the quoting on that line"
        ) from None
    raise InputError(f"{path} has no header row", "put the column names on the first line")


def _texts(path: Path, meter: Meter, start: int, first_line: int) -> Iterator[str]:
    return (text for _, text in utf8_lines(path, meter, start, first_line))


def _unquoted_ranges(path: Path, start: int, size: int) -> Iterator[tuple[int, int]]:
    """Cuts bytes ``start .. size - 1`` into ranges of about ``_pieces.PIECE_BYTES``, each
    ending just after a line feed with an even number of double quotes since ``start``."""
    begin, odd, position = start, False, start
    with open(path, "rb") as f:
        f.seek(start)
        while block := f.read(min(_SCAN, size - position)):
            i = 0
            while True:
                target = max(i, begin + _pieces.PIECE_BYTES - position)  # where the piece may end, in block
                if target >= len(block):
                    odd ^= block.count(b'"', i) % 2 == 1
                    break
                odd ^= block.count(b'"', i, target) % 2 == 1
                newline = block.find(b"\n", target)
                while newline >= 0:
                    odd ^= block.count(b'"', target, newline) % 2 == 1
                    target = newline
                    if not odd:
                        break
                    newline = block.find(b"\n", newline + 1)
                if newline < 0:
                    odd ^= block.count(b'"', target) % 2 == 1
                    break
                yield begin, position + newline + 1
                begin, i = position + newline + 1, newline + 1
            position += len(block)
    if begin < size:
        yield begin, size


def _labels(first_row: int, count: int) -> Iterator[str]:
    return (f"row {first_row + k}" for k in range(count))


def _check_header(path: Path, names: list[str], line: int) -> list[str]:
    seen: set[str] = set()
    for column, name in enumerate(names, 1):
        if not name:
            raise InputError(
                f"{path} header (line {line}): column {column} has an empty name", "name every column"
            )
        if name in seen:
            raise InputError(
                f"{path} header (line {line}): column name {name!r} appears twice",
                "give every column a distinct name",
            )
        seen.add(name)
    return names

"""JSON Lines: each non-blank line is one datapoint, hashed as its RFC 8785 bytes.

The file is read in pieces cut at line feeds (:mod:`._pieces`); hashing runs the pieces on
every core, in threads: the C route (``modelmint.hashing._jcs``) canonicalises and hashes a
piece's lines without the GIL, and hands the lines it cannot vouch for back to the exact
route (:func:`canonicalize_json_text`). Reading yields each line's canonical bytes by
:func:`_datapoints`.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from modelmint.datasets._pieces import (
    Hashed,
    check_unchanged,
    file_state,
    line_ranges,
    read_range,
    run_in_order,
)
from modelmint.datasets._progress import Meter
from modelmint.datasets._text import BOM, decode_line
from modelmint.errors import InputError
from modelmint.hashing import canonicalize_json_text
from modelmint.hashing._jcs import hash_lines
from modelmint.hashing.files import FileState, changed_error

_JSON_WHITESPACE = " \t\r\n"


def read_jsonl(path: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("line N", canonical bytes)`` for each non-blank line.

    Raises:
        InputError: a line is not UTF-8 or not one valid JSON value (the message names
            the file and line), or the file changes while it is read.
    """
    state = file_state(path)
    first_line = 1
    for start, end in line_ranges(path, 0, state.size):
        data = read_range(path, state, start, end)
        for number, datapoint in _datapoints(str(path), data, start, first_line):
            yield f"line {number}", datapoint
        first_line += _line_count(data)
        meter(end - start)
    check_unchanged(path, state)
    meter.flush()


def hash_jsonl(path: Path, meter: Meter) -> Iterator[Hashed]:
    """Yields the SHA-256 of every datapoint, a piece at a time, hashing pieces in parallel.

    Raises:
        InputError: as :func:`read_jsonl`.
    """
    state = file_state(path)
    ranges = line_ranges(path, 0, state.size)
    tasks = [(str(path), state, start, end, 1) for start, end in ranges]
    first_line = 1
    # Threads, not processes: hash_lines and the reads release the GIL.
    for (start, end), piece in zip(ranges, run_in_order(hash_piece, tasks, threads=True), strict=True):
        if piece is None:  # hash it here, with its true line numbers, to raise its error
            check_unchanged(path, state)
            hash_piece(str(path), state, start, end, first_line)
            raise changed_error(path)  # it failed there and not here: the file changed
        yield Hashed(piece.hashes, partial(_labels, first_line, piece.datapoint_lines))
        first_line += piece.line_count
        meter(end - start)
    check_unchanged(path, state)
    meter.flush()


@dataclass(frozen=True)
class Piece:
    """The hashes of the datapoints in a piece of a JSONL file."""

    hashes: bytes
    datapoint_lines: bytes  # array("I"): each datapoint's line, counted from the piece's first (0)
    line_count: int


def hash_piece(path: str, state: FileState, start: int, end: int, first_line: int) -> Piece:
    """Hashes the datapoints of bytes ``start .. end - 1``, a range that starts a line.

    Runs in a worker thread: it opens the file itself and returns hashes only.
    """
    data = read_range(path, state, start, end)
    line_count = _line_count(data)
    if start == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    # The C route canonicalises and hashes the lines it can vouch for; the rest come back
    # as "slow" and take the exact route, with the same bytes or the same error.
    hashes, lines, slow = hash_lines(data)
    if slow:
        hashes = _hash_slow(path, data, first_line, bytearray(hashes), slow)
    return Piece(hashes, lines, line_count)


def _hash_slow(
    path: str, data: bytes, first_line: int, hashes: bytearray, slow: list[tuple[int, int, int, int]]
) -> bytes:
    """Fills in the hashes of the lines the C route left, by the exact route."""
    raws = [data[begin:stop] for _, _, begin, stop in slow]
    # Decoding first, in line order: the first line that is not UTF-8 is reported before
    # any JSON error, as when the piece is decoded whole (the C route refuses every line
    # that is not UTF-8, so all of them are here).
    texts = [
        decode_line(path, raw, first_line + line, at_start=False)
        for raw, (_, line, _, _) in zip(raws, slow, strict=True)
    ]
    sha256 = hashlib.sha256
    for text, (datapoint, line, _, _) in zip(texts, slow, strict=True):
        try:
            canonical = canonicalize_json_text(text)
        except InputError as e:
            raise InputError(f"{path} line {first_line + line}: {e.problem}", e.fix) from None
        hashes[32 * datapoint : 32 * datapoint + 32] = sha256(canonical).digest()
    return bytes(hashes)


def _datapoints(path: str, data: bytes, start: int, first_line: int) -> Iterator[tuple[int, bytes]]:
    """Yields ``(line number, canonical bytes)`` for each non-blank line of a piece that
    begins at byte ``start`` of the file and at line ``first_line``."""
    if start == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        for offset, raw in enumerate(data.split(b"\n")):  # find the line, to name it
            decode_line(path, raw, first_line + offset, at_start=False)
        raise
    for offset, line in enumerate(text.split("\n")):
        if line.strip(_JSON_WHITESPACE):
            try:
                yield first_line + offset, canonicalize_json_text(line)
            except InputError as e:
                raise InputError(f"{path} line {first_line + offset}: {e.problem}", e.fix) from None


def _line_count(data: bytes) -> int:
    """Lines in a piece: its line feeds, and a last line without one."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _labels(first_line: int, datapoint_lines: bytes) -> Iterator[str]:
    return (f"line {first_line + offset}" for offset in array("I", datapoint_lines))

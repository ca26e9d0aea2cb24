"""JSON Lines: each non-blank line is one datapoint, hashed as its RFC 8785 bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from modelmint.datasets._progress import Meter
from modelmint.datasets._text import utf8_lines
from modelmint.errors import InputError
from modelmint.hashing import canonicalize_json_text

_JSON_WHITESPACE = " \t\r\n"


def read_jsonl(path: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("line N", canonical bytes)`` for each non-blank line.

    Raises:
        InputError: a line is not UTF-8 or not one valid JSON value; the message names
            the file and line.
    """
    for number, text in utf8_lines(path, meter):
        if not text.strip(_JSON_WHITESPACE):
            continue
        try:
            data = canonicalize_json_text(text)
        except InputError as e:
            raise InputError(f"{path} line {number}: {e.problem}", e.fix) from None
        yield f"line {number}", data

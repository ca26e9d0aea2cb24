"""UTF-8 text files read line by line, shared by the JSONL and CSV readers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from modelmint.datasets._progress import Meter
from modelmint.errors import InputError

BOM = b"\xef\xbb\xbf"


def utf8_lines(path: Path, meter: Meter, start: int = 0, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """Yields ``(line number, text)`` for each line, line ending kept, numbered from 1.

    Lines end at ``\\n`` (so ``\\r\\n`` works too). A UTF-8 byte order mark at the start
    of the file is dropped. ``start`` (a byte offset where a line starts) and
    ``first_line`` (its number) read the file from there on.

    Raises:
        InputError: the file cannot be read, or a line is not valid UTF-8.
    """
    try:
        with open(path, "rb") as f:
            f.seek(start)
            for number, raw in enumerate(f, first_line):
                meter(len(raw))
                yield number, decode_line(path, raw, number, at_start=start == 0 and number == first_line)
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    meter.flush()


def decode_line(path: Path | str, raw: bytes, number: int, *, at_start: bool) -> str:
    """Decodes one line, dropping a byte order mark if the line starts the file.

    Raises:
        InputError: the line is not valid UTF-8.
    """
    if at_start and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{path} line {number} is not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line)",
            "re-encode the file as UTF-8",
        ) from None

"""UTF-8 text files read line by line, shared by the JSONL and CSV readers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from modelmint.datasets._progress import Meter
from modelmint.errors import InputError

_BOM = b"\xef\xbb\xbf"


def utf8_lines(path: Path, meter: Meter) -> Iterator[tuple[int, str]]:
    """Yields ``(line number, text)`` for each line, line ending kept, numbered from 1.

    Lines end at ``\\n`` (so ``\\r\\n`` works too). A UTF-8 byte order mark at the start
    of the file is dropped.

    Raises:
        InputError: the file cannot be read, or a line is not valid UTF-8.
    """
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                meter(len(raw))
                if number == 1 and raw.startswith(_BOM):
                    raw = raw[len(_BOM) :]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise InputError(
                        f"{path} line {number} is not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte {e.start + 1} of the line)",
                        "re-encode the file as UTF-8",
                    ) from None
                yield number, text
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}", "check that the file is readable") from None
    meter.flush()

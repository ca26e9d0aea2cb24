#!/usr/bin/env python3
"""Fuzz target: the CSV reader (modelmint.datasets._csv).

Any bytes as a .csv file: both routes (read, hash) parse it alike or refuse it alike with
an InputError. Seeds cover quoting, quotes doubled inside quotes, fields across lines, CRLF,
bare CRs, blank lines, a BOM, repeated and empty header names and ragged rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from _harness import InputFile, instrumented, main

with instrumented(__name__):
    from _readers import check_routes

    from modelmint.datasets._csv import hash_csv, read_csv

_FILE = InputFile(".csv")


def test_one_input(data: bytes) -> None:
    check_routes(read_csv, hash_csv, _FILE.write(data))


def seeds() -> Iterator[bytes]:
    yield b"text,label\nhello,1\nworld,0\n"
    yield b'\xef\xbb\xbfa,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",\xc3\xa9\r\n'
    yield b'a,b\n"open quote,1\n2,3\n'
    yield b"a,b\nx,y\r"
    yield b"a,b\nx\r,y\n"
    yield b"\n\n  \na,b\n1,2\n\n3,4"
    yield b"a,a\n1,2\n"
    yield b"a,,c\n1,2,3\n"
    yield b"a,b,c\n1,2\n1,2,3,4\n"
    yield b'a\n"x"y\n'
    yield b"a,b\n\xff,1\n"


if __name__ == "__main__":
    main("csv", test_one_input, seeds)

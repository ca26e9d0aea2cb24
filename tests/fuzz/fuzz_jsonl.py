#!/usr/bin/env python3
"""Fuzz target: the JSON Lines reader (modelmint.datasets._jsonl).

Any bytes as a .jsonl file: both routes (read, hash) parse it alike or refuse it alike with
an InputError. Seeds cover the fast C route and the exact route: BOM, CRLF, blank lines,
escapes, big and small numbers, repeated keys, deep nesting, invalid UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterator

from _harness import InputFile, instrumented, main

with instrumented(__name__):
    from _readers import check_routes

    from modelmint.datasets._jsonl import hash_jsonl, read_jsonl

_FILE = InputFile(".jsonl")


def test_one_input(data: bytes) -> None:
    check_routes(read_jsonl, hash_jsonl, _FILE.write(data))


def seeds() -> Iterator[bytes]:
    yield b'{"text": "hello", "label": 1}\n{"text": "world", "label": 0}\n'
    yield b'\xef\xbb\xbf{"a": 1}\r\n\r\n  \n[1, 2.5, -0.0, 1e308, 5e-324]\n"\\u00e9\\ud83d\\ude00"\n'
    yield b'{"b": 2, "a": {"z": [true, false, null]}}\n{"a": 1, "a": 2}\n'
    yield b"9007199254740991\n9007199254740992\n1E400\n-1.5e-7\n0.1\n"
    yield b'{"k": "\\n\\t\\"\\\\\\/\\b\\f\\r"}\n{"\xc3\xa9": "\xe2\x82\xac"}\n'
    yield b"[" * 40 + b"]" * 40 + b"\n" + b'{"a":' * 10 + b"1" + b"}" * 10 + b"\n"
    yield b'{"a": NaN}\n{"a": Infinity}\n{"a": 1,}\n'
    yield b'{"a": "\xff\xfe"}\n{"ok": 1}'
    yield b'  {"spaced" :  [ 1 , 2 ] }  \t\n'


if __name__ == "__main__":
    main("jsonl", test_one_input, seeds)

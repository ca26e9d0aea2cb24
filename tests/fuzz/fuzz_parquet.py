#!/usr/bin/env python3
"""Fuzz target: the Parquet reader (modelmint.datasets._parquet).

Mutations of small real Parquet files that pyarrow writes (one per family of the type
mapping, plain and dictionary encoded, compressed and not, one and several row groups):
both routes (read, hash) parse each alike or refuse it alike with an InputError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from _harness import InputFile, instrumented, main

with instrumented(__name__):
    from _readers import check_routes

    from modelmint.datasets._parquet import hash_parquet, read_parquet

_FILE = InputFile(".parquet")


def test_one_input(data: bytes) -> None:
    check_routes(read_parquet, hash_parquet, _FILE.write(data))


def _tables() -> Iterator[pa.Table]:
    yield pa.table({"text": ["hello", "world", None], "label": [1, 0, None]})
    yield pa.table({"f": [1.5, -0.0, None], "b": [True, False, None], "i8": pa.array([1, -2, 3], pa.int8())})
    yield pa.table({"bin": [b"\x00\xff", b"", None], "fixed": pa.array([b"ab", b"cd", b"ef"], pa.binary(2))})
    yield pa.table(
        {
            "d": pa.array([dt.date(2024, 1, 1), None, dt.date(1, 1, 1)], pa.date32()),
            "ts": pa.array([0, 1_700_000_000_000_000, None], pa.timestamp("us", tz="UTC")),
            "t": pa.array([0, 86_399_999, None], pa.time32("ms")),
        }
    )
    yield pa.table({"dec": pa.array([Decimal("1.25"), Decimal("-0.01"), None], pa.decimal128(5, 2))})
    yield pa.table(
        {
            "list": [[1, 2], [], None],
            "struct": [{"x": 1, "y": "a"}, None, {"x": None, "y": "c"}],
            "map": pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),
        }
    )
    yield pa.table({"cat": pa.array(["a", "b", "a"]).dictionary_encode()})


def seeds() -> Iterator[bytes]:
    for number, table in enumerate(_tables()):
        for options in (
            {"compression": "none", "use_dictionary": False},
            {"compression": "snappy", "use_dictionary": True, "row_group_size": 1},
        ):
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, **options)
            yield sink.getvalue().to_pybytes()
        if number == 0:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression="zstd", data_page_version="2.0")
            yield sink.getvalue().to_pybytes()


if __name__ == "__main__":
    main("parquet", test_one_input, seeds)

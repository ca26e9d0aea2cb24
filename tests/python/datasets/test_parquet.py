"""Parquet datapoints: each row a JSON object, with the documented type mapping."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelmint.datasets import hash_dataset, iter_datapoints
from modelmint.errors import InputError
from modelmint.hashing import sha256


def _write(tmp_path: Path, table: pa.Table, **options) -> Path:
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, **options)
    return path


def test_type_mapping(tmp_path: Path) -> None:
    """Every row of docs/hashing.md's Parquet table; a change here is a change of scheme."""
    table = pa.table(
        {
            "null": pa.array([None, None], pa.null()),
            "bool": pa.array([True, None]),
            "int": pa.array([-(2**53) + 1, 7], pa.int64()),
            "uint8": pa.array([255, 0], pa.uint8()),
            "f32": pa.array([0.1, 1.0], pa.float32()),
            "f64": pa.array([1e21, -0.0], pa.float64()),
            "f16": pa.array([1.5, None], pa.float16()),
            "str": pa.array(["caf\u00e9", ""]),
            "dict": pa.array(["x", "x"]).dictionary_encode(),
            "bin": pa.array([b"\x00\xff", None], pa.binary()),
            "fixed": pa.array([b"ab", b"cd"], pa.binary(2)),
            "date32": pa.array([dt.date(2024, 2, 29), dt.date(1, 1, 1)], pa.date32()),
            "date64": pa.array([dt.date(2024, 2, 29), None], pa.date64()),
            "ts_ns_utc": pa.array([1_700_000_000_123_456_789, -1], pa.timestamp("ns", "Europe/Paris")),
            "ts_us": pa.array([0, 1], pa.timestamp("us")),
            "ts_ms": pa.array([0, 1], pa.timestamp("ms")),
            "time_us": pa.array([3_723_000_001, None], pa.time64("us")),
            "time_ms": pa.array([0, 86_399_999], pa.time32("ms")),
            "dec": pa.array([decimal.Decimal("-1.50"), decimal.Decimal(0)], pa.decimal128(10, 2)),
            "list_ts": pa.array([[dt.datetime(2020, 1, 1), None], None], pa.list_(pa.timestamp("ms"))),
            "struct": pa.array(
                [{"a": b"x", "b": [1, 2]}, None],
                pa.struct([("a", pa.binary()), ("b", pa.large_list(pa.int32()))]),
            ),
            "map": pa.array([[("k", dt.date(2000, 1, 1))], []], pa.map_(pa.string(), pa.date32())),
            "fixed_list": pa.array([[1, 2], [3, 4]], pa.list_(pa.int8(), 2)),
        }
    )
    rows = list(iter_datapoints(_write(tmp_path, table)))
    assert rows == [
        (
            "row 1",
            '{"bin":"AP8=","bool":true,"date32":"2024-02-29","date64":"2024-02-29","dec":"-1.50","dict":"x",'
            '"f16":1.5,"f32":0.10000000149011612,"f64":1e+21,"fixed":"YWI=","fixed_list":[1,2],"int":-9007199254740991,'
            '"list_ts":["2020-01-01T00:00:00.000",null],"map":[["k","2000-01-01"]],"null":null,"str":"café",'
            '"struct":{"a":"eA==","b":[1,2]},"time_ms":"00:00:00.000","time_us":"01:02:03.000001",'
            '"ts_ms":"1970-01-01T00:00:00.000","ts_ns_utc":"2023-11-14T22:13:20.123456789Z",'
            '"ts_us":"1970-01-01T00:00:00.000000","uint8":255}'.encode(),
        ),
        (
            "row 2",
            (
                b'{"bin":null,"bool":null,"date32":"0001-01-01","date64":null,"dec":"0.00","dict":"x","f16":null,"f32":1,'
                b'"f64":0,"fixed":"Y2Q=","fixed_list":[3,4],"int":7,"list_ts":null,"map":[],"null":null,"str":"",'
                b'"struct":null,"time_ms":"23:59:59.999","time_us":null,"ts_ms":"1970-01-01T00:00:00.001",'
                b'"ts_ns_utc":"1969-12-31T23:59:59.999999999Z","ts_us":"1970-01-01T00:00:00.000001","uint8":0}'
            ),
        ),
    ]


def test_row_groups_are_read_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, pa.table({"i": list(range(10))}), row_group_size=3)
    assert pq.ParquetFile(path).num_row_groups == 4
    digest = hash_dataset(path)
    assert (digest.format, digest.scheme, digest.count) == ("parquet", "modelmint.parquet.v1", 10)
    assert digest.hashes == b"".join(sha256(b'{"i":%d}' % i) for i in range(10))


def test_strings_hash_like_csv_and_jsonl(tmp_path: Path) -> None:
    path = _write(tmp_path, pa.table({"text": ["a", "a"], "label": ["1", "1"]}))
    (tmp_path / "d.csv").write_text("text,label\na,1\na,1\n")
    (tmp_path / "d.jsonl").write_text('{"label": "1", "text": "a"}\n{"text": "a", "label": "1"}\n')
    assert (
        hash_dataset(path).hashes
        == hash_dataset(tmp_path / "d.csv").hashes
        == hash_dataset(tmp_path / "d.jsonl").hashes
    )


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (
            pa.array([1, 2**60], pa.uint64()),
            r"row 2: integer 1152921504606846976 is outside the JSON safe range",
        ),
        (pa.array([1.0, float("nan")]), r"row 2: number nan is not finite"),
        (
            pa.array([0, 3_000_000], pa.date32()),
            r"column 'c', row 2: date 3000000 days from 1970-01-01 is outside",
        ),
        (pa.array([[1.0], [float("inf")]], pa.list_(pa.float32())), r"row 2: number inf is not finite"),
    ],
)
def test_values_outside_the_mapping_are_refused_with_row(
    tmp_path: Path, column: pa.Array, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        hash_dataset(_write(tmp_path, pa.table({"c": column})))


def test_unsupported_type_is_refused_naming_the_column(tmp_path: Path) -> None:
    path = _write(tmp_path, pa.table({"ok": [1], "wait": pa.array([5], pa.duration("s"))}))
    with pytest.raises(InputError, match=r"column 'wait' has type duration\[s\], which has no JSON mapping"):
        hash_dataset(path)


def test_repeated_column_name_is_refused(tmp_path: Path) -> None:
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"])
    with pytest.raises(InputError, match="column name 'x' appears twice"):
        hash_dataset(_write(tmp_path, table))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped"])
def test_corrupt_file_is_an_input_error(tmp_path: Path, damage: str) -> None:
    path = _write(tmp_path, pa.table({"text": [f"row {i}" * 20 for i in range(200)]}), compression="none")
    data = bytearray(path.read_bytes())
    if damage == "garbage":
        data = bytearray(b"not parquet at all" * 10)
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:
        # Overwrite the first data page's header and values, keeping the footer intact.
        data[4:600] = b"\xff" * 596
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"Parquet|row group"):
        hash_dataset(path)


def test_zero_rows_is_empty(tmp_path: Path) -> None:
    path = _write(tmp_path, pa.table({"x": pa.array([], pa.int64())}))
    with pytest.raises(InputError, match="holds no datapoints"):
        hash_dataset(path)

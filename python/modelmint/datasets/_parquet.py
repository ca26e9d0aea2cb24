"""Parquet: each row is a JSON object keyed by column name, hashed as RFC 8785.

Arrow types map to JSON as docs/hashing.md tabulates; every mapping depends only on the
column's type and the stored value, never on the writer or the pyarrow version. A column
is converted to Python values one row group at a time, so memory follows the largest row
group, not the file. Hashing spreads row groups over worker processes (:mod:`._pieces`).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.types as pt

from modelmint.datasets._pieces import (
    Hashed,
    check_unchanged,
    file_state,
    run_in_order,
    workers_for,
)
from modelmint.datasets._progress import Meter
from modelmint.errors import InputError
from modelmint.hashing import canonical_json, sha256
from modelmint.hashing.files import FileState, changed_error

Convert = Callable[[Any], Any]
"""Maps one non-null Python value (from ``to_pylist`` of the storage type) to JSON."""

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}
_EPOCH = dt.datetime(1970, 1, 1)
_DAY_MS = 86_400_000
_TASK_ROWS = 16_384  # rows a worker hashes at least per task: row groups are batched up to it
_BATCH_ROWS = 65_536  # rows read at a time within a row group (_read_group says why)


def read_parquet(path: Path, meter: Meter) -> Iterator[tuple[str, bytes]]:
    """Yields ``("row N", canonical bytes)`` for each row, N counting from 1.

    Raises:
        InputError: the file is not readable Parquet, has no columns, repeats a column
            or struct field name, has a column of a type with no JSON mapping, or holds
            a value outside its mapping (an unsafe integer, a non-finite float, a date
            outside years 1-9999).
    """
    state = file_state(path)
    parquet = _open(path)
    for row, data in enumerate(
        arrow_rows(parquet.schema_arrow, _row_groups(parquet, path, meter), str(path)), 1
    ):
        yield f"row {row}", data
    check_unchanged(path, state)


def hash_parquet(path: Path, meter: Meter) -> Iterator[Hashed]:
    """Yields the SHA-256 of every row, row groups hashed in parallel where there are
    enough rows to pay for starting the workers.

    Raises:
        InputError: as :func:`read_parquet`.
    """
    state = file_state(path)
    metadata = _open(path).metadata
    total = metadata.num_rows
    tasks: list[tuple[str, FileState, int, int]] = []
    rows: list[int] = []
    for group in range(metadata.num_row_groups):
        if not tasks or rows[-1] >= _TASK_ROWS:
            tasks.append((str(path), state, group, group + 1))
            rows.append(0)
        else:
            tasks[-1] = (*tasks[-1][:3], group + 1)
        rows[-1] += metadata.row_group(group).num_rows
    done = reported = 0
    for count, hashes in zip(
        rows, run_in_order(hash_row_groups, tasks, workers_for(state.size)), strict=True
    ):
        if hashes is None:  # read it all here, which raises the error with its row number
            check_unchanged(path, state)
            for _ in read_parquet(path, Meter(None)):
                pass
            raise changed_error(path)
        yield Hashed(hashes, partial(_labels, done + 1, count))
        done += count
        # Parquet has no byte offset per row: report the file in proportion to rows read.
        share = state.size * done // total if total else state.size
        meter(share - reported)
        reported = share
    meter(state.size - reported)
    check_unchanged(path, state)
    meter.flush()


def hash_row_groups(path: str, state: FileState, first: int, stop: int) -> bytes:
    """Returns the SHA-256 of the rows of row groups ``first .. stop - 1``, concatenated.

    Runs in worker processes; numbers rows in messages from the first group's first row.
    """
    with open(path, "rb") as f:
        if FileState.of(os.fstat(f.fileno())) != state:
            raise changed_error(path)
        parquet = _open(f)
        groups = (_read_group(parquet, path, group) for group in range(first, stop))
        return b"".join(sha256(data) for data in arrow_rows(parquet.schema_arrow, groups, path))


def _open(source: Path | BinaryIO) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(source)
    # pyarrow decodes column names as UTF-8 in Python and lets a malformed one escape.
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
        name = source if isinstance(source, Path) else source.name
        raise InputError(
            f"{name} is not a readable Parquet file ({_arrow_message(e)})",
            "check that the file is complete and is Parquet",
        ) from None


def _read_group(parquet: pq.ParquetFile, path: Path | str, group: int) -> pa.Table:
    # In batches: a whole row group is read into buffers sized by the rows its metadata claims,
    # before any page is read, so a corrupt count in a file of a few hundred bytes takes
    # gigabytes; batch by batch the reader stops where the pages end.
    try:
        batches = parquet.iter_batches(_BATCH_ROWS, row_groups=[group], use_threads=False)
        table = pa.Table.from_batches(list(batches), schema=parquet.schema_arrow)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path} row group {group} cannot be read ({_arrow_message(e)})",
            "check that the file is complete and not corrupt",
        ) from None
    # Hashing counts and numbers rows by the metadata, reading by the data: a corrupt file where
    # they differ would give each route a different dataset.
    expected = parquet.metadata.row_group(group).num_rows
    if table.num_rows != expected:
        raise InputError(
            f"{path} row group {group} holds {table.num_rows} rows but its metadata says {expected}",
            "check that the file is complete and not corrupt",
        )
    return table


def _arrow_message(e: Exception) -> str:
    """Arrow's message on one line: its Thrift and IO errors can end in a line feed, and an
    error is printed as one line."""
    return " ".join(str(e).split())


def _labels(first_row: int, count: int) -> Iterator[str]:
    return (f"row {first_row + k}" for k in range(count))


def arrow_rows(schema: pa.Schema, tables: Iterable[pa.Table], where: str) -> Iterator[bytes]:
    """Yields the canonical bytes of every row of ``tables``, all of ``schema``, in order.

    The one implementation of the Parquet type mapping, shared by every format whose rows
    are Arrow data (Parquet, Hugging Face ``datasets``). ``where`` starts error messages.

    Raises:
        InputError: the schema has no columns, repeats a column or struct field name, or
            has a type with no JSON mapping, or a value is outside its mapping.
    """
    # Extension types (the `datasets` Array2D … Array5D) map as their storage type: pyarrow
    # gives the extension only where its Python class is registered (a process that imported
    # `datasets`), and the storage type elsewhere; viewing both as storage makes one rule.
    schema = storage_schema(schema)
    tables = (storage_table(table, schema) for table in tables)
    names = schema.names
    if not names:
        raise InputError(f"{where} has no columns", "write at least one column")
    _check_unique(names, f"{where}: column")
    try:
        plans = [_plan(field.type, f"{where}: column {field.name!r}") for field in schema]
    except UnicodeDecodeError:  # a type parameter the file stores as text (a timestamp's zone)
        raise InputError(
            f"{where} is not a readable Parquet file: its schema holds text that is not UTF-8",
            "write the file again with pyarrow or another Parquet writer",
        ) from None
    row = 0
    for table in tables:
        columns = [
            _column_values(table.column(i), storage, convert, row, f"{where}: column {names[i]!r}")
            for i, (storage, convert) in enumerate(plans)
        ]
        for values in zip(*columns, strict=True):
            row += 1
            try:
                data = canonical_json(dict(zip(names, values, strict=True)))
            except InputError as e:
                raise InputError(f"{where} row {row}: {e.problem}", e.fix) from None
            yield data


def _row_groups(parquet: pq.ParquetFile, path: Path, meter: Meter) -> Iterator[pa.Table]:
    size = path.stat().st_size
    total_rows = parquet.metadata.num_rows
    reported = rows = 0
    for group in range(parquet.num_row_groups):
        yield _read_group(parquet, path, group)  # resumed once the group's rows are consumed
        rows += parquet.metadata.row_group(group).num_rows
        # Parquet has no byte offset per row: report the file in proportion to rows read.
        done = size * rows // total_rows if total_rows else size
        meter(done - reported)
        reported = done
    meter(size - reported)
    meter.flush()


def _column_values(
    column: pa.ChunkedArray, storage: pa.DataType, convert: Convert | None, first_row: int, where: str
) -> list[Any]:
    values: list[Any] = []
    try:
        for chunk in column.chunks:
            values.extend((chunk if chunk.type.equals(storage) else chunk.cast(storage)).to_pylist())
    # Parquet readers do not validate strings: a corrupt one fails here, as it becomes Python's.
    except (pa.ArrowException, UnicodeDecodeError) as e:
        raise InputError(
            f"{where} cannot be read from row {first_row + 1} ({_arrow_message(e)})",
            "check that the file is not corrupt",
        ) from None
    if convert is None:
        return values
    try:
        return [None if v is None else convert(v) for v in values]
    except InputError:
        for offset, v in enumerate(values):  # find the row to name; the failure path only
            try:
                None if v is None else convert(v)
            except InputError as e:
                raise InputError(f"{where}, row {first_row + offset + 1}: {e.problem}", e.fix) from None
        raise


def _plan(  # noqa: PLR0911, PLR0912 -- one branch per Arrow type family, each returning its plan
    t: pa.DataType, where: str
) -> tuple[pa.DataType, Convert | None]:
    """Returns the type to cast a column to before ``to_pylist``, and the per-value
    conversion to JSON (None where ``to_pylist`` already gives the JSON value)."""
    if pt.is_null(t) or pt.is_boolean(t) or pt.is_integer(t) or pt.is_floating(t):
        return t, None  # canonical_json refuses unsafe integers and non-finite floats
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t):
        return t, None
    if pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t) or pt.is_binary_view(t):
        return t, _base64
    if pt.is_date32(t):
        return pa.int32(), _date_from_days
    if pt.is_date64(t):
        return pa.int64(), _date_from_ms
    if pt.is_timestamp(t):
        return pa.int64(), partial(_timestamp, t.unit, t.tz is not None)
    if pt.is_time32(t):
        return pa.int32(), partial(_time_of_day, t.unit)
    if pt.is_time64(t):
        return pa.int64(), partial(_time_of_day, t.unit)
    if pt.is_decimal(t):
        return t, _decimal
    if pt.is_dictionary(t):
        return _plan(t.value_type, where)
    if (
        pt.is_list(t)
        or pt.is_large_list(t)
        or pt.is_fixed_size_list(t)
        or pt.is_list_view(t)
        or pt.is_large_list_view(t)
    ):
        child_storage, child = _plan(t.value_type, where)
        value_field = t.value_field.with_type(child_storage)
        if pt.is_fixed_size_list(t):
            storage = pa.list_(value_field, t.list_size)
        else:
            constructor = {
                pt.is_list: pa.list_,
                pt.is_large_list: pa.large_list,
                pt.is_list_view: pa.list_view,
                pt.is_large_list_view: pa.large_list_view,
            }
            storage = next(make for test, make in constructor.items() if test(t))(value_field)
        return storage, (None if child is None else partial(_list, child))
    if pt.is_map(t):
        key_storage, key = _plan(t.key_type, where)
        item_storage, item = _plan(t.item_type, where)
        storage = pa.map_(
            t.key_field.with_type(key_storage), t.item_field.with_type(item_storage), t.keys_sorted
        )
        return storage, partial(_pairs, key or _same, item or _same)
    if pt.is_struct(t):
        fields = [t.field(i) for i in range(t.num_fields)]
        _check_unique([f.name for f in fields], f"{where}: struct field")
        plans = [_plan(f.type, f"{where}.{f.name}") for f in fields]
        storage = pa.struct([f.with_type(s) for f, (s, _) in zip(fields, plans, strict=True)])
        converters = {f.name: c for f, (_, c) in zip(fields, plans, strict=True) if c is not None}
        return storage, (partial(_object, converters) if converters else None)
    raise InputError(
        f"{where} has type {t}, which has no JSON mapping",
        "cast it to a supported type (see docs/hashing.md, Parquet) before hashing",
    )


def storage_table(table: pa.Table, schema: pa.Schema | None = None) -> pa.Table:
    """``table`` with every column viewed as its storage type (``schema``, from
    :func:`storage_schema` of the table's own schema when None): the form
    :func:`arrow_rows` maps to JSON, for a saved dataset's
    Arrow file and an in-memory one alike."""
    schema = schema or storage_schema(table.schema)
    columns = [
        pa.chunked_array([chunk.view(field.type) for chunk in column.chunks], type=field.type)
        for column, field in zip(table.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def storage_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with every extension type (``Array2D`` … ``Array5D``) replaced by its
    storage type, whether or not ``datasets`` is imported and has registered it."""
    return pa.schema([pa.field(f.name, _storage_type(f.type), f.nullable) for f in schema])


def _storage_type(t: pa.DataType) -> pa.DataType:
    if isinstance(t, pa.BaseExtensionType):
        return _storage_type(t.storage_type)
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        field = t.value_field.with_type(_storage_type(t.value_type))
        if pt.is_fixed_size_list(t):
            return pa.list_(field, t.list_size)
        return pa.large_list(field) if pt.is_large_list(t) else pa.list_(field)
    if pt.is_struct(t):
        return pa.struct([t.field(i).with_type(_storage_type(t.field(i).type)) for i in range(t.num_fields)])
    if pt.is_map(t):
        key = t.key_field.with_type(_storage_type(t.key_type))
        item = t.item_field.with_type(_storage_type(t.item_type))
        return pa.map_(key, item, t.keys_sorted)
    return t


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"{what} name {name!r} appears twice", "give every column and struct field a distinct name"
            )
        seen.add(name)


def _same(v: Any) -> Any:
    return v


def _list(convert: Convert, values: list[Any]) -> list[Any]:
    return [None if v is None else convert(v) for v in values]


def _pairs(key: Convert, item: Convert, pairs: list[tuple[Any, Any]]) -> list[list[Any]]:
    return [[key(k), None if v is None else item(v)] for k, v in pairs]


def _object(converters: dict[str, Convert], value: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if v is None or k not in converters else converters[k](v)) for k, v in value.items()}


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _date_from_days(days: int) -> str:
    try:
        return (_EPOCH + dt.timedelta(days=days)).date().isoformat()
    except OverflowError:
        raise InputError(
            f"date {days} days from 1970-01-01 is outside years 1-9999", "store it as a string"
        ) from None


def _date_from_ms(ms: int) -> str:
    return _date_from_days(ms // _DAY_MS)


def _timestamp(unit: str, utc: bool, ticks: int) -> str:
    seconds, fraction = divmod(ticks, _PER_SECOND[unit])
    try:
        text = (_EPOCH + dt.timedelta(seconds=seconds)).isoformat()
    except OverflowError:
        raise InputError(
            f"timestamp {ticks} {unit} from 1970-01-01 is outside years 1-9999", "store it as a string"
        ) from None
    if _DIGITS[unit]:
        text += f".{fraction:0{_DIGITS[unit]}d}"
    return text + "Z" if utc else text


def _time_of_day(unit: str, ticks: int) -> str:
    seconds, fraction = divmod(ticks, _PER_SECOND[unit])
    if not 0 <= seconds < 86_400:
        raise InputError(f"time of day {ticks} {unit} is outside 00:00:00-23:59:59", "store it as a string")
    text = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return text + f".{fraction:0{_DIGITS[unit]}d}" if _DIGITS[unit] else text

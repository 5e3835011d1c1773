"""CSV and Parquet rows as line protocol, for ``influxkit write``.

One row is one point: ``--measurement`` names it, ``--tag`` columns are tags, the time
column is the timestamp and every other column is a field. Arrow types pick the field
type (int -> ``i``, uint -> ``u``, float, bool, string); a null skips that field (or
tag). A row that ends up without any field, or with a time that cannot be read, is
reported with its 1-based row number instead of being sent.

This is deliberately small and separate from the command, so it can be replaced by the
library's columnar encoder once that exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from influxkit.errors import InfluxError
from influxkit.lineprotocol.escape import escape_key, escape_measurement, escape_string
from influxkit.lineprotocol.precision import FACTORS, time_to_nanos

__all__ = [
    "LayoutError",
    "Row",
    "TableLayout",
    "check_layout",
    "iter_parquet",
    "read_csv",
    "table_rows",
]


class LayoutError(ValueError):
    """The table does not fit the layout (a missing column, nothing left to be a field)."""


@dataclass(frozen=True, slots=True)
class TableLayout:
    """How columns become a point: measurement, tag columns, time column and its unit.

    ``time_unit`` is the unit of a numeric time column (``ns``, ``us``, ``ms``, ``s``);
    timestamp columns and ISO-8601 strings carry their own.
    """

    measurement: str
    tags: tuple[str, ...] = ()
    time_column: str = "time"
    time_unit: str = "ns"


@dataclass(frozen=True, slots=True)
class Row:
    """One converted row: its 1-based number and either its line or why it has none."""

    number: int
    line: str | None
    error: str | None = None


def read_csv(source: str | IO[bytes], layout: TableLayout) -> pa.Table:
    """Read a CSV file (header row first) with tag columns kept as text and empty as null."""
    import pyarrow.csv as pacsv

    options = pacsv.ConvertOptions(
        strings_can_be_null=True,
        column_types=dict.fromkeys(layout.tags, pa.string()),
    )
    return pacsv.read_csv(source, convert_options=options)


def iter_parquet(
    source: str | IO[bytes], batch_size: int
) -> tuple[pa.Schema, int, Iterator[pa.RecordBatch]]:
    """A Parquet file's schema, row count and record batches (read a batch at a time)."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source)
    return file.schema_arrow, file.metadata.num_rows, file.iter_batches(batch_size=batch_size)


def check_layout(schema: pa.Schema, layout: TableLayout) -> list[str]:
    """The field columns of ``schema`` under ``layout``.

    Raises:
        LayoutError: a tag or time column is missing, no column is left for fields, or a
            name or type cannot be carried by line protocol.
    """
    names = list(schema.names)
    shown = ", ".join(names) or "none"
    for tag in layout.tags:
        if tag not in names:
            raise LayoutError(f"tag column {tag!r} is not in the file (columns: {shown})")
    if layout.time_column not in names:
        raise LayoutError(
            f"time column {layout.time_column!r} is not in the file (columns: {shown}); "
            "name it with --time-column"
        )
    if layout.time_column in layout.tags:
        raise LayoutError(f"column {layout.time_column!r} cannot be both the time and a tag")
    if layout.time_unit not in FACTORS:
        raise LayoutError(f"unknown time unit {layout.time_unit!r}; use ns, us, ms or s")
    fields = [n for n in names if n != layout.time_column and n not in layout.tags]
    if not fields:
        raise LayoutError("no column is left to be a field: every column is a tag or the time")
    try:
        escape_measurement(layout.measurement)
        for name in (*layout.tags, *fields):
            escape_key(name, "column name")
    except InfluxError as exc:
        raise LayoutError(exc.message) from None
    for name in fields:
        _field_formatter(schema.field(name).type, name)  # raises for unsupported types
    return fields


def table_rows(
    batches: Iterable[pa.RecordBatch], layout: TableLayout, first_row: int = 1
) -> Iterator[Row]:
    """Every row of ``batches`` as a :class:`Row`, numbered from ``first_row``.

    Raises:
        LayoutError: see :func:`check_layout` (checked on the first batch's schema).
    """
    number = first_row
    fields: list[str] | None = None
    measurement = escape_measurement(layout.measurement)
    for batch in batches:
        if fields is None:
            fields = check_layout(batch.schema, layout)
        yield from _batch_rows(batch, layout, measurement, fields, number)
        number += batch.num_rows


def _batch_rows(
    batch: pa.RecordBatch, layout: TableLayout, measurement: str, fields: list[str], first: int
) -> Iterator[Row]:
    tags = [(escape_key(t, "tag key"), _as_text(batch.column(t)).to_pylist()) for t in layout.tags]
    values = [
        (
            escape_key(f, "field key"),
            _field_formatter(batch.schema.field(f).type, f),
            _plain(batch.column(f)).to_pylist(),
        )
        for f in fields
    ]
    times = _times(batch.column(layout.time_column), layout.time_unit)
    for i in range(batch.num_rows):
        number = first + i
        try:
            line = _line(i, measurement, tags, values)
            ts = times[i]
            if ts is None:
                raise ValueError(f"no time in column {layout.time_column!r}")
            if not isinstance(ts, int):
                ts = ts()  # deferred: raises with the reason the value cannot be a time
        except (ValueError, InfluxError) as exc:
            yield Row(number, None, getattr(exc, "message", None) or str(exc))
            continue
        yield Row(number, f"{line} {ts}")


def _line(
    i: int,
    measurement: str,
    tags: list[tuple[str, list[Any]]],
    fields: list[tuple[str, Callable[[Any], str], list[Any]]],
) -> str:
    """Row ``i`` as ``measurement,tags fields`` (no timestamp)."""
    parts = [measurement]
    for key, column in tags:
        value = column[i]
        if value is not None and value != "":  # line protocol has no empty tag value
            parts.append(f"{key}={escape_key(value, 'tag value')}")
    pairs = [f"{key}={fmt(column[i])}" for key, fmt, column in fields if column[i] is not None]
    if not pairs:
        names = ", ".join(key for key, _, _ in fields)
        raise ValueError(f"no field values (every one of {names} is empty)")
    return f"{','.join(parts)} {','.join(pairs)}"


def _plain(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The column without dictionary encoding, decimals as floats."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    elif _needs_text(column.type):
        column = pc.cast(column, pa.string())
    return column


def _needs_text(t: pa.DataType) -> bool:
    return (
        pa.types.is_temporal(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    ) and not pa.types.is_string(t)


def _as_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A tag column as strings (numbers and booleans as their text)."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def _field_formatter(t: pa.DataType, name: str) -> Callable[[Any], str]:
    """How a value of Arrow type ``t`` is written as a field value."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_boolean(t):
        return _bool
    if pa.types.is_signed_integer(t):
        return _int
    if pa.types.is_unsigned_integer(t):
        return _uint
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _float
    if pa.types.is_string(t) or _needs_text(t):
        return escape_string
    raise LayoutError(
        f"column {name!r} has type {t}, which line protocol cannot carry "
        "(fields are integers, floats, booleans or strings)"
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _int(value: int) -> str:
    return f"{value}i"


def _uint(value: int) -> str:
    return f"{value}u"


def _float(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a number line protocol can carry")
    return repr(value)


def _times(column: pa.Array | pa.ChunkedArray, unit: str) -> list[Any]:
    """Nanosecond timestamps, ``None`` for a null, or a callable that raises the reason."""
    t = column.type
    if pa.types.is_dictionary(t):
        column = pc.cast(column, t.value_type)
        t = column.type
    if pa.types.is_timestamp(t):
        return pc.cast(column, pa.timestamp("ns", t.tz)).cast(pa.int64()).to_pylist()
    if pa.types.is_date(t):
        return pc.cast(column, pa.timestamp("ns")).cast(pa.int64()).to_pylist()
    factor = FACTORS[unit]
    out: list[Any] = []
    for value in column.to_pylist():
        if value is None:
            out.append(None)
        elif isinstance(value, float):
            out.append(_float_time(value, factor))
        else:
            out.append(_parsed_time(value, unit))
    return out


def _float_time(value: float, factor: int) -> Any:
    if math.isfinite(value):
        return round(value * factor)
    return _failing(f"time {value} is not a number")


def _parsed_time(value: Any, unit: str) -> Any:
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value)  # epoch numbers in a column that is text for other rows
    try:
        return time_to_nanos(value, unit)
    except InfluxError as exc:
        return _failing(exc.message)


def _failing(message: str) -> Callable[[], int]:
    def fail() -> int:
        raise ValueError(message)

    return fail

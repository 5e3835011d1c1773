"""``from(bucket:) |> range()``: a bucket's points as Flux tables, read through DataFusion.

The bucket is a database of the engine.  For each measurement a predicate can keep,
DataFusion selects the points in ``[start, stop)`` (start inclusive, stop exclusive,
as ``range`` is documented), ordered by time, with only the fields the predicates can
keep.  Each (series, field) then becomes one table in Flux's long format, as 2.x's
storage returns them:

    _start, _stop, _time, _value, _field, _measurement, <tag keys, sorted>

with the group key ``_start, _stop, _field, _measurement, <tags>``.  A series is its
measurement and the tags it has (a point without ``host`` is another series, whose
table has no ``host`` column).  Tables come in series-key order: measurement, then
tags compared key by key, then field, as 2.x's index sorts ``\\x00=<m>,<tags>,\\xff=<f>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.flux.table import (
    BOOL,
    DOUBLE,
    LONG,
    STRING,
    TIME,
    ULONG,
    Column,
    Table,
)
from influxkit.clients.local.storage import COLUMN_METADATA_KEY, FIELD_TYPE_NAMES, TAG
from influxkit.lineprotocol.model import FieldType

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["KeepFn", "read_range"]

#: ``keep(measurement, field)`` is False when no row of that measurement (``field=None``)
#: or of that field can pass the pushed-down filters.
KeepFn = Callable[[str, "str | None"], bool]

_FLUX_TYPES = {
    FIELD_TYPE_NAMES[FieldType.FLOAT]: DOUBLE,
    FIELD_TYPE_NAMES[FieldType.INTEGER]: LONG,
    FIELD_TYPE_NAMES[FieldType.UINTEGER]: ULONG,
    FIELD_TYPE_NAMES[FieldType.STRING]: STRING,
    FIELD_TYPE_NAMES[FieldType.BOOLEAN]: BOOL,
}
_LEADING = (
    Column("_start", TIME),
    Column("_stop", TIME),
    Column("_time", TIME),
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _roles(table: pa.Table) -> tuple[list[str], dict[str, str]]:
    """The tag columns and the field columns (name -> Flux type) of a measurement table."""
    tags: list[str] = []
    fields: dict[str, str] = {}
    for f in table.schema:
        role = (f.metadata or {}).get(COLUMN_METADATA_KEY.encode(), b"").decode()
        if role == TAG:
            tags.append(f.name)
        elif role in _FLUX_TYPES:
            fields[f.name] = _FLUX_TYPES[role]
    return tags, fields


def _select(
    measurement: str, table: pa.Table, tags: list[str], fields: list[str], *, start: int, stop: int
) -> dict[str, list[Any]]:
    """The measurement's points in ``[start, stop)`` by time, as Python lists per column."""
    from influxkit.clients.local.sql import Session

    columns = [_quote(c) for c in (*tags, *fields)]
    sql = (
        f"SELECT {', '.join(columns)}, CAST(time AS BIGINT) AS __time FROM {_quote(measurement)} "
        "WHERE time >= arrow_cast($start, 'Timestamp(Nanosecond, None)') "
        "AND time < arrow_cast($stop, 'Timestamp(Nanosecond, None)') ORDER BY time"
    )
    result = Session({measurement: table}).run(sql, {"start": start, "stop": stop})
    return {name: result.column(i).to_pylist() for i, name in enumerate(result.schema.names)}


def _series_order(item: tuple[tuple[str, tuple[tuple[str, str], ...], str], Any]) -> list[Any]:
    (measurement, tagset, field), _ = item
    return [("\x00", measurement), *tagset, ("\xff", field)]


def read_range(
    snapshot: Mapping[str, pa.Table], start: int, stop: int, keep: KeepFn
) -> list[Table]:
    """The bucket's tables for ``range(start, stop)`` (ns), skipping what ``keep`` rules out."""
    series: dict[tuple[str, tuple[tuple[str, str], ...], str], list[tuple[int, Any]]] = {}
    field_types: dict[tuple[str, str], str] = {}
    for measurement in sorted(snapshot):
        if not keep(measurement, None):
            continue
        table = snapshot[measurement]
        tags, all_fields = _roles(table)
        fields = [f for f in all_fields if keep(measurement, f)]
        if not fields or table.num_rows == 0:
            continue
        data = _select(measurement, table, tags, fields, start=start, stop=stop)
        times = data["__time"]
        tag_values = [(tag, data[tag]) for tag in sorted(tags)]
        field_values = [(f, data[f]) for f in fields]
        for f in fields:
            field_types[measurement, f] = all_fields[f]
        for i, t in enumerate(times):
            tagset = tuple((tag, values[i]) for tag, values in tag_values if values[i] is not None)
            for f, values in field_values:
                value = values[i]
                if value is not None:
                    series.setdefault((measurement, tagset, f), []).append((t, value))
    out = []
    for (measurement, tagset, f), points in sorted(series.items(), key=_series_order):
        columns = (
            *_LEADING,
            Column("_value", field_types[measurement, f]),
            Column("_field", STRING),
            Column("_measurement", STRING),
            *(Column(tag, STRING) for tag, _ in tagset),
        )
        key: dict[str, Any] = {
            "_start": start,
            "_stop": stop,
            "_field": f,
            "_measurement": measurement,
        }
        key.update(tagset)
        tail = [f, measurement, *(value for _, value in tagset)]
        rows = [[start, stop, t, value, *tail] for t, value in points]
        out.append(Table(columns, key, rows))
    return out

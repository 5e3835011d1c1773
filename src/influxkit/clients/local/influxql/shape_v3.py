"""A result as InfluxDB 3 answers InfluxQL: one table with an ``iox::measurement`` column.

The columns are ``iox::measurement`` (a dictionary string, as the server's
``lit_dict``), ``time`` (``timestamp[ns]``), the GROUP BY tags, then the SELECT
columns; the rows of every series one after the other (reference 3.5).  ``SHOW
DATABASES`` is ``iox::database, deleted`` and ``SHOW RETENTION POLICIES``
``iox::database, name, duration``, as the server answers them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.clients.local.influxql.result import Result

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MEASUREMENT", "to_table"]

MEASUREMENT = "iox::measurement"


def _array(pa: Any, values: list[Any], kind: Any = None) -> pa.Array:
    if kind is not None:
        return pa.array(values, kind)
    present = [v for v in values if v is not None]
    if present and all(v.__class__ in (int, float) for v in present):
        if any(v.__class__ is float for v in present):
            return pa.array([None if v is None else float(v) for v in values], pa.float64())
        return pa.array(values, pa.int64())
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def to_table(result: Result, database: str | None = None) -> pa.Table:
    """``result`` (one statement's) as InfluxDB 3's InfluxQL table."""
    pa = require("pyarrow", "local")
    tag_type = pa.dictionary(pa.int32(), pa.string())
    if result.kind == "show_databases":
        names = [row[0] for s in result.series for row in s.values]
        return pa.table(
            {
                "iox::database": pa.array(names, pa.string()),
                "deleted": pa.array([False] * len(names), pa.bool_()),
            }
        )
    if result.kind == "show_retention_policies":
        count = sum(len(s.values) for s in result.series)
        return pa.table(
            {
                "iox::database": pa.array([database] * count, pa.string()),
                "name": pa.array([r[0] for s in result.series for r in s.values], pa.string()),
                "duration": pa.array([r[1] for s in result.series for r in s.values], pa.string()),
            }
        )
    if not result.series:
        return pa.table({MEASUREMENT: pa.array([], tag_type)})
    first = result.series[0]
    timed = first.timed
    value_names = first.columns[1:] if timed else first.columns
    tag_names = [t for t in sorted(first.tags or {}) if t not in value_names]
    offset = 1 if timed else 0
    # Lists by position, not a dict by name: 1.x allows two columns of one name.
    names = [MEASUREMENT, *(["time"] if timed else []), *tag_names, *value_names]
    columns: list[list[Any]] = [[] for _ in names]
    for series in result.series:
        n = len(series.values)
        columns[0] += [series.name] * n
        at = 1
        if timed:
            columns[1] += [row[0] for row in series.values]
            at = 2
        for tag in tag_names:
            columns[at] += [(series.tags or {}).get(tag, "")] * n
            at += 1
        for index in range(len(value_names)):
            columns[at + index] += [row[index + offset] for row in series.values]
    arrays = []
    tag_end = (2 if timed else 1) + len(tag_names)
    for position, values in enumerate(columns):
        if position == 0 or (position >= tag_end - len(tag_names) and position < tag_end):
            arrays.append(pa.array(values, pa.string()).dictionary_encode())
        elif timed and position == 1:
            arrays.append(pa.array(values, pa.timestamp("ns")))
        else:
            arrays.append(_array(pa, values))
    return pa.Table.from_arrays(arrays, names=names)

"""Aggregates (``mean sum count median``), selectors (``first last min max``) and
``aggregateWindow``.

* An aggregate makes one row per table: the group key columns and the aggregated
  column; ``_time`` and every other column are dropped.  ``count`` counts every row
  (null or not, as documented) and is 0 for an empty table; the others skip nulls
  and give null when nothing is left.  ``mean`` and ``median`` give floats, ``sum``
  keeps the type; ``median`` takes floats only and, with its default method
  (``estimate_tdigest``) or ``exact_mean``, interpolates between the two middle values.
* A selector keeps one whole row, ``_time`` included: ``first`` / ``last`` the first /
  last non-null value, ``min`` / ``max`` the first row holding the extreme value.
* ``aggregateWindow(every:, fn:)`` cuts each table's ``[_start, _stop)`` into windows
  aligned to the epoch (plus ``offset``), clipped to the range, applies ``fn`` to each,
  and stamps the result with the window's ``_stop`` (``timeSrc``) in ``_time``
  (``timeDst``).  With ``createEmpty: true`` (the default) an empty window still gives
  a row: count 0, null for every other function.  The group key is unchanged.

Type errors read as Flux's: ``unsupported aggregate column type string``.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

from influxkit.clients.local.flux.errors import query_error
from influxkit.clients.local.flux.table import (
    DOUBLE,
    LONG,
    TIME,
    ULONG,
    Column,
    Table,
    flux_type_name,
)
from influxkit.clients.local.flux.times import Duration

__all__ = ["AGGREGATES", "SELECTORS", "aggregate", "aggregate_window", "select"]

AGGREGATES = frozenset({"mean", "sum", "count", "median"})
SELECTORS = frozenset({"first", "last", "min", "max"})
_NUMERIC = (DOUBLE, LONG, ULONG)
#: A guard against ``range(start: 0) |> aggregateWindow(every: 1s, ...)`` running for hours.
MAX_WINDOWS = 5_000_000


def _value_column(table: Table, column: str) -> int:
    i = table.index(column)
    if i < 0:
        raise query_error(f'column "{column}" does not exist')
    if column in table.key:
        raise query_error("cannot aggregate columns that are part of the group key")
    return i


def aggregate_type(fn: str, column_type: str, method: str = "estimate_tdigest") -> str:
    """The output type of aggregate ``fn`` over a column of ``column_type`` (or the error)."""
    if fn == "count":
        return LONG
    allowed = (DOUBLE,) if fn == "median" else _NUMERIC
    if fn == "median" and method == "exact_selector":
        return column_type
    if column_type not in allowed:
        raise query_error(f"unsupported aggregate column type {flux_type_name(column_type)}")
    return DOUBLE if fn in ("mean", "median") else column_type


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = (len(ordered) - 1) / 2
    low, high = ordered[math.floor(mid)], ordered[math.ceil(mid)]
    return low if low == high else low * (math.ceil(mid) - mid) + high * (mid - math.floor(mid))


def aggregate_value(fn: str, values: list[Any], column_type: str) -> Any:
    """The aggregate of one table's (or window's) values of the column."""
    if fn == "count":
        return len(values)
    present = [v for v in values if v is not None]
    if not present:
        return None
    if fn == "sum":
        if column_type == DOUBLE:
            total = 0.0
            for v in present:  # in order, as Flux adds them (not math.fsum)
                total += v
            return total
        bits = 64
        total_int = sum(present) % (1 << bits)  # Go's int64 / uint64 wrap around
        if column_type == LONG and total_int >= 1 << (bits - 1):
            total_int -= 1 << bits
        return total_int
    if fn == "mean":
        acc = 0.0
        for v in present:
            acc += float(v)
        return acc / len(present)
    return _median([float(v) for v in present])


def select_index(fn: str, values: list[Any], column_type: str) -> int | None:
    """The row a selector picks from the column's values, or ``None`` (no non-null value)."""
    if fn in ("min", "max") and column_type not in _NUMERIC:
        raise query_error(f"unsupported selector type {flux_type_name(column_type)}")
    best: int | None = None
    for i, v in enumerate(values):
        if v is None:
            continue
        if fn == "last" or best is None:
            best = i
            if fn == "first":
                return i
        elif (fn == "min" and v < values[best]) or (fn == "max" and v > values[best]):
            best = i
    return best


def _median_selector_index(values: list[Any]) -> int | None:
    indexed = [(v, i) for i, v in enumerate(values) if v is not None]
    if not indexed:
        return None
    indexed.sort(key=lambda item: item[0])  # stable: equal values keep row order
    position = max(math.ceil(0.5 * len(indexed)) - 1, 0)
    return indexed[position][1]


def aggregate(
    tables: list[Table], fn: str, column: str, method: str = "estimate_tdigest"
) -> list[Table]:
    """An aggregate function applied to every table."""
    if fn == "median" and method == "exact_selector":
        return _select_median(tables, column)
    out = []
    for table in tables:
        i = _value_column(table, column)
        source = table.columns[i]
        out_type = aggregate_type(fn, source.type, method)
        key_columns = [c for label in table.key for c in table.columns if c.label == label]
        value = aggregate_value(fn, [row[i] for row in table.rows], source.type)
        columns = (*key_columns, Column(column, out_type))
        out.append(Table(columns, dict(table.key), [[*table.key.values(), value]]))
    return out


def _select_median(tables: list[Table], column: str) -> list[Table]:
    out = []
    for table in tables:
        i = _value_column(table, column)
        picked = _median_selector_index([row[i] for row in table.rows])
        out.append(table.with_rows([] if picked is None else [list(table.rows[picked])]))
    return out


def select(tables: list[Table], fn: str, column: str) -> list[Table]:
    """A selector function applied to every table: the one row it picks, or no row."""
    out = []
    for table in tables:
        i = _value_column(table, column)
        picked = select_index(fn, [row[i] for row in table.rows], table.columns[i].type)
        out.append(table.with_rows([] if picked is None else [list(table.rows[picked])]))
    return out


def windows(start: int, stop: int, every: int, period: int, offset: int) -> list[tuple[int, int]]:
    """The windows overlapping ``[start, stop)``, clipped to it, in time order.

    Windows end on ``k * every + offset`` (from the epoch) and span ``period`` back from
    there, as Flux's ``interval.Window`` lays them out; the first one is the first to end
    after ``start``.
    """
    end = ((start - offset) // every + 1) * every + offset
    count = max(0, -(-(stop + period - end) // every))
    if count > MAX_WINDOWS:
        raise query_error(
            f"aggregateWindow would make {count} windows for one table (more than "
            f"{MAX_WINDOWS}); narrow the range or widen every"
        )
    out = []
    while end - period < stop:
        out.append((max(end - period, start), min(end, stop)))
        end += every
    return out


def aggregate_window(
    tables: list[Table],
    *,
    fn: str,
    every: Duration,
    period: Duration | None,
    offset: Duration,
    column: str,
    time_src: str,
    time_dst: str,
    create_empty: bool,
    method: str = "estimate_tdigest",
) -> list[Table]:
    """``aggregateWindow()`` over every table (see the module docstring)."""
    if every.months or (period is not None and period.months) or offset.months:
        raise query_error(
            "aggregateWindow() with calendar durations (mo, y) is not supported by "
            "influxkit's local Flux engine; use a fixed duration such as 30d"
        )
    if every.ns <= 0:
        raise query_error("duration used as an interval cannot be negative or zero")
    span = every.ns if period is None or period.is_zero else period.ns
    selector = fn in SELECTORS or (fn == "median" and method == "exact_selector")
    out = []
    for table in tables:
        bounds = (table.key.get("_start"), table.key.get("_stop"))
        if None in bounds or table.key_types().get("_start") != TIME:
            raise query_error("nil bounds passed to window; use range to set the window range")
        t = table.index("_time")
        if t < 0:
            raise query_error('missing time column "_time"')
        v = _value_column(table, column)
        source_type = table.columns[v].type
        out_type = source_type if selector else aggregate_type(fn, source_type, method)
        if selector and fn != "median":
            select_index(fn, [], source_type)  # type check even for empty tables
        columns = _window_columns(table, column, out_type, time_dst, selector)
        positions = {c.label: i for i, c in enumerate(columns)}
        rows: list[list[Any]] = []
        ordered = sorted((row for row in table.rows if row[t] is not None), key=lambda row: row[t])
        times = [row[t] for row in ordered]
        for lo, hi in windows(bounds[0], bounds[1], every.ns, span, offset.ns):
            inside = ordered[bisect_left(times, lo) : bisect_left(times, hi)]
            stamp = hi if time_src == "_stop" else lo
            if selector:
                values = [row[v] for row in inside]
                picked = (
                    _median_selector_index(values)
                    if fn == "median"
                    else select_index(fn, values, source_type)
                )
                if picked is None and not create_empty:
                    continue
                new = [None] * len(columns)
                src = inside[picked] if picked is not None else None
                for c in table.columns:
                    if c.label in positions:
                        i = table.index(c.label)
                        new[positions[c.label]] = (
                            src[i] if src is not None else table.key.get(c.label)
                        )
            else:
                if not inside and not create_empty:
                    continue
                new = [None] * len(columns)
                for label, value in table.key.items():
                    new[positions[label]] = value
                new[positions[column]] = aggregate_value(
                    fn, [row[v] for row in inside], source_type
                )
            new[positions[time_dst]] = stamp
            rows.append(new)
        out.append(Table(columns, dict(table.key), rows))
    return out


def _window_columns(
    table: Table, column: str, out_type: str, time_dst: str, selector: bool
) -> tuple[Column, ...]:
    """The output columns: the input's order, less what the function drops, plus ``timeDst``."""
    columns = []
    for c in table.columns:
        if c.label == column:
            columns.append(Column(column, out_type))
        elif c.label == time_dst:
            columns.append(Column(time_dst, TIME))
        elif selector or c.label in table.key:
            columns.append(c)
    if all(c.label != time_dst for c in columns):
        columns.append(Column(time_dst, TIME))
    return tuple(columns)

"""Gap filling of a ``date_bin_gapfill`` query's result, as InfluxDB 3's GapFill node does it.

Per series (the non-time GROUP BY keys) every time bin from ``date_bin(lower bound)``
to ``date_bin(upper bound)`` is output; a missing bin gets NULL (0 for ``count``),
``locf`` carries the last non-NULL value forward (a NULL present row counts as
missing), ``interpolate`` draws a line between the surrounding non-NULL values
(integers truncated toward zero, as the server's ``LinearInterpolate``).  Series come
out sorted by their keys (NULLs first), bins in time order
(``iox_query/src/exec/gapfill``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.clients.local.gapfill_plan import HIDDEN, GapfillPlan
from influxkit.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa

    from influxkit.clients.local.sql import Session

__all__ = ["run_gapfill"]

_TS_PARAM = "__influxkit_ts"


def _execution_error(message: str) -> QueryError:
    return QueryError(
        f"query error: error while executing plan: Execution error: {message}",
        status=500,
        retryable=False,
    )


def run_gapfill(plan: GapfillPlan, session: Session, params: dict[str, Any] | None) -> pa.Table:
    """Run ``plan`` in ``session`` (DataFusion, errors converted) and fill its result."""
    pa = require("pyarrow", "local")
    execute = session.run

    def scalar(sql: str, extra: dict[str, Any] | None = None) -> Any:
        values = {**(params or {}), **(extra or {})} or None
        return execute(sql, values).column(0)[0]

    def nanos(expr: str) -> int:
        value = scalar(f"SELECT CAST(({expr}) AS TIMESTAMP)")
        if not value.is_valid:
            raise _execution_error("gap filling argument must be a scalar timestamp")
        return value.cast(pa.int64()).as_py()

    def date_bin(ts: int) -> int:
        origin = f", {plan.origin}" if plan.origin is not None else ""
        sql = f"SELECT date_bin({plan.stride}, to_timestamp_nanos(${_TS_PARAM}){origin})"
        return scalar(sql, {_TS_PARAM: ts}).cast(pa.int64()).as_py()

    interval = scalar(f"SELECT CAST(({plan.stride}) AS INTERVAL)").as_py()
    if interval.months != 0:
        raise _execution_error("gap filling does not support month intervals")
    stride = interval.days * 86_400_000_000_000 + interval.nanoseconds
    lower = nanos(plan.lower.sql) + (0 if plan.lower.inclusive else 1)
    upper = nanos(plan.upper.sql) - (0 if plan.upper.inclusive else 1)
    first, last = date_bin(lower), date_bin(upper)

    table = _fill(execute(plan.sql, params), plan, first, last, stride)
    if plan.hidden:
        table = table.select(list(range(table.num_columns - plan.hidden)))
    names = list(table.schema.names)
    for index, (function, how) in plan.names.items():
        if index < len(names):
            if how == "rename":
                names[index] = names[index].replace("date_bin(", f"{function}(", 1)
            else:
                names[index] = f"{function}({names[index]})"
    table = table.rename_columns(names)
    if plan.tail and table.num_rows:
        name = f"{HIDDEN}result"
        session.register(name, table)
        return execute(f'SELECT * FROM "{name}" {plan.tail}', params)
    return table


def _fill(table: pa.Table, plan: GapfillPlan, first: int, last: int, stride: int) -> pa.Table:
    pa = require("pyarrow", "local")
    schema = table.schema
    times = table.column(plan.time_index).cast(pa.int64()).to_pylist()
    keys = [table.column(i).to_pylist() for i in plan.group_indexes]
    values = {i: table.column(i).to_pylist() for i in plan.fills}

    series: dict[tuple[Any, ...], list[int]] = {}
    for row in range(table.num_rows):
        series.setdefault(tuple(k[row] for k in keys), []).append(row)

    out_times: list[int | None] = []
    out_keys: list[list[Any]] = [[] for _ in keys]
    out_values: dict[int, list[Any]] = {i: [] for i in plan.fills}
    bins = range(first, last + 1, stride) if stride > 0 else range(0)
    for key in sorted(series, key=lambda k: tuple((v is not None, v) for v in k)):
        rows = series[key]
        present: dict[int, int] = {}
        timeline: list[tuple[int | None, int | None]] = []
        for row in rows:
            if times[row] is None:
                timeline.append((None, row))
            else:
                present.setdefault(times[row], row)
        timeline += [(t, present.get(t)) for t in sorted(set(bins).union(present))]
        for t, _ in timeline:
            out_times.append(t)
        for column, value in zip(out_keys, key, strict=True):
            column.extend([value] * len(timeline))
        for index, strategy in plan.fills.items():
            column_values = [values[index][r] if r is not None else None for _, r in timeline]
            present_rows = [r is not None for _, r in timeline]
            out_values[index] += _strategy(
                strategy, column_values, present_rows, [t for t, _ in timeline], schema[index].type
            )

    arrays = []
    fields = []
    group_pos = {g: n for n, g in enumerate(plan.group_indexes)}
    for index, field in enumerate(schema):
        if index == plan.time_index:
            data: list[Any] = out_times
        elif index in group_pos:
            data = out_keys[group_pos[index]]
        else:
            data = out_values[index]
        arrays.append(pa.array(data, type=field.type))
        fields.append(
            field if index in (plan.time_index, *group_pos) else field.with_nullable(True)
        )
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata))


def _strategy(
    strategy: str,
    values: list[Any],
    present: list[bool],
    times: list[int | None],
    arrow_type: pa.DataType,
) -> list[Any]:
    if strategy == "null":
        return values
    if strategy == "zero":
        return [v if p else 0 for v, p in zip(values, present, strict=True)]
    if strategy == "locf":
        out, previous = [], None
        for value in values:
            if value is not None:
                previous = value
            out.append(previous)
        return out
    return _interpolate(values, times, arrow_type)


def _interpolate(values: list[Any], times: list[int | None], arrow_type: pa.DataType) -> list[Any]:
    pa = require("pyarrow", "local")
    is_struct = pa.types.is_struct(arrow_type)
    value_type = arrow_type.field("value").type if is_struct else arrow_type
    if pa.types.is_floating(value_type):
        convert: Callable[[float], Any] = float
    elif pa.types.is_integer(value_type):
        convert = int  # Rust's `as i64` / `as u64`: toward zero
    else:
        name = {"string": "Utf8", "bool": "Boolean"}.get(str(arrow_type), str(arrow_type))
        raise _execution_error(f"unsupported data type {name} for interpolation gap filling")

    def scalar(v: Any) -> Any:
        return v.get("value") if is_struct and v is not None else v

    known = [
        j
        for j, (v, t) in enumerate(zip(values, times, strict=True))
        if t is not None and scalar(v) is not None
    ]
    out = list(values)
    for start, end in itertools.pairwise(known):
        t0, v0 = times[start], scalar(values[start])
        t1, v1 = times[end], scalar(values[end])
        slope = (float(v1) - float(v0)) / float(t1 - t0)  # type: ignore[operator]
        for j in range(start + 1, end):
            guess = convert(slope * float(times[j] - t0) + float(v0))  # type: ignore[operator]
            out[j] = {"value": guess, "time": None} if is_struct else guess
    return out

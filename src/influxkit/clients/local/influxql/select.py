"""Running a SELECT: DataFusion finds the points, then InfluxQL's series rules shape them.

For each measurement the statement names, one SQL query over the engine's table
(:mod:`.where` for the predicate, every literal a bound parameter) returns the
points in the time range that match the WHERE clause, ordered by time.  The
InfluxQL-specific work happens on that Arrow result, where 1.x's rules are easy
to follow exactly: points are grouped into series by the GROUP BY tags, raw
queries list the points that have a selected field, aggregate queries reduce each
GROUP BY time window with :mod:`.functions`, fill the empty windows, and apply
ORDER BY, LIMIT / OFFSET per series and SLIMIT / SOFFSET per measurement.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.compile import Plan, compile_select
from influxkit.clients.local.influxql.errors import StatementError
from influxkit.clients.local.influxql.evaluate import arith, cast, convertible
from influxkit.clients.local.influxql.functions import FLOAT_RESULTS, check_type, reduce
from influxkit.clients.local.influxql.parser import SubQuery, compile_regex
from influxkit.clients.local.influxql.result import Series
from influxkit.clients.local.influxql.schema import Schema, schema_of
from influxkit.clients.local.influxql.timeutil import window
from influxkit.clients.local.influxql.transforms import transform
from influxkit.clients.local.influxql.where import Params, quote, translate

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["MAX_BUCKETS", "TableSource", "run_select"]

#: The most GROUP BY time windows one series may be filled with (1.x's
#: ``max-select-buckets`` is unlimited by default; filling millions of empty windows
#: in Python would hang the caller, so the local engine refuses it instead).
MAX_BUCKETS = 1_000_000

#: ``tables(database, retention_policy)``: the tables of a database (or a StatementError).
TableSource = Callable[[str | None, str | None], Mapping[str, "pa.Table"]]

_Env = dict[str, Any]


def run_select(stmt: ast.SelectStatement, tables: TableSource, now: int) -> list[Series]:
    """The series of one SELECT statement.

    Raises:
        StatementError: the statement is refused or fails (the message is 1.x's).
    """
    if stmt.into is not None:
        raise StatementError("SELECT ... INTO is not supported by the influxkit local engine")
    found: dict[str, Schema] = {}
    for source in stmt.sources:
        if isinstance(source, SubQuery):
            raise StatementError("subqueries are not supported by the influxkit local engine")
        available = tables(source.database, source.retention_policy)
        if source.regex is not None:
            pattern = compile_regex(source.regex)
            names = [n for n in available if pattern.search(n)]
        else:
            names = [source.name] if source.name in available else []
        for name in names:
            if name not in found:
                found[name] = schema_of(name, available[name])
    schemas = [found[name] for name in sorted(found)]
    plan = compile_select(stmt, schemas, now)
    if plan.multi in ("top", "bottom"):
        _add_top_tags(plan)
    out: list[list[Series]] = []
    for schema in schemas:
        series = _measurement(plan, schema)
        if plan.descending:
            series.reverse()
        if plan.soffset:
            series = series[plan.soffset :]
        if plan.slimit:
            series = series[: plan.slimit]
        out.append(series)
    if plan.descending:
        out.reverse()
    return [s for group in out for s in group]


def _add_top_tags(plan: Plan) -> None:
    """``top(f, tag, n)`` also outputs each tag argument, right after its own column."""
    call = plan.calls[0]
    tags = [a for a in call.args[1:-1] if isinstance(a, ast.VarRef)]
    if not tags:
        return
    for index, f in enumerate(plan.fields):
        if isinstance(f.expr, ast.Call) and str(f.expr) == str(call):
            extra = [ast.Field(ast.VarRef(t.name, "tag")) for t in tags]
            plan.fields[index + 1 : index + 1] = extra
            break
    plan.columns = [plan.columns[0], *ast.column_names(plan.fields)]
    plan.aux += [ast.VarRef(t.name, "tag") for t in tags]


# -- reading the points -------------------------------------------------------------


def _field_refs(plan: Plan, schema: Schema) -> list[str]:
    """The fields of ``schema`` the SELECT list reads (its tags are always read)."""
    names: list[str] = []
    for f in plan.fields:
        for node in ast.walk(f.expr):
            if (
                isinstance(node, ast.VarRef)
                and node.type != "tag"
                and node.name in schema.fields
                and node.name not in names
            ):
                names.append(node.name)
    return names


def _fetch(plan: Plan, schema: Schema, fields: list[str]) -> dict[str, list[Any]]:
    """The matching points as column lists: ``__time`` (ns), every tag, ``fields``."""
    from influxkit.clients.local.sql import Session

    params = Params()
    predicate = translate(plan.condition, schema, params)
    if predicate == "FALSE" or plan.tmin > plan.tmax:
        return {}
    lo, hi = params.add(plan.fetch_min), params.add(plan.tmax)
    columns = ['CAST("time" AS BIGINT)']
    columns += [f"CAST({quote(t)} AS VARCHAR)" for t in schema.tags]
    columns += [quote(f) for f in fields]
    # Positional aliases: a column's own name can be anything, even another's.
    selected = ", ".join(f'{c} AS "c{n}"' for n, c in enumerate(columns))
    order = ", ".join(f'"c{n}" NULLS FIRST' for n in range(1 + len(schema.tags)))
    sql = (
        f"SELECT {selected} FROM {quote(schema.name)} "
        f'WHERE CAST("time" AS BIGINT) >= {lo} AND CAST("time" AS BIGINT) <= {hi} '
        f"AND ({predicate}) ORDER BY {order}"
    )
    session = Session({schema.name: schema.table})
    table = session.run(sql, params.values)
    names = ["__time", *schema.tags, *fields]
    data: dict[str, list[Any]] = {}
    for name, column in zip(names, table.columns, strict=True):
        data[name] = column.to_pylist()
    return data


# -- expressions over points ----------------------------------------------------------


def _value_reader(
    ref: ast.VarRef, schema: Schema, data: dict[str, list[Any]]
) -> Callable[[int], Any]:
    """Reads ``ref`` at a row: a field (cast as asked), a tag, or nothing."""
    name, hint = ref.name, ref.type
    kind = schema.fields.get(name)
    if hint != "tag" and kind is not None and name in data:
        column = data[name]
        if hint in (None, "field", kind):
            return column.__getitem__
        return lambda i: cast(column[i], kind, hint)
    if hint in (None, "tag") and name in schema.tags:
        return data[name].__getitem__
    return lambda i: None


def _compile_raw(
    expr: ast.Expr, schema: Schema, data: dict[str, list[Any]]
) -> Callable[[int], Any]:
    if isinstance(expr, ast.VarRef):
        return _value_reader(expr, schema, data)
    if isinstance(expr, ast.ParenExpr):
        return _compile_raw(expr.expr, schema, data)
    if isinstance(expr, ast.BinaryExpr):
        lhs = _compile_raw(expr.lhs, schema, data)
        rhs = _compile_raw(expr.rhs, schema, data)
        op = expr.op
        return lambda i: arith(op, lhs(i), rhs(i))
    value = _literal(expr)
    return lambda i: value


def _literal(expr: ast.Expr) -> Any:
    """A literal's value in arithmetic (a duration is its nanoseconds); ``None`` otherwise."""
    if isinstance(
        expr,
        ast.IntegerLiteral
        | ast.NumberLiteral
        | ast.BooleanLiteral
        | ast.StringLiteral
        | ast.DurationLiteral,
    ):
        return expr.value
    return None


def _compile_agg(
    expr: ast.Expr, schema: Schema, data: dict[str, list[Any]]
) -> Callable[[_Env, int | None], Any]:
    """An aggregate field: call values come from ``env``, other names from the point's row."""
    if isinstance(expr, ast.Call):
        key = str(expr)
        return lambda env, row: env.get(key)
    if isinstance(expr, ast.VarRef):
        read = _value_reader(expr, schema, data)
        return lambda env, row: None if row is None else read(row)
    if isinstance(expr, ast.ParenExpr):
        return _compile_agg(expr.expr, schema, data)
    if isinstance(expr, ast.BinaryExpr):
        lhs = _compile_agg(expr.lhs, schema, data)
        rhs = _compile_agg(expr.rhs, schema, data)
        op = expr.op
        return lambda env, row: arith(op, lhs(env, row), rhs(env, row))
    value = _literal(expr)
    return lambda env, row: value


def _clean(value: Any) -> Any:
    """NaN is sent as null by 1.x (its JSON has no NaN)."""
    return None if value.__class__ is float and math.isnan(value) else value


# -- one measurement --------------------------------------------------------------


def _measurement(plan: Plan, schema: Schema) -> list[Series]:
    for call in [*plan.calls, *plan.transforms]:
        ref = _call_field(call)
        if ref is not None and ref.name in schema.fields and ref.type != "tag":
            check_type(call.name, schema.fields[ref.name])
    fields = _field_refs(plan, schema)
    if not fields:
        return []
    data = _fetch(plan, schema, fields)
    if not data or not data["__time"]:
        return []
    times: list[int] = data["__time"]
    groups: dict[tuple[str, ...], list[int]] = {}
    tag_columns = [data.get(t) for t in plan.group_tags]
    for i in range(len(times)):
        key = tuple((c[i] or "") if c is not None else "" for c in tag_columns)
        groups.setdefault(key, []).append(i)
    out = []
    for key in sorted(groups):
        rows = groups[key]
        if plan.aggregate:
            values = _aggregate_rows(plan, schema, data, rows)
        elif plan.transforms:
            values = _transform_rows(plan, schema, data, rows)
        else:
            values = _raw_rows(plan, schema, data, rows)
        if plan.offset_rows:
            values = values[plan.offset_rows :]
        if plan.limit:
            values = values[: plan.limit]
        if not values:
            continue
        tags = dict(zip(plan.group_tags, key, strict=True)) if plan.group_tags else None
        out.append(Series(schema.name, tags, list(plan.columns), values, timed=True))
    return out


def _raw_rows(
    plan: Plan, schema: Schema, data: dict[str, list[Any]], rows: list[int]
) -> list[list[Any]]:
    """The points of one series, one row each (a raw query)."""
    times = data["__time"]
    evaluators = [_compile_raw(f.expr, schema, data) for f in plan.fields]
    # A point is listed when one of the fields the SELECT list reads has a value there.
    counted = []
    for f in plan.fields:
        for node in ast.walk(f.expr):
            if (
                isinstance(node, ast.VarRef)
                and node.type != "tag"
                and node.name in schema.fields
                and convertible(schema.fields[node.name], node.type)
            ):
                counted.append(data[node.name])
    out = []
    for i in rows:
        if not any(column[i] is not None for column in counted):
            continue
        out.append([times[i], *(_clean(e(i)) for e in evaluators)])
    if plan.descending:
        out.reverse()
    return out


def _call_field(call: ast.Call) -> ast.VarRef | None:
    """The field a function reads (through ``count(distinct(f))``), if it names one."""
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.Call) and arg.name == "distinct" and arg.args:
        arg = arg.args[0]
    if isinstance(arg, ast.Distinct):
        return ast.VarRef(arg.name)
    return arg if isinstance(arg, ast.VarRef) else None


def _result_type(call: ast.Call, schema: Schema) -> str:
    """The InfluxQL type of a function's values (a fill value is converted to it)."""
    if call.name == "count":
        return "integer"
    if call.name in FLOAT_RESULTS:
        return "float"
    ref = _call_field(call)
    kind = schema.fields.get(ref.name) if ref is not None else None
    if ref is not None and ref.type in ("float", "integer") and kind in ("float", "integer"):
        return ref.type
    return kind or "float"


def _fill_value(plan: Plan, kind: str) -> Any:
    value = plan.fill_value
    if value is None:
        return None
    if kind == "integer":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def _windows(plan: Plan, first: int, begin: int | None = None) -> list[int]:
    """Every window start of the query's range (from ``first``'s window without a lower bound).

    ``begin`` overrides where the range starts (the window before the first, for a
    transformation).
    """
    start = begin if begin is not None else (plan.tmin if plan.has_lower else first)
    current = window(start, plan.interval, plan.offset, plan.zone)[0]
    last = window(plan.tmax, plan.interval, plan.offset, plan.zone)[0]
    count = (last - current) // plan.interval + 1
    if count > MAX_BUCKETS:
        raise StatementError(f"max-select-buckets limit exceeded: ({count}/{MAX_BUCKETS})")
    out = []
    while current <= last:
        out.append(current)
        end = window(current, plan.interval, plan.offset, plan.zone)[1]
        following = window(end, plan.interval, plan.offset, plan.zone)[0]
        # A zone's offset change can map the end back: always move forwards.
        current = following if following > current else current + plan.interval
    return out


def _aggregate_rows(
    plan: Plan, schema: Schema, data: dict[str, list[Any]], rows: list[int]
) -> list[list[Any]]:
    """The rows of one series of an aggregate query: one per window (several for top()).

    Each distinct call is reduced per window; the windows are those of the query's
    range (every one unless ``fill(none)``), the empty ones filled per call; a row's
    time is its window's start, or without GROUP BY time the range's start (the
    epoch without a lower bound) or, for a lone selector, its point's time.
    """
    times = data["__time"]
    interval = plan.interval
    range_start = plan.tmin if plan.has_lower else 0
    # Rows by window, in time order.
    by_window: dict[int, list[int]] = {}
    if interval:
        for i in rows:
            start = window(times[i], interval, plan.offset, plan.zone)[0]
            by_window.setdefault(start, []).append(i)
    else:
        by_window[range_start] = list(rows)

    # Each call's points per window.
    results: dict[str, dict[int, Any]] = {}
    kinds: dict[str, str] = {}
    first_time: int | None = None
    for call in plan.calls:
        key = str(call)
        kinds[key] = _result_type(call, schema)
        ref = _call_field(call)
        read = _value_reader(ref, schema, data) if ref is not None else (lambda i: None)
        distinct = _counts_distinct(call)
        argument = _call_argument(call)
        keys = _top_keys(call, data)
        per_window: dict[int, Any] = {}
        for start, members in by_window.items():
            points = []
            for i in members:
                value = read(i)
                if value is not None:
                    points.append((times[i], value, i))
            if points and (first_time is None or points[0][0] < first_time):
                first_time = points[0][0]
            if distinct:
                outcome: Any = (None, len({p[1] for p in points}), None) if points else None
            else:
                outcome = reduce(call.name, points, argument=argument, keys=keys)
            if outcome is not None and outcome != []:
                per_window[start] = outcome
        results[key] = per_window
    if first_time is None:
        return []

    first_window = window(plan.tmin, interval, plan.offset, plan.zone)[0] if interval else 0
    if interval and plan.fill != "none":
        starts = _windows(plan, first_time)
    else:
        starts = sorted({s for r in results.values() for s in r})
        if interval and plan.has_lower:
            starts = [s for s in starts if s >= first_window]
    if plan.descending:
        starts.reverse()

    if plan.multi is not None:
        return _multi_rows(plan, schema, data, results, starts, range_start=range_start)

    transformed = _window_transforms(plan, results, kinds, first_time, first_window)
    plain = [key for key in results if key in plan.plain]
    if not plain:  # only transformations: a row where one of them has a value
        starts = sorted({t for values in transformed.values() for t in values})
        if plan.descending:
            starts.reverse()
    filled = {key: _fill(plan, results[key], starts, kinds[key], key) for key in plain}
    evaluators = [_compile_agg(f.expr, schema, data) for f in plan.fields]
    single = str(plan.calls[0]) if len(plan.calls) == 1 and plain else None
    out = []
    for n, start in enumerate(starts):
        env = {key: filled[key][n][0] for key in filled}
        for key, values in transformed.items():
            env[key] = values.get(start)
        if (
            plain
            and not any(results[key].get(start) is not None for key in plain)
            and (plan.fill == "none" or not interval)
        ):
            continue
        row_index = filled[single][n][1] if single is not None else None
        if interval:
            t = start
        elif plan.selector_time and single is not None:
            point = results[single].get(start)
            if point is None:
                continue
            t = point[0] if point[0] is not None else range_start
        else:
            t = range_start
        out.append([t, *(_clean(e(env, row_index)) for e in evaluators)])
    return out


def _counts_distinct(call: ast.Call) -> bool:
    if call.name != "count" or not call.args:
        return False
    arg = call.args[0]
    return isinstance(arg, ast.Distinct) or (isinstance(arg, ast.Call) and arg.name == "distinct")


def _call_argument(call: ast.Call) -> float | int | None:
    if call.name in ("percentile", "top", "bottom") and len(call.args) >= 2:
        last = call.args[-1]
        if isinstance(last, ast.IntegerLiteral | ast.NumberLiteral):
            return last.value
    return None


def _top_keys(call: ast.Call, data: dict[str, list[Any]]) -> list[Any] | None:
    if call.name not in ("top", "bottom") or len(call.args) <= 2:
        return None
    names = [a.name for a in call.args[1:-1] if isinstance(a, ast.VarRef)]
    columns = [data.get(n) for n in names]
    size = len(data["__time"])
    return [tuple(c[i] if c is not None else None for c in columns) for i in range(size)]


def _fill(
    plan: Plan, found: dict[int, Any], starts: list[int], kind: str, key: str
) -> list[tuple[Any, int | None]]:
    """``(value, row of the selected point)`` for every window, empty ones filled."""
    values: list[tuple[Any, int | None]] = []
    for start in starts:
        point = found.get(start)
        values.append((point[1], point[2]) if point is not None else (None, None))
    if not plan.interval:
        return values
    mode = plan.fill
    is_count = key.startswith("count(")
    if mode == "null":
        if is_count:
            return [
                (v if start in found else 0, r)
                for (v, r), start in zip(values, starts, strict=True)
            ]
        return values
    if mode == "number":
        fill = _fill_value(plan, kind)
        return [
            (v, r) if start in found else (fill, None)
            for (v, r), start in zip(values, starts, strict=True)
        ]
    if mode == "previous":
        out = []
        previous = None
        for (v, r), start in zip(values, starts, strict=True):
            if start in found:
                previous = v
                out.append((v, r))
            else:
                out.append((previous, None))
        return out
    if mode == "linear":
        return _linear(values, starts, found, kind)
    return values


def _linear(
    values: list[tuple[Any, int | None]], starts: list[int], found: dict[int, Any], kind: str
) -> list[tuple[Any, int | None]]:
    known = [n for n, s in enumerate(starts) if s in found and values[n][0] is not None]
    out = list(values)
    for a, b in itertools.pairwise(known):
        t0, v0 = starts[a], values[a][0]
        t1, v1 = starts[b], values[b][0]
        if isinstance(v0, bool) or isinstance(v1, bool) or isinstance(v0, str):
            continue
        for n in range(a + 1, b):
            if v0.__class__ is int and v1.__class__ is int:
                slope = float(v1 - v0) / float(t1 - t0)
                out[n] = (int(slope * float(starts[n] - t0) + float(v0)), None)
            else:
                slope = (float(v1) - float(v0)) / float(t1 - t0)
                out[n] = (slope * float(starts[n] - t0) + float(v0), None)
    return out


def _multi_rows(
    plan: Plan,
    schema: Schema,
    data: dict[str, list[Any]],
    results: dict[str, dict[int, Any]],
    starts: list[int],
    *,
    range_start: int,
) -> list[list[Any]]:
    """Rows of ``top`` / ``bottom`` / ``distinct``: several per window."""
    key = str(plan.calls[0])
    found = results[key]
    evaluators = [_compile_agg(f.expr, schema, data) for f in plan.fields]
    out = []
    for start in starts:
        points = found.get(start) or []
        if plan.descending:
            points = list(reversed(points))
        for point in points:
            # top() / bottom() keep their points' times; distinct() takes the window's.
            t = point[0] if point[0] is not None else (start if plan.interval else range_start)
            env = {key: point[1]}
            out.append([t, *(_clean(e(env, point[2])) for e in evaluators)])
    return out


def _unit(call: ast.Call, default: int) -> int:
    if call.name in ("derivative", "non_negative_derivative", "elapsed") and len(call.args) == 2:
        arg = call.args[1]
        if isinstance(arg, ast.DurationLiteral):
            return arg.value
    return default


def _window_count(call: ast.Call) -> int:
    if call.name == "moving_average" and len(call.args) == 2:
        arg = call.args[1]
        if isinstance(arg, ast.IntegerLiteral):
            return int(arg.value)
    return 0


def _window_transforms(
    plan: Plan,
    results: dict[str, dict[int, Any]],
    kinds: dict[str, str],
    first_time: int,
    first_window: int,
) -> dict[str, dict[int, Any]]:
    """Each transformation of an aggregate: its value by window start.

    The inner aggregate's windows, filled as the query says and with the empty ones
    left out, from the window before the first (1.x reads one more) to the last;
    results before the query's first window are dropped.
    """
    out: dict[str, dict[int, Any]] = {}
    if not plan.transforms:
        return out
    interval = plan.interval
    for call in plan.transforms:
        inner = str(call.args[0])
        found = results.get(inner, {})
        if plan.fill != "none":
            begin = plan.fetch_min if plan.has_lower else first_time
            starts = _windows(plan, first_time, begin)
        else:
            starts = sorted(found)
        filled = _fill(plan, found, starts, kinds.get(inner, "float"), inner)
        stream = [(s, v) for s, (v, _) in zip(starts, filled, strict=True) if v is not None]
        if plan.descending:
            stream.reverse()
        default_unit = interval if call.name != "elapsed" else 1
        values = transform(
            call.name,
            stream,
            unit=_unit(call, default_unit),
            n=_window_count(call),
            ascending=not plan.descending,
        )
        out[str(call)] = {t: v for t, v in values if not plan.has_lower or t >= first_window}
    return out


def _transform_rows(
    plan: Plan, schema: Schema, data: dict[str, list[Any]], rows: list[int]
) -> list[list[Any]]:
    """Transformations of fields: each over the series' points, rows joined by time."""
    times = data["__time"]
    order = list(reversed(rows)) if plan.descending else rows
    streams: dict[str, list[tuple[int, Any]]] = {}
    for call in plan.transforms:
        ref = _call_field(call)
        read = _value_reader(ref, schema, data) if ref is not None else (lambda i: None)
        points = [(times[i], v) for i in order if (v := read(i)) is not None]
        streams[str(call)] = transform(
            call.name,
            points,
            unit=_unit(call, 1 if call.name == "elapsed" else 1_000_000_000),
            n=_window_count(call),
            ascending=not plan.descending,
        )
    evaluators = [_compile_agg(f.expr, schema, data) for f in plan.fields]
    all_times = sorted({t for stream in streams.values() for t, _ in stream})
    if plan.descending:
        all_times.reverse()
    by_time: dict[str, dict[int, list[Any]]] = {}
    for key, stream in streams.items():
        grouped: dict[int, list[Any]] = {}
        for t, v in stream:
            grouped.setdefault(t, []).append(v)
        by_time[key] = grouped
    out = []
    for t in all_times:
        depth = max(len(g.get(t, ())) for g in by_time.values())
        for j in range(depth):
            env = {}
            for key, grouped in by_time.items():
                values = grouped.get(t, [])
                env[key] = values[j] if j < len(values) else None
            out.append([t, *(_clean(e(env, None)) for e in evaluators)])
    return out

"""A SELECT statement made ready to run: validated, wildcards expanded, time range read.

This is 1.x's ``query/compile.go`` in the order it checks things (so a query with
several mistakes gets the same first complaint): the time range is taken out of the
WHERE clause (every ``time`` comparison, wherever it stands, narrows one range), then
the GROUP BY dimensions, then the fields and the rules on mixing them.  Wildcards and
regexes in the field list and GROUP BY expand over every source's schema, sorted by
name, GROUP BY tags left out of ``*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.errors import StatementError
from influxkit.clients.local.influxql.parser import compile_regex
from influxkit.clients.local.influxql.schema import Schema, merged
from influxkit.clients.local.influxql.timeutil import (
    MAX_TIME,
    MIN_TIME,
    load_zone,
    parse_time_string,
)
from influxkit.clients.local.influxql.transforms import TRANSFORMS

__all__ = ["AGGREGATES", "SELECTORS", "Plan", "compile_select", "time_range"]

#: Functions that reduce a window's values to one value (time: the window's start).
AGGREGATES = frozenset({"count", "sum", "mean", "median", "mode", "spread", "stddev", "distinct"})
#: Functions that pick points (their time can be kept, and their other columns read).
SELECTORS = frozenset({"first", "last", "min", "max", "percentile", "top", "bottom"})
#: InfluxQL functions 1.x has that the local engine does not run (a statement error).
UNSUPPORTED_FUNCTIONS = frozenset(
    {
        "sample",
        "integral",
        "holt_winters",
        "holt_winters_with_fit",
        "chande_momentum_oscillator",
        "exponential_moving_average",
        "double_exponential_moving_average",
        "triple_exponential_moving_average",
        "relative_strength_index",
        "triple_exponential_derivative",
        "kaufmans_efficiency_ratio",
        "kaufmans_adaptive_moving_average",
    }
)
_NUMERIC = ("float", "integer", "unsigned")
# Which field types a call with a wildcard argument expands over (1.x ``RewriteFields``).
_WILDCARD_TYPES = {
    "count": ("float", "integer", "unsigned", "string", "boolean"),
    "first": ("float", "integer", "unsigned", "string", "boolean"),
    "last": ("float", "integer", "unsigned", "string", "boolean"),
    "distinct": ("float", "integer", "unsigned", "string", "boolean"),
    "mode": ("float", "integer", "unsigned", "string", "boolean"),
    "min": ("float", "integer", "unsigned", "boolean"),
    "max": ("float", "integer", "unsigned", "boolean"),
}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "!=": "!="}


@dataclass(slots=True)
class Plan:
    """What running one SELECT needs (times in integer nanoseconds, bounds inclusive).

    Attributes:
        fields: the SELECT list after expansion, ``time`` taken out.
        columns: the result's column names, ``time`` (or its alias) first.
        calls: the distinct function calls, in the order they appear.
        aggregate: whether the query reduces (has calls) rather than lists points.
        selector_time: rows take the selected point's time (one selector, no interval).
        multi: ``top`` / ``bottom`` / ``distinct`` when a window gives several rows.
        group_tags: the GROUP BY tags, sorted.
        interval, offset: the GROUP BY time window (``interval`` 0: none).
        tmin, tmax: the time range; ``has_lower`` whether the query gave a lower bound.
        condition: the WHERE clause without its time comparisons.
        transforms: the transformation calls (``derivative(...)``), distinct; their
            inner aggregates are in ``calls``.
        plain: the keys of the calls the SELECT list names itself (not only inside a
            transformation).
        fetch_min: where reading starts (an interval before ``tmin`` when a
            transformation needs the window before the first).
    """

    fields: list[ast.Field]
    columns: list[str]
    calls: list[ast.Call]
    aggregate: bool
    selector_time: bool
    multi: str | None
    group_tags: list[str]
    interval: int
    offset: int
    tmin: int
    tmax: int
    has_lower: bool
    condition: ast.Expr | None
    zone: tzinfo | None
    fill: str
    fill_value: float | int | None
    descending: bool
    limit: int
    offset_rows: int
    slimit: int
    soffset: int
    aux: list[ast.VarRef] = field(default_factory=list)
    transforms: list[ast.Call] = field(default_factory=list)
    plain: set[str] = field(default_factory=set)
    fetch_min: int = MIN_TIME


# -- the time range ----------------------------------------------------------------


def _time_value(expr: ast.Expr, now: int, zone: tzinfo | None) -> int:
    """A time operand as nanoseconds: a time string, an integer (ns), a duration, now()."""
    if isinstance(expr, ast.ParenExpr):
        return _time_value(expr.expr, now, zone)
    if isinstance(expr, ast.StringLiteral):
        value = parse_time_string(expr.value, zone)
        if value is None:
            raise StatementError(
                "invalid operation: time and *influxql.StringLiteral are not compatible"
            )
        return value
    if isinstance(expr, ast.IntegerLiteral | ast.DurationLiteral):
        return int(expr.value)
    if isinstance(expr, ast.NumberLiteral):
        return int(expr.value)
    if isinstance(expr, ast.Call) and expr.name == "now" and not expr.args:
        return now
    if isinstance(expr, ast.BinaryExpr) and expr.op in ("+", "-"):
        lhs = _time_value(expr.lhs, now, zone)
        rhs = _time_value(expr.rhs, now, zone)
        return lhs + rhs if expr.op == "+" else lhs - rhs
    raise StatementError(
        f"invalid operation: time and *influxql.{type(expr).__name__} are not compatible"
    )


def _is_time(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.VarRef) and expr.name.lower() == "time"


def time_range(
    condition: ast.Expr | None, now: int, zone: tzinfo | None
) -> tuple[ast.Expr | None, int | None, int | None]:
    """``condition`` without its time comparisons, and the range they give (1.x ``ConditionExpr``).

    Every comparison of ``time`` narrows the range, under AND or OR alike (1.x reads
    them so); the result's ``None`` ends are unbounded.  An empty range has
    ``lower > upper``.
    """
    bounds: list[int | None] = [None, None]

    def narrow(op: str, value: int) -> None:
        lo, hi = bounds
        if op in (">", ">=", "="):
            v = value + 1 if op == ">" else value
            bounds[0] = v if lo is None else max(lo, v)
        if op in ("<", "<=", "="):
            v = value - 1 if op == "<" else value
            bounds[1] = v if hi is None else min(hi, v)

    def visit(expr: ast.Expr | None) -> ast.Expr | None:
        if expr is None:
            return None
        if isinstance(expr, ast.ParenExpr):
            inner = visit(expr.expr)
            return None if inner is None else ast.ParenExpr(inner)
        if isinstance(expr, ast.BinaryExpr):
            if expr.op in ("AND", "OR"):
                lhs, rhs = visit(expr.lhs), visit(expr.rhs)
                if lhs is None:
                    return rhs
                if rhs is None:
                    return lhs
                return ast.BinaryExpr(expr.op, lhs, rhs)
            lhs_time, rhs_time = _is_time(expr.lhs), _is_time(expr.rhs)
            if lhs_time or rhs_time:
                op = expr.op if lhs_time else _FLIP.get(expr.op, expr.op)
                other = expr.rhs if lhs_time else expr.lhs
                if op not in (">", ">=", "<", "<=", "="):
                    raise StatementError(f"invalid time comparison operator: {expr.op}")
                narrow(op, _time_value(other, now, zone))
                return None
        return expr

    rest = visit(condition)
    return rest, bounds[0], bounds[1]


def _check_condition(expr: ast.Expr | None) -> None:
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            raise StatementError(f"invalid function call in condition: {node}")


# -- dimensions -------------------------------------------------------------------


def _dimensions(stmt: ast.SelectStatement, tags: set[str], now: int) -> tuple[list[str], int, int]:
    group: list[str] = []
    interval = offset = 0
    seen_time = False
    for dim in stmt.dimensions:
        expr = dim.expr
        if isinstance(expr, ast.Call):
            if expr.name != "time":
                raise StatementError("only time() calls allowed in dimensions")
            if seen_time:
                raise StatementError("multiple time dimensions not allowed")
            seen_time = True
            if len(expr.args) not in (1, 2):
                raise StatementError("time dimension expected 1 or 2 arguments")
            first = expr.args[0]
            if not isinstance(first, ast.DurationLiteral):
                raise StatementError("time dimension must have duration argument")
            interval = first.value
            if len(expr.args) == 2:
                second = expr.args[1]
                if isinstance(second, ast.DurationLiteral):
                    offset = second.value
                elif isinstance(second, ast.Call) and second.name == "now" and not second.args:
                    offset = now
                else:
                    raise StatementError("time dimension offset must be duration or now()")
        elif isinstance(expr, ast.VarRef):
            if expr.name.lower() == "time":
                raise StatementError("time() is a function and expects at least one argument")
            group.append(expr.name)
        elif isinstance(expr, ast.Wildcard):
            group.extend(tags)
        elif isinstance(expr, ast.RegexLiteral):
            pattern = compile_regex(expr.pattern)
            group.extend(t for t in tags if pattern.search(t))
        else:
            raise StatementError("only time and tag dimensions allowed")
    if interval <= 0:
        interval = offset = 0
    elif offset:
        offset %= interval
    return sorted(set(group)), interval, offset


# -- fields -----------------------------------------------------------------------


def _expand(
    fields: Sequence[ast.Field], types: dict[str, str], tags: set[str], group: list[str]
) -> list[ast.Field]:
    """The SELECT list with ``*``, ``/regex/`` and ``f(*)`` / ``f(/regex/)`` expanded."""
    out: list[ast.Field] = []
    grouped = set(group)
    for f in fields:
        expr = f.expr
        if isinstance(expr, ast.Wildcard | ast.RegexLiteral):
            pattern = compile_regex(expr.pattern) if isinstance(expr, ast.RegexLiteral) else None
            kind = expr.type if isinstance(expr, ast.Wildcard) else None
            names: list[tuple[str, str | None]] = []
            if kind != "tag":
                names += [(n, None) for n in types]
            if kind != "field":
                names += [(t, "tag") for t in tags if t not in grouped]
            for name, role in sorted(names):
                if pattern is None or pattern.search(name):
                    out.append(ast.Field(ast.VarRef(name, role)))
            continue
        if (
            isinstance(expr, ast.Call)
            and expr.args
            and isinstance(expr.args[0], ast.Wildcard | ast.RegexLiteral)
        ):
            arg = expr.args[0]
            pattern = compile_regex(arg.pattern) if isinstance(arg, ast.RegexLiteral) else None
            allowed = _WILDCARD_TYPES.get(expr.name, _NUMERIC)
            for name, kind in sorted(types.items()):
                if kind in allowed and (pattern is None or pattern.search(name)):
                    call = ast.Call(expr.name, (ast.VarRef(name), *expr.args[1:]))
                    out.append(ast.Field(call, f"{expr.name}_{name}"))
            continue
        out.append(f)
    return out


def _calls(expr: ast.Expr) -> list[ast.Call]:
    """The top-level calls of an expression (not the ``distinct()`` inside ``count()``)."""
    if isinstance(expr, ast.Call):
        return [expr]
    if isinstance(expr, ast.BinaryExpr):
        return _calls(expr.lhs) + _calls(expr.rhs)
    if isinstance(expr, ast.ParenExpr):
        return _calls(expr.expr)
    return []


def _refs_outside_calls(expr: ast.Expr) -> list[ast.VarRef]:
    if isinstance(expr, ast.VarRef):
        return [expr]
    if isinstance(expr, ast.BinaryExpr):
        return _refs_outside_calls(expr.lhs) + _refs_outside_calls(expr.rhs)
    if isinstance(expr, ast.ParenExpr):
        return _refs_outside_calls(expr.expr)
    return []


def _has_variable(expr: ast.Expr) -> bool:
    return any(isinstance(n, ast.VarRef | ast.Call | ast.Wildcard) for n in ast.walk(expr))


def _go_type(expr: ast.Expr) -> str:
    return f"*influxql.{type(expr).__name__}"


def _check_transform(call: ast.Call, interval: int) -> None:
    """1.x's rules for a transformation (``compileFunction``); the inner call checked too."""
    name, args = call.name, call.args
    if name in ("derivative", "non_negative_derivative", "elapsed"):
        if not 1 <= len(args) <= 2:
            raise StatementError(
                f"invalid number of arguments for {name}, expected at least 1 but no more "
                f"than 2, got {len(args)}"
            )
        if len(args) == 2:
            if not isinstance(args[1], ast.DurationLiteral):
                raise StatementError(
                    f"second argument to {name} must be a duration, got {_go_type(args[1])}"
                )
            if args[1].value <= 0:
                raise StatementError(f"duration argument must be positive, got {args[1]}")
    elif name == "moving_average":
        if len(args) != 2:
            raise StatementError(
                f"invalid number of arguments for moving_average, expected 2, got {len(args)}"
            )
        if not isinstance(args[1], ast.IntegerLiteral):
            raise StatementError(
                f"second argument for moving_average must be an integer, got {_go_type(args[1])}"
            )
        if args[1].value <= 1:
            raise StatementError(
                f"moving_average window must be greater than 1, got {args[1].value}"
            )
    elif len(args) != 1:
        raise StatementError(f"invalid number of arguments for {name}, expected 1, got {len(args)}")
    inner = args[0]
    if isinstance(inner, ast.Call):
        if not interval:
            raise StatementError(f"{name} aggregate requires a GROUP BY interval")
        if inner.name in TRANSFORMS:
            raise StatementError(f"expected field argument in {inner.name}()")
        _check_call(inner, interval)
        return
    if interval:
        raise StatementError(f"aggregate function required inside the call to {name}")
    if not isinstance(inner, ast.VarRef | ast.Wildcard | ast.RegexLiteral):
        raise StatementError(f"expected field argument in {name}()")


def _check_call(call: ast.Call, interval: int = 0) -> None:
    """1.x's argument rules for one function call (``compileFunction``)."""
    name, args = call.name, call.args
    if name in TRANSFORMS:
        _check_transform(call, interval)
        return
    if name in UNSUPPORTED_FUNCTIONS:
        raise StatementError(
            f"{name}() is not supported by the influxkit local engine; use a real server"
        )
    if name in ("top", "bottom"):
        if len(args) < 2:
            raise StatementError(
                f"invalid number of arguments for {name}, expected at least 2, got {len(args)}"
            )
        last = args[-1]
        if not isinstance(last, ast.IntegerLiteral):
            shown = f"{last.value:.3f}" if isinstance(last, ast.NumberLiteral) else str(last)
            raise StatementError(f"expected integer as last argument in {name}(), found {shown}")
        if last.value < 1:
            raise StatementError(f"limit ({last.value}) in {name} function must be at least 1")
        if not isinstance(args[0], ast.VarRef):
            raise StatementError(
                f"expected first argument to be a field in {name}(), found {args[0]}"
            )
        for arg in args[1:-1]:
            if not isinstance(arg, ast.VarRef):
                raise StatementError(f"only fields or tags are allowed in {name}(), found {arg}")
        return
    if name == "percentile":
        if len(args) != 2:
            raise StatementError(
                f"invalid number of arguments for percentile, expected 2, got {len(args)}"
            )
        if not isinstance(args[1], ast.IntegerLiteral | ast.NumberLiteral):
            raise StatementError("expected float argument in percentile()")
        if not isinstance(args[0], ast.VarRef):
            raise StatementError("expected field argument in percentile()")
        return
    if name in AGGREGATES or name in SELECTORS:
        if len(args) != 1:
            raise StatementError(
                f"invalid number of arguments for {name}, expected 1, got {len(args)}"
            )
        arg = args[0]
        if name == "count" and isinstance(arg, ast.Call) and arg.name == "distinct":
            if len(arg.args) != 1 or not isinstance(arg.args[0], ast.VarRef):
                raise StatementError("expected field argument in distinct()")
            return
        if name == "count" and isinstance(arg, ast.Distinct):
            return
        if not isinstance(arg, ast.VarRef | ast.Wildcard | ast.RegexLiteral):
            raise StatementError(f"expected field argument in {name}()")
        return
    raise StatementError(f"undefined function {name}()")


def compile_select(stmt: ast.SelectStatement, schemas: Sequence[Schema], now: int) -> Plan:
    """Validate ``stmt`` against the sources' ``schemas`` and make its :class:`Plan`.

    Raises:
        StatementError: the statement is refused (the message is 1.x's).
    """
    zone = load_zone(stmt.timezone) if stmt.timezone else None
    condition, lower, upper = time_range(stmt.condition, now, zone)
    _check_condition(condition)
    types, tags = merged(schemas)
    group, interval, offset = _dimensions(stmt, tags, now)

    # The time column: a bare `time` in the SELECT list only names it.
    time_name = "time"
    selected: list[ast.Field] = []
    for f in stmt.fields:
        if isinstance(f.expr, ast.VarRef) and f.expr.name == "time":
            time_name = f.alias or time_name
            continue
        selected.append(f)
    if not selected:
        raise StatementError("at least 1 non-time field must be queried")

    raw_calls: list[ast.Call] = []
    has_aux = False
    for f in selected:
        calls = _calls(f.expr)
        for call in calls:
            _check_call(call, interval)
        raw_calls += calls
        if _refs_outside_calls(f.expr) or isinstance(f.expr, ast.Wildcard | ast.RegexLiteral):
            has_aux = True
        elif not calls and not _has_variable(f.expr):
            raise StatementError("field must contain at least one variable")
    top_bottom = next((c.name for c in raw_calls if c.name in ("top", "bottom")), None)
    has_distinct = any(c.name == "distinct" for c in raw_calls)
    only_selectors = all(c.name in SELECTORS for c in raw_calls)
    if len(raw_calls) > 1 and top_bottom:
        raise StatementError(
            f"selector function {top_bottom}() cannot be combined with other functions"
        )
    if not raw_calls:
        if stmt.fill in ("none", "linear"):
            raise StatementError(f"fill({stmt.fill}) must be used with a function")
        if interval:
            raise StatementError("GROUP BY requires at least one aggregate function")
    if has_distinct and (len(raw_calls) != 1 or has_aux):
        raise StatementError(
            "aggregate function distinct() cannot be combined with other functions or fields"
        )
    if has_aux and raw_calls:
        if not only_selectors:
            raise StatementError("mixing aggregate and non-aggregate queries is not supported")
        if len(raw_calls) > 1:
            raise StatementError(
                "mixing multiple selector functions with tags or fields is not supported"
            )

    fields = _expand(selected, types, tags, group)
    calls: list[ast.Call] = []
    transforms: list[ast.Call] = []
    plain: set[str] = set()
    seen: set[str] = set()
    aux: list[ast.VarRef] = []

    def add(call: ast.Call) -> None:
        if str(call) not in seen:
            seen.add(str(call))
            calls.append(call)

    for f in fields:
        for call in _calls(f.expr):
            if call.name in TRANSFORMS:
                if str(call) not in {str(t) for t in transforms}:
                    transforms.append(call)
                if isinstance(call.args[0], ast.Call):
                    add(call.args[0])
                continue
            plain.add(str(call))
            add(call)
        aux += _refs_outside_calls(f.expr)
    multi = None
    if calls and not transforms and calls[0].name in ("top", "bottom", "distinct"):
        multi = calls[0].name if len(calls) == 1 else None
    selector_time = (
        len(calls) == 1
        and not transforms
        and calls[0].name in SELECTORS
        and not interval
        and multi is None
    )

    has_lower = lower is not None
    tmin = lower if lower is not None else MIN_TIME
    # A transformation of windows needs the window before the first one (1.x reads it).
    extend = has_lower and any(
        isinstance(t.args[0], ast.Call) and t.name != "cumulative_sum" for t in transforms
    )
    fetch_min = tmin - interval if extend else tmin
    # No upper bound: GROUP BY time stops at now() (as 1.x does), other queries do not.
    tmax = upper if upper is not None else (now if interval else MAX_TIME)
    columns = [time_name, *ast.column_names(fields)]
    return Plan(
        fields=fields,
        columns=columns,
        calls=calls,
        aggregate=bool(calls),
        selector_time=selector_time,
        multi=multi,
        group_tags=group,
        interval=interval,
        offset=offset,
        tmin=tmin,
        tmax=tmax,
        has_lower=has_lower,
        condition=condition,
        zone=zone,
        fill=stmt.fill,
        fill_value=stmt.fill_value,
        descending=stmt.descending,
        limit=stmt.limit,
        offset_rows=stmt.offset,
        slimit=stmt.slimit,
        soffset=stmt.soffset,
        aux=aux,
        transforms=transforms,
        plain=plain,
        fetch_min=fetch_min,
    )

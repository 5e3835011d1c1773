"""InfluxDB 3's selector functions for DataFusion: ``selector_first/last/min/max(value, time)``.

Each returns a struct ``{value, time}`` (read it as ``selector_max(usage, time)['time']``),
with the server's semantics (``core/query_functions/src/selectors``):

* ``selector_first`` / ``selector_last``: the value at the earliest / latest time; on a
  tie the first row seen wins;
* ``selector_min`` / ``selector_max``: the smallest / largest value, and the earliest
  time at which it occurs;
* NULL values are skipped; with no non-NULL value the struct itself is NULL.

DataFusion's Python UDAFs have one fixed signature, while the server's selectors take
any value type.  So each call's value type is found by planning the query with typed
variants (boolean, int64, uint64, float64, utf8: the first that plans is the type, as
DataFusion coerces only upwards along that order), with not-yet-typed calls stood in
for by an equivalent struct.  When every call of a selector has the same type, that
variant is registered under the public name and the query runs unchanged; otherwise
internal names are used and renamed back in the result.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.clients.local.sqltext import Call, find_calls, tokenize
from influxkit.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa
    from datafusion import AggregateUDF, SessionContext, SQLOptions

__all__ = ["INTERNAL_PREFIX", "SELECTORS", "prepare_selectors"]

SELECTORS = ("selector_first", "selector_last", "selector_min", "selector_max")
INTERNAL_PREFIX = "__influxkit_"
# Tried in this order: DataFusion coerces bool->utf8, int64/uint64->float64->utf8 only.
_TYPE_ORDER = ("boolean", "int64", "uint64", "float64", "utf8")


def _arrow_type(name: str) -> pa.DataType:
    pa = require("pyarrow", "local")
    return {
        "boolean": pa.bool_(),
        "int64": pa.int64(),
        "uint64": pa.uint64(),
        "float64": pa.float64(),
        "utf8": pa.string(),
    }[name]


def _struct_type(value_type: pa.DataType) -> pa.DataType:
    pa = require("pyarrow", "local")
    return pa.struct([pa.field("value", value_type), pa.field("time", pa.timestamp("ns"))])


def _make_accumulator(kind: str, value_type: pa.DataType) -> type:
    pa = require("pyarrow", "local")
    pc = require("pyarrow.compute", "local")
    datafusion = require("datafusion", "local")
    struct_type = _struct_type(value_type)
    ts_type = pa.timestamp("ns")
    by_time = kind in ("selector_first", "selector_last")
    smallest = kind in ("selector_first", "selector_min")

    class Selector(datafusion.Accumulator):
        """The running selection of one group: a value and its time (ns), or nothing yet."""

        def __init__(self) -> None:
            self.value: Any = None
            self.time: int | None = None

        def update(self, *values: pa.Array) -> None:
            self._take(values[0], values[1])

        def merge(self, states: list[pa.Array]) -> None:
            self._take(states[0], states[1])

        def state(self) -> list[pa.Scalar]:
            return [pa.scalar(self.value, value_type), pa.scalar(self.time, ts_type)]

        def evaluate(self) -> pa.Scalar:
            if self.value is None:
                return pa.scalar(None, struct_type)
            return pa.scalar({"value": self.value, "time": self.time}, struct_type)

        def _take(self, values: pa.Array, times: pa.Array) -> None:
            if len(values) == 0:
                return
            valid = pc.is_valid(values)
            if by_time:
                valid = pc.and_(valid, pc.is_valid(times))
            if not pc.any(valid).as_py():
                return
            vals = pc.filter(values, valid)
            nanos = pc.filter(times, valid).cast(pa.int64())
            if by_time:
                self._by_time(vals, nanos)
            else:
                self._by_value(vals, nanos)

        def _by_time(self, vals: pa.Array, nanos: pa.Array) -> None:
            target = (pc.min(nanos) if smallest else pc.max(nanos)).as_py()
            if self.time is not None and not (
                target < self.time if smallest else target > self.time
            ):
                return
            self.time = target
            self.value = vals[pc.index(nanos, target).as_py()].as_py()

        def _by_value(self, vals: pa.Array, nanos: pa.Array) -> None:
            best = (pc.min(vals) if smallest else pc.max(vals)).as_py()
            if self.value is None or (best < self.value if smallest else best > self.value):
                self.value, self.time = best, None
            elif best != self.value:
                return
            at = pc.min(pc.filter(nanos, pc.equal(vals, pa.scalar(best, vals.type)))).as_py()
            if at is not None and (self.time is None or at < self.time):
                self.time = at

    return Selector


@functools.cache
def _udaf(kind: str, type_name: str, name: str) -> AggregateUDF:
    """The (stateless, shareable) DataFusion UDAF of one selector for one value type."""
    pa = require("pyarrow", "local")
    datafusion = require("datafusion", "local")
    value_type = _arrow_type(type_name)
    return datafusion.udaf(
        _make_accumulator(kind, value_type),
        [value_type, pa.timestamp("ns")],
        _struct_type(value_type),
        [value_type, pa.timestamp("ns")],
        "immutable",
        name=name,
    )


def _internal(kind: str, type_name: str) -> str:
    return f"{INTERNAL_PREFIX}{kind}_{type_name}"


def _outermost(calls: list[Call]) -> list[Call]:
    return [c for c in calls if not any(o.start < c.start and c.end <= o.end for o in calls)]


def _splice(sql: str, calls: list[Call], names: list[str | None]) -> str:
    """``sql`` with each call renamed to ``names[i]``, or replaced by a stand-in if ``None``."""
    out = []
    pos = 0
    for call, name in zip(calls, names, strict=True):
        out.append(sql[pos : call.start])
        if name is None:
            value, time = (sql[a:b] for a, b in call.args[:2])
            out.append(f"named_struct('value', first_value({value}), 'time', first_value({time}))")
            pos = call.end
        else:
            out.append(name)
            pos = call.start + len(call.name)
    out.append(sql[pos:])
    return "".join(out)


def prepare_selectors(
    ctx: SessionContext,
    sql: str,
    params: dict[str, Any] | None,
    options: SQLOptions | None,
) -> tuple[str, bool]:
    """Register the selectors ``sql`` uses on ``ctx``; the SQL to run, and whether it is renamed.

    When the second item is true the result's column names (and errors) carry internal
    names: pass them through :func:`public_name`.
    """
    calls = _outermost(find_calls(tokenize(sql), set(SELECTORS)))
    if not calls:
        return sql, False
    for call in calls:
        if len(call.args) < 2:
            raise QueryError(
                f"Error during planning: {call.name} requires at least 2 arguments, "
                f"got {len(call.args)}",
                status=400,
            )
        if len(call.args) > 2:
            raise QueryError(
                f"This feature is not implemented: the local engine's {call.name} takes "
                "exactly (value, time); extra selected columns are not supported",
                status=405,
            )
    for kind in {c.name for c in calls}:
        for type_name in _TYPE_ORDER:
            ctx.register_udaf(_udaf(kind, type_name, _internal(kind, type_name)))

    types: list[str | None] = [None] * len(calls)
    for i in range(len(calls)):
        for type_name in _TYPE_ORDER:
            names = [
                _internal(c.name, t) if t is not None else None
                for c, t in zip(calls, [*types[:i], type_name, *types[i + 1 :]], strict=True)
            ]
            try:
                ctx.sql(_splice(sql, calls, names), options=options, param_values=params)
            except Exception:  # a failed plan only means "not this type"
                continue
            types[i] = type_name
            break
        else:
            types[i] = "float64"  # nothing plans: let the real error surface from DataFusion

    by_kind: dict[str, set[str]] = {}
    for call, type_name in zip(calls, types, strict=True):
        by_kind.setdefault(call.name, set()).add(type_name or "float64")
    if all(len(t) == 1 for t in by_kind.values()):
        for kind, (type_name,) in by_kind.items():
            ctx.register_udaf(_udaf(kind, type_name, kind))
        return sql, False
    names = [_internal(c.name, t or "float64") for c, t in zip(calls, types, strict=True)]
    return _splice(sql, calls, names), True


def public_name(text: str) -> str:
    """``text`` with the internal selector names turned back into the public ones."""
    if INTERNAL_PREFIX not in text:
        return text
    for kind in SELECTORS:
        for type_name in _TYPE_ORDER:
            text = text.replace(_internal(kind, type_name), kind)
    return text

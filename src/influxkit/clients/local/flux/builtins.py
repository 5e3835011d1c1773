"""The builtin functions the local engine runs: their parameters and what each one does.

Arguments are checked as Flux's type checker checks them: an unknown argument is
``found unexpected argument x``, a missing one ``missing required argument x``, a
wrong type ``expected string but found int (argument bucket)``.  Universe functions
the engine does not run are listed in :data:`FLUX_FUNCTIONS`, so that using one is
refused as unsupported rather than as an undefined identifier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.flux import aggregates as agg
from influxkit.clients.local.flux import transforms as tf
from influxkit.clients.local.flux.errors import query_error, semantic_error, unsupported
from influxkit.clients.local.flux.streams import PendingRead, Stream
from influxkit.clients.local.flux.times import MAX_TIME, MIN_TIME, NS, Duration, Time, add_duration
from influxkit.clients.local.flux.values import Builtin, Closure, type_name

if TYPE_CHECKING:
    from influxkit.clients.local.flux import nodes as n
    from influxkit.clients.local.flux.interpreter import Interpreter

__all__ = ["BUILTINS", "FLUX_FUNCTIONS", "Spec"]

Runner = Callable[["Interpreter", "n.Call", dict[str, Any], Any], Any]

_UNSUPPORTED_NAMES = """
    bool bottom buckets bytes chandeMomentumOscillator columns contains cov covariance
    cumulativeSum derivative die difference display distinct doubleEMA duplicate duration
    elapsed exponentialMovingAverage fill findColumn findRecord float getColumn getRecord
    highestAverage highestCurrent highestMax histogram histogramQuantile holtWinters
    hourSelection increase int integral join kaufmansAMA kaufmansER keyValues keys length
    linearBins logarithmicBins lowestAverage lowestCurrent lowestMin map mode movingAverage
    pearsonr quantile reduce relativeStrengthIndex sample set skew spread stateCount
    stateDuration stateTracking stddev string tableFind tail time timeShift
    timeWeightedAvg timedMovingAverage toBool toFloat toInt toString toTime toUInt
    tripleEMA tripleExponentialDerivative truncateTimeColumn uint union unique window"""
#: Flux universe functions that exist but that the local engine does not run.
FLUX_FUNCTIONS = frozenset(_UNSUPPORTED_NAMES.split())


@dataclass(frozen=True, slots=True)
class Spec:
    """A builtin: its parameters (name -> required), whether it takes piped tables, its runner."""

    name: str
    params: dict[str, bool]
    pipe: bool
    run: Runner
    unsupported: frozenset[str] = field(default_factory=frozenset)


# -- argument checking ----------------------------------------------------------------


def _loc(node: n.Call, name: str) -> Any:
    for prop in node.arguments:
        if prop.key == name:
            return prop.loc
    return node.loc


def _typed(
    node: n.Call,
    args: dict[str, Any],
    name: str,
    expected: str,
    ok: Callable[[Any], bool],
    *,
    default: Any,
) -> Any:
    if name not in args:
        return default
    value = args[name]
    if not ok(value):
        raise semantic_error(
            _loc(node, name), f"expected {expected} but found {type_name(value)} (argument {name})"
        )
    return value


def _string(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(node, args, name, "string", lambda v: isinstance(v, str), default=default)


def _bool(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(node, args, name, "bool", lambda v: isinstance(v, bool), default=default)


def _int(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(
        node,
        args,
        name,
        "int",
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        default=default,
    )


def _duration(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(node, args, name, "duration", lambda v: isinstance(v, Duration), default=default)


def _strings(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(
        node,
        args,
        name,
        "[string]",
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        default=default,
    )


def _function(node: n.Call, args: dict[str, Any], name: str, default: Any = None) -> Any:
    return _typed(
        node, args, name, "function", lambda v: isinstance(v, Builtin | Closure), default=default
    )


def _tables(interp: Interpreter, node: n.Call, piped: Any, name: str) -> list[Any]:
    return interp.tables(piped, node.loc, name)


def _time_bound(interp: Interpreter, node: n.Call, args: dict[str, Any], name: str) -> int:
    """A ``range`` bound in ns: a time, a duration from now, or Unix seconds (an int)."""
    value = args.get(name)
    if value is None:
        return interp.now_ns
    if isinstance(value, Time):
        ns = value.ns
    elif isinstance(value, Duration):
        ns = add_duration(interp.now_ns, value)
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = value * NS
    else:
        raise semantic_error(
            _loc(node, name), f"expected time but found {type_name(value)} (argument {name})"
        )
    return min(max(ns, MIN_TIME), MAX_TIME)


def _one_param(node: n.Call, fn: Any, name: str) -> Closure:
    if not isinstance(fn, Closure):
        raise semantic_error(_loc(node, name), f"expected function but found {type_name(fn)}")
    if len(fn.node.params) != 1 or fn.node.params[0].default is not None:
        raise semantic_error(
            _loc(node, name), f"{name}: the function must take exactly one parameter"
        )
    return fn


# -- the functions ----------------------------------------------------------------------


def _from(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    return PendingRead(_string(node, args, "bucket"), node.loc)


def _range(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    start = _time_bound(interp, node, args, "start")
    stop = _time_bound(interp, node, args, "stop")
    if isinstance(piped, PendingRead) and piped.start is None:
        return replace(piped, start=start, stop=stop, filters=[])
    return Stream(tf.range_tables(_tables(interp, node, piped, "range"), start, stop))


def _filter(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    fn = _one_param(node, args["fn"], "fn")
    on_empty = _string(node, args, "onEmpty", "drop")
    if on_empty not in ("drop", "keep"):
        raise query_error(f'onEmpty must be "keep" or "drop", got "{on_empty}"')
    if isinstance(piped, PendingRead) and piped.start is not None:
        return replace(piped, filters=[*piped.filters, (fn, on_empty == "keep")])
    tables = _tables(interp, node, piped, "filter")
    return Stream(tf.filter_tables(tables, interp.row_test(fn), keep_empty=on_empty == "keep"))


def _yield(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    tables = _tables(interp, node, piped, "yield")
    interp.add_result(_string(node, args, "name", "_result"), tables, node.loc)
    return Stream(tables)


def _now(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    return Time(interp.now_ns)


def _aggregate(name: str) -> Runner:
    def run(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
        column = _string(node, args, "column", "_value")
        method = _string(node, args, "method", "estimate_tdigest")
        if method not in ("estimate_tdigest", "exact_mean", "exact_selector"):
            raise query_error(f"unknown method {method}")
        tables = _tables(interp, node, piped, name)
        if name in agg.SELECTORS:
            return Stream(agg.select(tables, name, column))
        return Stream(agg.aggregate(tables, name, column, method))

    return run


def _aggregate_window(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    fn = _function(node, args, "fn")
    if not isinstance(fn, Builtin) or fn.name not in agg.AGGREGATES | agg.SELECTORS:
        shown = fn.name + "()" if isinstance(fn, Builtin) else "a user-defined function"
        raise unsupported(_loc(node, "fn"), f"aggregateWindow(fn: {shown})")
    time_src = _string(node, args, "timeSrc", "_stop")
    if time_src not in ("_start", "_stop"):
        raise unsupported(_loc(node, "timeSrc"), f'aggregateWindow(timeSrc: "{time_src}")')
    return Stream(
        agg.aggregate_window(
            _tables(interp, node, piped, "aggregateWindow"),
            fn=fn.name,
            every=_duration(node, args, "every"),
            period=_duration(node, args, "period"),
            offset=_duration(node, args, "offset", Duration()),
            column=_string(node, args, "column", "_value"),
            time_src=time_src,
            time_dst=_string(node, args, "timeDst", "_time"),
            create_empty=_bool(node, args, "createEmpty", True),
        )
    )


def _group(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    mode = _string(node, args, "mode", "by")
    if mode not in ("by", "except"):
        raise query_error('invalid group mode: must be "by" or "except"')
    columns = _strings(node, args, "columns", [])
    return Stream(tf.group_tables(_tables(interp, node, piped, "group"), columns, mode))


def _column_test(
    interp: Interpreter, node: n.Call, args: dict[str, Any], name: str
) -> Callable[[str], bool]:
    if ("columns" in args) == ("fn" in args):
        raise query_error(f"{name}: give exactly one of columns and fn")
    if "columns" in args:
        chosen = set(_strings(node, args, "columns"))
        return chosen.__contains__
    fn = _one_param(node, args["fn"], "fn")

    def test(label: str) -> bool:
        value = interp.apply(fn, label)
        if not isinstance(value, bool):
            raise semantic_error(
                fn.node.loc, f"{name}: fn must return a bool, got {type_name(value)}"
            )
        return value

    return test


def _keep(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    test = _column_test(interp, node, args, "keep")
    return Stream(tf.keep_columns(_tables(interp, node, piped, "keep"), test))


def _drop(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    test = _column_test(interp, node, args, "drop")
    return Stream(tf.drop_columns(_tables(interp, node, piped, "drop"), test))


def _rename(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    if ("columns" in args) == ("fn" in args):
        raise query_error("rename: give exactly one of columns and fn")
    if "columns" in args:
        mapping = args["columns"]
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise semantic_error(
                _loc(node, "columns"), f"expected record of strings but found {type_name(mapping)}"
            )

        def new_name(label: str) -> str:
            return mapping.get(label, label)

    else:
        fn = _one_param(node, args["fn"], "fn")

        def new_name(label: str) -> str:
            value = interp.apply(fn, label)
            if not isinstance(value, str):
                raise semantic_error(
                    fn.node.loc, f"rename: fn must return a string, got {type_name(value)}"
                )
            return value

    return Stream(tf.rename_columns(_tables(interp, node, piped, "rename"), new_name))


def _limit(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    count, offset = _int(node, args, "n"), _int(node, args, "offset", 0)
    if count < 0 or offset < 0:
        raise query_error("limit: n and offset must not be negative")
    return Stream(tf.limit_tables(_tables(interp, node, piped, "limit"), count, offset))


def _sort(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    columns = _strings(node, args, "columns", ["_value"])
    desc = _bool(node, args, "desc", False)
    return Stream(tf.sort_tables(_tables(interp, node, piped, "sort"), columns, desc))


def _pivot(interp: Interpreter, node: n.Call, args: dict[str, Any], piped: Any) -> Any:
    return Stream(
        tf.pivot_tables(
            _tables(interp, node, piped, "pivot"),
            _strings(node, args, "rowKey"),
            _strings(node, args, "columnKey"),
            _string(node, args, "valueColumn"),
        )
    )


def _spec(
    name: str,
    params: dict[str, bool],
    run: Runner,
    *,
    pipe: bool = True,
    unsupported_params: str = "",
) -> Spec:
    return Spec(name, params, pipe, run, frozenset(unsupported_params.split()))


_AGG_PARAMS = {"column": False}
BUILTINS: dict[str, Spec] = {
    "from": _spec(
        "from",
        {"bucket": True},
        _from,
        pipe=False,
        unsupported_params="bucketID host org orgID token",
    ),
    "range": _spec("range", {"start": True, "stop": False}, _range),
    "filter": _spec("filter", {"fn": True, "onEmpty": False}, _filter),
    "yield": _spec("yield", {"name": False}, _yield),
    "now": _spec("now", {}, _now, pipe=False),
    "aggregateWindow": _spec(
        "aggregateWindow",
        {
            "every": True,
            "fn": True,
            "period": False,
            "offset": False,
            "column": False,
            "timeSrc": False,
            "timeDst": False,
            "createEmpty": False,
        },
        _aggregate_window,
        unsupported_params="location",
    ),
    "mean": _spec("mean", _AGG_PARAMS, _aggregate("mean")),
    "sum": _spec("sum", _AGG_PARAMS, _aggregate("sum")),
    "count": _spec("count", _AGG_PARAMS, _aggregate("count")),
    "median": _spec(
        "median", {"column": False, "method": False, "compression": False}, _aggregate("median")
    ),
    "min": _spec("min", _AGG_PARAMS, _aggregate("min")),
    "max": _spec("max", _AGG_PARAMS, _aggregate("max")),
    "first": _spec("first", _AGG_PARAMS, _aggregate("first")),
    "last": _spec("last", _AGG_PARAMS, _aggregate("last")),
    "group": _spec("group", {"columns": False, "mode": False}, _group),
    "keep": _spec("keep", {"columns": False, "fn": False}, _keep),
    "drop": _spec("drop", {"columns": False, "fn": False}, _drop),
    "rename": _spec("rename", {"columns": False, "fn": False}, _rename),
    "limit": _spec("limit", {"n": True, "offset": False}, _limit),
    "sort": _spec("sort", {"columns": False, "desc": False}, _sort),
    "pivot": _spec("pivot", {"rowKey": True, "columnKey": True, "valueColumn": True}, _pivot),
}

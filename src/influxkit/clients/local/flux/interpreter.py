"""Running a Flux script: statements, variables, function calls, streams and results.

``from(bucket:)`` gives a pending read; ``range()`` bounds it and the ``filter()`` calls
straight after it are pushed down to the reader (which skips measurements and fields
they can never keep); any other function reads it.  A stream used before ``range`` is
2.x's "unbounded read" error.  ``yield(name:)`` names a result; without any ``yield``,
the script's stream statement is the result ``_result``.  ``option now = () => <time>``
fixes ``now()`` (otherwise the time the script started), as in Flux.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.flux import nodes as n
from influxkit.clients.local.flux.builtins import BUILTINS, Spec
from influxkit.clients.local.flux.errors import (
    Loc,
    bucket_not_found,
    query_error,
    semantic_error,
    unsupported,
)
from influxkit.clients.local.flux.evaluate import Evaluator
from influxkit.clients.local.flux.source import read_range
from influxkit.clients.local.flux.streams import PendingRead, Stream
from influxkit.clients.local.flux.table import Result, Table
from influxkit.clients.local.flux.times import Time
from influxkit.clients.local.flux.transforms import filter_tables
from influxkit.clients.local.flux.values import (
    UNKNOWN,
    Builtin,
    Closure,
    RowRecord,
    Scope,
    type_name,
)
from influxkit.errors import QueryError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["BucketReader", "Interpreter"]

#: ``reader(bucket)`` is the bucket's tables (measurement -> Arrow), or ``None`` if none.
BucketReader = Callable[[str], "Mapping[str, pa.Table] | None"]

#: The scope every script starts in: the builtins, ``true`` and ``false``.
UNIVERSE = Scope({name: Builtin(name) for name in BUILTINS} | {"true": True, "false": False})

_NO_DATA = (
    "error in query specification while starting program: this Flux script returns no "
    'streaming data. Consider adding a "yield" or invoking streaming functions directly, '
    "without performing an assignment"
)


class Interpreter:
    """Runs one script over the buckets ``reader`` gives; :meth:`run` returns its results."""

    def __init__(self, reader: BucketReader, now_ns: int | None = None) -> None:
        self.reader = reader
        self.now_ns = time.time_ns() if now_ns is None else now_ns
        self.evaluator = Evaluator(self.call)
        self.results: list[Result] = []
        self._explicit_yield = False

    # -- program ------------------------------------------------------------------

    def run(self, program: n.Program) -> list[Result]:
        """Every result of ``program``, in the order they were yielded."""
        scope = Scope(parent=UNIVERSE)
        for statement in program.body:  # options apply to the whole script
            if isinstance(statement, n.OptionAssign):
                self._option(statement, scope)
            elif isinstance(statement, n.Import):
                raise unsupported(statement.loc, f'import "{statement.path}"')
        self._explicit_yield = _has_yield(program)
        implicit: list[tuple[n.ExprStatement, Any]] = []
        for statement in program.body:
            if isinstance(statement, n.VarAssign):
                scope.vars[statement.name] = self.evaluator.eval(statement.value, scope)
            elif isinstance(statement, n.ExprStatement):
                value = self.evaluator.eval(statement.expression, scope)
                if isinstance(value, Stream | PendingRead):
                    implicit.append((statement, value))
        if not self._explicit_yield:
            for statement, value in implicit:
                self.add_result("_result", self.tables(value, statement.loc), statement.loc)
        if not self.results:
            raise query_error(_NO_DATA)
        return self.results

    def _option(self, statement: n.OptionAssign, scope: Scope) -> None:
        value = statement.value
        if statement.name != "now" or not isinstance(value, n.FunctionLit) or value.params:
            raise unsupported(statement.loc, f"option {statement.name}")
        moment = self.evaluator.eval(value.body, scope)
        if not isinstance(moment, Time):
            raise semantic_error(value.body.loc, f"expected time but found {type_name(moment)}")
        self.now_ns = moment.ns

    def add_result(self, name: str, tables: list[Table], loc: Loc) -> None:
        """Record a result; a second result of one name is an error."""
        if any(r.name == name for r in self.results):
            raise semantic_error(
                loc, f'found more than one result named "{name}"; give each yield() its own name'
            )
        self.results.append(Result(name, tuple(tables)))

    # -- streams ------------------------------------------------------------------

    def tables(self, value: Any, loc: Loc, function: str = "yield") -> list[Table]:
        """The tables of a stream value, reading a pending ``from()`` if need be."""
        if isinstance(value, Stream):
            return value.tables
        if isinstance(value, PendingRead):
            return self._read(value)
        raise semantic_error(
            loc, f"{function}() needs a stream of tables piped into it, got {type_name(value)}"
        )

    def _read(self, pending: PendingRead) -> list[Table]:
        if pending.start is None or pending.stop is None:
            raise query_error(
                "error in building plan while starting program: cannot submit unbounded read "
                f"to \"{pending.bucket}\"; try bounding 'from' with a call to 'range'"
            )
        snapshot = self.reader(pending.bucket)
        if snapshot is None:
            raise bucket_not_found(pending.bucket)
        prunable = [fn for fn, keep_empty in pending.filters if not keep_empty]
        prune_all = len(prunable) == len(pending.filters)

        def keep(measurement: str, field_name: str | None) -> bool:
            if not prune_all:
                return True
            known = {"_measurement": measurement}
            if field_name is not None:
                known["_field"] = field_name
            return all(self._maybe(fn, known) for fn in prunable)

        tables = read_range(snapshot, pending.start, pending.stop, keep)
        for fn, keep_empty in pending.filters:
            tables = filter_tables(tables, self.row_test(fn), keep_empty=keep_empty)
        return tables

    def _maybe(self, fn: Closure, known: dict[str, Any]) -> bool:
        """False only if ``fn`` is false for every row with these known values."""
        try:
            value = self.apply(fn, RowRecord.partial(known))
        except QueryError:
            return True  # decided row by row, where the error is raised for real
        return value is UNKNOWN or value is True

    # -- functions ----------------------------------------------------------------

    def apply(self, fn: Closure, *args: Any) -> Any:
        """Call a function literal with positional values for its parameters."""
        params = fn.node.params
        if len(params) != len(args) or any(p.default is not None for p in params):
            raise unsupported(fn.node.loc, "this function literal's parameters")
        scope = Scope({p.name: a for p, a in zip(params, args, strict=True)}, fn.scope)
        return self.evaluator.eval(fn.node.body, scope)

    def row_test(self, fn: Closure) -> Callable[[Table], Callable[[list[Any]], bool]]:
        """``filter(fn:)`` as a per-table row test: true keeps the row, null and false drop it."""

        def for_table(table: Table) -> Callable[[list[Any]], bool]:
            record = RowRecord.factory(table)

            def test(row: list[Any]) -> bool:
                value = self.apply(fn, record(row))
                if value is None or isinstance(value, bool):
                    return value is True
                raise semantic_error(
                    fn.node.body.loc, f"filter function must return a bool, got {type_name(value)}"
                )

            return test

        return for_table

    def call(self, node: n.Call, scope: Scope, piped: Any) -> Any:
        """Evaluate a call (``piped`` is the ``|>`` input, if any)."""
        callee = node.callee
        if isinstance(callee, n.Member) and isinstance(callee.object, n.Identifier):
            found, _ = scope.lookup(callee.object.name)
            if not found:  # a package function: packages cannot be imported here
                raise unsupported(callee.loc, f"{callee.object.name}.{callee.property}()")
        target = self.evaluator.eval(callee, scope)
        if isinstance(target, Closure):
            raise unsupported(node.loc, "calling a user-defined function")
        if not isinstance(target, Builtin):
            raise semantic_error(callee.loc, f"cannot call a value of type {type_name(target)}")
        spec = BUILTINS[target.name]
        args = self._arguments(node, spec, scope)
        if spec.pipe and piped is None:
            raise semantic_error(node.loc, "missing required argument tables")
        if not spec.pipe and piped is not None:
            raise semantic_error(node.loc, f"{target.name}() does not take piped-forward data")
        return spec.run(self, node, args, piped)

    def _arguments(self, node: n.Call, spec: Spec, scope: Scope) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for prop in node.arguments:
            if prop.key in spec.unsupported:
                raise unsupported(prop.loc, f"{spec.name}({prop.key}:)")
            if prop.key not in spec.params:
                raise semantic_error(prop.loc, f"found unexpected argument {prop.key}")
            args[prop.key] = self.evaluator.eval(prop.value, scope)
        for name, required in spec.params.items():
            if required and name not in args:
                raise semantic_error(node.loc, f"missing required argument {name}")
        return args


def _has_yield(program: n.Program) -> bool:
    """Whether the script calls ``yield`` anywhere (then only yields are results)."""

    def visit(node: Any) -> bool:
        if (
            isinstance(node, n.Call)
            and isinstance(node.callee, n.Identifier)
            and node.callee.name == "yield"
        ):
            return True
        if isinstance(node, tuple):
            return any(visit(x) for x in node)
        slots = getattr(node, "__slots__", ())
        return any(visit(getattr(node, s)) for s in slots if s != "loc")

    return visit(program.body)

"""A WHERE clause (its time comparisons already taken out) as a DataFusion SQL predicate.

Columns are quoted identifiers; every literal, regex included, becomes a ``$pN``
placeholder whose value goes to DataFusion through ``param_values``, so no query
text is ever pasted into SQL.  InfluxQL's rules decide what a comparison means:

* a tag that a series lacks is the empty string (``host = ''`` matches it,
  ``host != 'a'`` too), so tags are read as ``COALESCE(CAST(tag AS VARCHAR), '')``;
* a name that is neither a field nor a tag of the measurement is such a tag;
* a field a point lacks makes every comparison on it false (SQL's NULL does that);
* comparing values of different kinds (a string field with a number, a number with
  a regex) is false, as in 1.x, rather than an error; so is ordering strings or
  booleans (``host > 'h2'``): 1.x only orders numbers;
* ``a / b`` is 0 when ``b`` is 0, and divides two integers as integers
  (truncating), as 1.x evaluates a condition (unlike a SELECT field, where
  integer division gives a float).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.schema import Schema

__all__ = ["Params", "quote", "translate"]

_TRUE, _FALSE = "TRUE", "FALSE"
_COMPARISONS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITHMETIC = ("+", "-", "*", "/", "%", "&", "|", "^")


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(slots=True)
class Params:
    """The placeholder values of one SQL statement (``$p0``, ``$p1`` ...)."""

    values: dict[str, Any] = field(default_factory=dict)

    def add(self, value: Any) -> str:
        """A new placeholder for ``value``."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


@dataclass(frozen=True, slots=True)
class _Operand:
    sql: str
    kind: str  # "text" (tags, strings), "number", "boolean", "null"
    integer: bool = False  # a number that is an integer (1.x divides those as integers)


def translate(expr: ast.Expr | None, schema: Schema, params: Params) -> str:
    """``expr`` as a SQL boolean over ``schema``'s table; ``"TRUE"`` when there is none."""
    if expr is None:
        return _TRUE
    return _condition(expr, schema, params)


def _condition(expr: ast.Expr, schema: Schema, params: Params) -> str:
    if isinstance(expr, ast.ParenExpr):
        return _condition(expr.expr, schema, params)
    if isinstance(expr, ast.BooleanLiteral):
        return _TRUE if expr.value else _FALSE
    if isinstance(expr, ast.BinaryExpr):
        op = expr.op
        if op in ("AND", "OR"):
            lhs = _condition(expr.lhs, schema, params)
            rhs = _condition(expr.rhs, schema, params)
            if op == "AND":
                if _FALSE in (lhs, rhs):
                    return _FALSE
                if lhs == _TRUE:
                    return rhs
                return lhs if rhs == _TRUE else f"({lhs}) AND ({rhs})"
            if _TRUE in (lhs, rhs):
                return _TRUE
            if lhs == _FALSE:
                return rhs
            return lhs if rhs == _FALSE else f"({lhs}) OR ({rhs})"
        if op in ("=~", "!~"):
            return _regex(expr, schema, params)
        if op in _COMPARISONS:
            return _compare(op, expr.lhs, expr.rhs, schema, params)
    if isinstance(expr, ast.VarRef):
        operand = _operand(expr, schema, params)
        return f"({operand.sql}) = TRUE" if operand.kind == "boolean" else _FALSE
    return _FALSE


def _regex(expr: ast.BinaryExpr, schema: Schema, params: Params) -> str:
    lhs = _operand(expr.lhs, schema, params)
    if lhs.kind != "text" or not isinstance(expr.rhs, ast.RegexLiteral):
        return _FALSE
    pattern = params.add(expr.rhs.pattern)
    match = f"({lhs.sql}) ~ {pattern}"
    return match if expr.op == "=~" else f"NOT ({match})"


def _compare(
    op: str, lhs_expr: ast.Expr, rhs_expr: ast.Expr, schema: Schema, params: Params
) -> str:
    lhs = _operand(lhs_expr, schema, params)
    rhs = _operand(rhs_expr, schema, params)
    if lhs.kind == "null" or rhs.kind == "null" or lhs.kind != rhs.kind:
        return _FALSE
    if lhs.kind in ("boolean", "text") and op not in ("=", "!="):
        return _FALSE  # 1.x orders only numbers: `host > 'h2'` matches nothing
    return f"({lhs.sql}) {_COMPARISONS[op]} ({rhs.sql})"


def _ref(ref: ast.VarRef, schema: Schema) -> _Operand:
    name, hint = ref.name, ref.type
    column = quote(name)
    as_tag = _Operand(f"COALESCE(CAST({column} AS VARCHAR), '')", "text")
    if hint == "tag":
        return as_tag if name in schema.tags else _Operand("''", "text")
    kind = schema.fields.get(name)
    if kind is not None:
        if kind == "string":
            return _Operand(column, "text")
        if kind == "boolean":
            return _Operand(column, "boolean")
        return _Operand(column, "number", integer=kind in ("integer", "unsigned"))
    if hint is not None:
        return _Operand("NULL", "null")
    if name in schema.tags:
        return as_tag
    # Neither a field nor a tag here: a tag every series lacks, the empty string.
    return _Operand("''", "text")


def _operand(expr: ast.Expr, schema: Schema, params: Params) -> _Operand:
    if isinstance(expr, ast.ParenExpr):
        return _operand(expr.expr, schema, params)
    if isinstance(expr, ast.VarRef):
        return _ref(expr, schema)
    if isinstance(expr, ast.StringLiteral):
        return _Operand(params.add(expr.value), "text")
    if isinstance(expr, ast.BooleanLiteral):
        return _Operand(params.add(expr.value), "boolean")
    if isinstance(expr, ast.IntegerLiteral | ast.DurationLiteral):
        return _Operand(f"CAST({params.add(int(expr.value))} AS BIGINT)", "number", integer=True)
    if isinstance(expr, ast.NumberLiteral):
        return _Operand(f"CAST({params.add(float(expr.value))} AS DOUBLE)", "number")
    if isinstance(expr, ast.BinaryExpr) and expr.op in _ARITHMETIC:
        lhs = _operand(expr.lhs, schema, params)
        rhs = _operand(expr.rhs, schema, params)
        if lhs.kind != "number" or rhs.kind != "number":
            return _Operand("NULL", "null")
        a, b = lhs.sql, rhs.sql
        integer = lhs.integer and rhs.integer
        if expr.op in ("/", "%"):
            # In a condition 1.x divides integers as integers (truncating), 0 by zero.
            zero = "0" if integer else "CAST(0 AS DOUBLE)"
            if not integer:
                a, b = f"CAST(({a}) AS DOUBLE)", f"CAST(({b}) AS DOUBLE)"
            return _Operand(
                f"CASE WHEN ({b}) = 0 THEN {zero} ELSE ({a}) {expr.op} ({b}) END",
                "number",
                integer=integer,
            )
        return _Operand(f"({a}) {expr.op} ({b})", "number", integer=integer)
    if isinstance(expr, ast.BinaryExpr):
        return _Operand(_condition(expr, schema, params), "boolean")
    return _Operand("NULL", "null")

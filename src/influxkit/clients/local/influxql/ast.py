"""The InfluxQL syntax tree: expressions, sources and statements, as 1.x's ``influxql/ast.go``.

Nodes are frozen dataclasses.  :func:`field_name` gives a SELECT field the column
name 1.x gives it (``mean(value) * 2`` is ``mean``, ``a + b`` is ``a_b``) and
:func:`column_names` resolves duplicates (``mean``, ``mean_1``) the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = [
    "BinaryExpr",
    "BooleanLiteral",
    "Call",
    "CreateDatabase",
    "Dimension",
    "Distinct",
    "DropDatabase",
    "DurationLiteral",
    "Expr",
    "Field",
    "IntegerLiteral",
    "Measurement",
    "NilLiteral",
    "NumberLiteral",
    "ParenExpr",
    "RegexLiteral",
    "SelectStatement",
    "ShowDatabases",
    "ShowFieldKeys",
    "ShowMeasurements",
    "ShowRetentionPolicies",
    "ShowSeries",
    "ShowTagKeys",
    "ShowTagValues",
    "Statement",
    "StringLiteral",
    "VarRef",
    "Wildcard",
    "column_names",
    "field_name",
    "walk",
]


class Expr:
    """Base of every expression node."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class VarRef(Expr):
    """A field or tag name, with an optional ``::type`` (float, integer, ..., field, tag)."""

    name: str
    type: str | None = None

    def __str__(self) -> str:
        text = _quote_ident(self.name)
        return f"{text}::{self.type}" if self.type else text


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A function call; the name is lower-cased as 1.x does."""

    name: str
    args: tuple[Expr, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True, slots=True)
class NumberLiteral(Expr):
    """A float literal."""

    value: float

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class IntegerLiteral(Expr):
    """An integer literal."""

    value: int

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class StringLiteral(Expr):
    """A single-quoted string literal."""

    value: str

    def __str__(self) -> str:
        return "'" + self.value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class BooleanLiteral(Expr):
    """``true`` / ``false``."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class NilLiteral(Expr):
    """A ``null`` bound parameter."""

    def __str__(self) -> str:
        return "null"


@dataclass(frozen=True, slots=True)
class DurationLiteral(Expr):
    """A duration (``1h``), in nanoseconds."""

    value: int
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"{self.value}ns"


@dataclass(frozen=True, slots=True)
class RegexLiteral(Expr):
    """A ``/regex/`` (the pattern, with ``\\/`` already unescaped)."""

    pattern: str

    def __str__(self) -> str:
        return "/" + self.pattern.replace("/", "\\/") + "/"


@dataclass(frozen=True, slots=True)
class Wildcard(Expr):
    """``*``, ``*::field`` or ``*::tag``."""

    type: str | None = None

    def __str__(self) -> str:
        return f"*::{self.type}" if self.type else "*"


@dataclass(frozen=True, slots=True)
class Distinct(Expr):
    """``DISTINCT name`` (the keyword form of ``distinct(name)``)."""

    name: str

    def __str__(self) -> str:
        return f"DISTINCT {self.name}"


@dataclass(frozen=True, slots=True)
class BinaryExpr(Expr):
    """``lhs op rhs``; ``op`` is the operator text or ``AND`` / ``OR``."""

    op: str
    lhs: Expr
    rhs: Expr

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


@dataclass(frozen=True, slots=True)
class ParenExpr(Expr):
    """A parenthesized expression (kept: it bounds operator precedence)."""

    expr: Expr

    def __str__(self) -> str:
        return f"({self.expr})"


def _quote_ident(name: str) -> str:
    if (
        name
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isalnum() or c == "_" for c in name)
    ):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def walk(expr: Expr | None) -> Iterator[Expr]:
    """Every node of ``expr``, parents before children."""
    if expr is None:
        return
    yield expr
    if isinstance(expr, BinaryExpr):
        yield from walk(expr.lhs)
        yield from walk(expr.rhs)
    elif isinstance(expr, ParenExpr):
        yield from walk(expr.expr)
    elif isinstance(expr, Call):
        for arg in expr.args:
            yield from walk(arg)


# -- statements --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One item of a SELECT list."""

    expr: Expr
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """A FROM source: a name or a regex, optionally qualified by database and policy."""

    name: str | None = None
    regex: str | None = None
    database: str | None = None
    retention_policy: str | None = None


@dataclass(frozen=True, slots=True)
class Dimension:
    """One GROUP BY item (a tag, ``*``, a regex, or ``time(...)``)."""

    expr: Expr


class Statement:
    """Base of every statement."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SelectStatement(Statement):
    """``SELECT ... FROM ... [WHERE] [GROUP BY] [fill] [ORDER BY] [LIMIT] ... [tz()]``."""

    fields: tuple[Field, ...]
    sources: tuple[Measurement, ...]
    condition: Expr | None = None
    dimensions: tuple[Dimension, ...] = ()
    fill: str = "null"  # null | none | previous | linear | number
    fill_value: float | int | None = None
    descending: bool = False
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0
    timezone: str | None = None
    into: str | None = None


@dataclass(frozen=True, slots=True)
class ShowDatabases(Statement):
    """``SHOW DATABASES``."""


@dataclass(frozen=True, slots=True)
class ShowRetentionPolicies(Statement):
    """``SHOW RETENTION POLICIES [ON db]``."""

    database: str | None = None


@dataclass(frozen=True, slots=True)
class ShowMeasurements(Statement):
    """``SHOW MEASUREMENTS [ON db] [WITH MEASUREMENT =|=~ src] [WHERE] [LIMIT] [OFFSET]``."""

    database: str | None = None
    source: Measurement | None = None
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ShowTagKeys(Statement):
    """``SHOW TAG KEYS [ON db] [FROM ...] [WHERE] [LIMIT] [OFFSET] [SLIMIT] [SOFFSET]``."""

    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0
    slimit: int = 0
    soffset: int = 0


@dataclass(frozen=True, slots=True)
class ShowTagValues(Statement):
    """``SHOW TAG VALUES [ON db] [FROM ...] WITH KEY op keys [WHERE] [LIMIT] [OFFSET]``.

    ``op`` is ``=``, ``!=``, ``=~``, ``!~`` or ``IN``; ``keys`` the names (one for
    ``=`` / ``!=``), or ``regex`` the pattern.
    """

    op: str
    keys: tuple[str, ...] = ()
    regex: str | None = None
    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ShowFieldKeys(Statement):
    """``SHOW FIELD KEYS [ON db] [FROM ...] [LIMIT] [OFFSET]``."""

    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ShowSeries(Statement):
    """``SHOW SERIES [ON db] [FROM ...] [WHERE] [LIMIT] [OFFSET]``."""

    database: str | None = None
    sources: tuple[Measurement, ...] = ()
    condition: Expr | None = None
    limit: int = 0
    offset: int = 0


@dataclass(frozen=True, slots=True)
class CreateDatabase(Statement):
    """``CREATE DATABASE name [WITH ...]`` (the retention options are read and ignored)."""

    name: str
    options: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class DropDatabase(Statement):
    """``DROP DATABASE name``."""

    name: str


# -- column naming -----------------------------------------------------------------


def field_name(f: Field) -> str:
    """The column name 1.x gives a SELECT field before duplicates are resolved."""
    if f.alias:
        return f.alias
    return _expr_name(f.expr)


def _expr_name(expr: Expr) -> str:
    if isinstance(expr, Call):
        return expr.name
    if isinstance(expr, VarRef):
        return expr.name
    if isinstance(expr, ParenExpr):
        return _expr_name(expr.expr)
    if isinstance(expr, BinaryExpr):
        names: list[str] = []
        _binary_names(expr, names)
        return "_".join(names)
    if isinstance(expr, Distinct):
        return "distinct"
    return ""


def _binary_names(expr: Expr, out: list[str]) -> None:
    if isinstance(expr, VarRef | Call):
        out.append(expr.name)
    elif isinstance(expr, BinaryExpr):
        _binary_names(expr.lhs, out)
        _binary_names(expr.rhs, out)
    elif isinstance(expr, ParenExpr):
        _binary_names(expr.expr, out)


def column_names(fields: list[Field] | tuple[Field, ...]) -> list[str]:
    """The result's column names after ``time``: aliases first, then ``name_1`` ... for clashes.

    This is 1.x's ``SelectStatement.ColumnNames``: an alias is never renamed; a
    generated name that clashes with an alias or an earlier name gets the first free
    ``_<n>`` suffix.
    """
    names: list[str | None] = [f.alias or None for f in fields]
    seen: dict[str, int] = {}
    for name in names:
        if name is not None:
            seen[name] = 1
    for i, f in enumerate(fields):
        if names[i] is not None:
            continue
        name = field_name(f)
        count = seen.get(name)
        if count is not None:
            while True:
                candidate = f"{name}_{count}"
                if candidate not in seen:
                    seen[name] = count + 1
                    name = candidate
                    break
                count += 1
        seen[name] = seen.get(name, 0) + 1
        names[i] = name
    return [n or "" for n in names]

"""The syntax tree of the Flux subset: statements and expressions, each with its span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from influxkit.clients.local.flux.errors import Loc

__all__ = [
    "Array",
    "Binary",
    "Call",
    "Conditional",
    "ExprStatement",
    "Expression",
    "FunctionLit",
    "Identifier",
    "Import",
    "Index",
    "Literal",
    "Logical",
    "Member",
    "OptionAssign",
    "Param",
    "Pipe",
    "Program",
    "Property",
    "Record",
    "Statement",
    "Unary",
    "VarAssign",
]


@dataclass(frozen=True, slots=True)
class Identifier:
    """A name: a variable, a builtin function, ``true`` / ``false``."""

    loc: Loc
    name: str


@dataclass(frozen=True, slots=True)
class Literal:
    """An integer, float, string, duration, time or regex literal (``kind`` is the token kind)."""

    loc: Loc
    kind: str
    value: Any


@dataclass(frozen=True, slots=True)
class Array:
    """``[a, b, ...]``."""

    loc: Loc
    elements: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Property:
    """``key: value`` in a record or a call's arguments."""

    loc: Loc
    key: str
    value: Expression


@dataclass(frozen=True, slots=True)
class Record:
    """``{key: value, ...}``."""

    loc: Loc
    properties: tuple[Property, ...]


@dataclass(frozen=True, slots=True)
class Param:
    """A function literal's parameter; ``default`` is ``<-`` (the pipe) or an expression."""

    loc: Loc
    name: str
    default: Expression | str | None = None


@dataclass(frozen=True, slots=True)
class FunctionLit:
    """``(r) => body``; a ``{ return ... }`` block body is kept as its returned expression."""

    loc: Loc
    params: tuple[Param, ...]
    body: Expression


@dataclass(frozen=True, slots=True)
class Call:
    """``callee(key: value, ...)``: Flux arguments are always named."""

    loc: Loc
    callee: Expression
    arguments: tuple[Property, ...]


@dataclass(frozen=True, slots=True)
class Pipe:
    """``argument |> call``: ``argument`` is passed to ``call`` as its piped ``tables``."""

    loc: Loc
    argument: Expression
    call: Call


@dataclass(frozen=True, slots=True)
class Member:
    """``object.property`` and ``object["property"]``."""

    loc: Loc
    object: Expression
    property: str


@dataclass(frozen=True, slots=True)
class Index:
    """``array[index]``."""

    loc: Loc
    object: Expression
    index: Expression


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic and comparison: ``+ - * / % ^ == != < <= > >= =~ !~``."""

    loc: Loc
    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Logical:
    """``and`` / ``or``."""

    loc: Loc
    operator: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Unary:
    """``not x``, ``exists x``, ``-x``, ``+x``."""

    loc: Loc
    operator: str
    argument: Expression


@dataclass(frozen=True, slots=True)
class Conditional:
    """``if test then consequent else alternate``."""

    loc: Loc
    test: Expression
    consequent: Expression
    alternate: Expression


Expression = (
    Identifier | Literal | Array | Record | FunctionLit | Call | Pipe | Member | Index
    | Binary | Logical | Unary | Conditional
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class VarAssign:
    """``name = expression``."""

    loc: Loc
    name: str
    value: Expression


@dataclass(frozen=True, slots=True)
class OptionAssign:
    """``option name = expression`` (``option now = () => <time>`` is the one the engine runs)."""

    loc: Loc
    name: str
    value: Expression


@dataclass(frozen=True, slots=True)
class Import:
    """``import "path"`` (parsed so that the error can name the package)."""

    loc: Loc
    path: str


@dataclass(frozen=True, slots=True)
class ExprStatement:
    """An expression on its own: its stream, if it is one, is a result of the program."""

    loc: Loc
    expression: Expression


Statement = VarAssign | OptionAssign | Import | ExprStatement


@dataclass(frozen=True, slots=True)
class Program:
    """A whole Flux script."""

    body: tuple[Statement, ...] = field(default_factory=tuple)

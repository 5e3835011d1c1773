"""Runtime values of the Flux subset that are not plain Python ones, and their Flux type names.

Plain values: ``None`` is null, ``bool``, ``int``, ``float``, ``str``, ``list`` (an
array) and ``dict`` (a record).  :class:`~.times.Time` and :class:`~.times.Duration`
come from :mod:`.times`; regexes, functions and rows are defined here.  ``UNKNOWN``
stands for a value not known yet: the reader evaluates filter predicates with only the
measurement (or field) known, to skip tables a predicate can never keep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.flux.table import TIME, Table
from influxkit.clients.local.flux.times import Duration, Time

if TYPE_CHECKING:
    from influxkit.clients.local.flux import nodes as n

__all__ = [
    "UNKNOWN",
    "Builtin",
    "Closure",
    "Regex",
    "RowRecord",
    "Scope",
    "type_name",
]


class _Unknown:
    """The one value that is not known during a partial evaluation."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

# Go's RE2 spells a few things Python's re does not.
_POSIX_CLASSES = {
    "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
    "[:lower:]": "a-z", "[:space:]": r"\s", "[:word:]": r"\w", "[:xdigit:]": "0-9A-Fa-f",
    "[:punct:]": r"!-/:-@\[-`{-~",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Regex:
    """A regex literal: its Flux source and the compiled pattern (matched anywhere, as RE2 does)."""

    source: str
    pattern: re.Pattern[str]

    @classmethod
    def compile(cls, source: str) -> Regex:
        """Compile an RE2 pattern with Python's ``re`` (raises ``re.error``)."""
        text = source.replace(r"\z", r"\Z")
        for posix, plain in _POSIX_CLASSES.items():
            text = text.replace(posix, plain)
        return cls(source, re.compile(text))


@dataclass(frozen=True, slots=True)
class Builtin:
    """A builtin function (``mean``, ``range``...), called by the interpreter by name."""

    name: str


@dataclass(frozen=True, slots=True)
class Closure:
    """A function literal and the scope it was written in."""

    node: n.FunctionLit
    scope: Scope


class Scope:
    """Variables: a mapping with a parent scope."""

    __slots__ = ("parent", "vars")

    def __init__(self, vars: Mapping[str, Any] | None = None, parent: Scope | None = None) -> None:
        self.vars: dict[str, Any] = dict(vars or {})
        self.parent = parent

    def lookup(self, name: str) -> tuple[bool, Any]:
        """``(found, value)`` for ``name`` in this scope or an enclosing one."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.vars:
                return True, scope.vars[name]
            scope = scope.parent
        return False, None


class RowRecord:
    """A row of a table seen as a record ``r``: ``r.col`` is the value, a time as :class:`Time`.

    A column the table does not have reads as null, as in Flux's row functions.  A
    :meth:`partial` record (for a partial evaluation) knows some labels; every other one
    is UNKNOWN.
    """

    __slots__ = ("_getter",)

    def __init__(self, getter: Callable[[str], Any]) -> None:
        self._getter = getter

    @staticmethod
    def factory(table: Table) -> Callable[[list[Any]], RowRecord]:
        """A function making the record of a row of ``table`` (column positions looked up once)."""
        positions = {c.label: (i, c.type == TIME) for i, c in enumerate(table.columns)}

        def make(row: list[Any]) -> RowRecord:
            def get(label: str) -> Any:
                found = positions.get(label)
                if found is None:
                    return None
                value = row[found[0]]
                return Time(value) if found[1] and value is not None else value

            return RowRecord(get)

        return make

    @classmethod
    def partial(cls, known: Mapping[str, Any]) -> RowRecord:
        """A record where only ``known`` labels have values."""
        return cls(lambda label: known.get(label, UNKNOWN))

    def get(self, label: str) -> Any:
        """The value of ``label``."""
        return self._getter(label)


def type_name(value: Any) -> str:
    """The Flux type of a runtime value, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    names: dict[type, str] = {
        float: "float", str: "string", Time: "time", Duration: "duration", Regex: "regexp",
        list: "array", dict: "record", RowRecord: "record", Builtin: "function",
        Closure: "function",
    }  # fmt: skip
    return names.get(type(value), "stream")

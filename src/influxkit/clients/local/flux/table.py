"""Flux tables: typed columns, a group key, and rows; a result is a named list of them.

Column types carry the names annotated CSV writes (``double``, ``long``,
``unsignedLong``, ``string``, ``boolean``, ``dateTime:RFC3339``).  Rows are lists
aligned with the columns; times are integer nanoseconds.  Tables are never changed
after they are built: every transformation makes new ones, so a variable bound to a
stream can be used twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BOOL",
    "DOUBLE",
    "LONG",
    "STRING",
    "TIME",
    "ULONG",
    "Column",
    "Result",
    "Table",
    "flux_type_name",
    "key_order",
]

DOUBLE = "double"
LONG = "long"
ULONG = "unsignedLong"
STRING = "string"
BOOL = "boolean"
TIME = "dateTime:RFC3339"

# The type names Flux uses in its error messages.
_FLUX_NAMES = {DOUBLE: "float", LONG: "int", ULONG: "uint", STRING: "string", BOOL: "bool",
               TIME: "time"}  # fmt: skip
# Sorting values of different types in one key column: a stable order between types.
_TYPE_RANK = {BOOL: 0, LONG: 1, ULONG: 1, DOUBLE: 1, STRING: 2, TIME: 3}


def flux_type_name(column_type: str) -> str:
    """The Flux name of a column type (``long`` -> ``int``), as error messages say it."""
    return _FLUX_NAMES.get(column_type, column_type)


@dataclass(frozen=True, slots=True)
class Column:
    """A column's label and type."""

    label: str
    type: str


@dataclass(slots=True)
class Table:
    """One Flux table.

    Attributes:
        columns: the columns, in output order.
        key: the group key, label -> value, in key order (every row has these values).
        rows: the rows, each a list aligned with ``columns`` (``None`` is null).
    """

    columns: tuple[Column, ...]
    key: dict[str, Any]
    rows: list[list[Any]] = field(default_factory=list)

    def index(self, label: str) -> int:
        """The position of column ``label``, or -1."""
        for i, column in enumerate(self.columns):
            if column.label == label:
                return i
        return -1

    def column(self, label: str) -> Column | None:
        """The column called ``label``, if the table has it."""
        i = self.index(label)
        return self.columns[i] if i >= 0 else None

    def values(self, label: str) -> list[Any]:
        """Every row's value of column ``label``."""
        i = self.index(label)
        return [row[i] for row in self.rows]

    def with_rows(self, rows: list[list[Any]]) -> Table:
        """The same schema and key with other rows."""
        return Table(self.columns, self.key, rows)

    def key_types(self) -> dict[str, str]:
        """The type of each key column."""
        types = {c.label: c.type for c in self.columns}
        return {label: types.get(label, STRING) for label in self.key}


def _value_order(column_type: str, value: Any) -> tuple[Any, ...]:
    if value is None:
        return (0,)
    rank = _TYPE_RANK.get(column_type, 4)
    return (1, rank, value)


def key_order(table: Table) -> tuple[Any, ...]:
    """A sort key for tables by group key: column by column, nulls first."""
    types = table.key_types()
    return tuple((label, _value_order(types[label], value)) for label, value in table.key.items())


@dataclass(frozen=True, slots=True)
class Result:
    """One result of a Flux script: its name (``_result`` or a ``yield`` name) and tables."""

    name: str
    tables: tuple[Table, ...]

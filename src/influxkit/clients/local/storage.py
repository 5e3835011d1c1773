"""In-memory tables of the local engine, and their Arrow form with InfluxDB 3's schema.

A table keeps one Python list per column (row-aligned, shorter lists are padded
with NULL when read) and an index from (series key, time) to its row, so that a
point written twice merges field by field, later values winning, as InfluxDB 3
does.  The Arrow table a query sees is built on demand and cached until the next
write; Arrow tables are immutable, so a query holds a consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.lineprotocol.model import FieldType

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMN_METADATA_KEY",
    "FIELD_TYPE_NAMES",
    "TAG",
    "TIMESTAMP",
    "Database",
    "Table",
]

# The column roles as InfluxDB 3 names them (in errors and in Arrow field metadata).
TAG = "iox::column_type::tag"
TIMESTAMP = "iox::column_type::timestamp"
FIELD_TYPE_NAMES: dict[FieldType, str] = {
    FieldType.FLOAT: "iox::column_type::field::float",
    FieldType.INTEGER: "iox::column_type::field::integer",
    FieldType.UINTEGER: "iox::column_type::field::uinteger",
    FieldType.STRING: "iox::column_type::field::string",
    FieldType.BOOLEAN: "iox::column_type::field::boolean",
}
COLUMN_METADATA_KEY = "iox::column::type"

_ARROW_TYPES = {
    FIELD_TYPE_NAMES[FieldType.FLOAT]: "float64",
    FIELD_TYPE_NAMES[FieldType.INTEGER]: "int64",
    FIELD_TYPE_NAMES[FieldType.UINTEGER]: "uint64",
    FIELD_TYPE_NAMES[FieldType.STRING]: "string",
    FIELD_TYPE_NAMES[FieldType.BOOLEAN]: "bool_",
}


class Table:
    """One measurement: its columns (name -> role), rows, and a cached Arrow form.

    Attributes:
        name: the measurement name.
        columns: column name -> role (``TAG``, a field type name or ``TIMESTAMP``),
            in the order the columns were created.
    """

    __slots__ = ("_arrow", "_data", "_index", "_times", "columns", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: dict[str, str] = {"time": TIMESTAMP}
        self._times: list[int] = []
        self._data: dict[str, list[Any]] = {}
        self._index: dict[tuple[tuple[tuple[str, str], ...], int], int] = {}
        self._arrow: pa.Table | None = None

    @property
    def num_rows(self) -> int:
        """How many distinct points (series and time) the table holds."""
        return len(self._times)

    @property
    def num_columns(self) -> int:
        """Tag and field columns (``time`` is not counted, as the server's limit does not)."""
        return len(self.columns) - 1

    def add_column(self, name: str, role: str) -> None:
        """Create a column (the caller has checked the schema rules)."""
        self.columns[name] = role
        self._data[name] = []
        self._arrow = None

    def upsert(
        self,
        tags: tuple[tuple[str, str], ...],
        time: int,
        fields: Iterable[tuple[str, Any, Any]],
    ) -> None:
        """Write one point (fields as ``(name, type, value)``); merge into an existing one.

        A point is its series (the tag set, in any order) and time; writing it again
        overwrites the fields it names and keeps the others.  Of a tag key given twice
        in one line, the last value is kept.
        """
        data = self._data
        key = (tuple(sorted(tags)) if len(tags) > 1 else tags, time)
        row = self._index.get(key)
        if row is None:
            row = len(self._times)
            self._index[key] = row
            self._times.append(time)
            for name, value in tags:
                column = data[name]
                if len(column) == row:
                    column.append(value)
                else:
                    _put(column, row, value)
        for name, _, value in fields:
            column = data[name]
            if len(column) == row:  # the common case, inlined
                column.append(value)
            else:
                _put(column, row, value)
        self._arrow = None

    def to_arrow(self) -> pa.Table:
        """The table as Arrow: columns sorted by name, tags as dictionaries, ``time`` not null."""
        if self._arrow is None:
            self._arrow = self._build_arrow()
        return self._arrow

    def _build_arrow(self) -> pa.Table:
        pa = require("pyarrow", "local")
        n = len(self._times)
        fields = []
        arrays = []
        for name in sorted(self.columns):
            role = self.columns[name]
            meta = {COLUMN_METADATA_KEY: role}
            if role == TIMESTAMP:
                fields.append(pa.field(name, pa.timestamp("ns"), nullable=False, metadata=meta))
                arrays.append(pa.array(self._times, pa.timestamp("ns")))
                continue
            values = self._data[name]
            if len(values) < n:
                values = values + [None] * (n - len(values))
            if role == TAG:
                dict_type = pa.dictionary(pa.int32(), pa.string())
                arr = pa.array(values, pa.string()).dictionary_encode()
                fields.append(pa.field(name, dict_type, metadata=meta))
                arrays.append(arr)
            else:
                arrow_type = getattr(pa, _ARROW_TYPES[role])()
                fields.append(pa.field(name, arrow_type, metadata=meta))
                arrays.append(pa.array(values, arrow_type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _put(column: list[Any], row: int, value: Any) -> None:
    size = len(column)
    if size == row:
        column.append(value)
    elif size > row:
        column[row] = value
    else:
        column.extend([None] * (row - size))
        column.append(value)


class Database:
    """A database: its tables by name, and the options it was created with."""

    __slots__ = ("name", "retention_period", "tables")

    def __init__(self, name: str, retention_period: str | None = None) -> None:
        self.name = name
        self.retention_period = retention_period
        self.tables: dict[str, Table] = {}

    def snapshot(self) -> dict[str, pa.Table]:
        """Every table as Arrow, as of now (call under the engine's lock)."""
        return {name: table.to_arrow() for name, table in self.tables.items()}

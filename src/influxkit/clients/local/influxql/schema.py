"""What InfluxQL needs to know about a measurement: its tags and its fields' types.

Read from the Arrow schema the engine keeps (``iox::column::type`` metadata on each
column), so the translation never guesses a column's role from its data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from influxkit.clients.local.storage import COLUMN_METADATA_KEY, FIELD_TYPE_NAMES, TAG
from influxkit.lineprotocol.model import FieldType

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Schema", "merged", "schema_of"]

# The InfluxQL type name of each stored field type (1.x ``SHOW FIELD KEYS`` spelling).
_INFLUXQL_TYPES = {
    FIELD_TYPE_NAMES[FieldType.FLOAT]: "float",
    FIELD_TYPE_NAMES[FieldType.INTEGER]: "integer",
    FIELD_TYPE_NAMES[FieldType.UINTEGER]: "unsigned",
    FIELD_TYPE_NAMES[FieldType.STRING]: "string",
    FIELD_TYPE_NAMES[FieldType.BOOLEAN]: "boolean",
}


@dataclass(frozen=True, slots=True)
class Schema:
    """One measurement: its name, Arrow table, tag names (sorted) and field types by name."""

    name: str
    table: pa.Table
    tags: tuple[str, ...]
    fields: Mapping[str, str]

    def kind(self, name: str) -> str | None:
        """``"tag"``, the field's type, or ``None`` if the measurement has no such column."""
        if name in self.fields:
            return self.fields[name]
        if name in self.tags:
            return "tag"
        return None


def schema_of(name: str, table: pa.Table) -> Schema:
    """The :class:`Schema` of a stored table."""
    tags: list[str] = []
    fields: dict[str, str] = {}
    for column in table.schema:
        meta = column.metadata or {}
        role = meta.get(COLUMN_METADATA_KEY.encode(), b"").decode()
        if role == TAG:
            tags.append(column.name)
        elif role in _INFLUXQL_TYPES:
            fields[column.name] = _INFLUXQL_TYPES[role]
    return Schema(name, table, tuple(sorted(tags)), dict(sorted(fields.items())))


def merged(schemas: Iterable[Schema]) -> tuple[dict[str, str], set[str]]:
    """Field types and tag names over several measurements (the first type seen wins)."""
    fields: dict[str, str] = {}
    tags: set[str] = set()
    for schema in schemas:
        for name, kind in schema.fields.items():
            fields.setdefault(name, kind)
        tags.update(schema.tags)
    return fields, tags

"""Flux results as annotated CSV, byte for byte as InfluxDB 2.x's ``/api/v2/query`` writes it.

This follows Flux's ``csv.ResultEncoder`` and Go's ``encoding/csv`` writer:

* every line ends ``\\r\\n``; a field is quoted when it holds the delimiter, ``"``,
  ``\\r`` or ``\\n``, or starts with a space; inside quotes ``"`` doubles, ``\\n``
  becomes ``\\r\\n`` and a bare ``\\r`` is dropped (Go's ``UseCRLF``);
* a table starts with the annotation rows the dialect asks for (``#datatype``,
  ``#group``, ``#default``, in the order asked; 2.x's default is none) and the header
  ``,result,table,<columns>``, but only when its columns (labels and types) differ
  from the previous table's, or it or the previous table is empty; a blank line
  separates it from what came before;
* ``#default`` holds the result name (and, for an empty table, its id and key values):
  with it, data rows leave ``result`` empty, without it they repeat the name;
* floats print as Go's ``FormatFloat(v, 'f', -1, 64)`` (``1``, ``0.25``, ``NaN``,
  ``+Inf``), times as RFC 3339 with nanoseconds and no trailing zeros, null as nothing;
* each result ends with one more ``\\r\\n``; table ids restart at 0 for each result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from influxkit.clients.local.flux.table import BOOL, DOUBLE, TIME, Result, Table
from influxkit.clients.local.flux.times import format_rfc3339nano

__all__ = ["ANNOTATIONS", "Dialect", "encode_results", "format_value"]

#: The annotations a dialect may ask for.
ANNOTATIONS = ("datatype", "group", "default")
_CRLF = "\r\n"


@dataclass(frozen=True, slots=True)
class Dialect:
    """The ``dialect`` of a query request: header row, delimiter, annotations (in order)."""

    header: bool = True
    delimiter: str = ","
    annotations: tuple[str, ...] = ()


def _go_float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)).normalize(), "f")


def format_value(value: Any, column_type: str) -> str:
    """One cell as Flux's CSV encoder writes it (``""`` for null).

    >>> format_value(1.0, "double"), format_value(1e21, "double"), format_value(True, "boolean")
    ('1', '1000000000000000000000', 'true')
    """
    if value is None:
        return ""
    if column_type == DOUBLE:
        return _go_float(value)
    if column_type == TIME:
        return format_rfc3339nano(value)
    if column_type == BOOL:
        return "true" if value else "false"
    return str(value)


def _field(text: str, comma: str) -> str:
    """A field as Go's ``csv.Writer`` with ``UseCRLF`` writes it."""
    if text == "":
        return text
    needs_quotes = (
        text == "\\." or any(c in text for c in ("\n", "\r", '"', comma)) or text[0].isspace()
    )
    if not needs_quotes:
        return text
    body = text.replace('"', '""').replace("\r", "").replace("\n", "\r\n")
    return f'"{body}"'


class _Writer:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.parts: list[str] = []

    def record(self, fields: Iterable[str]) -> None:
        comma = self.dialect.delimiter
        self.parts.append(comma.join(_field(f, comma) for f in fields) + _CRLF)

    def blank(self) -> None:
        self.parts.append(_CRLF)


def _schema(w: _Writer, table: Table, result: str, table_id: int) -> None:
    """The annotation rows and the header of a table."""
    empty = not table.rows
    for annotation in w.dialect.annotations:
        if annotation == "datatype":
            w.record(["#datatype", "string", "long", *(c.type for c in table.columns)])
        elif annotation == "group":
            w.record(
                [
                    "#group",
                    "false",
                    "false",
                    *(str(c.label in table.key).lower() for c in table.columns),
                ]
            )
        elif annotation == "default":
            defaults = ["#default", result, str(table_id) if empty else ""]
            for c in table.columns:
                value = table.key.get(c.label) if empty else None
                defaults.append(format_value(value, c.type))
            w.record(defaults)
    if w.dialect.header:
        w.record(["", "result", "table", *(c.label for c in table.columns)])


def _encode_result(w: _Writer, result: Result) -> None:
    last: tuple[Any, ...] | None = None
    last_empty = False
    with_default = "default" in w.dialect.annotations
    shown_name = "" if with_default else result.name
    for table_id, table in enumerate(result.tables):
        schema = tuple(table.columns)
        empty = not table.rows
        if last_empty or schema != last or empty:
            if last is not None:
                w.blank()
            _schema(w, table, result.name, table_id)
        types = [c.type for c in table.columns]
        head = ["", shown_name, str(table_id)]
        for row in table.rows:
            w.record([*head, *(format_value(v, t) for v, t in zip(row, types, strict=True))])
        last, last_empty = schema, empty


def encode_results(results: Iterable[Result], dialect: Dialect | None = None) -> bytes:
    """Every result as one annotated CSV body (UTF-8)."""
    w = _Writer(dialect or Dialect())
    for result in results:
        _encode_result(w, result)
        w.blank()
    return "".join(w.parts).encode("utf-8")

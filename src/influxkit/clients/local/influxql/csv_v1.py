"""InfluxDB 1.x's CSV answer to ``/query`` (``Accept: application/csv``), for the ``v1`` profile.

1.x writes it with Go's ``encoding/csv`` from the same results as its JSON
(``csvFormatter`` in ``services/httpd/response_writer.go``); measured on 1.6.7:

* per statement with series, a header ``name,tags,<the first series' columns>``; a blank
  line before each statement after the first; statements without series (or with an
  error: 1.x leaves errors out of CSV) write nothing, so an empty result is an empty body;
* a row per value row: the series name, its tags as a series key (``k=v`` sorted by key,
  ``,`` / space / ``=`` escaped with ``\\``, empty values left out), then the cells;
* cells: integers and epoch times as digits, floats as Go's ``FormatFloat(v, 'f', -1)``
  (``2``, ``0.1``, ``1000000000000000000000``: no exponent), booleans ``true``/``false``,
  strings as they are, NULL empty;
* Go's quoting: a cell is quoted when it holds ``,``, ``"``, ``\\r`` or ``\\n``, starts with
  white space, or is ``\\.``; ``"`` is doubled; every record ends with ``\\n``;
* a value of a Go type the formatter has no case for leaves the cell as it was: the
  ``replicaN`` of ``SHOW RETENTION POLICIES`` (a Go ``int``) prints ``replicaN``, the
  header's text, on 1.6.7;
* a query that does not parse is ``400`` with the body ``error`` and the message, as
  two records (:func:`error_body`).

This is 1.x's format, not InfluxDB 3's (``format=csv`` of ``/api/v3/query_*``, which
:mod:`influxkit.server.formats` writes); the two share nothing but the comma.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["error_body", "go_float", "render"]

# Go's unicode.IsSpace below U+0100; above it, Python's isspace() is the same set.
_GO_LATIN1_SPACE = frozenset("\t\n\v\f\r \x85\xa0")
_QUOTE_IF_IN = frozenset(',"\r\n')
# Columns 1.x fills with a Go int (no case in its formatter), by the columns of the series.
_GO_INTS = {("name", "duration", "shardGroupDuration", "replicaN", "default"): {3}}


def go_float(value: float) -> str:
    """``strconv.FormatFloat(value, 'f', -1, 64)``: the shortest digits, never an exponent.

    >>> go_float(2.0), go_float(0.1), go_float(1e21), go_float(-0.0), go_float(1e-7)
    ('2', '0.1', '1000000000000000000000', '-0', '0.0000001')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _needs_quotes(cell: str) -> bool:
    if not cell:
        return False
    if cell == "\\." or not _QUOTE_IF_IN.isdisjoint(cell):
        return True
    first = cell[0]
    return first in _GO_LATIN1_SPACE if first < "\u0100" else first.isspace()


def _record(cells: Iterable[str]) -> str:
    out = []
    for cell in cells:
        out.append('"' + cell.replace('"', '""') + '"' if _needs_quotes(cell) else cell)
    return ",".join(out) + "\n"


def _escape_tag(text: str) -> str:
    return text.replace(",", "\\,").replace(" ", "\\ ").replace("=", "\\=")


def _series_key(tags: Mapping[str, str] | None) -> str:
    if not tags:
        return ""
    return ",".join(
        f"{_escape_tag(k)}={_escape_tag(v)}" for k, v in sorted(tags.items()) if v != ""
    )


def _cell(value: Any, previous: str) -> str:
    if value is None:
        return ""
    if value.__class__ is bool:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return value
    return previous  # a type Go's switch has no case for leaves the cell as it was


def error_body(message: str) -> str:
    """The body of 1.x's CSV answer to a request it refuses (a parse error, say).

    >>> error_body("error parsing query: found EOF, expected identifier")
    'error\\n"error parsing query: found EOF, expected identifier"\\n'
    """
    return _record(["error"]) + _record([message])


def render(documents: Iterable[Mapping[str, Any]]) -> str:
    """The CSV text of 1.x ``/query`` JSON ``documents`` (one, or a chunked sequence)."""
    out: list[str] = []
    statement = -1
    columns: list[str] = []
    for doc in documents:
        for result in doc.get("results") or ():
            series = result.get("series") or []
            if result.get("statement_id") != statement:
                if not series:
                    continue
                if statement >= 0:
                    out.append("\n")
                statement = result.get("statement_id", 0)
                columns = ["name", "tags", *series[0].get("columns", [])]
                out.append(_record(columns))
            for one in series:
                columns[0] = one.get("name", "")
                columns[1] = _series_key(one.get("tags"))
                go_ints = _GO_INTS.get(tuple(one.get("columns", ())), set())
                for values in one.get("values") or ():
                    for i, value in enumerate(values, start=2):
                        if i >= len(columns):  # wider than the header (1.x would panic)
                            columns.append("")
                        if i - 2 not in go_ints:
                            columns[i] = _cell(value, columns[i])
                    out.append(_record(columns))
    return "".join(out)

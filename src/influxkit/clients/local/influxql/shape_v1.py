"""Results as the v1 ``/query`` JSON: ``{"results":[{"statement_id":0,"series":[...]}]}``.

What 1.x writes (``services/httpd/handler.go``, ``response_writer.go``):

* times are RFC 3339 with nanoseconds, trailing zeros cut, in the statement's
  ``tz()`` zone; with ``epoch=`` they are integers in that unit (``ns``/``n``,
  ``u``, ``ms``, ``s``, ``m``, ``h``; 1.6 reads any other value, ``µ`` too, as
  ``ns``),
  divided with truncation as Go does;
* a float with no fraction is written as an integer (``82``), NaN as ``null``;
* ``chunked=true`` sends one document per piece of at most ``chunk_size`` rows of a
  series (a SELECT's series are never merged into one chunk); ``partial: true`` on a
  series continued in the next chunk, and on a result whose statement has more to
  come.  Each document ends with a newline.

InfluxDB 3's ``/query`` differs in its time text (0, 3, 6 or 9 fraction digits) and
in the ``epoch`` values it accepts (no ``n``, no ``us``; ``d`` and ``w`` more): the
``v3`` style does that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from influxkit.clients.local.influxql.result import Result, Series
from influxkit.clients.local.influxql.timeutil import format_time, load_zone

__all__ = ["DEFAULT_CHUNK_SIZE", "EPOCHS_V1", "EPOCHS_V3", "documents", "encode"]

DEFAULT_CHUNK_SIZE = 10_000
_NS_PER = {"ns": 1, "n": 1, "u": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_NS_PER.update({"m": 60_000_000_000, "h": 3_600_000_000_000})
#: ``epoch`` values 1.6 knows (any other non-empty value, ``µ`` too, gives nanoseconds).
EPOCHS_V1 = frozenset(_NS_PER)
#: ``epoch`` values InfluxDB 3 accepts (anything else is a 400).
EPOCHS_V3 = frozenset({"ns", "u", "µ", "ms", "s", "m", "h", "d", "w"})
_NS_PER_V3 = {
    **_NS_PER,
    "µ": 1_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
_LIMIT = 2**63


def _divisor(epoch: str | None, style: str) -> int | None:
    if not epoch:
        return None
    return (_NS_PER_V3 if style == "v3" else _NS_PER).get(epoch, 1)


def _truncating_div(value: int, divisor: int) -> int:
    return value // divisor if value >= 0 else -((-value) // divisor)


def _v3_time(ns: int) -> str:
    from influxkit.server.formats import format_timestamp

    return format_timestamp(ns) + "Z"


def _time_converter(epoch: str | None, zone_name: str | None, style: str) -> Any:
    divisor = _divisor(epoch, style)
    if divisor is not None:
        if divisor == 1:
            return lambda t: t
        return lambda t: _truncating_div(t, divisor)
    if style == "v3":
        return _v3_time
    zone = load_zone(zone_name) if zone_name else None
    return lambda t: format_time(t, zone)


def _json_value(value: Any) -> Any:
    if value.__class__ is float:
        if math.isnan(value):
            return None
        if value.is_integer() and -_LIMIT <= value < _LIMIT:
            return int(value)
    return value


def _series_doc(
    series: Series, values: list[list[Any]], convert: Any, partial: bool
) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if series.name is not None:
        doc["name"] = series.name
    if series.tags is not None:
        doc["tags"] = dict(sorted(series.tags.items()))
    doc["columns"] = series.columns
    rows = []
    for row in values:
        out = [_json_value(v) for v in row]
        if series.timed and out and out[0].__class__ is int:
            out[0] = convert(out[0])
        rows.append(out)
    doc["values"] = rows
    if partial:
        doc["partial"] = True
    return doc


def _result_docs(
    result: Result, convert: Any, chunked: bool, chunk_size: int
) -> Iterator[dict[str, Any]]:
    """The result's document(s): one unless chunked."""
    head: dict[str, Any] = {"statement_id": result.statement_id}
    if result.error is not None:
        yield {**head, "error": result.error}
        return
    if not result.series:
        yield head
        return
    if not chunked or result.kind != "select":
        series = [_series_doc(s, s.values, convert, False) for s in result.series]
        yield {**head, "series": series}
        return
    pieces: list[dict[str, Any]] = []
    for s in result.series:
        for start in range(0, len(s.values), chunk_size):
            more = start + chunk_size < len(s.values)
            pieces.append(_series_doc(s, s.values[start : start + chunk_size], convert, more))
    for n, piece in enumerate(pieces):
        doc = {**head, "series": [piece]}
        if n + 1 < len(pieces):
            doc["partial"] = True
        yield doc


def documents(
    results: Iterable[Result],
    *,
    epoch: str | None = None,
    chunked: bool = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    style: str = "v1",
) -> list[dict[str, Any]]:
    """The JSON documents of a ``/query`` answer (one unless ``chunked``).

    Example:
        >>> from influxkit.clients.local.influxql.result import Result, Series
        >>> documents([Result(0, [Series("cpu", None, ["time", "v"], [[0, 1.0]], True)])])
        [{'results': [{'statement_id': 0, 'series': [{'name': 'cpu', 'columns': ['time', 'v'], \
'values': [['1970-01-01T00:00:00Z', 1]]}]}]}]
    """
    if chunk_size <= 0:
        chunk_size = DEFAULT_CHUNK_SIZE
    docs: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    for result in results:
        convert = _time_converter(epoch, result.timezone, style)
        for doc in _result_docs(result, convert, chunked, chunk_size):
            if chunked:
                docs.append({"results": [doc]})
            else:
                merged.append(doc)
    if not chunked:
        return [{"results": merged}] if merged else [{}]
    return docs


def encode(docs: Iterable[dict[str, Any]]) -> bytes:
    """The documents as the response body: JSON, each followed by a newline (1.x writes so)."""
    return b"".join(orjson.dumps(d) + b"\n" for d in docs)

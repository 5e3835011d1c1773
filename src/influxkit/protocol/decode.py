"""Pure decoding of query bodies into rows (dicts) or Arrow.

* v3 ``json`` (one flat array): NULLs are absent keys there, so rows are completed
  with ``None``; ``jsonl`` (one object a line, decoded incrementally): rows stay as the
  server wrote them, NULL columns left out (a stream cannot know the columns it has not
  seen yet); ``time`` (written ``2065-01-07T17:28:51.5``, no ``Z``) becomes an aware UTC
  ``datetime``.
* v3 ``csv`` and ``parquet`` -> ``pyarrow.Table`` (pyarrow imported on first use); a
  ``csv`` body as text (:func:`csv_text`), for ``format="csv"``.

The answers of the Go servers (1.x ``/query``, Flux) are in :mod:`.decode_v1`.

Large decodes run with the garbage collector paused: allocating a million dicts
otherwise triggers collections that find nothing (orjson is ~4x faster without them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson

from influxkit.errors import QueryError
from influxkit.gc_pause import gc_paused

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "JsonlDecoder",
    "csv_table",
    "csv_text",
    "gc_paused",
    "json_rows",
    "ns_to_datetime",
    "parquet_table",
    "parse_time",
    "rows_to_batch",
    "time_to_ns",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_SIGNS = ("+", "-")
_fromisoformat = datetime.fromisoformat


def parse_time(text: str) -> datetime:
    """A server timestamp (``2065-01-07T17:28:51.5``, optionally ``Z``) as an aware UTC datetime.

    Digits past microseconds are dropped (Python's datetime stops there).
    """
    # The usual text has no zone: parse it with "+00:00" appended, which gives the
    # ``UTC`` singleton directly.  0.13 s per 1M, against 0.71 s for the general
    # ``fromisoformat(text).replace(tzinfo=UTC)`` (``replace``'s keyword parsing is
    # most of it).  A zone (``Z``, ``+05:30``) or an odd text takes the general path.
    if text[-1:] != "Z" and text[-6:-5] not in _SIGNS:
        try:
            return _fromisoformat(text + "+00:00")
        except ValueError:
            pass
    dt = _fromisoformat(text)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def time_to_ns(text: str) -> int:
    """A server timestamp as integer nanoseconds since the epoch, every digit kept."""
    base, _, frac = text.rstrip("Z").partition(".")
    try:  # "+00:00" appended, as in parse_time: 0.57 µs a value instead of 1.6 µs
        whole = _fromisoformat(base + "+00:00")
    except ValueError:
        whole = _fromisoformat(base).replace(tzinfo=UTC)
    seconds = (whole - _EPOCH) // _SECOND
    return seconds * 1_000_000_000 + (int(frac[:9].ljust(9, "0")) if frac else 0)


def ns_to_datetime(ns: int) -> datetime:
    """Integer nanoseconds since the epoch as an aware UTC datetime (floored to microseconds)."""
    return _EPOCH + (ns // 1000) * _US


class _Columns:
    """The column order seen so far, and completion of rows that omit NULL columns."""

    __slots__ = ("keys", "width")

    def __init__(self) -> None:
        self.keys: dict[str, None] = {}
        self.width = 0

    def complete(self, row: dict[str, Any]) -> dict[str, Any]:
        if len(row) == self.width and row.keys() == self.keys.keys():
            return row
        if not row.keys() <= self.keys.keys():
            self._learn(row)
        if len(row) == self.width:
            return row
        return {k: row.get(k) for k in self.keys}

    def _learn(self, row: dict[str, Any]) -> None:
        # Insert each new key after its predecessor in this row, so the order stays
        # the server's column order as far as the rows show it.
        order = list(self.keys)
        prev: str | None = None
        for key in row:
            if key not in self.keys:
                at = order.index(prev) + 1 if prev is not None else 0
                order.insert(at, key)
                self.keys[key] = None
            prev = key
        self.keys = dict.fromkeys(order)
        self.width = len(order)


def _convert_time(rows: list[dict[str, Any]], key: str = "time") -> None:
    for row in rows:
        value = row.get(key)
        if value.__class__ is str:
            row[key] = parse_time(value)


def not_an_answer(kind: str, body: bytes, cause: object = None) -> QueryError:
    """The error for a body that is not the ``kind`` asked for (an HTML page, say)."""
    shown = body[:200].decode("utf-8", "replace")
    why = f" ({cause})" if cause else ""
    return QueryError(
        f"the server's answer is not {kind}{why}; is the URL an InfluxDB (not a proxy's "
        f"page)? It began: {shown!r}",
        body=body[:2000].decode("utf-8", "replace"),
    )


def json_rows(body: bytes) -> list[dict[str, Any]]:
    """A v3 ``format=json`` body (one flat array of objects) as complete rows."""
    if not body.strip():
        return []
    with gc_paused():
        try:
            rows = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise not_an_answer("JSON", body, exc) from None
        if not isinstance(rows, list):
            raise QueryError(f"unexpected query answer (not a JSON array): {str(rows)[:200]}")
        cols = _Columns()
        known = cols.keys.keys()
        for row in rows:
            if not row.keys() <= known:
                cols._learn(row)
                known = cols.keys.keys()
        if any(len(r) != cols.width for r in rows):
            rows = [cols.complete(r) for r in rows]
        _convert_time(rows)
    return rows


class JsonlDecoder:
    """Incremental ``format=jsonl`` decoding: feed bytes as they arrive, get whole rows.

    Rows are the server's objects: a NULL column's key is absent (InfluxDB 3 leaves
    NULLs out), and no row is completed with columns seen only in other rows.  Memory is
    bounded by one chunk plus one partial line.  ``time`` becomes a datetime (or integer
    ns with ``time_as_ns=True``, for building Arrow without loss).  With
    ``columns=True`` the names seen so far are kept, in the server's order as far as the
    rows show it (:attr:`columns`), for building record batches.
    """

    def __init__(self, *, time_as_ns: bool = False, columns: bool = False) -> None:
        self._tail = b""
        self._cols = _Columns() if columns else None
        self._time = time_to_ns if time_as_ns else parse_time

    @property
    def columns(self) -> list[str]:
        """The column names seen so far, in order (empty unless made with ``columns=True``)."""
        return list(self._cols.keys) if self._cols is not None else []

    def _rows(self, lines: Iterable[bytes]) -> list[dict[str, Any]]:
        # The hot loop of a stream, kept flat.  Blank lines are rare, so they are told
        # apart only when orjson refuses a line.
        out: list[dict[str, Any]] = []
        append, loads, conv = out.append, orjson.loads, self._time
        cols = self._cols
        known = cols.keys.keys() if cols is not None else None
        for line in lines:
            try:
                row = loads(line)
            except orjson.JSONDecodeError as exc:
                if not line.strip():
                    continue
                raise not_an_answer("JSON lines", line, exc) from None
            if row.__class__ is not dict:
                raise not_an_answer("JSON lines of objects", line)
            if known is not None and not row.keys() <= known:
                cols._learn(row)  # type: ignore[union-attr]
                known = cols.keys.keys()  # type: ignore[union-attr]
            value = row.get("time")
            if value.__class__ is str:
                row["time"] = conv(value)
            append(row)
        return out

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        """The rows completed by ``chunk``."""
        if not chunk:
            return []
        data = self._tail + chunk if self._tail else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            self._tail = data
            return []
        self._tail = data[cut + 1 :]
        with gc_paused():
            return self._rows(data[:cut].split(b"\n"))

    def close(self) -> list[dict[str, Any]]:
        """The last row, if the body did not end with a newline."""
        tail, self._tail = self._tail, b""
        return self._rows([tail])

    def decode(self, chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
        """Every row of ``chunks``, lazily."""
        for chunk in chunks:
            yield from self.feed(chunk)
        yield from self.close()


def rows_to_batch(
    rows: list[dict[str, Any]],
    columns: list[str],
    time_columns: Iterable[str] = ("time",),
    types: Mapping[str, pa.DataType] | None = None,
) -> pa.RecordBatch:
    """Rows (``time`` as integer ns) as one Arrow record batch, ``time`` as ``timestamp[ns]``.

    A column absent from every row (all NULL here) takes its type from ``types`` (what
    earlier batches of the stream had) instead of Arrow's ``null``.
    """
    pa = _pyarrow()
    times = set(time_columns)
    known = types or {}
    arrays = []
    for name in columns:
        values = [r.get(name) for r in rows]
        if name in times:
            arrays.append(pa.array(values, pa.timestamp("ns")))
        else:
            arrays.append(_array(values, known.get(name)))
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def _array(values: list[Any], known: pa.DataType | None = None) -> pa.Array:
    """An Arrow array of JSON values; integers past int64 (a u64 field) as uint64."""
    pa = _pyarrow()
    if known is not None and all(v is None for v in values):
        return pa.nulls(len(values), known)
    try:
        return pa.array(values)
    except (OverflowError, pa.ArrowInvalid) as exc:
        if all(v is None or (v.__class__ is int and v >= 0) for v in values):
            return pa.array(values, pa.uint64())
        raise QueryError(f"a column of the answer mixes values Arrow cannot hold: {exc}") from None


def _pyarrow() -> Any:
    from influxkit._optional import require

    return require("pyarrow", "local")


def parquet_table(body: bytes) -> pa.Table:
    """A ``format=parquet`` body as an Arrow table (an empty body is an empty table)."""
    pa = _pyarrow()
    if not body:
        return pa.table({})
    import pyarrow.parquet as pq

    try:
        return pq.read_table(pa.BufferReader(body))
    except pa.ArrowException as exc:
        raise not_an_answer("Parquet", body, exc) from None


def csv_table(body: bytes) -> pa.Table:
    """A ``format=csv`` body as an Arrow table (types inferred by pyarrow)."""
    pa = _pyarrow()
    if not body.strip():
        return pa.table({})
    import pyarrow.csv as pcsv

    try:
        return pcsv.read_csv(pa.BufferReader(body))
    except pa.ArrowException as exc:
        raise not_an_answer("CSV", body, exc) from None


def csv_text(body: bytes, content_type: str | None = None) -> str:
    """A ``format=csv`` body as the text the server sent (``format="csv"``).

    A body that is plainly not CSV (JSON or HTML: a server that ignored the ask, a
    proxy's page) raises :class:`QueryError` instead of passing for a result.
    """
    kind = (content_type or "").lower()
    if "csv" not in kind and (kind or body.lstrip()[:1] in (b"{", b"[", b"<")):
        raise not_an_answer("CSV", body, f"Content-Type {kind}" if kind else None)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_an_answer("CSV", body, exc) from None

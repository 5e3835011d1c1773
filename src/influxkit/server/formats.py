"""Arrow results as InfluxDB 3's query bodies: json, jsonl, csv, pretty and parquet.

The server renders with arrow-rs (``arrow_json`` with NULLs left out, ``arrow_csv``,
``pretty_format_batches``); this module reproduces their text (reference 3.3):

* a timestamp without a zone is ``YYYY-MM-DDTHH:MM:SS`` plus a fraction of 3, 6 or 9
  digits only when it is not zero, and **no** ``Z``; one with a zone is RFC 3339 in
  that zone (``Z`` for UTC);
* a float keeps its decimal point (``1.0``); integers are bare; booleans ``true``/``false``;
  tags (dictionary columns) are their strings;
* json / jsonl leave a NULL's key out; csv and pretty write an empty cell.

An empty result is ``[]`` in json and an empty body in every other format.  json,
jsonl and csv are encoded a record batch at a time (:class:`BatchEncoder`), so a large
result streams; pretty and parquet need the whole table.
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from influxkit._optional import require

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "STREAMED",
    "BatchEncoder",
    "encode_table",
    "format_float",
    "format_timestamp",
]

#: Each format's ``Content-Type``, as the server sends it.
CONTENT_TYPES = {
    "json": "application/json",
    "jsonl": "application/jsonl",
    "csv": "text/csv",
    "pretty": "text/plain; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
FORMATS = tuple(CONTENT_TYPES)
#: The formats written a record batch at a time.
STREAMED = frozenset({"json", "jsonl", "csv"})

_EPOCH = datetime(1970, 1, 1)
_NS = 1_000_000_000
_UNIT_NS = {"s": _NS, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _fraction(frac_ns: int) -> str:
    """``.fff`` / ``.ffffff`` / ``.fffffffff`` for a non-zero fraction (chrono's ``AutoSi``)."""
    if frac_ns == 0:
        return ""
    if frac_ns % 1_000_000 == 0:
        return f".{frac_ns // 1_000_000:03d}"
    if frac_ns % 1_000 == 0:
        return f".{frac_ns // 1_000:06d}"
    return f".{frac_ns:09d}"


def format_timestamp(ns: int, tz: tzinfo | None = None) -> str:
    """Nanoseconds since the epoch as the server writes them.

    >>> format_timestamp(0), format_timestamp(1_500_000_000), format_timestamp(123)
    ('1970-01-01T00:00:00', '1970-01-01T00:00:01.500', '1970-01-01T00:00:00.000000123')
    >>> format_timestamp(1_000, UTC)
    '1970-01-01T00:00:00.000001Z'
    """
    secs, frac = divmod(ns, _NS)
    if tz is None:
        return (_EPOCH + timedelta(seconds=secs)).isoformat() + _fraction(frac)
    local = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=secs)).astimezone(tz)
    offset = local.utcoffset() or timedelta(0)
    base = local.replace(tzinfo=None).isoformat() + _fraction(frac)
    if offset == timedelta(0):
        return base + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{base}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _zone(name: str) -> tzinfo:
    """An Arrow timezone string (``UTC``, ``+05:30``, ``Europe/Paris``) as a ``tzinfo``."""
    if name.upper() in ("UTC", "Z"):
        return UTC
    if name[:1] in "+-" and len(name) >= 3:
        digits = name[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        return timezone(timedelta(minutes=-minutes if name[0] == "-" else minutes))
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def format_float(value: float) -> str:
    """A float as arrow-rs prints it in csv and pretty: always a decimal point, ``NaN``, ``inf``.

    >>> format_float(2.0), format_float(0.25), format_float(1e20), format_float(float("nan"))
    ('2.0', '0.25', '1.0e20', 'NaN')
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{int(exponent)}"
    return text


def _column_values(array: pa.Array | pa.ChunkedArray, *, text: bool) -> list[Any]:
    """One column's values ready to encode: JSON values, or (``text=True``) csv/pretty cells.

    ``None`` stands for NULL in both modes.
    """
    pa = require("pyarrow", "local")
    t = array.type
    if pa.types.is_dictionary(t):
        array = array.cast(t.value_type)
        t = t.value_type
    if pa.types.is_timestamp(t):
        factor = _UNIT_NS[t.unit]
        zone = _zone(t.tz) if t.tz else None
        raw = array.cast(pa.int64()).to_pylist()
        return [None if v is None else format_timestamp(v * factor, zone) for v in raw]
    if pa.types.is_date(t) or pa.types.is_time(t):
        return [None if v is None else v.isoformat() for v in array.to_pylist()]
    values = array.to_pylist()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [None if v is None else v.hex() for v in values]
    if not text:
        return values
    if pa.types.is_floating(t):
        return [None if v is None else format_float(v) for v in values]
    if pa.types.is_boolean(t):
        return [None if v is None else ("true" if v else "false") for v in values]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t):
        return [None if v is None else str(v) for v in values]
    return [None if v is None else _json_text(v) for v in values]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    if isinstance(value, timedelta):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_json_default)


def _json_text(value: Any) -> str:
    """A nested or unusual value (list, struct, decimal) as one text cell."""
    if isinstance(value, str | int | Decimal):
        return str(value)
    return _dumps(value).decode()


def _rows(data: pa.RecordBatch | pa.Table) -> Iterator[dict[str, Any]]:
    """The rows as dicts in column order, NULLs left out (arrow_json ``explicit_nulls=false``)."""
    names = data.schema.names
    columns = [_column_values(col, text=False) for col in data.columns]
    for values in zip(*columns, strict=True):
        yield {n: v for n, v in zip(names, values, strict=True) if v is not None}


def _text_rows(data: pa.RecordBatch | pa.Table) -> Iterator[list[str]]:
    columns = [_column_values(col, text=True) for col in data.columns]
    for values in zip(*columns, strict=True):
        yield ["" if v is None else v for v in values]


class BatchEncoder:
    """Encode a stream of record batches as one body of ``format`` (json, jsonl or csv).

    Call :meth:`batch` for each batch, in order, then :meth:`finish` once; each returns
    the bytes to send next.  csv writes its header with the first rows, so an empty
    result is an empty body; json always closes its array.
    """

    def __init__(self, format: str) -> None:
        if format not in STREAMED:
            raise ValueError(f"{format!r} cannot be streamed; use encode_table()")
        self.format = format
        self._rows = 0

    def batch(self, batch: pa.RecordBatch) -> bytes:
        """The bytes for one batch (nothing for a batch without rows, except json's ``[``)."""
        if batch.num_rows == 0:
            return b""
        first = self._rows == 0
        self._rows += batch.num_rows
        if self.format == "jsonl":
            return b"".join(_dumps(row) + b"\n" for row in _rows(batch))
        if self.format == "json":
            body = b",".join(_dumps(row) for row in _rows(batch))
            return (b"[" if first else b",") + body
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if first:
            writer.writerow(batch.schema.names)
        writer.writerows(_text_rows(batch))
        return out.getvalue().encode()

    def finish(self) -> bytes:
        """The bytes that close the body."""
        if self.format == "json":
            return b"]" if self._rows else b"[]"
        return b""

    def encode(self, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
        """Every chunk of the body of ``batches``, ending with :meth:`finish`."""
        for batch in batches:
            chunk = self.batch(batch)
            if chunk:
                yield chunk
        yield self.finish()


def _width(text: str) -> int:
    """Display width of a cell (wide East Asian characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pretty(table: pa.Table) -> bytes:
    """arrow's ``pretty_format_batches``: an ASCII table, no trailing newline."""
    header = table.schema.names
    rows = list(_text_rows(table))
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(header)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: list[str]) -> str:
        padded = (c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    out = [rule, line(header), rule, *(line(r) for r in rows), rule]
    return "\n".join(out).encode()


def _parquet(table: pa.Table) -> bytes:
    pq = require("pyarrow.parquet", "local")
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def encode_table(table: pa.Table, format: str) -> bytes:
    """The whole body of ``table`` in ``format`` (any of :data:`FORMATS`)."""
    if format in STREAMED:
        return b"".join(BatchEncoder(format).encode(table.to_batches()))
    if format not in CONTENT_TYPES:
        raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if table.num_rows == 0:
        return b""
    if format == "pretty":
        return _pretty(table)
    return _parquet(table)

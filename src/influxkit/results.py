"""Result shapes: Arrow in, rows / Arrow / pandas / polars / CSV text out.

Rows are ``dict``s with every column of the result (``None`` for NULL); timestamps
become timezone-aware UTC ``datetime`` objects (microseconds: Python's datetime has
no nanoseconds; ask for ``format="arrow"`` to keep them).  Streamed rows
(:func:`stream_rows`) leave a NULL's key out instead, as InfluxDB 3's ``jsonl`` does,
so a stream gives the same rows whichever backend or transport it comes from.  CSV is
the text InfluxDB 3 answers for ``format=csv``, made by the encoder ``influxkit serve``
uses.  pyarrow, pandas and polars are imported here, on first use, never by
``import influxkit``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from influxkit._optional import require

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "batch_to_rows", "convert", "stream_rows", "table_to_rows"]

FORMATS = ("rows", "arrow", "pandas", "polars", "csv")


def _row_type(pa: Any, t: Any) -> Any:
    """The type a column is cast to before ``to_pylist``: timestamps to aware UTC µs."""
    if pa.types.is_timestamp(t):
        tz = "+00:00" if t.tz in (None, "UTC", "+00:00") else t.tz
        return pa.timestamp("us", tz=tz)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_row_type(pa, f.type)) for f in t])
    return t


# Rows are built a column at a time, not with ``to_pylist()`` on the whole table.
# Measured on 1,000,000 rows of a Parquet answer (2 dictionary tags, an int, a float,
# a timestamp[ns]): casting the timestamps then ``to_pylist()`` took 5.2 s (190k
# rows/s), most of it in pyarrow making each datetime (2.8 s) and decoding each
# dictionary value (1.1 s a tag column); this takes 0.54 s.  A UTC timestamp column is
# cast to integer microseconds by Arrow (30 ms) and each becomes ``EPOCH + us * US``
# (0.26 s), a dictionary column is its dictionary's values picked by index (20 ms, and
# repeated tag values share one str), and the rows are zipped by a comprehension
# generated for the width.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def _utc_micros(pa: Any, array: pa.Array) -> list[Any]:
    """A UTC (or zone-less) timestamp array as aware datetimes, via integer microseconds.

    Arrow's own cast does the ns -> us truncation (toward zero, as ``to_pylist`` did).
    """
    micros = array.cast(pa.timestamp("us", tz=array.type.tz), safe=False).cast(pa.int64())
    epoch, us = _EPOCH, _US
    if micros.null_count:
        return [None if v is None else epoch + v * us for v in micros.to_pylist()]
    return [epoch + v * us for v in micros.to_pylist()]


def _array_values(pa: Any, array: pa.Array) -> list[Any]:
    """One array's values as ``to_pylist`` gives them, timestamps cast by :func:`_row_type`."""
    kind = array.type
    if pa.types.is_timestamp(kind) and kind.tz in (None, "UTC", "+00:00"):
        return _utc_micros(pa, array)
    if pa.types.is_dictionary(kind):
        words = array.dictionary.to_pylist()  # as to_pylist: no cast inside a dictionary
        indices = array.indices.to_pylist()
        if array.null_count:
            return [None if i is None else words[i] for i in indices]
        return [words[i] for i in indices]
    target = _row_type(pa, kind)
    if target != kind:
        array = array.cast(target, safe=False)
    return array.to_pylist()  # type: ignore[no-any-return]


def _column_values(pa: Any, column: pa.ChunkedArray | pa.Array) -> list[Any]:
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return _array_values(pa, column.chunk(0))
        out: list[Any] = []
        for chunk in column.chunks:
            out.extend(_array_values(pa, chunk))
        return out
    return _array_values(pa, column)


_ZIP_SOURCE = """\
def rows(names, columns):
    {keys}, = names
    return [{{{items}}} for {values}, in zip(*columns)]
"""


@functools.lru_cache(maxsize=128)
def _zipper(width: int) -> Callable[[list[str], list[list[Any]]], list[dict[str, Any]]]:
    """``[dict(zip(names, values)) for values in zip(*columns)]`` for ``width`` columns.

    A dict display of unpacked values: 0.27 s for 1M rows of 5, against 0.41 s for
    ``dict(zip(...))``.  Only the width goes into the source, never a column name.
    """
    keys = [f"k{i}" for i in range(width)]
    values = [f"v{i}" for i in range(width)]
    source = _ZIP_SOURCE.format(
        keys=", ".join(keys),
        items=", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)),
        values=", ".join(values),
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<influxkit rows: {width} columns>", "exec"), namespace)
    return namespace["rows"]  # type: ignore[no-any-return]


def _to_rows(data: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    pa = require("pyarrow", "local")
    names = data.schema.names
    if not names:
        return [{} for _ in range(data.num_rows)]
    columns = [_column_values(pa, column) for column in data.columns]
    # A duplicate name keeps its first position and the last column's value, as
    # ``to_pylist`` (which goes through a dict of columns) does.
    return _zipper(len(names))(names, columns)


def table_to_rows(table: pa.Table) -> list[dict[str, Any]]:
    """All rows of ``table`` as dicts."""
    return _to_rows(table)


def batch_to_rows(batch: pa.RecordBatch) -> Iterator[dict[str, Any]]:
    """The rows of one record batch, one at a time (every column, ``None`` for NULL)."""
    yield from _to_rows(batch)


def stream_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    """The rows of one record batch as a stream yields them: a NULL's key left out.

    InfluxDB 3's ``jsonl`` leaves NULLs out and a client reading it cannot know the
    columns it has not seen yet, so every stream (HTTP, the local engine, Flight) gives
    the columns that have a value, in the result's column order.

    Example:
        >>> import pyarrow as pa
        >>> stream_rows(pa.record_batch({"a": [1, None], "b": [None, "x"]}))
        [{'a': 1}, {'b': 'x'}]
    """
    rows = _to_rows(batch)
    if not any(column.null_count for column in batch.columns):
        return rows
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def convert(table: pa.Table, format: str) -> Any:
    """``table`` in the requested ``format`` (``rows``, ``arrow``, ``pandas``, ``polars``,
    ``csv``: InfluxDB 3's ``format=csv`` text, as ``influxkit serve`` answers it)."""
    if format == "rows":
        return table_to_rows(table)
    if format == "arrow":
        return table
    if format == "csv":
        from influxkit.server.formats import encode_table

        return encode_table(table, "csv").decode("utf-8")
    if format == "pandas":
        require("pandas", "pandas")
        return table.to_pandas()
    if format == "polars":
        pl = require("polars", "polars")
        return pl.from_arrow(table)
    raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")

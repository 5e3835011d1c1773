"""Result shapes: Arrow in, rows / Arrow / pandas / polars out.

Rows are ``dict``s with every column of the result (``None`` for NULL); timestamps
become timezone-aware UTC ``datetime`` objects (microseconds: Python's datetime has
no nanoseconds; ask for ``format="arrow"`` to keep them).  pyarrow, pandas and polars
are imported here, on first use, never by ``import influxkit``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from influxkit._optional import require

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FORMATS", "batch_to_rows", "convert", "table_to_rows"]

FORMATS = ("rows", "arrow", "pandas", "polars")


def _row_type(pa: Any, t: Any) -> Any:
    """The type a column is cast to before ``to_pylist``: timestamps to aware UTC µs."""
    if pa.types.is_timestamp(t):
        tz = "+00:00" if t.tz in (None, "UTC", "+00:00") else t.tz
        return pa.timestamp("us", tz=tz)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_row_type(pa, f.type)) for f in t])
    return t


def _rows_ready(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """Cast timestamps (also inside structs) so ``to_pylist`` yields aware UTC datetimes."""
    pa = require("pyarrow", "local")
    columns = []
    changed = False
    for col, field in zip(data.columns, data.schema, strict=True):
        target = _row_type(pa, field.type)
        if target != field.type:
            columns.append(col.cast(target, safe=False))
            changed = True
        else:
            columns.append(col)
    if not changed:
        return data
    names = data.schema.names
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, names=names)
    return pa.Table.from_arrays(columns, names=names)


def table_to_rows(table: pa.Table) -> list[dict[str, Any]]:
    """All rows of ``table`` as dicts."""
    return _rows_ready(table).to_pylist()


def batch_to_rows(batch: pa.RecordBatch) -> Iterator[dict[str, Any]]:
    """The rows of one record batch, one at a time."""
    yield from _rows_ready(batch).to_pylist()


def convert(table: pa.Table, format: str) -> Any:
    """``table`` in the requested ``format`` (``rows``, ``arrow``, ``pandas``, ``polars``)."""
    if format == "rows":
        return table_to_rows(table)
    if format == "arrow":
        return table
    if format == "pandas":
        require("pandas", "pandas")
        return table.to_pandas()
    if format == "polars":
        pl = require("polars", "polars")
        return pl.from_arrow(table)
    raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")

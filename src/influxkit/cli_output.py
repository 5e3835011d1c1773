"""Query results (Arrow) as a terminal table, JSON, JSON lines, CSV or Parquet.

Timestamps are written as RFC 3339 UTC strings with every nanosecond kept
(``2026-01-01T00:00:00.000000001Z``; trailing zeros of the fraction trimmed) in the
text formats; Parquet keeps the Arrow types as they are.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "format_time",
    "stdout_bytes",
    "text_rows",
    "write_csv",
    "write_json",
    "write_jsonl",
    "write_parquet",
    "write_table",
]


def stdout_bytes() -> IO[bytes]:
    """Standard output for bytes, after what was printed to it as text."""
    sys.stdout.flush()
    return sys.stdout.buffer


def format_time(ns: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 UTC, nanoseconds kept."""
    seconds, frac = divmod(ns, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{frac:09d}".rstrip("0") + "Z" if frac else f"{text}Z"


def _column_values(column: pa.Array | pa.ChunkedArray) -> list[Any]:
    t = column.type
    if pa.types.is_dictionary(t):
        column = pc.cast(column, t.value_type)
        t = column.type
    if pa.types.is_timestamp(t):
        ns = pc.cast(column, pa.timestamp("ns", t.tz)).cast(pa.int64()).to_pylist()
        return [None if v is None else format_time(v) for v in ns]
    return column.to_pylist()


def text_rows(batches: Iterable[pa.RecordBatch | pa.Table]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``batches`` as tuples of plain Python values (timestamps as strings)."""
    for batch in batches:
        columns = [_column_values(c) for c in batch.columns]
        yield from zip(*columns, strict=True)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, default=str)


def write_jsonl(batches: Iterable[pa.RecordBatch | pa.Table], out: IO[bytes]) -> int:
    """One JSON object per row and line (streams: each batch is written as it comes)."""
    count = 0
    for batch in batches:
        names = batch.schema.names
        for row in text_rows([batch]):
            out.write(_json_bytes(dict(zip(names, row, strict=True))) + b"\n")
            count += 1
        out.flush()
    return count


def write_json(table: pa.Table, out: IO[bytes]) -> int:
    """One JSON array of row objects."""
    names = table.schema.names
    rows = [dict(zip(names, row, strict=True)) for row in text_rows([table])]
    out.write(_json_bytes(rows) + b"\n")
    return len(rows)


def write_csv(table: pa.Table, out: IO[bytes]) -> int:
    """A header row, then one row per result row (null as an empty cell)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\n")
        if table.num_columns:
            writer.writerow(table.schema.names)
        count = 0
        for row in text_rows([table]):
            writer.writerow([_cell(v) for v in row])
            count += 1
    finally:
        text.detach()
    return count


def write_parquet(table: pa.Table, out: IO[bytes]) -> int:
    """The table as one Parquet file (built in memory: stdout cannot seek)."""
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    out.write(buffer.getvalue())
    return table.num_rows


def write_table(table: pa.Table, out: IO[str], *, terminal: bool) -> int:
    """An aligned table with a row count (rich; colours only on a terminal)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    numeric = [
        pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
        for t in table.schema.types
    ]
    view = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold")
    for name, right in zip(table.schema.names, numeric, strict=True):
        view.add_column(name, justify="right" if right else "left", overflow="fold")
    for row in text_rows([table]):
        view.add_row(*(_cell(v) for v in row))
    console = Console(
        file=out,
        force_terminal=terminal,
        width=None if terminal else 10_000,
        highlight=False,
    )
    if table.num_columns:
        console.print(view, soft_wrap=not terminal)
    rows = table.num_rows
    console.print(f"({rows} row{'' if rows == 1 else 's'})", style="dim")
    return rows

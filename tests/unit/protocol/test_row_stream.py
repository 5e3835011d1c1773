"""RowStream: a v3 ``jsonl`` answer as streamed rows (NULLs left out) or typed Arrow batches."""

from __future__ import annotations

import orjson
import pyarrow as pa

from influxkit.clients.http_ops import STREAM_BATCH_ROWS, RowStream


def _body(rows: list[dict]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def _feed(stream: RowStream, body: bytes, size: int = 4096) -> list:
    out = []
    for start in range(0, len(body), size):
        out.extend(stream.feed(body[start : start + size]))
    out.extend(stream.close())
    return out


def test_rows_are_the_servers_objects():
    body = _body([{"a": 1, "time": "1970-01-01T00:00:00"}, {"b": "x"}, {"a": 2, "b": "y"}])
    rows = _feed(RowStream("rows"), body, size=7)
    assert [{k: v for k, v in r.items() if k != "time"} for r in rows] == [
        {"a": 1},
        {"b": "x"},
        {"a": 2, "b": "y"},
    ]
    assert "time" not in rows[1] and "a" not in rows[1]  # nothing completed


def test_a_column_null_throughout_a_batch_keeps_its_earlier_type():
    first = [{"time": "1970-01-01T00:00:00.000000001", "v": 1.5, "n": i} for i in range(5)]
    rest = [{"time": "1970-01-01T00:00:00.000000002", "n": i} for i in range(STREAM_BATCH_ROWS)]
    batches = _feed(RowStream("arrow"), _body(first + rest))
    assert [b.num_rows for b in batches] == [STREAM_BATCH_ROWS, 5]
    for batch in batches:
        assert batch.schema.field("v").type == pa.float64()
        assert batch.schema.field("n").type == pa.int64()
        assert batch.schema.field("time").type == pa.timestamp("ns")
    assert batches[1].column("v").null_count == 5


def test_a_column_never_seen_with_a_value_is_null_typed():
    rows = [{"time": "1970-01-01T00:00:00", "n": 1}, {"time": "1970-01-01T00:00:00", "x": None}]
    (batch,) = _feed(RowStream("arrow"), _body(rows))
    assert batch.schema.field("x").type == pa.null()
    assert batch.column("n").to_pylist() == [1, None]

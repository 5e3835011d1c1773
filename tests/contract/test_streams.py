"""``query_sql_stream`` rows are alike on every backend: NULL columns are left out.

InfluxDB 3's ``jsonl`` omits NULLs and a client cannot know the columns it has not seen
yet, so a streamed row holds the columns that have a value, over HTTP, from the local
engine and over Arrow Flight, sync and asyncio; ``query_sql`` keeps complete rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from ways_in import ways_in

import influxkit
import influxkit.aio
from influxkit.server import ServerThread, running_server

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
# NULLs in the first rows (no host, no v) and in later ones (no v, no w).
LINES = "\n".join(
    [
        f"s w=2i {T0}",
        f"s,host=a v=1 {T0 + 1000}",
        f"s,host=b v=3,w=4i {T0 + 2000}",
        f's,host=c note="x" {T0 + 3000}',
        f"s,host=d v=5 {T0 + 4000}",
    ]
)
SQL = "SELECT * FROM s ORDER BY time"


def _t(us: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


STREAMED = [
    {"time": _t(0), "w": 2},
    {"host": "a", "time": _t(1), "v": 1.0},
    {"host": "b", "time": _t(2), "v": 3.0, "w": 4},
    {"host": "c", "note": "x", "time": _t(3)},
    {"host": "d", "time": _t(4), "v": 5.0},
]
COLUMNS = ["host", "note", "time", "v", "w"]


def _complete(row: dict) -> dict:
    return {name: row.get(name) for name in COLUMNS}


pytestmark = pytest.mark.needs("sql")


def test_streamed_rows_leave_nulls_out(backend):
    backend.conn.write(LINES)
    rows = list(backend.conn.query_sql_stream(SQL))
    assert rows == STREAMED
    assert [list(r) for r in rows] == [[c for c in COLUMNS if c in r] for r in rows]  # in order
    assert rows[0].get("host") is None


def test_query_sql_rows_stay_complete(backend):
    backend.conn.write(LINES)
    assert backend.conn.query_sql(SQL) == [_complete(r) for r in STREAMED]


def test_arrow_streams_keep_every_column_seen(backend):
    backend.conn.write(LINES)
    batches = list(backend.conn.query_sql_stream(SQL, format="arrow"))
    assert sum(b.num_rows for b in batches) == len(STREAMED)
    names = set().union(*(b.schema.names for b in batches))
    assert names == set(COLUMNS)
    values = [
        {k: v for k, v in row.items() if k != "time" and v is not None}
        for b in batches
        for row in b.to_pylist()
    ]
    assert values == [{k: v for k, v in r.items() if k != "time"} for r in STREAMED]


# -- one table, every way in ------------------------------------------------------------


@pytest.fixture(scope="module")
def flight_serve() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0) as server:
        with influxkit.connect(server.url, database="db") as conn:
            conn.write(LINES)
        yield server


def test_every_backend_and_transport_streams_the_same_rows(flight_serve):
    seen = {}
    for name, conn, transport in ways_in(flight_serve):
        try:
            if name.startswith("local"):
                conn.write(LINES)
            seen[name] = list(conn.query_sql_stream(SQL, transport=transport))
        finally:
            conn.close()
    for name, rows in seen.items():
        assert rows == STREAMED, name

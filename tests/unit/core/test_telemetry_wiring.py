"""The library's own events: writes and queries of a connection reach attached handlers."""

from __future__ import annotations

import pytest

import influxkit
from influxkit import telemetry


@pytest.fixture
def events():
    seen: list[telemetry.Event] = []
    handler = telemetry.attach(seen.append)
    yield seen
    telemetry.detach(handler)


def test_a_write_emits_start_and_stop_with_counts(events) -> None:
    with influxkit.connect(client="local", database="db") as conn:
        conn.write(["cpu v=1i 1", "cpu v=2i 2"])
    start, stop = [e for e in events if e.kind == "write"]
    assert (start.name, stop.name) == ("write.start", "write.stop")
    assert stop.points == 2 and stop.bytes == len(b"cpu v=1i 1\ncpu v=2i 2")
    assert stop.bytes_sent == stop.bytes and stop.database == "db"
    assert stop.duration is not None and stop.duration >= 0
    assert stop.operation == "write" and stop.error is None


def test_a_failed_write_emits_an_exception_event(events) -> None:
    with (
        influxkit.connect(client="local", database="db") as conn,
        pytest.raises(influxkit.PartialWriteError),
    ):
        conn.write("not line protocol")
    [failed] = [e for e in events if e.name == "write.exception"]
    assert isinstance(failed.error, influxkit.PartialWriteError)
    assert failed.duration is not None


def test_queries_report_their_row_count(events) -> None:
    with influxkit.connect(client="local", database="db") as conn:
        conn.write(["cpu v=1i 1", "cpu v=2i 2", "cpu v=3i 3"])
        conn.query_sql("SELECT * FROM cpu")
        conn.query_sql("SELECT * FROM cpu", format="arrow")
        list(conn.query_sql_stream("SELECT * FROM cpu"))
        with pytest.raises(influxkit.QueryError):
            conn.query_sql("SELECT * FROM nowhere")
    stops = [e for e in events if e.name == "query.stop"]
    assert [(e.operation, e.rows) for e in stops] == [
        ("query_sql", 3),
        ("query_sql", 3),
        ("query_sql_stream", None),
    ]
    [failed] = [e for e in events if e.name == "query.exception"]
    assert failed.operation == "query_sql" and failed.database == "db"


def test_named_connections_are_named_in_events(events) -> None:
    influxkit.add_connection("tele", client="local", database="db")
    try:
        influxkit.write("tele", "cpu v=1i 1")
    finally:
        influxkit.remove_connection("tele")
    assert {e.connection for e in events if e.kind == "write"} == {"tele"}


def test_batched_points_are_reported_as_batch_flushes_only(events) -> None:
    with influxkit.connect(client="local", database="db", batch={"size": 10}) as conn:
        conn.write([f"cpu v={i}i {i + 1}" for i in range(25)])
        conn.flush()
    assert not [e for e in events if e.kind == "write"]
    assert sum(e.points for e in events if e.name == "batch.flush.stop") == 25

"""The batch writer on the local engine: buffering, flush, wait, on_error, BufferFull, order.

Faults a server causes (resets, 5xx, 429, downtime) are tested against real servers
through the fault proxy in tests/server_local/test_batch_faults.py.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

import influxkit
from influxkit import BatchOptions, BufferFull, FlushTimeout, PartialWriteError, Point
from influxkit.batching.batch import Batch


def lines(n: int, start: int = 0, measurement: str = "cpu") -> list[str]:
    return [f"{measurement},host=h{i % 3} v={i}i {1_000_000 + i}" for i in range(start, start + n)]


def count(conn: influxkit.Connection, table: str = "cpu") -> int:
    return conn.query_sql(f"SELECT count(*) AS n FROM {table}")[0]["n"]


@pytest.fixture
def errors() -> list[tuple[Batch, BaseException]]:
    return []


def connect(errors: list[tuple[Batch, BaseException]] | None = None, **batch: object):
    if errors is not None:
        batch["on_error"] = lambda b, e: errors.append((b, e))
    return influxkit.connect(client="local", database="db", batch=batch)


def test_write_buffers_and_returns_then_flush_delivers() -> None:
    with connect(size=1000, flush_interval=60) as conn:
        outcome = conn.write(lines(2500))
        assert outcome.buffered and outcome.lines == 2500 and outcome.requests == 0
        # 2 full batches may already be on their way; the last 500 wait for the interval.
        conn.flush()
        assert count(conn) == 2500
        stats = conn.stats()
        assert stats["points_written"] == 2500
        assert stats["points_buffered"] == 0
        assert stats["requests"] == 3  # 1000 + 1000 + 500: batches of `size`


def test_full_batches_go_without_waiting_for_the_interval() -> None:
    with connect(size=100, flush_interval=60) as conn:
        conn.write(lines(300))
        deadline = time.monotonic() + 10
        while conn.stats()["points_written"] < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert conn.stats()["points_written"] == 300


def test_a_partial_batch_goes_after_flush_interval() -> None:
    with connect(size=10_000, flush_interval=0.05) as conn:
        conn.write(lines(10))
        deadline = time.monotonic() + 10
        while conn.stats()["points_written"] < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert count(conn) == 10


def test_write_wait_blocks_until_delivered() -> None:
    with connect(size=10_000, flush_interval=60) as conn:
        outcome = conn.write(lines(10), wait=True)
        assert not outcome.buffered
        assert count(conn) == 10


def test_facade_write_and_flush_by_name() -> None:
    influxkit.add_connection("batched", client="local", database="db", batch={"size": 50})
    try:
        influxkit.write("batched", lines(120))
        influxkit.flush("batched")
        assert influxkit.query_sql("batched", "SELECT count(*) AS n FROM cpu") == [{"n": 120}]
    finally:
        influxkit.remove_connection("batched")


def test_remove_connection_and_close_flush_first() -> None:
    conn = influxkit.add_connection(
        "batched2", client="local", database="db", batch={"flush_interval": 60}
    )
    conn.write(lines(42))
    client = conn._client  # the engine outlives the connection: read it after close
    influxkit.remove_connection("batched2")
    assert conn.closed
    assert client.query_sql("SELECT count(*) AS n FROM cpu", database="db", params=None,
                            format="rows") == [{"n": 42}]  # fmt: skip


def test_partial_write_hands_only_rejected_lines_to_on_error(errors) -> None:
    with connect(errors, size=10) as conn:
        conn.write(lines(3))
        conn.write('cpu,host=h0 v="text" 5\nnot line protocol')
        conn.write(lines(2, start=3))
        conn.flush()
        assert count(conn) == 5
    assert len(errors) == 1
    batch, error = errors[0]
    assert isinstance(error, PartialWriteError)
    assert batch.lines == ('cpu,host=h0 v="text" 5', "not line protocol")
    assert batch.database == "db" and len(batch) == 2
    assert {e.line_number for e in error.line_errors} == {4, 5}  # numbered over the batch


def test_wait_raises_the_error_of_its_own_points(errors) -> None:
    with connect(errors, size=1000, flush_interval=60) as conn:
        conn.write(lines(3))
        with pytest.raises(PartialWriteError):
            conn.write('cpu,host=h0 v="text" 5', wait=True)
        conn.write(lines(1, start=10), wait=True)  # the next waited write is clean
        assert count(conn) == 4
        stats = conn.stats()
    assert [b.lines for b, _ in errors] == [('cpu,host=h0 v="text" 5',)]
    assert stats["points_failed"] == 1 and stats["write_errors"] == 1
    assert "PartialWriteError" in stats["last_error"] and stats["last_error_time"] > 0


def test_a_refused_batch_is_not_retried_and_goes_to_on_error(errors) -> None:
    # The v1 profile refuses writes to a database that does not exist (404), for good.
    with influxkit.connect(
        client="local",
        profile="v1",
        database="nodb",
        batch={"on_error": lambda b, e: errors.append((b, e)), "retry_interval": 0},
    ) as conn:
        conn.write(lines(7), database="missing")  # the connection's own database exists
        conn.flush()
        stats = conn.stats()
    assert len(errors) == 1
    batch, error = errors[0]
    assert isinstance(error, influxkit.DatabaseNotFound)
    assert len(batch) == 7 and batch.lines[0] == lines(1)[0]
    assert stats["retries"] == 0 and stats["requests"] == 1 and stats["points_failed"] == 7


def test_default_on_error_logs_count_and_reason(caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="influxkit"), connect(size=10) as conn:
        conn.write('cpu v=1i 1\ncpu v="x" 2')
        conn.flush()
    [record] = [r for r in caplog.records if r.name == "influxkit"]
    assert "1 point(s)" in record.getMessage() and "'db'" in record.getMessage()
    assert "partial write" in record.getMessage()


def test_a_raising_on_error_is_logged_and_the_writer_goes_on(caplog) -> None:
    def broken(batch, error):
        raise RuntimeError("callback bug")

    with (
        caplog.at_level(logging.ERROR, logger="influxkit"),
        connect(size=10, on_error=broken) as conn,
    ):
        conn.write('cpu v=1i 1\ncpu v="x" 2')
        conn.flush()
        conn.write(lines(5), wait=True)
        assert count(conn) == 6
    assert any("on_error raised" in r.getMessage() for r in caplog.records)


def test_overflow_raise_refuses_a_write_that_does_not_fit() -> None:
    with connect(size=1000, max_buffer_points=1000, flush_interval=60, overflow="raise") as conn:
        conn.write(lines(600))
        with pytest.raises(BufferFull) as info:
            conn.write(lines(600, start=600))
        assert info.value.accepted == 0
        assert "max_buffer_points=1000" in str(info.value)
        assert conn.stats()["points_buffered"] == 600
        conn.flush()
        assert count(conn) == 600  # nothing of the refused write got in


def test_overflow_block_raises_after_block_timeout() -> None:
    with connect(size=1000, max_buffer_points=1000, flush_interval=60, block_timeout=0.2) as conn:
        conn.write(lines(600))
        started = time.monotonic()
        with pytest.raises(BufferFull):
            conn.write(lines(600, start=600))
        assert time.monotonic() - started >= 0.2


def test_overflow_block_waits_for_room() -> None:
    with connect(size=1000, max_buffer_points=1000, flush_interval=60, block_timeout=30) as conn:
        conn.write(lines(600))
        done = threading.Event()

        def second() -> None:
            conn.write(lines(600, start=600))
            done.set()

        t = threading.Thread(target=second)
        t.start()
        assert not done.wait(0.2)  # blocked: 1200 > 1000
        conn.flush()  # drains the first 600, making room
        t.join(10)
        assert done.is_set()
        conn.flush()
        assert count(conn) == 1200


def test_a_write_bigger_than_the_buffer_goes_in_piece_by_piece() -> None:
    with connect(size=100, max_buffer_points=200, flush_interval=0.01) as conn:
        conn.write(lines(5000))
        conn.flush()
        assert count(conn) == 5000


def test_flush_timeout_when_the_writer_cannot_finish_in_time() -> None:
    release = threading.Event()

    def slow(batch, error):  # on_error runs in the sender thread and holds it
        release.wait(10)

    with connect(size=10, on_error=slow) as conn:
        conn.write('cpu v=1i 1\ncpu v="x" 2')
        with pytest.raises(FlushTimeout) as info:
            conn.flush(timeout=0.1)
        assert info.value.pending == 2
        assert isinstance(info.value, TimeoutError)
        release.set()
        conn.flush(timeout=10)


def test_order_is_kept_per_connection() -> None:
    # The same series and time written again and again: the last write must win.
    with connect(size=3, flush_interval=0.01) as conn:
        for value in range(200):
            conn.write(f"cpu,host=a v={value}i 1")
        conn.flush()
        assert conn.query_sql("SELECT v FROM cpu") == [{"v": 199}]


def test_many_threads_writing_lose_nothing() -> None:
    with connect(size=500, flush_interval=0.05) as conn:

        def writer(k: int) -> None:
            for j in range(20):
                conn.write(lines(100, start=(k * 20 + j) * 100))

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn.flush()
        assert count(conn) == 8 * 20 * 100


def test_points_and_dicts_are_encoded_in_the_callers_thread() -> None:
    with connect(size=10) as conn:
        with pytest.raises(influxkit.InvalidRecord):  # bad data fails at once, not later
            conn.write(influxkit.Point("cpu").field("v", float("nan")))
        conn.write([influxkit.Point("cpu").field("v", 1.5).time(5)])
        conn.write({"measurement": "cpu", "fields": {"v": 2.5}, "time": 6})
        conn.flush()
        assert count(conn) == 2


def test_batches_keep_databases_and_precisions_apart() -> None:
    with connect(size=1000, flush_interval=60) as conn:
        conn.write("cpu v=1i 1", precision="s")
        conn.write("cpu v=2i 2", database="other")
        conn.write("cpu v=3i 3", precision="s")
        conn.flush()
        assert conn.query_sql("SELECT v, time FROM cpu ORDER BY v") == [
            {"v": 1, "time": conn.query_sql("SELECT to_timestamp(1) AS t")[0]["t"]},
            {"v": 3, "time": conn.query_sql("SELECT to_timestamp(3) AS t")[0]["t"]},
        ]
        assert conn.query_sql("SELECT v FROM cpu", database="other") == [{"v": 2}]


def test_batch_options_are_validated() -> None:
    with pytest.raises(influxkit.ConfigError, match="max_in_flight"):
        BatchOptions(max_in_flight=0)
    with pytest.raises(influxkit.ConfigError, match="on_error"):
        BatchOptions(on_error="log")  # type: ignore[arg-type]
    with pytest.raises(influxkit.ConfigError, match="did you mean 'size'"):
        influxkit.connect(client="local", batch={"sizes": 10})


def test_telemetry_sees_every_batch_flush() -> None:
    events = []
    handler = influxkit.telemetry.attach(events.append, kinds=["batch.flush"])
    try:
        with connect(size=100) as conn:
            conn.write(lines(250))
            conn.flush()
    finally:
        influxkit.telemetry.detach(handler)
    stops = [e for e in events if e.name == "batch.flush.stop"]
    assert sorted(e.points for e in stops) == [50, 100, 100]
    assert all(e.duration is not None and e.duration >= 0 for e in stops)
    assert all(e.database == "db" and e.attempt == 0 and e.bytes > 0 for e in stops)
    assert len([e for e in events if e.name == "batch.flush.start"]) == 3


def test_a_quoted_newline_is_one_point_in_counts_and_in_on_error(errors) -> None:
    with connect(errors, size=2, flush_interval=60) as conn:
        conn.write([Point("cpu").field("s", "two\nlines").time(1), "cpu s=3i 3"])
        conn.write('cpu s="x" 4\n\n# a comment\ncpu s="y" 5')  # blank and comment lines
        conn.flush()
        assert conn.stats()["points_written"] == 3
        assert conn.query_sql("SELECT s FROM cpu ORDER BY time") == [
            {"s": "two\nlines"}, {"s": "x"}, {"s": "y"}
        ]  # fmt: skip
    assert [b.lines for b, _ in errors] == [("cpu s=3i 3",)]

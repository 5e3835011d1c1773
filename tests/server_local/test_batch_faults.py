"""The batch writer against ``influxkit serve`` through the fault proxy: nothing is lost.

Resets, stalls, 503s, 429s with ``Retry-After`` and whole outages come from a real
proxy on 127.0.0.1 in front of a real HTTP server; the checks are count queries on the
server and the writer's own counters.
"""

from __future__ import annotations

import threading
import time
import tracemalloc
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import influxkit
from influxkit.server import ServerThread
from influxkit.testing.faultproxy import SOAK_FAULTS, FaultProxy

FAST_RETRY = {"retry_interval": 0.02, "max_retry_interval": 0.2}


@pytest.fixture
def proxy(server: ServerThread) -> Iterator[FaultProxy]:
    url = urlsplit(server.url)
    with FaultProxy(url.hostname or "127.0.0.1", url.port or 80, seed=7) as p:
        yield p


@pytest.fixture
def direct(server: ServerThread) -> Iterator[influxkit.Connection]:
    """A plain connection straight to the server, for the count queries."""
    with influxkit.connect(server.url, database="db") as conn:
        yield conn


def lines(n: int, start: int = 0) -> list[str]:
    return [f"cpu,host=h{i % 10} v={i}i {i + 1}" for i in range(start, start + n)]


def count(conn: influxkit.Connection) -> int:
    rows = conn.query_sql("SELECT count(*) AS n FROM cpu")
    return rows[0]["n"] if rows else 0


def batched(proxy: FaultProxy, errors: list | None = None, timeout: float = 5, **options):
    if errors is not None:
        options["on_error"] = lambda b, e: errors.append((b, e))
    # check_server=False: the faults here are aimed at the writer's own requests (the
    # first-use /ping and the batch writer: tests/server_local/test_server_info_serve.py).
    return influxkit.connect(
        proxy.url, database="db", timeout=timeout, batch=options, check_server=False
    )


def test_200k_points_through_random_faults_all_arrive(proxy, direct) -> None:
    proxy.set_random(**SOAK_FAULTS)
    errors: list = []
    options = {"size": 5000, "max_retries": 50, **FAST_RETRY}
    with batched(proxy, errors, timeout=2, **options) as conn:
        for k in range(40):
            conn.write(lines(5000, start=k * 5000))
        conn.flush(timeout=120)
        stats = conn.stats()
    faults = proxy.injected
    assert errors == []
    assert count(direct) == 200_000
    assert stats["points_written"] == 200_000 and stats["points_failed"] == 0
    assert sum(faults.values()) > 0 and stats["retries"] > 0
    assert stats["requests"] == stats["retries"] + 40


def test_a_reset_connection_is_retried(proxy, direct) -> None:
    proxy.reset_next()
    with batched(proxy, size=100, **FAST_RETRY) as conn:
        conn.write(lines(100), wait=True)
        assert conn.stats()["retries"] == 1
    assert count(direct) == 100 and proxy.stats["reset"] == 1
    assert "TransportError" in conn.stats()["last_error"]  # a retried error is still shown


def test_429_waits_for_retry_after(proxy, direct) -> None:
    proxy.respond_next(status=429, retry_after=0.5)
    events: list = []
    handler = influxkit.telemetry.attach(events.append, kinds=["batch.retry"])
    try:
        with batched(proxy, size=100, retry_interval=0.001) as conn:
            started = time.monotonic()
            conn.write(lines(100), wait=True)
            elapsed = time.monotonic() - started
    finally:
        influxkit.telemetry.detach(handler)
    assert elapsed >= 0.5  # the backoff alone would wait ~1 ms
    assert count(direct) == 100
    [retry] = events
    assert retry.attempt == 1 and retry.extra["retry_in"] >= 0.5
    assert retry.error.status == 429


def test_5xx_is_retried_until_it_succeeds(proxy, direct) -> None:
    proxy.respond_next(3, status=503)
    with batched(proxy, size=100, **FAST_RETRY) as conn:
        conn.write(lines(100), wait=True)
        assert conn.stats()["retries"] == 3
    assert count(direct) == 100


def test_exhausted_retries_go_to_on_error(proxy, direct) -> None:
    proxy.respond_next(10, status=503)
    errors: list = []
    with batched(proxy, errors, size=100, max_retries=2, **FAST_RETRY) as conn:
        with pytest.raises(influxkit.ServerError) as info:
            conn.write(lines(100), wait=True)
        stats = conn.stats()
    assert info.value.status == 503 and info.value.retryable
    [(batch, error)] = errors
    assert error is info.value and len(batch) == 100 and batch.lines[0] == lines(1)[0]
    assert stats["requests"] == 3 and stats["retries"] == 2 and stats["points_failed"] == 100
    with pytest.raises(influxkit.QueryError, match="not found"):  # nothing was written
        count(direct)


def test_max_retry_time_ends_the_retries(proxy) -> None:
    proxy.respond_next(1000, status=503)
    errors: list = []
    options = {"size": 100, "max_retries": 1000, "max_retry_time": 0.3, **FAST_RETRY}
    with batched(proxy, errors, **options) as conn:
        started = time.monotonic()
        conn.write(lines(100))
        conn.flush()
        elapsed = time.monotonic() - started
    assert len(errors) == 1 and elapsed < 5
    assert conn.stats()["retries"] < 1000


def test_a_4xx_is_not_retried(proxy) -> None:
    proxy.respond_next(status=400, body=b'{"error":"bad request"}', content_type="application/json")
    errors: list = []
    with batched(proxy, errors, size=100, **FAST_RETRY) as conn:
        conn.write(lines(100))
        conn.flush()
        assert conn.stats()["retries"] == 0
    [(batch, error)] = errors
    assert isinstance(error, influxkit.WriteError) and error.status == 400 and len(batch) == 100


def test_a_partial_write_through_http_hands_over_only_rejected_lines(proxy, direct) -> None:
    errors: list = []
    with batched(proxy, errors, size=100) as conn:
        conn.write([*lines(3), 'cpu,host=h0 v="a string, after integers" 99', *lines(2, 3)])
        conn.flush()
    [(batch, error)] = errors
    assert isinstance(error, influxkit.PartialWriteError)
    assert batch.lines == ('cpu,host=h0 v="a string, after integers" 99',)
    assert count(direct) == 5


def test_an_outage_is_ridden_out(proxy, direct) -> None:
    proxy.down(1.0)
    with batched(proxy, size=1000, max_retries=100, **FAST_RETRY) as conn:
        conn.write(lines(3000))
        conn.flush(timeout=30)
        stats = conn.stats()
    assert count(direct) == 3000
    assert stats["retries"] > 0 and proxy.stats["down_refused"] > 0


def test_close_reports_what_it_could_not_deliver(proxy, direct) -> None:
    proxy.down(60)
    errors: list = []
    conn = batched(proxy, errors, size=100, max_retries=1000, close_timeout=0.3, **FAST_RETRY)
    conn.write(lines(250))
    started = time.monotonic()
    conn.close()
    assert time.monotonic() - started < 5  # bounded by close_timeout, not by the retries
    assert sum(len(b) for b, _ in errors) == 250
    assert all("closed before" in str(e) for _, e in errors)
    assert conn.stats()["points_failed"] == 250
    proxy.clear()
    with pytest.raises(influxkit.QueryError, match="not found"):
        count(direct)


def test_memory_stays_bounded_while_the_server_is_down(proxy, direct) -> None:
    proxy.down(60)
    options = {"size": 1000, "max_buffer_points": 5000, "overflow": "raise", "max_retries": 1000}
    with batched(proxy, **options, **FAST_RETRY) as conn:
        tracemalloc.start()
        try:
            refused = 0
            for i in range(50):
                try:
                    conn.write(lines(1000, start=i * 1000))
                except influxkit.BufferFull:
                    refused += 1
            held = conn.stats()["points_buffered"]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert refused == 45 and held == 5000
        # 5,000 buffered lines are ~150 KB; holding all 50,000 would be ten times that.
        assert peak < 3_000_000, peak
        proxy.clear()  # the server is back
        conn.flush(timeout=30)
    assert count(direct) == 5000


def test_block_overflow_waits_for_the_server_to_come_back(proxy, direct) -> None:
    proxy.down(0.5)
    options = {"size": 1000, "max_buffer_points": 1000, "block_timeout": 30, "max_retries": 1000}
    with batched(proxy, **options, **FAST_RETRY) as conn:
        conn.write(lines(1000))  # fills the buffer; undeliverable for now
        started = time.monotonic()
        conn.write(lines(1000, start=1000))  # blocks until the first batch is delivered
        assert time.monotonic() - started > 0.2
        conn.flush(timeout=30)
    assert count(direct) == 2000


def test_block_overflow_raises_buffer_full_after_block_timeout(proxy) -> None:
    proxy.down(60)
    errors: list = []
    options = {
        "size": 1000,
        "max_buffer_points": 1000,
        "block_timeout": 0.2,
        "max_retries": 1000,
        "close_timeout": 0.1,
    }
    with batched(proxy, errors, **options, **FAST_RETRY) as conn:
        conn.write(lines(1000))
        with pytest.raises(influxkit.BufferFull) as info:
            conn.write(lines(1000, start=1000))
        assert info.value.accepted == 0
    assert sum(len(b) for b, _ in errors) == 1000  # the first write, reported at close


def test_two_in_flight_deliver_everything(proxy, direct) -> None:
    proxy.set_random(reset=0.05, status_503=0.05, retry_after=0.01)
    with batched(proxy, size=500, max_in_flight=2, max_retries=50, **FAST_RETRY) as conn:
        writers = [
            threading.Thread(target=conn.write, args=(lines(5000, start=k * 5000),))
            for k in range(4)
        ]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        conn.flush(timeout=60)
    assert count(direct) == 20_000


def test_batch_flush_events_carry_bytes_before_and_after_gzip(proxy, direct) -> None:
    events: list = []
    handler = influxkit.telemetry.attach(events.append, kinds=["batch.flush"])
    try:
        with batched(proxy, size=5000) as conn:  # gzip above the default 1 KiB
            conn.write(lines(5000), wait=True)
    finally:
        influxkit.telemetry.detach(handler)
    [stop] = [e for e in events if e.name == "batch.flush.stop"]
    assert stop.points == 5000 and stop.attempt == 0
    assert 0 < stop.bytes_sent < stop.bytes / 3  # line protocol compresses well
    assert count(direct) == 5000

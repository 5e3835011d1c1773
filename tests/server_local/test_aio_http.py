"""The asyncio HTTP client against ``influxkit serve``: a real server on a loopback port.

Writes, queries, streams, errors, pools per event loop, a registered connection's twin
closed with it, a stalled server that does not stall the loop, Arrow Flight in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import influxkit
import influxkit.aio
from influxkit.aio import http as aio_http
from influxkit.server import ServerThread, running_server
from influxkit.testing.faultproxy import FaultProxy

pytestmark = pytest.mark.anyio

T0 = 1_767_225_600_000_000_000
# ~0.5 s of DataFusion work in the server (md5 of three million values).
SLOW_SQL = "SELECT count(*) AS n FROM range(0, 3000000) WHERE md5(CAST(value AS VARCHAR)) LIKE '0%'"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def proxy(server: ServerThread) -> Iterator[FaultProxy]:
    url = urlsplit(server.url)
    with FaultProxy(url.hostname or "127.0.0.1", url.port or 80, seed=3) as p:
        yield p


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    before = set(influxkit.registry.names())
    yield
    for name in set(influxkit.registry.names()) - before:
        influxkit.remove_connection(name)


class Ticker:
    """A coroutine that ticks every 10 ms while the block runs: the loop's pulse."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.started = self.took = 0.0

    async def _tick(self) -> None:
        while True:
            self.ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        self.started = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.took = time.perf_counter() - self.started
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def longest_gap(self) -> float:
        """The longest the loop went without ticking (the whole block if it never did)."""
        if len(self.ticks) < 2:
            return self.took
        return max(b - a for a, b in itertools.pairwise(self.ticks))


async def test_write_query_stream_and_formats(server: ServerThread) -> None:
    lines = [f"cpu,host=h{i % 3} usage={i}.5,n={i}i {T0 + i}" for i in range(30)]
    async with influxkit.aio.connect(server.url, database="db") as conn:
        outcome = await conn.write(lines)
        assert outcome.lines == 30 and outcome.requests == 1 and outcome.bytes_sent > 0
        rows = await conn.query_sql("SELECT n FROM cpu WHERE n < $k ORDER BY n", params={"k": 3})
        assert rows == [{"n": 0}, {"n": 1}, {"n": 2}]
        table = await conn.query_sql("SELECT * FROM cpu", format="arrow")
        assert table.num_rows == 30 and str(table.schema.field("time").type) == "timestamp[ns]"
        frame = await conn.query_sql("SELECT n FROM cpu", format="pandas")
        assert len(frame) == 30
        streamed = [r["n"] async for r in conn.query_sql_stream("SELECT n FROM cpu ORDER BY n")]
        assert streamed == list(range(30))
        batches = [b async for b in conn.query_sql_stream("SELECT n FROM cpu", format="arrow")]
        assert sum(b.num_rows for b in batches) == 30
        influxql = await conn.query_influxql("SELECT n FROM cpu WHERE n = 5")
        assert [r["n"] for r in influxql] == [5]
        assert "db" in await conn.list_databases()
        health = await conn.health()
        assert health["status"] == "pass" and health["version"]
        with pytest.raises(influxkit.QueryError) as info:
            await conn.query_sql("SELECT * FROM nope")
        assert info.value.status == 400 and info.value.operation == "query_sql"
        with pytest.raises(influxkit.PartialWriteError) as partial:
            await conn.write([f"cpu n=1i {T0}", f"cpu n=oops {T0}"])
        assert [e.line_number for e in partial.value.line_errors] == [2]
        stats = conn.stats()
    assert stats["writes"] == 1 and stats["queries"] == 6 and stats["query_errors"] == 1


async def test_a_large_answer_is_decoded_in_a_thread(server: ServerThread, monkeypatch) -> None:
    async with influxkit.aio.connect(server.url, database="db") as conn:
        await conn.write([f"m v={i}i {T0 + i}" for i in range(2000)])
        inline = await conn.query_sql("SELECT v FROM m ORDER BY v")
        monkeypatch.setattr(aio_http, "DECODE_IN_THREAD_BYTES", 0)
        threaded = await conn.query_sql("SELECT v FROM m ORDER BY v")
        assert threaded == inline and len(threaded) == 2000
        assert await conn.list_databases() == ["_internal", "db"]  # a plan that ends threaded


async def test_a_bad_token_is_an_auth_error(auth_server: ServerThread) -> None:
    async with influxkit.aio.connect(auth_server.url, database="db", token="wrong") as conn:
        with pytest.raises(influxkit.AuthError) as info:
            await conn.write("m v=1 1")
        assert info.value.status == 401


async def test_nothing_listening_is_a_transport_error() -> None:
    async with influxkit.aio.connect("http://127.0.0.1:9", database="db", timeout=2) as conn:
        with pytest.raises(influxkit.TransportError) as info:
            await conn.health()
        assert info.value.retryable and info.value.operation == "health"


async def test_a_stalled_server_does_not_stall_the_loop(proxy: FaultProxy) -> None:
    proxy.stall_next(seconds=0.5)
    async with influxkit.aio.connect(proxy.url, database="db") as conn, Ticker() as pulse:
        started = time.perf_counter()
        await conn.write("m v=1 1")
        took = time.perf_counter() - started
    assert took >= 0.5 and proxy.stats["stalled"] == 1
    assert pulse.longest_gap < 0.1 and len(pulse.ticks) >= 30


async def test_the_client_timeout_applies(proxy: FaultProxy) -> None:
    proxy.stall_next(seconds=1.0)
    async with influxkit.aio.connect(proxy.url, database="db", timeout=0.2) as conn:
        with pytest.raises(influxkit.TransportError, match="no answer within the timeout"):
            await conn.query_sql("SELECT 1")


async def test_concurrent_coroutines_share_one_pool(proxy: FaultProxy) -> None:
    async with influxkit.aio.connect(proxy.url, database="db", pool_size=4) as conn:

        async def one(k: int) -> int:
            await conn.write(f"c,k=w{k} v={k}i {T0}")
            return len(await conn.query_sql("SELECT * FROM c WHERE k = $k", params={"k": f"w{k}"}))

        assert await asyncio.gather(*(one(k) for k in range(40))) == [1] * 40
    assert proxy.stats["connections"] <= 4  # the pool's bound holds across coroutines


def test_a_registered_connection_serves_one_asyncio_run_after_another(server) -> None:
    influxkit.add_connection("runs", server.url, database="db")

    async def write_and_count(i: int) -> int:
        await influxkit.aio.write("runs", f"r v={i}i {T0 + i}")
        return (await influxkit.aio.query_sql("runs", "SELECT count(*) AS n FROM r"))[0]["n"]

    assert [asyncio.run(write_and_count(i)) for i in range(3)] == [1, 2, 3]
    twin = influxkit.aio.connection("runs")
    assert twin._loops.values() == []  # each run's pool closed with its loop
    assert influxkit.query_sql("runs", "SELECT count(*) AS n FROM r") == [{"n": 3}]


async def test_sync_remove_connection_closes_the_async_pools(server) -> None:
    influxkit.add_connection("pools", server.url, database="db")
    await influxkit.aio.health("pools")
    twin = influxkit.aio.connection("pools")
    [state] = twin._loops.values()
    assert state.client._client is not None
    influxkit.remove_connection("pools")  # sync, from inside the loop
    for _ in range(50):
        if state.client._client is None:
            break
        await asyncio.sleep(0.01)
    assert state.client._client is None and twin.closed and twin._loops.values() == []
    with pytest.raises(influxkit.InfluxError, match="is closed"):
        await influxkit.aio.health(twin)


def test_closing_from_another_thread_closes_a_running_loop_s_pool(server) -> None:
    sync = influxkit.connect(server.url, database="db")
    twin = influxkit.aio.connection(sync)
    closed: list[bool] = []

    async def main() -> None:
        await twin.health()
        [state] = twin._loops.values()
        await asyncio.to_thread(sync.close)  # the close hook runs off the loop's thread
        closed.append(state.client._client is None)

    asyncio.run(main())
    assert closed == [True]


async def test_flight_queries_run_in_threads() -> None:
    with running_server(databases=["db"], flight_port=0) as srv:
        options = {"database": "db", "transport": "flight", "flight_port": srv.flight_port}
        async with influxkit.aio.connect(srv.url, **options) as conn:
            await conn.write([f"f,k=a v={i}i {T0 + i}" for i in range(5000)])  # over HTTP
            rows = await conn.query_sql("SELECT v FROM f ORDER BY v")
            assert [r["v"] for r in rows] == list(range(5000))
            async with Ticker() as pulse:  # a slow Flight call: the loop keeps ticking
                assert (await conn.query_sql(SLOW_SQL))[0]["n"] > 0
            streamed = [r async for r in conn.query_sql_stream("SELECT v FROM f")]
            assert len(streamed) == 5000
            table = await conn.query_influxql("SELECT v FROM f", format="arrow")
            assert table.num_rows == 5000
            assert conn._flight is not None  # the Flight client, made on the first query
            http = await conn.query_sql("SELECT count(*) AS n FROM f", transport="http")
            assert http == [{"n": 5000}]
        assert pulse.took > 0.2 and pulse.longest_gap < 0.1, (pulse.took, pulse.longest_gap)


async def test_transport_auto_falls_back_to_http_once(server, caplog) -> None:
    async with influxkit.aio.connect(server.url, database="db", transport="auto") as conn:
        await conn.write(f"a v=1i {T0}")
        assert await conn.query_sql("SELECT v FROM a") == [{"v": 1}]  # no Flight: HTTP
        assert conn._auto is False
        assert [r async for r in conn.query_sql_stream("SELECT v FROM a")] == [{"v": 1}]
    assert "Arrow Flight is not usable" in caplog.text

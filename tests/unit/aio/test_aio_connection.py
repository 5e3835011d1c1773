"""AsyncConnection on the local engine: the sync contract as coroutines, in worker threads."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import subprocess
import sys
import threading
import time

import pytest

import influxkit
import influxkit.aio
from influxkit.aio import AsyncConnection

pytestmark = pytest.mark.anyio

# ~0.5 s of DataFusion work on the test machine (md5 of three million values).
SLOW_SQL = "SELECT count(*) AS n FROM range(0, 3000000) WHERE md5(CAST(value AS VARCHAR)) LIKE '0%'"


def local(**options) -> AsyncConnection:
    return influxkit.aio.connect(client="local", database="db", **options)


class Ticker:
    """A coroutine that ticks every ``every`` seconds while the block runs: the loop's pulse."""

    def __init__(self, every: float = 0.01) -> None:
        self.every = every
        self.ticks: list[float] = []
        self.started = self.took = 0.0

    async def _tick(self) -> None:
        while True:
            self.ticks.append(time.perf_counter())
            await asyncio.sleep(self.every)

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


async def test_write_then_read_back_every_way() -> None:
    async with local() as conn:
        outcome = await conn.write(["cpu,host=a v=1i 1", "cpu,host=b v=2i 2"])
        assert outcome.lines == 2 and not outcome.buffered and outcome.bytes > 0
        assert await conn.query_sql("SELECT host, v FROM cpu ORDER BY v") == [
            {"host": "a", "v": 1},
            {"host": "b", "v": 2},
        ]
        table = await conn.query_sql("SELECT v FROM cpu", format="arrow")
        assert table.num_rows == 2
        rows = [row async for row in conn.query_sql_stream("SELECT v FROM cpu ORDER BY v")]
        assert [r["v"] for r in rows] == [1, 2]
        batches = [b async for b in conn.query_sql_stream("SELECT v FROM cpu", format="arrow")]
        assert sum(b.num_rows for b in batches) == 2
        params = await conn.query_sql("SELECT v FROM cpu WHERE host = $h", params={"h": "b"})
        assert params == [{"v": 2}]
        stats = conn.stats()
    assert stats["writes"] == 1 and stats["points_written"] == 2 and stats["queries"] == 5


async def test_a_table_is_written_column_by_column() -> None:
    import pyarrow as pa

    table = pa.table({"host": ["a", "b"], "v": [1.5, 2.5], "t": [1, 2]})
    async with local() as conn:
        outcome = await conn.write(
            table, measurement="cpu", tag_columns=["host"], timestamp_column="t"
        )
        assert outcome.lines == 2
        rows = await conn.query_sql("SELECT host, v FROM cpu ORDER BY v")
        assert rows == [{"host": "a", "v": 1.5}, {"host": "b", "v": 2.5}]
        with pytest.raises(influxkit.ConfigError, match="for writing a table"):
            await conn.write("cpu v=1 1", measurement="cpu")


async def test_a_long_stream_arrives_whole_and_in_order() -> None:
    async with local() as conn:
        await conn.write([f"big v={i}i {i + 1}" for i in range(12_345)])
        seen = [r["v"] async for r in conn.query_sql_stream("SELECT v FROM big ORDER BY v")]
    assert seen == list(range(12_345))  # several trips to the worker thread


async def test_closing_a_stream_early_lets_go_of_it() -> None:
    async with local() as conn:
        await conn.write([f"big v={i}i {i + 1}" for i in range(5000)])
        async with conn.query_sql_stream("SELECT v FROM big ORDER BY v") as stream:
            first = await stream.__anext__()
        assert first == {"v": 0}
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()


async def test_administration_and_health() -> None:
    async with local() as conn:
        await conn.create_database("other")
        assert await conn.list_databases() == ["db", "other"]
        with pytest.raises(influxkit.ServerError) as info:
            await conn.create_database("other")
        assert info.value.status == 409 and info.value.operation == "create_database"
        await conn.delete_database("other")
        with pytest.raises(influxkit.DatabaseNotFound):
            await conn.delete_database("other")
        token = await conn.create_token("ci")
        assert token["token"].startswith("apiv3_")
        await conn.delete_token("ci")
        assert (await conn.health())["status"] == "pass"


async def test_errors_are_the_sync_ones_tagged_with_operation_and_connection() -> None:
    conn = influxkit.aio.connect(client="local", database="db", name="tagged")
    async with conn:
        with pytest.raises(influxkit.QueryError) as info:
            await conn.query_sql("SELECT * FROM nowhere")
        assert info.value.operation == "query_sql" and info.value.connection == "tagged"
        with pytest.raises(influxkit.QueryError):
            async for _ in conn.query_sql_stream("SELECT * FROM nowhere"):
                pass
        with pytest.raises(influxkit.PartialWriteError) as partial:
            await conn.write(["m v=1i 1", "m v= 2"])
        assert [r.record for r in partial.value.rejected] == [1]  # mapped to the record
        with pytest.raises(influxkit.InvalidRecord):
            await conn.write(influxkit.Point("m").field("v", float("nan")))
        with pytest.raises(influxkit.ConfigError, match="invalid format"):
            await conn.query_sql("SELECT 1", format="xml")  # type: ignore[arg-type]
        stats = conn.stats()
    assert stats["query_errors"] == 2 and stats["write_errors"] == 1


async def test_the_profile_is_checked_before_anything_is_sent() -> None:
    async with influxkit.aio.connect(client="local", profile="v1", database="db") as conn:
        with pytest.raises(influxkit.UnsupportedOperation):
            await conn.create_token("x")


async def test_a_database_is_needed() -> None:
    async with influxkit.aio.connect(client="local") as conn:
        with pytest.raises(influxkit.ConfigError, match="needs a database"):
            await conn.write("m v=1 1")


async def test_a_closed_connection_refuses_work_and_closing_twice_is_fine() -> None:
    conn = local()
    await conn.write("m v=1 1")
    await conn.close()
    await conn.close()
    assert conn.closed and "closed" in repr(conn)
    with pytest.raises(influxkit.InfluxError, match="is closed"):
        await conn.query_sql("SELECT 1")


async def test_a_slow_query_does_not_block_the_loop() -> None:
    async with local() as conn:
        await conn.write("m v=1 1")
        async with Ticker() as pulse:
            await conn.query_sql(SLOW_SQL)
    assert pulse.took > 0.2, pulse.took  # long enough that a blocked loop would show
    assert pulse.longest_gap < 0.1, (pulse.took, pulse.longest_gap)
    assert len(pulse.ticks) >= pulse.took / 0.05


async def test_a_big_write_is_encoded_without_blocking_the_loop() -> None:
    points = [influxkit.Point("p").tag("k", str(i % 9)).field("v", i).time(i) for i in range(60000)]
    async with local() as conn:
        async with Ticker(0.005) as pulse:
            await conn.write(points)
        assert (await conn.query_sql("SELECT count(*) AS n FROM p")) == [{"n": 60_000}]
    assert pulse.longest_gap < max(0.1, pulse.took / 3), (pulse.took, pulse.longest_gap)


def test_one_connection_serves_one_loop_after_another() -> None:
    conn = local()

    async def write_and_count(i: int) -> int:
        await conn.write(f"m v={i}i {i + 1}")
        return (await conn.query_sql("SELECT count(*) AS n FROM m"))[0]["n"]

    assert [asyncio.run(write_and_count(i)) for i in range(3)] == [1, 2, 3]
    assert conn._loops.values() == []  # each loop's state closed when its loop ended
    asyncio.run(conn.close())


def test_used_from_two_threads_loops_at_once() -> None:
    conn = local()
    counts: list[int] = []

    def run(k: int) -> None:
        async def main() -> None:
            for i in range(20):
                await conn.write(f"m,k=t{k} v={i}i {i + 1}")
            counts.append(len(await conn.query_sql(f"SELECT v FROM m WHERE k = 't{k}'")))

        asyncio.run(main())

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [20, 20, 20]
    asyncio.run(conn.close())


def test_off_a_loop_it_says_what_is_wrong() -> None:
    conn = local()
    with pytest.raises(influxkit.InfluxError, match="running event loop"):
        conn._state("query_sql")
    asyncio.run(conn.close())


def test_the_async_connection_mirrors_the_sync_one() -> None:
    ops = {
        "write", "flush", "query_sql", "query_sql_stream", "execute_sql", "query_influxql",
        "query_flux", "create_database", "list_databases", "delete_database", "create_bucket",
        "list_buckets", "delete_bucket", "create_token", "delete_token", "health", "stats",
        "close", "server_info",
    }  # fmt: skip
    plain = {"query_sql_stream", "stats"}
    for op in ops:
        sync, aio = getattr(influxkit.Connection, op), getattr(AsyncConnection, op)
        assert inspect.iscoroutinefunction(aio) is (op not in plain), op
        assert list(inspect.signature(aio).parameters) == list(
            inspect.signature(sync).parameters
        ), op
        if op != "close":
            facade = getattr(influxkit.aio, op)
            assert inspect.iscoroutinefunction(facade) is (op not in plain), op
            assert list(inspect.signature(facade).parameters) == list(
                inspect.signature(getattr(influxkit, op)).parameters
            ), op


def test_importing_influxkit_does_not_import_aio_and_aio_imports_no_httpx() -> None:
    code = (
        "import sys, influxkit\n"
        "print('influxkit.aio' in sys.modules)\n"
        "import influxkit.aio\n"
        "print(sorted({'httpx', 'pyarrow', 'datafusion'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "[]"]

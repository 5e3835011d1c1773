"""The asyncio batch writer: the sync writer's tests, run again over the async API.

The test functions (and their fixtures) of ``tests/unit/batching/test_batch.py`` are
collected here a second time, with ``influxkit.connect`` opening an
:class:`influxkit.aio.AsyncConnection` (its writer: asyncio tasks) driven blocking by
:class:`~influxkit.aio.blocking.BlockingConnection`: the same behaviours, checked by
the same code. The tests after them are about what only the async writer has.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

import influxkit
import influxkit.aio
from influxkit.aio.blocking import BlockingConnection


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_sync = _load(Path(__file__).parents[1] / "batching" / "test_batch.py", "_sync_batch_tests")
# About the sync facade and registry, or the sync connection's internals: not the writer.
_SYNC_ONLY = {"test_facade_write_and_flush_by_name", "test_remove_connection_and_close_flush_first"}
for _name, _value in vars(_sync).items():
    if (_name.startswith("test_") and _name not in _SYNC_ONLY) or hasattr(
        _value, "_fixture_function_marker"
    ):
        globals()[_name] = _value
errors = _sync.errors  # the fixture, by name, for the reused tests


def blocking_connect(url: str | None = None, **options: Any) -> BlockingConnection:
    return BlockingConnection(influxkit.aio.connect(url, **options))


@pytest.fixture(autouse=True)
def _async_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """``influxkit.connect`` opens an async connection for the tests of this module."""
    monkeypatch.setattr(influxkit, "connect", blocking_connect)


def test_the_reused_tests_run_over_the_async_writer() -> None:
    with influxkit.connect(client="local", database="db", batch={"size": 10}) as conn:
        assert isinstance(conn, BlockingConnection)
        conn.write("cpu v=1i 1")
        writers = [s.writer for s in conn.aio._loops.values()]
        assert len(writers) == 1 and type(writers[0]).__name__ == "AsyncBatchWriter"
        names = [t.get_name() for t in conn.run(_tasks())]
        assert any(n.startswith("influxkit-writer") for n in names)
        assert not [t for t in threading.enumerate() if t.name.startswith("influxkit-writer")]


async def _tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks()


# -- only the async writer -------------------------------------------------------------


def local(**batch: Any) -> influxkit.aio.AsyncConnection:
    return influxkit.aio.connect(client="local", database="db", batch=batch)


def count(conn: influxkit.aio.AsyncConnection) -> int:
    engine = conn._engine.sync  # type: ignore[union-attr]  # the engine outlives the loop
    return engine.query_sql("SELECT count(*) AS n FROM cpu", database="db", params=None,
                            format="rows")[0]["n"]  # fmt: skip


def test_the_end_of_asyncio_run_flushes_what_is_buffered() -> None:
    conn = local(size=100_000, flush_interval=3600)

    async def main() -> None:
        await conn.write([f"cpu v={i}i {i + 1}" for i in range(500)])
        assert conn.stats()["points_buffered"] == 500  # nothing sent yet

    asyncio.run(main())  # no close(): the loop's shutdown closes its writer
    assert count(conn) == 500 and conn.stats()["points_written"] == 500
    asyncio.run(conn.close())


def test_each_loop_has_its_own_writer_and_counters_are_shared() -> None:
    conn = local(size=10, flush_interval=0.01)

    async def main(k: int) -> None:
        await conn.write([f"cpu,k=r{k} v={i}i {i + 1}" for i in range(25)], wait=True)

    for k in range(3):
        asyncio.run(main(k))
    assert count(conn) == 75
    stats = conn.stats()
    assert stats["points_written"] == 75 and stats["writes"] == 3 and stats["requests"] == 9
    asyncio.run(conn.close())


@pytest.mark.anyio
async def test_an_async_on_error_is_awaited_on_the_loop() -> None:
    seen: list[tuple[int, str]] = []
    loop = asyncio.get_running_loop()

    async def on_error(batch, error) -> None:
        assert asyncio.get_running_loop() is loop
        await asyncio.sleep(0)
        seen.append((len(batch), type(error).__name__))

    async with local(size=10, on_error=on_error) as conn:
        await conn.write('cpu v=1i 1\ncpu v="x" 2')
        await conn.flush()
    assert seen == [(1, "PartialWriteError")]


@pytest.mark.anyio
async def test_a_plain_on_error_runs_in_a_worker_thread() -> None:
    threads: list[str] = []

    def on_error(batch, error) -> None:
        threads.append(threading.current_thread().name)

    async with local(size=10, on_error=on_error) as conn:
        await conn.write('cpu v=1i 1\ncpu v="x" 2')
        await conn.flush()
    assert len(threads) == 1 and threads[0] != threading.current_thread().name


@pytest.mark.anyio
async def test_a_write_waiting_for_room_does_not_block_the_loop() -> None:
    async with local(size=100, max_buffer_points=150, flush_interval=60, block_timeout=5) as conn:
        await conn.write([f"cpu v={i}i {i + 1}" for i in range(90)])  # no full batch: it waits
        waiting = asyncio.create_task(conn.write([f"cpu v={i}i {i + 1}" for i in range(90, 180)]))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # blocked: 180 > 150, yet this coroutine runs
        await conn.flush()  # makes room
        await waiting
        await conn.flush()
        assert (await conn.query_sql("SELECT count(*) AS n FROM cpu")) == [{"n": 180}]


@pytest.mark.anyio
async def test_a_cancelled_waiting_write_leaves_the_writer_sound(caplog) -> None:
    release = threading.Event()
    async with local(size=1000, on_error=lambda b, e: release.wait(10)) as conn:
        await conn.write("cpu v=1i 1", wait=True)
        # A rejected line: its batch is not finished until on_error (held) returns.
        task = asyncio.create_task(conn.write('cpu v="x" 2', wait=True))
        await asyncio.sleep(0.05)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        await conn.write("cpu v=3i 3", wait=True)
        assert (await conn.query_sql("SELECT count(*) AS n FROM cpu")) == [{"n": 2}]
        assert conn._loops.values()[0].writer._core.waiting == {}  # no waiter left behind
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

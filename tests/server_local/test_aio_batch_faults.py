"""The asyncio batch writer through the fault proxy: the sync writer's fault tests, again.

The tests of ``test_batch_faults.py`` (resets, 5xx, 429 with ``Retry-After``, outages,
exhausted retries, 4xx, partial writes, close, memory bounds, ``max_in_flight``) are
collected here a second time with ``influxkit.connect`` opening an
:class:`influxkit.aio.AsyncConnection` over ``httpx.AsyncClient`` (its writer: asyncio
tasks), driven blocking by :class:`~influxkit.aio.blocking.BlockingConnection`. Then
what only the async writer has: a batch cut off by the loop's shutdown.
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import pytest

import influxkit
import influxkit.aio
from influxkit.aio.blocking import BlockingConnection
from influxkit.testing.faultproxy import FaultProxy


def _load(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_sync = _load(Path(__file__).parent / "test_batch_faults.py", "_sync_batch_fault_tests")
# The 200k-point run is the sync suite's soak test; the same paths are covered below.
_SLOW = {"test_200k_points_through_random_faults_all_arrive"}
for _name, _value in vars(_sync).items():
    if (_name.startswith("test_") and _name not in _SLOW) or hasattr(
        _value, "_fixture_function_marker"
    ):
        globals()[_name] = _value
proxy, direct = _sync.proxy, _sync.direct  # the fixtures, by name, for the reused tests


def blocking_connect(url: str | None = None, **options: Any) -> BlockingConnection:
    return BlockingConnection(influxkit.aio.connect(url, **options))


@pytest.fixture(autouse=True)
def _async_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(influxkit, "connect", blocking_connect)


def test_20k_points_through_random_faults_all_arrive(proxy: FaultProxy, direct) -> None:
    proxy.set_random(reset=0.05, reset_after_forward=0.05, status_503=0.05, retry_after=0.05)
    errors: list = []
    options = {"size": 1000, "max_retries": 50, "max_in_flight": 2, **_sync.FAST_RETRY}
    with _sync.batched(proxy, errors, timeout=2, **options) as conn:
        assert isinstance(conn, BlockingConnection)
        for k in range(20):
            conn.write(_sync.lines(1000, start=k * 1000))
        conn.flush(timeout=60)
        stats = conn.stats()
    assert errors == [] and _sync.count(direct) == 20_000
    assert stats["points_written"] == 20_000 and stats["retries"] > 0


def test_a_batch_cut_off_by_the_end_of_the_loop_is_sent_by_its_flush(proxy, direct) -> None:
    proxy.stall_next(seconds=0.5)  # the first request hangs while asyncio.run ends
    conn = influxkit.aio.connect(proxy.url, database="db", batch={"size": 100})

    async def main() -> None:
        await conn.write(_sync.lines(100))  # a full batch: its sender starts at once
        await asyncio.sleep(0.1)  # ...and is inside the stalled request when main ends

    asyncio.run(main())  # cancels the sender; the loop's shutdown closes (flushes) the writer
    assert _sync.count(direct) == 100
    stats = conn.stats()
    assert stats["points_written"] == 100 and stats["points_failed"] == 0
    asyncio.run(conn.close())

"""The async paths emit the sync paths' telemetry: the sync wiring tests, run over aio.

The tests of ``tests/unit/core/test_telemetry_wiring.py`` are collected here again
with ``influxkit.connect`` opening an :class:`influxkit.aio.AsyncConnection` (driven
blocking by :class:`~influxkit.aio.blocking.BlockingConnection`): the events must be
the same, field for field.
"""

from __future__ import annotations

import importlib.util
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


_sync = _load(
    Path(__file__).parents[1] / "core" / "test_telemetry_wiring.py", "_sync_telemetry_tests"
)
_SYNC_ONLY = {"test_named_connections_are_named_in_events"}  # the sync facade: below for aio
for _name, _value in vars(_sync).items():
    if (_name.startswith("test_") and _name not in _SYNC_ONLY) or hasattr(
        _value, "_fixture_function_marker"
    ):
        globals()[_name] = _value
events = _sync.events  # the fixture, by name, for the reused tests


def blocking_connect(url: str | None = None, **options: Any) -> BlockingConnection:
    return BlockingConnection(influxkit.aio.connect(url, **options))


@pytest.fixture(autouse=True)
def _async_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(influxkit, "connect", blocking_connect)


@pytest.mark.anyio
async def test_a_registered_name_is_named_in_the_events_of_async_calls(events) -> None:
    influxkit.add_connection("tele", client="local", database="db")
    try:
        await influxkit.aio.write("tele", "cpu v=1i 1")
        await influxkit.aio.query_sql("tele", "SELECT * FROM cpu")
    finally:
        await influxkit.aio.remove_connection("tele")
    assert [(e.name, e.connection) for e in events if e.kind in ("write", "query")] == [
        ("write.start", "tele"),
        ("write.stop", "tele"),
        ("query.start", "tele"),
        ("query.stop", "tele"),
    ]

"""Fixtures of the asyncio API tests: coroutine tests run by anyio's pytest plugin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from influxkit import registry


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only (influxkit.aio is asyncio code); a fresh loop per test."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    before = set(registry.names())
    yield
    for name in set(registry.names()) - before:
        conn = registry.delete(name)
        if conn is not None:
            conn.close()

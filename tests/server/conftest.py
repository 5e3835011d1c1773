"""Fixtures for tests against a real InfluxDB 1.x server (Debian's ``influxdb``, 1.6.7).

``influxdb1`` starts one private ``influxd`` per session (loopback, free ports, data in a
temporary folder; see :mod:`influxkit.testing.influxd`).  Without ``influxd`` the tests
skip locally, and fail in CI (``CI`` set), where the server is part of the contract.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest

import influxkit
from influxkit.testing.influxd import InfluxdServer

_counter = itertools.count()


@pytest.fixture
def v1_db(influxdb1: InfluxdServer) -> str:
    """A fresh, unique database name (not created)."""
    return f"t{next(_counter)}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def v1_conn(influxdb1: InfluxdServer, v1_db: str) -> Iterator[influxkit.Connection]:
    """A v1 connection to ``influxdb1`` whose database is created before and dropped after."""
    conn = influxkit.connect(influxdb1.url, api_version="v1", database=v1_db)
    try:
        conn.create_database(v1_db)
    except BaseException:
        conn.close()
        raise
    try:
        yield conn
    finally:
        try:
            conn.delete_database(v1_db)
        finally:
            conn.close()

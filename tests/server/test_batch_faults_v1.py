"""The batch writer into a real InfluxDB 1.x through the fault proxy: every point arrives."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import influxkit
from influxkit.testing.faultproxy import SOAK_FAULTS, FaultProxy
from influxkit.testing.influxd import InfluxdServer


@pytest.fixture
def proxy(influxdb1: InfluxdServer) -> Iterator[FaultProxy]:
    url = urlsplit(influxdb1.url)
    with FaultProxy(url.hostname or "127.0.0.1", url.port or 8086, seed=11) as p:
        yield p


def test_200k_points_through_random_faults_into_influxdb_1x(
    proxy: FaultProxy, v1_conn: influxkit.Connection, v1_db: str
) -> None:
    proxy.set_random(**SOAK_FAULTS)
    errors: list = []
    options = {
        "size": 5000,
        "max_retries": 50,
        "retry_interval": 0.02,
        "max_retry_interval": 0.2,
        "on_error": lambda b, e: errors.append((len(b), e)),
    }
    with influxkit.connect(
        proxy.url, api_version="v1", database=v1_db, timeout=5, batch=options
    ) as conn:
        for k in range(40):
            base = k * 5000
            conn.write([f"cpu,host=h{i % 10} v={base + i}i {base + i + 1}" for i in range(5000)])
        conn.flush(timeout=120)
        stats = conn.stats()
    assert errors == []
    rows = v1_conn.query_influxql("SELECT count(v) FROM cpu")
    assert rows[0]["count"] == 200_000
    assert stats["points_written"] == 200_000 and stats["retries"] > 0
    assert sum(proxy.injected.values()) > 0


def test_1x_partial_write_hands_the_batch_to_on_error(
    proxy: FaultProxy, v1_conn: influxkit.Connection, v1_db: str
) -> None:
    # 1.x names no line in a partial write ("... dropped=1"), so the whole batch is handed
    # over, with the server's error.
    errors: list = []
    options = {"size": 100, "on_error": lambda b, e: errors.append((b, e))}
    with influxkit.connect(proxy.url, api_version="v1", database=v1_db, batch=options) as conn:
        conn.write("cpu v=1i 1", wait=True)
        conn.write("cpu v=2i 2\ncpu v=2.5 3")
        conn.flush()
    [(batch, error)] = errors
    assert isinstance(error, influxkit.PartialWriteError)
    assert "dropped=1" in str(error)
    assert batch.lines == ("cpu v=2i 2", "cpu v=2.5 3")  # the whole batch, the good line too

"""Server detection against the real InfluxDB 1.x (Debian's influxd 1.6.7).

What 1.6.7 really answers (measured, reference 4.5): ``/ping`` 204 with no body, also
with ``?verbose=true``; the version only in ``X-Influxdb-Version``; no ``/health`` (404);
``/ping`` open even with authentication on. influxkit reads that as InfluxDB 1.x, takes
its endpoints with ``api_version="auto"``, and refuses a v3 connection at its first
operation with a message that names the fix, before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

import influxkit
import influxkit.aio
from influxkit.testing.faultproxy import FaultProxy
from influxkit.testing.influxd import InfluxdServer

_names = itertools.count()


@contextlib.contextmanager
def proxied(server: InfluxdServer, mount: str | None = None) -> Iterator[FaultProxy]:
    """A recording proxy in front of ``server`` (under ``mount`` if given)."""
    url = urlsplit(server.url)
    with FaultProxy(url.hostname or "127.0.0.1", url.port or 8086, mount=mount) as proxy:
        yield proxy


def fresh_db() -> str:
    return f"si{next(_names)}_{uuid.uuid4().hex[:8]}"


def test_detected_as_1x_with_its_version(influxdb1: InfluxdServer) -> None:
    raw = httpx.get(f"{influxdb1.url}/ping")
    assert (raw.status_code, raw.content) == (204, b"")
    assert httpx.get(f"{influxdb1.url}/health").status_code == 404  # no /health in 1.6
    with influxkit.connect(influxdb1.url, api_version="v1") as conn:
        info = influxkit.server_info(conn)
    assert info.product == "InfluxDB 1.x OSS"
    assert info.version == raw.headers["x-influxdb-version"]
    assert info.version.startswith("1.")
    assert (info.build, info.api_version, info.profile) == ("OSS", "v1", "v1")
    assert info.evidence == (
        f"GET /ping: 204, X-Influxdb-Version: {info.version}, X-Influxdb-Build: OSS"
    )
    assert not info.speaks("v2") and not info.speaks("v3")  # 1.6 has no /api/v2/write


def test_auto_writes_and_queries_through_the_1x_endpoints(influxdb1: InfluxdServer) -> None:
    db = fresh_db()
    with (
        proxied(influxdb1) as proxy,
        influxkit.connect(proxy.url, api_version="auto", database=db) as conn,
    ):
        conn.create_database(db)
        try:
            conn.write(["cpu,host=a usage=0.5 1700000000000000000", "cpu,host=b usage=1.5 1"])
            rows = conn.query_influxql("SELECT usage FROM cpu WHERE host = 'a'")
            assert [r["usage"] for r in rows] == [0.5]
            assert db in conn.list_databases()
            assert conn.health()["status"] == "pass"
            assert conn.profile.name == "v1" and conn.server_info().api_version == "v1"
        finally:
            conn.delete_database(db)
    seen = proxy.seen
    assert seen[0] == "GET /ping" and seen.count("GET /ping") == 2  # detection, then health()
    assert any(line.startswith("POST /write?") for line in seen)
    assert any(line.startswith(("GET /query?", "POST /query")) for line in seen)
    assert not any("/api/v3/" in line or "/api/v2/" in line for line in seen)


def test_asyncio_auto_uses_the_1x_endpoints_too(influxdb1: InfluxdServer) -> None:
    db = fresh_db()

    async def main(url: str) -> None:
        async with influxkit.aio.connect(url, api_version="auto", database=db) as conn:
            await conn.create_database(db)
            try:
                await conn.write("cpu v=2i 1")
                assert [r["v"] for r in await conn.query_influxql("SELECT v FROM cpu")] == [2]
            finally:
                await conn.delete_database(db)

    with proxied(influxdb1) as proxy:
        asyncio.run(main(proxy.url))
    assert any(line.startswith("POST /write?") for line in proxy.seen)


@pytest.mark.parametrize("options", [{}, {"api_version": "v3"}, {"api_version": "v2"}])
def test_a_v3_or_v2_connection_fails_its_first_operation(
    influxdb1: InfluxdServer, options: dict
) -> None:
    api = options.get("api_version", "v3")
    with (
        proxied(influxdb1) as proxy,
        influxkit.connect(proxy.url, database="db", **options) as conn,
    ):
        with pytest.raises(influxkit.ServerMismatch) as info:
            conn.write("cpu v=1 1")
        err = info.value
        message = str(err)
        assert err.operation == "write"
        assert f"is InfluxDB 1.x OSS {err.found.version}" in message
        assert f"expects InfluxDB {'3' if api == 'v3' else '2.x'} (api_version={api!r})" in message
        assert "set api_version='v1' (or api_version='auto' to follow the server)" in message
        with pytest.raises(influxkit.ServerMismatch):
            conn.query_sql("SELECT 1") if api == "v3" else conn.query_influxql("SHOW DATABASES")
    assert proxy.seen == ["GET /ping"]  # nothing else was sent


def test_without_the_check_the_old_error_comes(influxdb1: InfluxdServer) -> None:
    with (
        influxkit.connect(influxdb1.url, database="db", check_server=False) as conn,
        pytest.raises(influxkit.ServerError, match="no such endpoint on this server") as info,
    ):
        conn.write("cpu v=1 1")
    assert not isinstance(info.value, influxkit.ServerMismatch)


def test_the_1x_endpoints_under_a_path_prefix(influxdb1: InfluxdServer) -> None:
    db = fresh_db()
    with proxied(influxdb1, mount="/influx") as proxy:
        with influxkit.connect(f"{proxy.url}/influx/", api_version="v1", database=db) as conn:
            assert conn.server_info().product == "InfluxDB 1.x OSS"
            conn.create_database(db)
            try:
                conn.write("cpu v=3i 1")
                assert [r["v"] for r in conn.query_influxql("SELECT v FROM cpu")] == [3]
                assert db in conn.list_databases()
                assert conn.health()["status"] == "pass"
            finally:
                conn.delete_database(db)
        assert proxy.outside_mount == 0
        assert all(line.split(" ")[1].startswith("/influx/") for line in proxy.seen)
        with (
            influxkit.connect(proxy.url, api_version="v1", database=db) as wrong,
            pytest.raises(influxkit.ServerMismatch, match="path_prefix"),
        ):
            wrong.write("cpu v=1i 1")

"""A connection URL with a path (``http://host/influx/``): every HTTP endpoint goes under it.

``influxkit serve`` sits behind :class:`FaultProxy` with ``mount="/influx"``, which
forwards ``/influx/...`` without the prefix and answers anything else with a web
server's HTML 404, so an endpoint that forgot the prefix fails loudly. The proxy's
record of request lines shows every request went under the prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

import influxkit
import influxkit.aio
from influxkit.clients import http as http_client
from influxkit.server import ServerThread, running_server
from influxkit.testing.faultproxy import FaultProxy

TOKEN = "apiv3_prefix-token"
T0 = 1_700_000_000_000_000_000


@contextlib.contextmanager
def mounted(profile: str) -> Iterator[tuple[ServerThread, FaultProxy, str]]:
    """``serve`` of ``profile`` at ``/influx/`` of a proxy; on exit, every request was under it."""
    with (
        running_server(profile=profile, token=TOKEN, databases=["db"]) as srv,
        FaultProxy(srv.host, srv.port, mount="/influx") as proxy,
    ):
        yield srv, proxy, f"{proxy.url}/influx/"
        assert proxy.outside_mount == 0, proxy.seen
        assert proxy.seen and all(line.split(" ")[1].startswith("/influx/") for line in proxy.seen)


@pytest.fixture
def v3() -> Iterator[tuple[ServerThread, FaultProxy, str]]:
    with mounted("v3_core") as served:
        yield served


def test_every_v3_endpoint_under_the_prefix(v3, monkeypatch: pytest.MonkeyPatch) -> None:
    _, proxy, url = v3
    with influxkit.connect(url, token=TOKEN, database="db") as conn:
        assert conn.config.path_prefix == "/influx"
        info = influxkit.server_info(conn)
        assert info.product == "InfluxDB 3 Core" and info.url.endswith("/influx")
        conn.write([f"cpu,host=a usage=0.5 {T0}", f"cpu,host=b usage=1.5 {T0 + 1}"])
        rows = [{"host": "a", "usage": 0.5}, {"host": "b", "usage": 1.5}]
        sql = "SELECT host, usage FROM cpu ORDER BY host"
        assert conn.query_sql(sql) == rows  # parquet
        assert conn.query_sql(sql, format="arrow").num_rows == 2
        assert list(conn.query_sql_stream(sql)) == rows  # jsonl
        monkeypatch.setattr(http_client, "_HAS_PYARROW", False)
        assert conn.query_sql(sql) == rows  # json
        monkeypatch.undo()
        assert conn.execute_sql("SELECT 1") == 0
        influxql = conn.query_influxql("SELECT usage FROM cpu")
        assert [r["usage"] for r in influxql] == [0.5, 1.5]
        conn.create_database("other")
        assert "other" in conn.list_databases()
        conn.delete_database("other")
        made = conn.create_token("ci")
        assert made["name"] == "ci"
        conn.delete_token("ci")
        assert conn.health()["status"] == "pass"
    paths = {line.split(" ")[1].split("?")[0] for line in proxy.seen}
    assert paths >= {
        "/influx/ping", "/influx/health", "/influx/api/v3/write_lp", "/influx/api/v3/query_sql",
        "/influx/api/v3/query_influxql", "/influx/api/v3/configure/database",
        "/influx/api/v3/configure/token/named_admin", "/influx/api/v3/configure/token",
    }  # fmt: skip


@pytest.mark.parametrize("profile", ["v1", "v2"])
def test_the_1x_and_2x_endpoints_under_the_prefix(profile: str) -> None:
    with mounted(profile) as (_, proxy, url):
        opts = {"token": TOKEN, "database": "db", "api_version": "auto", "org": "o"}
        with influxkit.connect(url, **opts) as conn:
            conn.write(f"cpu,host=a usage=0.5 {T0}")
            assert [r["usage"] for r in conn.query_influxql("SELECT usage FROM cpu")] == [0.5]
            if profile == "v1":
                conn.create_database("other")
                assert conn.list_databases() == ["db", "other"]
                conn.delete_database("other")
            else:
                rows = conn.query_flux('from(bucket: "db") |> range(start: 0)')
                assert [r["_value"] for r in rows] == [0.5]
            assert conn.health()["status"] == "pass"
            assert conn.server_info().profile == profile
        write = "/influx/write" if profile == "v1" else "/influx/api/v2/write"
        assert any(line.startswith(f"POST {write}?") for line in proxy.seen)
        assert any(" /influx/query" in line for line in proxy.seen)


def test_asyncio_under_the_prefix(v3) -> None:
    _, _, url = v3

    async def main() -> None:
        async with influxkit.aio.connect(url, token=TOKEN, database="db") as conn:
            await conn.write(f"cpu v=1 {T0}")
            assert await conn.query_sql("SELECT v FROM cpu") == [{"v": 1.0}]
            assert [r async for r in conn.query_sql_stream("SELECT v FROM cpu")] == [{"v": 1.0}]
            assert "db" in await conn.list_databases()
            assert (await conn.server_info()).product == "InfluxDB 3 Core"
            assert (await conn.health())["status"] == "pass"

    asyncio.run(main())


def test_a_forgotten_prefix_is_named() -> None:
    with (
        running_server(token=TOKEN, databases=["db"]) as srv,
        FaultProxy(srv.host, srv.port, mount="/influx") as proxy,
        influxkit.connect(proxy.url, token=TOKEN, database="db") as conn,
    ):
        with pytest.raises(influxkit.ServerMismatch, match="check the URL and path_prefix"):
            conn.write("cpu v=1 1")
        assert proxy.outside_mount == 2  # /ping, then /health
        assert proxy.stats["forwarded"] == 0

"""Which server is on the other end, against ``influxkit serve`` of every profile.

Each profile is detected as its server; ``api_version="auto"`` takes the endpoints of
what it finds (seen through a proxy that records request lines), so the same user code
runs on every profile; a connection whose ``api_version`` / ``profile`` does not fit
fails its first operation with :class:`~influxkit.ServerMismatch`, before anything is
written; detection is one ``/ping`` per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator

import httpx
import pytest

import influxkit
import influxkit.aio
from influxkit.server import ServerThread, running_server
from influxkit.testing.faultproxy import FaultProxy

TOKEN = "apiv3_detect-token"
PROFILES = ["v3_core", "v3_enterprise", "v2", "v1"]
EXPECTED = {
    "v3_core": ("InfluxDB 3 Core", "3.10.1", "Core", "v3"),
    "v3_enterprise": ("InfluxDB 3 Enterprise", "3.10.1", "Enterprise", "v3"),
    "v2": ("InfluxDB 2.x OSS", "v2.7.11", "OSS", "v2"),
    "v1": ("InfluxDB 1.x OSS", "1.8.10", "OSS", "v1"),
}
# The write and InfluxQL endpoints each API uses.
ENDPOINTS = {
    "v3": ("POST /api/v3/write_lp", "/api/v3/query_influxql"),
    "v2": ("POST /api/v2/write", "/query"),
    "v1": ("POST /write", "/query"),
}


@contextlib.contextmanager
def served(profile: str, *, token: str | None = TOKEN) -> Iterator[tuple[ServerThread, FaultProxy]]:
    """``serve`` of ``profile`` with database ``db``, behind a proxy that records requests."""
    with (
        running_server(profile=profile, token=token, databases=["db"]) as srv,
        FaultProxy(srv.host, srv.port) as proxy,
    ):
        yield srv, proxy


def pings(proxy: FaultProxy) -> int:
    return sum(1 for line in proxy.seen if line.split("?")[0] == "GET /ping")


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_is_detected_as_itself(profile: str) -> None:
    with served(profile) as (srv, _), influxkit.connect(srv.url, token=TOKEN) as conn:
        info = influxkit.server_info(conn)
        assert (info.product, info.version, info.build, info.api_version) == EXPECTED[profile]
        assert info.profile == profile and info.url == srv.url
        assert info.evidence.startswith("GET /ping: ")
        assert conn.server_info() is info  # asked once


@pytest.mark.parametrize("profile", ["v2", "v1"])
def test_1x_and_2x_profiles_answer_ping_and_health_as_those_servers(profile: str) -> None:
    with running_server(profile=profile, token=TOKEN) as srv:
        ping = httpx.get(f"{srv.url}/ping")  # no token: 1.x and 2.x never ask for one here
        assert (ping.status_code, ping.content) == (204, b"")
        assert ping.headers["x-influxdb-build"] == "OSS"
        assert ping.headers["x-influxdb-version"] == EXPECTED[profile][1]
        assert httpx.head(f"{srv.url}/ping").status_code == 204
        health = httpx.get(f"{srv.url}/health").json()
        assert health["name"] == "influxdb" and health["status"] == "pass"
        assert health["version"] == EXPECTED[profile][1]
        assert ("commit" in health) is (profile == "v2")  # 1.8 has none
        verbose = httpx.get(f"{srv.url}/ping", params={"verbose": "true"})
        if profile == "v1":
            assert (verbose.status_code, verbose.json()) == (200, {"version": "1.8.10"})
        # Everything else still needs the token.
        assert httpx.get(f"{srv.url}/query", params={"q": "SHOW DATABASES"}).status_code == 401


def test_v3_profiles_keep_ping_behind_the_token() -> None:
    with running_server(token=TOKEN) as srv:
        assert httpx.get(f"{srv.url}/ping").status_code == 401
        with influxkit.connect(srv.url) as anonymous, pytest.raises(influxkit.AuthError) as info:
            anonymous.server_info()
        assert "--disable-authz ping" in str(info.value)


@pytest.mark.parametrize("profile", PROFILES)
def test_auto_runs_the_same_code_on_every_profile(profile: str) -> None:
    with served(profile) as (_, proxy):
        with influxkit.connect(proxy.url, api_version="auto", token=TOKEN, database="db") as conn:
            assert repr(conn).endswith("profile=auto open>")
            conn.write("cpu,host=a usage=0.5 1700000000000000000")
            conn.write("cpu,host=b usage=1.5 1700000001000000000")
            rows = conn.query_influxql("SELECT host, usage FROM cpu")
            seen = proxy.seen  # (health() below asks /ping itself on InfluxDB 3)
            assert conn.health()["status"] == "pass"
            assert conn.profile.name == profile
        assert [(r["host"], r["usage"]) for r in rows] == [("a", 0.5), ("b", 1.5)]
        write, query = ENDPOINTS[EXPECTED[profile][3]]
        assert [line for line in seen if line.startswith("GET /ping")] == ["GET /ping"]
        assert seen[0] == "GET /ping"
        assert sum(line.startswith(write + "?") for line in seen) == 2
        assert any(line.split(" ")[1].startswith(query) for line in seen)


def test_auto_follows_the_server_only_where_the_profile_is_not_given() -> None:
    with served("v3_core") as (srv, _):
        opts = {"api_version": "auto", "token": TOKEN, "database": "db"}
        with (
            influxkit.connect(srv.url, profile="v3_enterprise", **opts) as conn,
            pytest.raises(influxkit.ServerMismatch, match="set profile='v3_core'"),
        ):
            conn.write("cpu v=1 1")
        with influxkit.connect(srv.url, **opts) as conn:
            conn.list_databases()
            assert conn.profile.name == "v3_core"
            with pytest.raises(influxkit.UnsupportedOperation):
                conn.query_flux('from(bucket: "db")')  # the profile found, as it is


def test_detection_is_once_per_connection_even_from_many_threads() -> None:
    with served("v1") as (_, proxy):
        conn = influxkit.connect(proxy.url, api_version="auto", token=TOKEN, database="db")
        with conn:
            barrier = threading.Barrier(8)
            errors: list[BaseException] = []

            def first_use(i: int) -> None:
                barrier.wait()
                try:
                    conn.write(f"cpu v={i} {i}")
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=first_use, args=(i,)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            for _ in range(10):
                conn.query_influxql("SELECT count(v) FROM cpu")
        assert pings(proxy) == 1


def test_a_v3_connection_to_a_1x_server_fails_its_first_operation() -> None:
    with served("v1") as (srv, proxy):
        with influxkit.connect(proxy.url, token=TOKEN, database="db") as conn:
            with pytest.raises(influxkit.ServerMismatch) as info:
                conn.write("cpu v=1 1")
            err = info.value
            assert err.operation == "write" and err.found.product == "InfluxDB 1.x OSS"
            assert err.expected == "InfluxDB 3 (api_version='v3')"
            assert "is InfluxDB 1.x OSS 1.8.10" in str(err)
            assert "set api_version='v1' (or api_version='auto'" in str(err)
            for call in (
                lambda: conn.query_sql("SELECT 1"),
                conn.list_databases,
                conn.health,
                lambda: conn.query_influxql("SELECT * FROM cpu"),
            ):
                with pytest.raises(influxkit.ServerMismatch):
                    call()
            assert conn.server_info().product == "InfluxDB 1.x OSS"  # described, not refused
        assert pings(proxy) == 1  # the mismatch is remembered
        assert [line for line in proxy.seen if not line.startswith("GET /ping")] == []
        assert srv.engine.query_influxql("SHOW MEASUREMENTS", database="db", params=None,
                                         format="rows") == []  # fmt: skip


def test_older_apis_on_newer_servers_keep_working() -> None:
    with served("v3_core") as (srv, _):
        for api in ("v1", "v2"):
            opts = {"api_version": api, "token": TOKEN, "database": "db"}
            with influxkit.connect(srv.url, **opts) as conn:
                conn.write(f"compat,api={api} v=1 1")
                assert conn.query_influxql("SELECT v FROM compat")
    with (
        served("v2") as (srv, _),
        influxkit.connect(srv.url, api_version="v1", token=TOKEN, database="db") as conn,
    ):
        conn.write("compat v=1 1")


def test_check_server_false_asks_nothing() -> None:
    with served("v1") as (_, proxy):
        with influxkit.connect(proxy.url, token=TOKEN, database="db", check_server=False) as conn:
            conn.write("cpu v=1 1")  # serve answers the v3 endpoints on every profile
            assert conn.server_info().product == "InfluxDB 1.x OSS"  # asked for: asked
        assert pings(proxy) == 1 and proxy.seen[0].startswith("POST /api/v3/write_lp")


def test_tokens_and_the_check() -> None:
    with served("v3_core") as (_, proxy):
        # A wrong token fails at the first operation, on /ping, as an AuthError.
        with influxkit.connect(proxy.url, token="apiv3_wrong", database="db") as conn:
            with pytest.raises(influxkit.AuthError) as info:
                conn.write("cpu v=1 1")
            assert info.value.operation == "write" and info.value.path == "/ping"
        # No token: the check cannot see, the operation says what it says itself.
        with influxkit.connect(proxy.url, database="db") as conn:
            with pytest.raises(influxkit.AuthError) as info:
                conn.write("cpu v=1 1")
            assert info.value.path == "/api/v3/write_lp"
        # auto cannot guess without seeing the server.
        with (
            influxkit.connect(proxy.url, api_version="auto", database="db") as conn,
            pytest.raises(influxkit.AuthError, match="check the token"),
        ):
            conn.write("cpu v=1 1")


def test_a_proxy_page_is_not_influxdb() -> None:
    with (
        running_server(databases=["db"]) as srv,
        FaultProxy(srv.host, srv.port, mount="/influx") as proxy,
    ):
        for api in ("v3", "auto"):
            with influxkit.connect(proxy.url, api_version=api, database="db") as conn:
                with pytest.raises(influxkit.ServerMismatch) as info:
                    conn.write("cpu v=1 1")
                assert info.value.found is None
                assert "is not InfluxDB (or not at this path)" in str(info.value)
                assert "404 text/html '<html>" in str(info.value)
                with pytest.raises(influxkit.ServerMismatch):
                    conn.server_info()


def test_the_batch_writer_checks_first_and_waits_for_a_server_that_is_down() -> None:
    with served("v1") as (srv, proxy):
        # A mismatch: write() raises at once, nothing is buffered.
        with influxkit.connect(proxy.url, token=TOKEN, database="db", batch=True) as conn:
            with pytest.raises(influxkit.ServerMismatch):
                conn.write("cpu v=1 1")
            assert conn.stats()["points_buffered"] == 0
        # auto, the server down at the first write: buffered, then delivered.
        proxy.down(1.0)
        batch = {"flush_interval": 0.05, "retry_interval": 0.1, "max_retry_interval": 0.3,
                 "max_retries": 100}  # fmt: skip
        with influxkit.connect(
            proxy.url, api_version="auto", token=TOKEN, database="db", batch=batch
        ) as conn:
            outcome = conn.write("late v=1i 1")
            assert outcome.buffered
            conn.flush(timeout=15)
            assert conn.stats()["points_failed"] == 0
        assert any(line.startswith("POST /write?") for line in proxy.seen)
        rows = srv.engine.query_influxql("SELECT v FROM late", database="db", params=None,
                                         format="rows")  # fmt: skip
        assert [r["v"] for r in rows] == [1]


def test_auto_over_arrow_flight() -> None:
    with running_server(databases=["db"], flight_port=0) as srv:
        srv.engine.write(b"cpu v=2 1", database="db", precision="ns", accept_partial=True,
                         no_sync=False)  # fmt: skip
        opts = {"flight_port": srv.flight_port, "database": "db", "transport": "flight"}
        with influxkit.connect(srv.url, api_version="auto", **opts) as conn:
            assert conn.query_sql("SELECT v FROM cpu") == [{"v": 2.0}]
        with influxkit.connect(srv.url, **opts) as conn:
            assert conn.query_sql("SELECT v FROM cpu") == [{"v": 2.0}]


def test_groups_give_each_members_server() -> None:
    with served("v1") as (old, _), served("v3_core") as (new, _):
        influxkit.add_connection("si-old", old.url, api_version="auto", token=TOKEN)
        influxkit.add_connection("si-new", new.url, token=TOKEN)
        influxkit.add_group("si-both", ["si-old", "si-new"])
        try:
            found = influxkit.server_info("si-both")
            assert {n: i.product for n, i in found.items()} == {
                "si-old": "InfluxDB 1.x OSS",
                "si-new": "InfluxDB 3 Core",
            }
            assert asyncio.run(influxkit.aio.server_info("si-both")) == found
        finally:
            influxkit.remove_group("si-both")
            influxkit.remove_connection("si-old")
            influxkit.remove_connection("si-new")


def test_asyncio_detects_the_same_way() -> None:
    async def main(url: str) -> None:
        async with influxkit.aio.connect(url, api_version="auto", token=TOKEN, database="db") as c:
            await c.write("cpu v=1i 1")
            rows = await c.query_influxql("SELECT v FROM cpu")
            assert [r["v"] for r in rows] == [1]
            info = await c.server_info()
            assert info.product == "InfluxDB 1.x OSS" and c.profile.name == "v1"
        async with influxkit.aio.connect(url, token=TOKEN, database="db") as c:
            with pytest.raises(influxkit.ServerMismatch):
                await c.write("cpu v=2i 2")
            with pytest.raises(influxkit.ServerMismatch):
                await c.query_sql("SELECT 1")
            with pytest.raises(influxkit.ServerMismatch):
                [row async for row in c.query_sql_stream("SELECT 1")]

    with served("v1") as (_, proxy):
        asyncio.run(main(proxy.url))
        assert any(line.startswith("POST /write?") for line in proxy.seen)
        assert pings(proxy) == 2  # one per connection


def test_a_registered_name_asks_once_for_both_apis() -> None:
    with served("v2") as (_, proxy):
        influxkit.add_connection("si-twin", proxy.url, api_version="auto", token=TOKEN,
                                 database="db")  # fmt: skip
        try:
            assert influxkit.server_info("si-twin").api_version == "v2"

            async def main() -> None:
                await influxkit.aio.write("si-twin", "cpu v=1i 1")
                assert (await influxkit.aio.server_info("si-twin")).product == "InfluxDB 2.x OSS"

            asyncio.run(main())
        finally:
            influxkit.remove_connection("si-twin")
        assert pings(proxy) == 1
        assert any(line.startswith("POST /api/v2/write?") for line in proxy.seen)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")
@pytest.mark.parametrize("detected_before_fork", [True, False])
def test_a_forked_child_keeps_or_makes_its_own_detection(detected_before_fork: bool) -> None:
    with served("v1") as (_, proxy):
        conn = influxkit.connect(proxy.url, api_version="auto", token=TOKEN, database="db")
        with conn:
            if detected_before_fork:
                conn.write("cpu,who=parent v=1i 1")
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: write, report the profile it used, leave
                code = 1
                try:
                    conn.write("cpu,who=child v=2i 2")
                    os.write(write, conn.profile.name.encode())
                    code = 0
                finally:
                    os._exit(code)
            os.close(write)
            _, status = os.waitpid(pid, 0)
            report = os.read(read, 100).decode()
            os.close(read)
            assert os.waitstatus_to_exitcode(status) == 0 and report == "v1"
            conn.write("cpu,who=parent v=3i 3")
        assert pings(proxy) == (1 if detected_before_fork else 2)
        assert sum(line.startswith("POST /write?") for line in proxy.seen) == (
            3 if detected_before_fork else 2
        )

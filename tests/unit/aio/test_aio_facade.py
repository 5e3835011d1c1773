"""One registry for both APIs: a name registered once is usable from sync and async code."""

from __future__ import annotations

import asyncio
import gc

import pytest

import influxkit
import influxkit.aio
from influxkit.aio import AsyncConnection

pytestmark = pytest.mark.anyio


async def test_a_registered_name_serves_both_sides_with_one_engine_and_one_set_of_counters():
    sync = influxkit.add_connection("shared", client="local", database="db")
    await influxkit.aio.write("shared", "cpu v=1i 1")
    influxkit.write("shared", "cpu v=2i 2")
    assert influxkit.query_sql("shared", "SELECT v FROM cpu ORDER BY v") == [{"v": 1}, {"v": 2}]
    assert await influxkit.aio.query_sql("shared", "SELECT count(*) AS n FROM cpu") == [{"n": 2}]
    rows = [r async for r in influxkit.aio.query_sql_stream("shared", "SELECT v FROM cpu")]
    assert len(rows) == 2
    stats = influxkit.stats("shared")
    assert stats == influxkit.aio.stats("shared")
    assert stats["writes"] == 2 and stats["queries"] == 3
    twin = influxkit.aio.connection("shared")
    assert twin is influxkit.aio.connection(sync) is influxkit.aio.connection(twin)
    assert twin.sync is sync and twin.config is sync.config


async def test_every_facade_function_works_by_name():
    influxkit.add_connection("admin", client="local", database="db")
    await influxkit.aio.create_database("admin", "other")
    assert await influxkit.aio.list_databases("admin") == ["db", "other"]
    await influxkit.aio.delete_database("admin", "other")
    assert (await influxkit.aio.health("admin"))["status"] == "pass"
    token = await influxkit.aio.create_token("admin", "t1")
    await influxkit.aio.delete_token("admin", token["name"])
    await influxkit.aio.flush("admin")  # unbatched: nothing to wait for
    with pytest.raises(influxkit.QueryError):
        await influxkit.aio.execute_sql("admin", "DELETE FROM cpu")
    await influxkit.aio.write("admin", "cpu v=1i 1")
    # Whatever the engine answers, the async call answers the same (rows or the same error).
    for name, args in [
        ("query_influxql", ("SELECT v FROM cpu",)),
        ("query_flux", ('from(bucket: "db") |> range(start: 0)',)),
        ("list_buckets", ()),
    ]:
        try:
            expected: object = getattr(influxkit, name)("admin", *args)
        except influxkit.InfluxError as exc:
            expected = type(exc)
        try:
            got: object = await getattr(influxkit.aio, name)("admin", *args)
        except influxkit.InfluxError as exc:
            got = type(exc)
        assert got == expected, name


async def test_unknown_names_and_wrong_targets():
    with pytest.raises(influxkit.ConnectionNotFound, match="no connection named 'nope'"):
        await influxkit.aio.write("nope", "m v=1 1")
    with pytest.raises(TypeError, match="connection name"):
        await influxkit.aio.query_sql(42, "SELECT 1")  # type: ignore[arg-type]
    with pytest.raises(influxkit.ConnectionNotFound):
        await influxkit.aio.remove_connection("nope")


async def test_async_remove_connection_closes_both_sides():
    sync = influxkit.add_connection("gone", client="local", database="db")
    twin = influxkit.aio.connection("gone")
    await influxkit.aio.remove_connection("gone")
    assert "gone" not in influxkit.registry.names()
    assert sync.closed and twin.closed
    with pytest.raises(influxkit.InfluxError, match="is closed"):
        await twin.query_sql("SELECT 1")


async def test_closing_the_sync_side_closes_the_twin():
    influxkit.add_connection("closing", client="local", database="db")
    twin = influxkit.aio.connection("closing")
    influxkit.remove_connection("closing")
    assert twin.closed
    with pytest.raises(influxkit.InfluxError, match="is closed"):
        await twin.write("m v=1 1")


async def test_a_batched_registered_connection_shares_one_buffer():
    errors: list = []
    influxkit.add_connection(
        "batched",
        client="local",
        database="db",
        batch={"size": 100, "flush_interval": 60, "on_error": lambda b, e: errors.append(b)},
    )
    outcome = await influxkit.aio.write("batched", [f"cpu v={i}i {i + 1}" for i in range(250)])
    assert outcome.buffered and outcome.lines == 250
    influxkit.write("batched", "cpu v=1000i 1001")
    # Full batches may be on their way already; the last 50 + 1 wait for the interval.
    assert 51 <= influxkit.aio.stats("batched")["points_buffered"] <= 251
    await influxkit.aio.flush("batched")
    assert influxkit.query_sql("batched", "SELECT count(*) AS n FROM cpu") == [{"n": 251}]
    with pytest.raises(influxkit.PartialWriteError):
        await influxkit.aio.write("batched", 'cpu v="text" 5', wait=True)
    assert [b.lines for b in errors] == [('cpu v="text" 5',)]
    stats = influxkit.stats("batched")
    # The refused waited write is not counted as a write (as on the sync side).
    assert stats["writes"] == 2 and stats["points_written"] == 251 and stats["points_failed"] == 1


async def test_a_group_name_fans_writes_out_and_queries_its_primary():
    influxkit.add_connection("old", client="local", database="db")
    influxkit.add_connection("new", client="local", database="db")
    influxkit.add_group("both", members=["old", "new"], primary="new")
    try:
        outcome = await influxkit.aio.write("both", "cpu v=1i 1")
        assert sorted(outcome) == ["new", "old"] and outcome["old"].lines == 1
        await influxkit.aio.flush("both")
        assert await influxkit.aio.query_sql("both", "SELECT v FROM cpu") == [{"v": 1}]
        assert influxkit.aio.connection("both") is influxkit.aio.connection("new")
        assert sorted(influxkit.aio.stats("both")) == ["new", "old"]
        assert sorted(await influxkit.aio.health("both")) == ["new", "old"]
        with pytest.raises(influxkit.UnsupportedOperation):
            await influxkit.aio.create_database("both", "x")
    finally:
        influxkit.remove_group("both")


def test_a_twin_does_not_keep_its_connection_alive():
    conn = influxkit.connect(client="local", database="db")
    twin = influxkit.aio.connection(conn)
    conn.close()
    del conn
    gc.collect()
    assert twin.sync is None and twin.closed
    assert len(influxkit.aio.facade._twins) == 0


def test_connect_options_and_config():
    cfg = influxkit.ConnectionConfig.from_options(client="local", database="x")
    conn = influxkit.aio.connect(config=cfg)
    assert isinstance(conn, AsyncConnection) and conn.config is cfg and conn.name is None
    with pytest.raises(influxkit.ConfigError, match="either config"):
        influxkit.aio.connect("http://h:1", config=cfg)
    with pytest.raises(influxkit.ConfigError, match="unknown option"):
        influxkit.aio.connect(client="local", databse="x")
    asyncio.run(conn.close())


def test_connect_from_env(monkeypatch):
    monkeypatch.setenv("INFLUX_HOST", "http://db.example:9999")
    monkeypatch.setenv("INFLUX_DATABASE", "envdb")
    conn = influxkit.aio.connect_from_env(token="t")
    assert conn.config.base_url == "http://db.example:9999" and conn.config.database == "envdb"
    asyncio.run(conn.close())


def test_registration_is_the_sync_facade_s():
    assert influxkit.aio.add_connection is influxkit.add_connection
    assert influxkit.aio.add_connections_from_toml is influxkit.add_connections_from_toml

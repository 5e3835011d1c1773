"""The facade and Connection lifecycle, on the local engine."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

import influxkit
from influxkit import registry


@pytest.fixture(autouse=True)
def _clean_registry():
    before = set(registry.names())
    yield
    for name in set(registry.names()) - before:
        influxkit.remove_connection(name)


def test_add_use_remove_by_name():
    conn = influxkit.add_connection("fx-a", client="local", database="db")
    assert registry.get("fx-a") is conn
    assert conn.name == "fx-a"
    influxkit.write("fx-a", "cpu,host=a usage=1.5 1000000000")
    rows = influxkit.query_sql("fx-a", "SELECT host, usage FROM cpu")
    assert rows == [{"host": "a", "usage": 1.5}]
    influxkit.remove_connection("fx-a")
    assert registry.get("fx-a") is None
    assert conn.closed
    with pytest.raises(influxkit.ConnectionNotFound, match="fx-a"):
        influxkit.remove_connection("fx-a")


def test_name_or_object_are_the_same_call():
    conn = influxkit.add_connection("fx-b", client="local", database="db")
    influxkit.write(conn, "m f=1 1")
    influxkit.write("fx-b", "m f=2 2")
    rows = influxkit.query_sql(conn, "SELECT f FROM m ORDER BY time")
    assert [r["f"] for r in rows] == [1.0, 2.0]
    with pytest.raises(TypeError, match="connection name"):
        influxkit.write(42, "m f=1")  # type: ignore[arg-type]


def test_unknown_name_lists_the_registered_ones():
    influxkit.add_connection("fx-known", client="local")
    with pytest.raises(influxkit.ConnectionNotFound, match="'fx-known'"):
        influxkit.query_sql("fx-unknown", "SELECT 1")


def test_registering_a_taken_name_needs_replace():
    first = influxkit.add_connection("fx-c", client="local")
    with pytest.raises(influxkit.ConfigError, match="already registered"):
        influxkit.add_connection("fx-c", client="local")
    second = influxkit.add_connection("fx-c", client="local", replace=True)
    assert registry.get("fx-c") is second
    assert first.closed  # the replaced connection was closed


def test_connect_is_unregistered_and_closes_idempotently():
    with influxkit.connect(client="local", databases=["one", "two"]) as conn:
        assert conn.name is None
        assert conn.list_databases() == ["one", "two"]
        assert conn not in registry.snapshot().values()
    assert conn.closed
    conn.close()  # again: no error
    with pytest.raises(influxkit.InfluxError, match="closed"):
        conn.list_databases()


def test_connect_from_url_with_local_client():
    with influxkit.connect("http://localhost:8181?database=web", client="local") as conn:
        conn.write("hits,page=home n=3i 1")
        assert conn.query_sql("SELECT n FROM hits") == [{"n": 3}]


def test_local_connections_are_isolated():
    with (
        influxkit.connect(client="local", database="db") as a,
        influxkit.connect(client="local", database="db") as b,
    ):
        a.write("m f=1 1")
        assert a.query_sql("SELECT count(*) AS n FROM m") == [{"n": 1}]
        with pytest.raises(influxkit.QueryError):
            b.query_sql("SELECT * FROM m")


def test_missing_database_is_a_config_error():
    with (
        influxkit.connect(client="local") as conn,
        pytest.raises(influxkit.ConfigError, match="needs a database"),
    ):
        conn.write("m f=1")


@pytest.mark.parametrize(
    ("profile", "operation", "call"),
    [
        ("v3_core", "query_flux", lambda c: c.query_flux('from(bucket:"b")')),
        ("v3_core", "create_bucket", lambda c: c.create_bucket("b")),
        ("v1", "query_sql", lambda c: c.query_sql("SELECT 1", database="d")),
        ("v1", "create_token", lambda c: c.create_token("t")),
        ("v2", "create_database", lambda c: c.create_database("d")),
        ("v2", "query_sql_stream", lambda c: c.query_sql_stream("SELECT 1", database="d")),
    ],
)
def test_profiles_refuse_operations(profile, operation, call):
    with (
        influxkit.connect(client="local", profile=profile) as conn,
        pytest.raises(influxkit.UnsupportedOperation) as info,
    ):
        call(conn)
    msg = str(info.value)
    assert operation in msg and profile in msg


def test_stats_count_writes_queries_and_errors():
    with influxkit.connect(client="local", database="db") as conn:
        conn.write("m f=1 1\nm f=2 2")
        conn.query_sql("SELECT * FROM m")
        with pytest.raises(influxkit.QueryError):
            conn.query_sql("SELECT * FROM nope")
        s = influxkit.stats(conn)
    assert s["writes"] == 1
    assert s["points_written"] == 2
    assert s["bytes_written"] > 0
    assert s["queries"] == 1
    assert s["query_errors"] == 1
    assert "nope" in s["last_error"]


def test_unclosed_connection_warns():
    conn = influxkit.connect(client="local")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del conn
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) for w in caught)


def test_many_threads_share_one_named_connection():
    influxkit.add_connection("fx-t", client="local", database="db")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for i in range(50):
                influxkit.write("fx-t", f"m,t=t{k} f={i} {i + 1}")
                influxkit.query_sql("fx-t", "SELECT count(*) FROM m")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert influxkit.query_sql("fx-t", "SELECT count(*) AS n FROM m") == [{"n": 200}]


def test_a_connection_that_fails_to_start_leaves_nothing_to_warn_about(tmp_path):
    import gc
    import warnings

    spool_file = tmp_path / "a-file"
    spool_file.write_text("not a directory")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ResourceWarning from __del__ would surface here
        with pytest.raises(influxkit.InfluxError):
            influxkit.connect(client="local", databases=["_bad"])
        with pytest.raises(influxkit.ConfigError):
            influxkit.connect(client="local", batch={"spool_dir": str(spool_file)})
        gc.collect()

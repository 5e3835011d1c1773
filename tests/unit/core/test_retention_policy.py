"""``retention_policy``: the option from every source, and what each API version sends.

1.x gets ``db`` and ``rp=``; a 2.x bucket is ``db/rp``; InfluxDB 3 keeps ``/write?db&rp``
points in the database ``db/rp`` (``rp`` lower-cased, ``autogen`` / ``default`` being the
database itself; reference 1.1), which a v3 connection then reads and writes.
"""

from __future__ import annotations

import pytest

import influxkit
from influxkit.config import ConnectionConfig
from influxkit.config_sources import options_from_env, options_from_toml, options_from_url
from influxkit.protocol import requests as rq


def test_the_option_from_keywords_url_env_and_toml(tmp_path):
    assert ConnectionConfig.from_options(retention_policy="short").retention_policy == "short"
    assert options_from_url("http://db:8086?retention_policy=short")["retention_policy"] == "short"
    env = options_from_env({"INFLUXKIT_RETENTION_POLICY": "short"})
    assert ConnectionConfig.from_options(**env).retention_policy == "short"
    path = tmp_path / "influx.toml"
    path.write_text('[connections.a]\nurl = "http://db:8086"\nretention_policy = "short"\n')
    assert options_from_toml(path, "a")["retention_policy"] == "short"
    assert ConnectionConfig.from_options().retention_policy is None


@pytest.mark.parametrize("bad", ["", "a/b", 5])
def test_bad_names_are_refused_with_the_fix(bad):
    with pytest.raises(influxkit.ConfigError, match="invalid retention_policy"):
        ConnectionConfig.from_options(retention_policy=bad)
    with (
        influxkit.connect(client="local", database="db") as conn,
        pytest.raises(influxkit.ConfigError, match="invalid retention_policy"),
    ):
        conn.write("m v=1", retention_policy=bad)


def test_a_misspelt_option_gets_a_did_you_mean():
    with pytest.raises(influxkit.ConfigError, match="did you mean 'retention_policy'"):
        ConnectionConfig.from_options(retention_polcy="short")


def _write_params(api: str, database: str) -> tuple[str, dict[str, str]]:
    cfg = ConnectionConfig.from_options(api_version=api)
    (req,) = rq.write(cfg, b"m v=1", database=database, precision="ns", accept_partial=True,
                      no_sync=False)  # fmt: skip
    return req.path, dict(req.params)


def test_each_api_version_names_the_pair_its_way():
    assert _write_params("v1", "app/short") == (
        "/write",
        {"db": "app", "precision": "n", "rp": "short"},
    )
    assert _write_params("v1", "app") == ("/write", {"db": "app", "precision": "n"})
    assert _write_params("v2", "app/short")[1]["bucket"] == "app/short"
    assert _write_params("v3", "app/short")[1]["db"] == "app/short"
    cfg = ConnectionConfig.from_options(api_version="v1")
    form = rq.influxql_query(cfg, "SELECT 1", database="app/short", params=None).content
    assert b"db=app" in form and b"rp=short" in form


def test_influxdb_3_keeps_a_policy_in_the_database_db_slash_rp():
    with influxkit.connect(client="local", database="app") as conn:
        conn.write("m v=1 1", retention_policy="Short")
        conn.write("m v=2 2", retention_policy="autogen")
        conn.write("m v=3 3", retention_policy="DEFAULT")
        assert conn.list_databases() == ["app", "app/short"]
        assert conn.query_sql("SELECT v FROM m ORDER BY v") == [{"v": 2.0}, {"v": 3.0}]
        assert conn.query_sql("SELECT v FROM m", database="app/short") == [{"v": 1.0}]
        rows = conn.query_influxql("SELECT v FROM m", retention_policy="short")
        assert [r["v"] for r in rows] == [1.0]
    with influxkit.connect(client="local", database="app", retention_policy="short") as conn:
        conn.write("m v=1 1")
        assert conn.query_sql("SELECT v FROM m") == [{"v": 1.0}]  # reads app/short
        assert conn.list_databases() == ["app", "app/short"]


def test_a_database_that_names_a_policy_already():
    with influxkit.connect(client="local", database="app", retention_policy="short") as conn:
        conn.write("m v=1 1", database="other/x")  # taken as it is
        assert "other/x" in conn.list_databases()
        with pytest.raises(influxkit.ConfigError, match="already names a retention policy"):
            conn.write("m v=1 1", database="other/x", retention_policy="y")


def test_a_policy_without_a_database_is_refused():
    with (
        influxkit.connect(client="local", profile="v1") as conn,
        pytest.raises(influxkit.ConfigError, match="needs a database"),
    ):
        conn.query_influxql("SHOW DATABASES", retention_policy="autogen")
    with influxkit.connect(client="local", profile="v1", retention_policy="autogen") as conn:
        assert conn.query_influxql("SHOW DATABASES") == []  # nothing to qualify


def test_batch_keys_of_two_policies_differ():
    with influxkit.connect(client="local", database="app", batch={"flush_interval": 60}) as conn:
        conn.write("m v=1 1", retention_policy="a")
        conn.write("m v=2 2", retention_policy="b")
        conn.write("m v=3 3")
        conn.flush(timeout=10)
        assert conn.list_databases() == ["app", "app/a", "app/b"]
        for db, v in (("app", 3.0), ("app/a", 1.0), ("app/b", 2.0)):
            assert conn.query_sql("SELECT v FROM m", database=db) == [{"v": v}]


def test_a_v2_bucket_is_named_db_slash_rp_as_given():
    with (
        influxkit.connect(client="local", profile="v2", database="app") as conn,
        pytest.raises(influxkit.DatabaseNotFound, match="app/Short"),
    ):
        conn.write("m v=1 1", retention_policy="Short")  # not lower-cased, unlike v3


def test_a_group_of_1_x_and_3_reaches_each_servers_policy():
    influxkit.add_connection("rp-v1", client="local", profile="v1", database="metrics")
    influxkit.add_connection("rp-v3", client="local", database="metrics")
    influxkit.add_group("rp-both", members=["rp-v1", "rp-v3"], primary="rp-v3")
    try:
        outcome = influxkit.write("rp-both", "cpu v=1 1", retention_policy="autogen")
        assert {name: o.lines for name, o in outcome.items()} == {"rp-v1": 1, "rp-v3": 1}
        with pytest.raises(influxkit.GroupWriteError) as info:
            influxkit.write("rp-both", "cpu v=2 2", retention_policy="short")
        assert list(info.value.errors) == ["rp-v1"]  # the local 1.x has autogen only
        assert info.value.errors["rp-v1"].status == 500
        assert influxkit.query_sql("rp-v3", "SELECT v FROM cpu", database="metrics/short") == [
            {"v": 2.0}
        ]
    finally:
        influxkit.remove_group("rp-both")
        influxkit.remove_connection("rp-v1")
        influxkit.remove_connection("rp-v3")

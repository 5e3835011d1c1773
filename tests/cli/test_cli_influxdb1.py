"""write, query and databases against the real InfluxDB 1.x server (``influxdb1``)."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.server


@pytest.fixture
def v1(invoke, influxdb1):
    """``--url URL --api-version v1`` and a fresh database name, dropped at the end."""
    url = ["--url", influxdb1.url, "--api-version", "v1"]
    name = f"cli_{uuid.uuid4().hex[:8]}"
    yield url, name
    invoke("databases", "delete", name, *url, "--yes")


def test_databases_list_create_delete_on_1x(invoke, v1):
    url, name = v1
    created = invoke("databases", "create", name, *url)
    assert created.exit_code == 0, created.stderr
    assert name in invoke("databases", "list", *url).stdout.splitlines()
    assert invoke("databases", "create", name, *url).exit_code == 1  # exists
    assert invoke("databases", "delete", name, *url, "--yes").exit_code == 0
    assert name not in invoke("databases", "list", *url).stdout.splitlines()


def test_write_and_influxql_query_on_1x(invoke, v1, tmp_path):
    url, name = v1
    assert invoke("databases", "create", name, *url).exit_code == 0
    path = tmp_path / "cpu.lp"
    path.write_text(
        "cpu,host=a usage=0.5 1700000000\n"
        "cpu,host=b usage=1.5 1700000001\n"
        "this is not line protocol\n"  # line 3
        "cpu,host=a usage=2.5 1700000002\n"
    )
    result = invoke("write", *url, "-d", name, "--precision", "s", str(path))
    assert result.exit_code == 1
    assert f"error: {path}:3: " in result.stderr
    assert "3 points written, 1 failed" in result.stderr
    # --language auto is InfluxQL on a v1 connection; $params are bound by the server.
    query = invoke(
        "query", *url, "-d", name, "-f", "json", "-p", "host=a",
        "SELECT usage FROM cpu WHERE host = $host",
    )  # fmt: skip
    assert query.exit_code == 0, query.stderr
    rows = json.loads(query.stdout)
    assert [(r["usage"], r["time"]) for r in rows] == [
        (0.5, "2023-11-14T22:13:20Z"),
        (2.5, "2023-11-14T22:13:22Z"),
    ]
    csv_out = invoke("query", *url, "-d", name, "-f", "csv", "SELECT count(usage) FROM cpu")
    assert csv_out.stdout.splitlines()[1].endswith(",3")


def test_csv_into_1x(invoke, v1, tmp_path):
    url, name = v1
    assert invoke("databases", "create", name, *url).exit_code == 0
    path = tmp_path / "w.csv"
    path.write_text("time,station,temp,n\n1700000000,s1,20.5,3\n1700000060,s2,,4\n")
    result = invoke("write", *url, "-d", name, str(path), "-m", "w", "-t", "station",
                    "--precision", "s")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads(invoke("query", *url, "-d", name, "-f", "json", "SELECT * FROM w").stdout)
    assert [(r["station"], r["temp"], r["n"]) for r in rows] == [("s1", 20.5, 3), ("s2", None, 4)]


def test_sql_on_1x_is_refused_with_the_library_message(invoke, v1):
    url, name = v1
    result = invoke("query", *url, "-d", name, "-l", "sql", "SELECT 1")
    assert result.exit_code == 1
    assert "is not supported by the 'v1' profile (InfluxDB 1.x OSS)" in result.stderr


def test_writing_to_a_missing_database_stops_with_the_server_message(invoke, v1):
    url, name = v1  # not created: InfluxDB 1.x does not create it on write
    result = invoke("write", *url, "-d", name, input="cpu usage=1 1\n")
    assert result.exit_code == 1
    assert "0 points written, 1 failed" in result.stderr
    assert f'Error: write refused (HTTP 404): database not found: "{name}"' in result.stderr


def test_api_version_auto_finds_1x_and_queries_in_influxql(invoke, influxdb1, v1):
    url, name = v1
    assert invoke("databases", "create", name, *url).exit_code == 0
    auto = ["--url", influxdb1.url, "--api-version", "auto"]
    written = invoke("write", *auto, "-d", name, input="cpu,host=a usage=0.5 1\n")
    assert written.exit_code == 0, written.stderr
    query = invoke("query", *auto, "-d", name, "-f", "json", "SELECT usage FROM cpu")
    assert query.exit_code == 0, query.stderr  # InfluxQL: SQL is not 1.x's
    assert [r["usage"] for r in json.loads(query.stdout)] == [0.5]

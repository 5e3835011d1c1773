"""write, query, health and databases against ``influxkit serve`` (a real HTTP server)."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import influxkit
from influxkit.server import running_server

pytestmark = pytest.mark.server

LP = "cpu,host=a usage=0.5 1000\ncpu,host=b usage=1.5 2000\ncpu,host=a usage=2.5 3000\n"


def query_json(invoke, target, sql, *extra):
    result = invoke("query", *target, sql, "-f", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_write_line_protocol_from_a_file_then_query(invoke, target, tmp_path):
    path = tmp_path / "cpu.lp"
    path.write_text("# header comment\n" + LP)
    result = invoke("write", *target, str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "3 points written, 0 failed in" in result.stderr and "points/s" in result.stderr
    rows = query_json(invoke, target, "SELECT host, usage, time FROM cpu ORDER BY time")
    assert rows == [
        {"host": "a", "usage": 0.5, "time": "1970-01-01T00:00:00.000001Z"},
        {"host": "b", "usage": 1.5, "time": "1970-01-01T00:00:00.000002Z"},
        {"host": "a", "usage": 2.5, "time": "1970-01-01T00:00:00.000003Z"},
    ]


def test_write_from_stdin_with_precision_in_small_batches(invoke, target):
    lines = "".join(f"m,k=x v={i}i {1_700_000_000 + i}\n" for i in range(7))
    result = invoke("write", *target, "--precision", "s", "--batch-size", "3", input=lines)
    assert result.exit_code == 0, result.stderr
    assert "7 points written" in result.stderr
    rows = query_json(invoke, target, "SELECT count(*) AS n, min(time) AS t FROM m")
    assert rows == [{"n": 7, "t": "2023-11-14T22:13:20Z"}]


def test_quiet_prints_nothing(invoke, target):
    result = invoke("write", *target, "-q", input=LP)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_bad_lines_are_listed_with_their_file_line_numbers(invoke, target, tmp_path):
    path = tmp_path / "mixed.lp"
    path.write_text(
        "cpu,host=a usage=0.5 1\n"  # 1
        "\n"  # 2: blank, not sent
        "# comment\n"  # 3: not sent
        'cpu,host=b usage="high" 2\n'  # 4: type conflict
        "cpu,host=c usage=1.5 3\n"  # 5
        "not line protocol\n"  # 6: no fields
        "cpu,host=d usage=2.5 4\n"  # 7
    )
    # Batches of 2 points: line numbers must be mapped back across batches.
    result = invoke("write", *target, str(path), "--batch-size", "2")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert errors[0].startswith(f"error: {path}:4: invalid column type for column 'usage'")
    assert errors[1].startswith(f"error: {path}:6: ")
    assert '    cpu,host=b usage="high" 2' in result.stderr  # the line itself, whole
    assert "3 points written, 2 failed" in result.stderr
    rows = query_json(invoke, target, "SELECT host FROM cpu ORDER BY time")
    assert [r["host"] for r in rows] == ["a", "c", "d"]


def test_a_string_value_over_several_rows_is_one_line(invoke, target, tmp_path):
    path = tmp_path / "notes.lp"
    path.write_text(
        'log,app=a msg="first row\nsecond row" 1\n'  # rows 1-2: one point
        "log,app=b msg=2i 2\n"  # row 3: type conflict (msg is a string)
        'log,app=c msg="x" 3\n'  # row 4
    )
    result = invoke("write", *target, str(path))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {path}:3: ")
    assert "2 points written, 1 failed" in result.stderr
    rows = query_json(invoke, target, "SELECT app, msg FROM log ORDER BY time")
    assert rows == [{"app": "a", "msg": "first row\nsecond row"}, {"app": "c", "msg": "x"}]


def test_show_errors_limits_the_listing(invoke, target):
    bad = "".join(f"bad{i}\n" for i in range(5))
    result = invoke("write", *target, "--show-errors", "2", input=bad)
    assert result.exit_code == 1
    assert result.stderr.count("error: <stdin>:") == 2
    assert "3 more error(s) not listed" in result.stderr
    assert "0 points written, 5 failed" in result.stderr


def test_write_csv_with_tags_and_typed_fields(invoke, target, tmp_path, server, db):
    path = tmp_path / "weather.csv"
    path.write_text(
        "time,station,region,temp,count,ok,note\n"
        "2026-01-01T00:00:00Z,007,eu,21.5,3,true,fine\n"
        "2026-01-01T00:01:00Z,008,,19.0,,false,\n"
        "2026-01-01T00:02:00Z,009,us,,,,\n"  # row 3: no fields
    )
    result = invoke("write", *target, str(path), "-m", "weather", "-t", "station", "-t", "region")
    assert result.exit_code == 1
    assert f"error: {path} row 3: no field values" in result.stderr
    assert "2 points written, 1 failed" in result.stderr
    with influxkit.connect(server.url, database=db) as conn:
        table = conn.query_sql(
            "SELECT station, region, temp, count, ok, note, time FROM weather ORDER BY time",
            format="arrow",
        )
    assert table.schema.field("count").type == pa.int64()
    assert table.schema.field("temp").type == pa.float64()
    assert table.schema.field("ok").type == pa.bool_()
    assert table.column("station").to_pylist() == ["007", "008"]  # tags stay text
    assert table.column("region").to_pylist() == ["eu", None]
    assert table.column("count").to_pylist() == [3, None]
    assert table.column("ok").to_pylist() == [True, False]
    assert table.column("note").to_pylist() == ["fine", None]


def test_write_parquet_with_a_timestamp_column_and_unsigned_fields(
    invoke, target, tmp_path, server, db
):
    path = tmp_path / "trades.parquet"
    pq.write_table(
        pa.table(
            {
                "ts": pa.array([1_767_225_600_000, 1_767_225_601_000], pa.timestamp("ms", "UTC")),
                "symbol": ["AAPL", "MSFT"],
                "price": [230.5, 480.25],
                "size": pa.array([100, 7], pa.uint32()),
                "venue": pa.array(["XNAS", "BATS"]).dictionary_encode(),
            }
        ),
        path,
    )
    result = invoke(
        "write", *target, str(path), "-m", "trades", "-t", "symbol", "--time-column", "ts"
    )
    assert result.exit_code == 0, result.stderr
    with influxkit.connect(server.url, database=db) as conn:
        table = conn.query_sql("SELECT * FROM trades ORDER BY time", format="arrow")
    assert table.schema.field("size").type == pa.uint64()
    rows = query_json(
        invoke, target, "SELECT symbol, price, size, venue, time FROM trades ORDER BY time"
    )
    assert rows == [
        {
            "symbol": "AAPL",
            "price": 230.5,
            "size": 100,
            "venue": "XNAS",
            "time": "2026-01-01T00:00:00Z",
        },
        {
            "symbol": "MSFT",
            "price": 480.25,
            "size": 7,
            "venue": "BATS",
            "time": "2026-01-01T00:00:01Z",
        },
    ]


def test_table_input_needs_a_measurement_and_its_columns(invoke, target, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("time,v\n1,2\n")
    missing = invoke("write", *target, str(path))
    assert missing.exit_code == 2
    assert "need --measurement" in missing.stderr
    bad_tag = invoke("write", *target, str(path), "-m", "x", "-t", "host")
    assert bad_tag.exit_code == 2
    assert "tag column 'host' is not in the file (columns: time, v)" in bad_tag.stderr


def test_dry_run_prints_line_protocol_without_a_server(invoke, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("time,host,v\n1,a,0.5\n")
    result = invoke("write", str(path), "-m", "cpu", "-t", "host", "--dry-run", "-q")
    assert result.exit_code == 0
    assert result.stdout == "cpu,host=a v=0.5 1\n"


def test_write_without_a_database_says_how_to_give_one(invoke, server):
    result = invoke("write", "--url", server.url, input=LP)
    assert result.exit_code == 2
    assert "write needs a database: pass --database NAME" in result.stderr


@pytest.fixture
def cpu(invoke, target):
    """``target`` with three cpu points written."""
    assert invoke("write", *target, "-q", input=LP).exit_code == 0
    return target


SQL = "SELECT host, usage, time FROM cpu WHERE usage > $min ORDER BY time"


def test_query_formats(invoke, cpu, tmp_path):
    expected = [
        {"host": "b", "usage": 1.5, "time": "1970-01-01T00:00:00.000002Z"},
        {"host": "a", "usage": 2.5, "time": "1970-01-01T00:00:00.000003Z"},
    ]
    args = ("query", *cpu, SQL, "--param", "min=1")
    jsonl = invoke(*args, "-f", "jsonl")
    assert [json.loads(line) for line in jsonl.stdout.splitlines()] == expected
    default = invoke(*args)  # not a terminal: JSON lines
    assert default.stdout == jsonl.stdout
    assert json.loads(invoke(*args, "-f", "json").stdout) == expected
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "-f", "csv").stdout)))
    assert rows == [{k: str(v) for k, v in r.items()} for r in expected]
    table = invoke(*args, "-f", "table").stdout.splitlines()
    assert table[0].split() == ["host", "usage", "time"]
    assert table[2].split() == ["b", "1.5", "1970-01-01T00:00:00.000002Z"]
    assert table[-1] == "(2 rows)"
    piped = pq.read_table(io.BytesIO(invoke(*args, "-f", "parquet").stdout_bytes))
    assert piped.column("usage").to_pylist() == [1.5, 2.5]
    out = tmp_path / "cpu.parquet"  # the format follows the extension
    assert invoke(*args, "-o", str(out)).exit_code == 0
    assert pq.read_table(out).num_rows == 2
    assert pq.read_table(out).schema.field("time").type == pa.timestamp("ns")


def test_query_params_are_typed(invoke, cpu):
    base = ("query", *cpu, "-f", "json")
    by_host = json.loads(invoke(*base, "SELECT usage FROM cpu WHERE host = $h", "-p", "h=b").stdout)
    assert by_host == [{"usage": 1.5}]
    typed = invoke(*base, "SELECT $i + 1 AS i, $f * 2 AS f, NOT $b AS b, $s AS s",
                   "-p", "i=41", "-p", "f=0.25", "-p", "b=true", "-p", 's="42"')  # fmt: skip
    assert json.loads(typed.stdout) == [{"i": 42, "f": 0.5, "b": False, "s": "42"}]


def test_query_from_stdin(invoke, cpu):
    result = invoke("query", *cpu, "-", "-f", "csv", input="SELECT count(*) AS n FROM cpu")
    assert result.stdout == "n\n3\n"


def test_query_errors_exit_1_with_the_library_message(invoke, cpu):
    result = invoke("query", *cpu, "SELECT * FROM nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: query refused (HTTP 400): ")
    assert "table 'public.iox.nope' not found" in result.stderr
    influxql = invoke("query", *cpu, "-l", "influxql", "SELEC")
    assert influxql.exit_code == 1
    assert "error in InfluxQL statement: parsing error" in influxql.stderr


def test_health(invoke, server):
    result = invoke("health", "--url", server.url)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"pass  {server.url}")
    report = json.loads(invoke("health", "--url", server.url, "-f", "json").stdout)
    assert report["status"] == "pass"


def test_health_of_a_server_that_is_not_there_exits_1(invoke):
    from influxkit.testing.influxd import free_port

    result = invoke("health", "--url", f"http://127.0.0.1:{free_port()}", "--option", "timeout=2")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_databases_list_create_delete(invoke, server, db):
    url = ("--url", server.url)
    assert invoke("databases", "create", db, *url).exit_code == 0
    assert db in invoke("databases", "list", *url).stdout.splitlines()
    assert db in json.loads(invoke("databases", "list", *url, "-f", "json").stdout)
    again = invoke("databases", "create", db, *url)
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    refused = invoke("databases", "delete", db, *url)  # no terminal, no --yes
    assert refused.exit_code == 2
    assert "pass --yes" in refused.stderr
    assert invoke("databases", "delete", db, *url, "--yes").exit_code == 0
    assert db not in invoke("databases", "list", *url).stdout.splitlines()
    missing = invoke("databases", "delete", db, *url, "--yes")
    assert missing.exit_code == 1


def test_a_wrong_token_is_reported_and_never_printed(invoke):
    token = "apiv3_the-real-one"
    with running_server(token=token, databases=["db"]) as srv:
        wrong = invoke("query", "--url", srv.url, "-d", "db", "--token", "apiv3_wrong", "SELECT 1")
        assert wrong.exit_code == 1
        assert "Error:" in wrong.stderr and "check the token" in wrong.stderr
        assert "apiv3_wrong" not in wrong.output
        ok = invoke("write", "--url", srv.url, "-d", "db", "--token", token, input=LP)
        assert ok.exit_code == 0, ok.stderr
        assert token not in ok.output

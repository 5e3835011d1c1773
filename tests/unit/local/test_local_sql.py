"""SQL on the local engine: InfluxDB 3's schema, parameters, errors and statuses, streaming."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from influxkit.errors import DatabaseNotFound, QueryError


@pytest.fixture
def cpu(engine):
    engine.write(
        'cpu,host=a,region=eu usage=0.5,count=3i,ok=true,note="x",big=1u 1000000000\n'
        "cpu,host=b,region=us usage=0.7,count=4i 2000000000\n"
        "cpu,host=a,region=eu usage=0.9,count=5i 3000000000\n"
    )
    return engine


def test_select_star_has_the_servers_schema(cpu):
    schema = cpu.arrow("SELECT * FROM cpu").schema
    tag = pa.dictionary(pa.int32(), pa.string())
    assert [(f.name, f.type, f.nullable) for f in schema] == [
        ("big", pa.uint64(), True),
        ("count", pa.int64(), True),
        ("host", tag, True),
        ("note", pa.string(), True),
        ("ok", pa.bool_(), True),
        ("region", tag, True),
        ("time", pa.timestamp("ns"), False),
        ("usage", pa.float64(), True),
    ]
    roles = {f.name: f.metadata[b"iox::column::type"].decode() for f in schema}
    assert roles["host"] == "iox::column_type::tag"
    assert roles["time"] == "iox::column_type::timestamp"
    assert roles["usage"] == "iox::column_type::field::float"
    assert roles["count"] == "iox::column_type::field::integer"
    assert roles["big"] == "iox::column_type::field::uinteger"
    assert roles["note"] == "iox::column_type::field::string"
    assert roles["ok"] == "iox::column_type::field::boolean"


def test_columns_sort_in_byte_order(engine):
    engine.write("m,Zeta=1,alpha=2 B=1,a=2,_x=3 1")
    assert engine.arrow("SELECT * FROM m").schema.names == ["B", "Zeta", "_x", "a", "alpha", "time"]


def test_rows_format_gives_aware_datetimes(cpu):
    rows = cpu.sql("SELECT host, usage, time FROM cpu WHERE host = 'b'")
    assert rows == [{"host": "b", "usage": 0.7, "time": datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC)}]


@pytest.mark.parametrize(
    ("query", "params", "expected"),
    [
        ("SELECT usage FROM cpu WHERE host = $host ORDER BY time", {"host": "a"}, [0.5, 0.9]),
        ("SELECT usage FROM cpu WHERE count > $n ORDER BY time", {"n": 3}, [0.7, 0.9]),
        ("SELECT usage FROM cpu WHERE usage >= $u ORDER BY time", {"u": 0.7}, [0.7, 0.9]),
        (
            "SELECT usage FROM cpu WHERE host = $h AND usage < $u",
            {"h": "a", "u": 0.6},
            [0.5],
        ),
    ],
)
def test_params(cpu, query, params, expected):
    assert [r["usage"] for r in cpu.sql(query, params)] == expected


def test_params_are_values_not_sql(cpu):
    assert cpu.sql("SELECT usage FROM cpu WHERE host = $h", {"h": "a' OR '1'='1"}) == []


def test_unbound_placeholder(cpu):
    for params in (None, {}, {"other": 1}):
        with pytest.raises(QueryError) as info:
            cpu.sql("SELECT * FROM cpu WHERE host = $host", params)
        assert info.value.status == 400
        assert "No value found for placeholder with name $host" in info.value.message


def test_unknown_database(cpu):
    with pytest.raises(DatabaseNotFound) as info:
        cpu.sql("SELECT 1", db="nope")
    assert info.value.status == 404
    assert info.value.message == "query error: database not found: nope"
    assert info.value.body == {"error": "query error: database not found: nope"}


def test_unknown_table(cpu):
    with pytest.raises(QueryError) as info:
        cpu.sql("SELECT * FROM nope")
    assert info.value.status == 400
    assert info.value.message == "Error during planning: table 'public.iox.nope' not found"


def test_syntax_error(cpu):
    with pytest.raises(QueryError) as info:
        cpu.sql("SELEC * FROM cpu")
    assert info.value.status == 400
    assert info.value.message.startswith("SQL error: ParserError(")


def test_not_implemented_is_405(cpu):
    with pytest.raises(QueryError) as info:
        cpu.sql("SELECT 1; SELECT 2")
    assert info.value.status == 405
    assert info.value.message.startswith("This feature is not implemented")


def test_execution_error_is_500(cpu):
    with pytest.raises(QueryError) as info:
        cpu.sql("SELECT count / (count - count) FROM cpu")
    assert info.value.status == 500
    assert info.value.message.startswith("query error: error while executing plan: ")
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("INSERT INTO cpu (host, time, usage) VALUES ('c', 1, 1.0)", "DML not supported"),
        ("DELETE FROM cpu", "DML not supported"),
        ("UPDATE cpu SET usage = 1", "DML not supported"),
        ("CREATE TABLE t (a INT)", "DDL not supported"),
        ("DROP TABLE cpu", "DDL not supported"),
        ("SET datafusion.execution.batch_size = 1", "Statement not supported"),
    ],
)
def test_dml_and_ddl_are_refused(cpu, statement, kind):
    with pytest.raises(QueryError) as info:
        cpu.sql(statement)
    assert info.value.status == 400
    assert info.value.message.startswith(f"Error during planning: {kind}")
    with pytest.raises(QueryError) as info:
        cpu.client.execute_sql(statement, database="db", params=None)
    assert info.value.status == 400
    assert "not supported" in info.value.message
    assert cpu.values("SELECT count(*) FROM cpu") == [(3,)]


@pytest.mark.parametrize("sql", ["SHOW TABLES", "show tables;", "  Show  Tables "])
def test_show_tables_lists_user_tables_sorted_first(cpu, sql):
    for name in ("zeta", "alpha", "mid", "b", "a_b"):  # a hash map's order is not this
        cpu.write(f"{name} v=1 1")
    rows = cpu.sql(sql)
    assert [r["table_name"] for r in rows[:6]] == ["a_b", "alpha", "b", "cpu", "mid", "zeta"]
    assert {r["table_schema"] for r in rows[:6]} == {"iox"}
    assert [r["table_name"] for r in rows[6:]] == [
        "tables", "views", "columns", "df_settings", "schemata", "routines", "parameters"
    ]  # fmt: skip


def test_execute_sql_refuses_queries_too_on_v3(cpu):
    with pytest.raises(QueryError) as info:
        cpu.client.execute_sql("SELECT 1", database="db", params=None)
    assert info.value.status == 400


def test_show_tables(cpu):
    cpu.write("mem v=1 1")
    rows = cpu.sql("SHOW TABLES")
    assert set(rows[0]) == {"table_catalog", "table_schema", "table_name", "table_type"}
    user = [
        (r["table_catalog"], r["table_name"], r["table_type"])
        for r in rows
        if r["table_schema"] == "iox"
    ]
    assert sorted(user) == [("public", "cpu", "BASE TABLE"), ("public", "mem", "BASE TABLE")]
    assert {"tables", "columns"} <= {
        r["table_name"] for r in rows if r["table_schema"] == "information_schema"
    }


def test_show_columns(cpu):
    rows = cpu.sql("SHOW COLUMNS FROM cpu")
    assert list(rows[0]) == [
        "table_catalog",
        "table_schema",
        "table_name",
        "column_name",
        "data_type",
        "is_nullable",
    ]
    info = {r["column_name"]: (r["data_type"], r["is_nullable"]) for r in rows}
    assert info["host"] == ("Dictionary(Int32, Utf8)", "YES")
    assert info["usage"] == ("Float64", "YES")
    assert info["count"] == ("Int64", "YES")
    assert info["big"] == ("UInt64", "YES")
    assert info["time"][1] == "NO"
    assert info["time"][0] in ("Timestamp(ns)", "Timestamp(Nanosecond, None)")


def test_information_schema_columns(cpu):
    rows = cpu.sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = $t ORDER BY column_name",
        {"t": "cpu"},
    )
    assert [r["column_name"] for r in rows] == [
        "big",
        "count",
        "host",
        "note",
        "ok",
        "region",
        "time",
        "usage",
    ]


def test_odd_measurement_names_are_tables(engine):
    engine.write("cpu.load v=1 1\nCPU v=2 1\nmy\\ table v=3 1")
    assert engine.values('SELECT v FROM "cpu.load"') == [(1.0,)]
    assert engine.values('SELECT v FROM "CPU"') == [(2.0,)]
    assert engine.values('SELECT v FROM "my table"') == [(3.0,)]


def test_date_bin_and_aggregates(engine):
    engine.write(
        "\n".join(f"cpu,host={'ab'[i % 2]} usage={i} {i * 30_000_000_000}" for i in range(8))
    )
    rows = engine.values(
        "SELECT date_bin(INTERVAL '1 minute', time) AS minute, host, avg(usage), count(*), "
        "max(usage) FROM cpu GROUP BY minute, host ORDER BY minute, host"
    )
    minute = 60_000_000_000
    assert rows == [
        (0, "a", 0.0, 1, 0.0),
        (0, "b", 1.0, 1, 1.0),
        (minute, "a", 2.0, 1, 2.0),
        (minute, "b", 3.0, 1, 3.0),
        (2 * minute, "a", 4.0, 1, 4.0),
        (2 * minute, "b", 5.0, 1, 5.0),
        (3 * minute, "a", 6.0, 1, 6.0),
        (3 * minute, "b", 7.0, 1, 7.0),
    ]


def test_other_formats(cpu):
    import pandas
    import polars

    assert isinstance(cpu.sql("SELECT * FROM cpu", format="pandas"), pandas.DataFrame)
    assert isinstance(cpu.sql("SELECT * FROM cpu", format="polars"), polars.DataFrame)


def test_query_sees_a_snapshot(cpu):
    table = cpu.arrow("SELECT * FROM cpu")
    cpu.write("cpu,host=c usage=1 9")
    assert table.num_rows == 3
    assert cpu.arrow("SELECT * FROM cpu").num_rows == 4


class TestStream:
    @pytest.fixture
    def big(self, engine):
        engine.write("\n".join(f"m,k=k{i % 3} v={i}i {i}" for i in range(20_000)))
        return engine

    def stream(self, engine, query, params=None, format="rows"):
        return engine.client.query_sql_stream(query, database="db", params=params, format=format)

    def test_batches_come_one_at_a_time(self, big):
        batches = self.stream(big, "SELECT v FROM m", format="arrow")
        first = next(batches)
        assert isinstance(first, pa.RecordBatch)
        assert 0 < first.num_rows < 20_000
        assert first.num_rows + sum(b.num_rows for b in batches) == 20_000

    def test_rows_are_lazy(self, big):
        rows = self.stream(big, "SELECT v, time FROM m WHERE k = $k ORDER BY time", {"k": "k1"})
        assert not isinstance(rows, list)
        head = list(itertools.islice(rows, 3))
        assert [r["v"] for r in head] == [1, 4, 7]
        assert head[0]["time"] == datetime(1970, 1, 1, tzinfo=UTC)
        assert len(head) + sum(1 for _ in rows) == 6667

    def test_planning_errors_raise_at_the_call(self, big):
        with pytest.raises(QueryError):
            self.stream(big, "SELECT * FROM nope")
        with pytest.raises(DatabaseNotFound):
            big.client.query_sql_stream("SELECT 1", database="nope", params=None, format="rows")

    def test_execution_errors_raise_from_the_iterator(self, big):
        rows = self.stream(big, "SELECT v / (v - v) FROM m")
        with pytest.raises(QueryError) as info:
            list(rows)
        assert info.value.status == 500

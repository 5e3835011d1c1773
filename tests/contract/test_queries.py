"""Queries: $params, ORDER BY / LIMIT, aggregates with date_bin, errors, formats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import influxkit

T0 = 1_767_225_600_000_000_000
MIN = 60 * 10**9

pytestmark = pytest.mark.needs("sql")


@pytest.fixture
def cpu(backend):
    lines = [
        f"cpu,host=h{i % 3},region={'eu' if i % 2 else 'us'} usage={i}.5,n={i}i {T0 + i * MIN}"
        for i in range(30)
    ]
    backend.conn.write("\n".join(lines))
    return backend


def test_params_of_each_type(cpu):
    q = "SELECT count(*) AS n FROM cpu WHERE host = $host AND n >= $low AND usage < $high"
    rows = cpu.conn.query_sql(q, params={"host": "h1", "low": 10, "high": 25.0})
    assert rows == [{"n": len([i for i in range(10, 25) if i % 3 == 1])}]


def test_params_are_not_interpolated(cpu):
    rows = cpu.conn.query_sql(
        "SELECT count(*) AS n FROM cpu WHERE host = $host", params={"host": "h1' OR '1'='1"}
    )
    assert rows == [{"n": 0}]


def test_unbound_parameter_is_an_error(cpu):
    with pytest.raises(influxkit.QueryError, match=r"No value found for placeholder.*\$host"):
        cpu.conn.query_sql("SELECT * FROM cpu WHERE host = $host")


def test_order_by_and_limit(cpu):
    rows = cpu.conn.query_sql("SELECT n FROM cpu ORDER BY time DESC LIMIT 3")
    assert rows == [{"n": 29}, {"n": 28}, {"n": 27}]


def test_aggregates_with_date_bin(cpu):
    rows = cpu.conn.query_sql(
        "SELECT date_bin(INTERVAL '10 minutes', time) AS bucket, count(*) AS c, "
        "sum(n) AS total, max(usage) AS peak FROM cpu GROUP BY bucket ORDER BY bucket"
    )
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert [r["bucket"] for r in rows] == [t0.replace(minute=m) for m in (0, 10, 20)]
    assert [r["c"] for r in rows] == [10, 10, 10]
    assert [r["total"] for r in rows] == [45, 145, 245]
    assert [r["peak"] for r in rows] == [9.5, 19.5, 29.5]


def test_arrow_result_keeps_server_types(cpu):
    table = cpu.conn.query_sql("SELECT * FROM cpu", format="arrow")
    assert table.num_rows == 30
    assert str(table.schema.field("time").type) == "timestamp[ns]"
    assert str(table.schema.field("usage").type) == "double"
    assert str(table.schema.field("n").type) == "int64"
    assert table.schema.names == sorted(table.schema.names)


def test_stream_yields_every_row(cpu):
    rows = list(cpu.conn.query_sql_stream("SELECT n FROM cpu ORDER BY n"))
    assert [r["n"] for r in rows] == list(range(30))


def test_unknown_table(cpu):
    with pytest.raises(influxkit.QueryError) as info:
        cpu.conn.query_sql("SELECT * FROM nope")
    assert info.value.status == 400
    assert "table 'public.iox.nope' not found" in str(info.value)


def test_unknown_database(cpu):
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        cpu.conn.query_sql("SELECT 1", database="no_such_db")
    assert info.value.status == 404


def test_syntax_error(cpu):
    with pytest.raises(influxkit.QueryError) as info:
        cpu.conn.query_sql("SELEC * FROM cpu")
    assert info.value.status == 400
    assert "SQL error" in str(info.value)

"""query_influxql on the InfluxDB 3 profiles: one table with ``iox::measurement``, v3's errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from influxkit.errors import DatabaseNotFound, QueryError

from .conftest import Engine


@pytest.fixture
def v3() -> Engine:
    return Engine("v3_core")


def q(engine: Engine, query: str, fmt: str = "arrow", database: str | None = "x") -> object:
    return engine.client.query_influxql(query, database=database, params=None, format=fmt)


def test_a_select_is_one_table_measurement_time_tags_then_fields(v3: Engine) -> None:
    table = q(v3, "SELECT mean(value), max(n) FROM cpu, mem GROUP BY host")
    assert isinstance(table, pa.Table)
    assert table.column_names == ["iox::measurement", "time", "host", "mean", "max"]
    assert table.schema.field("iox::measurement").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.schema.field("mean").type == pa.float64()
    assert table.schema.field("max").type == pa.int64()
    assert table.column("host").to_pylist() == ["", "a", "b"]  # mem has no `value`, no row


def test_rows_have_the_measurement_first(v3: Engine) -> None:
    rows = q(v3, "SELECT value FROM cpu WHERE host = 'b'", fmt="rows")
    assert rows == [
        {"iox::measurement": "cpu", "time": rows[0]["time"], "value": 2.5},
    ]
    assert rows[0]["time"].isoformat() == "1970-01-01T00:00:01+00:00"


def test_show_statements_in_v3_shapes(v3: Engine) -> None:
    assert q(v3, "SHOW MEASUREMENTS", "rows") == [
        {"iox::measurement": "measurements", "name": "cpu"},
        {"iox::measurement": "measurements", "name": "mem"},
    ]
    assert q(v3, "SHOW FIELD KEYS FROM mem", "rows") == [
        {"iox::measurement": "mem", "fieldKey": "free", "fieldType": "integer"},
        {"iox::measurement": "mem", "fieldKey": "used", "fieldType": "float"},
    ]
    assert q(v3, "SHOW TAG KEYS FROM mem", "rows") == [
        {"iox::measurement": "mem", "tagKey": "host"}
    ]
    assert q(v3, "SHOW DATABASES", "rows", database=None) == [
        {"iox::database": "x", "deleted": False}
    ]
    assert q(v3, "SHOW RETENTION POLICIES", "rows") == [
        {"iox::database": "x", "name": "autogen", "duration": "0s"}
    ]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        (
            "SELECT * FROM cpu; SELECT * FROM mem",
            400,
            "must provide only one InfluxQl statement per query",
        ),
        (
            "SELEC",
            400,
            "error in InfluxQL statement: parsing error: found SELEC, expected SELECT, DELETE, "
            "SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, ALTER, SET, KILL at line 1, char 1",
        ),
        (
            "SELECT value FROM cpu GROUP BY host SLIMIT 1",
            405,
            "This feature is not implemented: SLIMIT or SOFFSET",
        ),
        ("CREATE DATABASE y", 405, "This feature is not implemented: CREATE DATABASE"),
        ("DROP DATABASE x", 405, "This feature is not implemented: DROP DATABASE"),
        (
            "SELECT mean(s) FROM cpu",
            400,
            "unsupported mean iterator type: *query.stringInterruptIterator",
        ),
    ],
)
def test_v3_errors(v3: Engine, query: str, status: int, message: str) -> None:
    with pytest.raises(QueryError) as info:
        q(v3, query)
    assert (info.value.status, info.value.message) == (status, message)


def test_the_database_comes_from_db_or_the_query(v3: Engine) -> None:
    assert q(v3, 'SELECT value FROM "x"."autogen"."mem"', "rows", database=None) == []
    assert len(q(v3, 'SELECT free FROM "x".."mem"', "rows", database=None)) == 1
    with pytest.raises(QueryError, match="must specify a 'db' parameter"):
        q(v3, "SELECT * FROM cpu", database=None)
    with pytest.raises(QueryError, match=r"provided a database in both the parameters \(x\)"):
        q(v3, 'SELECT * FROM "other".."cpu"', database="x")
    with pytest.raises(DatabaseNotFound) as info:
        q(v3, "SELECT * FROM cpu", database="nope")
    assert info.value.status == 404
    assert info.value.body == {"error": "query error: database not found: nope"}


def test_duplicate_column_names_survive(v3: Engine) -> None:
    table = q(v3, "SELECT first(*), first(*) FROM mem")
    assert isinstance(table, pa.Table)
    assert table.column_names == [
        "iox::measurement",
        "time",
        "first_free",
        "first_used",
        "first_free",
        "first_used",
    ]

"""write() of tables: pyarrow, pandas and polars through a connection, with pinned types."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import influxkit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def conn():
    with influxkit.connect(client="local", database="db") as c:
        yield c


def test_pandas_with_a_time_column_and_nullable_fields(conn) -> None:
    df = pd.DataFrame(
        {
            "host": pd.Categorical(["a", "b", "a"]),
            "usage": [0.5, None, 0.7],
            "n": pd.array([1, 2, None], dtype="Int64"),
            "time": pd.to_datetime(["2026-01-01T00:00:00Z"] * 3) + pd.to_timedelta([0, 1, 2], "s"),
        }
    )
    result = conn.write(df, measurement="cpu", tag_columns=["host"], timestamp_column="time")
    assert result.accepted == 3
    rows = conn.query_sql("SELECT host, usage, n, time FROM cpu ORDER BY time")
    assert [(r["host"], r["usage"], r["n"]) for r in rows] == [
        ("a", 0.5, 1), ("b", None, 2), ("a", 0.7, None)
    ]  # fmt: skip
    assert rows[0]["time"] == T0


def test_arrow_and_polars_tables(conn) -> None:
    table = pa.table({"host": ["x", "y"], "v": pa.array([1, 2], pa.uint64()),
                      "t": pa.array([1, 2], pa.timestamp("s"))})  # fmt: skip
    conn.write(table, measurement="m", tag_columns="host", timestamp_column="t")
    frame = pl.DataFrame({"host": ["z"], "v": [3], "t": [3]}).cast({"v": pl.UInt64})
    conn.write(frame, measurement="m", tag_columns="host", timestamp_column="t", precision="s")
    rows = conn.query_sql("SELECT host, v, CAST(time AS BIGINT) AS t FROM m ORDER BY t")
    assert rows == [
        {"host": "x", "v": 1, "t": 1_000_000_000},
        {"host": "y", "v": 2, "t": 2_000_000_000},
        {"host": "z", "v": 3, "t": 3_000_000_000},
    ]
    types = {r["column_name"]: r["data_type"] for r in conn.query_sql(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'm'"
    )}  # fmt: skip
    assert types == {"host": "Dictionary(Int32, Utf8)", "v": "UInt64", "time": "Timestamp(ns)"}


def test_rows_that_cannot_be_written_refuse_the_whole_table_first(conn) -> None:
    df = pd.DataFrame({"v": [1.0, None, None]})
    with pytest.raises(influxkit.InvalidRecord, match=r"2 row\(s\).*row 1: every field is null"):
        conn.write(df, measurement="m")
    with pytest.raises(influxkit.QueryError, match="not found"):
        conn.query_sql("SELECT * FROM m")  # nothing was sent


def test_server_rejections_map_to_row_numbers(conn) -> None:
    conn.write("m v=1i 1")  # v is an integer
    table = pa.table({"v": pa.array([2, 3], pa.int64()), "t": [2, 3]})
    conn.write(table, measurement="m", timestamp_column="t")
    bad = pa.table({"v": pa.array([4.5, 5.5]), "t": [4, 5]})
    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write(bad, measurement="m", timestamp_column="t")
    assert [r.record for r in info.value.rejected] == [0, 1]


def test_pinned_types_apply_to_tables(conn) -> None:
    schema = {"m": {"v": "float", "n": "uint"}}
    table = pa.table({"v": [1, 2], "n": [3, 4], "t": [1, 2]})  # int columns
    conn.write(table, measurement="m", timestamp_column="t", schema=schema)
    assert conn.query_sql("SELECT v, n FROM m ORDER BY time") == [
        {"v": 1.0, "n": 3}, {"v": 2.0, "n": 4}
    ]  # fmt: skip
    with pytest.raises(influxkit.InvalidRecord, match=r"'n'.*uint"):
        conn.write(pa.table({"n": [-1], "t": [3]}), measurement="m", timestamp_column="t",
                   schema=schema)  # fmt: skip
    with pytest.raises(influxkit.InvalidRecord, match=r"'v'.*float"):
        conn.write(pa.table({"v": [2**53 + 1], "t": [4]}), measurement="m",
                   timestamp_column="t", schema=schema)  # fmt: skip


def test_table_options_are_for_tables_only(conn) -> None:
    with pytest.raises(influxkit.ConfigError, match="are for writing a table"):
        conn.write("m v=1i 1", measurement="m")

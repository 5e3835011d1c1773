"""Queries over Flight through a Connection: transport per connection, per call, and auto."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import polars as pl
import pyarrow as pa
import pytest

import influxkit
from influxkit.server import ServerThread, running_server
from influxkit.testing.influxd import free_port

LINES = "\n".join(f"cpu,host=h{i % 3} usage={i / 10},n={i}i {1_700_000_000_000_000_000 + i}"
                  for i in range(500))  # fmt: skip
SQL = "SELECT host, usage, n, time FROM cpu WHERE n >= $low ORDER BY time"


@pytest.fixture
def flight_server() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0) as srv:
        with influxkit.connect(srv.url, database="db") as conn:
            conn.write(LINES)
        yield srv


def test_flight_results_equal_http_results_in_every_format(flight_server) -> None:
    url, port = flight_server.url, flight_server.flight_port
    with (
        influxkit.connect(url, database="db") as http,
        influxkit.connect(url, database="db", transport="flight", flight_port=port) as flight,
    ):
        for fmt in ("rows", "arrow", "pandas", "polars"):
            a = http.query_sql(SQL, params={"low": 100}, format=fmt)
            b = flight.query_sql(SQL, params={"low": 100}, format=fmt)
            if fmt == "rows":
                assert a == b and len(a) == 400
            elif fmt == "arrow":  # equal values and schema; dictionaries may order apart
                assert a.schema.equals(b.schema, check_metadata=True)
                assert a.to_pylist() == b.to_pylist()
            elif fmt == "pandas":
                assert a.astype({"host": str}).equals(b.astype({"host": str}))
            else:
                assert a.cast({"host": pl.String}).equals(b.cast({"host": pl.String}))


def test_per_call_transport_and_streaming(flight_server) -> None:
    port = flight_server.flight_port
    with influxkit.connect(flight_server.url, database="db", flight_port=port) as conn:
        rows = conn.query_sql(SQL, params={"low": 0}, transport="flight")
        assert len(rows) == 500
        streamed = list(conn.query_sql_stream(SQL, params={"low": 0}, transport="flight"))
        assert streamed == rows
        batches = list(conn.query_sql_stream(SQL, params={"low": 0}, format="arrow",
                                             transport="flight"))  # fmt: skip
        assert all(isinstance(b, pa.RecordBatch) for b in batches)
        assert sum(b.num_rows for b in batches) == 500


def test_flight_errors_are_influxkit_errors(flight_server) -> None:
    port = flight_server.flight_port
    with influxkit.connect(flight_server.url, database="db", transport="flight",
                           flight_port=port) as conn:  # fmt: skip
        with pytest.raises(influxkit.DatabaseNotFound):
            conn.query_sql("SELECT 1", database="nope")
        with pytest.raises(influxkit.QueryError) as info:
            conn.query_sql("SELEC nonsense")
        assert info.value.operation == "query_sql"
        assert conn.stats()["query_errors"] == 2


def test_auto_uses_flight_when_it_answers(flight_server, caplog) -> None:
    port = flight_server.flight_port
    with (
        caplog.at_level(logging.WARNING, logger="influxkit"),
        influxkit.connect(
            flight_server.url, database="db", transport="auto", flight_port=port
        ) as conn,  # fmt: skip
    ):
        assert len(conn.query_sql(SQL, params={"low": 0})) == 500
        assert conn._auto is True  # the choice is remembered
    assert not [r for r in caplog.records if "Flight is not usable" in r.getMessage()]


def test_auto_falls_back_to_http_once_with_a_warning(server: ServerThread, caplog) -> None:
    with influxkit.connect(server.url, database="db") as writer:
        writer.write(LINES)
    with (
        caplog.at_level(logging.WARNING, logger="influxkit"),
        influxkit.connect(
            server.url, database="db", transport="auto", timeout=2, flight_port=free_port()
        ) as conn,  # fmt: skip
    ):
        first = conn.query_sql(SQL, params={"low": 0})
        second = conn.query_sql(SQL, params={"low": 0})
        streamed = list(conn.query_sql_stream(SQL, params={"low": 0}))
    assert len(first) == 500 and first == second == streamed
    warnings = [r for r in caplog.records if "Flight is not usable" in r.getMessage()]
    assert len(warnings) == 1


def test_auto_does_not_hide_a_bad_query(flight_server) -> None:
    port = flight_server.flight_port
    with (
        influxkit.connect(
            flight_server.url, database="db", transport="auto", flight_port=port
        ) as conn,  # fmt: skip
        pytest.raises(influxkit.QueryError),
    ):
        conn.query_sql("SELEC nonsense")


def test_the_local_engine_ignores_transport() -> None:
    with influxkit.connect(client="local", database="db", transport="flight") as conn:
        conn.write("cpu v=1i 1")
        assert conn.query_sql("SELECT v FROM cpu") == [{"v": 1}]


def test_a_bad_transport_is_refused() -> None:
    with pytest.raises(influxkit.ConfigError, match="transport"):
        influxkit.connect(client="local", transport="grpc")
    with (
        influxkit.connect(client="local", database="db") as conn,
        pytest.raises(influxkit.ConfigError, match="transport"),
    ):
        conn.query_sql("SELECT 1", transport="grpc")

"""The acceptance test: the official influxdb3-python, pointed at ``influxkit serve``, writes a
few thousand points over HTTP and reads them back over Arrow Flight with equal values.

influxdb3-python sends Flight queries to the host's HTTP port unless
``query_port_overwrite`` is given; ``influxkit serve`` answers Flight on its own port,
so the client gets ``query_port_overwrite=server.flight_port`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest
from influxdb_client_3 import InfluxDBClient3, Point, WritePrecision
from influxdb_client_3.exceptions import InfluxDB3ClientQueryError

from influxkit.server import ServerThread, running_server

TOKEN = "apiv3_official-client-token"
BASE = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in ns
POINTS = 3000


def _expected(i: int) -> dict[str, object]:
    return {
        "host": f"host-{i % 7}",
        "region": ["eu", "us", "ap"][i % 3],
        "usage": i / 7,
        "count": i * 1_000_003 - 1_500_000_000,
        "ok": i % 2 == 0,
        "message": f'point {i} "quoted", with spaces' if i % 5 else None,
        "time": BASE + i * 1_000_001,  # distinct, with nanoseconds
    }


def _point(i: int) -> Point:
    row = _expected(i)
    point = (
        Point("telemetry")
        .tag("host", row["host"])
        .tag("region", row["region"])
        .field("usage", row["usage"])
        .field("count", row["count"])
        .field("ok", row["ok"])
        .time(row["time"], WritePrecision.NS)
    )
    if row["message"] is not None:
        point.field("message", row["message"])
    return point


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with running_server(databases=["db"], token=TOKEN, flight_port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def official(server: ServerThread) -> Iterator[InfluxDBClient3]:
    with InfluxDBClient3(
        host=server.url,
        token=TOKEN,
        database="db",
        query_port_overwrite=server.flight_port,
    ) as client:
        client.write(record=[_point(i) for i in range(POINTS)])
        yield client


def test_reads_back_over_flight_what_it_wrote_over_http(official: InfluxDBClient3) -> None:
    table = official.query("SELECT * FROM telemetry ORDER BY time", language="sql")
    assert isinstance(table, pa.Table)
    assert table.num_rows == POINTS
    assert sorted(table.schema.names) == sorted(_expected(0))
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.schema.field("host").type == pa.string()  # tags flattened over Flight
    assert table.schema.field("count").type == pa.int64()
    table = table.set_column(
        table.schema.get_field_index("time"), "time", table.column("time").cast(pa.int64())
    )
    assert table.to_pylist() == [_expected(i) for i in range(POINTS)]


def test_query_parameters_and_aggregates(official: InfluxDBClient3) -> None:
    table = official.query(
        "SELECT count(*) AS n, sum(count) AS total FROM telemetry WHERE host = $host AND ok = $ok",
        query_parameters={"host": "host-3", "ok": True},
    )
    rows = [_expected(i) for i in range(POINTS)]
    chosen = [r for r in rows if r["host"] == "host-3" and r["ok"]]
    assert table.to_pylist() == [{"n": len(chosen), "total": sum(r["count"] for r in chosen)}]


def test_pandas_mode(official: InfluxDBClient3) -> None:
    frame = official.query("SELECT usage FROM telemetry ORDER BY time LIMIT 3", mode="pandas")
    assert frame["usage"].tolist() == [0.0, 1 / 7, 2 / 7]


def test_errors_reach_the_official_client(server: ServerThread, official: InfluxDBClient3) -> None:
    with pytest.raises(InfluxDB3ClientQueryError, match="Database 'nope' not found"):
        official.query("SELECT 1", database="nope")
    with pytest.raises(InfluxDB3ClientQueryError, match=r"table 'public\.iox\.nope' not found"):
        official.query("SELECT * FROM nope")
    with (
        InfluxDBClient3(
            host=server.url, token="wrong", database="db", query_port_overwrite=server.flight_port
        ) as intruder,
        pytest.raises(InfluxDB3ClientQueryError, match="Unauthenticated"),
    ):
        intruder.query("SELECT 1")


def test_without_the_port_overwrite_it_asks_the_http_port(server: ServerThread) -> None:
    # Why query_port_overwrite is needed: the HTTP port (uvicorn) does not speak gRPC.
    with (
        InfluxDBClient3(
            host=server.url, token=TOKEN, database="db", query_timeout=10_000
        ) as client,
        pytest.raises(InfluxDB3ClientQueryError, match="unavailable"),
    ):
        client.query("SELECT 1")

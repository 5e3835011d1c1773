"""``format="csv"``: the server's CSV text, the same from every backend and transport.

The text is InfluxDB 3's ``format=csv`` (reference 3.3: a header, ``\\n`` line ends,
NULL as an empty cell, floats with their decimal point, times without ``Z``), which
``influxkit serve`` answers over HTTP and the local engine makes with the same encoder.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ways_in import ways_in

import influxkit
import influxkit.aio
from influxkit.server import ServerThread, running_server

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
LINES = "\n".join(
    [
        f'csvm,host=a,region=eu usage=1.5,n=3i,ok=true,note="hi, \\"you\\"" {T0}',
        f"csvm,host=a,region=us n=-4i {T0 + 123}",
        f"csvm,host=b usage=2.0,ok=false {T0 + 1_500_000_000}",
    ]
)
SQL_CSV = (
    "host,n,note,ok,region,time,usage\n"
    'a,3,"hi, ""you""",true,eu,2026-01-01T00:00:00,1.5\n'
    "a,-4,,,us,2026-01-01T00:00:00.000000123,\n"
    "b,,,false,,2026-01-01T00:00:01.500,2.0\n"
)
INFLUXQL_CSV = (
    "iox::measurement,time,host,n,note,ok,region,usage\n"
    'csvm,2026-01-01T00:00:00,a,3,"hi, ""you""",true,eu,1.5\n'
    "csvm,2026-01-01T00:00:00.000000123,a,-4,,,us,\n"
    "csvm,2026-01-01T00:00:01.500,b,,,false,,2.0\n"
)
QUERIES = [
    "SELECT * FROM csvm ORDER BY time",
    "SELECT host, count(*) AS c, avg(usage) AS mean FROM csvm GROUP BY host ORDER BY host",
    "SELECT * FROM csvm WHERE host = 'nobody'",  # no rows: an empty body
    "SELECT note, time FROM csvm WHERE note IS NOT NULL",
]


@pytest.mark.needs("sql")
def test_query_sql_csv_is_the_servers_text(backend):
    backend.conn.write(LINES)
    text = backend.conn.query_sql("SELECT * FROM csvm ORDER BY time", format="csv")
    assert type(text) is str
    assert text == SQL_CSV


@pytest.mark.needs("sql")
def test_query_sql_csv_of_no_rows_is_empty(backend):
    backend.conn.write(LINES)
    assert backend.conn.query_sql("SELECT * FROM csvm WHERE n > 100", format="csv") == ""


@pytest.mark.needs("sql")
def test_query_influxql_csv_on_influxdb_3(backend):
    backend.conn.write(LINES)
    assert backend.conn.query_influxql("SELECT * FROM csvm", format="csv") == INFLUXQL_CSV


@pytest.mark.needs("sql")
def test_csv_errors_are_the_query_errors(backend):
    backend.conn.write(LINES)
    with pytest.raises(influxkit.QueryError, match="no_such_table"):
        backend.conn.query_sql("SELECT * FROM no_such_table", format="csv")


@pytest.mark.needs("sql")
def test_csv_is_not_a_stream_format(backend):
    with pytest.raises(influxkit.ConfigError, match="expected one of rows, arrow"):
        list(backend.conn.query_sql_stream("SELECT 1", format="csv"))


# -- the same text from the local engine, from serve over HTTP and over Flight -----------


@pytest.fixture(scope="module")
def flight_serve() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0) as server:
        yield server


def test_local_serve_and_flight_give_identical_csv(flight_serve):
    with influxkit.connect(flight_serve.url, database="db") as writer:
        writer.write(LINES)
    texts: dict[str, dict[str, str]] = {}
    for name, conn, transport in ways_in(flight_serve):
        try:
            if name.startswith("local"):
                conn.write(LINES)
            texts[name] = {q: conn.query_sql(q, format="csv", transport=transport) for q in QUERIES}
            texts[name]["influxql"] = conn.query_influxql(
                "SELECT * FROM csvm", format="csv", transport=transport
            )
        finally:
            conn.close()
    reference = texts["serve"]
    assert reference[QUERIES[0]] == SQL_CSV
    assert reference[QUERIES[2]] == ""
    assert reference[QUERIES[1]].startswith("host,c,mean\na,2,1.5\nb,1,2.0\n")
    for name, got in texts.items():
        assert got == reference, name

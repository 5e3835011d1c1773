"""InfluxQL over ``influxkit serve``'s Arrow Flight: what InfluxDB 3's planner refuses there.

InfluxDB 3 answers ``SHOW DATABASES`` and ``FROM db.rp.measurement`` over HTTP
(``/api/v3/query_influxql``: its handler strips the prefix and lists the databases), but a
Flight ticket goes straight to the planner, which refuses both (the server's
``influxdb3/tests/server/flight.rs::flight_influxql``), and more than one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.flight as fl
import pytest

import influxkit
from influxkit.errors import QueryError
from influxkit.server import ServerThread, running_server

NOT_IMPLEMENTED = "Error while planning query: This feature is not implemented: "
PREFIX = "database prefix in qualified measurement syntax"
REFUSED = {
    "SELECT time, host, usage FROM db.autogen.cpu": PREFIX,
    "SELECT usage FROM db..cpu": PREFIX,
    "SELECT * FROM (SELECT usage FROM db.autogen.cpu)": PREFIX,  # the engine has no subqueries
    "SELECT usage FROM db.autogen.cpu SLIMIT 1": "SLIMIT or SOFFSET",
    "SHOW DATABASES": "SHOW DATABASES",
    "SHOW MEASUREMENTS; SHOW DATABASES": (
        "The context currently only supports a single InfluxQL statement"
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0) as srv:
        srv.engine.write(
            b"cpu,host=s1,region=us-east usage=0.9 2998574936000000000",
            database="db",
            precision="ns",
            accept_partial=False,
            no_sync=False,
        )
        yield srv


@pytest.fixture
def conn(server: ServerThread) -> Iterator[influxkit.Connection]:
    with influxkit.connect(server.url, database="db", flight_port=server.flight_port) as c:
        yield c


@pytest.mark.parametrize(("query", "what"), REFUSED.items(), ids=list(REFUSED))
def test_flight_refuses_what_only_http_answers(conn, query, what):
    with pytest.raises(QueryError) as info:
        conn.query_influxql(query, transport="flight")
    assert info.value.message.endswith(f"(gRPC INVALID_ARGUMENT): {NOT_IMPLEMENTED}{what}")
    assert info.value.status == 400


@pytest.mark.parametrize(
    "query", [q for q in REFUSED if not any(w in q for w in (";", "SLIMIT", "(S"))]
)
def test_http_answers_them(conn, query):
    assert conn.query_influxql(query, transport="http")


def test_the_server_tests_ticket(server):
    # The very tickets of the server's flight_influxql test, over a bare Flight client.
    client = fl.connect(server.flight_url)
    try:

        def ticket(q: str) -> fl.Ticket:
            doc = {"database": "db", "sql_query": q, "query_type": "influxql"}
            return fl.Ticket(json.dumps(doc).encode())

        with pytest.raises(pa.ArrowInvalid, match="database prefix in qualified"):
            client.do_get(
                ticket("SELECT time, host, region, usage FROM foo.autogen.cpu")
            ).read_all()
        with pytest.raises(pa.ArrowInvalid, match="not implemented: SHOW DATABASES"):
            client.do_get(ticket("SHOW DATABASES")).read_all()
        table = client.do_get(ticket("SHOW MEASUREMENTS")).read_all()
        assert table.to_pylist() == [{"iox::measurement": "measurements", "name": "cpu"}]
    finally:
        client.close()


@pytest.mark.parametrize(
    "query", ["SELECT usage FROM autogen.cpu", "SELECT usage FROM cpu", "SHOW RETENTION POLICIES"]
)
def test_what_flight_does_answer(conn, query):
    assert conn.query_influxql(query, transport="flight") == conn.query_influxql(
        query, transport="http"
    )

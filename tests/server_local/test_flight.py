"""Arrow Flight on ``influxkit serve``: influxkit's Flight client against the real server.

Each test starts ``running_server(..., flight_port=0)`` (HTTP and Flight on free
loopback ports) and compares what Flight answers with what the HTTP endpoints do.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.flight as fl
import pytest

import influxkit
from influxkit.clients.flight import FlightQueryClient
from influxkit.config import ConnectionConfig
from influxkit.errors import AuthError, DatabaseNotFound, QueryError, TransportError
from influxkit.results import convert
from influxkit.server import ServerThread, running_server

TOKEN = "apiv3_flight-token"
LINES = "\n".join(
    [
        'cpu,host=a,region=eu usage=0.5,count=3i,ok=true,note="first" 1700000000000000000',
        "cpu,host=b usage=1.25,count=-7i,ok=false 1700000000000000001",
        'cpu,host=a,region=us usage=2.0,note="th\\"ird" 1700000000123456789',
        "mem,host=a free=1024u 1700000000000000000",
    ]
)


def _write(server: ServerThread, lines: str = LINES) -> None:
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    r = httpx.post(
        f"{server.url}/api/v3/write_lp", params={"db": "db"}, content=lines, headers=headers
    )
    assert r.status_code == 204, r.text


def _config(server: ServerThread, **options: Any) -> ConnectionConfig:
    options.setdefault("token", server.token)
    return ConnectionConfig.from_options(
        host=server.host, port=server.port, flight_port=server.flight_port, **options
    )


@pytest.fixture
def flight_server() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0) as srv:
        _write(srv)
        yield srv


@pytest.fixture
def flight_auth_server() -> Iterator[ServerThread]:
    with running_server(databases=["db"], flight_port=0, token=TOKEN) as srv:
        _write(srv)
        yield srv


@pytest.fixture
def flight(flight_server: ServerThread) -> Iterator[FlightQueryClient]:
    with FlightQueryClient(_config(flight_server)) as client:
        yield client


SQL = "SELECT * FROM cpu WHERE usage >= $low AND host = $host ORDER BY time"
PARAMS = {"low": 0.5, "host": "a"}


@pytest.mark.parametrize("server_fixture", ["flight_server", "flight_auth_server"])
def test_sql_with_params_gives_the_values_of_the_http_json_path(
    request: pytest.FixtureRequest, server_fixture: str
) -> None:
    server: ServerThread = request.getfixturevalue(server_fixture)
    with FlightQueryClient(_config(server)) as client:
        table = client.query(SQL, database="db", params=PARAMS)
    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    body = {"db": "db", "q": SQL, "params": PARAMS, "format": "json"}
    answer = httpx.post(f"{server.url}/api/v3/query_sql", json=body, headers=headers)
    assert answer.status_code == 200
    # JSON leaves NULLs out and writes time as "YYYY-MM-DDTHH:MM:SS[.fff...]" (UTC).
    expected = [{**r, "time": pd.Timestamp(r["time"]).value} for r in answer.json()]
    assert len(expected) == 2
    table = table.set_column(
        table.schema.get_field_index("time"), "time", table.column("time").cast(pa.int64())
    )
    got = [{k: v for k, v in row.items() if v is not None} for row in table.to_pylist()]
    assert got == expected
    assert got[1] == {"host": "a", "region": "us", "usage": 2.0, "note": 'th"ird',
                      "time": 1700000000123456789}  # fmt: skip


def test_arrow_and_rows_equal_influxkit_over_http(flight_server: ServerThread) -> None:
    with FlightQueryClient(_config(flight_server)) as client:
        over_flight = client.query("SELECT * FROM cpu ORDER BY time", database="db")
    with influxkit.connect(flight_server.url, database="db") as conn:
        over_http = conn.query_sql("SELECT * FROM cpu ORDER BY time", format="arrow")
        rows = conn.query_sql("SELECT * FROM cpu ORDER BY time")
    # Same schema, metadata and dictionary tags included (re-encoded after the wire).
    assert over_flight.schema.equals(over_http.schema, check_metadata=True)
    assert over_flight.equals(over_http)
    assert over_flight.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert over_flight.schema.field("time").type == pa.timestamp("ns")
    assert convert(over_flight, "rows") == rows


def test_on_the_wire_tags_are_plain_strings_with_their_metadata(
    flight_server: ServerThread,
) -> None:
    client = fl.FlightClient(flight_server.flight_url)
    try:
        ticket = json.dumps({"database": "db", "sql_query": "SELECT * FROM cpu"}).encode()
        table = client.do_get(fl.Ticket(ticket)).read_all()
    finally:
        client.close()
    host = table.schema.field("host")
    assert host.type == pa.string()
    assert host.metadata == {b"iox::column::type": b"iox::column_type::tag"}
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.schema.field("usage").type == pa.float64()
    assert table.schema.field("count").type == pa.int64()
    with FlightQueryClient(_config(flight_server), dictionary_tags=False) as raw:
        assert raw.query("SELECT host FROM cpu", database="db").schema.field("host").type == (
            pa.string()
        )


def test_uint_bool_and_string_fields_keep_their_types(flight: FlightQueryClient) -> None:
    mem = flight.query("SELECT free FROM mem", database="db")
    assert mem.schema.field("free").type == pa.uint64()
    assert mem.column("free").to_pylist() == [1024]
    cpu = flight.query("SELECT ok, note FROM cpu ORDER BY time", database="db")
    assert cpu.to_pylist() == [
        {"ok": True, "note": "first"},
        {"ok": False, "note": None},
        {"ok": None, "note": 'th"ird'},
    ]


def test_an_empty_result_has_its_schema(flight: FlightQueryClient) -> None:
    table = flight.query("SELECT host, usage FROM cpu WHERE usage > 100", database="db")
    assert table.num_rows == 0
    assert table.schema.names == ["host", "usage"]
    assert table.schema.field("usage").type == pa.float64()
    assert list(flight.stream("SELECT host FROM cpu WHERE usage > 100", database="db")) == []


def test_database_aliases_in_a_raw_ticket(flight_server: ServerThread) -> None:
    client = fl.FlightClient(flight_server.flight_url)
    try:
        for key in ("database", "namespace_name", "bucket", "bucket-name"):
            ticket = json.dumps({key: "db", "sql_query": "SELECT count(*) AS n FROM cpu"})
            assert client.do_get(fl.Ticket(ticket.encode())).read_all().to_pylist() == [{"n": 3}]
    finally:
        client.close()


@pytest.mark.parametrize(
    "ticket",
    [
        b"not json",
        b'{"database": "db"}',
        b'{"database": "db", "sql_query": "SELECT 1", "query_type": "flux"}',
    ],
)
def test_an_invalid_ticket_is_invalid_argument(flight_server: ServerThread, ticket: bytes) -> None:
    client = fl.FlightClient(flight_server.flight_url)
    try:
        with pytest.raises(pa.ArrowInvalid, match=r"Invalid ticket\. Error: Invalid ticket"):
            client.do_get(fl.Ticket(ticket)).read_all()
    finally:
        client.close()


def test_streaming_yields_batches_as_they_come(flight_server: ServerThread) -> None:
    lines = "\n".join(f"big,host=h{i % 5} v={i}i {1700000000000000000 + i}" for i in range(50_000))
    _write(flight_server, lines)
    with FlightQueryClient(_config(flight_server)) as client:
        batches = list(client.stream("SELECT host, v FROM big", database="db"))
        whole = client.query("SELECT host, v FROM big", database="db")
        assert len(batches) > 1
        assert sum(b.num_rows for b in batches) == 50_000
        assert all(isinstance(b, pa.RecordBatch) for b in batches)
        assert batches[0].schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
        streamed = pa.Table.from_batches(batches)
        assert sorted(streamed.column("v").to_pylist()) == sorted(whole.column("v").to_pylist())
        # Leaving a stream early cancels it; the connection stays usable.
        stream = client.stream("SELECT v FROM big", database="db")
        assert next(stream).num_rows > 0
        stream.close()
        assert client.query("SELECT count(*) AS n FROM big", database="db").to_pylist() == [
            {"n": 50_000}
        ]


def test_errors_map_to_the_influxkit_tree(flight: FlightQueryClient) -> None:
    with pytest.raises(DatabaseNotFound, match="Database 'nope' not found") as not_found:
        flight.query("SELECT 1", database="nope")
    assert not_found.value.status == 404
    with pytest.raises(QueryError, match=r"table 'public.iox.nope' not found") as bad_table:
        flight.query("SELECT * FROM nope", database="db")
    assert bad_table.value.status == 400
    assert "Detail" not in str(bad_table.value)  # pyarrow's traceback detail is removed
    with pytest.raises(QueryError, match="ParserError"):
        flight.query("SELEC 1", database="db")
    with pytest.raises(QueryError, match=r"No value found for placeholder with name \$host"):
        flight.query("SELECT * FROM cpu WHERE host = $host", database="db")
    with pytest.raises(DatabaseNotFound):
        list(flight.stream("SELECT 1", database="nope"))


def test_influxql_tickets_go_to_the_engines_influxql(
    flight_server: ServerThread, flight: FlightQueryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None, Any]] = []
    answer = pa.table(
        {
            "iox::measurement": pa.array(["cpu"]).dictionary_encode(),
            "time": pa.array([1], pa.timestamp("ns")),
            "usage": [0.5],
        }
    )

    def query_influxql(query: str, *, database: str | None, params: Any, format: str) -> Any:
        seen.append((query, database, params))
        assert format == "arrow"
        return answer

    monkeypatch.setattr(flight_server.engine, "query_influxql", query_influxql)
    table = flight.query("SELECT usage FROM cpu WHERE host = $h", database="db",
                         params={"h": "a"}, query_type="influxql")  # fmt: skip
    assert seen == [("SELECT usage FROM cpu WHERE host = $h", "db", {"h": "a"})]
    assert table.to_pylist() == answer.to_pylist()
    assert table.schema.field("iox::measurement").type == pa.string()  # flattened, no tag metadata
    with pytest.raises(DatabaseNotFound):  # the database is looked up first, as on the server
        flight.query("SHOW MEASUREMENTS", database="nope", query_type="influxql")
    assert len(seen) == 1


def test_influxql_the_engine_lacks_is_refused_clearly(
    flight_server: ServerThread, flight: FlightQueryClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from influxkit.errors import UnsupportedOperation

    def query_influxql(query: str, **kwargs: Any) -> Any:
        raise UnsupportedOperation("query_influxql() is not available in the local engine yet")

    monkeypatch.setattr(flight_server.engine, "query_influxql", query_influxql)
    # Answered as the server answers DataFusion's NotImplemented: INVALID_ARGUMENT.
    with pytest.raises(QueryError, match="This feature is not implemented: query_influxql") as e:
        flight.query("SHOW MEASUREMENTS", database="db", query_type="influxql")
    assert e.value.status == 400
    assert e.value.operation == "query_influxql"


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_a_missing_or_wrong_token_is_an_auth_error(
    flight_auth_server: ServerThread, token: str | None
) -> None:
    config = _config(flight_auth_server, token=token or None)
    with (
        FlightQueryClient(config) as client,
        pytest.raises(AuthError, match="UNAUTHENTICATED") as caught,
    ):
        client.query("SELECT 1", database="db")
    assert caught.value.status == 401
    assert TOKEN not in str(caught.value)


BASIC = "Basic " + base64.b64encode(f"user:{TOKEN}".encode()).decode()


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"Token {TOKEN}", BASIC])
def test_every_scheme_the_server_reads(flight_auth_server: ServerThread, header: str) -> None:
    client = fl.FlightClient(flight_auth_server.flight_url)
    options = fl.FlightCallOptions(headers=[(b"authorization", header.encode())])
    ticket = fl.Ticket(b'{"database": "db", "sql_query": "SELECT count(*) AS n FROM cpu"}')
    try:
        assert client.do_get(ticket, options).read_all().to_pylist() == [{"n": 3}]
        lower = fl.FlightCallOptions(headers=[(b"authorization", header.lower().encode())])
        with pytest.raises(fl.FlightUnauthenticatedError):  # schemes are case-sensitive
            client.do_get(ticket, lower).read_all()
    finally:
        client.close()


def test_a_token_made_through_the_api_opens_flight_too(flight_auth_server: ServerThread) -> None:
    made = httpx.post(
        f"{flight_auth_server.url}/api/v3/configure/token/named_admin",
        json={"token_name": "reader"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert made.status_code == 201
    token = made.json()["token"]
    with FlightQueryClient(_config(flight_auth_server, token=token)) as client:
        assert client.query("SELECT count(*) AS n FROM cpu", database="db").to_pylist() == [
            {"n": 3}
        ]
        httpx.delete(
            f"{flight_auth_server.url}/api/v3/configure/token",
            params={"token_name": "reader"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        ).raise_for_status()
        with pytest.raises(AuthError):
            client.query("SELECT 1", database="db")


def test_a_server_that_stopped_is_a_transport_error() -> None:
    with running_server(databases=["db"], flight_port=0) as srv:
        cfg = _config(srv)
        with FlightQueryClient(cfg) as client:
            assert client.query("SELECT 1 AS one", database="db").to_pylist() == [{"one": 1}]
    with FlightQueryClient(cfg) as client, pytest.raises(TransportError) as caught:
        client.query("SELECT 1", database="db")
    assert caught.value.retryable is True

"""Flight failures as influxkit errors, against the statuses InfluxDB 3 (tonic) really sends.

The gRPC stub (conftest) answers with a bare ``grpc-status`` as a Rust server does, so
these tests see what pyarrow raises for InfluxDB itself, not for pyarrow's own server.
They also check what the client puts on the wire: the DoGet path, the ticket, the
``authorization`` metadata and the deadline.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from influxkit.clients.flight import FlightQueryClient, grpc_code, server_message, translate_error
from influxkit.config import ConnectionConfig
from influxkit.errors import (
    AuthError,
    ConfigError,
    DatabaseNotFound,
    InfluxError,
    QueryError,
    ServerError,
    TransportError,
)
from influxkit.server.flight import INVALID_TICKET, flight_error_for

TOKEN = "apiv3_flight-secret"

# gRPC status code -> (class, status, retryable), as the client must map them.
CASES = [
    (5, "Database 'nope' not found", DatabaseNotFound, 404, False),
    (3, INVALID_TICKET, QueryError, 400, False),
    (3, "Error while planning query: table 'public.iox.x' not found", QueryError, 400, False),
    (16, "Unauthenticated", AuthError, 401, False),
    (7, "Permission denied", AuthError, 403, False),
    (12, "Unsupported message type", QueryError, 405, False),
    (13, "Failed to encode schema", ServerError, 500, True),
    (2, "something odd", ServerError, 500, True),
    (8, "Resources exhausted", QueryError, 400, False),
    (14, "Authz verification error", TransportError, None, True),
]


def _client(port: int, **options: Any) -> FlightQueryClient:
    cfg = ConnectionConfig.from_options(host="127.0.0.1", port=port, **options)
    return FlightQueryClient(cfg)


@pytest.mark.parametrize(("code", "message", "cls", "status", "retryable"), CASES)
def test_each_status_of_the_server_maps_to_its_class(
    grpc_stub: Callable[..., Any],
    code: int,
    message: str,
    cls: type[InfluxError],
    status: int | None,
    retryable: bool,
) -> None:
    stub = grpc_stub(code, message)
    with _client(stub.port, token=TOKEN) as client, pytest.raises(cls) as caught:
        client.query("SELECT 1", database="db")
    err = caught.value
    assert type(err) is cls
    assert getattr(err, "status", None) == status
    assert err.retryable is retryable
    assert err.operation == "query_sql"
    assert message in str(err)
    for noise in ("gRPC client debug context", "Flight returned", "Detail:", "Client context"):
        assert noise not in str(err)
    if isinstance(err, ServerError):
        assert err.body == message
        assert err.method == "DoGet"
        assert err.path == f"grpc+tcp://127.0.0.1:{stub.port}"


def test_the_status_name_comes_from_grpc_not_from_the_arrow_class(
    grpc_stub: Callable[..., Any],
) -> None:
    stub = grpc_stub(8, "Resources exhausted")  # pyarrow calls it ArrowInvalid
    with _client(stub.port) as client, pytest.raises(QueryError, match="RESOURCE_EXHAUSTED"):
        client.query("SELECT 1", database="db")


def test_the_token_never_shows_in_a_message(grpc_stub: Callable[..., Any]) -> None:
    stub = grpc_stub(3, f"bad token {TOKEN} in the query")
    with _client(stub.port, token=TOKEN) as client, pytest.raises(QueryError) as caught:
        client.query("SELECT 1", database="db")
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value.body)
    assert "[secure]" in str(caught.value)


@pytest.mark.parametrize(("scheme", "sent"), [("Bearer", "Bearer"), ("Token", "Token")])
def test_what_the_client_sends(grpc_stub: Callable[..., Any], scheme: str, sent: str) -> None:
    stub = grpc_stub(5, "Database 'db' not found")
    with _client(stub.port, token=TOKEN, auth_scheme=scheme, timeout=7) as client:
        with pytest.raises(DatabaseNotFound):
            client.query("SELECT * FROM cpu WHERE host = $h", database="db", params={"h": "a"})
        with pytest.raises(DatabaseNotFound):
            list(
                client.stream("SHOW MEASUREMENTS", database="db", query_type="influxql", timeout=2)
            )
    first, second = stub.calls
    assert first.headers[":path"] == "/arrow.flight.protocol.FlightService/DoGet"
    assert first.headers["authorization"] == f"{sent} {TOKEN}"
    assert "influxkit/" in first.headers["user-agent"]
    # grpc-timeout is the deadline left when sent, in ms ("6998m") or a coarser unit.
    assert (
        first.headers["grpc-timeout"][-1] in "mS"
        and 6 <= _seconds(first.headers["grpc-timeout"]) <= 7.1
    )
    assert 1 <= _seconds(second.headers["grpc-timeout"]) <= 2.1
    assert json.loads(first.ticket) == {
        "database": "db",
        "sql_query": "SELECT * FROM cpu WHERE host = $h",
        "query_type": "sql",
        "params": {"h": "a"},
    }
    assert json.loads(second.ticket)["query_type"] == "influxql"


def _seconds(grpc_timeout: str) -> float:
    units = {"H": 3600, "M": 60, "S": 1, "m": 1e-3, "u": 1e-6, "n": 1e-9}
    return int(grpc_timeout[:-1]) * units[grpc_timeout[-1]]


def test_no_token_sends_no_authorization(grpc_stub: Callable[..., Any]) -> None:
    stub = grpc_stub(16, "Unauthenticated")
    with _client(stub.port) as client, pytest.raises(AuthError):
        client.query("SELECT 1", database="db")
    assert "authorization" not in stub.calls[0].headers


def test_a_server_that_is_not_there_is_a_retryable_transport_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with _client(port, token=TOKEN) as client, pytest.raises(TransportError) as caught:
        client.query("SELECT 1", database="db")
    assert caught.value.retryable is True
    assert f"grpc+tcp://127.0.0.1:{port}" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_closed_client_refuses_and_close_is_idempotent(grpc_stub: Callable[..., Any]) -> None:
    stub = grpc_stub(5, "x")
    client = _client(stub.port)
    client.close()
    client.close()
    with pytest.raises(TransportError, match="closed") as caught:
        client.query("SELECT 1", database="db")
    assert caught.value.retryable is False


def test_flight_needs_v3() -> None:
    with pytest.raises(ConfigError, match="need InfluxDB 3"):
        FlightQueryClient(ConnectionConfig.from_options(api_version="v2"))


@pytest.mark.parametrize(
    ("options", "location"),
    [
        ({"host": "db.example"}, "grpc+tcp://db.example:8181"),
        ({"host": "db.example", "scheme": "https", "port": 443}, "grpc+tls://db.example:443"),
        ({"host": "db.example", "port": 8181, "flight_port": 8182}, "grpc+tcp://db.example:8182"),
        ({"host": "::1", "path_prefix": "/influx"}, "grpc+tcp://[::1]:8181"),
    ],
)
def test_location_is_the_http_port_unless_flight_port(
    options: dict[str, Any], location: str
) -> None:
    assert FlightQueryClient(ConnectionConfig.from_options(**options)).location == location


def test_server_message_removes_what_pyarrow_adds() -> None:
    from_python_server = pa.ArrowInvalid(
        "Error while planning query: x. Detail: Python exception: Traceback (most recent "
        "call last):\n  File ...\n. gRPC client debug context: INVALID_ARGUMENT:Error ..."
    )
    assert server_message(from_python_server) == "Error while planning query: x"
    assert grpc_code(from_python_server) == "INVALID_ARGUMENT"
    bare = fl.FlightServerError("Flight RPC failed with message: odd. gRPC client debug context: ")
    assert server_message(bare) == "odd"
    assert grpc_code(ValueError("plain")) is None


def test_a_timeout_says_to_raise_it() -> None:
    err = translate_error(
        fl.FlightTimedOutError("Deadline Exceeded"), location="grpc+tcp://h:1", timeout=2.5
    )
    assert isinstance(err, TransportError)
    assert err.retryable is True
    assert "2.5 s" in str(err) and "timeout=" in str(err)


def test_an_untrusted_certificate_is_not_retryable() -> None:
    exc = fl.FlightUnavailableError(
        "failed to connect to all addresses; Ssl handshake failed: certificate verify failed"
    )
    err = translate_error(exc, location="grpc+tls://h:1", timeout=1)
    assert isinstance(err, TransportError)
    assert err.retryable is False
    assert "ca_file" in str(err)
    plain = translate_error(exc, location="grpc+tcp://h:1", timeout=1)
    assert plain.retryable is True


def test_other_arrow_errors_while_reading_are_transport_errors() -> None:
    err = translate_error(pa.ArrowIOError("stream reset"), location="grpc+tcp://h:1", timeout=1)
    assert isinstance(err, TransportError)
    assert err.retryable is True


# -- the server side: which Python exception gives which status ---------------------


def test_server_errors_become_the_statuses_influxdb_answers() -> None:
    from influxkit.errors import DatabaseNotFound as NotFound
    from influxkit.errors import UnsupportedOperation

    assert isinstance(
        flight_error_for(NotFound("x"), database="d", planning=True), pa.ArrowKeyError
    )
    planning = flight_error_for(QueryError("bad", status=400), database="d", planning=True)
    assert isinstance(planning, pa.ArrowInvalid)
    assert str(planning) == "Error while planning query: bad"
    executing = flight_error_for(
        QueryError("query error: error while executing plan: x", status=500),
        database="d",
        planning=True,
    )
    assert str(executing) == "query error: error while executing plan: x"
    assert str(flight_error_for(QueryError("late"), database="d", planning=False)) == "late"
    unsupported = flight_error_for(UnsupportedOperation("no InfluxQL"), database="d", planning=True)
    assert str(unsupported) == "This feature is not implemented: no InfluxQL"
    long = flight_error_for(QueryError("x" * 5000), database="d", planning=False)
    assert len(str(long)) == 2003 and str(long).endswith("...")


def test_unexpected_server_errors_are_internal(caplog: pytest.LogCaptureFixture) -> None:
    err = flight_error_for(RuntimeError("boom"), database="d", planning=True)
    assert isinstance(err, fl.FlightInternalError)
    assert "boom" in str(err)
    assert "unexpected error" in caplog.text


class _Raising(fl.FlightServerBase):  # type: ignore[misc]
    """A pyarrow Flight server whose DoGet raises the exception the ticket names."""

    ERRORS: dict[bytes, Callable[[], Exception]] = {  # noqa: RUF012
        b"key": lambda: pa.ArrowKeyError("Database 'x' not found"),
        b"invalid": lambda: pa.ArrowInvalid("Invalid ticket. Error: Invalid ticket"),
        b"unauthenticated": lambda: fl.FlightUnauthenticatedError("Unauthenticated"),
        b"internal": lambda: fl.FlightInternalError("internal error: boom"),
    }

    def do_get(self, context: Any, ticket: Any) -> Any:
        raise self.ERRORS[ticket.ticket]()


@pytest.mark.parametrize(
    ("name", "code"),
    [("key", "NOT_FOUND"), ("invalid", "INVALID_ARGUMENT"),
     ("unauthenticated", "UNAUTHENTICATED"), ("internal", "INTERNAL")],
)  # fmt: skip
def test_pyarrow_server_sends_the_status_the_exception_names(name: str, code: str) -> None:
    # What influxkit.server.flight relies on: raising these in do_get sends these codes.
    with _Raising("grpc+tcp://127.0.0.1:0") as server:
        client = fl.FlightClient(f"grpc+tcp://127.0.0.1:{server.port}")
        try:
            with pytest.raises(Exception) as caught:
                client.do_get(fl.Ticket(name.encode())).read_all()
        finally:
            client.close()
    assert grpc_code(caught.value) == code
    message = str(_Raising.ERRORS[name.encode()]())
    assert server_message(caught.value) == message

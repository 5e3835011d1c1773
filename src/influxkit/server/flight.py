"""Arrow Flight for ``influxkit serve``: InfluxDB 3's ``DoGet`` query path over the local engine.

InfluxDB 3 answers Flight (gRPC over HTTP/2) on its HTTP port.  ``influxkit serve``
runs uvicorn, which speaks HTTP/1.1 only, so Flight gets a port of its own
(``--flight-port`` / ``ServerThread(flight_port=...)``), served by pyarrow's C++ Flight
server in front of the same engine as the HTTP endpoints.  Clients reach it as
``grpc+tcp://host:<flight port>``; influxdb3-python takes ``query_port_overwrite=``.

What it answers, as InfluxDB 3 does (``core/service_grpc_flight``):

* ``DoGet`` with the JSON ticket ``{"database", "sql_query", "query_type", "params",
  "is_debug"}``; ``database`` may be spelled ``namespace_name``, ``bucket`` or
  ``bucket-name``; ``query_type`` ``"sql"`` (or absent / null) or ``"influxql"``.
  Any ticket that does not decode, including an unknown ``query_type``, is
  ``INVALID_ARGUMENT`` ``Invalid ticket. Error: Invalid ticket``: the server's
  decoder drops the reason, so the reason is only logged here (debug level).
* The answer is the schema, then record batches of at most about 2 MiB each (the
  arrow-flight encoder's default message size) as the engine produces them;
  dictionary columns (tags) are flattened to their value type, field metadata
  (``iox::column::type``) kept.
* ``authorization: Bearer|Token <token>`` (or ``Basic``) metadata, when the server has a
  token; missing, malformed or wrong is ``UNAUTHENTICATED`` (``Unauthenticated``).
* Errors: unknown database ``NOT_FOUND`` (``Database 'x' not found``); planning and
  execution errors ``INVALID_ARGUMENT``; messages cut at 2,000 characters.
* InfluxQL tickets reach InfluxDB 3's planner without the HTTP handler's help, so
  ``SHOW DATABASES``, a ``db.rp.measurement`` FROM clause and several statements are
  refused (``This feature is not implemented: ...``), as the server's
  ``flight_influxql`` test shows; ``/api/v3/query_influxql`` answers them.

pyarrow's server turns a Python ``KeyError`` into ``NOT_FOUND`` and a ``ValueError``
into ``INVALID_ARGUMENT`` (verified in ``tests/unit/flight``), and appends the
exception's traceback to the message as ``. Detail: Python exception: ...``;
influxkit's Flight client removes that part again.  Only ``DoGet`` exists: the other
Flight calls and Flight SQL answer ``UNIMPLEMENTED``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from influxkit._optional import require
from influxkit.errors import DatabaseNotFound, InfluxError, UnsupportedOperation

if TYPE_CHECKING:
    import pyarrow as pa
    from pyarrow import flight

    from influxkit.clients.local import LocalClient

__all__ = [
    "DATABASE_KEYS",
    "FLIGHT_MESSAGE_BYTES",
    "INVALID_TICKET",
    "MAX_MESSAGE_CHARS",
    "FlightTicket",
    "InvalidTicket",
    "flatten_dictionaries",
    "flight_error_for",
    "flight_location",
    "make_flight_server",
    "parse_ticket",
    "stop_flight_server",
]

logger = logging.getLogger("influxkit.server")

#: The ticket keys that name the database (serde aliases of ``database``).
DATABASE_KEYS = ("database", "namespace_name", "bucket", "bucket-name")
#: What the server answers for any ticket it cannot decode (the reason is dropped).
INVALID_TICKET = "Invalid ticket. Error: Invalid ticket"
#: The server's cap on an error message (longer ones end in ``...``).
MAX_MESSAGE_CHARS = 2000
#: Target size of one record batch message (arrow-flight's ``max_flight_data_size``).
FLIGHT_MESSAGE_BYTES = 2 * 1024 * 1024

_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


class InvalidTicket(ValueError):
    """A ticket that does not decode; ``str()`` says why (the wire says only "Invalid ticket")."""


@dataclass(frozen=True, slots=True)
class FlightTicket:
    """A decoded ``DoGet`` ticket.

    Attributes:
        database: the database to query (from ``database`` or one of its aliases).
        query: the SQL or InfluxQL text (the ticket's ``sql_query``, whatever the language).
        query_type: ``"sql"`` or ``"influxql"``.
        params: values for ``$name`` placeholders (JSON scalars).
        is_debug: the client asked for debug output (accepted, not used).
    """

    database: str
    query: str
    query_type: Literal["sql", "influxql"] = "sql"
    params: dict[str, Any] = field(default_factory=dict)
    is_debug: bool = False


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:  # serde refuses a field given twice
            raise InvalidTicket(f"duplicate field {key!r}")
        doc[key] = value
    return doc


def _param(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        # serde_json reads an integer past i64/u64 as a float, as StatementParams does.
        return value if _I64_MIN <= value <= _U64_MAX else float(value)
    raise InvalidTicket(f"param {name!r}: expected null, a boolean, a number or a string")


def parse_ticket(data: bytes) -> FlightTicket:
    """Decode a JSON ticket as InfluxDB 3's ``IoxGetRequest::decode_json`` does.

    Unknown keys are ignored; ``params`` must be an object of JSON scalars;
    ``is_debug`` a boolean.

    Raises:
        InvalidTicket: not UTF-8 JSON, not an object, a missing or mistyped key, a
            database given under two names, or a ``query_type`` other than
            ``sql`` / ``influxql``.

    Example:
        >>> parse_ticket(b'{"bucket": "db", "sql_query": "SELECT 1"}')
        FlightTicket(database='db', query='SELECT 1', query_type='sql', params={}, is_debug=False)
    """
    import json

    try:
        text = bytes(data).decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
    except InvalidTicket:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidTicket(f"not a UTF-8 JSON ticket: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidTicket("the ticket is not a JSON object")
    names = [key for key in DATABASE_KEYS if key in doc]
    if not names:
        raise InvalidTicket("missing field 'database'")
    if len(names) > 1:
        raise InvalidTicket(f"duplicate field 'database' (given as {', '.join(names)})")
    database, query = doc[names[0]], doc.get("sql_query")
    if not isinstance(database, str):
        raise InvalidTicket("'database' must be a string")
    if not isinstance(query, str):
        raise InvalidTicket("missing field 'sql_query' (a string)")
    query_type = doc.get("query_type")
    if query_type is None:
        query_type = "sql"
    if query_type not in ("sql", "influxql"):
        raise InvalidTicket(f"Unknown query type. Expected 'sql' or 'influxql', got {query_type}")
    params = doc.get("params", {})
    if not isinstance(params, dict):
        raise InvalidTicket("'params' must be an object")
    is_debug = doc.get("is_debug", False)
    if not isinstance(is_debug, bool):
        raise InvalidTicket("'is_debug' must be a boolean")
    return FlightTicket(
        database=database,
        query=query,
        query_type=query_type,
        params={name: _param(name, value) for name, value in params.items()},
        is_debug=is_debug,
    )


def _capped(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS] + "..."


def flight_error_for(exc: BaseException, *, database: str, planning: bool) -> Exception:
    """The exception to raise from a Flight handler so the client gets the server's status.

    ``planning`` says whether the query had not yet produced rows: errors then (other
    than execution errors) read ``Error while planning query: ...``, as the server
    words them.

    Example:
        >>> from influxkit.errors import DatabaseNotFound
        >>> type(flight_error_for(DatabaseNotFound("x"), database="x", planning=True)).__name__
        'ArrowKeyError'
    """
    pa = require("pyarrow", "serve")
    fl = require("pyarrow.flight", "serve")
    if isinstance(exc, DatabaseNotFound):
        return pa.ArrowKeyError(_capped(f"Database '{database}' not found"))  # NOT_FOUND
    if isinstance(exc, UnsupportedOperation):
        # DataFusion's NotImplemented, which the server answers INVALID_ARGUMENT.
        return pa.ArrowInvalid(_capped(f"This feature is not implemented: {exc.message}"))
    if isinstance(exc, InfluxError):
        # The engine answers execution errors 500 ("query error: error while executing
        # plan: ..."); the server words the others as planning errors.
        executing = not planning or getattr(exc, "status", None) == 500
        text = exc.message if executing else f"Error while planning query: {exc.message}"
        return pa.ArrowInvalid(_capped(text))  # INVALID_ARGUMENT
    logger.error("unexpected error while answering a Flight query", exc_info=exc)
    return fl.FlightInternalError(_capped(f"internal error: {type(exc).__name__}: {exc}"))


def flatten_dictionaries(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every dictionary field as its value type, metadata kept.

    InfluxDB 3 sends tags (``Dictionary(Int32, Utf8)`` in its tables) as plain ``Utf8``
    over Flight (``prepare_schema_for_flight``).
    """
    pa = require("pyarrow", "serve")
    fields = [
        f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f for f in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def _flattened(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    pa = require("pyarrow", "serve")
    columns = [
        column.cast(target.type) if column.type != target.type else column
        for column, target in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _sliced(batch: pa.RecordBatch) -> Iterator[pa.RecordBatch]:
    """``batch`` in zero-copy slices of about :data:`FLIGHT_MESSAGE_BYTES` each."""
    rows, size = batch.num_rows, batch.nbytes
    if rows <= 1 or size <= FLIGHT_MESSAGE_BYTES:
        yield batch
        return
    step = max(1, math.floor(rows * FLIGHT_MESSAGE_BYTES / size))
    for offset in range(0, rows, step):
        yield batch.slice(offset, step)


def flight_location(host: str, port: int, *, tls: bool = False) -> str:
    """``grpc+tcp://host:port`` (``grpc+tls`` with ``tls``), IPv6 addresses in brackets.

    Example:
        >>> flight_location("::1", 8182)
        'grpc+tcp://[::1]:8182'
    """
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{'grpc+tls' if tls else 'grpc+tcp'}://{shown}:{port}"


def make_flight_server(
    engine: LocalClient,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    authenticate: Callable[[str], bool] | None = None,
    tls_certificates: list[tuple[bytes, bytes]] | None = None,
) -> flight.FlightServerBase:
    """A started Flight server answering ``DoGet`` from ``engine`` on ``host:port``.

    The server listens as soon as it is made (``port=0`` picks a free port: read it
    from ``.port``, the address from ``.location``); ``shutdown()`` stops it and waits
    for the calls in progress.  It is a :class:`pyarrow.flight.FlightServerBase`,
    defined on first use so that importing this module does not import pyarrow.

    Args:
        engine: the local engine to query (shared with the HTTP app).
        host: the address to listen on; whoever calls this decides whether it may be
            reached beyond loopback (``influxkit serve`` applies ``check_bind``).
        port: the port; ``0`` picks a free one.
        authenticate: ``authenticate(token)`` says whether a token opens the server;
            ``None`` serves without authentication.
        tls_certificates: ``[(cert_pem, key_pem)]`` to serve ``grpc+tls``.

    Raises:
        OSError: the address cannot be listened on (the port is taken, ...).
    """
    pa = require("pyarrow", "serve")
    server_class = _server_class()
    tls = bool(tls_certificates)
    middleware = {"auth": _auth_factory()(authenticate)} if authenticate is not None else None
    try:
        server = server_class(
            engine,
            flight_location(host, port, tls=tls),
            tls_certificates=tls_certificates or None,
            middleware=middleware,
        )
    except (pa.ArrowException, OSError) as exc:  # gRPC: "Server did not start properly"
        raise OSError(
            f"cannot serve Arrow Flight on {host}:{port}: is the port taken? ({exc})"
        ) from None
    server.location = flight_location(host, server.port, tls=tls)
    return server


_CLASSES: dict[str, Any] = {}


def _auth_factory() -> Any:
    """The ``ServerMiddlewareFactory`` that checks the ``authorization`` metadata."""
    if "auth" in _CLASSES:
        return _CLASSES["auth"]
    fl = require("pyarrow.flight", "serve")
    from influxkit.server import parsing

    class TokenCheck(fl.ServerMiddlewareFactory):  # type: ignore[misc]
        """Refuses a call (``UNAUTHENTICATED``) unless it carries a token that opens the server."""

        def __init__(self, authenticate: Callable[[str], bool]) -> None:
            super().__init__()
            self.authenticate = authenticate

        def start_call(self, info: Any, headers: Mapping[str, list[Any]]) -> None:
            values = headers.get("authorization") or []
            token = None
            if len(values) == 1 and isinstance(values[0], str):
                try:
                    token = parsing.request_token({"authorization": values[0]}, {}, False)
                except parsing.Problem:  # malformed: the gRPC path has no 400
                    token = None
            if token is None or not self.authenticate(token):
                raise fl.FlightUnauthenticatedError("Unauthenticated")

    _CLASSES["auth"] = TokenCheck
    return TokenCheck


def _server_class() -> Any:
    """The ``FlightServerBase`` subclass (built once, on first use)."""
    if "server" in _CLASSES:
        return _CLASSES["server"]
    fl = require("pyarrow.flight", "serve")

    class InfluxFlightServer(fl.FlightServerBase):  # type: ignore[misc]
        """``DoGet`` over the local engine, as InfluxDB 3 answers it."""

        location: str

        def __init__(self, engine: LocalClient, location: str, **options: Any) -> None:
            super().__init__(location, **options)
            self.engine = engine
            # Set by stop_flight_server when the calls in progress overstay: every
            # stream then ends with UNAVAILABLE at its next batch.
            self.stopping = threading.Event()

        def __repr__(self) -> str:
            return f"<InfluxFlightServer {getattr(self, 'location', '?')}>"

        def do_get(self, context: Any, ticket: Any) -> Any:
            try:
                request = parse_ticket(ticket.ticket)
            except InvalidTicket as exc:
                logger.debug("Flight DoGet with an invalid ticket: %s", exc)
                pa = require("pyarrow", "serve")
                raise pa.ArrowInvalid(INVALID_TICKET) from None
            try:
                batches = self._run(request)
                schema, first = _first_batch(batches, lambda: self._empty_schema(request))
            except Exception as exc:
                raise flight_error_for(exc, database=request.database, planning=True) from None
            flat = flatten_dictionaries(schema)
            pieces = _stream(context, request, flat, first, batches, stopping=self.stopping)
            return fl.GeneratorStream(flat, pieces)

        def _run(self, request: FlightTicket) -> Iterator[pa.RecordBatch]:
            if request.database not in self.engine.list_databases():
                raise DatabaseNotFound(f"database not found: {request.database}", status=404)
            if request.query_type == "influxql":
                if self.engine.profile.name.startswith("v3"):
                    from influxkit.clients.local.influxql.api import check_flight_statement

                    check_flight_statement(request.query, request.params)
                table = self.engine.query_influxql(
                    request.query,
                    database=request.database,
                    params=request.params,
                    format="arrow",
                )
                return iter(table.to_batches() or [_empty_batch(table.schema)])
            batches: Iterator[pa.RecordBatch] = self.engine.query_sql_stream(
                request.query, database=request.database, params=request.params, format="arrow"
            )
            return batches

        def _empty_schema(self, request: FlightTicket) -> pa.Schema:
            # The stream ended without a batch, so its schema is unknown: plan again for
            # it (only for empty results; LocalClient's stream does not expose one).
            table = self.engine.query_sql(
                request.query, database=request.database, params=request.params, format="arrow"
            )
            schema: pa.Schema = table.schema
            return schema

    _CLASSES["server"] = InfluxFlightServer
    return InfluxFlightServer


def _empty_batch(schema: pa.Schema) -> pa.RecordBatch:
    pa = require("pyarrow", "serve")
    return pa.RecordBatch.from_pylist([], schema=schema)


def _first_batch(
    batches: Iterator[pa.RecordBatch], schema_of_empty: Callable[[], pa.Schema]
) -> tuple[pa.Schema, pa.RecordBatch | None]:
    """The schema and the first batch (pulled now, so that errors get their status)."""
    for batch in batches:
        return batch.schema, batch
    return schema_of_empty(), None


def _stream(
    context: Any,
    request: FlightTicket,
    schema: pa.Schema,
    first: pa.RecordBatch | None,
    batches: Iterator[pa.RecordBatch],
    *,
    stopping: threading.Event,
) -> Iterator[pa.RecordBatch]:
    """The batches, flattened and sliced, until done, the client goes away, or a stop."""
    fl = require("pyarrow.flight", "serve")
    pending = first
    while True:
        if pending is not None:
            for piece in _sliced(_flattened(pending, schema)):
                if context.is_cancelled():
                    return
                if stopping.is_set():
                    raise fl.FlightUnavailableError("influxkit serve is shutting down")
                yield piece
        try:
            pending = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            raise flight_error_for(exc, database=request.database, planning=False) from None


def stop_flight_server(server: flight.FlightServerBase, timeout: float = 5.0) -> bool:
    """Stop ``server``: refuse new calls, let the calls in progress end; ``True`` once stopped.

    pyarrow's ``shutdown()`` waits for every call in progress, with no deadline, and a
    stream blocks while its client does not read.  So the calls get ``timeout``
    seconds to finish; then each stream ends with ``UNAVAILABLE`` at its next batch,
    for ``timeout`` more seconds.  A client that holds a stream without reading it
    or closing it still keeps the server up: this then logs a warning and returns
    ``False``, leaving the shutdown to finish on its own thread when the client lets go.
    """
    stopper = threading.Thread(
        target=server.shutdown, name=f"influxkit-serve-flight-stop-{server.port}", daemon=True
    )
    stopper.start()
    stopper.join(timeout)
    if stopper.is_alive():
        server.stopping.set()
        stopper.join(timeout)
    if stopper.is_alive():
        logger.warning(
            "Arrow Flight on %s: calls still in progress %g s after the stop; a client "
            "holds a stream it neither reads nor closes",
            getattr(server, "location", "?"),
            2 * timeout,
        )
        return False
    return True

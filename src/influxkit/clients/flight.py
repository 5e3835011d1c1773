"""FlightQueryClient: SQL and InfluxQL over Arrow Flight, InfluxDB 3's native query path.

A query is one gRPC ``DoGet`` call whose ticket is the JSON the official clients send,
``{"database", "sql_query", "query_type", "params"}``, with the token in the
``authorization`` metadata; the answer is Arrow record batches, with no text to
decode.  pyarrow.flight is imported when the first query is made, never by
``import influxkit``.

* Location: ``grpc+tcp://host:port`` (``grpc+tls`` for ``scheme="https"``, with
  ``verify_ssl`` / ``ca_file``); ``port`` is ``flight_port`` when set, else the HTTP
  port, as InfluxDB 3 serves Flight there.  gRPC has no path, so ``path_prefix`` does
  not apply.
* ``timeout`` is the gRPC deadline of the whole call: schema and every batch must
  arrive within it (over HTTP it bounds each read).  ``query(..., timeout=)`` and
  ``stream(..., timeout=)`` override it for one call.
* Tags: InfluxDB 3 flattens its ``Dictionary(Int32, Utf8)`` tag columns to ``Utf8``
  over Flight, keeping the field metadata ``iox::column::type =
  iox::column_type::tag``.  With ``dictionary_tags=True`` (the default) such columns
  are dictionary-encoded again, so a Flight result has the schema the HTTP (Parquet)
  path and the local engine give (pandas sees categoricals either way).  A column
  without that metadata (an expression) stays ``Utf8``.
* Errors become the influxkit tree (see :func:`translate_error`); the token never
  appears in a message.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import orjson

from influxkit._optional import require
from influxkit.errors import (
    AuthError,
    ConfigError,
    DatabaseNotFound,
    InfluxError,
    QueryError,
    ServerError,
    TransportError,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from pyarrow import flight

    from influxkit.config import ConnectionConfig

__all__ = [
    "TAG_METADATA",
    "FlightQueryClient",
    "QueryType",
    "build_ticket",
    "flight_location",
    "grpc_code",
    "restore_tag_dictionaries",
    "server_message",
    "translate_error",
]

QueryType = Literal["sql", "influxql"]

#: The field metadata InfluxDB 3 (and the local engine) puts on a tag column.
TAG_METADATA = (b"iox::column::type", b"iox::column_type::tag")

_USER_AGENT_OPTION = "grpc.secondary_user_agent"
# What pyarrow wraps around a server's message (gRPC C++ client, Arrow status detail).
_DEBUG_CONTEXT = ". gRPC client debug context: "
_DETAIL = ". Detail: "
_RETURNED = re.compile(
    r"^(?:(?:gRPC|Flight) returned [a-z ]+ error, with message: |Flight RPC failed with message: )"
)
_CODE = re.compile(re.escape(_DEBUG_CONTEXT) + r"([A-Z_]+):")
_TLS_WORDS = ("ssl", "tls", "certificate", "handshake")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("influxkit")
    except PackageNotFoundError:  # running from a source tree
        return "dev"


def build_ticket(
    query: str,
    *,
    database: str,
    query_type: QueryType = "sql",
    params: Mapping[str, Any] | None = None,
) -> bytes:
    """The ``DoGet`` ticket: UTF-8 JSON, keys in the order influxdb3-python sends them.

    Raises:
        ConfigError: an unknown ``query_type``, an empty database, or a parameter value
            JSON cannot carry.

    Example:
        >>> build_ticket("SELECT * FROM cpu WHERE host = $host", database="db",
        ...              params={"host": "a"}).decode()
        '{"database":"db","sql_query":"SELECT ...","query_type":"sql","params":{"host":"a"}}'
    """
    if query_type not in ("sql", "influxql"):
        raise ConfigError(f"invalid query_type={query_type!r}: expected 'sql' or 'influxql'")
    if not isinstance(database, str) or not database:
        raise ConfigError(f"invalid database={database!r}: expected a non-empty database name")
    doc: dict[str, Any] = {"database": database, "sql_query": query, "query_type": query_type}
    if params:
        doc["params"] = dict(params)
    try:
        return orjson.dumps(doc)
    except TypeError as exc:  # orjson.JSONEncodeError
        raise ConfigError(
            f"invalid params: {exc}; parameter values are null, booleans, numbers or strings"
        ) from None


def flight_location(config: ConnectionConfig) -> str:
    """Where ``config``'s Flight service is: ``grpc+tcp|grpc+tls://host:port``.

    Example:
        >>> from influxkit.config import ConnectionConfig
        >>> flight_location(ConnectionConfig.from_options(host="db.example", scheme="https"))
        'grpc+tls://db.example:8181'
        >>> flight_location(ConnectionConfig.from_options(host="::1", port=8181, flight_port=8182))
        'grpc+tcp://[::1]:8182'
    """
    host = f"[{config.host}]" if ":" in config.host else config.host
    port = config.flight_port or config.port
    scheme = "grpc+tls" if config.scheme == "https" else "grpc+tcp"
    return f"{scheme}://{host}:{port}"


def server_message(exc: BaseException) -> str:
    """The server's own message out of a pyarrow.flight exception's text.

    pyarrow appends the gRPC client's debug context and the Arrow status detail (a
    Python server's traceback, or a Flight status name), and a client given only the
    gRPC status (InfluxDB's Rust server) prefixes ``gRPC returned ... error, with
    message:``; all of that is removed.

    Example:
        >>> server_message(KeyError("gRPC returned not found error, with message: "
        ...     "Database 'x' not found. gRPC client debug context: UNKNOWN:..."))
        "Database 'x' not found"
    """
    text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    text = text.split(_DEBUG_CONTEXT, 1)[0]
    text = text.split(_DETAIL, 1)[0]
    return _RETURNED.sub("", text).strip() or type(exc).__name__


def grpc_code(exc: BaseException) -> str | None:
    """The gRPC status name (``NOT_FOUND`` ...) pyarrow's message reports, if it does."""
    found = _CODE.search(str(exc))
    return found[1] if found else None


def translate_error(
    exc: BaseException,
    *,
    location: str,
    timeout: float,
    secret: str | None = None,
    operation: str | None = None,
) -> InfluxError:
    """The influxkit error for a pyarrow.flight failure of one ``DoGet``.

    ============================================  =======================  ======
    pyarrow raises (gRPC status)                  influxkit                status
    ============================================  =======================  ======
    FlightUnauthenticatedError (UNAUTHENTICATED)  AuthError                401
    FlightUnauthorizedError (PERMISSION_DENIED)   AuthError                403
    ArrowKeyError (NOT_FOUND)                     DatabaseNotFound         404
    ArrowInvalid (INVALID_ARGUMENT and others)    QueryError               400
    ArrowNotImplementedError (UNIMPLEMENTED)      QueryError               405
    FlightInternalError (INTERNAL)                ServerError (retryable)  500
    FlightServerError (UNKNOWN), other Flight     ServerError (retryable)  500
    FlightUnavailableError (UNAVAILABLE)          TransportError (retry)   -
    FlightTimedOutError (DEADLINE_EXCEEDED)       TransportError (retry)   -
    FlightCancelledError, other Arrow errors      TransportError (retry)   -
    ============================================  =======================  ======

    A TLS failure (an untrusted certificate) is a TransportError that is not
    retryable.  ``secret`` (the token) is masked in every message.
    """
    pa = require("pyarrow", "local")
    fl = require("pyarrow.flight", "local")
    text = server_message(exc)
    if secret:
        text = text.replace(secret, "[secure]")
    context: dict[str, Any] = {"operation": operation}
    cls: type[ServerError] | None = None
    status: int | None = None
    code = ""
    if isinstance(exc, fl.FlightUnauthenticatedError):
        cls, status, code = AuthError, 401, "UNAUTHENTICATED"
    elif isinstance(exc, fl.FlightUnauthorizedError):
        cls, status, code = AuthError, 403, "PERMISSION_DENIED"
    elif isinstance(exc, fl.FlightTimedOutError):
        return TransportError(
            f"DoGet {location}: no answer within the timeout ({timeout:g} s): {text}; raise "
            "timeout= if the server is just slow (over Flight it bounds the whole query)",
            method="DoGet",
            path=location,
            **context,
        )
    elif isinstance(exc, (fl.FlightUnavailableError, fl.FlightCancelledError)):
        bad_tls = location.startswith("grpc+tls") and any(w in text.lower() for w in _TLS_WORDS)
        hint = "; give the server's CA with ca_file=..." if bad_tls else ""
        return TransportError(
            f"DoGet {location}: {type(exc).__name__}: {text}{hint}",
            method="DoGet",
            path=location,
            retryable=False if bad_tls else None,
            **context,
        )
    elif isinstance(exc, fl.FlightInternalError):
        cls, status, code = ServerError, 500, "INTERNAL"
    elif isinstance(exc, fl.FlightError):
        cls, status, code = ServerError, 500, "UNKNOWN"
    elif isinstance(exc, pa.ArrowKeyError):
        cls, status, code = DatabaseNotFound, 404, "NOT_FOUND"
    elif isinstance(exc, pa.ArrowNotImplementedError):
        cls, status, code = QueryError, 405, "UNIMPLEMENTED"
    elif isinstance(exc, pa.ArrowInvalid):
        cls, status, code = QueryError, 400, "INVALID_ARGUMENT"
    if cls is None:
        return TransportError(
            f"DoGet {location}: {type(exc).__name__}: {text}",
            method="DoGet",
            path=location,
            **context,
        )
    hint = {AuthError: "; check the token and its permissions"}.get(cls, "")
    code = grpc_code(exc) or code  # e.g. RESOURCE_EXHAUSTED, which pyarrow calls ArrowInvalid
    return cls(
        f"query refused (gRPC {code}): {text}{hint}",
        status=status,
        body=text,
        method="DoGet",
        path=location,
        **context,
    )


def restore_tag_dictionaries(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``data`` with its tag columns (by field metadata) dictionary-encoded again.

    Flight carries tags as ``Utf8``; the local engine and the HTTP path give
    ``Dictionary(Int32, Utf8)``.  Columns without the tag metadata are left alone.
    """
    pa = require("pyarrow", "local")
    pc = require("pyarrow.compute", "local")
    schema = data.schema
    tags = [
        i
        for i, f in enumerate(schema)
        if f.metadata
        and f.metadata.get(TAG_METADATA[0]) == TAG_METADATA[1]
        and (pa.types.is_string(f.type) or pa.types.is_large_string(f.type))
    ]
    if not tags:
        return data
    columns = list(data.columns)
    fields = list(schema)
    for i in tags:
        encoded = pc.dictionary_encode(columns[i])
        if pa.types.is_large_string(fields[i].type):  # the engine's tags are int32/utf8
            encoded = encoded.cast(pa.dictionary(pa.int32(), pa.string()))
        columns[i] = encoded
        fields[i] = fields[i].with_type(encoded.type)
    target = pa.schema(fields, metadata=schema.metadata)
    if isinstance(data, pa.RecordBatch):
        return pa.RecordBatch.from_arrays(columns, schema=target)
    return pa.Table.from_arrays(columns, schema=target)


class FlightQueryClient:
    """Queries over Arrow Flight for one InfluxDB 3 connection (one gRPC channel).

    Args:
        config: the connection's options (host, port / ``flight_port``, scheme and TLS,
            token and ``auth_scheme``, ``timeout``).
        dictionary_tags: dictionary-encode tag columns again (see the module notes).

    The ``pyarrow.flight.FlightClient`` is made on the first query and closed by
    :meth:`close`; it is thread-safe, so one client serves every thread.

    Example (against ``influxkit serve``, with Flight on a port of its own):
        >>> from influxkit.config import ConnectionConfig
        >>> from influxkit.server import running_server
        >>> with running_server(databases=["db"], flight_port=0) as server:
        ...     server.engine.write(b"cpu,host=a usage=0.5 1", database="db", precision="ns",
        ...                         accept_partial=True, no_sync=False).lines
        ...     cfg = ConnectionConfig.from_options(
        ...         host=server.host, port=server.port, flight_port=server.flight_port)
        ...     with FlightQueryClient(cfg) as client:
        ...         client.query("SELECT host, usage FROM cpu", database="db").to_pylist()
        1
        [{'host': 'a', 'usage': 0.5}]
    """

    def __init__(self, config: ConnectionConfig, *, dictionary_tags: bool = True) -> None:
        if config.api_version != "v3":
            raise ConfigError(
                f"Arrow Flight queries need InfluxDB 3 (api_version='v3'), not "
                f"api_version={config.api_version!r}; use transport='http'"
            )
        self.config = config
        self.dictionary_tags = dictionary_tags
        self.location = flight_location(config)
        self._client: flight.FlightClient | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<FlightQueryClient {self.location}>"

    def __enter__(self) -> FlightQueryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lifecycle -----------------------------------------------------------

    def _flight(self) -> flight.FlightClient:
        """The FlightClient, made on first use (TLS roots, user agent)."""
        client = self._client
        if client is not None:
            return client
        fl = require("pyarrow.flight", "local")
        cfg = self.config
        with self._lock:
            if self._closed:
                raise TransportError(
                    "the Flight client is closed; open a new connection", retryable=False
                )
            if self._client is None:
                options: dict[str, Any] = {
                    "generic_options": [(_USER_AGENT_OPTION, f"influxkit/{_version()}")]
                }
                if cfg.scheme == "https":
                    if cfg.ca_file:
                        with open(cfg.ca_file, "rb") as pem:
                            options["tls_root_certs"] = pem.read()
                    if not cfg.verify_ssl:
                        options["disable_server_verification"] = True
                try:
                    self._client = fl.FlightClient(self.location, **options)
                except Exception as exc:  # a location gRPC cannot parse, TLS setup
                    raise translate_error(
                        exc, location=self.location, timeout=cfg.timeout, secret=cfg.token
                    ) from exc
            return self._client

    def close(self) -> None:
        """Close the gRPC channel; later queries raise :class:`TransportError`."""
        with self._lock:
            self._closed = True
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def after_fork_in_child(self) -> None:
        """A forked child makes its own channel: gRPC state does not survive ``fork``.

        The parent's client object is dropped without being closed (closing it could
        disturb the parent's connections).
        """
        with self._lock:
            self._client = None

    # -- queries -------------------------------------------------------------

    def _call(
        self,
        query: str,
        database: str,
        params: Mapping[str, Any] | None,
        query_type: QueryType,
        timeout: float | None,
    ) -> tuple[flight.FlightStreamReader, float]:
        fl = require("pyarrow.flight", "local")
        cfg = self.config
        ticket = build_ticket(query, database=database, query_type=query_type, params=params)
        deadline = cfg.timeout if timeout is None else timeout
        headers = []
        if cfg.token:
            credential = f"{cfg.auth_scheme or 'Bearer'} {cfg.token}"
            headers.append((b"authorization", credential.encode("utf-8")))
        options = fl.FlightCallOptions(timeout=deadline, headers=headers)
        client = self._flight()
        try:
            return client.do_get(fl.Ticket(ticket), options), deadline
        except Exception as exc:
            raise self._error(exc, deadline, query_type) from exc

    def _error(self, exc: BaseException, timeout: float, query_type: QueryType) -> InfluxError:
        return translate_error(
            exc,
            location=self.location,
            timeout=timeout,
            secret=self.config.token,
            operation=f"query_{query_type}",
        )

    def query(
        self,
        query: str,
        *,
        database: str,
        params: Mapping[str, Any] | None = None,
        query_type: QueryType = "sql",
        timeout: float | None = None,
    ) -> pa.Table:
        """Run ``query`` (SQL, or InfluxQL with ``query_type="influxql"``); the whole result.

        Raises:
            AuthError, DatabaseNotFound, QueryError, ServerError, TransportError: see
                :func:`translate_error`.
        """
        reader, deadline = self._call(query, database, params, query_type, timeout)
        try:
            table = reader.read_all()
        except Exception as exc:
            raise self._error(exc, deadline, query_type) from exc
        return restore_tag_dictionaries(table) if self.dictionary_tags else table

    def stream(
        self,
        query: str,
        *,
        database: str,
        params: Mapping[str, Any] | None = None,
        query_type: QueryType = "sql",
        timeout: float | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The result's record batches as they arrive (the call starts at the first ``next``).

        Closing the iterator early cancels the call on the server.
        """
        reader, deadline = self._call(query, database, params, query_type, timeout)
        done = False
        try:
            while True:
                try:
                    chunk = reader.read_chunk()
                except StopIteration:
                    done = True
                    return
                except Exception as exc:
                    done = True
                    raise self._error(exc, deadline, query_type) from exc
                batch = chunk.data
                if batch is None:  # a metadata-only message
                    continue
                yield restore_tag_dictionaries(batch) if self.dictionary_tags else batch
        finally:
            if not done:
                with contextlib.suppress(Exception):
                    reader.cancel()

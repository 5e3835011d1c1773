"""Connection: one configured InfluxDB, its client, its counters; open/close lifecycle.

A connection checks each operation against its profile before anything is sent,
encodes records to line protocol, resolves the database, and counts what it did.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from influxkit import telemetry
from influxkit.clients.base import WriteOutcome
from influxkit.clients.profiles import get_profile
from influxkit.config import ConnectionConfig
from influxkit.errors import ConfigError, InfluxError, QueryError, TransportError
from influxkit.lineprotocol.schema import Schema

if TYPE_CHECKING:
    from influxkit.batching.batch import BatchWriter
    from influxkit.clients.base import Client, Format, StreamFormat
    from influxkit.clients.flight import FlightQueryClient
    from influxkit.clients.profiles import Profile
    from influxkit.clients.server_check import ServerCheck
    from influxkit.detection import ServerInfo

__all__ = ["Connection"]

# Every open connection, so a forked child can renew what it must not share.
_LIVE: weakref.WeakSet[Connection] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for conn in list(_LIVE):
        conn._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)

_FORMATS = ("rows", "arrow", "pandas", "polars", "csv")
# On InfluxDB 3 these policies are the database itself (its /write maps them so).
_V3_DEFAULT_POLICIES = frozenset({"autogen", "default"})
Transport = Literal["http", "flight", "auto"]
_TRANSPORTS = ("http", "flight", "auto")
logger = logging.getLogger("influxkit")


def _convert(table: Any, format: str) -> Any:
    """An Arrow table in the asked format (results load with the first Flight query)."""
    from influxkit.results import convert

    return convert(table, format)


def _peeked(it: Iterator[Any]) -> Iterator[Any]:
    """``it`` with its first item already fetched (so a failing stream fails now)."""
    first = list(itertools.islice(it, 1))
    return itertools.chain(first, it)


def _make_client(
    config: ConnectionConfig, profile: Profile, *, lazy_extras: bool = False
) -> Client:
    if config.client == "local":
        import importlib.util

        from influxkit._optional import require

        # Fail at connect, naming the extra, rather than at the first query. With
        # ``lazy_extras`` (the async side) they are only looked up: importing them would
        # hold the event loop ~250 ms; the first operation does, in a worker thread.
        for module in ("pyarrow", "datafusion"):
            if not lazy_extras or importlib.util.find_spec(module) is None:
                require(module, "local")
        from influxkit.clients.local.client import LocalClient

        # The connection's own database exists from the start, as one would create
        # it on a real server before pointing an application at it.
        own = (config.database,) if config.database else ()
        dbs = tuple(dict.fromkeys((*config.databases, *own)))
        return LocalClient(profile, databases=dbs, org=config.org)  # org: v2's organization
    from influxkit.clients.http import HttpClient

    return HttpClient(config, profile)


class _Stats:
    """Counters of one connection; updated under a lock, read as a dict."""

    KEYS = (
        "writes",
        "points_written",
        "bytes_written",
        "requests",
        "retries",
        "write_errors",
        "points_failed",
        "queries",
        "query_errors",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.KEYS, 0)
        self._last_error: tuple[str, float] | None = None

    def add(self, **deltas: int) -> None:
        with self._lock:
            for key, delta in deltas.items():
                self._values[key] += delta

    def error(self, key: str, exc: BaseException) -> None:
        with self._lock:
            self._values[key] += 1
            self._last_error = (f"{type(exc).__name__}: {exc}", time.time())

    def note(self, exc: BaseException) -> None:
        """Remember ``exc`` as the last error without counting a failure (a retried one)."""
        with self._lock:
            self._last_error = (f"{type(exc).__name__}: {exc}", time.time())

    def failed(self, points: int, exc: BaseException) -> None:
        """Points handed to ``on_error`` (the batch writer's failures for good)."""
        with self._lock:
            self._values["write_errors"] += 1
            self._values["points_failed"] += points
            self._last_error = (f"{type(exc).__name__}: {exc}", time.time())

    def reset_lock(self) -> None:
        """A forked child's fresh lock (the parent's may have been held at the fork)."""
        self._lock = threading.Lock()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self._values)
            out["last_error"] = self._last_error[0] if self._last_error else None
            out["last_error_time"] = self._last_error[1] if self._last_error else None
        return out


class Connection:
    """One InfluxDB (a real server over HTTP, or the local in-memory engine).

    Create it with :func:`influxkit.connect` (unregistered) or
    :func:`influxkit.add_connection` (registered by name).  Use it as a context
    manager or call :meth:`close`; ``close()`` may be called more than once.

    Example:
        >>> import influxkit
        >>> with influxkit.connect(client="local", database="db") as conn:
        ...     _ = conn.write("cpu,host=a usage=0.5 1700000000000000000")
        ...     conn.query_sql("SELECT host, usage FROM cpu")
        [{'host': 'a', 'usage': 0.5}]
    """

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self._stats = _Stats()
        self._closed = True  # until the client has started: a failed start leaves nothing open
        self._close_lock = threading.Lock()
        self._client: Client = _make_client(config, get_profile(config.profile or "v3_core"))
        # HTTP: what the server is, found at the first operation (see clients/server_check).
        self._server_check: ServerCheck | None = getattr(self._client, "server_check", None)
        self._client.start()
        self._closed = False
        self._writer: BatchWriter | None = None
        self._flight: FlightQueryClient | None = None  # made at the first Flight query
        self._auto: bool | None = None  # transport="auto": Flight worked (True) or not
        if config.batch is not None:
            from influxkit.batching.batch import BatchWriter

            try:
                self._writer = BatchWriter(
                    self._client, config.batch, stats=self._stats, name=config.name
                )
            except BaseException:
                self._closed = True
                self._client.close()
                raise
        _LIVE.add(self)

    @property
    def name(self) -> str | None:
        """The name it is registered under (``None`` for an unregistered connection)."""
        return self.config.name

    @property
    def profile(self) -> Profile:
        """The profile operations are checked against.

        With ``api_version="auto"`` and no ``profile`` it is the detected server's once the
        first operation has run (before that: ``v3_core``, provisionally).
        """
        return self._client.profile

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        where = "local" if self.config.client == "local" else self.config.base_url
        name = f"{self.name!r} " if self.name else ""
        known = self._known_profile()
        profile = known.name if known is not None else "auto"
        return f"<Connection {name}{where} profile={profile} {state}>"

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True) is False:
            warnings.warn(
                f"{self!r} was never closed; call close() or use it as a context manager",
                ResourceWarning,
                stacklevel=1,
            )

    def close(self, timeout: float | None = None) -> None:
        """Flush what is buffered, then release the client. Safe to call twice.

        A batched connection waits up to ``timeout`` (default: the batch option
        ``close_timeout``) for its buffer to drain; what is left then goes to ``on_error``
        (or stays in the spool directory in durable mode).
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._writer is not None:
                self._writer.close(timeout)
        finally:
            if self._flight is not None:
                self._flight.close()
            self._client.close()

    # -- helpers -------------------------------------------------------------

    def _check(self, operation: str, *, verify: bool = True, batched: bool = False) -> None:
        """Open, ``operation`` on the profile, and the server checked (``verify``).

        A known profile refuses before any request; ``auto`` learns its profile from the
        server first (the async side checks it at its own await point).
        """
        self._check_open(operation)
        profile = self._known_profile()
        if profile is not None:
            profile.check(operation)
        if verify:
            self._verify_server(operation, batched=batched)
            if profile is None and (profile := self._known_profile()) is not None:
                profile.check(operation)

    def _check_open(self, operation: str) -> None:
        if self._closed:
            raise InfluxError(
                f"{self!r} is closed; open a new connection",
                operation=operation,
                connection=self.name,
            )

    def _known_profile(self) -> Profile | None:
        check = getattr(self, "_server_check", None)  # (a repr while __init__ failed)
        if check is None:
            return self.profile
        return check.profile if check.profile_known else None

    def _request_config(self) -> ConnectionConfig:
        """The config requests go out with (``auto``: resolved once the server is known)."""
        check = self._server_check
        return check.config if check is not None else self.config

    def _verify_server(self, operation: str, *, batched: bool = False) -> None:
        """At the first operation: which server answers, judged against the config.

        A batched write does not wait for a server that does not answer (no answer, 5xx):
        its batch writer asks again when it sends, and retries as it retries any send.
        """
        check = self._server_check
        if check is None or check.ready:
            return
        try:
            self._client.ensure_server()  # type: ignore[attr-defined]
        except InfluxError as exc:
            if batched and exc.retryable:
                return
            raise self._tag(exc, operation) from None

    def _database(self, database: str | None, operation: str) -> str:
        db = database or self.config.database
        if not db:
            raise ConfigError(
                f"{operation}() needs a database: pass database=... or set database= on "
                "the connection",
                operation=operation,
                connection=self.name,
            )
        return db

    def _target(
        self, database: str | None, retention_policy: str | None, operation: str
    ) -> str | None:
        """The database a call reaches, with its retention policy folded in as ``db/rp``.

        The policy is the call's, else the connection's ``retention_policy``. ``db/rp`` is
        the name InfluxDB gives the pair: 1.x gets ``db`` and ``rp=`` apart from it, a 2.x
        bucket is named so, and InfluxDB 3 keeps the points of ``/write?db=db&rp=rp`` in
        the database ``db/rp`` (``rp`` lower-cased; ``autogen`` and ``default`` are
        ``db`` itself), which is what a v3 connection reads and writes then. A database
        named ``db/rp`` already is taken as it is.
        """
        if retention_policy is not None:
            from influxkit.config import check_retention_policy

            rp: str | None = check_retention_policy(retention_policy)
        else:
            rp = self.config.retention_policy
        if rp is None:
            return database
        if database is None:
            if retention_policy is None:
                return None  # nothing to qualify (SHOW DATABASES, FROM db.rp.m)
            raise ConfigError(
                f"{operation}(retention_policy={rp!r}) needs a database: pass database=... "
                "or set database= on the connection",
                operation=operation,
                connection=self.name,
            )
        if "/" in database:
            if retention_policy is None:
                return database
            raise ConfigError(
                f"database={database!r} already names a retention policy (db/rp); pass "
                f"the database and retention_policy={rp!r} apart, or one 'db/rp' name",
                operation=operation,
                connection=self.name,
            )
        profile = self._known_profile()
        if profile is not None and profile.name.startswith("v3"):
            rp = rp.lower()
            return database if rp in _V3_DEFAULT_POLICIES else f"{database}/{rp}"
        return f"{database}/{rp}"

    def _tag(self, exc: InfluxError, operation: str) -> InfluxError:
        if exc.operation is None:
            exc.operation = operation
        if exc.connection is None:
            exc.connection = self.name
        return exc

    # -- writes --------------------------------------------------------------

    def write(
        self,
        records: Any,
        *,
        database: str | None = None,
        precision: str | None = None,
        accept_partial: bool | None = None,
        no_sync: bool | None = None,
        wait: bool = False,
        timeout: float | None = None,
        schema: Schema | Mapping[str, Any] | None = None,
        measurement: str | None = None,
        tag_columns: Sequence[str] | str = (),
        timestamp_column: str | None = None,
        field_columns: Sequence[str] | str | None = None,
        measurement_column: str | None = None,
        retention_policy: str | None = None,
    ) -> WriteOutcome:
        """Write line protocol (``str``/``bytes``), Points, dicts, or a list of them.

        ``precision`` is the unit of integer timestamps (``ns`` default; ``auto`` on v3).
        With ``accept_partial`` (the default) valid lines land and a
        :class:`PartialWriteError` lists the rejected ones.

        ``retention_policy`` (default: the connection's) is the InfluxDB 1.x policy the
        points go to (``rp=``); on 2.x the bucket ``db/rp``, on InfluxDB 3 the database
        ``db/rp`` (see ``docs/writing.md``). Points of different policies are never
        batched together.

        ``schema`` pins field types for this write, over the connection's ``schema``
        option (see :mod:`influxkit.lineprotocol.schema`): values are coerced exactly or
        refused before anything is sent.

        A table (``pyarrow.Table`` / ``RecordBatch``, a pandas or polars DataFrame) is
        encoded column by column: ``measurement`` (or ``measurement_column``),
        ``tag_columns``, ``timestamp_column`` (default: a pandas ``DatetimeIndex``) and
        ``field_columns`` (default: every other column). Rows line protocol cannot carry
        (every field null, NaN) raise :class:`InvalidRecord` naming them, before
        anything is sent; rejections by the server map back to row numbers.

        On a batched connection (``batch=...``) the points are buffered and the call
        returns at once (``outcome.buffered`` is true); ``wait=True`` blocks until they
        are delivered, raising the error of any that could not be (after ``on_error``
        had them), or :class:`FlushTimeout` after ``timeout`` seconds.
        """
        from influxkit.prepared import prepare_write

        self._check("write", batched=self._writer is not None)
        prep = prepare_write(
            self.config,
            records,
            database=self._target(self._database(database, "write"), retention_policy, "write"),
            precision=precision,
            accept_partial=accept_partial,
            no_sync=no_sync,
            schema=schema,
            measurement=measurement,
            tag_columns=tag_columns,
            timestamp_column=timestamp_column,
            field_columns=field_columns,
            measurement_column=measurement_column,
            # The local engine takes a table's columns as they are (no line protocol);
            # a batch writer carries line protocol.
            ingest_arrow=self._writer is None and getattr(self._client, "ingests_arrow", False),
        )
        if self._writer is not None:
            from influxkit.batching.batch import split_chunks

            pieces = split_chunks(prep.body, self.config.batch.size)  # type: ignore[union-attr]
            try:
                points = self._writer.put(pieces, prep.key, wait=wait, timeout=timeout)
            except InfluxError as exc:
                raise self._tag(exc, "write") from None
            return prep.buffered(points, wait=wait, stats=self._stats)
        try:
            with prep.span(self.name) as span:
                outcome = prep.send(self._client)
                span.set(points=outcome.lines, bytes_sent=outcome.bytes_sent)
        except InfluxError as exc:
            prep.refused(exc, self._stats)
            raise self._tag(exc, "write") from None
        return prep.delivered(outcome, self._stats)

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything written before the call is delivered or reported.

        Unbatched connections write synchronously, so there is nothing to wait for.

        Raises:
            FlushTimeout: ``timeout`` seconds passed first (the points stay buffered).
        """
        self._check("write", verify=False)
        if self._writer is not None:
            try:
                self._writer.flush(timeout)
            except InfluxError as exc:
                raise self._tag(exc, "flush") from None

    # -- queries -------------------------------------------------------------

    def _query(self, operation: str, run: Any, database: str | None = None) -> Any:
        try:
            with telemetry.span(
                "query", connection=self.name, database=database, operation=operation
            ) as span:
                result = run()
                if span.active and not isinstance(result, (int, str, Iterator)):
                    span.set(rows=len(result))  # rows, an Arrow table or a DataFrame (not CSV)
        except InfluxError as exc:
            self._stats.error("query_errors", exc)
            raise self._tag(exc, operation) from None
        self._stats.add(queries=1)
        return result

    @staticmethod
    def _format(format: str, allowed: tuple[str, ...] = _FORMATS) -> None:
        if format not in allowed:
            raise ConfigError(f"invalid format={format!r}: expected one of {', '.join(allowed)}")

    def query_sql(
        self,
        sql: str,
        *,
        params: Mapping[str, Any] | None = None,
        database: str | None = None,
        format: Format = "rows",
        transport: Transport | None = None,
    ) -> Any:
        """Run one SQL statement; ``$name`` placeholders are bound from ``params``.

        Returns a list of dicts by default (``time`` as an aware UTC datetime), or a
        ``pyarrow.Table`` / pandas / polars DataFrame with ``format=``; ``format="csv"``
        is the server's CSV text (``str``), as InfluxDB 3 answers ``format=csv``.
        ``transport`` (default: the connection's) is ``"http"``, ``"flight"`` or
        ``"auto"``.
        """
        self._check("query_sql")
        self._format(format)
        db = self._target(self._database(database, "query_sql"), None, "query_sql")
        return self._query(
            "query_sql",
            self._via(
                transport,
                lambda: self._client.query_sql(sql, database=db, params=params, format=format),
                lambda flight: _convert(flight.query(sql, database=db, params=params), format),
            ),
            db,
        )

    def query_sql_stream(
        self,
        sql: str,
        *,
        params: Mapping[str, Any] | None = None,
        database: str | None = None,
        format: StreamFormat = "rows",
        transport: Transport | None = None,
    ) -> Iterator[Any]:
        """Like :meth:`query_sql` but yields rows (or Arrow record batches) as they come.

        A streamed row holds the columns that have a value: a NULL's key is left out, as
        in InfluxDB 3's ``jsonl`` (read it with ``row.get(...)``), on every backend and
        transport. :meth:`query_sql` gives complete rows.
        """
        self._check("query_sql_stream")
        self._format(format, ("rows", "arrow"))
        db = self._target(self._database(database, "query_sql_stream"), None, "query_sql_stream")

        def over_flight(flight: FlightQueryClient) -> Iterator[Any]:
            batches = flight.stream(sql, database=db, params=params)
            if format == "arrow":
                return batches
            from influxkit.results import stream_rows

            return (row for batch in batches for row in stream_rows(batch))

        it = self._query(
            "query_sql_stream",
            self._via(
                transport,
                lambda: self._client.query_sql_stream(
                    sql, database=db, params=params, format=format
                ),
                over_flight,
                streaming=True,
            ),
            db,
        )
        return self._guard_stream(it)

    def _guard_stream(self, it: Iterator[Any]) -> Iterator[Any]:
        try:
            yield from it
        except InfluxError as exc:
            self._stats.error("query_errors", exc)
            raise self._tag(exc, "query_sql_stream") from None

    def execute_sql(
        self, sql: str, *, params: Mapping[str, Any] | None = None, database: str | None = None
    ) -> int:
        """Run a statement for its effect; rows affected (InfluxDB 3 refuses DML and DDL)."""
        self._check("execute_sql")
        db = self._target(self._database(database, "execute_sql"), None, "execute_sql")
        return self._query(
            "execute_sql", lambda: self._client.execute_sql(sql, database=db, params=params), db
        )

    def query_influxql(
        self,
        query: str,
        *,
        params: Mapping[str, Any] | None = None,
        database: str | None = None,
        format: Format = "rows",
        transport: Transport | None = None,
        retention_policy: str | None = None,
    ) -> Any:
        """Run one InfluxQL statement; rows carry an ``iox::measurement`` column.

        ``retention_policy`` (default: the connection's) is the policy of the measurements
        the query does not qualify (1.x's ``rp=``; see :meth:`write` for 2.x and 3).
        ``format="csv"`` is the server's CSV text: InfluxDB 3's ``format=csv``, or 1.x's
        CSV answer (``name,tags,time,...``; 1.x leaves statement errors out of it).
        """
        self._check("query_influxql")
        self._format(format)
        db = self._target(database or self.config.database, retention_policy, "query_influxql")

        def over_flight(flight: FlightQueryClient) -> Any:
            if db is None:
                raise ConfigError("InfluxQL over Flight needs a database: pass database=...")
            table = flight.query(query, database=db, params=params, query_type="influxql")
            return _convert(table, format)

        return self._query(
            "query_influxql",
            self._via(
                transport,
                lambda: self._client.query_influxql(
                    query, database=db, params=params, format=format
                ),
                over_flight,
            ),
            db,
        )

    # -- transports ------------------------------------------------------------

    def _via(
        self,
        transport: Transport | None,
        over_http: Callable[[], Any],
        over_flight: Callable[[FlightQueryClient], Any],
        *,
        streaming: bool = False,
    ) -> Callable[[], Any]:
        """The call that runs the query on the chosen transport.

        ``auto`` tries Flight first and falls back to HTTP (once, with a warning; the
        choice is then kept) when Flight cannot connect or the server refuses it; the
        local engine has one way in, so it ignores ``transport``.
        """
        chosen = transport or self.config.transport
        if chosen not in _TRANSPORTS:
            raise ConfigError(
                f"invalid transport={chosen!r}: expected one of {', '.join(_TRANSPORTS)}"
            )
        if self.config.client == "local" or chosen == "http":
            return over_http
        if chosen == "flight":
            return lambda: over_flight(self._flight_client())
        if self._auto is not None:  # auto, already decided
            return (lambda: over_flight(self._flight_client())) if self._auto else over_http

        def first_try() -> Any:
            try:
                result = over_flight(self._flight_client())
                if streaming:  # a stream connects at its first item
                    result = _peeked(result)
            except (TransportError, QueryError) as exc:
                # Only "cannot connect" and "not served here" fall back: a bad query is
                # bad over HTTP too.
                if isinstance(exc, QueryError) and exc.status not in (405, 501):
                    raise
                logger.warning(
                    "influxkit: %r: Arrow Flight is not usable (%s); querying over HTTP "
                    "from now on (set transport='http' or 'flight' to choose)",
                    self,
                    exc,
                )
                self._auto = False
                return over_http()
            self._auto = True
            return result

        return first_try

    def _flight_client(self) -> FlightQueryClient:
        flight = self._flight
        if flight is None:
            with self._close_lock:
                if self._flight is None:
                    from influxkit.clients.flight import FlightQueryClient

                    self._flight = FlightQueryClient(self._request_config())
                flight = self._flight
        return flight

    def query_flux(self, query: str, *, org: str | None = None) -> list[dict[str, Any]]:
        """Run a Flux query (InfluxDB 2.x); the rows of every table."""
        self._check("query_flux")
        return self._query(
            "query_flux", lambda: self._client.query_flux(query, org=org or self.config.org)
        )

    # -- administration ------------------------------------------------------

    def _admin(self, operation: str, call: Any) -> Any:
        self._check(operation)
        try:
            return call()
        except InfluxError as exc:
            raise self._tag(exc, operation) from None

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database (409 :class:`ServerError` if it exists)."""
        self._admin(
            "create_database",
            lambda: self._client.create_database(name, retention_period=retention_period),
        )

    def list_databases(self) -> list[str]:
        """The databases' names, sorted."""
        return self._admin("list_databases", self._client.list_databases)

    def delete_database(self, name: str) -> None:
        """Delete a database (:class:`DatabaseNotFound` if there is none)."""
        self._admin("delete_database", lambda: self._client.delete_database(name))

    def create_bucket(
        self, name: str, *, org: str | None = None, retention_seconds: int | None = None
    ) -> None:
        """Create an InfluxDB 2.x bucket."""
        self._admin(
            "create_bucket",
            lambda: self._client.create_bucket(
                name, org=org or self.config.org, retention_seconds=retention_seconds
            ),
        )

    def list_buckets(self, *, org: str | None = None) -> list[str]:
        """The InfluxDB 2.x buckets' names."""
        return self._admin(
            "list_buckets", lambda: self._client.list_buckets(org=org or self.config.org)
        )

    def delete_bucket(self, name: str, *, org: str | None = None) -> None:
        """Delete an InfluxDB 2.x bucket."""
        self._admin(
            "delete_bucket", lambda: self._client.delete_bucket(name, org=org or self.config.org)
        )

    def create_token(
        self,
        name: str | None = None,
        *,
        permissions: list[dict[str, Any]] | None = None,
        expiry_secs: int | None = None,
    ) -> dict[str, Any]:
        """Create a token; the server's answer (it holds the token, shown only once).

        ``name=None``: the operator token; a name: a named admin token; with
        ``permissions`` (InfluxDB 3 Enterprise): a resource token, e.g.
        ``[{"resource_type": "db", "resource_names": ["app"], "actions": ["read"]}]``.
        """
        options = self._token_options(name, permissions, expiry_secs)
        return self._admin("create_token", lambda: self._client.create_token(name, **options))

    def _token_options(
        self, name: str | None, permissions: list[dict[str, Any]] | None, expiry_secs: int | None
    ) -> dict[str, Any]:
        """The client's ``create_token`` options, checked (resource tokens: Enterprise)."""
        options: dict[str, Any] = {}
        if expiry_secs is not None:
            options["expiry_secs"] = expiry_secs
        if permissions is not None:
            from influxkit.protocol.requests import check_permissions

            # Refused before any request when the profile is known; auto asks first.
            self._check("create_resource_token", verify=self._known_profile() is None)
            if name is None:
                raise ConfigError(
                    "a resource token needs a name: create_token(name, permissions=...)"
                )
            options["permissions"] = check_permissions(permissions)
        return options

    def delete_token(self, name: str) -> None:
        """Delete a named token."""
        self._admin("delete_token", lambda: self._client.delete_token(name))

    def health(self) -> dict[str, Any]:
        """``{"status": "pass"|"fail", "version": ..., ...}`` from the server."""
        return self._admin("health", self._client.health)

    def server_info(self) -> ServerInfo:
        """Which server answers: product, version, build and the API it implies.

        Read from ``/ping`` (and ``/health`` when ``/ping`` says too little) once per
        connection; later calls, and the check of the first operation, reuse it. It does
        not judge: a server that does not match ``api_version`` is described, not refused.
        The local engine answers as the server of its profile.

        Raises:
            ServerMismatch: what answers is not InfluxDB (a proxy's page, a wrong path).
            AuthError: ``/ping`` needs a token (InfluxDB 3) that is missing or wrong.
            TransportError: no answer.

        Example:
            >>> import influxkit
            >>> with influxkit.connect(client="local", profile="v1") as conn:
            ...     info = conn.server_info()
            >>> info.product, info.api_version
            ('InfluxDB 1.x OSS', 'v1')
        """
        self._check_open("server_info")  # every profile has it: no profile check
        try:
            return self._client.server_info()
        except InfluxError as exc:
            raise self._tag(exc, "server_info") from None

    def stats(self) -> dict[str, Any]:
        """Counters: writes, points and bytes written, requests, retries, errors, points
        handed to ``on_error``, points buffered now, queries, the last error and its time."""
        out = self._stats.as_dict()
        out["points_buffered"] = self._writer.buffered if self._writer is not None else 0
        return out

    def _after_fork_in_child(self) -> None:
        self._stats.reset_lock()
        self._close_lock = threading.Lock()
        for part in (self._client, self._flight):
            reset = getattr(part, "after_fork_in_child", None)
            if reset is not None:
                reset()

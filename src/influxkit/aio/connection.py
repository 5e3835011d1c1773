"""AsyncConnection: one configured InfluxDB for asyncio code, with the sync contract.

The same methods as :class:`influxkit.Connection`, as coroutines (``stats()`` stays a
plain call; ``query_sql_stream()`` returns an async iterator), the same checks, errors,
counters and telemetry events.  What is not IO is shared with the sync connection, not
repeated: the argument checks are the sync connection's own methods, the preparation
and accounting of a write is :mod:`influxkit.prepared`, an HTTP operation's requests
and answers are :mod:`influxkit.clients.http_ops`, the batch writer is
:mod:`influxkit.batching.core` (driven by tasks, :mod:`influxkit.aio.batch`).

Backends: real servers over ``httpx.AsyncClient`` (one pool per event loop that uses
the connection, see :mod:`influxkit.aio.loops`); the local engine and Arrow Flight
queries in worker threads (:mod:`influxkit.aio.threaded`), so a long query never
blocks the loop.

Two kinds:

* made by :func:`influxkit.aio.connect`: its own counters, engine and batch writer
  (an asyncio task per loop);
* the *twin* of a sync :class:`~influxkit.Connection` (what :mod:`influxkit.aio`
  functions use for a registered name): the same config, profile, counters and open /
  closed state, the same local engine, the same batch writer (its threads; an async
  write hands its points over in a worker thread); only the HTTP pools are its own,
  made on first use in each loop and closed when the sync connection closes.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    Sequence,
    Sized,
)
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit import telemetry
from influxkit.aio.loops import PerLoop
from influxkit.aio.stream import QueryStream
from influxkit.aio.threaded import ROWS_PER_HOP, ThreadedClient, iterate_in_thread
from influxkit.clients.profiles import get_profile
from influxkit.connection import Connection, Transport, _make_client, _Stats
from influxkit.errors import ConfigError, InfluxError
from influxkit.prepared import prepare_write
from influxkit.results import convert, stream_rows

if TYPE_CHECKING:
    from influxkit.aio.base import AsyncClient
    from influxkit.aio.batch import AsyncBatchWriter
    from influxkit.batching.batch import BatchWriter
    from influxkit.clients.base import Format, StreamFormat, WriteOutcome
    from influxkit.clients.flight import FlightQueryClient
    from influxkit.clients.profiles import Profile
    from influxkit.clients.server_check import ServerCheck
    from influxkit.config import ConnectionConfig
    from influxkit.detection import ServerInfo
    from influxkit.lineprotocol.schema import Schema
    from influxkit.prepared import PreparedWrite

__all__ = ["ENCODE_IN_THREAD", "TEXT_IN_THREAD", "AsyncConnection"]

T = TypeVar("T")

# A write of at least this many records is encoded in a worker thread (it takes ~10 ms
# per 10,000 points, long enough to hold up every other coroutine of the loop).
ENCODE_IN_THREAD = 10_000
# Line protocol text (or a body) of at least this many characters is prepared, cut into
# batches and mapped to its rejected lines in a worker thread (~1 ms per MiB, or more).
TEXT_IN_THREAD = 1 << 20
_TEXT = (str, bytes, bytearray, memoryview)


def _in_thread(records: Any) -> bool:
    """Whether preparing ``records`` is long enough to be done off the loop."""
    if isinstance(records, _TEXT):
        return len(records) >= TEXT_IN_THREAD
    return isinstance(records, Sized) and len(records) >= ENCODE_IN_THREAD


class _LoopState:
    """What a connection holds on one event loop: its client and its batch writer."""

    __slots__ = ("client", "owned", "writer")

    def __init__(self, client: AsyncClient, *, owned: bool) -> None:
        self.client = client
        self.owned = owned  # an HTTP pool of this loop (else a client shared by all loops)
        self.writer: AsyncBatchWriter | None = None

    def __repr__(self) -> str:
        return f"<loop state {self.client!r} writer={self.writer!r}>"

    async def aclose(self) -> None:
        """The writer first (its flush needs the client), then the client."""
        try:
            if self.writer is not None:
                await self.writer.close()
        finally:
            if self.owned:
                await self.client.aclose()


class AsyncConnection:
    """One InfluxDB for asyncio code: a real server over HTTP, or the local engine.

    Create it with :func:`influxkit.aio.connect` and use it with ``async with`` (or
    ``await conn.close()``); a registered sync connection's twin comes from
    :func:`influxkit.aio.connection`.

    Example:
        >>> import asyncio, influxkit.aio
        >>> async def main():
        ...     async with influxkit.aio.connect(client="local", database="db") as conn:
        ...         await conn.write("cpu,host=a usage=0.5 1700000000000000000")
        ...         return await conn.query_sql("SELECT host, usage FROM cpu")
        >>> asyncio.run(main())
        [{'host': 'a', 'usage': 0.5}]
    """

    # The sync connection's own checks and transport choice (with transport="auto"'s
    # fallback from Flight to HTTP): one definition for both APIs.
    _check = Connection._check
    _check_open = Connection._check_open
    _known_profile = Connection._known_profile
    _request_config = Connection._request_config
    _database = Connection._database
    _target = Connection._target
    _tag = Connection._tag
    _format = staticmethod(Connection._format)
    _via = Connection._via
    _token_options = Connection._token_options

    def __init__(self, config: ConnectionConfig, *, _twin_of: Connection | None = None) -> None:
        self.config = config
        self._own_closed = False
        self._owner: weakref.ref[Connection] | None = None
        self._sync_writer: BatchWriter | None = None
        self._own_profile: Profile = get_profile(config.profile or "v3_core")
        # HTTP: what the server is, found at the first operation; a twin shares its sync
        # connection's, so the server is asked once for both sides.
        self._server_check: ServerCheck | None = None
        if _twin_of is not None:
            owner = _twin_of
            self._stats: _Stats = owner._stats
            self._owner = weakref.ref(owner)
            self._sync_writer = owner._writer
            engine = owner._client if config.client == "local" else None
            self._server_check = owner._server_check
        else:
            self._stats = _Stats()
            engine = None
            if config.client == "local":
                engine = _make_client(config, self._own_profile, lazy_extras=True)
                engine.start()
            else:
                from influxkit.clients.server_check import ServerCheck

                self._server_check = ServerCheck(config)
        self._engine: ThreadedClient | None = ThreadedClient(engine) if engine else None
        self._loops: PerLoop[_LoopState] = PerLoop(self._new_state, _LoopState.aclose)
        # Arrow Flight (blocking gRPC, run in threads), as the sync connection has it; a
        # twin uses its sync connection's client and "auto" decision instead.
        self._flight: FlightQueryClient | None = None
        self._own_auto: bool | None = None
        self._close_lock = threading.Lock()

    @classmethod
    def twin_of(cls, conn: Connection) -> AsyncConnection:
        """A new async twin of the sync ``conn``, closed with it.

        Use :func:`influxkit.aio.connection`, which keeps one twin per connection.
        """
        twin = cls(conn.config, _twin_of=conn)
        hooks = getattr(conn._client, "close_hooks", None)
        if hooks is not None:  # an HttpClient: the twin's pools and channel close with it
            ref = weakref.ref(twin)
            hooks.append(lambda: _close_twin(ref))
        return twin

    def _new_state(self) -> _LoopState:
        if self._engine is not None:
            return _LoopState(self._engine, owned=False)
        from influxkit.aio.http import AsyncHttpClient

        client = AsyncHttpClient(self.config, server_check=self._server_check)
        client.start()
        return _LoopState(client, owned=True)

    # -- identity and lifecycle ------------------------------------------------------

    @property
    def name(self) -> str | None:
        """The name it is registered under (``None`` for an unregistered connection)."""
        return self.config.name

    @property
    def profile(self) -> Profile:
        """The profile operations are checked against (see :attr:`Connection.profile`)."""
        if self._server_check is not None:
            return self._server_check.profile
        owner = self.sync
        return owner.profile if owner is not None else self._own_profile

    def _verify_server(self, operation: str, *, batched: bool = False) -> None:
        """Nothing here: the async side checks the server at its own await points."""

    async def _ensure_server(self, operation: str, *, batched: bool = False) -> None:
        """At the first operation: detect the server through this loop's client, judge it,
        then check ``operation`` on the (now known) profile. See ``Connection._verify_server``."""
        check = self._server_check
        if check is None or check.ready:
            return
        try:
            await self._state(operation).client.ensure_server()  # type: ignore[attr-defined]
        except InfluxError as exc:
            if not (batched and exc.retryable):
                raise self._tag(exc, operation) from None
        profile = self._known_profile()
        if profile is not None:
            profile.check(operation)

    @property
    def _closed(self) -> bool:
        if self._own_closed:
            return True
        if self._owner is None:
            return False
        owner = self._owner()
        return owner is None or owner.closed

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (for a twin: whether its sync connection closed)."""
        return self._closed

    @property
    def sync(self) -> Connection | None:
        """The sync connection this is the twin of (``None`` for one of its own)."""
        return self._owner() if self._owner is not None else None

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        where = "local" if self.config.client == "local" else self.config.base_url
        name = f"{self.name!r} " if self.name else ""
        known = self._known_profile()
        profile = known.name if known is not None else "auto"
        return f"<AsyncConnection {name}{where} profile={profile} {state}>"

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self, timeout: float | None = None) -> None:
        """Flush what is buffered, then release everything. Safe to call twice.

        For a twin this closes the sync connection too (it is the same connection):
        its batch writer flushes in a worker thread, within ``timeout``.
        """
        if self._own_closed:
            return
        self._own_closed = True
        try:
            await self._loops.aclose()
        finally:
            if self._flight is not None:
                await asyncio.to_thread(self._flight.close)
            owner = self.sync
            if owner is not None:
                await asyncio.to_thread(owner.close, timeout)
            elif self._engine is not None:
                self._engine.sync.close()

    aclose = close

    def _close_from_sync(self) -> None:
        """The sync connection closed: let go of this twin's pools (from any thread)."""
        self._own_closed = True
        self._loops.close_nowait()

    def _state(self, operation: str) -> _LoopState:
        try:
            return self._loops.get()
        except RuntimeError as exc:  # closed meanwhile, or not called from a loop
            raise InfluxError(
                f"{self!r}: {exc}; async connections are used from a running event loop",
                operation=operation,
                connection=self.name,
            ) from None

    async def _reach(
        self, database: str | None, retention_policy: str | None, operation: str
    ) -> str | None:
        """:meth:`Connection._target`, after learning the server when a policy is in play.

        A policy's name on InfluxDB 3 follows the server (``db/rp``, lower-cased), so
        the server must be known first; without a policy there is nothing to wait for.
        """
        if retention_policy or self.config.retention_policy:
            await self._ensure_server(operation)
        return self._target(database, retention_policy, operation)

    # -- writes ----------------------------------------------------------------------

    async def write(
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
        """Write line protocol, Points, dicts, a table, or a list of them.

        See :meth:`Connection.write` (tables take ``measurement=``, ``tag_columns=``...).
        A batched connection buffers and returns at once (``wait=True`` awaits delivery);
        a write of :data:`ENCODE_IN_THREAD` records (or table rows) or more, or of
        :data:`TEXT_IN_THREAD` characters of line protocol, is prepared in a worker thread.
        """
        self._check("write")
        await self._ensure_server("write", batched=self.config.batch is not None)
        db = self._target(self._database(database, "write"), retention_policy, "write")
        options = {
            "database": db,
            "precision": precision,
            "accept_partial": accept_partial,
            "no_sync": no_sync,
            "schema": schema,
            "measurement": measurement,
            "tag_columns": tag_columns,
            "timestamp_column": timestamp_column,
            "field_columns": field_columns,
            "measurement_column": measurement_column,
            # The local engine takes a table's columns (no line protocol), unbatched.
            "ingest_arrow": self.config.batch is None
            and getattr(getattr(self._engine, "sync", None), "ingests_arrow", False),
        }
        if _in_thread(records):
            prep = await asyncio.to_thread(prepare_write, self.config, records, **options)
        else:
            prep = prepare_write(self.config, records, **options)
        if self.config.batch is not None:
            return await self._buffer(prep, wait=wait, timeout=timeout)
        client = self._state("write").client
        try:
            with prep.span(self.name) as span:
                if prep.table is not None:  # the engine's write_table, in a worker thread
                    outcome = await asyncio.to_thread(prep.send, client.sync)  # type: ignore[attr-defined]
                else:
                    outcome = await client.write(
                        prep.body,
                        database=prep.database,
                        precision=prep.precision,
                        accept_partial=prep.accept_partial,
                        no_sync=prep.no_sync,
                    )
                span.set(points=outcome.lines, bytes_sent=outcome.bytes_sent)
        except InfluxError as exc:
            if len(prep.body) >= TEXT_IN_THREAD:  # rejected lines mapped over the whole body
                await asyncio.to_thread(prep.refused, exc, self._stats)
            else:
                prep.refused(exc, self._stats)
            raise self._tag(exc, "write") from None
        return prep.delivered(outcome, self._stats)

    async def _buffer(self, prep: PreparedWrite, *, wait: bool, timeout: float | None) -> Any:
        from influxkit.batching.core import split_chunks

        size = self.config.batch.size  # type: ignore[union-attr]
        if len(prep.body) >= TEXT_IN_THREAD:
            pieces = await asyncio.to_thread(split_chunks, prep.body, size)
        else:
            pieces = split_chunks(prep.body, size)
        try:
            if self._sync_writer is not None:  # a twin: the sync connection's own buffer
                points = await asyncio.to_thread(
                    self._sync_writer.put, pieces, prep.key, wait=wait, timeout=timeout
                )
            else:
                writer = self._writer()
                points = await writer.put(pieces, prep.key, wait=wait, timeout=timeout)
        except InfluxError as exc:
            raise self._tag(exc, "write") from None
        return prep.buffered(points, wait=wait, stats=self._stats)

    def _writer(self) -> AsyncBatchWriter:
        state = self._state("write")
        if state.writer is None:
            from influxkit.aio.batch import AsyncBatchWriter

            state.writer = AsyncBatchWriter(
                state.client,
                self.config.batch,  # type: ignore[arg-type]
                stats=self._stats,
                name=self.name,
            )
            self._loops.guard()  # the loop's shutdown flushes it while requests still work
        return state.writer

    async def flush(self, timeout: float | None = None) -> None:
        """Until everything written before the call is delivered or reported.

        Raises:
            FlushTimeout: ``timeout`` seconds passed first (the points stay buffered).
        """
        self._check("write")
        try:
            if self._sync_writer is not None:
                await asyncio.to_thread(self._sync_writer.flush, timeout)
            elif self.config.batch is not None:
                state = self._loops.current()
                if state is not None and state.writer is not None:
                    await state.writer.flush(timeout)
        except InfluxError as exc:
            raise self._tag(exc, "flush") from None

    # -- queries ---------------------------------------------------------------------

    @property
    def _auto(self) -> bool | None:
        owner = self.sync
        return owner._auto if owner is not None else self._own_auto

    @_auto.setter
    def _auto(self, value: bool | None) -> None:
        owner = self.sync
        if owner is not None:
            owner._auto = value
        else:
            self._own_auto = value

    def _flight_client(self) -> FlightQueryClient:
        owner = self.sync
        if owner is not None:  # one gRPC channel per connection, whichever side asks
            return owner._flight_client()
        return Connection._flight_client(self)  # type: ignore[arg-type]

    async def _over(
        self,
        transport: Transport | None,
        over_http: Callable[[], Any],
        over_flight: Callable[[FlightQueryClient], Any],
        *,
        streaming: bool = False,
    ) -> Any:
        """Run the query on the transport the sync connection's rules choose.

        ``over_http`` makes the async client's coroutine (or stream) on the loop;
        ``over_flight`` is blocking and runs in a worker thread, and so does the first
        try of ``transport="auto"``, which may fall back to ``over_http`` there (its
        coroutine is then awaited here).
        """
        call = self._via(transport, over_http, over_flight, streaming=streaming)
        if call is over_http:
            result = over_http()
        else:
            result = await asyncio.to_thread(call)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _query(
        self, operation: str, run: Callable[[], Awaitable[Any]], database: str | None = None
    ) -> Any:
        await self._ensure_server(operation)
        try:
            with telemetry.span(
                "query", connection=self.name, database=database, operation=operation
            ) as span:
                result = await run()
                if span.active and not isinstance(result, (int, str)):
                    span.set(rows=len(result))  # rows, an Arrow table or a DataFrame (not CSV)
        except InfluxError as exc:
            self._stats.error("query_errors", exc)
            raise self._tag(exc, operation) from None
        self._stats.add(queries=1)
        return result

    async def query_sql(
        self,
        sql: str,
        *,
        params: Mapping[str, Any] | None = None,
        database: str | None = None,
        format: Format = "rows",
        transport: Transport | None = None,
    ) -> Any:
        """Run one SQL statement (``$name`` params). See :meth:`Connection.query_sql`."""
        self._check("query_sql")
        self._format(format)
        db = await self._reach(self._database(database, "query_sql"), None, "query_sql")
        client = self._state("query_sql").client
        return await self._query(
            "query_sql",
            lambda: self._over(
                transport,
                lambda: client.query_sql(sql, database=db, params=params, format=format),
                lambda flight: convert(flight.query(sql, database=db, params=params), format),
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
    ) -> QueryStream:
        """Rows (or Arrow record batches) as they come: ``async for row in ...``.

        Not a coroutine: the checks run now, the query when iteration starts. Use it as
        ``async with`` (or ``await stream.aclose()``) to close the response early.
        """
        self._check("query_sql_stream")
        self._format(format, ("rows", "arrow"))
        db = self._target(self._database(database, "query_sql_stream"), None, "query_sql_stream")

        def over_flight(flight: FlightQueryClient) -> Iterator[Any]:
            batches = flight.stream(sql, database=db, params=params)
            if format == "arrow":
                return batches
            return (row for batch in batches for row in stream_rows(batch))

        async def open_stream() -> AsyncIterator[Any]:
            await self._ensure_server("query_sql_stream")
            client = self._state("query_sql_stream").client
            it = await self._over(
                transport,
                lambda: client.query_sql_stream(sql, database=db, params=params, format=format),
                over_flight,
                streaming=True,
            )
            if isinstance(it, Iterator):  # Flight's blocking batches: pulled in threads
                return iterate_in_thread(lambda: it, ROWS_PER_HOP if format == "rows" else 1)
            return it  # type: ignore[no-any-return]

        return QueryStream(self._stream(open_stream, db))

    async def _stream(
        self, open_stream: Callable[[], Awaitable[AsyncIterator[Any]]], database: str
    ) -> AsyncGenerator[Any, None]:
        operation = "query_sql_stream"
        it: AsyncIterator[Any] | None = None
        try:
            with telemetry.span(
                "query", connection=self.name, database=database, operation=operation
            ):
                it = await open_stream()
            self._stats.add(queries=1)
            async for item in it:
                yield item
        except InfluxError as exc:
            self._stats.error("query_errors", exc)
            raise self._tag(exc, operation) from None
        finally:
            close = getattr(it, "aclose", None)
            if close is not None:
                await close()

    async def execute_sql(
        self, sql: str, *, params: Mapping[str, Any] | None = None, database: str | None = None
    ) -> int:
        """Run a statement for its effect; rows affected (InfluxDB 3 refuses DML and DDL)."""
        self._check("execute_sql")
        db = await self._reach(self._database(database, "execute_sql"), None, "execute_sql")
        client = self._state("execute_sql").client
        return await self._query(
            "execute_sql", lambda: client.execute_sql(sql, database=db, params=params), db
        )

    async def query_influxql(
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

        See :meth:`Connection.query_influxql` (``retention_policy``, ``format="csv"``).
        """
        self._check("query_influxql")
        self._format(format)
        db = await self._reach(database or self.config.database, retention_policy, "query_influxql")
        client = self._state("query_influxql").client

        def over_flight(flight: FlightQueryClient) -> Any:
            if db is None:
                raise ConfigError("InfluxQL over Flight needs a database: pass database=...")
            table = flight.query(query, database=db, params=params, query_type="influxql")
            return convert(table, format)

        return await self._query(
            "query_influxql",
            lambda: self._over(
                transport,
                lambda: client.query_influxql(query, database=db, params=params, format=format),
                over_flight,
            ),
            db,
        )

    async def query_flux(self, query: str, *, org: str | None = None) -> list[dict[str, Any]]:
        """Run a Flux query (InfluxDB 2.x); the rows of every table."""
        self._check("query_flux")
        client = self._state("query_flux").client
        return await self._query(
            "query_flux", lambda: client.query_flux(query, org=org or self.config.org)
        )

    # -- administration --------------------------------------------------------------

    async def _admin(self, operation: str, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        self._check(operation)
        await self._ensure_server(operation)
        try:
            return await call(self._state(operation).client)
        except InfluxError as exc:
            raise self._tag(exc, operation) from None

    async def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database (409 :class:`ServerError` if it exists)."""
        await self._admin(
            "create_database",
            lambda c: c.create_database(name, retention_period=retention_period),
        )

    async def list_databases(self) -> list[str]:
        """The databases' names, sorted."""
        return await self._admin("list_databases", lambda c: c.list_databases())

    async def delete_database(self, name: str) -> None:
        """Delete a database (:class:`DatabaseNotFound` if there is none)."""
        await self._admin("delete_database", lambda c: c.delete_database(name))

    async def create_bucket(
        self, name: str, *, org: str | None = None, retention_seconds: int | None = None
    ) -> None:
        """Create an InfluxDB 2.x bucket."""
        await self._admin(
            "create_bucket",
            lambda c: c.create_bucket(
                name, org=org or self.config.org, retention_seconds=retention_seconds
            ),
        )

    async def list_buckets(self, *, org: str | None = None) -> list[str]:
        """The InfluxDB 2.x buckets' names."""
        return await self._admin(
            "list_buckets", lambda c: c.list_buckets(org=org or self.config.org)
        )

    async def delete_bucket(self, name: str, *, org: str | None = None) -> None:
        """Delete an InfluxDB 2.x bucket."""
        await self._admin(
            "delete_bucket", lambda c: c.delete_bucket(name, org=org or self.config.org)
        )

    async def create_token(
        self,
        name: str | None = None,
        *,
        permissions: list[dict[str, Any]] | None = None,
        expiry_secs: int | None = None,
    ) -> dict[str, Any]:
        """Create a token; the server's answer. See :meth:`Connection.create_token`."""
        options = self._token_options(name, permissions, expiry_secs)
        return await self._admin("create_token", lambda c: c.create_token(name, **options))

    async def delete_token(self, name: str) -> None:
        """Delete a named token."""
        await self._admin("delete_token", lambda c: c.delete_token(name))

    async def health(self) -> dict[str, Any]:
        """``{"status": "pass"|"fail", "version": ..., ...}`` from the server."""
        return await self._admin("health", lambda c: c.health())

    async def server_info(self) -> ServerInfo:
        """Which server answers. See :meth:`Connection.server_info` (asked once, shared
        with the sync side of a registered name)."""
        self._check_open("server_info")
        if self._engine is not None:  # the local engine: no IO
            return self._engine.sync.server_info()
        try:
            return await self._state("server_info").client.server_info()  # type: ignore[attr-defined,no-any-return]
        except InfluxError as exc:
            raise self._tag(exc, "server_info") from None

    def stats(self) -> dict[str, Any]:
        """The counters (shared with the sync connection for a twin). Not a coroutine."""
        out = self._stats.as_dict()
        if self._sync_writer is not None:
            out["points_buffered"] = self._sync_writer.buffered
        else:
            out["points_buffered"] = sum(
                s.writer.buffered for s in self._loops.values() if s.writer is not None
            )
        return out


def _close_twin(ref: weakref.ref[AsyncConnection]) -> None:
    twin = ref()
    if twin is not None:
        twin._close_from_sync()

"""The module-level async API: each function takes a connection name or object first.

``await influxkit.aio.write("trading", ...)`` is ``influxkit.write("trading", ...)``
without blocking the loop. Names resolve exactly as the sync facade resolves them (its
own resolvers are used): a connection registered with :func:`influxkit.add_connection`
(or its alias here) is usable from both APIs, its async side a twin
(:func:`connection`) made on first async use and closed with it; a fan-out group's
name gives its primary for queries, and the group itself for ``write``, ``flush``,
``health`` and ``stats``, which it runs as the sync API does, in a worker thread.

Example:
    >>> import asyncio, influxkit, influxkit.aio
    >>> _ = influxkit.add_connection("metrics", client="local", database="m")
    >>> async def main():
    ...     await influxkit.aio.write("metrics", "cpu v=1 1")
    ...     return await influxkit.aio.query_sql("metrics", "SELECT v FROM cpu")
    >>> asyncio.run(main())
    [{'v': 1.0}]
    >>> influxkit.query_sql("metrics", "SELECT count(*) AS n FROM cpu")  # the same engine
    [{'n': 1}]
    >>> influxkit.remove_connection("metrics")
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from influxkit import facade, registry
from influxkit.aio.connection import AsyncConnection
from influxkit.config import ConnectionConfig
from influxkit.config_sources import build_config, options_from_env
from influxkit.connection import Connection
from influxkit.errors import ConfigError
from influxkit.facade import add_connection, add_connections_from_toml
from influxkit.groups import Group

if TYPE_CHECKING:
    from influxkit.aio.stream import QueryStream
    from influxkit.clients.base import Format, StreamFormat, WriteOutcome
    from influxkit.connection import Transport
    from influxkit.detection import ServerInfo
    from influxkit.groups import GroupOutcome

__all__ = [
    "add_connection",
    "add_connections_from_toml",
    "connect",
    "connect_from_env",
    "connection",
    "create_bucket",
    "create_database",
    "create_token",
    "delete_bucket",
    "delete_database",
    "delete_token",
    "execute_sql",
    "flush",
    "health",
    "list_buckets",
    "list_databases",
    "query_flux",
    "query_influxql",
    "query_sql",
    "query_sql_stream",
    "remove_connection",
    "server_info",
    "stats",
    "write",
]

Target = str | Connection | AsyncConnection

# Each sync connection's async twin. The twin holds its connection only weakly, so a
# connection nobody holds any more is collected with its entry here.
_twins: weakref.WeakKeyDictionary[Connection, AsyncConnection] = weakref.WeakKeyDictionary()
_twins_lock = threading.Lock()


def connection(target: Target) -> AsyncConnection:
    """The :class:`AsyncConnection` for a registered name or a sync connection (its twin).

    An :class:`AsyncConnection` is returned as it is; a group's name gives its primary's.
    A twin is made on first use and kept for the life of its sync connection; it shares
    the sync side's config, counters, engine and batch writer, and is closed with it.

    Raises:
        ConnectionNotFound: nothing is registered as ``target``.
    """
    if isinstance(target, AsyncConnection):
        return target
    return _twin(facade._resolve(target))  # type: ignore[arg-type]


def _twin(conn: Connection) -> AsyncConnection:
    twin = _twins.get(conn)
    if twin is None:
        with _twins_lock:
            twin = _twins.get(conn)
            if twin is None:
                twin = AsyncConnection.twin_of(conn)
                _twins[conn] = twin
    return twin


def _single(target: Target, operation: str) -> AsyncConnection:
    """Like :func:`connection`, but a group's name is refused (administration)."""
    if isinstance(target, AsyncConnection):
        return target
    return _twin(facade._resolve_single(target, operation))  # type: ignore[arg-type]


def _fanout(target: Target) -> AsyncConnection | Group:
    """Like :func:`connection`, but a group's name gives the group (writes, flush, stats)."""
    if isinstance(target, AsyncConnection):
        return target
    found = facade._resolve_fanout(target)  # type: ignore[arg-type]
    return found if isinstance(found, Group) else _twin(found)


# -- lifecycle -----------------------------------------------------------------------


def connect(url: str | None = None, **options: Any) -> AsyncConnection:
    """Open an unregistered async connection; use it with ``async with`` or ``await close()``.

    Takes what :func:`influxkit.connect` takes. Nothing is opened before the first use.
    """
    config = options.pop("config", None)
    if config is None:
        config = build_config(url, **options)
    elif url or options:
        raise ConfigError("pass either config= or url/options to connect(), not both")
    return AsyncConnection(config)


def connect_from_env(**options: Any) -> AsyncConnection:
    """An async connection from ``INFLUX_HOST``, ``INFLUX_TOKEN``, ``INFLUX_DATABASE``...

    Keyword options override the environment.
    """
    return AsyncConnection(ConnectionConfig.from_options(**{**options_from_env(), **options}))


async def remove_connection(name: str) -> None:
    """Unregister ``name`` and close both its sides (a batched one flushes first).

    Raises:
        ConnectionNotFound: nothing is registered as ``name``.
    """
    conn = registry.delete(name)
    if conn is None:
        raise registry._not_found(name, registry._connections)
    with _twins_lock:
        twin = _twins.pop(conn, None)
    if twin is not None:
        await twin.close()  # its pools on this loop, then the sync side in a thread
    else:
        await asyncio.to_thread(conn.close)


# -- data ------------------------------------------------------------------------------


async def write(target: Target, records: Any, **options: Any) -> WriteOutcome | GroupOutcome:
    """Write line protocol, Points, dicts or a list of them. See :meth:`AsyncConnection.write`.

    To a group's name: to every member (in a worker thread), one outcome per member.
    """
    found = _fanout(target)
    if isinstance(found, Group):
        return await asyncio.to_thread(found.write, records, **options)
    return await found.write(records, **options)


async def flush(target: Target, timeout: float | None = None) -> None:
    """Until the connection's (or every group member's) buffered points are delivered."""
    found = _fanout(target)
    if isinstance(found, Group):
        await asyncio.to_thread(found.flush, timeout)
    else:
        await found.flush(timeout)


async def query_sql(
    target: Target,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
    format: Format = "rows",
    transport: Transport | None = None,
) -> Any:
    """Run SQL with ``$name`` params. See :meth:`AsyncConnection.query_sql`."""
    return await connection(target).query_sql(
        sql, params=params, database=database, format=format, transport=transport
    )


def query_sql_stream(
    target: Target,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
    format: StreamFormat = "rows",
    transport: Transport | None = None,
) -> QueryStream:
    """Rows or record batches as they come (``async for``). Not a coroutine."""
    return connection(target).query_sql_stream(
        sql, params=params, database=database, format=format, transport=transport
    )


async def execute_sql(
    target: Target,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
) -> int:
    """Run a statement for its effect. See :meth:`AsyncConnection.execute_sql`."""
    return await connection(target).execute_sql(sql, params=params, database=database)


async def query_influxql(
    target: Target,
    query: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
    format: Format = "rows",
    transport: Transport | None = None,
    retention_policy: str | None = None,
) -> Any:
    """Run InfluxQL. See :meth:`AsyncConnection.query_influxql`."""
    return await connection(target).query_influxql(
        query,
        params=params,
        database=database,
        format=format,
        transport=transport,
        retention_policy=retention_policy,
    )


async def query_flux(target: Target, query: str, *, org: str | None = None) -> list[dict[str, Any]]:
    """Run Flux (InfluxDB 2.x)."""
    return await connection(target).query_flux(query, org=org)


# -- administration --------------------------------------------------------------------


async def create_database(
    target: Target, name: str, *, retention_period: str | None = None
) -> None:
    """Create a database."""
    await _single(target, "create_database").create_database(
        name, retention_period=retention_period
    )


async def list_databases(target: Target) -> list[str]:
    """The databases' names, sorted."""
    return await _single(target, "list_databases").list_databases()


async def delete_database(target: Target, name: str) -> None:
    """Delete a database."""
    await _single(target, "delete_database").delete_database(name)


async def create_bucket(
    target: Target, name: str, *, org: str | None = None, retention_seconds: int | None = None
) -> None:
    """Create an InfluxDB 2.x bucket."""
    await _single(target, "create_bucket").create_bucket(
        name, org=org, retention_seconds=retention_seconds
    )


async def list_buckets(target: Target, *, org: str | None = None) -> list[str]:
    """The InfluxDB 2.x buckets' names."""
    return await _single(target, "list_buckets").list_buckets(org=org)


async def delete_bucket(target: Target, name: str, *, org: str | None = None) -> None:
    """Delete an InfluxDB 2.x bucket."""
    await _single(target, "delete_bucket").delete_bucket(name, org=org)


async def create_token(target: Target, name: str | None = None, **options: Any) -> dict[str, Any]:
    """Create an admin token; the server's answer (holds the token once)."""
    return await _single(target, "create_token").create_token(name, **options)


async def delete_token(target: Target, name: str) -> None:
    """Delete a named token."""
    await _single(target, "delete_token").delete_token(name)


async def health(target: Target) -> dict[str, Any]:
    """The server's health: at least ``status`` and ``version`` (a group: per member)."""
    found = _fanout(target)
    if isinstance(found, Group):
        return await asyncio.to_thread(found.health)
    return await found.health()


async def server_info(target: Target) -> ServerInfo | dict[str, ServerInfo]:
    """Which server answers (a group: per member, as :func:`health`; asked once per
    connection, for both APIs). See :meth:`influxkit.Connection.server_info`."""
    found = _fanout(target)
    if isinstance(found, Group):
        return await asyncio.to_thread(found.server_info)
    return await found.server_info()


def stats(target: Target) -> dict[str, Any]:
    """The counters (shared by both sides of a registered name; a group: per member).

    Not a coroutine: it only reads counters.
    """
    return _fanout(target).stats()

"""The module-level API: each function takes a connection name or object first.

Names resolve through the registry (no lock on the way); the work is the
connection's.  ``influxkit.write("trading", ...)`` and ``conn.write(...)`` are the
same call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from influxkit import groups, registry
from influxkit.config import ConnectionConfig
from influxkit.config_sources import (
    build_config,
    connection_names_in_toml,
    options_from_env,
    options_from_toml,
)
from influxkit.connection import Connection
from influxkit.errors import ConfigError

if TYPE_CHECKING:
    from influxkit.clients.base import Format, StreamFormat, WriteOutcome
    from influxkit.connection import Transport
    from influxkit.detection import ServerInfo
    from influxkit.groups import Group, GroupOutcome

__all__ = [
    "add_connection",
    "add_connections_from_toml",
    "connect",
    "connect_from_env",
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

Target = str | Connection


def _resolve(target: Target) -> Connection:
    """The connection for a name or object; a group's name gives its primary (queries)."""
    if target.__class__ is str:
        conn = registry._connections.get(target)  # type: ignore[arg-type]
        if conn is None:
            group = groups._groups.get(target)  # type: ignore[arg-type]
            if group is not None:
                return group.primary_connection()
            return registry.fetch(target)  # type: ignore[arg-type]  # raises, listing names
        return conn
    if isinstance(target, Connection):
        return target
    raise TypeError(
        f"expected a connection name (str) or an influxkit.Connection, got {type(target).__name__}"
    )


def _resolve_fanout(target: Target) -> Connection | Group:
    """Like :func:`_resolve`, but a group's name gives the group (writes, flush, stats)."""
    if target.__class__ is str:
        conn = registry._connections.get(target)  # type: ignore[arg-type]
        if conn is None:
            group = groups._groups.get(target)  # type: ignore[arg-type]
            return group if group is not None else registry.fetch(target)  # type: ignore[arg-type]
        return conn
    return _resolve(target)


def _resolve_single(target: Target, operation: str) -> Connection:
    """Like :func:`_resolve`, but a group's name is refused (administration)."""
    if target.__class__ is str and registry._connections.get(target) is None:  # type: ignore[arg-type]
        group = groups._groups.get(target)  # type: ignore[arg-type]
        if group is not None:
            raise group.unsupported(operation)
    return _resolve(target)


# -- lifecycle ---------------------------------------------------------------


def connect(url: str | None = None, **options: Any) -> Connection:
    """Open an unregistered connection; close it, or use it as a context manager.

    Example:
        >>> import influxkit
        >>> with influxkit.connect(client="local", databases=["test"]) as conn:
        ...     conn.list_databases()
        ['test']
    """
    config = options.pop("config", None)
    if config is None:
        config = build_config(url, **options)
    elif url or options:
        raise ConfigError("pass either config= or url/options to connect(), not both")
    return Connection(config)


def connect_from_env(**options: Any) -> Connection:
    """Open a connection from ``INFLUX_HOST``, ``INFLUX_TOKEN``, ``INFLUX_DATABASE``... .

    Keyword options override the environment.
    """
    return Connection(ConnectionConfig.from_options(**{**options_from_env(), **options}))


def add_connection(
    name: str, url: str | None = None, *, replace: bool = False, **options: Any
) -> Connection:
    """Open a connection and register it as ``name``.

    Raises:
        ConfigError: ``name`` is taken and ``replace`` is false, or an option is wrong.

    Example:
        >>> import influxkit
        >>> _ = influxkit.add_connection("metrics", client="local", database="m")
        >>> "metrics" in influxkit.registry.names()
        True
        >>> influxkit.remove_connection("metrics")
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"invalid connection name {name!r}: expected a non-empty string")
    if groups.get(name) is not None:
        raise ConfigError(f"{name!r} is a group's name; give the connection another")
    if not replace and registry.get(name) is not None:
        raise ConfigError(
            f"a connection named {name!r} is already registered; "
            "pass replace=True or remove_connection() it first"
        )
    config = options.pop("config", None)
    if config is None:
        config = build_config(url, name=name, **options)
    conn = Connection(config if config.name == name else _renamed(config, name))
    if replace:
        previous = registry.put(name, conn)
        if previous is not None and previous is not conn:
            previous.close()
    elif not registry.put_new(name, conn):
        conn.close()
        raise ConfigError(f"a connection named {name!r} was registered meanwhile")
    return conn


def _renamed(config: ConnectionConfig, name: str) -> ConnectionConfig:
    from dataclasses import replace

    return replace(config, name=name)


def add_connections_from_toml(
    path: str | os.PathLike[str], *, replace: bool = False
) -> list[Connection]:
    """Register every ``[connections.NAME]`` of a TOML file under its name.

    Every table is checked before any is registered; a bad value is reported with the
    file and table it came from.
    """
    configs = {}
    for name in connection_names_in_toml(path):
        try:
            configs[name] = ConnectionConfig.from_options(**options_from_toml(path, name))
        except ConfigError as exc:
            raise ConfigError(f"{os.fspath(path)} [connections.{name}]: {exc}") from None
    return [add_connection(n, replace=replace, config=c) for n, c in configs.items()]


def remove_connection(name: str) -> None:
    """Unregister ``name`` and close it (flushes, releases the pool).

    Raises:
        ConnectionNotFound: nothing is registered as ``name``.
    """
    conn = registry.delete(name)
    if conn is None:
        raise registry._not_found(name, registry._connections)
    conn.close()


# -- data --------------------------------------------------------------------


def write(target: Target, records: Any, **options: Any) -> WriteOutcome | GroupOutcome:
    """Write line protocol, Points, dicts or a list of them. See :meth:`Connection.write`.

    To a group's name: to every member, one outcome per member (see :mod:`influxkit.groups`).
    """
    return _resolve_fanout(target).write(records, **options)


def flush(target: Target, timeout: float | None = None) -> None:
    """Block until the connection's (or every group member's) buffered points are delivered."""
    _resolve_fanout(target).flush(timeout)


def query_sql(
    target: Target,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
    format: Format = "rows",
    transport: Transport | None = None,
) -> Any:
    """Run SQL with ``$name`` params. See :meth:`Connection.query_sql`."""
    return _resolve(target).query_sql(
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
) -> Iterator[Any]:
    """Run SQL, yielding rows or record batches. See :meth:`Connection.query_sql_stream`."""
    return _resolve(target).query_sql_stream(
        sql, params=params, database=database, format=format, transport=transport
    )


def execute_sql(
    target: Target,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
) -> int:
    """Run a statement for its effect. See :meth:`Connection.execute_sql`."""
    return _resolve(target).execute_sql(sql, params=params, database=database)


def query_influxql(
    target: Target,
    query: str,
    *,
    params: Mapping[str, Any] | None = None,
    database: str | None = None,
    format: Format = "rows",
    transport: Transport | None = None,
    retention_policy: str | None = None,
) -> Any:
    """Run InfluxQL. See :meth:`Connection.query_influxql`."""
    return _resolve(target).query_influxql(
        query,
        params=params,
        database=database,
        format=format,
        transport=transport,
        retention_policy=retention_policy,
    )


def query_flux(target: Target, query: str, *, org: str | None = None) -> list[dict[str, Any]]:
    """Run Flux (InfluxDB 2.x). See :meth:`Connection.query_flux`."""
    return _resolve(target).query_flux(query, org=org)


# -- administration ------------------------------------------------------------


def create_database(target: Target, name: str, *, retention_period: str | None = None) -> None:
    """Create a database."""
    _resolve_single(target, "create_database").create_database(
        name, retention_period=retention_period
    )


def list_databases(target: Target) -> list[str]:
    """The databases' names, sorted."""
    return _resolve_single(target, "list_databases").list_databases()


def delete_database(target: Target, name: str) -> None:
    """Delete a database."""
    _resolve_single(target, "delete_database").delete_database(name)


def create_bucket(
    target: Target, name: str, *, org: str | None = None, retention_seconds: int | None = None
) -> None:
    """Create an InfluxDB 2.x bucket."""
    _resolve_single(target, "create_bucket").create_bucket(
        name, org=org, retention_seconds=retention_seconds
    )


def list_buckets(target: Target, *, org: str | None = None) -> list[str]:
    """The InfluxDB 2.x buckets' names."""
    return _resolve_single(target, "list_buckets").list_buckets(org=org)


def delete_bucket(target: Target, name: str, *, org: str | None = None) -> None:
    """Delete an InfluxDB 2.x bucket."""
    _resolve_single(target, "delete_bucket").delete_bucket(name, org=org)


def create_token(target: Target, name: str | None = None, **options: Any) -> dict[str, Any]:
    """Create an admin token; the server's answer (holds the token once)."""
    return _resolve_single(target, "create_token").create_token(name, **options)


def delete_token(target: Target, name: str) -> None:
    """Delete a named token."""
    _resolve_single(target, "delete_token").delete_token(name)


def health(target: Target) -> dict[str, Any]:
    """The server's health: at least ``status`` and ``version`` (a group: per member)."""
    return _resolve_fanout(target).health()


def server_info(target: Target) -> ServerInfo | dict[str, ServerInfo]:
    """Which server answers: product, version, build, the API it implies (a group: per
    member, as :func:`health`). See :meth:`Connection.server_info`."""
    return _resolve_fanout(target).server_info()


def stats(target: Target) -> dict[str, Any]:
    """The connection's counters (a group: each member's, by name)."""
    return _resolve_fanout(target).stats()

"""influxkit for asyncio: the facade and the connection, as coroutines, with the same contract.

``import influxkit.aio`` (it is not imported by ``import influxkit``)::

    await influxkit.aio.write("trading", points)          # a registered name...
    async with influxkit.aio.connect(url, database="db") as conn:   # ...or a connection
        rows = await conn.query_sql("SELECT ...")
        async for row in conn.query_sql_stream("SELECT ..."):
            ...

One registry and one config with the sync API: a name registered with
:func:`influxkit.add_connection` is usable from both sides. Real servers are spoken to
over ``httpx.AsyncClient``; the local engine and Arrow Flight queries run in worker
threads, so the loop is never blocked by a long query. See ``docs/async.md``.
"""

from influxkit.aio.connection import AsyncConnection
from influxkit.aio.facade import (
    add_connection,
    add_connections_from_toml,
    connect,
    connect_from_env,
    connection,
    create_bucket,
    create_database,
    create_token,
    delete_bucket,
    delete_database,
    delete_token,
    execute_sql,
    flush,
    health,
    list_buckets,
    list_databases,
    query_flux,
    query_influxql,
    query_sql,
    query_sql_stream,
    remove_connection,
    server_info,
    stats,
    write,
)
from influxkit.aio.stream import QueryStream

__all__ = [
    "AsyncConnection",
    "QueryStream",
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

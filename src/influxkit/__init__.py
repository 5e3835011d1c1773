"""influxkit: a fast, safe client for InfluxDB 3 (and 2.x / 1.x), with an in-memory InfluxDB.

Register connections by name and use them from any thread::

    import influxkit
    influxkit.add_connection("metrics", client="local", database="app")
    influxkit.write("metrics", "cpu,host=a usage=0.5")
    rows = influxkit.query_sql("metrics", "SELECT * FROM cpu")

This module only re-exports; ``__all__`` is the public API.
"""

from influxkit import registry, telemetry
from influxkit.clients.base import Rejected, WriteOutcome, WriteResult
from influxkit.config import BatchOptions, ConnectionConfig
from influxkit.connection import Connection
from influxkit.errors import (
    AuthError,
    BufferFull,
    ConfigError,
    ConnectionNotFound,
    DatabaseNotFound,
    FlushTimeout,
    InfluxError,
    InvalidRecord,
    LineError,
    MissingDependency,
    PartialWriteError,
    QueryError,
    ServerError,
    ServerMismatch,
    TransportError,
    UnsupportedOperation,
    WriteError,
)
from influxkit.facade import (
    add_connection,
    add_connections_from_toml,
    connect,
    connect_from_env,
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
from influxkit.groups import GroupOutcome, GroupWriteError, add_group, remove_group
from influxkit.lineprotocol.model import UInt
from influxkit.lineprotocol.schema import Schema
from influxkit.pinning import schema_from_server
from influxkit.point import Point

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "Batch",
    "BatchOptions",
    "BufferFull",
    "ConfigError",
    "Connection",
    "ConnectionConfig",
    "ConnectionNotFound",
    "DatabaseNotFound",
    "FlushTimeout",
    "GroupOutcome",
    "GroupWriteError",
    "InfluxError",
    "InvalidRecord",
    "LineError",
    "MissingDependency",
    "PartialWriteError",
    "Point",
    "QueryError",
    "Rejected",
    "Schema",
    "ServerError",
    "ServerInfo",
    "ServerMismatch",
    "TransportError",
    "UInt",
    "UnsupportedOperation",
    "WriteError",
    "WriteOutcome",
    "WriteResult",
    "__version__",
    "add_connection",
    "add_connections_from_toml",
    "add_group",
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
    "registry",
    "remove_connection",
    "remove_group",
    "schema_from_server",
    "server_info",
    "stats",
    "telemetry",
    "write",
]


def __getattr__(name: str) -> object:
    # The batch writer loads with the first batched connection, not with the package;
    # server detection with the first HTTP connection (or server_info() call).
    if name == "Batch":
        from influxkit.batching.batch import Batch

        return Batch
    if name == "ServerInfo":
        from influxkit.detection import ServerInfo

        return ServerInfo
    raise AttributeError(f"module 'influxkit' has no attribute {name!r}")

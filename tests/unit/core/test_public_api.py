"""The public API: ``__all__`` is guarded, and ``import influxkit`` stays light."""

from __future__ import annotations

import subprocess
import sys

import influxkit
from influxkit import facade

EXPECTED = {
    "AuthError", "Batch", "BatchOptions", "BufferFull", "ConfigError", "Connection",
    "ConnectionConfig", "FlushTimeout", "telemetry", "GroupOutcome", "GroupWriteError",
    "add_group", "remove_group", "Schema", "schema_from_server", "Rejected", "WriteResult",
    "ConnectionNotFound", "DatabaseNotFound", "InfluxError", "InvalidRecord", "LineError",
    "MissingDependency", "PartialWriteError", "Point", "QueryError", "ServerError",
    "TransportError", "UInt", "UnsupportedOperation", "WriteError", "WriteOutcome",
    "__version__", "add_connection", "add_connections_from_toml", "connect",
    "connect_from_env", "create_bucket", "create_database", "create_token", "delete_bucket",
    "delete_database", "delete_token", "execute_sql", "flush", "health", "list_buckets",
    "list_databases", "query_flux", "query_influxql", "query_sql", "query_sql_stream",
    "registry", "remove_connection", "stats", "write",
    "ServerInfo", "ServerMismatch", "server_info",
}  # fmt: skip


def test_all_is_the_public_api():
    assert set(influxkit.__all__) == EXPECTED
    for name in influxkit.__all__:
        assert hasattr(influxkit, name), name


def test_every_facade_function_mirrors_a_connection_method():
    ops = {
        "write", "flush", "query_sql", "query_sql_stream", "execute_sql", "query_influxql",
        "query_flux", "create_database", "list_databases", "delete_database", "create_bucket",
        "list_buckets", "delete_bucket", "create_token", "delete_token", "health", "stats",
        "server_info",
    }  # fmt: skip
    for op in ops:
        assert callable(getattr(facade, op)), op
        assert callable(getattr(influxkit.Connection, op)), op


def test_error_tree():
    e = influxkit
    assert issubclass(e.ConfigError, e.InfluxError) and issubclass(e.ConfigError, ValueError)
    assert issubclass(e.ConnectionNotFound, KeyError)
    assert issubclass(e.ServerMismatch, e.ConfigError)
    assert issubclass(e.PartialWriteError, e.WriteError)
    for cls in (e.AuthError, e.DatabaseNotFound, e.QueryError, e.WriteError):
        assert issubclass(cls, e.ServerError)
    for cls in (e.ServerError, e.TransportError, e.UnsupportedOperation, e.InvalidRecord):
        assert issubclass(cls, e.InfluxError)
    assert e.TransportError("x").retryable is True
    assert e.ServerError("x", status=503).retryable is True
    assert e.ServerError("x", status=429).retryable is True
    assert e.ServerError("x", status=400).retryable is False


def test_import_loads_no_heavy_dependency():
    code = (
        "import sys, influxkit\n"
        "heavy = {'pyarrow', 'datafusion', 'pandas', 'polars', 'httpx', 'rich', 'click'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"

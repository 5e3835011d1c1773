"""``schema_from_server``: pin the field types a measurement already has on the server.

InfluxDB 3 (and the local engine) answer ``information_schema.columns``; InfluxDB 1.x
and 2.x answer ``SHOW FIELD KEYS`` / ``SHOW TAG KEYS``. Either way the result is a
:class:`~influxkit.lineprotocol.schema.Schema` to give a connection's ``schema`` option.

Example:
    >>> import influxkit
    >>> conn = influxkit.connect(client="local", database="db")
    >>> _ = conn.write('cpu,host=a usage=0.5,cores=8i,ok=true 1')
    >>> schema = influxkit.schema_from_server(conn, "cpu")
    >>> dict(schema.get("cpu").fields), sorted(schema.get("cpu").tags)
    ({'cores': 'int', 'ok': 'bool', 'usage': 'float'}, ['host'])
    >>> conn.close()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from influxkit.errors import QueryError
from influxkit.lineprotocol.schema import MeasurementSchema, Schema

if TYPE_CHECKING:
    from influxkit.connection import Connection

__all__ = ["schema_from_server"]

# Arrow type names in information_schema (v3) and 1.x fieldType names -> schema types.
_V3_TYPES = {
    "Float64": "float",
    "Int64": "int",
    "UInt64": "uint",
    "Boolean": "bool",
    "Utf8": "string",
}
_V1_TYPES = {
    "float": "float",
    "integer": "int",
    "unsigned": "uint",
    "boolean": "bool",
    "string": "string",
}


def schema_from_server(target: str | Connection, measurement: str) -> Schema:
    """The field types (and tag keys) ``measurement`` has now, as a :class:`Schema`.

    Raises:
        QueryError: the measurement does not exist (or has no field yet).
    """
    from influxkit.facade import _resolve_single

    conn = _resolve_single(target, "schema_from_server")
    if "query_sql" in conn.profile.operations:
        rows = conn.query_sql(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'iox' AND table_name = $m",
            params={"m": measurement},
        )
        fields = {
            r["column_name"]: _V3_TYPES[r["data_type"]] for r in rows if r["data_type"] in _V3_TYPES
        }
        tags = {r["column_name"] for r in rows if r["data_type"].startswith("Dictionary")}
    else:
        quoted = '"' + measurement.replace("\\", "\\\\").replace('"', '\\"') + '"'
        fields = {
            r["fieldKey"]: _V1_TYPES[r["fieldType"]]
            for r in conn.query_influxql(f"SHOW FIELD KEYS FROM {quoted}")
        }
        tags = {r["tagKey"] for r in conn.query_influxql(f"SHOW TAG KEYS FROM {quoted}")}
    if not fields:
        raise QueryError(
            f"measurement {measurement!r} has no fields on {conn!r}: write to it first, or "
            "declare its schema yourself",
            operation="schema_from_server",
            connection=conn.name,
        )
    return Schema({measurement: MeasurementSchema(dict(sorted(fields.items())), frozenset(tags))})

"""The local engine: an in-memory InfluxDB 3 (line protocol, schema-on-write, DataFusion SQL).

pyarrow and datafusion are imported when the engine first needs them, never here.
"""

from influxkit.clients.local.client import LocalClient

__all__ = ["LocalClient"]

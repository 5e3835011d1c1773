"""``influxkit serve``: the local engine behind InfluxDB 3's HTTP API, for tests and local work.

Any InfluxDB client or tool can talk to it: the official ``influxdb3-python`` and
``influxdb-client`` write to it unchanged, and it answers queries in every v3 format.
Start it with ``influxkit serve`` / ``python -m influxkit.server``, or from a test
with :func:`running_server`.  starlette and uvicorn (``influxkit[serve]``) are
imported only when a server is built.
"""

from influxkit.server.run import ServerThread, running_server, serve

__all__ = ["ServerThread", "running_server", "serve"]

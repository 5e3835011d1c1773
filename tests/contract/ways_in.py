"""Every way into one ``influxkit serve`` with Flight, and into a local engine alike.

For the contract tests that compare one result across backends and transports at once
(CSV text, streamed rows): the local engine, serve over HTTP and over Flight, each from
the sync API and from ``influxkit.aio``.
"""

from __future__ import annotations

from collections.abc import Iterator

import influxkit
from influxkit.aio.blocking import BlockingConnection
from influxkit.server import ServerThread


def ways_in(server: ServerThread) -> Iterator[tuple[str, object, str]]:
    """(name, connection, transport) for each way in; the caller closes each."""
    opts = {"database": "db", "flight_port": server.flight_port}
    yield "local", influxkit.connect(client="local", database="db"), "http"
    yield (
        "local-aio",
        BlockingConnection(influxkit.aio.connect(client="local", database="db")),
        "http",
    )
    yield "serve", influxkit.connect(server.url, **opts), "http"
    yield "serve-aio", BlockingConnection(influxkit.aio.connect(server.url, **opts)), "http"
    yield "flight", influxkit.connect(server.url, **opts), "flight"
    yield "flight-aio", BlockingConnection(influxkit.aio.connect(server.url, **opts)), "flight"

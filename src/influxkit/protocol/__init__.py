"""Sans-IO core of the HTTP client: requests to build, responses to judge, bodies to decode.

Nothing here does I/O or imports httpx: :mod:`~influxkit.protocol.requests` turns an
operation and a :class:`~influxkit.config.ConnectionConfig` into :class:`Request` values,
:mod:`~influxkit.protocol.responses` turns a status, headers and body into a result or
the right influxkit exception, and :mod:`~influxkit.protocol.decode` turns query bodies
into rows or Arrow.  The sync client, a future async client and ``influxkit serve``
share them.
"""

from influxkit.protocol.requests import Request

__all__ = ["Request"]

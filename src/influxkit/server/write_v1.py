"""``POST /write`` of ``influxkit serve --profile v1``: InfluxDB 1.x's answers, byte for byte.

1.x checks a write in this order (``serveWrite`` in ``services/httpd/handler.go``,
measured on 1.6.7): ``db`` given (``400 database is required``), the database exists
(``404``), the body read (``413 Request Entity Too Large`` past 25,000,000 bytes;
``gzip`` only for ``Content-Encoding: gzip``, any other encoding read as it is), the
lines parsed (a ``400`` when none is left), ``consistency`` (``400 invalid consistency
level``), the retention policy (``500 retention policy not found: <rp>``; the engine
has ``autogen`` only), then the points (see :mod:`influxkit.clients.local.writes_v1`).
Every ``precision`` value is taken (unknown ones, ``us`` and ``ns`` among them, mean
nanoseconds). Success is ``204``.

Errors are ``{"error":"..."}`` plus a newline, as Go's ``json.Encoder`` writes it (``<``,
``>``, ``&``, U+2028/9 and control characters as ``\\u00XX``), with the message again in
an ``X-InfluxDB-Error`` header (its first 1024 bytes; newlines and other control
characters as spaces: 1.6.7 sends them raw, which HTTP clients refuse).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from influxkit.errors import ServerError
from influxkit.server import parsing
from influxkit.server.parsing import Problem

if TYPE_CHECKING:
    from starlette.requests import Request

    from influxkit.clients.local import LocalClient

__all__ = ["MAX_BODY_BYTES_V1", "go_json_error", "write_v1_profile"]

#: 1.x's ``[http] max-body-size`` default.
MAX_BODY_BYTES_V1 = 25_000_000
_HEADER_BYTES = 1024
_DEFAULT_RPS = frozenset({"", "autogen"})
# What Go's encoding/json (1.19, escapeHTML on) escapes inside a string.
_GO_ESCAPE = re.compile(r'[\x00-\x1f"\\<>&\u2028\u2029]')
_SHORT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HEADER_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def _go_escape(match: re.Match[str]) -> str:
    c = match.group()
    return _SHORT.get(c) or f"\\u{ord(c):04x}"


def go_json_error(message: str) -> bytes:
    """``{"error": message}`` as 1.x's Go JSON encoder writes it, newline included.

    Example:
        >>> go_json_error("unable to parse 'a<b v= 1': missing field value")
        b'{"error":"unable to parse \\'a\\\\u003cb v= 1\\': missing field value"}\\n'
    """
    return ('{"error":"' + _GO_ESCAPE.sub(_go_escape, message) + '"}\n').encode("utf-8")


def _error(status: int, message: str) -> Response:
    response = Response(go_json_error(message), status, media_type="application/json")
    value = _HEADER_CONTROL.sub(b" ", message.encode("utf-8")[:_HEADER_BYTES])
    response.raw_headers.append((b"x-influxdb-error", value))
    return response


def _message(body: object, fallback: str) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return body if isinstance(body, str) else fallback


async def write_v1_profile(engine: LocalClient, request: Request) -> Response:
    """Answer one ``POST /write`` as InfluxDB 1.6.7 does (every error included)."""
    try:
        return await _write(engine, request)
    except Problem as problem:
        if problem.status == 413:
            return _error(413, "Request Entity Too Large")
        return _error(problem.status, _message(problem.body, "bad request"))
    except ServerError as exc:
        return _error(exc.status or 500, _message(exc.body, exc.message))


async def _write(engine: LocalClient, request: Request) -> Response:
    from influxkit.clients.local.writes_v1 import apply_v1, database_not_found, parse_v1
    from influxkit.lineprotocol.precision import now_ns

    params = request.query_params
    database = params.get("db", "")
    if not database:
        return _error(400, "database is required")
    if database not in await run_in_threadpool(engine.list_databases):
        raise database_not_found(database)
    body = await parsing.read_body(request, MAX_BODY_BYTES_V1, strict_encoding=False)
    precision = parsing.v1_profile_precision(params.get("precision"))
    parsed = await run_in_threadpool(parse_v1, body, precision, now_ns())
    if not parsed.points and parsed.parse_error is not None:
        return _error(400, parsed.parse_error)
    if not parsing.v1_consistency_ok(params.get("consistency")):
        return _error(400, "invalid consistency level")
    rp = params.get("rp", "")
    if rp not in _DEFAULT_RPS:
        return _error(500, f"retention policy not found: {rp}")
    await run_in_threadpool(apply_v1, engine, database, parsed, body)
    return Response(status_code=204, media_type="application/json")

"""Pure response judging: status + headers + body -> nothing (success) or the right exception.

The class comes from a table (status, then the request's kind); the message is the
server's own (each server version has its shape: v3 ``{"error","data"}``, v2
``{"code","message"}``, 1.x ``{"error"}``), and the error carries the status, the
parsed body, the method and the path.  Paths never hold secrets (see
:mod:`~influxkit.protocol.requests`), so they are shown as they are.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from influxkit.errors import (
    AuthError,
    DatabaseNotFound,
    LineError,
    PartialWriteError,
    QueryError,
    ServerError,
    WriteError,
)
from influxkit.protocol.requests import Request

__all__ = [
    "check",
    "error_for",
    "parse_body",
    "retry_after",
    "server_message",
    "v1_line_errors",
    "v3_line_errors",
]

# Status -> class, for every kind of request.  Rows absent here fall to _BY_KIND.
_BY_STATUS: dict[int, type[ServerError]] = {
    401: AuthError,
    403: AuthError,
    404: DatabaseNotFound,
}
# Kind -> class for the other 4xx; 413 and 422 are write refusals wherever they come from.
_BY_KIND: dict[str, type[ServerError]] = {
    "write": WriteError,
    "query": QueryError,
    "database": ServerError,
    "bucket": ServerError,
    "token": ServerError,
    "health": ServerError,
}
_WRITE_STATUSES = frozenset({413, 422})
# Kinds for which a 404 is about something other than a database.
_NOT_A_DATABASE = frozenset({"token", "health"})
# Bodies of a 404 for an unknown route (v3, and Go's net/http on 1.x / 2.x).
_UNKNOWN_ROUTE = frozenset({"Not found", "404 page not found"})

_HINTS: dict[type[ServerError], str] = {
    AuthError: "check the token (or username/password) and its permissions",
    DatabaseNotFound: "create it first (InfluxDB 1.x and 2.x do not create it on write)",
}

_WHAT = {"write": "write refused", "query": "query refused", "health": "health check refused"}

_V1_PARSE = re.compile(
    r"unable to parse '(.*?)': (.*?)(?=\nunable to parse '|\s+dropped=\d+$|$)", re.S
)


def parse_body(body: bytes) -> Any:
    """The body as JSON when it is JSON, else as text (``None`` when empty)."""
    if not body:
        return None
    stripped = body.lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return body.decode("utf-8", errors="replace").strip()


def server_message(parsed: Any) -> str:
    """The human message inside a parsed error body, whatever server shape it has."""
    if isinstance(parsed, dict):
        for key in ("error", "message"):
            value = parsed.get(key)
            if isinstance(value, str) and value:
                return value
        return orjson.dumps(parsed).decode()[:1000]
    if parsed is None:
        return "(empty body)"
    text = str(parsed)
    return text if len(text) <= 1000 else text[:1000] + "..."


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def v3_line_errors(parsed: Any, first_line: int = 1) -> list[LineError]:
    """The per-line errors of a v3 write body (shape A: one object, B: a list)."""
    if not isinstance(parsed, dict):
        return []
    data = parsed.get("data")
    items = [data] if isinstance(data, dict) else data if isinstance(data, list) else []
    out = []
    for item in items:
        if not isinstance(item, dict) or "error_message" not in item:
            continue
        number = item.get("line_number")
        out.append(
            LineError(
                line_number=(number + first_line - 1) if isinstance(number, int) else 0,
                message=str(item.get("error_message", "")),
                original_line=str(item.get("original_line", "")),
            )
        )
    return out


def v1_line_errors(
    message: str, source: bytes | None = None, first_line: int = 1
) -> list[LineError]:
    """The lines a 1.x ``unable to parse '<line>': <reason>`` message names.

    Line numbers are found by looking the line up in ``source`` (the body sent); 0 if absent.
    """
    found = _V1_PARSE.findall(message)
    if not found:
        return []
    lines = source.decode("utf-8", errors="replace").split("\n") if source else []
    used: set[int] = set()
    out = []
    for line, reason in found:
        number = 0
        for i, candidate in enumerate(lines):
            if i not in used and candidate.rstrip("\r") == line:
                used.add(i)
                number = i + first_line
                break
        out.append(LineError(line_number=number, message=reason.strip(), original_line=line))
    return out


def _unknown_route(parsed: Any) -> bool:
    return isinstance(parsed, str) and parsed in _UNKNOWN_ROUTE


def _class_for(status: int, kind: str, parsed: Any) -> type[ServerError]:
    if status == 429 or status >= 500:
        return ServerError
    if status == 404 and (kind in _NOT_A_DATABASE or _unknown_route(parsed)):
        return ServerError
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status in _WRITE_STATUSES and kind == "write":
        return WriteError
    return _BY_KIND.get(kind, ServerError)


def error_for(
    status: int, headers: Mapping[str, str], body: bytes, request: Request
) -> ServerError:
    """The exception for a refused ``request`` (status >= 300)."""
    parsed = parse_body(body)
    if not parsed and headers.get("x-influxdb-error"):
        parsed = {"error": headers["x-influxdb-error"]}
    cls = _class_for(status, request.kind, parsed)
    text = server_message(parsed)
    kwargs: dict[str, Any] = {
        "status": status,
        "body": parsed,
        "method": request.method,
        "path": request.path,
        "retry_after": retry_after(headers),
    }
    if status == 404 and _unknown_route(parsed):
        text += " (no such endpoint on this server: is api_version right?)"
    if issubclass(cls, WriteError):
        line_errors = v3_line_errors(parsed, request.first_line)
        if not line_errors and isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
            line_errors = v1_line_errors(parsed["error"], request.source, request.first_line)
        partial = _is_partial(parsed, text)
        if partial:
            cls = PartialWriteError
        kwargs["line_errors"] = line_errors
        what = "write partly refused" if partial else "write refused"
    else:
        what = _WHAT.get(request.kind, "request refused")
    hint = _HINTS.get(cls)
    message = f"{what} (HTTP {status}): {text}" + (f"; {hint}" if hint else "")
    return cls(message, **kwargs)


def _is_partial(parsed: Any, text: str) -> bool:
    # 1.x "partial write: ...": the valid points were written.  v3's accept_partial body
    # (``data`` a list) is partial even when every line was rejected: the server calls it
    # so, the local engine raises the same class, and line_errors tells which lines.
    return text.startswith("partial write:") or (
        isinstance(parsed, dict) and isinstance(parsed.get("data"), list)
    )


def check(status: int, headers: Mapping[str, str], body: bytes, request: Request) -> None:
    """Raise the right :class:`ServerError` unless ``status`` is 2xx."""
    if not 200 <= status < 300:
        raise error_for(status, headers, body, request)

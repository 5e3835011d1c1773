"""The v1 ``/query`` endpoint's logic, free of any web framework: request fields in, answer out.

``influxkit serve`` hands :func:`answer` the request's fields (query string and form
body merged, the body winning as in Go's ``FormValue``) and sends back the status and
JSON it returns.  The profile decides whose answer it is:

* ``v1`` / ``v2``: InfluxDB 1.x (``missing required parameter "q"``; a parse error is
  ``400 {"error":"error parsing query: ..."}``; any ``epoch`` value is accepted, an
  unknown one meaning nanoseconds; RFC 3339 times with trailing zeros cut);
* InfluxDB 3: ``expected a query to be provided in the query string or body``; a parse
  error is the statement's error in a 200; ``epoch`` must be one of ``ns``, ``u``,
  ``µ``, ``ms``, ``s``, ``m``, ``h``, ``d``, ``w``; 0, 3, 6 or 9 fraction digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from influxkit.clients.local.influxql.engine import Catalog, run
from influxkit.clients.local.influxql.errors import ParseError
from influxkit.clients.local.influxql.shape_v1 import (
    DEFAULT_CHUNK_SIZE,
    EPOCHS_V3,
    documents,
    encode,
)

__all__ = ["answer"]


def _error(status: int, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": message}) + b"\n"


def _chunk_size(value: str | None) -> int:
    try:
        size = int(value) if value else DEFAULT_CHUNK_SIZE
    except ValueError:
        return DEFAULT_CHUNK_SIZE
    return size if size > 0 else DEFAULT_CHUNK_SIZE


def _bound_params(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("params must be a JSON object")
    return value


def answer(engine: Catalog, fields: Mapping[str, str], *, v3: bool) -> tuple[int, bytes]:
    """The HTTP status and JSON body of a v1 ``/query`` request with ``fields``.

    Example:
        >>> from influxkit.clients.local import LocalClient
        >>> from influxkit.clients.profiles import get_profile
        >>> engine = LocalClient(get_profile("v1"), databases=["db"])
        >>> answer(engine, {"q": "SHOW DATABASES"}, v3=False)
        (200, b'{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],\
"values":[["db"]]}]}]}\\n')
    """
    query = fields.get("q", "")
    if not query:
        if v3:
            return _error(400, "expected a query to be provided in the query string or body")
        return _error(400, 'missing required parameter "q"')
    epoch = fields.get("epoch") or None
    if v3 and epoch is not None and epoch not in EPOCHS_V3:
        return _error(
            400,
            f"invalid epoch '{epoch}', expected one of: {', '.join(sorted(EPOCHS_V3))}",
        )
    try:
        params = _bound_params(fields.get("params"))
    except (orjson.JSONDecodeError, ValueError) as exc:
        return _error(400, f"error parsing query parameters: {exc}")
    chunked = fields.get("chunked") == "true"
    size = _chunk_size(fields.get("chunk_size"))
    try:
        results = run(
            engine,
            query,
            database=fields.get("db") or None,
            params=params,
            dialect="v3" if v3 else "v1",
            retention_policy=None if v3 else fields.get("rp") or None,
        )
    except ParseError as exc:
        if not v3:
            return _error(400, exc.message)
        doc = {"results": [{"statement_id": 0, "error": exc.message}]}
        return 200, encode([doc])
    docs = documents(
        results, epoch=epoch, chunked=chunked, chunk_size=size, style="v3" if v3 else "v1"
    )
    if fields.get("pretty") == "true":
        return 200, b"".join(orjson.dumps(d, option=orjson.OPT_INDENT_2) + b"\n" for d in docs)
    return 200, encode(docs)

"""``POST /api/v2/query`` of ``influxkit serve``: Flux on the local engine, as InfluxDB 2.x answers.

The request is read as 2.x's ``decodeQueryRequest`` reads it (``http/query.go``):

* ``Content-Type: application/vnd.flux``: the body is the script; anything else
  (``application/json`` is the default) is a JSON object ``{"query", "type", "dialect",
  "now"}``;
* defaults: ``type`` ``flux``; dialect ``header: true``, ``delimiter: ","``,
  ``dateTimeFormat: "RFC3339"`` and **no annotations**;
* refusals are 400 ``failed to decode request body: <why>`` with 2.x's own reasons
  (``request body requires either query or AST``, ``unknown query type: x``,
  ``unknown dialect annotation type: x``, ``invalid dialect delimeter: must be length 1``).

``org`` / ``orgID`` are accepted and ignored (the engine has one organization).  The
answer is 200 ``text/csv; charset=utf-8``, annotated CSV as 2.x writes it; a query
refused or failing answers the engine's error (400, 404 for an unknown bucket) in the
v2 shape ``{"code", "message"}``, which the app draws for routes of the ``v2`` family.
On a profile without Flux (every v3 profile, v1) the path does not exist: 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from influxkit.server import parsing
from influxkit.server.parsing import Problem

if TYPE_CHECKING:
    from starlette.requests import Request

    from influxkit.clients.local import LocalClient
    from influxkit.clients.local.flux import Dialect

__all__ = ["CONTENT_TYPE", "FluxRequest", "flux_query_handler", "parse_flux_request"]

#: The ``Content-Type`` of 2.x's CSV answers (Flux's ``csv.Dialect.SetHeaders``).
CONTENT_TYPE = "text/csv; charset=utf-8"
_DECODE = "failed to decode request body: "


@dataclass(frozen=True, slots=True)
class FluxRequest:
    """A decoded query request: the script, the CSV dialect, and ``now`` if the body set it."""

    query: str
    dialect: Dialect
    now_ns: int | None = None


def _refuse(why: str) -> Problem:
    return Problem(400, _DECODE + why)


def _dialect(doc: Any) -> Dialect:
    from influxkit.clients.local.flux import Dialect
    from influxkit.clients.local.flux.annotated_csv import ANNOTATIONS

    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise _refuse("json: cannot unmarshal dialect: expected an object")
    header = doc.get("header")
    delimiter = doc.get("delimiter") or ","
    prefix = doc.get("commentPrefix") or ""
    time_format = doc.get("dateTimeFormat") or "RFC3339"
    annotations = doc.get("annotations") or []
    if header is not None and not isinstance(header, bool):
        raise _refuse("json: cannot unmarshal dialect.header: expected a boolean")
    if not all(isinstance(v, str) for v in (delimiter, prefix, time_format)):
        raise _refuse("json: cannot unmarshal dialect: expected strings")
    if not isinstance(annotations, list) or not all(isinstance(a, str) for a in annotations):
        raise _refuse("json: cannot unmarshal dialect.annotations: expected a list of strings")
    if len(prefix) > 1:
        raise _refuse("invalid dialect comment prefix: must be length 0 or 1")
    if len(delimiter) != 1:
        raise _refuse("invalid dialect delimeter: must be length 1")  # sic, as 2.x spells it
    for annotation in annotations:
        if annotation not in ANNOTATIONS:
            raise _refuse(f"unknown dialect annotation type: {annotation}")
    if time_format not in ("RFC3339", "RFC3339Nano"):
        raise _refuse(f"unknown dialect date time format: {time_format}")
    return Dialect(
        header=True if header is None else header,
        delimiter=delimiter,
        annotations=tuple(annotations),
    )


def parse_flux_request(body: bytes, content_type: str | None) -> FluxRequest:
    """The query request in ``body``, read as 2.x reads it (see the module docstring).

    Raises:
        Problem: 400 ``failed to decode request body: ...``.
    """
    from influxkit.clients.local.flux import Dialect
    from influxkit.clients.local.flux.times import parse_rfc3339

    essence = (content_type or "application/json").split(";")[0].strip().lower()
    if essence == "application/vnd.flux":
        text = _utf8(body)
        if not text:
            raise _refuse("request body requires either query or AST")
        return FluxRequest(text, Dialect())
    if not body.strip():
        raise _refuse("EOF")  # Go's json decoder on an empty body
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _refuse(str(exc)) from None
    if not isinstance(doc, dict):
        raise _refuse("json: cannot unmarshal the body: expected an object")
    query, kind = doc.get("query") or "", doc.get("type") or "flux"
    if not isinstance(query, str) or not isinstance(kind, str):
        raise _refuse("json: cannot unmarshal query and type: expected strings")
    if not query:
        if doc.get("ast"):
            raise Problem(400, "a query given as an AST is not supported by influxkit serve")
        raise _refuse("request body requires either query or AST")
    if kind not in ("flux", "influxql"):
        raise _refuse(f"unknown query type: {kind}")
    if kind == "influxql":
        raise Problem(400, "InfluxQL through /api/v2/query is not supported by influxkit serve")
    dialect = _dialect(doc.get("dialect"))
    now = doc.get("now")
    now_ns = None
    if now is not None:
        now_ns = parse_rfc3339(now) if isinstance(now, str) else None
        if now_ns is None:
            raise _refuse(f"parsing time {orjson.dumps(now).decode()}: not an RFC 3339 time")
    return FluxRequest(query, dialect, now_ns)


def _utf8(body: bytes) -> str:
    parsing.check_utf8(body)
    return body.decode("utf-8")


def _answer(engine: LocalClient, request: FluxRequest) -> bytes:
    from influxkit.clients.local import flux

    return flux.encode_results(
        flux.run(engine, request.query, now_ns=request.now_ns), request.dialect
    )


def flux_query_handler(engine: LocalClient) -> Callable[[Request], Awaitable[Response]]:
    """The handler of ``POST /api/v2/query`` over ``engine`` (route it in the ``v2`` family).

    Errors are raised, not answered: the app renders them (``problem_for`` / ``render``)
    in the v2 shape, after its authentication has run.

    Example:
        >>> from influxkit.clients.local import LocalClient
        >>> from influxkit.clients.profiles import get_profile
        >>> handler = flux_query_handler(LocalClient(get_profile("v2"), databases=["b"]))
    """

    async def query_flux(request: Request) -> Response:
        if not engine.profile.supports("query_flux"):
            return Response("Not found", 404)  # InfluxDB 3 and 1.x have no such path
        body = await parsing.read_body(request)
        decoded = parse_flux_request(body, request.headers.get("content-type"))
        answer = await run_in_threadpool(_answer, engine, decoded)
        return Response(answer, headers={"content-type": CONTENT_TYPE})

    return query_flux

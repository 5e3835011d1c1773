"""InfluxDB 2.x's ``/api/v2/buckets`` and ``/api/v2/orgs`` for ``influxkit serve --profile v2``.

The answers are 2.7's (``tenant/http_server_bucket.go``, ``http_server_org.go``,
``kit/transport/http/api.go``): JSON indented with tabs as Go's ``MarshalIndent`` writes
it (``&``, ``<``, ``>`` escaped), ``Content-Type: application/json; charset=utf-8``, and
errors as ``{"code", "message"}`` with an ``X-Platform-Error-Code`` header.  The engine
keeps the buckets (:mod:`influxkit.clients.local.buckets`); this module reads the
requests as 2.x does:

* ``GET /api/v2/buckets``: ``id``, ``org``, ``orgID``, ``name``, ``limit`` (1..100,
  default 20), ``offset``, ``after``, ``descending``; ``{"links", "buckets"}``;
* ``POST /api/v2/buckets``: ``{"orgID", "name", "description", "rp", "retentionRules":
  [{"type": "expire", "everySeconds", "shardGroupDurationSeconds"}]}`` -> 201;
* ``GET`` / ``PATCH`` / ``DELETE /api/v2/buckets/<id>`` -> 200 / 200 / 204;
* ``GET /api/v2/orgs`` (``org``, ``orgID``) and ``GET /api/v2/orgs/<id>``.

JSON Go cannot decode is a 400 ``failed to unmarshal json: ...``; the detail after the
colon follows Go's wording for missing bodies and wrong types, not for every syntax error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from influxkit.clients.local.bucket_model import V2Error, v2_error
from influxkit.errors import InfluxError, ServerError
from influxkit.server import parsing
from influxkit.server.parsing import Problem

if TYPE_CHECKING:
    from starlette.requests import Request

    from influxkit.clients.local import LocalClient
    from influxkit.clients.local.buckets import Tenancy

__all__ = ["bucket_routes", "go_json"]

Handler = Callable[["Request"], Awaitable[Response]]

BUCKETS = "/api/v2/buckets"
ORGS = "/api/v2/orgs"
_JSON = "application/json; charset=utf-8"
_DEFAULT_LIMIT, _MAX_LIMIT = 20, 100
_ID = re.compile(r"[0-9A-Fa-f]{16}")
_INT = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# A status's 2.x code, for refusals made before the engine is asked (body too large ...).
_CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not found",
          413: "request too large", 422: "unprocessable entity"}  # fmt: skip
_GO_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
               ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))  # fmt: skip


def go_json(doc: Any) -> bytes:
    """``doc`` as Go's ``json.MarshalIndent(v, "", "\\t")`` writes it.

    Example:
        >>> go_json({"write": "/api/v2/write?org=a&bucket=b", "labels": []})
        b'{\\n\\t"write": "/api/v2/write?org=a\\\\u0026bucket=b",\\n\\t"labels": []\\n}'
    """
    text = json.dumps(doc, indent="\t", ensure_ascii=False)
    for char, escaped in _GO_ESCAPES:  # only string contents can hold these
        text = text.replace(char, escaped)
    return text.encode()


def _answer(doc: Any, status: int = 200) -> Response:
    return Response(go_json(doc), status, headers={"content-type": _JSON})


def _refusal(status: int, code: str, message: str) -> Response:
    body = go_json({"code": code, "message": message})
    return Response(body, status, headers={"content-type": _JSON, "x-platform-error-code": code})


def _refusal_for(exc: Exception) -> Response:
    """2.x's answer to a refusal raised while handling the request."""
    if isinstance(exc, ServerError) and isinstance(exc.body, dict) and "code" in exc.body:
        return _refusal(exc.status or 500, exc.body["code"], exc.body["message"])
    if isinstance(exc, Problem):
        body = exc.body
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        text = body if isinstance(body, str) else str(body.get("error", body))
        code = _CODES.get(exc.status, "internal error" if exc.status >= 500 else "invalid")
        return _refusal(exc.status, code, text)
    assert isinstance(exc, InfluxError)
    return _refusal(400, V2Error.INVALID, exc.message)


def _v2(handler: Handler) -> Handler:
    """``handler`` with its refusals answered in 2.x's error shape."""

    async def answered(request: Request) -> Response:
        try:
            return await handler(request)
        except (InfluxError, Problem) as exc:
            return _refusal_for(exc)

    answered.__doc__ = handler.__doc__
    return answered


# -- reading requests as 2.x does ------------------------------------------------------


def _invalid(message: str) -> ServerError:
    return v2_error(V2Error.INVALID, message)


def parse_id(text: str) -> str:
    """A 16-hex-digit id as ``platform.IDFromString`` reads it (lower-cased), or its 400."""
    if len(text) != 16:
        raise _invalid("id must have a length of 16 bytes")
    if not _ID.fullmatch(text) or int(text, 16) == 0:
        raise _invalid("invalid ID")
    return text.lower()


def _find_options(params: Mapping[str, str]) -> dict[str, Any]:
    """``influxdb.DecodeFindOptions``: ``offset``, ``after``, ``limit``, ``descending``."""
    opts: dict[str, Any] = {"offset": 0, "after": None, "limit": _DEFAULT_LIMIT}
    opts["descending"] = False
    if offset := params.get("offset"):
        if not _INT.fullmatch(offset):
            raise _invalid("offset is invalid")
        opts["offset"] = int(offset)
    if after := params.get("after"):
        try:
            opts["after"] = parse_id(after)
        except ServerError as exc:
            raise _invalid(f"decoding after: {exc.message}") from None
    if limit := params.get("limit"):
        if not _INT.fullmatch(limit):
            raise _invalid("limit is invalid")
        if not 1 <= int(limit) <= _MAX_LIMIT:
            raise _invalid(f"limit must be between 1 and {_MAX_LIMIT}")
        opts["limit"] = int(limit)
    if descending := params.get("descending"):
        if descending not in _TRUE | _FALSE:
            raise _invalid("descending is invalid")
        opts["descending"] = descending in _TRUE
    return opts


def _paging_links(path: str, opts: Mapping[str, Any], found: Mapping[str, str], num: int) -> Any:
    """``influxdb.NewPagingLinks``: ``self``, and ``next`` / ``prev`` where they exist."""
    values = {k: v for k, v in found.items() if v}
    values["descending"] = "true" if opts["descending"] else "false"
    values["offset"] = str(opts["offset"])
    if opts["after"] is not None:
        values["after"] = opts["after"]
    values["limit"] = str(opts["limit"])

    def link(**changes: str) -> str:
        merged = {**values, **changes}
        return f"{path}?{urlencode(sorted(merged.items()), quote_via=quote_plus)}"

    links = {"self": link()}
    if num >= opts["limit"]:
        links["next"] = link(offset=str(opts["offset"] + opts["limit"]))
    if opts["offset"] > 0:
        links["prev"] = link(offset=str(max(0, opts["offset"] - opts["limit"])))
    return {k: links[k] for k in ("prev", "self", "next") if k in links}


# Go's names for the JSON value kinds, and the Go type of each field decoded.
_KINDS = {str: "string", bool: "bool", int: "number", float: "number", list: "array",
          dict: "object"}  # fmt: skip
_GO_TYPES = {str: "string", int: "int64", list: "[]tenant.retentionRule"}


def _go_field(doc: Mapping[str, Any], key: str) -> Any:
    """``doc[key]`` as Go's decoder finds it: the exact key, else one equal ignoring case."""
    if key in doc:
        return doc[key]
    folded = key.casefold()
    return next((v for k, v in doc.items() if k.casefold() == folded), None)


def _typed(
    doc: Mapping[str, Any], key: str, kind: type, where: str, go_type: str | None = None
) -> Any:
    """``doc[key]`` if it is of ``kind`` (``None`` when absent or null), else Go's 400."""
    value = _go_field(doc, key)
    if value is None:
        return None
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    shown = _KINDS.get(type(value), "value")
    if shown == "number" and kind is int:
        shown = f"number {value}"
    raise _invalid(
        f"failed to unmarshal json: json: cannot unmarshal {shown} into Go struct field "
        f"{where}.{key} of type {go_type or _GO_TYPES[kind]}"
    )


async def _json_body(request: Request, struct: str) -> dict[str, Any]:
    """The request's JSON object, read as ``json.NewDecoder(r.Body).Decode(&v)`` does."""
    text = (await parsing.read_body(request)).decode("utf-8", "replace").lstrip()
    if not text:
        raise _invalid("failed to unmarshal json: EOF")
    try:
        doc, _ = json.JSONDecoder().raw_decode(text)  # one value; Go ignores what follows
    except json.JSONDecodeError as exc:
        raise _invalid(f"failed to unmarshal json: {exc.msg}") from None
    if not isinstance(doc, dict):
        kind = _KINDS.get(type(doc), "value")
        raise _invalid(
            f"failed to unmarshal json: json: cannot unmarshal {kind} into Go value of type "
            f"tenant.{struct}"
        )
    return doc


def _rules(doc: Mapping[str, Any], struct: str) -> list[dict[str, Any]]:
    """The ``retentionRules`` as decoded (each ``every`` / ``shard_group``, ``None`` if unset)."""
    rules = _typed(doc, "retentionRules", list, struct) or []
    where = f"{struct}.retentionRules"
    out = []
    for item in rules:
        rule = {} if item is None else item
        if not isinstance(rule, dict):
            raise _invalid(
                f"failed to unmarshal json: json: cannot unmarshal {_KINDS.get(type(rule))} "
                f"into Go struct field {where} of type tenant.retentionRule"
            )
        every = _typed(rule, "everySeconds", int, where)
        shard_group = _typed(rule, "shardGroupDurationSeconds", int, where)
        out.append({"every": every, "shard_group": shard_group})
    return out


def _check_rules(rules: list[dict[str, Any]]) -> None:
    """The rules' part of the body's ``OK()``: at most one, no negative duration (422s)."""
    if len(rules) > 1:
        raise v2_error(
            V2Error.UNPROCESSABLE, "buckets cannot have more than one retention rule at this time"
        )
    for rule in rules:
        if (rule["every"] or 0) < 0:
            raise v2_error(V2Error.UNPROCESSABLE, "expiration seconds cannot be negative")
        if (rule["shard_group"] or 0) < 0:
            raise v2_error(V2Error.UNPROCESSABLE, "shard-group duration seconds cannot be negative")


def _path_id(request: Request) -> str:
    return parse_id(request.url.path.rpartition("/")[2])


# -- the endpoints ---------------------------------------------------------------------


def bucket_routes(
    engine: LocalClient,
) -> tuple[dict[tuple[str, str], Handler], dict[tuple[str, str], Handler]]:
    """The handlers by ``(method, path)``, and by ``(method, prefix)`` for ``<prefix><id>``."""
    tenancy = engine.tenancy
    if tenancy is None:
        raise ValueError(f"the {engine.profile.name!r} profile has no buckets")
    api = _BucketAPI(tenancy)
    exact = {
        ("GET", BUCKETS): _v2(api.list_buckets),
        ("POST", BUCKETS): _v2(api.create_bucket),
        ("GET", ORGS): _v2(api.list_orgs),
    }
    prefixed = {
        ("GET", BUCKETS + "/"): _v2(api.get_bucket),
        ("PATCH", BUCKETS + "/"): _v2(api.update_bucket),
        ("DELETE", BUCKETS + "/"): _v2(api.delete_bucket),
        ("GET", ORGS + "/"): _v2(api.get_org),
    }
    return exact, prefixed


class _BucketAPI:
    """The handlers, around one engine's :class:`~influxkit.clients.local.buckets.Tenancy`."""

    def __init__(self, tenancy: Tenancy) -> None:
        self.tenancy = tenancy

    async def list_buckets(self, request: Request) -> Response:
        """``GET /api/v2/buckets``: ``{"links": <paging>, "buckets": [...]}``."""
        params = request.query_params
        opts = _find_options(params)
        org_id = parse_id(params["orgID"]) if params.get("orgID") else None
        bucket_id = parse_id(params["id"]) if params.get("id") else None
        filters = {
            "bucket_id": bucket_id,
            "org_id": org_id,
            "org": params.get("org") or None,
            "name": params.get("name") or None,
        }
        found = await run_in_threadpool(lambda: self.tenancy.find(**filters, **opts))
        shown = {"id": bucket_id or "", "bucket": filters["name"] or "", "orgID": org_id or ""}
        shown["org"] = filters["org"] or ""
        return _answer(
            {
                "links": _paging_links(BUCKETS, opts, shown, len(found)),
                "buckets": [b.to_json() for b in found],
            }
        )

    async def create_bucket(self, request: Request) -> Response:
        """``POST /api/v2/buckets``: 201 and the bucket; 422 for a name in use."""
        struct = "postBucketRequest"
        doc = await _json_body(request, struct)
        name = _typed(doc, "name", str, struct) or ""
        description = _typed(doc, "description", str, struct) or ""
        rp = _typed(doc, "rp", str, struct) or ""
        raw_org = _typed(doc, "orgID", str, struct, "platform.ID")
        if raw_org is not None:
            try:
                raw_org = parse_id(raw_org)
            except ServerError as exc:
                raise _invalid(f"failed to unmarshal json: {exc.message}") from None
        rules = _rules(doc, struct)
        if raw_org is None:  # OK(): the org first, then the rules
            raise _invalid("organization id must be provided")
        _check_rules(rules)
        rule = rules[0] if rules else {"every": 0, "shard_group": 0}
        bucket = await run_in_threadpool(
            lambda: self.tenancy.create(
                name,
                org_id=raw_org,
                retention_seconds=rule["every"] or 0,
                shard_group=rule["shard_group"] or 0,
                description=description,
                rp=rp,
            )
        )
        return _answer(bucket.to_json(), 201)

    async def get_bucket(self, request: Request) -> Response:
        """``GET /api/v2/buckets/<id>``: the bucket, or 404 ``bucket not found``."""
        bucket_id = _path_id(request)
        bucket = await run_in_threadpool(self.tenancy.by_id, bucket_id)
        return _answer(bucket.to_json())

    async def update_bucket(self, request: Request) -> Response:
        """``PATCH /api/v2/buckets/<id>`` with ``name``, ``description``, ``retentionRules``."""
        bucket_id = _path_id(request)
        struct = "bucketUpdate"
        doc = await _json_body(request, struct)
        name = _typed(doc, "name", str, struct)
        description = _typed(doc, "description", str, struct)
        rules = _rules(doc, struct)
        _check_rules(rules)
        rule = rules[0] if rules else {"every": None, "shard_group": None}
        bucket = await run_in_threadpool(
            lambda: self.tenancy.update(
                bucket_id,
                name=name,
                description=description,
                retention_seconds=rule["every"],
                shard_group=rule["shard_group"],
            )
        )
        return _answer(bucket.to_json())

    async def delete_bucket(self, request: Request) -> Response:
        """``DELETE /api/v2/buckets/<id>``: 204; 404 unknown; 400 for a system bucket."""
        bucket_id = _path_id(request)
        await run_in_threadpool(self.tenancy.delete, bucket_id)
        return Response(status_code=204)

    async def list_orgs(self, request: Request) -> Response:
        """``GET /api/v2/orgs`` (``org``, ``orgID``; an unreadable ``orgID`` is ignored)."""
        params = request.query_params
        opts = _find_options(params)
        org_id = None
        if raw := params.get("orgID"):
            try:
                org_id = parse_id(raw)
            except ServerError:
                org_id = None  # 2.x ignores an orgID it cannot read
        name = params.get("org") or None
        if org_id is None and name is None:
            orgs = await run_in_threadpool(self.tenancy.find_orgs)
            orgs = orgs[max(0, opts["offset"]) :][: opts["limit"]]
        else:
            orgs = await run_in_threadpool(lambda: self.tenancy.find_orgs(org_id=org_id, name=name))
        return _answer({"links": {"self": ORGS}, "orgs": [o.to_json() for o in orgs]})

    async def get_org(self, request: Request) -> Response:
        """``GET /api/v2/orgs/<id>``: the organization, or 404 ``organization not found``."""
        org_id = _path_id(request)
        orgs = await run_in_threadpool(lambda: self.tenancy.find_orgs(org_id=org_id))
        return _answer(orgs[0].to_json())

"""Pure request building: an operation + a config -> method, path, params, headers, body.

Paths are relative to ``config.base_url`` (which carries any path prefix).  Secrets go
only into the ``Authorization`` header (:func:`auth_headers`), never into a path or a
query string, so a :class:`Request` can be shown in an error as it is.
"""

from __future__ import annotations

import base64
import functools
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import orjson

from influxkit.errors import ConfigError

if TYPE_CHECKING:
    from influxkit.config import ConnectionConfig

__all__ = [
    "MAX_BODY_BYTES",
    "Request",
    "auth_headers",
    "check_permissions",
    "count_lines",
    "create_database",
    "create_token",
    "delete_database",
    "delete_token",
    "flux_query",
    "gzip_compress",
    "health",
    "influxql_query",
    "list_databases",
    "quote_ident",
    "split_body",
    "split_target",
    "sql_query",
    "v2_create_bucket",
    "v2_delete_bucket",
    "v2_find_bucket",
    "v2_list_buckets",
    "v2_orgs",
    "write",
    "write_precision",
]

# InfluxDB 3's default --max-http-request-size; 1.x allows 25 MB, so it is safe everywhere.
MAX_BODY_BYTES = 10 * 1024 * 1024

Kind = Literal["write", "query", "database", "bucket", "token", "health"]


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request, ready to send.

    Attributes:
        kind: what the request is for; selects the error class of a refusal.
        lines: for writes, the number of lines in ``content`` (before gzip).
        first_line: for writes, the 1-based number of this body's first line within
            the whole write (bodies above the size limit are split).
        source: for writes, the body before gzip (to point at the lines a 1.x server
            names in its error).
    """

    method: str
    path: str
    kind: Kind
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None
    lines: int = 0
    first_line: int = 1
    source: bytes | None = field(default=None, repr=False)


def auth_headers(config: ConnectionConfig) -> dict[str, str]:
    """The ``Authorization`` header for ``config`` (empty without credentials).

    v3 and v2 send ``<auth_scheme> <token>``; v1 sends ``Basic`` for a username with
    a password (or with a token, as InfluxDB 3's v1 endpoints read it), ``Token`` for
    a token alone (reference 4.6).
    """
    if config.api_version == "v1":
        secret = config.password if config.password is not None else config.token
        if config.username is not None and secret is not None:
            raw = f"{config.username}:{secret}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        if config.token:
            return {"Authorization": f"Token {config.token}"}
        return {}
    if config.token:
        return {"Authorization": f"{config.auth_scheme or 'Bearer'} {config.token}"}
    return {}


# Reference table 1.2.  ``auto`` exists only on v3; v1/v2 servers read undecorated
# timestamps as ns, which is what the Connection encodes records in for ``auto``.
_PRECISION = {
    "v3": {
        "auto": "auto",
        "s": "second",
        "ms": "millisecond",
        "us": "microsecond",
        "ns": "nanosecond",
    },
    "v2": {"auto": "ns", "s": "s", "ms": "ms", "us": "us", "ns": "ns"},
    # 1.x /write: "us" is not a spelling (1.6.7 silently stores such timestamps as ns);
    # minutes and hours exist there only.
    "v1": {"auto": "n", "s": "s", "ms": "ms", "us": "u", "ns": "n", "m": "m", "h": "h"},
}


def write_precision(api_version: str, precision: str) -> str:
    """``precision`` (``ns|us|ms|s|auto``, ``m|h`` on v1) as ``api_version``'s endpoint spells it.

    Raises:
        ConfigError: a precision the endpoint does not take (``m`` / ``h`` beyond v1).
    """
    try:
        return _PRECISION[api_version][precision]
    except KeyError:
        if precision in ("m", "h"):
            raise ConfigError(
                f"precision {precision!r} exists only on InfluxDB 1.x (api_version='v1'); "
                f"the {api_version} write endpoint refuses it"
            ) from None
        raise ValueError(
            f"unknown precision {precision!r}: expected ns, us, ms, s or auto"
        ) from None


def count_lines(body: bytes) -> int:
    """Lines in a line protocol body (a last line without ``\\n`` counts)."""
    if not body:
        return 0
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


# One line of line protocol as the server's scanner sees it: a backslash escapes the
# next byte, the series key ends at the first unescaped space, and in the rest a double
# quote opens a string field that may hold newlines.  Possessive quantifiers keep it
# linear.  Used only to split bodies with quotes in them; others split at any newline.
_LP_LINE = re.compile(
    rb'(?:\\.|[^\\ \n])*+(?: (?:"(?:[^"\\]|\\.)*+"?|\\.|[^"\\\n])*+)?(?:\n|\Z)', re.DOTALL
)


def _line_spans(body: bytes) -> list[tuple[int, int]]:
    spans = []
    pos, end = 0, len(body)
    while pos < end:
        m = _LP_LINE.match(body, pos)
        stop = m.end() if m and m.end() > pos else (body.find(b"\n", pos) + 1 or end)
        spans.append((pos, stop))
        pos = stop
    return spans


def split_body(body: bytes, limit: int = MAX_BODY_BYTES) -> list[bytes]:
    """Cut ``body`` at line boundaries into pieces of at most ``limit`` bytes, in order.

    A single line longer than ``limit`` becomes a piece of its own (the server then
    answers 413 for it).  Newlines inside quoted string fields are not boundaries.
    """
    if len(body) <= limit:
        return [body] if body else []
    if b'"' in body:
        return _split_quoted(body, limit)
    pieces = []
    start, end = 0, len(body)
    while start < end:
        if end - start <= limit:
            pieces.append(body[start:])
            break
        cut = body.rfind(b"\n", start, start + limit)
        if cut < 0:  # one line longer than the limit: send it whole
            cut = body.find(b"\n", start + limit)
            cut = end - 1 if cut < 0 else cut
        pieces.append(body[start : cut + 1])
        start = cut + 1
    return pieces


def _split_quoted(body: bytes, limit: int) -> list[bytes]:
    pieces = []
    start = prev = 0
    for begin, stop in _line_spans(body):
        if stop - start > limit and begin > start:
            pieces.append(body[start:begin])
            start = begin
        prev = stop
    if prev > start:
        pieces.append(body[start:prev])
    return pieces


@functools.cache
def _deflate_module() -> Any:
    """``isal.isal_zlib`` when the ``fast`` extra is installed, else the standard ``zlib``.

    Both write the same gzip format. ISA-L's level 1 compresses line protocol about as
    well as zlib's, in a quarter of the time (0.47 ms against 1.69 ms for 5,000 points
    here): a tenth of the client's share of a write.
    """
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib
    return isal_zlib


def gzip_compress(data: bytes, level: int = 1) -> bytes:
    """``data`` as one gzip member (level 1: most of the saving for a fraction of the CPU)."""
    deflate = _deflate_module()
    co = deflate.compressobj(level, deflate.DEFLATED, 31)
    return co.compress(data) + co.flush()


def write(
    config: ConnectionConfig,
    body: bytes,
    *,
    database: str,
    precision: str,
    accept_partial: bool,
    no_sync: bool,
    limit: int = MAX_BODY_BYTES,
) -> list[Request]:
    """The request(s) that write ``body``: one per piece of at most ``limit`` bytes.

    Pieces above ``config.gzip_threshold`` bytes are gzipped (``Content-Encoding: gzip``).
    ``database`` may name a retention policy as ``db/rp`` (the connection makes it so for
    ``retention_policy=``): 1.x gets ``db`` and ``rp`` apart, a 2.x bucket and an
    InfluxDB 3 database are the name itself (see :func:`split_target`).
    """
    api = config.api_version
    prec = write_precision(api, precision)
    if api == "v3":
        path = "/api/v3/write_lp"
        params = {"db": database, "precision": prec}
        params["accept_partial"] = "true" if accept_partial else "false"
        if no_sync:
            params["no_sync"] = "true"
    elif api == "v2":
        path = "/api/v2/write"
        params = {"bucket": database, "precision": prec}
        if config.org:
            params["org"] = config.org
    else:
        db, rp = split_target(database)
        path, params = "/write", {"db": db, "precision": prec}
        if rp:
            params["rp"] = rp
    out = []
    first = 1
    for piece in split_body(body, limit) or [b""]:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        content = piece
        if len(piece) > config.gzip_threshold:
            content = gzip_compress(piece)
            headers["Content-Encoding"] = "gzip"
        n = count_lines(piece)
        out.append(Request("POST", path, "write", params, headers, content, n, first, piece))
        first += n
    return out


def split_target(database: str) -> tuple[str, str | None]:
    """``db/rp`` as ``(db, rp)``; a plain name as ``(name, None)``.

    1.x refuses ``/`` in database and policy names, so the first ``/`` is the separator
    (as in 1.x's own ``/api/v2/write?bucket=db/rp``).

    Example:
        >>> split_target("app/short"), split_target("app")
        (('app', 'short'), ('app', None))
    """
    db, sep, rp = database.partition("/")
    return (db, rp or None) if sep else (database, None)


def _json(method: str, path: str, kind: Kind, doc: Any, **params: str) -> Request:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    return Request(method, path, kind, params, headers, orjson.dumps(doc))


# The Go servers (1.x, 2.x) gzip answers at a cost that halves /query throughput on a
# LAN (measured on 1.6.7: 476k -> 244k rows/s on loopback), so their answers come plain.
_PLAIN = {"Accept-Encoding": "identity"}
# Chunked answers let 1.x stream its result instead of building it whole (+25% rows/s).
_CHUNK_ROWS = "10000"


def _form(
    path: str, kind: Kind, form: Mapping[str, str], accept: str = "application/json"
) -> Request:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": accept,
        **_PLAIN,
    }
    return Request("POST", path, kind, {}, headers, urlencode(form).encode())


def _params_json(params: Mapping[str, Any] | None) -> bytes | None:
    return orjson.dumps(dict(params)) if params else None


def sql_query(sql: str, *, database: str, params: Mapping[str, Any] | None, fmt: str) -> Request:
    """``POST /api/v3/query_sql`` with the JSON body ``{"db","q","format","params"}``."""
    doc: dict[str, Any] = {"db": database, "q": sql, "format": fmt}
    if params:
        doc["params"] = dict(params)
    return _json("POST", "/api/v3/query_sql", "query", doc)


def influxql_query(
    config: ConnectionConfig,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    fmt: str = "json",
) -> Request:
    """InfluxQL: v3 ``POST /api/v3/query_influxql`` (JSON); v1/v2 ``POST /query`` (a form).

    On ``/query`` a ``db/rp`` database is sent as ``db`` and ``rp`` (the policy of the
    measurements the query does not qualify), and ``fmt="csv"`` asks for CSV
    (``Accept: application/csv``: 1.x writes its CSV then; times stay epoch ns).
    """
    if config.api_version == "v3":
        doc: dict[str, Any] = {"db": database, "q": query, "format": fmt}
        if params:
            doc["params"] = dict(params)
        return _json("POST", "/api/v3/query_influxql", "query", doc)
    form = {"q": query, "epoch": "ns", "chunked": "true", "chunk_size": _CHUNK_ROWS}
    if database:
        db, rp = split_target(database)
        form["db"] = db
        if rp:
            form["rp"] = rp
    encoded = _params_json(params)
    if encoded is not None:
        form["params"] = encoded.decode()
    accept = "application/csv" if fmt == "csv" else "application/json"
    return _form("/query", "query", form, accept)


def flux_query(query: str, *, org: str | None) -> Request:
    """``POST /api/v2/query`` for Flux, asking for annotated CSV."""
    doc = {
        "query": query,
        "type": "flux",
        "dialect": {"header": True, "annotations": ["datatype", "group", "default"]},
    }
    req = _json("POST", "/api/v2/query", "query", doc, **({"org": org} if org else {}))
    headers = {**req.headers, "Accept": "application/csv", **_PLAIN}
    return Request(req.method, req.path, req.kind, req.params, headers, req.content)


def quote_ident(name: str) -> str:
    """An InfluxQL identifier in double quotes (a database name can't be a bound parameter)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create_database(
    config: ConnectionConfig, name: str, retention_period: str | None = None
) -> Request:
    """v3 ``POST /api/v3/configure/database``; v1 ``CREATE DATABASE`` through ``/query``."""
    if config.api_version == "v3":
        doc: dict[str, Any] = {"db": name}
        if retention_period:
            doc["retention_period"] = retention_period
        return _json("POST", "/api/v3/configure/database", "database", doc)
    q = f"CREATE DATABASE {quote_ident(name)}"
    if retention_period:
        q += f" WITH DURATION {retention_period}"
    return _form("/query", "database", {"q": q})


def list_databases(config: ConnectionConfig) -> Request:
    """v3 ``GET /api/v3/configure/database?format=json``; v1 ``SHOW DATABASES``."""
    if config.api_version == "v3":
        return Request(
            "GET",
            "/api/v3/configure/database",
            "database",
            {"format": "json"},
            {"Accept": "application/json"},
        )
    return _form("/query", "database", {"q": "SHOW DATABASES"})


def delete_database(config: ConnectionConfig, name: str) -> Request:
    """v3 ``DELETE /api/v3/configure/database?db=``; v1 ``DROP DATABASE``."""
    if config.api_version == "v3":
        return Request("DELETE", "/api/v3/configure/database", "database", {"db": name})
    return _form("/query", "database", {"q": f"DROP DATABASE {quote_ident(name)}"})


def v2_orgs(org: str | None) -> Request:
    """``GET /api/v2/orgs[?org=]`` (the org id a bucket needs)."""
    return Request("GET", "/api/v2/orgs", "bucket", {"org": org} if org else {})


V2_PAGE = 100  # 2.x's largest page (``influxdb.MaxPageSize``)


def v2_list_buckets(org: str | None, offset: int = 0) -> Request:
    """``GET /api/v2/buckets?limit=100&offset=`` (one page), by org name when given."""
    params = {"limit": str(V2_PAGE), **({"offset": str(offset)} if offset else {})}
    if org:
        params["org"] = org
    return Request("GET", "/api/v2/buckets", "bucket", params)


def v2_find_bucket(name: str, org: str | None) -> Request:
    """``GET /api/v2/buckets?name=`` (a bucket's id, for deleting it)."""
    return Request(
        "GET", "/api/v2/buckets", "bucket", {"name": name, **({"org": org} if org else {})}
    )


def v2_create_bucket(name: str, org_id: str, retention_seconds: int | None) -> Request:
    """``POST /api/v2/buckets`` with ``orgID``, ``name`` and an expiry rule when given."""
    rules = [{"type": "expire", "everySeconds": retention_seconds}] if retention_seconds else []
    return _json(
        "POST",
        "/api/v2/buckets",
        "bucket",
        {"orgID": org_id, "name": name, "retentionRules": rules},
    )


def v2_delete_bucket(bucket_id: str) -> Request:
    """``DELETE /api/v2/buckets/<id>``."""
    return Request("DELETE", f"/api/v2/buckets/{bucket_id}", "bucket")


def create_token(
    name: str | None,
    expiry_secs: int | None = None,
    permissions: list[dict[str, Any]] | None = None,
) -> Request:
    """v3 operator token (``name=None``), a named admin token, or (with ``permissions``)
    an Enterprise resource token."""
    if name is None:
        return _json("POST", "/api/v3/configure/token/admin", "token", {})
    doc: dict[str, Any] = {"token_name": name}
    if permissions is not None:
        doc["permissions"] = check_permissions(permissions)
    if expiry_secs is not None:
        doc["expiry_secs"] = expiry_secs
    if permissions is not None:
        return _json("POST", "/api/v3/enterprise/configure/token", "token", doc)
    return _json("POST", "/api/v3/configure/token/named_admin", "token", doc)


def check_permissions(permissions: Any) -> list[dict[str, Any]]:
    """Enterprise resource-token permissions, validated and normalised.

    Each is ``{"resource_type": "db" | "system", "resource_names": ["*" | name, ...],
    "actions": ["read", "write"]}`` (the server's shape).
    """
    if not isinstance(permissions, list) or not permissions:
        raise ConfigError(
            "permissions must be a non-empty list of {'resource_type', 'resource_names', 'actions'}"
        )
    out = []
    for perm in permissions:
        if not isinstance(perm, dict) or set(perm) != {
            "resource_type",
            "resource_names",
            "actions",
        }:
            raise ConfigError(
                f"invalid permission {perm!r}: expected exactly the keys 'resource_type', "
                "'resource_names' and 'actions'"
            )
        kind, names, actions = perm["resource_type"], perm["resource_names"], perm["actions"]
        if kind not in ("db", "system"):
            raise ConfigError(f"invalid resource_type {kind!r}: expected 'db' or 'system'")
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n for n in names)
        ):
            raise ConfigError(
                f"invalid resource_names {names!r}: expected a list of names or ['*']"
            )
        if not isinstance(actions, list) or not actions or not set(actions) <= {"read", "write"}:
            raise ConfigError(f"invalid actions {actions!r}: expected a list of 'read' / 'write'")
        out.append({"resource_type": kind, "resource_names": list(names), "actions": list(actions)})
    return out


def delete_token(name: str) -> Request:
    """``DELETE /api/v3/configure/token?token_name=``."""
    return Request("DELETE", "/api/v3/configure/token", "token", {"token_name": name})


def health(config: ConnectionConfig) -> list[Request]:
    """What to ask for health: v3 ``/health`` + ``/ping``; v2 ``/health``; v1 ``/ping``."""
    if config.api_version == "v3":
        return [Request("GET", "/health", "health"), Request("GET", "/ping", "health")]
    if config.api_version == "v2":
        return [Request("GET", "/health", "health")]
    return [Request("GET", "/ping", "health")]

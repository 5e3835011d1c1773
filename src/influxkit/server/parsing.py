"""Reading requests as InfluxDB 3 does: bodies (gzip, size limit), tokens, query parameters.

(And the few parameters InfluxDB 1.x's ``/write`` reads differently, for the ``v1`` profile.)

Every refusal is a :class:`Problem` carrying the server's status and text (plain text,
or a dict for a JSON body); the app draws it in the endpoint family's shape.  The
``serde error: ...`` texts mimic the Rust deserializers behind the server's handlers.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from influxkit.lineprotocol.precision import normalize_precision
from influxkit.protocol.requests import MAX_BODY_BYTES

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "MALFORMED",
    "UNAUTHENTICATED",
    "Problem",
    "QueryRequest",
    "WriteParams",
    "accept_format",
    "check_utf8",
    "json_object",
    "query_request",
    "read_body",
    "request_token",
    "v1_consistency_ok",
    "v1_profile_precision",
]

# Built with format! on the server: note the space after the colon.
UNAUTHENTICATED = b'{"error": "the request was not authenticated"}'
MALFORMED = (
    b'{"error": "Authorization header was malformed, the request was not in the form of '
    b"'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and "
    b'Basic"}'
)
TOO_LARGE = f"max request size ({MAX_BODY_BYTES} bytes) exceeded"

_V3_PRECISIONS = ("auto", "second", "millisecond", "microsecond", "nanosecond")
_V3_SPELLINGS = frozenset({*_V3_PRECISIONS, "s", "ms", "us", "u", "ns", "n"})
_COMPAT_PRECISIONS = ("s", "ms", "us", "ns")
_COMPAT_SPELLINGS = _V3_SPELLINGS - {"auto"}
_QUERY_FORMATS = {"json": "json", "jsonl": "jsonl", "json_lines": "jsonl", "csv": "csv",
                  "pretty": "pretty", "parquet": "parquet"}  # fmt: skip
_FORMAT_NAMES = ("parquet", "csv", "pretty", "json", "jsonl")
# Accept values selecting a format by their exact bytes (reference 3.2).
_ACCEPT = {"application/json": "json", "text/csv": "csv", "text/plain": "pretty",
           "application/vnd.apache.parquet": "parquet"}  # fmt: skip
_RESET_RPS = frozenset({"", '""', "''", "autogen", "default"})


class Problem(Exception):
    """A refusal: HTTP ``status`` and the server's ``body`` (text, a dict, or raw JSON bytes).

    ``v2_message`` is the ``message`` the v2 endpoint answers when it words it differently.
    """

    def __init__(
        self, status: int, body: str | dict[str, Any] | bytes, *, v2_message: str | None = None
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.v2_message = v2_message


def _variants(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _unknown_variant(value: str, names: tuple[str, ...]) -> str:
    return f"unknown variant `{value}`, expected one of {_variants(names)}"


# -- authentication -----------------------------------------------------------------


def request_token(
    headers: Mapping[str, str], params: Mapping[str, str], with_p: bool
) -> str | None:
    """The token a request carries, or ``None``; a malformed header is a 400.

    ``Authorization: Bearer|Token <tok>`` or ``Basic base64(user:tok)`` (schemes are
    case-sensitive); ``p=<tok>`` where ``with_p`` (``/write``, ``/query``) wins over it.
    """
    if with_p and params.get("p"):
        return params["p"]
    header = headers.get("authorization")
    if header is None:
        return None
    parts = header.split(" ")
    if len(parts) != 2 or parts[0] not in ("Bearer", "Token", "Basic") or not parts[1]:
        raise Problem(400, MALFORMED)
    scheme, credential = parts
    if scheme != "Basic":
        return credential
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Problem(400, MALFORMED) from None
    user, colon, token = decoded.rpartition(":")
    if not colon or ":" in user:
        raise Problem(400, MALFORMED)
    return token


# -- bodies -------------------------------------------------------------------------


def _gunzip(data: bytes, limit: int) -> bytes:
    """Every member of a gzip stream, refusing output past ``limit`` bytes."""
    out = bytearray()
    try:
        while data:
            member = zlib.decompressobj(wbits=31)
            while True:
                out += member.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise Problem(413, TOO_LARGE)
                data = member.unconsumed_tail
                if member.eof or not data:
                    break
            if not member.eof:
                raise Problem(400, "error decoding gzip stream: unexpected end of file")
            data = member.unused_data
    except zlib.error as exc:
        raise Problem(400, f"error decoding gzip stream: {exc}") from None
    return bytes(out)


async def read_body(
    request: Request, limit: int = MAX_BODY_BYTES, *, strict_encoding: bool = True
) -> bytes:
    """The request body, gunzipped for ``Content-Encoding: gzip``; 413 past ``limit`` bytes.

    The limit applies to the bytes received and again to the decompressed body, as the
    server's ``read_body`` does.  An oversized body is still read to its end (and
    dropped), so the client gets the 413 instead of a reset connection.  Another
    encoding is a 400, unless ``strict_encoding=False`` (1.x reads the body as it is).
    """
    encoding = request.headers.get("content-encoding")
    if encoding not in (None, "identity", "gzip") and strict_encoding:
        raise Problem(400, f"unacceptable content-encoding: {encoding}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise Problem(413, TOO_LARGE)
    body = b"".join(chunks)
    return _gunzip(body, limit) if encoding == "gzip" else body


def check_utf8(body: bytes) -> None:
    """400 ``body content is not valid utf8: ...`` (Rust's ``Utf8Error`` text) unless UTF-8."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            detail = f"incomplete utf-8 byte sequence from index {exc.start}"
        else:
            detail = f"invalid utf-8 sequence of {exc.end - exc.start} bytes from index {exc.start}"
        raise Problem(400, f"body content is not valid utf8: {detail}") from None


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON object body; anything else is 400 ``serde json error: ...``."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"serde json error: {exc}") from None
    if not isinstance(doc, dict):
        raise Problem(400, "serde json error: invalid type: expected a JSON object")
    return doc


def field_of(doc: Mapping[str, Any], key: str, kind: type, *, required: bool = True) -> Any:
    """``doc[key]`` checked to be a ``kind``; missing (when required) or mistyped is a 400."""
    value = doc.get(key)
    if value is None:
        if required:
            raise Problem(400, f"serde json error: missing field `{key}`")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Problem(400, f"serde json error: invalid type for `{key}`: expected {kind.__name__}")
    return value


def required_param(params: Mapping[str, str], name: str) -> str:
    """A query parameter the handler cannot do without (400 ``serde error`` otherwise)."""
    value = params.get(name)
    if value is None:
        raise Problem(400, f"serde error: missing field `{name}`")
    return value


def require_json(content_type: str | None) -> None:
    """415 unless the request says its body is ``application/json``."""
    essence = (content_type or "").split(";")[0].strip().lower()
    if essence != "application/json":
        raise Problem(415, "unacceptable content-type, expected: application/json")


def _bool(value: str, prefix: str = "serde error: ") -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise Problem(400, f"{prefix}provided string was not `true` or `false`")


# -- writes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteParams:
    """Where a write goes and how its timestamps read (canonical precision)."""

    database: str
    precision: str
    accept_partial: bool = False
    no_sync: bool = False


def v3_write_params(query: str, params: Mapping[str, str]) -> WriteParams:
    """``/api/v3/write_lp``'s ``db``, ``precision`` (auto), ``accept_partial``, ``no_sync``."""
    if not query:
        raise Problem(400, "missing query parameter 'db'")
    db = required_param(params, "db")
    precision = params.get("precision", "auto")
    if precision not in _V3_SPELLINGS:
        raise Problem(400, "serde error: " + _unknown_variant(precision, _V3_PRECISIONS))
    return WriteParams(
        db,
        normalize_precision(precision),
        accept_partial=_bool(params.get("accept_partial", "true")),
        no_sync=_bool(params.get("no_sync", "false")),
    )


def _compat_precision(params: Mapping[str, str], prefix: str) -> str:
    precision = params.get("precision", "ns")
    if precision not in _COMPAT_SPELLINGS:
        raise Problem(400, prefix + _unknown_variant(precision, _COMPAT_PRECISIONS))
    return normalize_precision(precision)


def v2_write_params(query: str, params: Mapping[str, str]) -> WriteParams:
    """``/api/v2/write``'s ``bucket`` (the database, verbatim), ``precision``; ``org`` ignored."""
    prefix = "failed to deserialize org/bucket/precision in request: "
    if not query:
        raise Problem(400, "no org/bucket destination provided")
    bucket = params.get("bucket")
    if bucket is None:
        raise Problem(400, prefix + "missing field `bucket`")
    if not bucket:
        raise Problem(400, "missing bucket value")
    return WriteParams(bucket, _compat_precision(params, prefix))


def v1_write_params(query: str, params: Mapping[str, str]) -> WriteParams:
    """``/write``'s ``db``, ``rp`` (a non-default rp makes it ``db/rp``), ``precision``."""
    prefix = "failed to deserialize db/rp/precision in request: "
    if not query:
        raise Problem(400, {"error": "no db destination provided"})
    db = params.get("db")
    if db is None:
        raise Problem(400, {"error": prefix + "missing field `db`"})
    try:
        precision = _compat_precision(params, prefix)
    except Problem as exc:
        raise Problem(400, {"error": exc.body}) from None
    rp = params.get("rp", "").lower()
    return WriteParams(db if rp in _RESET_RPS else f"{db}/{rp}", precision)


#: InfluxDB 1.6.7's ``/write`` precisions; it takes any other value (``us``, ``ns``,
#: ``µ``, ``x``...) too, and reads its timestamps as nanoseconds (measured).
_V1_PROFILE_PRECISIONS = {"n": "ns", "u": "us", "ms": "ms", "s": "s", "m": "m", "h": "h"}
_V1_CONSISTENCY = frozenset({"any", "one", "quorum", "all"})


def v1_profile_precision(value: str | None) -> str:
    """The canonical precision 1.6.7's ``/write`` reads ``precision=value`` as (never a 400)."""
    return _V1_PROFILE_PRECISIONS.get(value or "", "ns")


def v1_consistency_ok(value: str | None) -> bool:
    """Whether 1.x takes ``consistency=value`` (empty, or any / one / quorum / all, any case)."""
    return not value or value.lower() in _V1_CONSISTENCY


# -- queries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """One query: its database (``None`` for InfluxQL without one), text, format, params."""

    db: str | None
    query: str
    format: str | None
    params: dict[str, Any] | None


def accept_format(accept: str | None) -> str | None:
    """The format an ``Accept`` header selects; any other value is ``400 invalid mime type``.

    Checked before ``format=`` is looked at, on the exact bytes of the header.
    """
    if accept is None:
        return None
    if accept in _ACCEPT:
        return _ACCEPT[accept]
    if "*/*" in accept or "text/html" in accept:
        return "json"
    raise Problem(400, f"invalid mime type ({accept})")


def query_format(value: Any, prefix: str = "serde error: ") -> str:
    """A ``format`` value as a canonical format name (400 for an unknown one)."""
    if isinstance(value, str) and value in _QUERY_FORMATS:
        return _QUERY_FORMATS[value]
    raise Problem(400, prefix + _unknown_variant(str(value), _FORMAT_NAMES))


def _params(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Problem(400, "serde json error: invalid type: params must be a JSON object")
    for name, v in value.items():
        if isinstance(v, (list, dict)):
            raise Problem(
                400, f"serde json error: parameter `{name}` must be null, a bool, number or string"
            )
    return value


async def query_request(request: Request, *, db_required: bool) -> QueryRequest:
    """``db``, ``q``, ``format`` and ``params`` from the query string (GET) or JSON body (POST)."""
    if request.method == "GET":
        qp = request.query_params
        if not request.url.query:
            what = "'db' and 'q'" if db_required else "'q'"
            raise Problem(400, f"missing query parameters {what}")
        db = required_param(qp, "db") if db_required else qp.get("db")
        text = required_param(qp, "q")
        fmt = query_format(qp["format"]) if "format" in qp else None
        raw = qp.get("params")
        if raw is None:
            return QueryRequest(db, text, fmt, None)
        try:
            params = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Problem(400, f"serde json error: {exc}") from None
        return QueryRequest(db, text, fmt, _params(params))
    doc = json_object(await read_body(request))
    db = field_of(doc, "db", str, required=db_required)
    text = field_of(doc, "q", str)
    fmt = doc.get("format")
    fmt = None if fmt is None else query_format(fmt, "serde json error: ")
    return QueryRequest(db, text, fmt, _params(doc.get("params")))


def show_databases_params(params: Mapping[str, str]) -> tuple[str, bool]:
    """``GET /api/v3/configure/database``'s required ``format`` and ``show_deleted``."""
    fmt = query_format(required_param(params, "format"))
    return fmt, _bool(params.get("show_deleted", "false"))

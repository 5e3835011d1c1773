"""What each HTTP operation sends and makes of the answers: sans-IO plans for both clients.

:class:`~influxkit.clients.http.HttpClient` (``httpx.Client``) and
:class:`~influxkit.aio.http.AsyncHttpClient` (``httpx.AsyncClient``) only move bytes;
everything else an operation does lives here, once:

* a **plan** is a generator that yields each :class:`~influxkit.protocol.requests.Request`
  to send and receives the answer (anything with ``headers`` and ``content``, such as
  an ``httpx.Response``).  A refused request is not answered: the driver throws the
  exception :func:`influxkit.protocol.responses.check` raised into the plan, which may
  handle it (a 5xx health answer is a ``fail``; a later piece of a split write failing
  means the earlier ones landed) or let it propagate.  The plan's return value is the
  operation's result.  :func:`run` drives a plan with a blocking ``send``; the async
  client has the same ten lines with ``await``.
* streamed answers are decoded by push decoders fed chunk by chunk, so a sync
  ``for chunk in resp.iter_bytes()`` and an async ``async for`` share every decision:
  :class:`RowStream` (v3 ``jsonl`` into rows or Arrow batches) and :class:`V1Results`
  (a chunked 1.x ``/query`` answer into rows, a table or its CSV text).

Example:
    >>> from influxkit.config import ConnectionConfig
    >>> plan = list_databases(ConnectionConfig.from_options(database="db"))
    >>> req = next(plan)
    >>> req.method, req.path
    ('GET', '/api/v3/configure/database')
    >>> class Answer:
    ...     headers = {}
    ...     content = b'[{"iox::database": "b"}, {"iox::database": "a"}]'
    >>> try:
    ...     plan.send(Answer())
    ... except StopIteration as done:
    ...     done.value
    ['a', 'b']
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from influxkit.clients.base import WriteOutcome
from influxkit.errors import (
    DatabaseNotFound,
    InfluxError,
    PartialWriteError,
    ServerError,
    WriteError,
)
from influxkit.protocol import decode, decode_v1, responses
from influxkit.protocol import requests as rq
from influxkit.results import convert

if TYPE_CHECKING:
    from influxkit.clients.base import Format, StreamFormat
    from influxkit.config import ConnectionConfig
    from influxkit.protocol.requests import Request

__all__ = [
    "STREAM_BATCH_ROWS",
    "Plan",
    "Reply",
    "RowStream",
    "V1Results",
    "create_bucket",
    "create_database",
    "create_token",
    "delete_bucket",
    "delete_database",
    "delete_token",
    "execute_sql",
    "health",
    "influxql_v1",
    "landed_before",
    "list_buckets",
    "no_such_policy",
    "list_databases",
    "query_flux",
    "query_influxql_v3",
    "query_sql",
    "run",
    "write",
]

# Rows per Arrow record batch when streaming a query with format="arrow".
STREAM_BATCH_ROWS = 10_000

T = TypeVar("T")


class Reply(Protocol):
    """What a plan reads of an answer (an ``httpx.Response`` is one)."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers (case-insensitive for httpx)."""
        ...

    @property
    def content(self) -> bytes:
        """The whole body, already read."""
        ...


# Yields requests, is sent their (accepted) answers, returns the operation's result.
Plan = Generator["Request", Reply, T]


def run(plan: Plan[T], send: Callable[[Request], Reply]) -> T:
    """Drive ``plan`` with a blocking ``send`` (which raises for a refused request)."""
    try:
        req = next(plan)
        while True:
            try:
                reply = send(req)
            except InfluxError as exc:
                req = plan.throw(exc)
            else:
                req = plan.send(reply)
    except StopIteration as done:
        return done.value


def _json(content: bytes) -> Any:
    if not content:
        return None
    with decode.gc_paused():
        return orjson.loads(content)


# -- writes ------------------------------------------------------------------


def write(
    config: ConnectionConfig,
    body: bytes,
    *,
    database: str,
    precision: str,
    accept_partial: bool,
    no_sync: bool,
) -> Plan[WriteOutcome]:
    """POST ``body`` (split above 10 MiB, gzipped above the threshold), piece by piece."""
    reqs = rq.write(
        config,
        body,
        database=database,
        precision=precision,
        accept_partial=accept_partial,
        no_sync=no_sync,
    )
    sent = 0
    for index, req in enumerate(reqs):
        try:
            yield req
        except WriteError as exc:
            if index == 0 or isinstance(exc, PartialWriteError):
                raise
            raise landed_before(exc, req.first_line - 1, index) from None
        except ServerError as exc:
            if no_such_policy(exc):
                exc.retryable = False  # 1.x says 500, but asking again cannot help
            raise
        sent += len(req.content or b"")
    return WriteOutcome(lines=sum(r.lines for r in reqs), requests=len(reqs), bytes_sent=sent)


def no_such_policy(exc: ServerError) -> bool:
    """Whether ``exc`` is 1.x's ``500 retention policy not found: <rp>`` for a write."""
    body = exc.body
    text = body.get("error") if isinstance(body, dict) else body
    return (
        exc.status == 500
        and isinstance(text, str)
        and text.startswith("retention policy not found")
    )


def landed_before(exc: WriteError, lines: int, requests: int) -> PartialWriteError:
    """A later piece of a split write failed: the lines of the earlier pieces landed."""
    return PartialWriteError(
        f"{exc.message}; lines 1-{lines} were written by {requests} earlier request(s)",
        status=exc.status,
        body=exc.body,
        method=exc.method,
        path=exc.path,
        retry_after=exc.retry_after,
        line_errors=exc.line_errors,
        retryable=exc.retryable,
    )


# -- queries -------------------------------------------------------------------


def _v3_query(req_for: Callable[[str], Request], format: Format, has_pyarrow: bool) -> Plan[Any]:
    # Parquet carries the column types, so rows come back with the same Python types
    # as from the local engine (every timestamp column a datetime, NULL columns kept).
    # Without pyarrow (a write-and-rows-only install) rows come from JSON, where only
    # ``time`` can be recognised as a timestamp.
    if format == "csv":  # the server's own text, as it answers it
        reply = yield req_for("csv")
        return decode.csv_text(reply.content, reply.headers.get("content-type"))
    if format == "rows" and not has_pyarrow:
        reply = yield req_for("json")
        return decode.json_rows(reply.content)
    reply = yield req_for("parquet")
    return convert(decode.parquet_table(reply.content), format)


def query_sql(
    sql: str,
    *,
    database: str,
    params: Mapping[str, Any] | None,
    format: Format,
    has_pyarrow: bool,
) -> Plan[Any]:
    """SQL over ``/api/v3/query_sql``, as Parquet (JSON for rows without pyarrow)."""
    return _v3_query(
        lambda fmt: rq.sql_query(sql, database=database, params=params, fmt=fmt),
        format,
        has_pyarrow,
    )


def execute_sql(sql: str, *, database: str, params: Mapping[str, Any] | None) -> Plan[int]:
    """Sent as a query: InfluxDB 3 refuses DML/DDL (a :class:`QueryError`); else a row count."""
    reply = yield rq.sql_query(sql, database=database, params=params, fmt="json")
    rows = decode.json_rows(reply.content)
    if len(rows) == 1 and isinstance(rows[0].get("count"), int):
        return int(rows[0]["count"])
    return 0


def query_influxql_v3(
    config: ConnectionConfig,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    format: Format,
    has_pyarrow: bool,
) -> Plan[Any]:
    """InfluxQL over v3 ``/api/v3/query_influxql`` (1.x and 2.x stream: :class:`V1Results`)."""
    return _v3_query(
        lambda fmt: rq.influxql_query(config, query, database=database, params=params, fmt=fmt),
        format,
        has_pyarrow,
    )


def query_flux(query: str, *, org: str | None) -> Plan[list[dict[str, Any]]]:
    """Flux over ``/api/v2/query``; annotated CSV decoded to typed rows."""
    reply = yield rq.flux_query(query, org=org)
    return decode_v1.flux_rows(reply.content)


class RowStream:
    """A v3 ``jsonl`` answer, fed as it arrives, as rows or Arrow batches of ~10,000 rows.

    Rows are the server's objects (NULL columns left out, as every stream gives them).
    A batch has the columns seen so far; one NULL throughout a batch takes the type it
    had in an earlier batch.  Memory is bounded by one chunk, one partial line and one
    pending batch.
    """

    __slots__ = ("_decoder", "_format", "_pending", "_types")

    def __init__(self, format: StreamFormat) -> None:
        self._format = format
        arrow = format == "arrow"
        self._decoder = decode.JsonlDecoder(time_as_ns=arrow, columns=arrow)
        self._pending: list[dict[str, Any]] = []
        self._types: dict[str, Any] = {}  # column -> the Arrow type earlier batches had

    def feed(self, chunk: bytes) -> list[Any]:
        """The rows (or full record batches) ``chunk`` completes."""
        rows = self._decoder.feed(chunk)
        if self._format == "rows":
            return rows
        return self._batches(rows, final=False)

    def close(self) -> list[Any]:
        """What is left at the end of the body."""
        rows = self._decoder.close()
        if self._format == "rows":
            return rows
        return self._batches(rows, final=True)

    def _batch(self, rows: list[dict[str, Any]]) -> Any:
        batch = decode.rows_to_batch(rows, self._decoder.columns, types=self._types)
        for field in batch.schema:
            if field.name not in self._types and str(field.type) != "null":
                self._types[field.name] = field.type
        return batch

    def _batches(self, rows: list[dict[str, Any]], *, final: bool) -> list[Any]:
        pending = self._pending
        pending.extend(rows)
        out = []
        while len(pending) >= STREAM_BATCH_ROWS:
            out.append(self._batch(pending[:STREAM_BATCH_ROWS]))
            del pending[:STREAM_BATCH_ROWS]
        if final and pending:
            out.append(self._batch(pending))
            pending.clear()
        return out


def sql_stream_request(sql: str, *, database: str, params: Mapping[str, Any] | None) -> Request:
    """The request of a streamed SQL query (``jsonl``, decoded by :class:`RowStream`)."""
    return rq.sql_query(sql, database=database, params=params, fmt="jsonl")


def influxql_v1(
    config: ConnectionConfig,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    format: Format,
) -> tuple[Request, V1Results]:
    """The 1.x / 2.x ``/query`` request of an InfluxQL query, and what reads its answer.

    ``format="csv"`` asks for CSV (``Accept: application/csv``) and returns the text.
    """
    fmt = "csv" if format == "csv" else "json"
    req = rq.influxql_query(config, query, database=database, params=params, fmt=fmt)
    return req, V1Results(format)


class V1Results:
    """A chunked 1.x ``/query`` answer, fed as it arrives, gathered into ``format``.

    Each document is decoded when its chunk lands, while the server computes the next;
    ``csv`` keeps the body as it comes and returns its text.
    """

    __slots__ = ("_docs", "_format", "_raw", "_rows", "_stream")

    def __init__(self, format: Format) -> None:
        self._format = format
        self._stream = decode_v1.DocumentStream()
        self._rows: list[dict[str, Any]] = []
        self._docs: list[Any] = []
        self._raw: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        """Take one chunk of the body."""
        if self._format == "csv":
            self._raw.append(chunk)
            return
        with decode.gc_paused():
            self._add(self._stream.feed(chunk))

    def result(self, content_type: str | None = None) -> Any:
        """The rows (table, CSV text) of the whole answer; a statement error raises.

        1.x leaves statement errors out of a CSV answer (an unknown database is an
        empty text there), so ``csv`` cannot raise them.
        """
        if self._format == "csv":
            return decode.csv_text(b"".join(self._raw), content_type)
        with decode.gc_paused():
            self._add(self._stream.close())
        if self._format == "rows":
            return self._rows
        return convert(decode_v1.v1_table(self._docs), self._format)

    def _add(self, docs: list[Any]) -> None:
        for doc in docs:
            if self._format == "rows":
                self._rows.extend(decode_v1.v1_rows(doc))
            else:
                self._docs.append(doc)


# -- databases -------------------------------------------------------------------


def _v1_statement(req: Request) -> Plan[list[dict[str, Any]]]:
    reply = yield req
    return decode_v1.v1_rows(decode_v1.v1_documents(reply.content))


def create_database(
    config: ConnectionConfig, name: str, *, retention_period: str | None = None
) -> Plan[None]:
    """Create ``name``; on 1.x (which accepts an existing name silently) a 409 is raised."""
    if config.api_version == "v3":
        yield rq.create_database(config, name, retention_period)
        return
    if name in (yield from list_databases(config)):
        raise ServerError(
            f"database {name!r} already exists (InfluxDB 1.x would accept CREATE DATABASE "
            "silently; influxkit reports it as InfluxDB 3 does)",
            status=409,
            method="POST",
            path="/query",
            retryable=False,
        )
    yield from _v1_statement(rq.create_database(config, name, retention_period))


def list_databases(config: ConnectionConfig) -> Plan[list[str]]:
    """Database names, sorted (v3 includes ``_internal``, as the server lists it)."""
    if config.api_version == "v3":
        reply = yield rq.list_databases(config)
        return sorted(r["iox::database"] for r in _json(reply.content) or [])
    rows = yield from _v1_statement(rq.list_databases(config))
    return sorted(r["name"] for r in rows)


def delete_database(config: ConnectionConfig, name: str) -> Plan[None]:
    """Delete ``name``; unknown is :class:`DatabaseNotFound` (1.x itself says nothing)."""
    if config.api_version == "v3":
        yield rq.delete_database(config, name)
        return
    if name not in (yield from list_databases(config)):
        raise DatabaseNotFound(
            f"database not found: {name!r}", status=404, method="POST", path="/query"
        )
    yield from _v1_statement(rq.delete_database(config, name))


# -- v2 buckets ------------------------------------------------------------------


def _org_id(org: str | None) -> Plan[str]:
    reply = yield rq.v2_orgs(org)
    orgs = (_json(reply.content) or {}).get("orgs") or []
    if not orgs:
        raise DatabaseNotFound(f"organization not found: {org!r}", status=404, path="/api/v2/orgs")
    return str(orgs[0]["id"])


def create_bucket(name: str, *, org: str | None, retention_seconds: int | None) -> Plan[None]:
    """``POST /api/v2/buckets`` (the org id is looked up by name first)."""
    org_id = yield from _org_id(org)
    yield rq.v2_create_bucket(name, org_id, retention_seconds)


def list_buckets(*, org: str | None) -> Plan[list[str]]:
    """Bucket names, sorted: every page of 100 (a short page, or one with nothing new, ends)."""
    names: list[str] = []
    seen: set[str] = set()
    while True:
        reply = yield rq.v2_list_buckets(org, offset=len(seen))
        page = (_json(reply.content) or {}).get("buckets") or []
        new = [b for b in page if b.get("id") not in seen]
        names.extend(b["name"] for b in new)
        seen.update(b.get("id") for b in new)
        if len(page) < rq.V2_PAGE or not new:
            return sorted(names)


def delete_bucket(name: str, *, org: str | None) -> Plan[None]:
    """Find the bucket's id by name, then ``DELETE /api/v2/buckets/<id>``."""
    reply = yield rq.v2_find_bucket(name, org)
    found = [b for b in (_json(reply.content) or {}).get("buckets", []) if b.get("name") == name]
    if not found:
        raise DatabaseNotFound(f"bucket not found: {name!r}", status=404, path="/api/v2/buckets")
    yield rq.v2_delete_bucket(str(found[0]["id"]))


# -- v3 tokens ---------------------------------------------------------------------


def create_token(name: str | None, **options: Any) -> Plan[dict[str, Any]]:
    """The operator token (``name=None``) or a named admin token; the server's JSON."""
    reply = yield rq.create_token(name, options.get("expiry_secs"), options.get("permissions"))
    return _json(reply.content) or {}


def delete_token(name: str) -> Plan[None]:
    """``DELETE /api/v3/configure/token?token_name=``."""
    yield rq.delete_token(name)


# -- health --------------------------------------------------------------------------


def health(config: ConnectionConfig) -> Plan[dict[str, Any]]:
    """``{"status": "pass"|"fail", "version": ...}``; a 5xx answer is ``fail``.

    No answer at all raises :class:`TransportError`; 401/403 raise :class:`AuthError`.
    """
    out: dict[str, Any] = {"status": "pass", "version": None}
    for req in rq.health(config):
        try:
            reply = yield req
        except ServerError as exc:
            if exc.status is None or exc.status < 500:
                raise
            return {**out, "status": "fail", "message": exc.message}
        headers = reply.headers
        if headers.get("x-influxdb-version"):
            out["version"] = headers["x-influxdb-version"]
        if headers.get("x-influxdb-build"):
            out["build"] = headers["x-influxdb-build"]
        parsed = responses.parse_body(reply.content)
        if isinstance(parsed, dict):
            out.update({k: v for k, v in parsed.items() if k not in ("checks",)})
            if parsed.get("status") not in (None, "pass"):
                out["status"] = "fail"
    return out

"""HttpClient: the ``http`` client, talking to real InfluxDB 3, 2.x and 1.x servers.

One pooled ``httpx.Client`` per connection (created in :meth:`HttpClient.start`, closed
in :meth:`HttpClient.close`).  The requests are built and the answers judged by the
sans-IO :mod:`influxkit.protocol`; this module only moves bytes, and is the one place
httpx errors become :class:`~influxkit.errors.TransportError`.  httpx is imported here,
when the first HTTP connection starts, never by ``import influxkit``.

Results have the local engine's types: rows are dicts with ``time`` as an aware UTC
``datetime``; Arrow / pandas / polars come from Parquet (v3) or are built from the
1.x JSON with ``time`` as ``timestamp[ns]``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ssl
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from influxkit.clients.base import WriteOutcome
from influxkit.errors import (
    DatabaseNotFound,
    MissingDependency,
    PartialWriteError,
    ServerError,
    TransportError,
    WriteError,
)
from influxkit.protocol import decode, decode_v1, responses
from influxkit.protocol import requests as rq
from influxkit.results import convert

if TYPE_CHECKING:
    import httpx

    from influxkit.clients.base import Format, StreamFormat
    from influxkit.clients.profiles import Profile
    from influxkit.config import ConnectionConfig
    from influxkit.protocol.requests import Request

__all__ = ["STREAM_BATCH_ROWS", "HttpClient"]

# Rows per Arrow record batch when streaming a query with format="arrow".
STREAM_BATCH_ROWS = 10_000
# Looked up once: whether v3 rows can come from Parquet (see HttpClient._v3_query).
_HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


@contextlib.contextmanager
def _transport_errors(method: str, path: str, timeout: float) -> Iterator[None]:
    """Map every httpx failure to a retryable :class:`TransportError` (the only such place)."""
    import httpx

    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransportError(
            f"{method} {path}: no answer within the timeout ({timeout:g} s, "
            f"{type(exc).__name__}); raise timeout= if the server is just slow",
            method=method,
            path=path,
        ) from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        detail = str(exc) or type(exc).__name__
        # A certificate the client does not trust stays untrusted: retrying cannot help.
        bad_cert = _caused_by(exc, ssl.SSLCertVerificationError)
        hint = "; give the server's CA with ca_file=..." if bad_cert else ""
        raise TransportError(
            f"{method} {path}: {type(exc).__name__}: {detail}{hint}",
            method=method,
            path=path,
            retryable=False if bad_cert else None,
        ) from exc


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # the chain is short; the bound only guards against cycles
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class HttpClient:
    """The client for real servers; ``config.api_version`` picks the endpoints."""

    def __init__(self, config: ConnectionConfig, profile: Profile) -> None:
        self.config = config
        self.profile = profile
        self._client: httpx.Client | None = None
        self._inherited: httpx.Client | None = None  # a forked child's copy of the parent's

    def __repr__(self) -> str:
        return f"<HttpClient {self.config.base_url} api={self.config.api_version}>"

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Create the pooled ``httpx.Client`` (base URL, auth header, TLS, limits)."""
        import httpx

        cfg = self.config
        if cfg.http2 and importlib.util.find_spec("h2") is None:
            raise MissingDependency(
                "http2=True needs the h2 package: run `pip install 'httpx[http2]'`"
            )
        verify: ssl.SSLContext | bool = cfg.verify_ssl
        if cfg.ca_file:
            verify = ssl.create_default_context(cafile=cfg.ca_file)
        self._client = httpx.Client(
            base_url=cfg.base_url,
            headers={"User-Agent": "influxkit", **rq.auth_headers(cfg)},
            timeout=httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
            limits=httpx.Limits(
                max_connections=cfg.pool_size, max_keepalive_connections=cfg.pool_size
            ),
            verify=verify,
            http2=cfg.http2,
        )

    def close(self) -> None:
        """Close the pool."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def after_fork_in_child(self) -> None:
        """A forked child's own pool: the parent's sockets are not the child's to use.

        The inherited pool is set aside, never closed or finalised here: closing it could
        shut a TLS session the parent still uses. Its descriptors end with the child.
        """
        if self._client is not None:
            self._inherited, self._client = self._client, None
            self.start()

    @property
    def http(self) -> httpx.Client:
        """The pooled ``httpx.Client`` (base URL, auth and TLS set): for unwrapped endpoints."""
        if self._client is None:
            raise TransportError(
                "the HTTP client is closed; open a new connection", retryable=False
            )
        return self._client

    # -- plumbing ------------------------------------------------------------

    def _send(self, req: Request) -> httpx.Response:
        client = self.http
        with _transport_errors(req.method, req.path, self.config.timeout):
            resp = client.request(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            )
        responses.check(resp.status_code, resp.headers, resp.content, req)
        return resp

    def _json(self, req: Request) -> Any:
        content = self._send(req).content
        if not content:
            return None
        with decode.gc_paused():
            return orjson.loads(content)

    # -- writes --------------------------------------------------------------

    def write(
        self,
        body: bytes,
        *,
        database: str,
        precision: str,
        accept_partial: bool,
        no_sync: bool,
    ) -> WriteOutcome:
        """POST ``body`` to the write endpoint (split above 10 MiB, gzipped above the threshold)."""
        reqs = rq.write(
            self.config,
            body,
            database=database,
            precision=precision,
            accept_partial=accept_partial,
            no_sync=no_sync,
        )
        sent = 0
        for index, req in enumerate(reqs):
            try:
                self._send(req)
            except WriteError as exc:
                if index == 0 or isinstance(exc, PartialWriteError):
                    raise
                raise _landed_before(exc, req.first_line - 1, index) from None
            sent += len(req.content or b"")
        return WriteOutcome(lines=sum(r.lines for r in reqs), requests=len(reqs), bytes_sent=sent)

    # -- queries -------------------------------------------------------------

    def _v3_query(self, req_for: Any, format: Format) -> Any:
        # Parquet carries the column types, so rows come back with the same Python types
        # as from the local engine (every timestamp column a datetime, NULL columns kept).
        # Without pyarrow (a write-and-rows-only install) rows come from JSON, where only
        # ``time`` can be recognised as a timestamp.
        if format == "rows" and not _HAS_PYARROW:
            return decode.json_rows(self._send(req_for("json")).content)
        return convert(decode.parquet_table(self._send(req_for("parquet")).content), format)

    def query_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """SQL over ``/api/v3/query_sql``, as Parquet (JSON for rows without pyarrow)."""
        return self._v3_query(
            lambda fmt: rq.sql_query(sql, database=database, params=params, fmt=fmt), format
        )

    def query_sql_stream(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: StreamFormat
    ) -> Iterator[Any]:
        """Rows (or Arrow batches of ~10,000 rows) decoded from ``jsonl`` as it arrives.

        The request is sent when iteration starts; closing the iterator closes the response.
        """
        req = rq.sql_query(sql, database=database, params=params, fmt="jsonl")
        return self._stream(req, format)

    def _stream(self, req: Request, format: StreamFormat) -> Iterator[Any]:
        client = self.http
        with (
            _transport_errors(req.method, req.path, self.config.timeout),
            client.stream(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            ) as resp,
        ):
            if not 200 <= resp.status_code < 300:
                resp.read()
                responses.check(resp.status_code, resp.headers, resp.content, req)
            decoder = decode.JsonlDecoder(time_as_ns=format == "arrow")
            if format == "rows":
                yield from decoder.decode(resp.iter_bytes())
                return
            pending: list[dict[str, Any]] = []
            for row in decoder.decode(resp.iter_bytes()):
                pending.append(row)
                if len(pending) >= STREAM_BATCH_ROWS:
                    yield decode.rows_to_batch(pending, decoder.columns)
                    pending = []
            if pending:
                yield decode.rows_to_batch(pending, decoder.columns)

    def execute_sql(self, sql: str, *, database: str, params: Mapping[str, Any] | None) -> int:
        """Sent as a query: InfluxDB 3 refuses DML/DDL (a :class:`QueryError`); else a row count."""
        rows = decode.json_rows(
            self._send(rq.sql_query(sql, database=database, params=params, fmt="json")).content
        )
        if len(rows) == 1 and isinstance(rows[0].get("count"), int):
            return int(rows[0]["count"])
        return 0

    def query_influxql(
        self, query: str, *, database: str | None, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """InfluxQL: v3 ``/api/v3/query_influxql``; v1/v2 ``/query`` with ``epoch=ns``."""
        cfg = self.config
        if cfg.api_version == "v3":
            return self._v3_query(
                lambda fmt: rq.influxql_query(
                    cfg, query, database=database, params=params, fmt=fmt
                ),
                format,
            )
        req = rq.influxql_query(cfg, query, database=database, params=params)
        rows: list[dict[str, Any]] = []
        docs: list[Any] = []
        with decode.gc_paused(), contextlib.closing(self._v1_stream(req)) as stream:
            # Decode each chunk while the server computes the next one.
            for doc in stream:
                if format == "rows":
                    rows.extend(decode_v1.v1_rows(doc))
                else:
                    docs.append(doc)
        return rows if format == "rows" else convert(decode_v1.v1_table(docs), format)

    def _v1_stream(self, req: Request) -> Iterator[Any]:
        with (
            _transport_errors(req.method, req.path, self.config.timeout),
            self.http.stream(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            ) as resp,
        ):
            if not 200 <= resp.status_code < 300:
                resp.read()
                responses.check(resp.status_code, resp.headers, resp.content, req)
            stream = decode_v1.DocumentStream()
            for chunk in resp.iter_bytes():
                yield from stream.feed(chunk)
            yield from stream.close()

    def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Flux over ``/api/v2/query``; annotated CSV decoded to typed rows."""
        return decode_v1.flux_rows(self._send(rq.flux_query(query, org=org)).content)

    # -- databases -----------------------------------------------------------

    def _v1_documents(self, req: Request) -> list[Any]:
        return decode_v1.v1_documents(self._send(req).content)

    def _v1_statement(self, req: Request) -> list[dict[str, Any]]:
        return decode_v1.v1_rows(self._v1_documents(req))

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create ``name``; on 1.x (which accepts an existing name silently) a 409 is raised."""
        if self.config.api_version == "v3":
            self._send(rq.create_database(self.config, name, retention_period))
            return
        if name in self.list_databases():
            raise ServerError(
                f"database {name!r} already exists (InfluxDB 1.x would accept CREATE DATABASE "
                "silently; influxkit reports it as InfluxDB 3 does)",
                status=409,
                method="POST",
                path="/query",
                retryable=False,
            )
        self._v1_statement(rq.create_database(self.config, name, retention_period))

    def list_databases(self) -> list[str]:
        """Database names, sorted (v3 includes ``_internal``, as the server lists it)."""
        if self.config.api_version == "v3":
            rows = self._json(rq.list_databases(self.config)) or []
            return sorted(r["iox::database"] for r in rows)
        rows = self._v1_statement(rq.list_databases(self.config))
        return sorted(r["name"] for r in rows)

    def delete_database(self, name: str) -> None:
        """Delete ``name``; unknown is :class:`DatabaseNotFound` (1.x itself says nothing)."""
        if self.config.api_version == "v3":
            self._send(rq.delete_database(self.config, name))
            return
        if name not in self.list_databases():
            raise DatabaseNotFound(
                f"database not found: {name!r}", status=404, method="POST", path="/query"
            )
        self._v1_statement(rq.delete_database(self.config, name))

    # -- v2 buckets ----------------------------------------------------------

    def _org_id(self, org: str | None) -> str:
        orgs = (self._json(rq.v2_orgs(org)) or {}).get("orgs") or []
        if not orgs:
            raise DatabaseNotFound(
                f"organization not found: {org!r}", status=404, path="/api/v2/orgs"
            )
        return str(orgs[0]["id"])

    def create_bucket(self, name: str, *, org: str | None, retention_seconds: int | None) -> None:
        """``POST /api/v2/buckets`` (the org id is looked up by name first)."""
        self._send(rq.v2_create_bucket(name, self._org_id(org), retention_seconds))

    def list_buckets(self, *, org: str | None) -> list[str]:
        """Bucket names, sorted (first page of 100)."""
        doc = self._json(rq.v2_list_buckets(org)) or {}
        return sorted(b["name"] for b in doc.get("buckets", []))

    def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Find the bucket's id by name, then ``DELETE /api/v2/buckets/<id>``."""
        found = [
            b
            for b in (self._json(rq.v2_find_bucket(name, org)) or {}).get("buckets", [])
            if b.get("name") == name
        ]
        if not found:
            raise DatabaseNotFound(
                f"bucket not found: {name!r}", status=404, path="/api/v2/buckets"
            )
        self._send(rq.v2_delete_bucket(str(found[0]["id"])))

    # -- v3 tokens -----------------------------------------------------------

    def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """The operator token (``name=None``) or a named admin token; the server's JSON."""
        req = rq.create_token(name, options.get("expiry_secs"), options.get("permissions"))
        return self._json(req) or {}

    def delete_token(self, name: str) -> None:
        """``DELETE /api/v3/configure/token?token_name=``."""
        self._send(rq.delete_token(name))

    # -- health --------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "pass"|"fail", "version": ...}``; a 5xx answer is ``fail``.

        No answer at all raises :class:`TransportError`; 401/403 raise :class:`AuthError`.
        """
        out: dict[str, Any] = {"status": "pass", "version": None}
        for req in rq.health(self.config):
            try:
                resp = self._send(req)
            except ServerError as exc:
                if exc.status is None or exc.status < 500:
                    raise
                return {**out, "status": "fail", "message": exc.message}
            headers = resp.headers
            if headers.get("x-influxdb-version"):
                out["version"] = headers["x-influxdb-version"]
            if headers.get("x-influxdb-build"):
                out["build"] = headers["x-influxdb-build"]
            parsed = responses.parse_body(resp.content)
            if isinstance(parsed, dict):
                out.update({k: v for k, v in parsed.items() if k not in ("checks",)})
                if parsed.get("status") not in (None, "pass"):
                    out["status"] = "fail"
        return out


def _landed_before(exc: WriteError, lines: int, requests: int) -> PartialWriteError:
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

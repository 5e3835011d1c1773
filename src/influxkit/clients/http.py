"""HttpClient: the ``http`` client, talking to real InfluxDB 3, 2.x and 1.x servers.

One pooled ``httpx.Client`` per connection (created in :meth:`HttpClient.start`, closed
in :meth:`HttpClient.close`).  The requests are built and the answers judged by the
sans-IO :mod:`influxkit.protocol`, and what each operation sends and makes of the
answers is a plan in :mod:`influxkit.clients.http_ops`, shared with the asyncio client
(:mod:`influxkit.aio.http`); this module only moves bytes, and is the one place httpx
errors become :class:`~influxkit.errors.TransportError` (the async client uses the same
mapping, :func:`transport_errors`, and the same pool settings, :func:`pool_options`).
httpx is imported here, when the first HTTP connection starts, never by ``import influxkit``.

Every operation starts with :meth:`HttpClient._ready`: once per connection it asks the
server what it is (:mod:`influxkit.detection`) and lets its
:class:`~influxkit.clients.server_check.ServerCheck` judge the answer; after that it is
one attribute read. ``api_version="auto"`` resolves :attr:`HttpClient.config` there.

Results have the local engine's types: rows are dicts with ``time`` as an aware UTC
``datetime``; Arrow / pandas / polars come from Parquet (v3) or are built from the
1.x JSON with ``time`` as ``timestamp[ns]``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import ssl
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit.clients import http_ops as ops
from influxkit.clients.http_ops import STREAM_BATCH_ROWS
from influxkit.clients.server_check import ServerCheck
from influxkit.detection import Answer, detect, run_plan
from influxkit.errors import InfluxError, MissingDependency, TransportError
from influxkit.protocol import decode, responses
from influxkit.protocol import requests as rq

if TYPE_CHECKING:
    import httpx

    from influxkit.clients.base import Format, StreamFormat, WriteOutcome
    from influxkit.clients.profiles import Profile
    from influxkit.config import ConnectionConfig
    from influxkit.detection import ServerInfo
    from influxkit.protocol.requests import Request

__all__ = ["STREAM_BATCH_ROWS", "HttpClient", "pool_options", "transport_errors"]

T = TypeVar("T")
_log = logging.getLogger("influxkit")

# Looked up once: whether v3 rows can come from Parquet (see http_ops._v3_query). Read at
# each query by both clients, so a benchmark can turn it off to measure the JSON path.
_HAS_PYARROW = importlib.util.find_spec("pyarrow") is not None


def pool_options(cfg: ConnectionConfig) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client`` / ``httpx.AsyncClient`` for ``cfg``.

    Base URL, auth header, timeouts, pool limits, TLS and HTTP/2: one definition, so the
    sync and the async client of a connection talk to the server the same way.
    """
    import httpx

    if cfg.http2 and importlib.util.find_spec("h2") is None:
        raise MissingDependency("http2=True needs the h2 package: run `pip install 'httpx[http2]'`")
    verify: ssl.SSLContext | bool = cfg.verify_ssl
    if cfg.ca_file:
        verify = ssl.create_default_context(cafile=cfg.ca_file)
    elif cfg.scheme == "http":
        # No TLS to verify (every request goes to the http:// base URL and redirects are
        # not followed), so skip loading the CA bundle: ~17 ms of every connect().
        verify = False
    return {
        "base_url": cfg.base_url,
        "headers": {"User-Agent": "influxkit", **rq.auth_headers(cfg)},
        "timeout": httpx.Timeout(cfg.timeout, connect=cfg.connect_timeout),
        "limits": httpx.Limits(
            max_connections=cfg.pool_size, max_keepalive_connections=cfg.pool_size
        ),
        "verify": verify,
        "http2": cfg.http2,
    }


@contextlib.contextmanager
def transport_errors(method: str, path: str, timeout: float) -> Iterator[None]:
    """Map every httpx failure to a retryable :class:`TransportError` (the only such place).

    A plain ``with`` block: it works around ``await`` too, so the async client uses it.
    """
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

    def __init__(
        self,
        config: ConnectionConfig,
        profile: Profile | None = None,
        *,
        server_check: ServerCheck | None = None,
    ) -> None:
        # What the server is and what the requests then use (api_version="auto" resolves
        # at first use); shared with the connection's asyncio clients.
        self.server_check = server_check if server_check is not None else ServerCheck(config)
        self._pool_config: ConnectionConfig | None = None  # the config the pool's auth is of
        self._client: httpx.Client | None = None
        self._inherited: httpx.Client | None = None  # a forked child's copy of the parent's
        # Run by close(): what else the connection opened for this server (the pools of
        # its asyncio twin, see influxkit.aio) is closed with it.
        self.close_hooks: list[Callable[[], None]] = []

    def __repr__(self) -> str:
        return f"<HttpClient {self.config.base_url} api={self.config.api_version}>"

    @property
    def config(self) -> ConnectionConfig:
        """The config requests use (for ``api_version="auto"``: resolved once detected)."""
        return self.server_check.config

    @property
    def profile(self) -> Profile:
        """The profile of the server (provisional until detected, for ``auto``)."""
        return self.server_check.profile

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Create the pooled ``httpx.Client`` (base URL, auth header, TLS, limits)."""
        import httpx

        cfg = self.config
        self._client = httpx.Client(**pool_options(cfg))
        self._pool_config = cfg

    def close(self) -> None:
        """Close the pool, after the :attr:`close_hooks` (each runs once, errors logged)."""
        hooks, self.close_hooks = self.close_hooks, []
        try:
            for hook in hooks:
                try:
                    hook()
                except Exception:
                    _log.exception("influxkit: closing %r: a close hook failed", self)
        finally:
            client, self._client = self._client, None
            if client is not None:
                client.close()

    def after_fork_in_child(self) -> None:
        """A forked child's own pool: the parent's sockets are not the child's to use.

        The inherited pool is set aside, never closed or finalised here: closing it could
        shut a TLS session the parent still uses. Its descriptors end with the child.
        """
        self.server_check.after_fork()
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
        with transport_errors(req.method, req.path, self.config.timeout):
            resp = client.request(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            )
        responses.check(resp.status_code, resp.headers, resp.content, req)
        return resp

    def _run(self, plan: ops.Plan[T]) -> T:
        """Send what ``plan`` asks for, one request at a time (see :mod:`.http_ops`)."""
        return ops.run(plan, self._send)

    # -- the server ------------------------------------------------------------

    def _probe(self, req: Request) -> Answer:
        """Send ``req`` and return the answer whatever its status (detection reads them all)."""
        client = self.http
        with transport_errors(req.method, req.path, self.config.timeout):
            resp = client.request(req.method, req.path, params=req.params, headers=req.headers)
        return Answer(resp.status_code, resp.headers, resp.content)

    def server_info(self) -> ServerInfo:
        """Which server answers (asked once; later calls return what was found)."""
        check = self.server_check
        if check.info is None:
            with check.io_lock:
                if check.info is None:
                    found = run_plan(detect(self.config.base_url), self._probe)
                    check.settle(found, quiet=True)
        assert check.info is not None
        return check.info

    def ensure_server(self) -> None:
        """Before the first operation: detect the server and judge it (see ``ServerCheck``).

        Raises:
            ServerMismatch: the server is not what the config says (remembered).
            AuthError, TransportError, ServerError: detection could not tell.
        """
        check = self.server_check
        if not check.ready:
            with check.io_lock:  # one thread asks; the others wait for its answer
                if not check.ready:
                    check.raise_failure()
                    try:
                        found = run_plan(detect(self.config.base_url), self._probe)
                    except InfluxError as exc:
                        check.unanswered(exc)
                    else:
                        check.settle(found)
        if self._pool_config is not check.config:
            self._adopt()

    def _adopt(self) -> None:
        """Give the pool the auth header of the resolved config (``auto``: v1 differs)."""
        with self.server_check.state_lock:
            cfg = self.server_check.config
            if self._pool_config is cfg:
                return
            client = self.http
            client.headers.pop("Authorization", None)
            client.headers.update(rq.auth_headers(cfg))
            self._pool_config = cfg

    def _ready(self) -> None:
        """The check every operation starts with: one attribute read once settled."""
        if not self.server_check.ready or self._pool_config is not self.server_check.config:
            self.ensure_server()

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
        self._ready()
        return self._run(
            ops.write(
                self.config,
                body,
                database=database,
                precision=precision,
                accept_partial=accept_partial,
                no_sync=no_sync,
            )
        )

    # -- queries -------------------------------------------------------------

    def query_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """SQL over ``/api/v3/query_sql``, as Parquet (JSON for rows without pyarrow; the
        server's CSV text for ``format="csv"``)."""
        self._ready()
        return self._run(
            ops.query_sql(
                sql, database=database, params=params, format=format, has_pyarrow=_HAS_PYARROW
            )
        )

    def query_sql_stream(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: StreamFormat
    ) -> Iterator[Any]:
        """Rows (or Arrow batches of ~10,000 rows) decoded from ``jsonl`` as it arrives.

        The request is sent when iteration starts; closing the iterator closes the response.
        """
        self._ready()
        req = ops.sql_stream_request(sql, database=database, params=params)
        return self._stream(req, format)

    def _stream(self, req: Request, format: StreamFormat) -> Iterator[Any]:
        with self._streamed(req) as resp:
            shaper = ops.RowStream(format)
            for chunk in resp.iter_bytes():
                yield from shaper.feed(chunk)
            yield from shaper.close()

    @contextlib.contextmanager
    def _streamed(self, req: Request) -> Iterator[httpx.Response]:
        """The response of ``req`` with its body still to read; a refusal raises first."""
        with (
            transport_errors(req.method, req.path, self.config.timeout),
            self.http.stream(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            ) as resp,
        ):
            if not 200 <= resp.status_code < 300:
                resp.read()
                responses.check(resp.status_code, resp.headers, resp.content, req)
            yield resp

    def execute_sql(self, sql: str, *, database: str, params: Mapping[str, Any] | None) -> int:
        """Sent as a query: InfluxDB 3 refuses DML/DDL (a :class:`QueryError`); else a row count."""
        self._ready()
        return self._run(ops.execute_sql(sql, database=database, params=params))

    def query_influxql(
        self, query: str, *, database: str | None, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """InfluxQL: v3 ``/api/v3/query_influxql``; v1/v2 ``/query`` with ``epoch=ns``.

        ``format="csv"``: the server's CSV text (v3 ``format=csv``; 1.x's
        ``Accept: application/csv`` answer).
        """
        self._ready()
        cfg = self.config
        if cfg.api_version == "v3":
            return self._run(
                ops.query_influxql_v3(
                    cfg,
                    query,
                    database=database,
                    params=params,
                    format=format,
                    has_pyarrow=_HAS_PYARROW,
                )
            )
        req, results = ops.influxql_v1(cfg, query, database=database, params=params, format=format)
        # Each chunk is decoded while the server computes the next one.
        with decode.gc_paused(), self._streamed(req) as resp:
            for chunk in resp.iter_bytes():
                results.feed(chunk)
        return results.result(resp.headers.get("content-type"))

    def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Flux over ``/api/v2/query``; annotated CSV decoded to typed rows."""
        self._ready()
        return self._run(ops.query_flux(query, org=org))

    # -- databases -----------------------------------------------------------

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create ``name``; on 1.x (which accepts an existing name silently) a 409 is raised."""
        self._ready()
        self._run(ops.create_database(self.config, name, retention_period=retention_period))

    def list_databases(self) -> list[str]:
        """Database names, sorted (v3 includes ``_internal``, as the server lists it)."""
        self._ready()
        return self._run(ops.list_databases(self.config))

    def delete_database(self, name: str) -> None:
        """Delete ``name``; unknown is :class:`DatabaseNotFound` (1.x itself says nothing)."""
        self._ready()
        self._run(ops.delete_database(self.config, name))

    # -- v2 buckets ----------------------------------------------------------

    def create_bucket(self, name: str, *, org: str | None, retention_seconds: int | None) -> None:
        """``POST /api/v2/buckets`` (the org id is looked up by name first)."""
        self._ready()
        self._run(ops.create_bucket(name, org=org, retention_seconds=retention_seconds))

    def list_buckets(self, *, org: str | None) -> list[str]:
        """Bucket names, sorted (every page, 100 at a time)."""
        self._ready()
        return self._run(ops.list_buckets(org=org))

    def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Find the bucket's id by name, then ``DELETE /api/v2/buckets/<id>``."""
        self._ready()
        self._run(ops.delete_bucket(name, org=org))

    # -- v3 tokens -----------------------------------------------------------

    def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """The operator token (``name=None``) or a named admin token; the server's JSON."""
        self._ready()
        return self._run(ops.create_token(name, **options))

    def delete_token(self, name: str) -> None:
        """``DELETE /api/v3/configure/token?token_name=``."""
        self._ready()
        self._run(ops.delete_token(name))

    # -- health --------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "pass"|"fail", "version": ...}``; a 5xx answer is ``fail``.

        No answer at all raises :class:`TransportError`; 401/403 raise :class:`AuthError`.
        """
        self._ready()
        return self._run(ops.health(self.config))

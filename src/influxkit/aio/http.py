"""AsyncHttpClient: the ``http`` client over ``httpx.AsyncClient``, for one event loop.

The async twin of :class:`influxkit.clients.http.HttpClient`, and nothing more than
moving bytes: what each operation sends and makes of the answers is a plan of
:mod:`influxkit.clients.http_ops` (driven here with ``await``), requests and the
judging of answers are :mod:`influxkit.protocol`'s, httpx errors become
:class:`~influxkit.errors.TransportError` through the sync client's own
:func:`~influxkit.clients.http.transport_errors`, and the pool is configured by the
same :func:`~influxkit.clients.http.pool_options`.  One instance serves one event loop
(see :mod:`influxkit.aio.loops`); :class:`~influxkit.aio.AsyncConnection` makes one per
loop that uses it.

What is long CPU work runs in a worker thread, so the loop keeps serving other
coroutines meanwhile: decoding an answer above :data:`DECODE_IN_THREAD_BYTES`, cutting
and gzipping a write body above :data:`ENCODE_IN_THREAD_BYTES`, and what the first use
of a process imports: the pool is made in a thread at the first operation (importing
httpx, httpcore and anyio's asyncio backend, ~100 ms), and the first answer of each kind
(a query's format) is decoded in one (importing pyarrow, pandas..., ~250 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit.clients import http as sync_http
from influxkit.clients import http_ops as ops
from influxkit.clients.server_check import ServerCheck
from influxkit.detection import Answer, detect
from influxkit.errors import InfluxError, TransportError
from influxkit.protocol import requests as rq
from influxkit.protocol import responses

if TYPE_CHECKING:
    import httpx

    from influxkit.clients.base import Format, StreamFormat, WriteOutcome
    from influxkit.clients.profiles import Profile
    from influxkit.config import ConnectionConfig
    from influxkit.detection import ServerInfo
    from influxkit.protocol.requests import Request

__all__ = ["DECODE_IN_THREAD_BYTES", "ENCODE_IN_THREAD_BYTES", "AsyncHttpClient"]

T = TypeVar("T")

# A plan's last step (the decode of the answer) runs in a thread above this body size.
DECODE_IN_THREAD_BYTES = 1 << 20
# A write body from this size on is cut into requests and gzipped in a thread (~10 ms/MiB).
ENCODE_IN_THREAD_BYTES = 1 << 18
# The kinds of answer (see AsyncHttpClient._run) this process has decoded once already:
# the decoders' own imports are done, so the next answer of the kind may be decoded here.
_DECODED: set[str] = set()
# Imported with the first pool, so that the first request does not import them on the
# loop (httpcore picks its async backend, anyio its event loop's, at the first request).
_FIRST_REQUEST_MODULES = ("httpcore._backends.anyio", "anyio._backends._asyncio")


class AsyncHttpClient:
    """The async client for real servers on one event loop; ``api_version`` picks endpoints."""

    def __init__(
        self,
        config: ConnectionConfig,
        profile: Profile | None = None,
        *,
        server_check: ServerCheck | None = None,
    ) -> None:
        # Shared with the connection's other clients (its sync one, its other loops').
        self.server_check = server_check if server_check is not None else ServerCheck(config)
        self._pool_config: ConnectionConfig | None = None
        self._client: httpx.AsyncClient | None = None
        self._opening: asyncio.Future[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<AsyncHttpClient {self.config.base_url} api={self.config.api_version}>"

    @property
    def config(self) -> ConnectionConfig:
        """The config requests use (for ``api_version="auto"``: resolved once detected)."""
        return self.server_check.config

    @property
    def profile(self) -> Profile:
        """The profile of the server (provisional until detected, for ``auto``)."""
        return self.server_check.profile

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Nothing yet: the pool is made by the first operation, in a worker thread."""

    async def _open(self) -> httpx.AsyncClient:
        """The pooled ``httpx.AsyncClient``, made in a thread on first use (once)."""
        if self._client is not None:
            return self._client
        if self._closed:
            return self.http  # raises: closed
        opening = self._opening
        if opening is None:
            opening = self._opening = asyncio.ensure_future(self._make_pool())
        try:
            await asyncio.shield(opening)  # a cancelled caller leaves it to the others
        except BaseException:
            if opening.done() and self._opening is opening:
                self._opening = None  # it failed: the next operation tries again
            raise
        return self.http

    async def _make_pool(self) -> None:
        cfg = self.config
        client = await asyncio.to_thread(_new_pool, cfg)
        if self._closed:  # closed while it was being made
            await client.aclose()
            return
        self._client = client
        self._pool_config = cfg

    async def aclose(self) -> None:
        """Close the pool (on the loop it was used on)."""
        self._closed = True
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(opening)  # it closes what it made
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled ``httpx.AsyncClient`` (base URL, auth and TLS set)."""
        if self._client is None:
            raise TransportError(
                "the HTTP client is closed; open a new connection", retryable=False
            )
        return self._client

    # -- plumbing --------------------------------------------------------------------

    async def _send(self, req: Request) -> httpx.Response:
        client = self.http
        with sync_http.transport_errors(req.method, req.path, self.config.timeout):
            resp = await client.request(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            )
        responses.check(resp.status_code, resp.headers, resp.content, req)
        return resp

    async def _run(
        self, plan: ops.Plan[T], *, kind: str | None = None, first_in_thread: bool = False
    ) -> T:
        """Send what ``plan`` asks for; its first step (making the requests) runs in a
        thread with ``first_in_thread``, the others for a large answer, or while no plan
        of its ``kind`` (its decoder) has finished in this process yet."""
        try:
            if first_in_thread:
                finished, step = await asyncio.to_thread(_step, plan, None)
                if finished:
                    return step  # type: ignore[no-any-return]
                req = step
            else:
                req = next(plan)
            while True:
                try:
                    resp = await self._send(req)
                except InfluxError as exc:
                    req = plan.throw(exc)
                else:
                    warm = kind is None or kind in _DECODED
                    if warm and len(resp.content) <= DECODE_IN_THREAD_BYTES:
                        req = plan.send(resp)
                        continue
                    finished, step = await asyncio.to_thread(_step, plan, resp)
                    if finished:
                        if kind is not None:
                            _DECODED.add(kind)
                        return step  # type: ignore[no-any-return]
                    req = step
        except StopIteration as done:
            return done.value

    # -- the server ------------------------------------------------------------------

    async def _detect(self) -> ServerInfo:
        """The detection plan of :mod:`influxkit.detection`, driven with ``await``."""
        await self._open()
        plan = detect(self.config.base_url)
        try:
            req = next(plan)
            while True:
                client = self.http
                with sync_http.transport_errors(req.method, req.path, self.config.timeout):
                    resp = await client.request(
                        req.method, req.path, params=req.params, headers=req.headers
                    )
                req = plan.send(Answer(resp.status_code, resp.headers, resp.content))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def server_info(self) -> ServerInfo:
        """Which server answers (asked once per connection; then what was found)."""
        check = self.server_check
        if check.info is None:
            check.settle(await self._detect(), quiet=True)
        assert check.info is not None
        return check.info

    async def ensure_server(self) -> None:
        """Before the first operation: detect the server and judge it (see ``ServerCheck``).

        Two coroutines starting together may both ask; the first answer judged wins.
        """
        check = self.server_check
        await self._open()
        if not check.ready:
            check.raise_failure()
            try:
                found = await self._detect()
            except InfluxError as exc:
                check.unanswered(exc)
            else:
                check.settle(found)
        if self._pool_config is not check.config:
            with check.state_lock:  # brief: the sync side never holds it around IO
                cfg = check.config
                client = self.http
                client.headers.pop("Authorization", None)
                client.headers.update(rq.auth_headers(cfg))
                self._pool_config = cfg

    async def _ready(self) -> None:
        """The check every operation starts with: one attribute read once settled."""
        if not self.server_check.ready or self._pool_config is not self.server_check.config:
            await self.ensure_server()

    @contextlib.asynccontextmanager
    async def _streamed(self, req: Request) -> AsyncIterator[httpx.Response]:
        """The response of ``req`` with its body still to read; a refusal raises first."""
        with sync_http.transport_errors(req.method, req.path, self.config.timeout):
            async with self.http.stream(
                req.method, req.path, params=req.params, headers=req.headers, content=req.content
            ) as resp:
                if not 200 <= resp.status_code < 300:
                    await resp.aread()
                    responses.check(resp.status_code, resp.headers, resp.content, req)
                yield resp

    # -- writes ----------------------------------------------------------------------

    async def write(
        self,
        body: bytes,
        *,
        database: str,
        precision: str,
        accept_partial: bool,
        no_sync: bool,
    ) -> WriteOutcome:
        """POST ``body`` to the write endpoint (split above 10 MiB, gzipped above the threshold)."""
        await self._ready()
        return await self._run(
            ops.write(
                self.config,
                body,
                database=database,
                precision=precision,
                accept_partial=accept_partial,
                no_sync=no_sync,
            ),
            first_in_thread=len(body) >= ENCODE_IN_THREAD_BYTES,
        )

    # -- queries ---------------------------------------------------------------------

    async def query_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """SQL over ``/api/v3/query_sql``, as Parquet (JSON for rows without pyarrow)."""
        await self._ready()
        has_pyarrow = sync_http._HAS_PYARROW
        return await self._run(
            ops.query_sql(
                sql, database=database, params=params, format=format, has_pyarrow=has_pyarrow
            ),
            kind=_v3_kind(format, has_pyarrow),
        )

    async def query_sql_stream(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: StreamFormat
    ) -> AsyncIterator[Any]:
        """Rows (or Arrow batches of ~10,000 rows) decoded from ``jsonl`` as it arrives.

        The request is sent when iteration starts; closing the iterator closes the response.
        """
        await self._ready()
        req = ops.sql_stream_request(sql, database=database, params=params)
        kind = f"stream {format}"
        async with self._streamed(req) as resp:
            shaper = ops.RowStream(format)
            async for chunk in resp.aiter_bytes():
                if kind in _DECODED:
                    items = shaper.feed(chunk)
                else:  # until a first batch is made (Arrow's imports), in a thread
                    items = await asyncio.to_thread(shaper.feed, chunk)
                    if items:
                        _DECODED.add(kind)
                for item in items:
                    yield item
            items = shaper.close() if kind in _DECODED else await asyncio.to_thread(shaper.close)
            _DECODED.add(kind)
            for item in items:
                yield item

    async def execute_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None
    ) -> int:
        """Sent as a query: InfluxDB 3 refuses DML/DDL (a :class:`QueryError`); else a row count."""
        await self._ready()
        return await self._run(ops.execute_sql(sql, database=database, params=params))

    async def query_influxql(
        self, query: str, *, database: str | None, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """InfluxQL: v3 ``/api/v3/query_influxql``; v1/v2 ``/query`` with ``epoch=ns``."""
        await self._ready()
        cfg = self.config
        if cfg.api_version == "v3":
            has_pyarrow = sync_http._HAS_PYARROW
            return await self._run(
                ops.query_influxql_v3(
                    cfg,
                    query,
                    database=database,
                    params=params,
                    format=format,
                    has_pyarrow=has_pyarrow,
                ),
                kind=_v3_kind(format, has_pyarrow),
            )
        req, results = ops.influxql_v1(cfg, query, database=database, params=params, format=format)
        async with self._streamed(req) as resp:
            async for chunk in resp.aiter_bytes():
                results.feed(chunk)  # decoded while the server computes the next chunk
        content_type = resp.headers.get("content-type")
        if format == "rows":
            return results.result(content_type)
        return await asyncio.to_thread(results.result, content_type)  # a table: in a thread

    async def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Flux over ``/api/v2/query``; annotated CSV decoded to typed rows."""
        await self._ready()
        return await self._run(ops.query_flux(query, org=org), kind="flux")

    # -- databases, buckets, tokens, health --------------------------------------------

    async def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create ``name``; on 1.x (which accepts an existing name silently) a 409 is raised."""
        await self._ready()
        await self._run(ops.create_database(self.config, name, retention_period=retention_period))

    async def list_databases(self) -> list[str]:
        """Database names, sorted (v3 includes ``_internal``, as the server lists it)."""
        await self._ready()
        return await self._run(ops.list_databases(self.config))

    async def delete_database(self, name: str) -> None:
        """Delete ``name``; unknown is :class:`DatabaseNotFound` (1.x itself says nothing)."""
        await self._ready()
        await self._run(ops.delete_database(self.config, name))

    async def create_bucket(
        self, name: str, *, org: str | None, retention_seconds: int | None
    ) -> None:
        """``POST /api/v2/buckets`` (the org id is looked up by name first)."""
        await self._ready()
        await self._run(ops.create_bucket(name, org=org, retention_seconds=retention_seconds))

    async def list_buckets(self, *, org: str | None) -> list[str]:
        """Bucket names, sorted (first page of 100)."""
        await self._ready()
        return await self._run(ops.list_buckets(org=org))

    async def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Find the bucket's id by name, then ``DELETE /api/v2/buckets/<id>``."""
        await self._ready()
        await self._run(ops.delete_bucket(name, org=org))

    async def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """The operator token (``name=None``) or a named admin token; the server's JSON."""
        await self._ready()
        return await self._run(ops.create_token(name, **options))

    async def delete_token(self, name: str) -> None:
        """``DELETE /api/v3/configure/token?token_name=``."""
        await self._ready()
        await self._run(ops.delete_token(name))

    async def health(self) -> dict[str, Any]:
        """``{"status": "pass"|"fail", "version": ...}``; a 5xx answer is ``fail``."""
        await self._ready()
        return await self._run(ops.health(self.config))


def _step(plan: ops.Plan[Any], resp: httpx.Response | None) -> tuple[bool, Any]:
    """``plan.send(resp)`` for a worker thread: ``(True, result)`` or ``(False, next request)``.

    ``None`` starts the plan (its first request).

    A ``StopIteration`` cannot cross into a future, so the plan's end is returned instead.
    """
    try:
        return False, plan.send(resp)
    except StopIteration as done:
        return True, done.value


def _v3_kind(format: str, has_pyarrow: bool) -> str:
    """The kind of a v3 query's answer: which decoder it takes (see ``http_ops._v3_query``)."""
    return f"v3 {format}" if has_pyarrow else f"v3 json {format}"


def _new_pool(cfg: ConnectionConfig) -> httpx.AsyncClient:
    """A pooled ``httpx.AsyncClient`` for ``cfg`` (in a worker thread: imports, TLS setup),
    and what the first request would otherwise import on the loop."""
    import importlib

    import httpx

    client = httpx.AsyncClient(**sync_http.pool_options(cfg))
    for module in _FIRST_REQUEST_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    return client

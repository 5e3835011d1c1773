"""The ASGI app of ``influxkit serve``: InfluxDB 3's HTTP API in front of the local engine.

Requests are routed by exact ``(method, path)``, as the server's ``perform_routing``
matches them, so a wrong method or an unknown path is ``404 Not found`` (and ``HEAD
/ping`` too); on the ``v2`` profile, 2.x's ``/api/v2/buckets/<id>`` and
``/api/v2/orgs/<id>`` match by prefix (see :mod:`.buckets_v2`).  Authentication runs
before routing, as on the server.  Engine calls are synchronous and run in Starlette's
thread pool; the engine is thread-safe.

:func:`problem_for` is the one place where influxkit exceptions become the server's
answers; :func:`render` draws them in the shape of the endpoint family: v3 and v1
``{"error": ..., "data": ...}`` or plain text, v2 ``{"code", "message"}``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from influxkit.errors import InfluxError, ServerError, UnsupportedOperation, WriteError
from influxkit.server import identity, parsing
from influxkit.server.flux_endpoint import flux_query_handler
from influxkit.server.formats import CONTENT_TYPES, STREAMED, BatchEncoder, encode_table
from influxkit.server.parsing import Problem

if TYPE_CHECKING:
    import pyarrow as pa

    from influxkit.clients.local import LocalClient

__all__ = ["SERVER_VERSION", "create_app", "problem_for", "render"]

logger = logging.getLogger("influxkit.server")


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("influxkit")
    except PackageNotFoundError:  # running from a source tree
        return "dev"


#: The InfluxDB 3 release whose answers are reproduced (the reference's revision).
SERVER_VERSION = "3.10.1"
_REVISION = f"influxkit-{_package_version()}"  # no InfluxDB commit to name: say what answers
_BUILDS = {"v3_core": "Core", "v3_enterprise": "Enterprise"}
_CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "*",
    "access-control-allow-headers": "*",
    "access-control-max-age": "86400",
}
# v2's `code` for each status (`V2ErrorResponse` in the server's http.rs).
_V2_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request too large",
    422: "unprocessable entity",
}
_EMPTY_WRITE = "incoming write was empty"


def problem_for(exc: BaseException) -> Problem:
    """The server's answer to an exception raised while handling a request."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, UnsupportedOperation):
        return Problem(405, exc.message)
    if isinstance(exc, ServerError):
        body = exc.body if exc.body is not None else exc.message
        v2 = None
        if isinstance(exc, WriteError) and exc.line_errors:
            v2 = f"write buffer error: line protocol parse failed: {exc.line_errors[0].message}"
        elif body == _EMPTY_WRITE:
            v2 = f"write buffer error: {_EMPTY_WRITE}"
        return Problem(exc.status or 500, body, v2_message=v2)
    if isinstance(exc, InfluxError):
        return Problem(400, exc.message)
    logger.error("unexpected error while handling a request", exc_info=exc)
    return Problem(500, f"internal error: {type(exc).__name__}: {exc}")


def render(problem: Problem, family: str) -> Response:
    """``problem`` in the error shape of ``family`` (``v3``, ``v1`` or ``v2``)."""
    status, body = problem.status, problem.body
    if family == "v2":
        if isinstance(body, bytes):
            body = orjson.loads(body)
        if status == 422:  # the v2 endpoint answers the database limit as invalid
            status = 400
        code = _V2_CODES.get(status, "internal error" if status >= 500 else "invalid")
        message = problem.v2_message or (body if isinstance(body, str) else body.get("error"))
        body = {"code": code, "message": message}
    if isinstance(body, bytes):
        return Response(body, status, headers={"content-type": "application/json"})
    if isinstance(body, str):
        return Response(body, status)  # the server sets no Content-Type on text errors
    return _json(body, status)


def _json(doc: Any, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(orjson.dumps(doc), status, headers={"content-type": content_type})


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class _Route:
    handler: Handler
    family: str = "v3"
    open: bool = False  # answered without a token


@dataclass(slots=True)
class _State:
    """Per-server identity and the tokens that open it."""

    token: str | None
    cluster_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    process_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # token -> (name, expiry as a POSIX time or None), for tokens made through the API
    issued: dict[str, tuple[str, float | None]] = field(default_factory=dict)
    # token -> permissions, for Enterprise resource tokens (admin tokens have none)
    permissions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


# What a resource token needs for a path: the action on the request's database.
_WRITE_PATHS = frozenset({"/api/v3/write_lp", "/api/v2/write", "/write"})
_READ_PATHS = frozenset({"/api/v3/query_sql", "/api/v3/query_influxql", "/query", "/api/v2/query"})
_ANYONE_PATHS = frozenset({"/health", "/api/v1/health", "/ping"})
_FORBIDDEN = b'{"error": "unauthorized to perform requested action with the token"}'


def _granted(permissions: list[dict[str, Any]], database: str | None, action: str) -> bool:
    return any(
        p["resource_type"] == "db"
        and action in p["actions"]
        and ("*" in p["resource_names"] or database in p["resource_names"])
        for p in permissions
    )


class InfluxApp:
    """The handlers of every endpoint, around one engine; :attr:`asgi` is the app to serve."""

    def __init__(self, engine: LocalClient, *, token: str | None = None) -> None:
        self.engine = engine
        self.state = _State(token)
        if token is not None:
            # ``--token`` is the operator token: the catalog holds ``_admin`` already, so
            # the open bootstrap endpoint answers 409, as a server that has one does.
            with contextlib.suppress(ServerError):
                engine.create_token(None)
        self.build = _BUILDS.get(engine.profile.name, "OSS")
        self.routes: dict[tuple[str, str], _Route] = {
            ("POST", "/api/v3/write_lp"): _Route(self.write_v3),
            ("POST", "/api/v2/write"): _Route(self.write_v2, "v2"),
            ("POST", "/write"): _Route(self.write_v1, "v1"),
            ("GET", "/api/v3/query_sql"): _Route(self.query_sql),
            ("POST", "/api/v3/query_sql"): _Route(self.query_sql),
            ("GET", "/api/v3/query_influxql"): _Route(self.query_influxql),
            ("POST", "/api/v3/query_influxql"): _Route(self.query_influxql),
            ("GET", "/query"): _Route(self.query_v1, "v1"),
            ("POST", "/query"): _Route(self.query_v1, "v1"),
            ("POST", "/api/v2/query"): _Route(flux_query_handler(engine), "v2"),
            ("GET", "/api/v3/configure/database"): _Route(self.list_databases),
            ("POST", "/api/v3/configure/database"): _Route(self.create_database),
            ("DELETE", "/api/v3/configure/database"): _Route(self.delete_database),
            ("POST", "/api/v3/configure/token/admin"): _Route(self.create_admin_token, open=True),
            ("POST", "/api/v3/configure/token/named_admin"): _Route(self.create_named_token),
            ("DELETE", "/api/v3/configure/token"): _Route(self.delete_token),
            **(
                {("POST", "/api/v3/enterprise/configure/token"): _Route(self.create_resource_token)}
                if engine.profile.supports("create_resource_token")
                else {}
            ),
            # Who answers: as the profile's server (open on 1.x / 2.x; see .identity).
            ("GET", "/health"): _Route(self.health, open=identity.is_open(engine.profile)),
            ("GET", "/api/v1/health"): _Route(self.health),
            ("GET", "/ping"): _Route(self.ping, open=identity.is_open(engine.profile)),
            ("POST", "/ping"): _Route(self.ping),
            **(
                {("HEAD", "/ping"): _Route(self.ping, open=True)}
                if identity.is_open(engine.profile)
                else {}
            ),
        }
        # Routes ending in one path parameter, by (method, prefix): /api/v2/buckets/<id>.
        self.param_routes: dict[tuple[str, str], _Route] = {}
        if engine.profile.name == "v2":  # 2.x's buckets and organizations (.buckets_v2)
            from influxkit.server.buckets_v2 import bucket_routes

            exact, prefixed = bucket_routes(engine)
            self.routes.update({key: _Route(h, "v2") for key, h in exact.items()})
            self.param_routes.update({key: _Route(h, "v2") for key, h in prefixed.items()})
        # One catch-all route: the table above does the routing, for every method.
        self.asgi = Starlette(
            routes=[Route("/{path:path}", _AnyMethod(self.dispatch))], lifespan=_lifespan
        )

    async def dispatch(self, request: Request) -> Response:
        """Route one request: CORS preflight, authentication, then the endpoint."""
        method, path = request.method, request.url.path
        route = self.routes.get((method, path)) or self._param_route(method, path)
        if method == "OPTIONS":
            response = Response(status_code=204, headers=_CORS)
        elif self.state.token is None and path.startswith("/api/v3/configure/token"):
            response = render(Problem(405, "endpoint disabled, started without auth"), "v3")
        elif (denied := self._authenticate(request, route)) is not None:
            response = render(denied, "v3")  # auth runs before routing: v3 shape everywhere
        elif (denied := await self._authorize(request, route)) is not None:
            response = render(denied, "v3")
        elif route is None:
            response = Response("Not found", 404)
        else:
            try:
                response = await route.handler(request)
                response.headers["access-control-allow-origin"] = "*"
            except Exception as exc:
                response = render(problem_for(exc), route.family)
        response.headers["cluster-uuid"] = self.state.cluster_uuid
        return response

    def _param_route(self, method: str, path: str) -> _Route | None:
        """The route of ``<prefix><one segment>`` (``/api/v2/buckets/<id>``), if any."""
        prefix, _, last = path.rpartition("/")
        return self.param_routes.get((method, prefix + "/")) if last else None

    def _authenticate(self, request: Request, route: _Route | None) -> Problem | None:
        if self.state.token is None or (route is not None and route.open):
            return None
        with_p = request.url.path in ("/write", "/query")
        try:
            token = parsing.request_token(request.headers, request.query_params, with_p)
        except Problem as malformed:
            return malformed
        if token is not None and self._token_valid(token):
            return None
        return Problem(401, parsing.UNAUTHENTICATED)

    async def _authorize(self, request: Request, route: _Route | None) -> Problem | None:
        """A resource token may do only what its permissions grant (403 otherwise)."""
        if not self.state.permissions or route is None or route.open:
            return None
        with_p = request.url.path in ("/write", "/query")
        token = parsing.request_token(request.headers, request.query_params, with_p)
        permissions = self.state.permissions.get(token or "")
        if permissions is None:
            return None  # an admin token
        path = request.url.path
        if path in _ANYONE_PATHS:
            return None
        if path in _WRITE_PATHS or path in _READ_PATHS:
            params = request.query_params
            database = params.get("db") or params.get("bucket")
            if database is None and request.method == "POST":
                body = await request.body()  # starlette keeps it for the handler
                try:
                    doc = orjson.loads(body) if body[:1] == b"{" else {}
                except orjson.JSONDecodeError:
                    doc = {}
                database = doc.get("db") if isinstance(doc, dict) else None
            action = "write" if path in _WRITE_PATHS else "read"
            if _granted(permissions, database, action):
                return None
        return Problem(403, _FORBIDDEN)

    def _token_valid(self, token: str) -> bool:
        import hmac
        import time

        if hmac.compare_digest(token.encode(), (self.state.token or "").encode()):
            return True
        issued = self.state.issued.get(token)
        return issued is not None and (issued[1] is None or issued[1] > time.time())

    # -- writes -------------------------------------------------------------------

    async def _write(
        self, request: Request, database: str, precision: str, accept_partial: bool, no_sync: bool
    ) -> Response:
        body = await parsing.read_body(request)
        parsing.check_utf8(body)
        await run_in_threadpool(
            self.engine.write,
            body,
            database=database,
            precision=precision,
            accept_partial=accept_partial,
            no_sync=no_sync,
        )
        return Response(status_code=204)

    async def write_v3(self, request: Request) -> Response:
        """``POST /api/v3/write_lp``: 204, or the partial / single-line error bodies."""
        p = parsing.v3_write_params(request.url.query, request.query_params)
        return await self._write(request, p.database, p.precision, p.accept_partial, p.no_sync)

    async def write_v2(self, request: Request) -> Response:
        """``POST /api/v2/write``: ``bucket`` is the database; all or nothing."""
        p = parsing.v2_write_params(request.url.query, request.query_params)
        return await self._write(request, p.database, p.precision, False, False)

    async def write_v1(self, request: Request) -> Response:
        """``POST /write``: ``db`` (and ``rp`` as ``db/rp``); all or nothing."""
        if self.engine.profile.name == "v1":  # InfluxDB 1.x's /write, its answers included
            from influxkit.server.write_v1 import write_v1_profile

            return await write_v1_profile(self.engine, request)
        p = parsing.v1_write_params(request.url.query, request.query_params)
        return await self._write(request, p.database, p.precision, False, False)

    # -- queries ------------------------------------------------------------------

    async def query_sql(self, request: Request) -> Response:
        """``GET|POST /api/v3/query_sql``: the result in json / jsonl / csv / pretty / parquet."""
        accepted = parsing.accept_format(request.headers.get("accept"))
        q = await parsing.query_request(request, db_required=True)
        fmt = q.format or accepted or "json"
        if fmt not in STREAMED:
            table = await run_in_threadpool(
                self.engine.query_sql, q.query, database=q.db, params=q.params, format="arrow"
            )
            return await self._table_response(table, fmt)
        batches = await run_in_threadpool(
            self.engine.query_sql_stream, q.query, database=q.db, params=q.params, format="arrow"
        )
        # Pull up to the first rows before answering, so that an error raised while the
        # query starts still gets its status; later errors can only cut the body short.
        head = await run_in_threadpool(_head, batches)
        chunks = _guarded(BatchEncoder(fmt).encode(chain(head, batches)))
        return StreamingResponse(chunks, headers={"content-type": CONTENT_TYPES[fmt]})

    async def query_influxql(self, request: Request) -> Response:
        """``GET|POST /api/v3/query_influxql``: one statement, InfluxDB 3's table, any format."""
        accepted = parsing.accept_format(request.headers.get("accept"))
        q = await parsing.query_request(request, db_required=False)
        table = await run_in_threadpool(
            self.engine.query_influxql, q.query, database=q.db, params=q.params, format="arrow"
        )
        return await self._table_response(table, q.format or accepted or "json")

    async def query_v1(self, request: Request) -> Response:
        """``GET|POST /query``: InfluxQL in the v1 JSON (``db``, ``q``, ``epoch``, ``chunked``).

        The fields come from the query string and, on POST, a form body (which wins, as
        in 1.x); InfluxDB 3 also takes the query as a raw ``application/vnd.influxql``
        body.  The answer is 1.x's on the v1 / v2 profiles, InfluxDB 3's otherwise.
        """
        from urllib.parse import parse_qsl

        from influxkit.clients.local.influxql.v1_http import answer

        v3 = self.engine.profile.name.startswith("v3")
        fields = dict(request.query_params)
        if request.method == "POST":
            body = await parsing.read_body(request)
            kind = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            if kind == "application/x-www-form-urlencoded":
                fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            elif v3 and kind in ("application/vnd.influxql", ""):
                fields["q"] = body.decode("utf-8", "replace")
            elif body:
                raise Problem(400, {"error": f"unsupported content type for /query: {kind}"})
        status, payload = await run_in_threadpool(answer, self.engine, fields, v3=v3)
        return Response(payload, status, headers={"content-type": "application/json"})

    @staticmethod
    async def _table_response(table: pa.Table, fmt: str) -> Response:
        body = await run_in_threadpool(encode_table, table, fmt)
        return Response(body, headers={"content-type": CONTENT_TYPES[fmt]})

    # -- administration -----------------------------------------------------------

    async def list_databases(self, request: Request) -> Response:
        """``GET /api/v3/configure/database?format=``: rows ``{"iox::database": name}``."""
        import pyarrow as pa

        fmt, show_deleted = parsing.show_databases_params(request.query_params)
        names = set(await run_in_threadpool(self.engine.list_databases))
        if self.engine.profile.name.startswith("v3"):
            names.add("_internal")  # the server lists its own system database
        columns: dict[str, Any] = {"iox::database": pa.array(sorted(names), pa.string())}
        if show_deleted:
            columns["deleted"] = pa.array([False] * len(names), pa.bool_())
        return await self._table_response(pa.table(columns), fmt)

    async def create_database(self, request: Request) -> Response:
        """``POST /api/v3/configure/database`` with ``{"db", "retention_period"}``: 200 empty."""
        parsing.require_json(request.headers.get("content-type"))
        doc = parsing.json_object(await parsing.read_body(request))
        name = parsing.field_of(doc, "db", str)
        retention = parsing.field_of(doc, "retention_period", str, required=False)
        await run_in_threadpool(self.engine.create_database, name, retention_period=retention)
        return Response()

    async def delete_database(self, request: Request) -> Response:
        """``DELETE /api/v3/configure/database?db=``: 200 empty, 404 plain for an unknown one."""
        name = parsing.required_param(request.query_params, "db")
        await run_in_threadpool(self.engine.delete_database, name)
        return Response()

    async def _token_response(self, answer: dict[str, Any]) -> Response:
        expiry = answer.get("expiry")
        expires = datetime.fromisoformat(expiry).timestamp() if expiry else None
        self.state.issued[answer["token"]] = (answer["name"], expires)
        return _json(answer, 201, content_type="json")  # the server's header, literally

    async def create_admin_token(self, request: Request) -> Response:
        """``POST /api/v3/configure/token/admin``: the operator token (201), once (then 409)."""
        answer = await run_in_threadpool(self.engine.create_token, None)
        return await self._token_response(answer)

    async def create_named_token(self, request: Request) -> Response:
        """``POST /api/v3/configure/token/named_admin`` with ``{"token_name", "expiry_secs"}``."""
        doc = parsing.json_object(await parsing.read_body(request))
        name = parsing.field_of(doc, "token_name", str)
        expiry = parsing.field_of(doc, "expiry_secs", int, required=False)
        answer = await run_in_threadpool(self.engine.create_token, name, expiry_secs=expiry)
        return await self._token_response(answer)

    async def create_resource_token(self, request: Request) -> Response:
        """``POST /api/v3/enterprise/configure/token``: a resource token (201).

        Body: ``{"token_name", "permissions": [{"resource_type", "resource_names",
        "actions"}], "expiry_secs"}``; the token may then read / write only what the
        permissions name.
        """
        from influxkit.protocol.requests import check_permissions

        doc = parsing.json_object(await parsing.read_body(request))
        name = parsing.field_of(doc, "token_name", str)
        expiry = parsing.field_of(doc, "expiry_secs", int, required=False)
        try:
            permissions = check_permissions(doc.get("permissions"))
        except InfluxError as exc:
            raise Problem(400, {"error": exc.message}) from None
        answer = await run_in_threadpool(
            self.engine.create_token, name, expiry_secs=expiry, permissions=permissions
        )
        self.state.permissions[answer["token"]] = permissions
        return await self._token_response(answer)

    async def delete_token(self, request: Request) -> Response:
        """``DELETE /api/v3/configure/token?token_name=``: 200; the token stops working."""
        name = parsing.required_param(request.query_params, "token_name")
        await run_in_threadpool(self.engine.delete_token, name)
        for token, (issued_name, _) in list(self.state.issued.items()):
            if issued_name == name:
                del self.state.issued[token]
                self.state.permissions.pop(token, None)
        return Response()

    async def health(self, request: Request) -> Response:
        """``GET /health``: 200 ``OK`` (v3), or the 1.x / 2.x JSON (see :mod:`.identity`)."""
        if identity.is_open(self.engine.profile):
            status, headers, body = identity.health_answer(self.engine.profile, revision=_REVISION)
            return Response(body, status, headers=headers)
        return Response("OK", headers={"content-type": "text/plain; charset=utf-8"})

    async def ping(self, request: Request) -> Response:
        """``GET|POST /ping``: the product, version, revision and process id."""
        if identity.is_open(self.engine.profile):  # 1.x / 2.x: 204 and the headers
            status, headers, body = identity.ping_answer(
                self.engine.profile,
                revision=_REVISION,
                process_id=self.state.process_id,
                verbose=request.query_params.get("verbose", "").lower() == "true",
            )
            return Response(body, status, headers=headers)
        request_id = str(uuid.uuid4())
        doc = {
            "product_name": self.engine.profile.product,
            "version": SERVER_VERSION,
            "revision": _REVISION,
            "process_id": self.state.process_id,
        }
        response = _json(doc)
        response.headers.update(
            {
                "x-influxdb-version": SERVER_VERSION,
                "x-influxdb-build": self.build,
                "request-id": request_id,
                "x-request-id": request_id,
            }
        )
        return response


class _AnyMethod:
    """An endpoint Starlette passes every method to (it limits plain functions to GET)."""

    def __init__(self, endpoint: Handler) -> None:
        self.app = request_response(endpoint)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _head(batches: Iterator[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """The batches up to and including the first with rows (all of them if none has)."""
    head = []
    for batch in batches:
        head.append(batch)
        if batch.num_rows:
            break
    return head


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, stopped (and logged) at an error: the status line has already gone out."""
    try:
        yield from chunks
    except Exception:
        logger.exception("query failed while its result was being sent; the body is cut short")


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Give the thread pool room for many concurrent clients (anyio's default is 40)."""
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = max(limiter.total_tokens, 4 * (os.cpu_count() or 4), 100)
    yield


def create_app(engine: LocalClient, *, token: str | None = None) -> Starlette:
    """The ASGI app answering as InfluxDB 3 over ``engine``; ``token=None`` opens it to all.

    Example:
        >>> from influxkit.clients.local import LocalClient
        >>> from influxkit.clients.profiles import get_profile
        >>> app = create_app(LocalClient(get_profile("v3_core")), token="secret")
    """
    return InfluxApp(engine, token=token).asgi

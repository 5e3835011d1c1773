"""The HTTP client's TLS and HTTP/2 options against a real TLS server.

``build_app`` is served by hypercorn over TLS, with a certificate from a throwaway
trustme CA and ALPN offering ``h2`` and ``http/1.1``.  A tiny ASGI middleware records
each request's ``http_version`` and ``scheme`` as the *server* saw them, so the HTTP
version is proven from the server side, not from what the client says it asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

import influxkit
from influxkit.server.run import build_app

TOKEN = "apiv3_secret-token"
LINES = "cpu,host=a usage=1.5 1700000000000000000\ncpu,host=b usage=2.5 1700000000000000001"
SQL = "SELECT host, usage FROM cpu ORDER BY host"
EXPECTED = [{"host": "a", "usage": 1.5}, {"host": "b", "usage": 2.5}]


@dataclass(frozen=True)
class Pki:
    ca_pem: str  # the CA that issued the server's certificate
    other_ca_pem: str  # a CA that did not
    cert_pem: str
    key_pem: str


@dataclass(frozen=True)
class Seen:
    http_version: str
    scheme: str
    method: str
    path: str
    client_port: int
    authorized: bool


class Recorder:
    """ASGI middleware: notes every HTTP request as the server received it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            self.seen.append(
                Seen(
                    http_version=scope["http_version"],
                    scheme=scope["scheme"],
                    method=scope["method"],
                    path=scope["path"],
                    client_port=scope["client"][1],
                    authorized=headers.get(b"authorization") == f"Bearer {TOKEN}".encode(),
                )
            )
        await self.app(scope, receive, send)

    def versions(self) -> set[str]:
        return {s.http_version for s in self.seen}


@dataclass
class TlsServer:
    url: str
    recorder: Recorder
    thread: threading.Thread
    loop: asyncio.AbstractEventLoop
    stop_event: asyncio.Event
    errors: list[BaseException] = field(default_factory=list)

    @property
    def seen(self) -> list[Seen]:
        return self.recorder.seen


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca, other = trustme.CA(), trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: d / f"{name}.pem" for name in ("ca", "other_ca", "cert", "key")}
    ca.cert_pem.write_to_path(paths["ca"])
    other.cert_pem.write_to_path(paths["other_ca"])
    leaf.private_key_pem.write_to_path(paths["key"])
    # the leaf first, then any intermediates (none from trustme's root, but be exact)
    Path(paths["cert"]).write_bytes(b"".join(b.bytes() for b in leaf.cert_chain_pems))
    return Pki(*(str(paths[n]) for n in ("ca", "other_ca", "cert", "key")))


def _ignore_tls_handshake_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # What hypercorn's own runner does: a client refusing our certificate is expected here.
    if isinstance(context.get("exception"), ssl.SSLError):
        return
    loop.default_exception_handler(context)


def _wait_accepting(server: TlsServer, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.errors:
            raise RuntimeError(f"hypercorn failed to start: {server.errors[0]!r}")
        if not server.thread.is_alive():
            raise RuntimeError("hypercorn exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"hypercorn on 127.0.0.1:{port} never accepted") from None
            time.sleep(0.01)


@pytest.fixture
def tls_server(pki: Pki) -> Iterator[TlsServer]:
    """``build_app`` (token required) behind hypercorn, TLS + ALPN h2/http1.1, free port."""
    app = build_app(token=TOKEN, databases=["db"])
    try:
        recorder = Recorder(app.asgi)
        # Bind the free port here (no listen() yet: asyncio's start_server does that, so
        # "accepts connections" really means hypercorn is serving) and hand the fd over.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
        except OSError:
            sock.close()
            raise
        port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn's socket owns the fd from now on
        config.certfile = pki.cert_pem
        config.keyfile = pki.key_pem
        config.alpn_protocols = ["h2", "http/1.1"]
        config.errorlog = logging.getLogger("tests.tls_http2.hypercorn")
        config.accesslog = None
        config.graceful_timeout = 2.0

        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_ignore_tls_handshake_errors)
        stop_event = asyncio.Event()

        def run() -> None:
            try:
                with asyncio.Runner(loop_factory=lambda: loop) as runner:
                    runner.run(
                        serve(recorder, config, shutdown_trigger=stop_event.wait, mode="asgi")
                    )
            except BaseException as exc:
                server.errors.append(exc)

        thread = threading.Thread(target=run, name=f"tls-hypercorn-{port}", daemon=True)
        server = TlsServer(f"https://127.0.0.1:{port}", recorder, thread, loop, stop_event)
        thread.start()
        try:
            _wait_accepting(server, port)
            yield server
        finally:
            if thread.is_alive():
                with contextlib.suppress(RuntimeError):  # the loop already closed
                    loop.call_soon_threadsafe(stop_event.set)
            thread.join(10)
            if not loop.is_closed() and not thread.is_alive():
                loop.close()  # never started (the thread died before running it)
            assert not thread.is_alive(), "hypercorn did not stop"
            assert not server.errors, f"hypercorn failed: {server.errors!r}"
    finally:
        app.engine.close()


def _connect(server: TlsServer, **options: Any) -> influxkit.Connection:
    return influxkit.connect(
        server.url, database="db", token=TOKEN, timeout=5, connect_timeout=5, **options
    )


def _round_trip(conn: influxkit.Connection) -> None:
    outcome = conn.write(LINES)
    assert outcome.lines == 2
    assert conn.query_sql(SQL) == EXPECTED


# -- 1. ca_file ----------------------------------------------------------------------


def test_ca_file_write_and_query_round_trip_over_https(tls_server: TlsServer, pki: Pki) -> None:
    with _connect(tls_server, ca_file=pki.ca_pem) as conn:
        assert conn.config.base_url == tls_server.url
        _round_trip(conn)
    assert [(s.method, s.path) for s in tls_server.seen] == [
        ("GET", "/ping"),  # the server checked, once, at the first operation
        ("POST", "/api/v3/write_lp"),
        ("POST", "/api/v3/query_sql"),
    ]
    assert {s.scheme for s in tls_server.seen} == {"https"}
    assert all(s.authorized for s in tls_server.seen)


def test_ca_file_of_another_ca_is_refused(tls_server: TlsServer, pki: Pki) -> None:
    """ca_file really is what verifies: a bundle without the issuing CA fails."""
    with (
        _connect(tls_server, ca_file=pki.other_ca_pem) as conn,
        pytest.raises(influxkit.TransportError, match=r"(?i)certificate verify failed"),
    ):
        conn.write(LINES)
    assert tls_server.seen == []


def test_ca_file_with_verify_ssl_off_is_a_contradiction(pki: Pki) -> None:
    with pytest.raises(influxkit.ConfigError, match="pick one"):
        influxkit.connect("https://127.0.0.1:1", ca_file=pki.ca_pem, verify_ssl=False)


# -- 2. default verification without the CA -------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{}, {"verify_ssl": True}, {"http2": True}],
    ids=["default", "verify_ssl=True", "http2=True"],
)
def test_unknown_ca_fails_the_first_request_without_leaking_the_token(
    tls_server: TlsServer, options: dict[str, Any]
) -> None:
    with _connect(tls_server, **options) as conn:
        assert conn.config.verify_ssl is True
        with pytest.raises(influxkit.TransportError) as info:
            conn.write(LINES)
        with pytest.raises(influxkit.TransportError, match=r"(?i)certificate verify failed"):
            conn.query_sql(SQL)
    exc = info.value
    assert "certificate verify failed" in str(exc).lower()
    assert "ca_file" in str(exc)  # the message names the fix
    assert exc.retryable is False  # an untrusted certificate stays untrusted
    assert exc.operation == "write"
    assert (exc.method, exc.path) == ("GET", "/ping")  # the first request: the server check
    for text in (str(exc), repr(exc), exc.message, repr(exc.args)):
        assert TOKEN not in text
        assert "secret-token" not in text
    assert exc.__cause__ is None or TOKEN not in repr(exc.__cause__)
    assert tls_server.seen == []  # no request got through the handshake


# -- 3. verify_ssl=False ---------------------------------------------------------------


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
def test_verify_ssl_false_works_without_the_ca(tls_server: TlsServer, http2: bool) -> None:
    with _connect(tls_server, verify_ssl=False, http2=http2) as conn:
        _round_trip(conn)
        assert conn.health()["status"] == "pass"
    assert len(tls_server.seen) == 5  # the first-use /ping, write, query, /health, /ping
    assert {s.scheme for s in tls_server.seen} == {"https"}
    assert tls_server.recorder.versions() == {"2" if http2 else "1.1"}


# -- 4. HTTP/2 and HTTP/1.1, as the server saw them ------------------------------------


def test_http2_true_really_uses_http2(tls_server: TlsServer, pki: Pki) -> None:
    with _connect(tls_server, ca_file=pki.ca_pem, http2=True) as conn:
        _round_trip(conn)
        _round_trip(conn)
        assert conn.health()["status"] == "pass"
    seen = tls_server.seen
    assert len(seen) == 7  # the first-use /ping, two round trips, /health and /ping
    assert tls_server.recorder.versions() == {"2"}
    assert {s.scheme for s in seen} == {"https"}
    assert all(s.authorized for s in seen)
    assert len({s.client_port for s in seen}) == 1  # all multiplexed on one connection


def test_http2_false_uses_http1_1(tls_server: TlsServer, pki: Pki) -> None:
    with _connect(tls_server, ca_file=pki.ca_pem, http2=False) as conn:
        _round_trip(conn)
        assert conn.health()["status"] == "pass"
    assert len(tls_server.seen) == 5  # the first-use /ping, write, query, /health, /ping
    assert tls_server.recorder.versions() == {"1.1"}
    assert {s.scheme for s in tls_server.seen} == {"https"}


def test_http2_is_off_by_default(tls_server: TlsServer, pki: Pki) -> None:
    with _connect(tls_server, ca_file=pki.ca_pem) as conn:
        assert conn.config.http2 is False
        _round_trip(conn)
    assert tls_server.recorder.versions() == {"1.1"}


# -- 5. health over https + h2 ---------------------------------------------------------


def test_health_over_https_with_http2(tls_server: TlsServer, pki: Pki) -> None:
    with _connect(tls_server, ca_file=pki.ca_pem, http2=True) as conn:
        health = conn.health()
    assert health["status"] == "pass"
    assert health["version"]
    assert [(s.http_version, s.scheme, s.method, s.path) for s in tls_server.seen] == [
        ("2", "https", "GET", "/ping"),  # the first-use server check
        ("2", "https", "GET", "/health"),
        ("2", "https", "GET", "/ping"),
    ]

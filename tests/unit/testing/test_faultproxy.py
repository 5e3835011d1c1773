"""FaultProxy: forwarding over keep-alive connections and every fault kind, on real sockets."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from influxkit.testing.faultproxy import FaultProxy

FIXED_DATE = "Thu, 01 Jan 1970 00:00:00 GMT"


# -- a tiny upstream HTTP/1.1 server ------------------------------------------------------


class Upstream(ThreadingHTTPServer):
    """Records every request it handles: (method, path, body, upstream connection port)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, bytes, int]] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def record(self, method: str, path: str, body: bytes, peer_port: int) -> None:
        with self.lock:
            self.seen.append((method, path, body, peer_port))

    def posts(self) -> list[bytes]:
        with self.lock:
            return [body for method, _, body, _ in self.seen if method == "POST"]

    def count(self) -> int:
        with self.lock:
            return len(self.seen)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream
    timeout = 10  # a stray connection cannot hold a handler thread forever
    # One write per response and no Nagle: otherwise delayed ACKs add ~40 ms per request.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        return FIXED_DATE  # responses are then byte-for-byte reproducible

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        if status != 204 and "Transfer_Encoding" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _echo(self, body: bytes) -> None:
        self.server.record(self.command, self.path, body, self.client_address[1])
        payload = {
            "method": self.command,
            "path": self.path,
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        self._send(200, json.dumps(payload).encode(), Content_Type="application/json")

    def do_POST(self) -> None:
        self._echo(self._read_body())

    def do_HEAD(self) -> None:
        self._echo(b"")

    def do_GET(self) -> None:
        if self.path == "/status/204":
            self.server.record("GET", self.path, b"", self.client_address[1])
            self._send(204, b"")
        elif self.path == "/chunked":
            self.server.record("GET", self.path, b"", self.client_address[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n")
        elif self.path == "/until-close":
            self.server.record("GET", self.path, b"", self.client_address[1])
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"no length, ends at close")
            self.close_connection = True
        else:
            self._echo(b"")


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", upstream.port, seed=1234) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def client(proxy: FaultProxy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url, timeout=5.0) as http:
        yield http


def _stats(**expected: int) -> dict[str, int]:
    """The full stats dict: the given counters, every other one zero."""
    keys = (
        "requests",
        "forwarded",
        "reset",
        "reset_after_forward",
        "stalled",
        "status_503",
        "status_429",
        "other_status",
        "down_refused",
        "connections",
        "upstream_errors",
    )
    assert set(expected) <= set(keys)
    return {key: expected.get(key, 0) for key in keys}


def _raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _echoed(response: httpx.Response, body: bytes) -> None:
    assert response.status_code == 200
    payload = response.json()
    assert payload["length"] == len(body)
    assert payload["sha256"] == hashlib.sha256(body).hexdigest()


# -- forwarding --------------------------------------------------------------------------


def test_forwards_get_and_post_bodies_over_one_keep_alive_connection(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    big = bytes(range(256)) * 4096  # 1 MiB
    chunks = [b"cpu,host=a usage=1 1\n", b"cpu,host=b usage=2 2\n", b"x" * 70_000]

    get = client.get("/query", params={"q": "SELECT 1"})
    assert get.status_code == 200
    assert get.json()["path"] == "/query?q=SELECT+1"
    _echoed(client.post("/write", content=b"cpu usage=1"), b"cpu usage=1")
    chunked = client.post("/write", content=iter(chunks))  # an iterator is sent chunked
    assert chunked.request.headers["transfer-encoding"] == "chunked"
    _echoed(chunked, b"".join(chunks))
    _echoed(client.post("/write", content=big), big)
    assert client.head("/ping").status_code == 200

    assert upstream.posts() == [b"cpu usage=1", b"".join(chunks), big]
    # One client connection, and one upstream connection serving all of it.
    assert len({peer for *_, peer in upstream.seen}) == 1
    assert proxy.stats == _stats(requests=5, forwarded=5, connections=1)


@pytest.mark.parametrize("path", ["/plain", "/chunked", "/status/204", "/until-close"])
def test_relays_responses_byte_for_byte(proxy: FaultProxy, upstream: Upstream, path: str) -> None:
    # Two pipelined requests (the first with a chunked body), the second closes.
    request = (
        b"POST /write HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    direct = _raw_exchange(upstream.port, request)
    proxied = _raw_exchange(proxy.port, request)
    assert proxied == direct
    assert direct.count(b"HTTP/1.1 ") == 2
    assert upstream.posts() == [b"abc", b"abc"]


def test_no_body_responses_keep_the_connection_usable(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    assert client.get("/status/204").status_code == 204
    assert client.head("/ping").headers["content-length"] != "0"
    chunked = client.get("/chunked")
    assert chunked.content == b"hello, world"
    assert client.get("/until-close").content == b"no length, ends at close"
    assert client.get("/after").json()["path"] == "/after"
    # The read-until-close response ended its connection; the last GET needed a new one.
    assert proxy.stats == _stats(requests=5, forwarded=5, connections=2)


def test_expect_100_continue_is_answered_by_the_proxy(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(
            b"POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"body")
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.count(b"100 Continue") == 0  # the upstream's own 100 is not relayed
    assert upstream.posts() == [b"body"]


def test_malformed_request_gets_400(proxy: FaultProxy, upstream: Upstream) -> None:
    response = _raw_exchange(proxy.port, b"NOT-HTTP\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert upstream.count() == 0


def test_unreachable_upstream_resets_the_client() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]  # bound, never listening: refuses
        with (
            FaultProxy("127.0.0.1", dead_port) as proxy,
            httpx.Client(base_url=proxy.url, timeout=5) as http,
        ):
            with pytest.raises(httpx.TransportError):
                http.get("/ping")
            assert proxy.stats == _stats(requests=1, connections=1, upstream_errors=1)


# -- one-shot faults ---------------------------------------------------------------------


def test_reset_next_before_forward(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    assert client.post("/write", content=b"first").status_code == 200
    proxy.reset_next()
    with pytest.raises(httpx.TransportError):
        client.post("/write", content=b"lost")
    assert client.post("/write", content=b"retried").status_code == 200

    assert upstream.posts() == [b"first", b"retried"]
    assert proxy.stats == _stats(requests=3, forwarded=2, reset=1, connections=2)


def test_reset_is_a_tcp_rst(proxy: FaultProxy) -> None:
    proxy.reset_next()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)


def test_reset_next_after_forward(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    proxy.reset_next(2, after_forward=True)
    for body in (b"done-1", b"done-2"):
        with pytest.raises(httpx.TransportError):
            client.post("/write", content=body)
    assert client.post("/write", content=b"done-3").status_code == 200

    assert upstream.posts() == [b"done-1", b"done-2", b"done-3"]
    assert proxy.stats == _stats(requests=3, forwarded=3, reset_after_forward=2, connections=3)


def test_stall_next_holds_the_request(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    proxy.stall_next(seconds=0.3)
    started = time.monotonic()
    _echoed(client.post("/write", content=b"slow"), b"slow")
    assert time.monotonic() - started >= 0.3
    _echoed(client.post("/write", content=b"fast"), b"fast")

    assert upstream.posts() == [b"slow", b"fast"]
    assert proxy.stats == _stats(requests=2, forwarded=2, stalled=1, connections=1)


def test_stall_lets_a_client_timeout_fire(proxy: FaultProxy, upstream: Upstream) -> None:
    proxy.stall_next(seconds=0.5)
    with httpx.Client(base_url=proxy.url, timeout=0.1) as http, pytest.raises(httpx.ReadTimeout):
        http.get("/ping")


def test_respond_next_answers_without_forwarding(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    http_date = "Wed, 21 Oct 2015 07:28:00 GMT"
    proxy.respond_next()
    proxy.respond_next(status=429, retry_after=0.5)
    proxy.respond_next(status=503, retry_after=2)
    proxy.respond_next(status=429, retry_after=http_date)
    proxy.respond_next(2, status=500, body=b"boom")

    first = client.post("/write", content=b"a")
    assert first.status_code == 503
    assert "retry-after" not in first.headers
    assert first.headers["content-type"] == "application/json"
    assert "503 Service Unavailable" in first.json()["error"]
    assert [
        (r.status_code, r.headers.get("retry-after"))
        for r in (client.post("/write", content=b"a") for _ in range(3))
    ] == [(429, "0.5"), (503, "2"), (429, http_date)]
    for _ in range(2):
        failed = client.post("/write", content=b"a")
        assert (failed.status_code, failed.content) == (500, b"boom")
    _echoed(client.post("/write", content=b"real"), b"real")

    assert upstream.posts() == [b"real"]
    # Keep-alive survived every injected answer: one connection throughout.
    assert proxy.stats == _stats(
        requests=7, forwarded=1, status_503=2, status_429=2, other_status=2, connections=1
    )


def test_one_shot_faults_apply_in_call_order(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    proxy.stall_next(seconds=0.05)
    proxy.respond_next(2, status=503)
    proxy.reset_next()
    proxy.respond_next(status=429)

    outcomes: list[int | str] = []
    for i in range(6):
        try:
            outcomes.append(client.post("/write", content=str(i).encode()).status_code)
        except httpx.TransportError:
            outcomes.append("reset")
    assert outcomes == [200, 503, 503, "reset", 429, 200]
    assert upstream.posts() == [b"0", b"5"]
    assert proxy.stats == _stats(
        requests=6, forwarded=2, stalled=1, status_503=2, reset=1, status_429=1, connections=2
    )


def test_clear_forgets_queued_and_random_faults(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    proxy.reset_next(5)
    proxy.set_random(status_503=1.0)
    proxy.clear()
    assert [client.get("/ping").status_code for _ in range(3)] == [200, 200, 200]
    assert proxy.stats == _stats(requests=3, forwarded=3, connections=1)


def test_invalid_arguments_are_rejected(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError):
        proxy.reset_next(-1)
    with pytest.raises(ValueError):
        proxy.stall_next(seconds=-1)
    with pytest.raises(ValueError):
        proxy.respond_next(status=100)
    with pytest.raises(ValueError):
        proxy.respond_next(retry_after=-1)
    with pytest.raises(ValueError):
        proxy.down(float("nan"))
    with pytest.raises(ValueError):
        proxy.set_random(reset=0.6, status_503=0.5)
    with pytest.raises(ValueError):
        proxy.set_random(stall=1.5)


# -- outages -----------------------------------------------------------------------------


def test_down_fails_requests_for_the_window_then_recovers(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    assert client.get("/before").status_code == 200  # a live keep-alive connection
    window = 0.3
    started = time.monotonic()
    proxy.down(window)
    for _ in range(3):
        with pytest.raises(httpx.TransportError):
            client.get("/during")
    assert time.monotonic() - started < window, "the machine is too slow for this window"

    time.sleep(max(0.0, started + window - time.monotonic()))  # wait out the outage
    assert client.get("/after").status_code == 200

    assert [path for _, path, _, _ in upstream.seen] == ["/before", "/after"]
    stats = proxy.stats
    assert stats["down_refused"] >= 2  # 3 unless the first failure was the reset connection
    assert (stats["requests"], stats["forwarded"]) == (2, 2)


def test_down_resets_open_and_stalled_connections(proxy: FaultProxy, upstream: Upstream) -> None:
    request = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"
    with (
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as idle,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as stalled,
    ):
        for sock in (idle, stalled):  # a full exchange: the proxy surely serves both
            sock.sendall(request)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        proxy.stall_next(seconds=30)
        stalled.sendall(request)
        proxy.down(0.05)
        for sock in (idle, stalled):
            with pytest.raises(ConnectionResetError):
                sock.recv(100)
    assert upstream.count() == 2  # the stalled request was dropped, not forwarded


# -- random faults -----------------------------------------------------------------------


def _outcomes(http: httpx.Client, n: int) -> list[int | str]:
    outcomes: list[int | str] = []
    for i in range(n):
        try:
            outcomes.append(http.post("/write", content=b"%d" % i).status_code)
        except httpx.TransportError:
            outcomes.append("error")
    return outcomes


def test_random_faults_inject_roughly_the_requested_share(
    proxy: FaultProxy, upstream: Upstream, client: httpx.Client
) -> None:
    n = 600
    shares = {"reset": 0.1, "reset_after_forward": 0.05, "status_503": 0.15, "status_429": 0.1}
    proxy.set_random(**shares, stall=0.05, stall_seconds=0.001, retry_after=0.25)
    outcomes = _outcomes(client, n)
    stats = proxy.stats

    assert stats["requests"] == n
    for key, share in [*shares.items(), ("stalled", 0.05)]:
        assert abs(stats[key] / n - share) < 0.05, (key, stats[key])
    assert outcomes.count(503) == stats["status_503"]
    assert outcomes.count(429) == stats["status_429"]
    assert outcomes.count("error") == stats["reset"] + stats["reset_after_forward"]
    assert outcomes.count(200) == stats["forwarded"] - stats["reset_after_forward"]
    assert len(upstream.posts()) == stats["forwarded"]

    proxy.set_random()  # off again
    assert _outcomes(client, 20) == [200] * 20


def test_random_faults_are_reproducible_with_a_seed(upstream: Upstream) -> None:
    def run(seed: int) -> list[int | str]:
        with (
            FaultProxy("127.0.0.1", upstream.port, seed=seed) as proxy,
            httpx.Client(base_url=proxy.url, timeout=5) as http,
        ):
            proxy.set_random(status_503=0.3, reset=0.2)
            return _outcomes(http, 60)

    first = run(7)
    assert run(7) == first
    assert run(8) != first


def test_retrying_writers_lose_nothing_under_random_faults(
    proxy: FaultProxy, upstream: Upstream
) -> None:
    """The intended use: concurrent writers that retry until 2xx get every batch through."""
    proxy.set_random(
        reset=0.1, reset_after_forward=0.1, status_503=0.1, stall=0.05, stall_seconds=0.01
    )
    writers, batches = 20, 10
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            with httpx.Client(base_url=proxy.url, timeout=5) as http:
                barrier.wait()
                for b in range(batches):
                    for _attempt in range(100):
                        try:
                            if http.post("/write", content=b"%d-%d" % (w, b)).status_code == 200:
                                break
                        except httpx.TransportError:
                            pass
                    else:
                        raise AssertionError(f"batch {w}-{b} never got through")
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    expected = {b"%d-%d" % (w, b) for w in range(writers) for b in range(batches)}
    assert set(upstream.posts()) == expected
    assert proxy.stats["reset"] + proxy.stats["reset_after_forward"] > 0


# -- concurrency and lifecycle -----------------------------------------------------------


def test_twenty_concurrent_clients(proxy: FaultProxy, upstream: Upstream) -> None:
    clients, requests = 20, 10
    barrier = threading.Barrier(clients)
    results: list[list[int]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []

    def run(c: int) -> None:
        try:
            with httpx.Client(base_url=proxy.url, timeout=5) as http:
                barrier.wait()  # all 20 connections are open at the same time
                for r in range(requests):
                    body = b"%d-%d" % (c, r)
                    response = http.post("/write", content=body)
                    _echoed(response, body)
                    results[c].append(response.status_code)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert results == [[200] * requests] * clients
    assert len(upstream.posts()) == clients * requests
    assert proxy.stats == _stats(
        requests=clients * requests, forwarded=clients * requests, connections=clients
    )


def _proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("FaultProxy")]


def test_stop_is_idempotent_and_releases_the_port(upstream: Upstream) -> None:
    proxy = FaultProxy("127.0.0.1", upstream.port)
    proxy.stop()  # before start: a no-op
    with pytest.raises(RuntimeError):
        proxy.start()

    proxy = FaultProxy("127.0.0.1", upstream.port).start()
    assert proxy.url == f"http://127.0.0.1:{proxy.port}"
    with httpx.Client(base_url=proxy.url, timeout=5) as http:
        assert http.get("/ping").status_code == 200  # leaves a keep-alive connection open
        proxy.stop()
        proxy.stop()
        with pytest.raises(httpx.TransportError):
            http.get("/ping")
    assert _proxy_threads() == []
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5),
    ):
        pass
    with FaultProxy("127.0.0.1", upstream.port, port=proxy.port) as again:
        assert again.port == proxy.port


def test_stop_drops_stalled_requests_promptly(upstream: Upstream) -> None:
    proxy = FaultProxy("127.0.0.1", upstream.port).start()
    proxy.stall_next(seconds=30)
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        proxy.stop()
        assert time.monotonic() - started < 5
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
    assert upstream.count() == 0
    assert _proxy_threads() == []


def test_start_reports_a_port_in_use(upstream: Upstream) -> None:
    with FaultProxy("127.0.0.1", upstream.port) as first:
        second = FaultProxy("127.0.0.1", upstream.port, port=first.port)
        with pytest.raises(OSError):
            second.start()

"""A fault-injecting HTTP/1.1 proxy for tests: resets, stalls, error statuses, outages.

The batch-writer tests use it to prove that no point is lost when the network and the
server misbehave: the writer talks to the proxy, the proxy forwards to a real server
(InfluxDB 1.x or ``influxkit serve``) and injects faults per request, also on
keep-alive connections.

The proxy understands just enough HTTP/1.1 to find request and response boundaries:
it reads one whole request from the client (``Content-Length`` or chunked body),
decides what to do with it, forwards it unchanged on the upstream connection that
belongs to this client connection (opened lazily), reads the whole response
(``Content-Length``, chunked or until close; none for ``HEAD``, 1xx, 204 and 304) and
relays it byte for byte. Requests and responses are buffered in memory, which keeps
the faults exact (a reset after forwarding never leaks a partial response); it is a
test tool, not a production proxy. It runs an asyncio event loop in a daemon thread
and uses only the standard library.

Faults:

* one-shot, applied to the next ``n`` requests in call order: :meth:`FaultProxy.reset_next`,
  :meth:`FaultProxy.stall_next`, :meth:`FaultProxy.respond_next`;
* an outage of the whole "server": :meth:`FaultProxy.down`;
* random, drawn per request from a seeded RNG, for soak tests: :meth:`FaultProxy.set_random`.

A proxy can also stand for a reverse proxy that serves the upstream under a path
(``FaultProxy(..., mount="/influx")``: ``/influx/ping`` goes upstream as ``/ping``, and
any path outside the mount is answered with a web server's HTML 404 page), and it keeps
the request lines it saw (:attr:`FaultProxy.seen`), so a test can tell which endpoints a
client used.

When the upstream cannot be reached or sends something unreadable, the client
connection is reset (counted in ``stats["upstream_errors"]``), as if the server died.

Example::

    import httpx
    from influxkit.testing.faultproxy import FaultProxy

    with FaultProxy("127.0.0.1", 8086, seed=42) as proxy:
        proxy.reset_next()                              # cut the next request off (TCP RST)
        proxy.respond_next(status=503, retry_after=1)   # then answer one with a 503
        proxy.set_random(reset=0.05, status_503=0.05)   # then misbehave at random
        with httpx.Client(base_url=proxy.url) as client:
            ...                                         # a writer that must retry
        print(proxy.stats["forwarded"], proxy.stats["reset"])
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Literal

__all__ = ["NOT_FOUND_PAGE", "SOAK_FAULTS", "FaultProxy"]

#: A mix of every kind of fault for soak tests: ``proxy.set_random(**SOAK_FAULTS)``.
SOAK_FAULTS: dict[str, float] = {
    "reset": 0.04,
    "reset_after_forward": 0.04,
    "stall": 0.02,
    "stall_seconds": 0.3,
    "status_503": 0.05,
    "status_429": 0.05,
    "retry_after": 0.05,
}

_log = logging.getLogger(__name__)

#: Largest request or response head (and chunk-size line) the proxy accepts.
_LIMIT = 1 << 20
#: How long opening an upstream connection may take before the client is reset.
_CONNECT_TIMEOUT = 10.0
#: How long :meth:`FaultProxy.stop` and :meth:`FaultProxy.down` wait for the loop thread.
_LOOP_TIMEOUT = 10.0

_STAT_KEYS = (
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
#: What a web server answers for a path it has nothing at (the ``mount`` option).
NOT_FOUND_PAGE = (
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)

_HEX = re.compile(rb"[0-9A-Fa-f]+")
_DIGITS = re.compile(rb"[0-9]+")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NO_BODY_STATUSES = frozenset({204, 304})

_FaultKind = Literal["none", "reset", "reset_after_forward", "stall", "respond"]


class _BadMessage(Exception):
    """A request or response the proxy cannot frame."""


@dataclass(frozen=True, slots=True)
class _Fault:
    kind: _FaultKind
    seconds: float = 0.0
    status: int = 0
    retry_after: str | None = None
    body: bytes | None = None
    content_type: str | None = None


_NO_FAULT = _Fault("none")


@dataclass(frozen=True, slots=True)
class _Random:
    reset: float
    reset_after_forward: float
    stall: float
    stall_seconds: float
    status_503: float
    status_429: float
    retry_after: str | None


@dataclass(slots=True)
class _Message:
    """One parsed request or response, with its exact bytes."""

    raw: bytes
    method: bytes = b""
    target: bytes = b""
    status: int = 0
    keep_alive: bool = True
    sent_continue: bool = False
    headers: dict[bytes, list[bytes]] = field(default_factory=dict)


class _Connection:
    """One accepted client socket, its streams once opened, and its upstream connection."""

    __slots__ = ("reader", "sock", "task", "up_reader", "up_writer", "writer")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.task: asyncio.Task[None] | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.up_reader: asyncio.StreamReader | None = None
        self.up_writer: asyncio.StreamWriter | None = None

    def close_upstream(self) -> None:
        if self.up_writer is not None:
            self.up_writer.transport.abort()
        self.up_reader = self.up_writer = None

    def reset(self) -> None:
        """Reset the client connection (TCP RST) and drop the upstream one (handler only)."""
        _set_linger_zero(self.sock)
        if self.writer is not None:
            self.writer.transport.abort()  # the socket is closed (RST) on the next loop turn
        else:
            self.sock.close()
        self.close_upstream()


def _set_linger_zero(sock: socket.socket) -> None:
    """Make ``close()`` abortive: the kernel sends a RST instead of a FIN."""
    with contextlib.suppress(OSError):  # already closed
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _rst_close(sock: socket.socket) -> None:
    _set_linger_zero(sock)
    sock.close()


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")


def _check_seconds(name: str, seconds: float) -> None:
    if not seconds >= 0:  # also rejects NaN
        raise ValueError(f"{name} must be >= 0, got {seconds!r}")


def _retry_after_value(value: float | str | None) -> str | None:
    """The ``Retry-After`` header value: numbers as (possibly fractional) seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value or "\r" in value or "\n" in value:
            raise ValueError(f"invalid Retry-After value {value!r}")
        return value
    _check_seconds("retry_after", value)
    if float(value).is_integer():
        return str(int(value))
    return format(value, "f").rstrip("0").rstrip(".")


def _tokens(headers: dict[bytes, list[bytes]], name: bytes) -> list[bytes]:
    """The comma-separated, lower-cased tokens of every ``name`` header."""
    return [
        token.strip().lower()
        for value in headers.get(name, ())
        for token in value.split(b",")
        if token.strip()
    ]


def _parse_head(head: bytes) -> tuple[list[bytes], dict[bytes, list[bytes]]]:
    """Split a message head into its start line (up to 3 parts) and headers (lower-cased names)."""
    lines = head[:-4].split(b"\r\n")
    start = lines[0].split(b" ", 2)
    if len(start) < 2:
        raise _BadMessage(f"bad start line {lines[0][:100]!r}")
    headers: dict[bytes, list[bytes]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            raise _BadMessage(f"bad header line {line[:100]!r}")
        headers.setdefault(name.lower(), []).append(value.strip(b" \t"))
    return start, headers


def _content_length(headers: dict[bytes, list[bytes]]) -> int | None:
    values = {v.strip() for value in headers.get(b"content-length", ()) for v in value.split(b",")}
    if not values:
        return None
    if len(values) != 1 or not _DIGITS.fullmatch(next(iter(values))):
        raise _BadMessage(f"bad Content-Length {sorted(values)!r}")
    return int(next(iter(values)))


def _keep_alive(version: bytes, headers: dict[bytes, list[bytes]]) -> bool:
    """Whether the connection stays open after this message (RFC 9112, 9.3)."""
    tokens = _tokens(headers, b"connection")
    if b"close" in tokens:
        return False
    return version == b"HTTP/1.1" or b"keep-alive" in tokens


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """One message head up to and including ``\\r\\n\\r\\n``; ``None`` at a clean EOF."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial.strip():
                return None
            raise
        # RFC 9112, 2.2: ignore empty lines before the start line.
        head = head.lstrip(b"\r\n")
        if head:
            return head


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body including the last chunk and trailers, exactly as sent."""
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        parts.append(line)
        size_text = line[:-2].split(b";", 1)[0].strip(b" \t")
        if not _HEX.fullmatch(size_text):
            raise _BadMessage(f"bad chunk size line {line[:100]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        data = await reader.readexactly(size + 2)
        if data[-2:] != b"\r\n":
            raise _BadMessage("chunk data not followed by CRLF")
        parts.append(data)
    while True:  # trailer section, ended by an empty line
        line = await reader.readuntil(b"\r\n")
        parts.append(line)
        if line == b"\r\n":
            return b"".join(parts)


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> _Message | None:
    """The next whole request on a client connection; ``None`` when the client closed it."""
    head = await _read_head(reader)
    if head is None:
        return None
    start, headers = _parse_head(head)
    if len(start) != 3:
        raise _BadMessage(f"bad request line {head[:100]!r}")
    method, _target, version = start
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise _BadMessage(f"unsupported version {version[:20]!r}")
    codings = _tokens(headers, b"transfer-encoding")
    length = None if codings else _content_length(headers)
    if codings and codings[-1] != b"chunked":
        raise _BadMessage("request Transfer-Encoding does not end with chunked")
    sent_continue = False
    expects_continue = b"100-continue" in _tokens(headers, b"expect")
    if (codings or length) and expects_continue and version == b"HTTP/1.1":
        # The body is needed before the fault is chosen, so answer the expectation here
        # (an upstream "100 Continue" is then dropped, see _exchange).
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        sent_continue = True
    if codings:
        body = await _read_chunked(reader)
    elif length:
        body = await reader.readexactly(length)
    else:
        body = b""
    return _Message(
        raw=head + body,
        method=method,
        target=_target,
        keep_alive=_keep_alive(version, headers),
        sent_continue=sent_continue,
        headers=headers,
    )


async def _read_response(reader: asyncio.StreamReader, request: _Message) -> _Message:
    """The upstream's whole answer to ``request``, interim 1xx responses included."""
    parts: list[bytes] = []
    while True:
        head = await _read_head(reader)
        if head is None:
            raise EOFError("upstream closed the connection without a response")
        (version, status_text, *_reason), headers = _parse_head(head)
        if not version.startswith(b"HTTP/1.") or not _DIGITS.fullmatch(status_text):
            raise _BadMessage(f"bad status line {head[:100]!r}")
        status = int(status_text)
        if status == 101:
            raise _BadMessage("protocol upgrades are not supported")
        if 100 <= status < 200:
            if not (status == 100 and request.sent_continue):
                parts.append(head)
            continue
        break
    parts.append(head)
    framed = True
    codings = _tokens(headers, b"transfer-encoding")
    if request.method == b"HEAD" or status in _NO_BODY_STATUSES:
        pass
    elif codings and codings[-1] == b"chunked":
        parts.append(await _read_chunked(reader))
    elif codings:
        parts.append(await reader.read())
        framed = False
    elif (length := _content_length(headers)) is not None:
        parts.append(await reader.readexactly(length))
    else:
        parts.append(await reader.read())
        framed = False
    return _Message(
        raw=b"".join(parts),
        status=status,
        keep_alive=framed and _keep_alive(version, headers),
        headers=headers,
    )


def _fault_response(fault: _Fault, request: _Message) -> bytes:
    """The HTTP/1.1 response a ``respond`` fault sends instead of forwarding."""
    try:
        phrase = HTTPStatus(fault.status).phrase
    except ValueError:
        phrase = "Injected Fault"
    if fault.body is None:
        message = f"{fault.status} {phrase} (injected by FaultProxy)"
        body = json.dumps({"error": message}).encode()
        content_type = fault.content_type or "application/json"
    else:
        body = fault.body
        content_type = fault.content_type or "text/plain; charset=utf-8"
    lines = [f"HTTP/1.1 {fault.status} {phrase}"]
    if fault.status in _NO_BODY_STATUSES:
        body = b""
    else:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    if fault.retry_after is not None:
        lines.append(f"Retry-After: {fault.retry_after}")
    lines.append("Connection: keep-alive" if request.keep_alive else "Connection: close")
    if request.method == b"HEAD":
        body = b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class FaultProxy:
    """A TCP/HTTP proxy on 127.0.0.1 that forwards to one upstream and injects faults.

    Every method is thread-safe; faults are applied in the proxy's own thread.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        mount: str | None = None,
    ) -> None:
        """Configure (not start) a proxy listening on ``host:port`` (0 = a free port).

        ``mount`` (e.g. ``"/influx"``): serve the upstream under that path only, as a
        reverse proxy does; the prefix is cut before forwarding, and other paths get
        :data:`NOT_FOUND_PAGE` (404, ``text/html``) without reaching upstream.
        """
        if mount and (not mount.startswith("/") or mount.endswith("/")):
            raise ValueError(f"mount must look like '/influx' (no trailing slash), got {mount!r}")
        self.mount = mount.encode("latin-1") if mount else None
        self._seen: collections.deque[str] = collections.deque(maxlen=10_000)
        self._outside_mount = 0
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self._requested_port = port
        self._bound_port: int | None = None
        self._lock = threading.Lock()
        self._queue: collections.deque[_Fault] = collections.deque()
        self._random: _Random | None = None
        self._rng = random.Random(seed)
        self._stats = dict.fromkeys(_STAT_KEYS, 0)
        self._down_until = 0.0
        self._state_lock = threading.Lock()
        self._state: Literal["new", "running", "stopped"] = "new"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None
        self._connections: set[_Connection] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Bind the listener here (bind errors raise in the caller), then serve in a thread.

        Returns ``self``. A proxy starts once; make a new one to serve again.
        """
        with self._state_lock:
            if self._state != "new":
                raise RuntimeError(f"FaultProxy already {self._state}")
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            listener = socket.create_server(
                (self.host, self._requested_port), family=family, backlog=128
            )
            listener.setblocking(False)
            self._bound_port = int(listener.getsockname()[1])
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=self._run,
                args=(loop, listener),
                name=f"FaultProxy:{self._bound_port}->{self.upstream_host}:{self.upstream_port}",
                daemon=True,
            )
            self._listener, self._loop, self._thread = listener, loop, thread
            self._state = "running"
            thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then join the thread; idempotent.

        Stalled requests are dropped, not forwarded. Calling it before :meth:`start`
        only prevents a later start.
        """
        with self._state_lock:
            if self._state != "running":
                self._state = "stopped"
                return
            self._state = "stopped"
            loop, thread = self._loop, self._thread
        assert loop is not None and thread is not None
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_LOOP_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the proxy listens on (still known after :meth:`stop`)."""
        if self._bound_port is None:
            raise RuntimeError("FaultProxy is not started")
        return self._bound_port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the proxy, to give to the client under test."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- faults ------------------------------------------------------------------------

    def reset_next(self, n: int = 1, *, after_forward: bool = False) -> None:
        """Reset the client connection (TCP RST) on the next ``n`` requests.

        ``after_forward=False``: before the request reaches upstream (the write never
        happened). ``True``: after upstream answered (the server did the work but the
        client sees a reset, so a retry duplicates it).
        """
        _check_count(n)
        self._enqueue(_Fault("reset_after_forward" if after_forward else "reset"), n)

    def stall_next(self, n: int = 1, *, seconds: float) -> None:
        """Hold each of the next ``n`` requests for ``seconds``, then forward it.

        Lets tests drive client timeouts and overlapping in-flight batches.
        """
        _check_count(n)
        _check_seconds("seconds", seconds)
        self._enqueue(_Fault("stall", seconds=seconds), n)

    def respond_next(
        self,
        n: int = 1,
        *,
        status: int = 503,
        retry_after: float | str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> None:
        """Answer the next ``n`` requests with ``status`` instead of forwarding them.

        The answer is a complete HTTP/1.1 response with ``Content-Length`` that keeps the
        connection alive; ``retry_after`` (seconds, or a verbatim string such as an
        HTTP date) adds a ``Retry-After`` header. ``body=None`` sends a JSON error body
        ``{"error": "..."}``, as InfluxDB does; ``content_type`` overrides the default
        (``application/json`` for it, ``text/plain; charset=utf-8`` for a given body).
        """
        _check_count(n)
        if not 200 <= status <= 599:
            raise ValueError(f"status must be a final status (200-599), got {status}")
        fault = _Fault(
            "respond",
            status=status,
            retry_after=_retry_after_value(retry_after),
            body=body,
            content_type=content_type,
        )
        self._enqueue(fault, n)

    def down(self, seconds: float) -> None:
        """Make the "server" vanish for ``seconds``.

        Existing client connections are reset (stalled requests are dropped, not
        forwarded) before this returns; new connections are accepted and reset at
        once until the time is up. Calling it again extends the outage, never shortens it.
        """
        _check_seconds("seconds", seconds)
        with self._lock:
            self._down_until = max(self._down_until, time.monotonic() + seconds)
        loop = self._running_loop()
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._reset_all(), loop).result(_LOOP_TIMEOUT)

    def set_random(
        self,
        *,
        reset: float = 0.0,
        reset_after_forward: float = 0.0,
        stall: float = 0.0,
        stall_seconds: float = 0.5,
        status_503: float = 0.0,
        status_429: float = 0.0,
        retry_after: float | str | None = 0.1,
    ) -> None:
        """Inject a random fault on every request that no queued fault claims.

        Each argument is the probability of that fault per request (their sum must not
        exceed 1); one draw from the RNG seeded with ``seed`` picks at most one fault.
        ``stall_seconds`` is the stall length, ``retry_after`` the ``Retry-After`` of
        the 503 and 429 answers (``None``: no header). With no arguments it turns the
        random faults off.
        """
        shares = {
            "reset": reset,
            "reset_after_forward": reset_after_forward,
            "stall": stall,
            "status_503": status_503,
            "status_429": status_429,
        }
        for name, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {share!r}")
        if sum(shares.values()) > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to more than 1: {shares}")
        _check_seconds("stall_seconds", stall_seconds)
        header = _retry_after_value(retry_after)
        settings = None
        if any(shares.values()):
            settings = _Random(
                reset=reset,
                reset_after_forward=reset_after_forward,
                stall=stall,
                stall_seconds=stall_seconds,
                status_503=status_503,
                status_429=status_429,
                retry_after=header,
            )
        with self._lock:
            self._random = settings

    def clear(self) -> None:
        """Forget queued and random faults and end an outage started by :meth:`down`."""
        with self._lock:
            self._queue.clear()
            self._random = None
            self._down_until = 0.0

    @property
    def stats(self) -> dict[str, int]:
        """A snapshot of the counters.

        ``requests``: complete requests read from clients; ``forwarded``: answered by
        upstream; ``reset``, ``reset_after_forward``, ``stalled``, ``status_503``,
        ``status_429``, ``other_status``: injected faults; ``down_refused``: connections
        reset during an outage; ``connections``: client connections served;
        ``upstream_errors``: client connections reset because upstream failed.
        """
        with self._lock:
            return dict(self._stats)

    @property
    def outside_mount(self) -> int:
        """Requests answered with :data:`NOT_FOUND_PAGE`: their path was outside ``mount``."""
        with self._lock:
            return self._outside_mount

    @property
    def seen(self) -> list[str]:
        """The request lines read from clients, oldest first, as ``"GET /ping"`` (the
        path as the client sent it; the last 10,000)."""
        with self._lock:
            return list(self._seen)

    def _mounted(self, request: _Message) -> _Message | None:
        """``request`` with the mount cut from its path; ``None`` if outside the mount."""
        assert self.mount is not None
        target = request.target
        rest = target[len(self.mount) :]
        if not target.startswith(self.mount) or rest[:1] not in (b"", b"/", b"?"):
            return None
        if not rest.startswith(b"/"):
            rest = b"/" + rest
        line, tail = request.raw.split(b"\r\n", 1)
        method, _target, version = line.split(b" ")
        raw = b" ".join((method, rest, version)) + b"\r\n" + tail
        return _Message(
            raw=raw,
            method=request.method,
            target=rest,
            keep_alive=request.keep_alive,
            sent_continue=request.sent_continue,
            headers=request.headers,
        )

    @property
    def injected(self) -> dict[str, int]:
        """The faults injected so far, by kind (only kinds that happened)."""
        counters = ("requests", "forwarded", "connections")
        return {k: v for k, v in self.stats.items() if k not in counters and v}

    # -- internals (fault bookkeeping) -------------------------------------------------

    def _enqueue(self, fault: _Fault, n: int) -> None:
        with self._lock:
            self._queue.extend([fault] * n)

    def _bump(self, key: str) -> None:
        with self._lock:
            self._stats[key] += 1

    def _is_down(self) -> bool:
        with self._lock:
            return time.monotonic() < self._down_until

    def _take_fault(self) -> _Fault:
        """Count a request and pick its fault: the queue first, then the random draw."""
        with self._lock:
            self._stats["requests"] += 1
            if self._queue:
                return self._queue.popleft()
            settings = self._random
            if settings is None:
                return _NO_FAULT
            draw = self._rng.random()
        choices = (
            (settings.reset, _Fault("reset")),
            (settings.reset_after_forward, _Fault("reset_after_forward")),
            (settings.stall, _Fault("stall", seconds=settings.stall_seconds)),
            (settings.status_503, _Fault("respond", status=503, retry_after=settings.retry_after)),
            (settings.status_429, _Fault("respond", status=429, retry_after=settings.retry_after)),
        )
        for share, fault in choices:
            if draw < share:
                return fault
            draw -= share
        return _NO_FAULT

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        with self._state_lock:
            return self._loop if self._state == "running" else None

    # -- internals (event loop thread) -------------------------------------------------

    def _run(self, loop: asyncio.AbstractEventLoop, listener: socket.socket) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.add_reader(listener.fileno(), self._on_acceptable, listener)
            loop.run_forever()
        finally:
            if listener.fileno() != -1:  # stop() did not run: the interpreter is exiting
                loop.remove_reader(listener.fileno())
                listener.close()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    def _on_acceptable(self, listener: socket.socket) -> None:
        """Accept what is pending; each socket is tracked from this moment on."""
        for _ in range(64):
            try:
                sock, _address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                _log.exception("FaultProxy: accept failed")
                return
            if self._is_down():
                self._bump("down_refused")
                _rst_close(sock)
                continue
            self._bump("connections")
            conn = _Connection(sock)
            self._connections.add(conn)
            conn.task = asyncio.get_running_loop().create_task(self._serve_client(conn))

    async def _reset_all(self) -> None:
        """Reset every client connection and cancel its handler (drops stalled requests)."""
        connections = list(self._connections)
        for conn in connections:
            # Not conn.reset(): the raw socket may already belong to a transport being made.
            _set_linger_zero(conn.sock)
            if conn.writer is not None:
                conn.writer.transport.abort()
            conn.close_upstream()
            if conn.task is not None:
                conn.task.cancel()
        await asyncio.gather(*(c.task for c in connections if c.task), return_exceptions=True)
        for conn in connections:
            _rst_close(conn.sock)  # also covers handlers cancelled before they first ran
        self._connections.difference_update(connections)

    async def _shutdown(self) -> None:
        assert self._loop is not None and self._listener is not None
        self._loop.remove_reader(self._listener.fileno())
        self._listener.close()
        await self._reset_all()

    async def _serve_client(self, conn: _Connection) -> None:
        """Serve one client connection: requests in order until either side closes."""
        graceful = False
        try:
            reader, writer = await asyncio.open_connection(sock=conn.sock, limit=_LIMIT)
            conn.reader, conn.writer = reader, writer
            try:
                graceful = await self._serve_requests(conn, reader, writer)
            except _BadMessage:
                writer.write(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                await writer.drain()
                graceful = True
        except (OSError, EOFError, asyncio.LimitOverrunError):
            pass  # the client went away or sent something unframeable: drop the connection
        except Exception:
            _log.exception("FaultProxy: unexpected error on a client connection")
        finally:
            conn.close_upstream()
            try:
                if graceful and conn.writer is not None:
                    conn.writer.close()  # flushes what is buffered, then FIN
                    with contextlib.suppress(OSError):
                        await conn.writer.wait_closed()
                else:
                    conn.reset()
            finally:
                self._connections.discard(conn)

    async def _serve_requests(
        self, conn: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """The request loop of one connection; returns whether to close it gracefully."""
        while True:
            request = await _read_request(reader, writer)
            if request is None:
                return True
            with self._lock:
                self._seen.append(
                    f"{request.method.decode('latin-1')} {request.target.decode('latin-1')}"
                )
            if self.mount is not None:
                inside = self._mounted(request)
                if inside is None:
                    with self._lock:
                        self._outside_mount += 1
                    page = _Fault(
                        "respond", status=404, body=NOT_FOUND_PAGE, content_type="text/html"
                    )
                    writer.write(_fault_response(page, request))
                    await writer.drain()
                    if not request.keep_alive:
                        return True
                    continue
                request = inside
            fault = self._take_fault()
            if fault.kind == "reset":
                self._bump("reset")
                return False
            if fault.kind == "stall":
                self._bump("stalled")
                await asyncio.sleep(fault.seconds)
            if fault.kind == "respond":
                key = f"status_{fault.status}"
                self._bump(key if key in ("status_503", "status_429") else "other_status")
                writer.write(_fault_response(fault, request))
                await writer.drain()
                if not request.keep_alive:
                    return True
                continue
            try:
                response = await self._exchange(conn, request)
            except (OSError, EOFError, asyncio.LimitOverrunError, _BadMessage):
                self._bump("upstream_errors")
                return False
            self._bump("forwarded")
            if fault.kind == "reset_after_forward":
                self._bump("reset_after_forward")
                return False
            writer.write(response.raw)
            await writer.drain()
            if not (request.keep_alive and response.keep_alive):
                return True

    async def _exchange(self, conn: _Connection, request: _Message) -> _Message:
        """Send ``request`` upstream (connecting if needed) and read the whole response."""
        if (
            conn.up_reader is None
            or conn.up_writer is None
            or conn.up_reader.at_eof()  # the server closed the idle connection
            or conn.up_writer.is_closing()
        ):
            conn.close_upstream()
            async with asyncio.timeout(_CONNECT_TIMEOUT):
                conn.up_reader, conn.up_writer = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port, limit=_LIMIT
                )
        assert conn.up_reader is not None and conn.up_writer is not None
        conn.up_writer.write(request.raw)
        await conn.up_writer.drain()
        response = await _read_response(conn.up_reader, request)
        if not (request.keep_alive and response.keep_alive):
            conn.close_upstream()
        return response

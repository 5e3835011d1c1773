"""Start ``influxkit serve``, in the foreground or on a background thread.

This is a **developer tool for tests and local work, not a production server**: the
data lives in memory and is gone when the process ends, there is no TLS, and it has
not been hardened against hostile clients.  It listens on loopback by default and
refuses any other address unless a token is set.

:func:`serve` blocks (the ``influxkit serve`` command); :class:`ServerThread` and
:func:`running_server` run uvicorn on a thread, on a free port, for test suites::

    with running_server(token="secret") as server:
        httpx.post(f"{server.url}/api/v3/write_lp?db=test", content=b"cpu v=1",
                   headers={"Authorization": "Bearer secret"})

With ``flight_port`` (``--flight-port``) the same engine also answers Arrow Flight
``DoGet`` queries (:mod:`influxkit.server.flight`), on that port of the same host:
InfluxDB 3 serves Flight on its HTTP port, but uvicorn has no HTTP/2, so Flight gets
a port of its own.  Off unless asked for; ``0`` picks a free port.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow.flight

    from influxkit.clients.local import LocalClient
    from influxkit.server.app import InfluxApp

__all__ = [
    "ServerThread",
    "build_app",
    "check_bind",
    "listen",
    "running_server",
    "serve",
    "start_flight",
]

logger = logging.getLogger("influxkit.server")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token (:class:`ConfigError`)."""
    if token is None and not _is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host!r} without a token: anyone who can reach it could "
            "read and write its data. Pass a token (--token / INFLUXKIT_SERVE_TOKEN, or "
            "token=...), or listen on 127.0.0.1"
        )
    if token is not None and not token:
        raise ConfigError("the token is empty: pass a non-empty token, or none at all")


def build_app(
    *,
    token: str | None = None,
    profile: str = "v3_core",
    databases: Iterable[str] = (),
    org: str | None = None,
) -> InfluxApp:
    """A new engine of ``profile`` with ``databases`` created, behind the HTTP app.

    ``org`` names the organization of the ``v2`` profile (``None``: the first request
    that names one names it).
    """
    require("starlette", "serve")
    from influxkit.clients.local import LocalClient
    from influxkit.clients.profiles import PROFILES
    from influxkit.server.app import InfluxApp

    if profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    engine: LocalClient = LocalClient(PROFILES[profile], databases=databases, org=org)
    engine.start()
    return InfluxApp(engine, token=token)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


def start_flight(app: InfluxApp, host: str, port: int) -> pyarrow.flight.FlightServerBase:
    """Start Arrow Flight over ``app``'s engine on ``host:port``, with ``app``'s token rule.

    The tokens that open the HTTP endpoints (the server's, and those made through
    ``/api/v3/configure/token``) open Flight too.

    Raises:
        ConfigError: the port cannot be listened on (taken, or not allowed).
        MissingDependency: pyarrow (with pyarrow.flight) is not installed.
    """
    require("pyarrow.flight", "serve")
    from influxkit.server.flight import make_flight_server

    authenticate = app._token_valid if app.state.token is not None else None
    try:
        return make_flight_server(app.engine, host=host, port=port, authenticate=authenticate)
    except OSError as exc:
        raise ConfigError(f"{exc}; pick another --flight-port") from None


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``0``: a free port); OSError if taken."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 8181,
    token: str | None = None,
    profile: str = "v3_core",
    databases: Iterable[str] = (),
    *,
    flight_port: int | None = None,
    announce: Callable[[str], None] | None = None,
    org: str | None = None,
) -> None:
    """Serve the local engine on ``host:port`` until interrupted (Ctrl-C).

    ``announce`` is called with the server's URL once it listens (the port that ``0``
    picked, too); the command line prints it.

    With ``flight_port``, Arrow Flight is served on ``host:flight_port`` too, started
    before HTTP and stopped after it.

    Raises:
        ConfigError: a non-loopback ``host`` without ``token``, an unknown profile, or a
            Flight port that cannot be listened on.
        OSError: ``host:port`` cannot be listened on (taken, or not this machine's).
        MissingDependency: starlette / uvicorn are not installed (``influxkit[serve]``).
    """
    check_bind(host, token)
    uvicorn = require("uvicorn", "serve")
    sock = listen(host, port)  # first: a taken port fails before anything starts
    if announce is not None:
        announce(_url(host, sock.getsockname()[1]))
    app = build_app(token=token, profile=profile, databases=databases, org=org)
    flight_server = None
    try:
        if flight_port is not None:
            flight_server = start_flight(app, host, flight_port)
            logger.info("Arrow Flight on %s", flight_server.location)
        config = uvicorn.Config(
            app.asgi, host=host, port=port, log_level="info", server_header=False, lifespan="on"
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if flight_server is not None:
            from influxkit.server.flight import stop_flight_server

            stop_flight_server(flight_server)
        app.engine.close()


class ServerThread:
    """``influxkit serve`` on a background thread (for tests): start, use :attr:`url`, stop.

    Args:
        host: the address to listen on (loopback unless ``token`` is set).
        port: the port; ``0`` picks a free one (read it back from :attr:`port`).
        token: the token clients must send; ``None`` serves without authentication.
        profile: the engine's profile (``v3_core`` ...).
        databases: databases created before the first request.
        flight_port: also serve Arrow Flight on this port of ``host`` (``0``: a free
            one); ``None`` (the default) serves no Flight.
        org: the organization of the ``v2`` profile (``None``: the first request that
            names one names it).

    Attributes:
        url: ``http://host:port``, set once started.
        flight_url: ``grpc+tcp://host:flight_port`` once started, if Flight is served.
        flight_port: the Flight port (the one picked, once started), or ``None``.
        engine: the :class:`~influxkit.clients.local.LocalClient` behind the server.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        profile: str = "v3_core",
        databases: Iterable[str] = (),
        flight_port: int | None = None,
        org: str | None = None,
    ) -> None:
        check_bind(host, token)
        self.host, self.token = host, token
        self.app = build_app(token=token, profile=profile, databases=databases, org=org)
        self.engine = self.app.engine
        self.port = port
        self.url = ""
        self.flight_port = flight_port
        self.flight_url: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._flight: Any = None
        self._flight_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"<ServerThread {self.url or self.host} {state}>"

    def start(self, timeout: float = 10.0) -> ServerThread:
        """Bind, start uvicorn on a thread and wait until ``/health`` answers; returns self."""
        if self._thread is not None:
            return self
        uvicorn = require("uvicorn", "serve")
        sock = listen(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.url = _url(self.host, self.port)
        config = uvicorn.Config(
            self.app.asgi,
            log_config=None,  # leave the host application's logging alone
            log_level="warning",
            access_log=False,
            server_header=False,
            lifespan="on",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"influxkit-serve-{self.port}",
            daemon=True,
        )
        self._thread.start()
        try:
            self._wait_ready(timeout)
            if self.flight_port is not None:
                self._start_flight()
        except BaseException:
            self.stop()
            sock.close()
            raise
        return self

    def _start_flight(self) -> None:
        # pyarrow's server listens from its creation; a named thread waits on it, so that
        # a server left running shows among the threads (the test suites look for them).
        assert self.flight_port is not None
        self._flight = start_flight(self.app, self.host, self.flight_port)
        self.flight_port = self._flight.port
        self.flight_url = self._flight.location
        self._flight_thread = threading.Thread(
            target=self._flight.wait,
            name=f"influxkit-serve-flight-{self.flight_port}",
            daemon=True,
        )
        self._flight_thread.start()

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, headers=headers, timeout=1.0) as client:
            while True:
                assert self._thread is not None
                if not self._thread.is_alive():
                    raise RuntimeError(f"influxkit serve on {self.url} exited while starting")
                if self._server.started:
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get("/health").status_code == 200:
                            return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"influxkit serve on {self.url} did not answer /health")
                time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, finish the requests in flight, and join the threads.

        Flight stops first, then HTTP.  Flight calls in progress get ``timeout / 2``
        seconds to end, then are cut (``UNAVAILABLE``) at their next batch
        (:func:`~influxkit.server.flight.stop_flight_server`).
        """
        thread, self._thread = self._thread, None
        if thread is None:
            return
        flight_server, self._flight = self._flight, None
        if flight_server is not None:
            from influxkit.server.flight import stop_flight_server

            if stop_flight_server(flight_server, timeout / 2) and self._flight_thread:
                self._flight_thread.join(timeout)
            self._flight_thread = None
        self._server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            self._server.force_exit = True
            thread.join(timeout)
        self.engine.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running_server(
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    profile: str = "v3_core",
    databases: Iterable[str] = (),
    *,
    flight_port: int | None = None,
    org: str | None = None,
) -> Iterator[ServerThread]:
    """A started :class:`ServerThread`, stopped when the block ends.

    ``flight_port`` (``0``: a free port) serves Arrow Flight too; see :class:`ServerThread`.

    Example:
        >>> import httpx
        >>> with running_server(databases=["db"]) as server:
        ...     httpx.get(f"{server.url}/health").text
        'OK'
    """
    server = ServerThread(
        host,
        port,
        token=token,
        profile=profile,
        databases=databases,
        flight_port=flight_port,
        org=org,
    )
    with server:
        yield server

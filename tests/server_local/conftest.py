"""Fixtures for ``influxkit serve`` tests: servers on free loopback ports, raw httpx clients.

Every server is started by :func:`influxkit.server.running_server` and stopped by its
fixture; each test gets its own server, so no test sees another's data.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from influxkit.server import ServerThread, running_server

TOKEN = "apiv3_test-token"


def _server_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("influxkit-serve-")]


@pytest.fixture(autouse=True, scope="module")
def _no_server_left_running() -> Iterator[None]:
    """Fail the module if a server it started is still running when it ends."""
    before = set(_server_threads())
    yield
    left = set(_server_threads()) - before
    assert not left, f"servers left running: {sorted(left)}"


@pytest.fixture
def server() -> Iterator[ServerThread]:
    """A server without authentication, with database ``db``."""
    with running_server(databases=["db"]) as srv:
        yield srv


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    """A raw HTTP client for ``server``."""
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture
def auth_server() -> Iterator[ServerThread]:
    """A server that requires :data:`TOKEN`, with database ``db``."""
    with running_server(token=TOKEN, databases=["db"]) as srv:
        yield srv


@pytest.fixture
def anon(auth_server: ServerThread) -> Iterator[httpx.Client]:
    """A client of ``auth_server`` that sends no token."""
    with httpx.Client(base_url=auth_server.url, timeout=30) as c:
        yield c


@pytest.fixture
def authed(auth_server: ServerThread) -> Iterator[httpx.Client]:
    """A client of ``auth_server`` that sends ``Authorization: Bearer <TOKEN>``."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=auth_server.url, headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def token() -> str:
    """The token ``auth_server`` requires."""
    return TOKEN

"""Fixtures of the command-line tests: the click group, a runner, ``influxkit serve``.

Each test gets its own server (stopped when it ends), so no test sees another's
points and the InfluxDB 3 Core limit of five databases is never reached. The real
InfluxDB 1.x is the session-wide ``influxdb1`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner, Result

from influxkit.cli import build
from influxkit.config_sources import ENV_VARS
from influxkit.server import ServerThread, running_server

_names = itertools.count()

# Variables a developer's shell may set that would change what a command connects to.
CLEAN_ENV = (*ENV_VARS, "INFLUXKIT_CLIENT", "INFLUXKIT_CONFIG", "INFLUXKIT_CONNECTION")

Invoke = Callable[..., Result]


@pytest.fixture(scope="session")
def cli():
    """The ``influxkit`` click group."""
    return build()


@pytest.fixture
def invoke(cli, monkeypatch) -> Invoke:
    """Run ``influxkit ARGS...`` in-process; ``input=`` is stdin. Returns click's Result."""
    for var in CLEAN_ENV:
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None, env: dict | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def server() -> Iterator[ServerThread]:
    """``influxkit serve`` without authentication, with database ``db``."""
    with running_server(databases=["db"]) as srv:
        yield srv


@pytest.fixture
def db() -> str:
    """A database name no other test uses (InfluxDB 3 creates it on the first write)."""
    return f"cli{next(_names)}"


@pytest.fixture
def target(server: ServerThread, db: str) -> list[str]:
    """``--url URL -d DB`` for ``server`` and this test's database."""
    return ["--url", server.url, "-d", db]

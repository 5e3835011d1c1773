"""One contract suite, many backends: the same tests run against every one of them.

Backends and what each can do (a test names what it needs with ``@pytest.mark.needs``
and runs on every backend that has it):

- ``local``: the local engine in-process (profile v3_core);
- ``serve``: the HTTP client against ``influxkit serve`` on a free loopback port;
- ``influxdb1``: the HTTP client against a real InfluxDB 1.x (Debian's ``influxd``),
  for the v1 subset; without ``influxd`` this fails in CI and skips elsewhere;
- ``influxdb3``: any real InfluxDB 3 given by ``INFLUXKIT_TEST_V3_URL`` and
  ``INFLUXKIT_TEST_V3_TOKEN``; left out when those are unset, and the run says so;
- ``local_v2``: the local engine with profile v2 (InfluxDB 2.x);
- ``serve_v2``: the HTTP client (``api_version="v2"``) against ``influxkit serve
  --profile v2``.

The v2 backends are opt-in: they run only the tests that name a capability they
have (such as ``admin_v2``), since the suite's unmarked tests are about v3 and 1.x.

Each backend is tried through both APIs: the sync :class:`influxkit.Connection`
(test ids ``[local]``, ``[serve]``...) and the asyncio one (``[local-aio]``...), an
:class:`influxkit.aio.AsyncConnection` behind
:class:`~influxkit.aio.blocking.BlockingConnection`, which offers the same methods as
blocking calls. The tests are the same; only the connection under them differs.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import influxkit
import influxkit.aio
from influxkit.aio.blocking import BlockingConnection

V3 = frozenset({"sql", "v3_writes", "uint", "auto_create", "admin_v3", "health"})
V1 = frozenset({"influxql", "v1_writes", "admin_v1", "health"})
V2 = frozenset({"admin_v2", "health"})
CAPABILITIES: dict[str, frozenset[str]] = {
    "local": V3,
    "serve": V3,
    "influxdb1": V1,
    "influxdb3": V3,
    "local_v2": V2,
    "serve_v2": V2,
}
# Backends chosen only by a test that names what it needs (see the module text).
OPT_IN = frozenset({"local_v2", "serve_v2"})
V2_ORG = "contract"  # the v2 backends' organization (their connections' org)
# "sync": influxkit.Connection; "aio": influxkit.aio.AsyncConnection, driven blocking.
APIS = ("sync", "aio")
V3_URL = os.environ.get("INFLUXKIT_TEST_V3_URL")
V3_TOKEN = os.environ.get("INFLUXKIT_TEST_V3_TOKEN")


def _backends() -> list[str]:
    names = ["local", "serve", "influxdb1", "local_v2", "serve_v2"]
    if V3_URL and V3_TOKEN:
        names.append("influxdb3")
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*capabilities): backend capabilities a test needs")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    needs: set[str] = set()
    for mark in metafunc.definition.iter_markers("needs"):
        needs.update(mark.args)
    chosen = [b for b in _backends() if needs <= CAPABILITIES[b] and (needs or b not in OPT_IN)]
    params = [
        pytest.param((b, api), id=b if api == "sync" else f"{b}-{api}")
        for b in chosen
        for api in APIS
    ]
    metafunc.parametrize("backend", params, indirect=True)


@dataclass
class Backend:
    """A backend as the tests see it: its name, capabilities and a fresh connection.

    ``conn`` has the methods of :class:`influxkit.Connection` whichever API is under it.
    """

    name: str
    conn: influxkit.Connection | BlockingConnection
    database: str
    api: str = "sync"

    def has(self, capability: str) -> bool:
        return capability in CAPABILITIES[self.name]

    def read(self, measurement: str) -> list[dict]:
        """Every row of ``measurement`` in time order, without the measurement column."""
        if self.has("sql"):
            return self.conn.query_sql(f'SELECT * FROM "{measurement}" ORDER BY time')
        rows = self.conn.query_influxql(f'SELECT * FROM "{measurement}"')
        for row in rows:
            row.pop("iox::measurement", None)
        return rows


_counter = itertools.count()


def _fresh_db() -> str:
    return f"c{next(_counter)}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def _serve():
    from influxkit.server import running_server

    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def _serve_v2():
    from influxkit.server import running_server

    with running_server(profile="v2") as server:
        yield server


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    name, api = request.param
    db = _fresh_db()
    url: str | None
    if name == "local":
        url, options = None, {"client": "local"}
    elif name == "serve":
        url, options = request.getfixturevalue("_serve").url, {}
    elif name == "influxdb1":
        url, options = request.getfixturevalue("influxdb1").url, {"api_version": "v1"}
    elif name == "local_v2":
        url, options = None, {"client": "local", "profile": "v2", "org": V2_ORG}
    elif name == "serve_v2":
        url, options = (
            request.getfixturevalue("_serve_v2").url,
            {"api_version": "v2", "org": V2_ORG},
        )
    else:
        url, options = V3_URL, {"token": V3_TOKEN}
    conn: influxkit.Connection | BlockingConnection
    if api == "sync":
        conn = influxkit.connect(url, database=db, **options)
    else:
        conn = BlockingConnection(influxkit.aio.connect(url, database=db, **options))
    if name == "influxdb1":
        conn.create_database(db)
    if name == "serve_v2":
        conn.create_bucket(db)
    try:
        yield Backend(name, conn, db, api)
    finally:
        try:
            if name == "serve_v2":
                if db in conn.list_buckets():
                    conn.delete_bucket(db)
            elif name not in ("local", "local_v2") and db in conn.list_databases():
                conn.delete_database(db)
        finally:
            conn.close()

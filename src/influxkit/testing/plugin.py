"""influxkit's pytest plugin: local InfluxDB connections and a local server as fixtures.

Registered through the ``pytest11`` entry point, so installing influxkit is enough:

- ``influx_local``: a fresh, isolated local-engine connection per test, closed after it;
- ``influx_registry``: local connections registered under the names the code under
  test uses (``influxkit.write("trading", ...)``), removed after the test;
- ``influx_server``: one ``influxkit serve`` per session (per xdist worker) on a free
  loopback port, with Arrow Flight on a second one, for code that uses another
  InfluxDB client;
- ``influx_server_database``: a fresh database on that server for one test.

``@pytest.mark.influx(...)`` configures the function-scoped fixtures.  The plugin
imports nothing heavy and does nothing until a test asks for one of its fixtures; it
never reads or changes the environment (``INFLUXKIT_CLIENT`` included).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from influxkit.connection import Connection
    from influxkit.server import ServerThread

__all__ = [
    "MARKER_HELP",
    "InfluxSettings",
    "LocalSpec",
    "influx_local",
    "influx_registry",
    "influx_server",
    "influx_server_database",
    "parse_marker",
]

MARKER_HELP = (
    "influx(profile='v3_core', databases=[...], database=None, connections=[...], "
    "shared=False, replace=False, options={}): configure influxkit's influx_local and "
    "influx_registry fixtures (local-engine profile, databases that exist from the start, "
    "the default database, the names to register, connection options)"
)

_MARKER_KEYS = ["profile", "databases", "database", "connections", "shared", "replace", "options"]
# What a per-name entry of ``connections={name: {...}}`` may override.
_PER_CONNECTION_KEYS = ["profile", "databases", "database", "options"]
# Connection options the marker sets itself, or that would leave the local engine.
_RESERVED_OPTIONS = ["client", "profile", "databases", "database", "name", "config", "url"]
_DEFAULT_DATABASE = "test"

_db_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``influx`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line("markers", MARKER_HELP)


# -- the marker --------------------------------------------------------------------


@dataclass(frozen=True)
class LocalSpec:
    """How to open one local connection: profile, databases, default database, options."""

    profile: str = "v3_core"
    databases: tuple[str, ...] = ()
    database: str = _DEFAULT_DATABASE
    options: Mapping[str, Any] = field(default_factory=dict)

    def connect(self, name: str | None = None) -> Connection:
        """A new, isolated local-engine connection (registered nowhere)."""
        import influxkit

        named = {"name": name} if name is not None else {}
        return influxkit.connect(
            client="local",
            profile=self.profile,
            databases=list(self.databases),
            database=self.database,
            **named,
            **self.options,
        )


@dataclass(frozen=True)
class InfluxSettings:
    """The ``influx`` marker of one test, validated, with every default filled in.

    Attributes:
        local: how ``influx_local`` opens its connection.
        connections: name -> how ``influx_registry`` opens the connection for it.
        shared: one connection (one engine) registered under every name.
        replace: shadow names registered before the test, restore them after.
    """

    local: LocalSpec
    connections: dict[str, LocalSpec]
    shared: bool = False
    replace: bool = False


def _fail(message: str) -> NoReturn:
    pytest.fail(f"@pytest.mark.influx: {message}", pytrace=False)


def _check_keys(given: Mapping[str, Any], known: list[str], where: str) -> None:
    from influxkit.config import _suggest

    for key in given:
        if key not in known:
            _fail(f"unknown {where} {key!r}{_suggest(key, known)}")


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        _fail(f"{what} must be a list of strings, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item:
            _fail(f"{what} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _spec(raw: Mapping[str, Any], base: LocalSpec | None = None, where: str = "") -> LocalSpec:
    from influxkit.clients.profiles import PROFILES
    from influxkit.config import _suggest

    base = base or LocalSpec()
    profile = raw.get("profile", base.profile)
    if profile not in PROFILES:
        _fail(f"{where}unknown profile {profile!r}{_suggest(str(profile), list(PROFILES))}")
    databases = base.databases
    if "databases" in raw:
        databases = _str_list(raw["databases"], f"{where}databases")
    if "database" in raw:
        database = raw["database"]
        if not isinstance(database, str) or not database:
            _fail(f"{where}database must be a non-empty string, got {database!r}")
    elif "databases" in raw:
        database = databases[0] if databases else _DEFAULT_DATABASE
    else:
        database = base.database
    options = dict(base.options)
    if "options" in raw:
        given = raw["options"]
        if not isinstance(given, Mapping):
            _fail(f"{where}options must be a dict of connection options, got {given!r}")
        for key in given:
            if key in _RESERVED_OPTIONS:
                hint = (
                    f"pass {key}= to the marker itself"
                    if key in _MARKER_KEYS
                    else "the fixtures always open local connections"
                )
                _fail(f"{where}options may not set {key!r}: {hint}")
        options.update(given)
    return LocalSpec(profile, databases, database, options)


def parse_marker(node: pytest.Item) -> InfluxSettings:
    """The merged ``influx`` markers of ``node`` (the closest one wins, key by key)."""
    merged: dict[str, Any] = {}
    for mark in node.iter_markers("influx"):
        if mark.args:
            _fail(f"takes keyword arguments only, got {mark.args!r}")
        _check_keys(mark.kwargs, _MARKER_KEYS, "option")
        for key, value in mark.kwargs.items():
            merged.setdefault(key, value)
    local = _spec(merged)
    shared = merged.get("shared", False)
    replace = merged.get("replace", False)
    for key, value in (("shared", shared), ("replace", replace)):
        if not isinstance(value, bool):
            _fail(f"{key} must be True or False, got {value!r}")
    raw = merged.get("connections", ())
    connections: dict[str, LocalSpec] = {}
    if isinstance(raw, Mapping):
        for name, given in raw.items():
            if not isinstance(name, str) or not name:
                _fail(f"connection names must be non-empty strings, got {name!r}")
            overrides = {} if given is None else given
            if not isinstance(overrides, Mapping):
                _fail(f"connections[{name!r}] must be a dict of options, got {overrides!r}")
            if overrides and shared:
                _fail("shared=True opens one connection for every name: per-name options clash")
            _check_keys(overrides, _PER_CONNECTION_KEYS, f"option of connections[{name!r}]")
            connections[name] = _spec(overrides, local, f"connections[{name!r}]: ")
    else:
        names = _str_list(raw, "connections")
        if len(set(names)) != len(names):
            _fail(f"connections lists a name twice: {list(names)!r}")
        connections = dict.fromkeys(names, local)
    return InfluxSettings(local, connections, shared, replace)


# -- fixtures ----------------------------------------------------------------------


@pytest.fixture
def _influx_settings(request: pytest.FixtureRequest) -> InfluxSettings:
    """The test's ``@pytest.mark.influx`` settings, validated (defaults if unmarked)."""
    return parse_marker(request.node)


def _open(spec: LocalSpec, name: str | None, fixture: str) -> Connection:
    from influxkit.errors import InfluxError

    try:
        return spec.connect(name)
    except InfluxError as exc:
        error = str(exc)  # failed outside the except block: no chained traceback
    what = f"the connection {name!r}" if name else "the local connection"
    pytest.fail(f"{fixture}: could not open {what}: {error}", pytrace=False)


@pytest.fixture
def influx_local(_influx_settings: InfluxSettings) -> Iterator[Connection]:
    """A fresh local-engine connection of its own (no other test sees its data).

    Configured by ``@pytest.mark.influx(profile=..., databases=[...], database=...)``;
    not registered under any name; closed after the test.
    """
    conn = _open(_influx_settings.local, None, "influx_local")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def influx_registry(_influx_settings: InfluxSettings) -> Iterator[dict[str, Connection]]:
    """Local connections registered under ``@pytest.mark.influx(connections=[...])``.

    Code under test that calls ``influxkit.write("trading", ...)`` runs unchanged.
    Yields ``{name: Connection}``.  A name already registered before the test is an
    error unless ``replace=True``, which shadows it for the test and restores it (still
    open) afterwards.  Everything registered here is unregistered and closed after the
    test, pass or fail.
    """
    from influxkit import registry

    specs = _influx_settings.connections
    if not specs:
        pytest.fail(
            "influx_registry: name the connections to register, e.g. "
            '@pytest.mark.influx(connections=["trading"])',
            pytrace=False,
        )
    taken = [name for name in specs if registry.get(name) is not None]
    if taken and not _influx_settings.replace:
        pytest.fail(
            f"influx_registry: {', '.join(map(repr, taken))} already registered before the "
            "test (by the code under test or a fixture?); remove_connection() it first, or "
            "use @pytest.mark.influx(replace=True) to shadow it for the test and restore it "
            "afterwards",
            pytrace=False,
        )
    opened: dict[str, Connection] = {}
    shadowed: dict[str, Connection] = {}
    try:
        for name, spec in specs.items():
            if _influx_settings.shared and opened:
                conn = next(iter(opened.values()))
            else:
                conn = _open(spec, name, "influx_registry")
            opened[name] = conn
            if _influx_settings.replace:
                previous = registry.put(name, conn)
                if previous is not None:
                    shadowed[name] = previous
            elif not registry.put_new(name, conn):
                pytest.fail(f"influx_registry: {name!r} was registered meanwhile", pytrace=False)
        yield dict(opened)
    finally:
        _unregister(opened, shadowed)


def _unregister(opened: dict[str, Connection], shadowed: dict[str, Connection]) -> None:
    """Unregister what the fixture registered, restore what it shadowed, close its own."""
    from influxkit import registry

    first_error: BaseException | None = None
    for name, conn in opened.items():
        current = registry.get(name)
        if current is conn:
            registry.delete(name)
            current = None
        if current is None and name in shadowed:
            registry.put(name, shadowed[name])
    for conn in {id(c): c for c in opened.values()}.values():
        try:
            conn.close()
        except Exception as exc:  # close the others first
            first_error = first_error or exc
    if first_error is not None:
        raise first_error


@pytest.fixture(scope="session")
def influx_server() -> Iterator[ServerThread]:
    """``influxkit serve`` (profile ``v3_core``, no token) on a free loopback port.

    Arrow Flight is served too, on a free port of its own (``flight_port``,
    ``flight_url``): uvicorn has no HTTP/2, so Flight clients are told that port
    (``query_port_overwrite=`` for influxdb3-python, ``flight_port=`` for influxkit).
    One per session (per xdist worker); its data persists over the session, so give
    each test its own database (``influx_server_database``).  Attributes: ``url``,
    ``token`` (``None``), ``port``, ``flight_port``, ``flight_url``, ``engine``.  Needs
    ``influxkit[serve]``.
    """
    from influxkit._optional import require
    from influxkit.errors import MissingDependency

    missing = None
    try:
        require("starlette", "serve")
        require("uvicorn", "serve")
        require("pyarrow.flight", "serve")
    except MissingDependency as exc:
        missing = str(exc)
    if missing is not None:
        pytest.fail(f"influx_server needs `influxkit serve`: {missing}", pytrace=False)
    from influxkit.server import ServerThread

    server = ServerThread("127.0.0.1", 0, flight_port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def influx_server_database(influx_server: ServerThread) -> Iterator[str]:
    """The name of a database created on ``influx_server`` for this test, deleted after."""
    from influxkit.errors import DatabaseNotFound

    name = f"test{next(_db_counter)}_{uuid.uuid4().hex[:8]}"
    influx_server.engine.create_database(name)
    try:
        yield name
    finally:
        with contextlib.suppress(DatabaseNotFound):  # the test deleted it
            influx_server.engine.delete_database(name)

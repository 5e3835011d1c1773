"""The pytest plugin (``influxkit.testing.plugin``), run on pytester-made test files.

The plugin is loaded through its ``pytest11`` entry point (influxkit is installed), so
the test files here have no conftest and no ``pytest_plugins``.  Runs are in-process
(fast); the registry they use is this process's, which is why every test checks that
it is left as it was found.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import influxkit
from influxkit import registry

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="module")
def _imported_once() -> None:
    """Import what the inner runs use in this process first.

    pytester drops the modules an in-process run imported; datafusion's native module
    cannot be imported a second time in one process, and the others are faster kept.
    """
    import importlib

    for module in (
        "datafusion",
        "pyarrow",
        "hypothesis",  # its pytest plugin imports it at the end of every run
        "influxkit.clients.local.client",
        "influxkit.server.app",
        "influxkit.server.run",
        "uvicorn",
        "httpx",
        "influxdb_client",
        "influxdb_client_3",
    ):
        importlib.import_module(module)
    influxkit.connect(client="local").close()


def _server_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("influxkit-serve-")}


@pytest.fixture(autouse=True)
def _registry_and_servers_left_alone() -> Iterator[None]:
    """Every inner run unregisters what it registered and stops the servers it started."""
    names, servers = registry.names(), _server_threads()
    yield
    assert registry.names() == names
    assert _server_threads() == servers


def assert_line(result: pytest.RunResult, text: str) -> None:
    """Some line of the run's output contains ``text`` (no glob: messages have brackets)."""
    assert any(text in line for line in result.outlines), result.stdout.str()


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    """Write ``source`` as the only test file (no conftest) and run it in-process."""
    pytester.makepyfile(test_it=source)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error", *args)


# -- loading -----------------------------------------------------------------------


def test_loads_through_the_entry_point_without_a_conftest(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_it(influx_local, request):
            assert request.config.pluginmanager.hasplugin("influxkit")
            _ = influx_local.write("cpu,host=a usage=0.5 1700000000000000000")
            assert influx_local.query_sql("SELECT host, usage FROM cpu") == [
                {"host": "a", "usage": 0.5}
            ]
        """,
    )
    assert not list(pytester.path.rglob("conftest.py"))
    result.assert_outcomes(passed=1)


def test_markers_lists_the_influx_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.influx(profile='v3_core', databases=*"])
    assert result.ret == 0


def test_strict_markers_accept_it(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.influx(databases=["app"])
        def test_it():
            pass
        """,
        "--strict-markers",
    )
    result.assert_outcomes(passed=1)


def test_a_run_that_uses_no_fixture_sees_nothing_of_it(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_it():\n    pass\n", "-v")
    result.assert_outcomes(passed=1)
    # pytest's own header names the plugin's distribution; the plugin adds nothing else.
    extra = [
        line
        for line in result.outlines
        if "influx" in line.lower() and not line.startswith("plugins:")
    ]
    assert extra == []


# -- influx_local and the marker ---------------------------------------------------


def test_profile_and_databases_come_from_the_marker(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        import influxkit

        @pytest.mark.influx(profile="v1", databases=["app"])
        def test_v1_refuses_sql(influx_local):
            assert influx_local.profile.name == "v1"
            with pytest.raises(influxkit.UnsupportedOperation, match="query_sql"):
                influx_local.query_sql("SELECT 1")

        @pytest.mark.influx(profile="v3_core", databases=["app", "audit"])
        def test_v3_core_creates_the_databases(influx_local):
            assert influx_local.list_databases() == ["app", "audit"]
            assert influx_local.config.database == "app"

        @pytest.mark.influx(databases=["app"], database="main")
        def test_the_default_database_is_created_too(influx_local):
            assert influx_local.list_databases() == ["app", "main"]
            _ = influx_local.write("cpu v=1 1")
            assert influx_local.query_sql("SELECT v FROM cpu", database="main") == [{"v": 1.0}]

        def test_unmarked_is_v3_core_with_database_test(influx_local):
            assert influx_local.profile.name == "v3_core"
            assert influx_local.list_databases() == ["test"]
            assert influx_local.name is None
        """,
    )
    result.assert_outcomes(passed=4)


def test_each_test_gets_an_isolated_engine_closed_after_it(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        seen = []

        @pytest.mark.parametrize("host", ["a", "b", "c"])
        def test_write_one_point(influx_local, host):
            seen.append(influx_local)
            _ = influx_local.write(f"cpu,host={host} usage=1 1700000000000000000")
            assert influx_local.query_sql("SELECT host FROM cpu") == [{"host": host}]

        def test_all_three_were_separate_and_are_closed():
            assert len({id(conn) for conn in seen}) == 3
            assert all(conn.closed for conn in seen)
        """,
    )
    result.assert_outcomes(passed=4)


def test_module_marker_and_test_marker_merge(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        pytestmark = pytest.mark.influx(profile="v3_enterprise", databases=["app"])

        def test_module_settings(influx_local):
            assert influx_local.profile.name == "v3_enterprise"
            assert influx_local.list_databases() == ["app"]

        @pytest.mark.influx(databases=["other"])
        def test_closest_marker_wins_key_by_key(influx_local):
            assert influx_local.profile.name == "v3_enterprise"
            assert influx_local.list_databases() == ["other"]
        """,
    )
    result.assert_outcomes(passed=2)


def test_options_pass_through_to_the_connection(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.influx(options={"precision": "s", "batch": {"flush_interval": 60}})
        def test_it(influx_local):
            assert influx_local.config.batch.flush_interval == 60
            _ = influx_local.write("cpu v=1 1700000000")
            buffered = influx_local.query_sql(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'cpu'"
            )
            assert buffered == [{"n": 0}]
            influx_local.flush()
            rows = influx_local.query_sql("SELECT v, time FROM cpu")
            assert rows[0]["time"].year == 2023
        """,
    )
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ('databse=["x"]', "unknown option 'databse'; did you mean 'database'?"),
        ("connection=['x']", "unknown option 'connection'; did you mean 'connections'?"),
        ('"v1"', "takes keyword arguments only, got ('v1',)"),
        ('databases="app"', "databases must be a list of strings, got 'app'"),
        ('profile="v3core"', "unknown profile 'v3core'; did you mean 'v3_core'?"),
        (
            'options={"client": "http"}',
            "options may not set 'client': the fixtures always open local connections",
        ),
        (
            'options={"profile": "v1"}',
            "options may not set 'profile': pass profile= to the marker itself",
        ),
        ("shared=1", "shared must be True or False, got 1"),
        (
            'connections={"a": {"databse": "x"}}',
            "unknown option of connections['a'] 'databse'; did you mean 'database'?",
        ),
        ('connections=["a", "a"]', "connections lists a name twice: ['a', 'a']"),
    ],
)
def test_marker_mistakes_fail_the_setup_clearly(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    result = run(
        pytester,
        f"""
        import pytest

        @pytest.mark.influx({marker})
        def test_it(influx_local, influx_registry):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    assert_line(result, f"@pytest.mark.influx: {message}")


def test_engine_refusals_name_the_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.influx(options={"precision": "minutes"})
        def test_it(influx_local):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    assert_line(result, "influx_local: could not open the local connection: invalid precision=")


@pytest.mark.parametrize("value", ["local", "http", None])
def test_influxkit_client_variable_is_neither_needed_nor_changed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("INFLUXKIT_CLIENT", raising=False)
    else:
        monkeypatch.setenv("INFLUXKIT_CLIENT", value)
    result = run(
        pytester,
        f"""
        import os
        import pytest

        @pytest.mark.influx(connections=["app"])
        def test_it(influx_local, influx_registry):
            assert influx_local.config.client == "local"
            assert influx_registry["app"].config.client == "local"
            assert os.environ.get("INFLUXKIT_CLIENT") == {value!r}
        """,
    )
    result.assert_outcomes(passed=1)


# -- influx_registry ---------------------------------------------------------------

APP_CODE = """
import influxkit

def record_trade(symbol, price):
    # application code: it knows the connection by name only
    influxkit.write("trading", f"trade,symbol={symbol} price={price} 1700000000000000000")
"""


def test_registry_lets_app_code_write_by_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP_CODE)
    result = run(
        pytester,
        """
        import pytest
        import influxkit
        from app import record_trade

        kept = {}

        @pytest.mark.influx(connections=["trading", "metrics"], databases=["prices"])
        def test_record_trade(influx_registry):
            kept.update(influx_registry)
            record_trade("ACME", 12.5)
            assert influx_registry["trading"].query_sql("SELECT symbol, price FROM trade") == [
                {"symbol": "ACME", "price": 12.5}
            ]
            assert influxkit.registry.get("trading") is influx_registry["trading"]
            assert influx_registry["trading"].name == "trading"
            assert influx_registry["trading"].config.database == "prices"
            # each name is its own engine
            assert influx_registry["metrics"].query_sql(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'trade'"
            ) == [{"n": 0}]

        def test_they_are_gone_and_closed_afterwards():
            assert influxkit.registry.names() == []
            assert sorted(kept) == ["metrics", "trading"]
            assert all(conn.closed for conn in kept.values())
        """,
    )
    result.assert_outcomes(passed=2)


def test_registry_cleans_up_after_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP_CODE)
    result = run(
        pytester,
        """
        import pytest
        import influxkit
        from app import record_trade

        kept = []

        @pytest.mark.influx(connections=["trading"])
        def test_fails(influx_registry):
            kept.append(influx_registry["trading"])
            record_trade("ACME", 1)
            raise AssertionError("the test failed")

        def test_after_the_failure():
            assert influxkit.registry.names() == []
            assert kept[0].closed

        @pytest.mark.influx(connections=["trading"])
        def test_the_name_is_free_again(influx_registry):
            record_trade("ACME", 2)
            assert influx_registry["trading"].query_sql("SELECT price FROM trade") == [
                {"price": 2.0}
            ]
        """,
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the test failed"])


def test_registry_refuses_a_name_registered_before(pytester: pytest.Pytester) -> None:
    original = influxkit.add_connection("trading", client="local", database="real")
    try:
        result = run(
            pytester,
            """
            import pytest

            @pytest.mark.influx(connections=["other", "trading"])
            def test_it(influx_registry):
                pass
            """,
        )
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            ["influx_registry: 'trading' already registered before the test*replace=True*"]
        )
        assert registry.get("trading") is original
        assert not original.closed
        assert registry.get("other") is None
    finally:
        influxkit.remove_connection("trading")


def test_replace_shadows_a_registered_name_and_restores_it(pytester: pytest.Pytester) -> None:
    original = influxkit.add_connection("trading", client="local", database="real")
    try:
        result = run(
            pytester,
            """
            import pytest
            import influxkit

            @pytest.mark.influx(connections=["trading"], replace=True)
            def test_shadowed(influx_registry):
                conn = influxkit.registry.get("trading")
                assert conn is influx_registry["trading"]
                assert conn.config.database == "test"

            @pytest.mark.influx(connections=["trading"], replace=True)
            def test_removed_by_the_test(influx_registry):
                influxkit.remove_connection("trading")
            """,
        )
        result.assert_outcomes(passed=2)
        assert registry.get("trading") is original
        assert not original.closed
    finally:
        influxkit.remove_connection("trading")


def test_shared_and_per_name_settings(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest
        import influxkit

        @pytest.mark.influx(connections=["writer", "reader"], shared=True)
        def test_shared(influx_registry):
            assert influx_registry["writer"] is influx_registry["reader"]
            influxkit.write("writer", "cpu v=1 1")
            assert influxkit.query_sql("reader", "SELECT v FROM cpu") == [{"v": 1.0}]

        @pytest.mark.influx(
            profile="v3_enterprise",
            connections={"trading": {"databases": ["prices"]}, "legacy": {"profile": "v1"}},
        )
        def test_per_name(influx_registry):
            assert influx_registry["trading"].config.database == "prices"
            assert influx_registry["trading"].profile.name == "v3_enterprise"
            assert influx_registry["legacy"].profile.name == "v1"
            assert influx_registry["legacy"].config.database == "test"

        def test_none_left():
            assert influxkit.registry.names() == []
        """,
    )
    result.assert_outcomes(passed=3)


def test_registry_without_names_says_how(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_it(influx_registry):\n    pass\n")
    result.assert_outcomes(errors=1)
    assert_line(result, 'e.g. @pytest.mark.influx(connections=["trading"])')


# -- influx_server -----------------------------------------------------------------


def test_server_takes_the_official_clients(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx
        import influxkit

        urls, names = set(), []

        def sql(server, db, q):
            r = httpx.get(f"{server.url}/api/v3/query_sql", params={"db": db, "q": q})
            assert r.status_code == 200, r.text
            return r.json()

        def test_influxdb3_python(influx_server, influx_server_database):
            from influxdb_client_3 import InfluxDBClient3

            urls.add(influx_server.url)
            names.append(influx_server_database)
            assert influx_server.url.startswith("http://127.0.0.1:")
            assert influx_server.token is None
            with InfluxDBClient3(
                host=influx_server.url, token="unused", database=influx_server_database
            ) as client:
                client.write(record="cpu,host=a usage=1.5 1700000000000000000")
            assert sql(influx_server, influx_server_database, "SELECT host, usage FROM cpu") == [
                {"host": "a", "usage": 1.5}
            ]

        def test_influxdb_client_v2(influx_server, influx_server_database):
            from influxdb_client import InfluxDBClient
            from influxdb_client.client.write_api import SYNCHRONOUS

            urls.add(influx_server.url)
            names.append(influx_server_database)
            with InfluxDBClient(url=influx_server.url, token="unused", org="-") as client:
                with client.write_api(write_options=SYNCHRONOUS) as write_api:
                    write_api.write(bucket=influx_server_database, record="mem used=3i 1")
            with influxkit.connect(
                influx_server.url, client="http", database=influx_server_database
            ) as conn:
                assert conn.query_sql("SELECT used FROM mem") == [{"used": 3}]

        def test_one_server_fresh_databases(influx_server, influx_server_database):
            assert urls == {influx_server.url}
            assert len(set(names + [influx_server_database])) == 3
            databases = influx_server.engine.list_databases()
            assert influx_server_database in databases
            assert not set(names) & set(databases)   # deleted after their tests
            influx_server.engine.delete_database(influx_server_database)  # allowed
        """,
    )
    result.assert_outcomes(passed=3)


def test_server_answers_arrow_flight_on_its_flight_port(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import influxkit

        def test_influxdb3_python_queries_over_flight(influx_server, influx_server_database):
            from influxdb_client_3 import InfluxDBClient3

            assert influx_server.flight_port not in (None, 0, influx_server.port)
            assert influx_server.flight_url == f"grpc+tcp://127.0.0.1:{influx_server.flight_port}"
            with InfluxDBClient3(
                host=influx_server.url,
                token="unused",
                database=influx_server_database,
                query_port_overwrite=influx_server.flight_port,
            ) as client:
                client.write(record="cpu,host=a usage=1.5 1700000000000000000")
                table = client.query("SELECT host, usage FROM cpu")
            assert table.to_pylist() == [{"host": "a", "usage": 1.5}]

        def test_influxkit_over_flight(influx_server, influx_server_database):
            with influxkit.connect(
                influx_server.url,
                client="http",
                database=influx_server_database,
                transport="flight",
                flight_port=influx_server.flight_port,
            ) as conn:
                conn.write("mem used=3i 1")
                table = conn.query_sql("SELECT used FROM mem", format="arrow")
            assert table.to_pylist() == [{"used": 3}]
        """,
    )
    result.assert_outcomes(passed=2)


def test_server_without_the_serve_extra_names_it(pytester: pytest.Pytester) -> None:
    # In-process: pytester restores sys.modules after the run.
    result = run(
        pytester,
        """
        import sys

        sys.modules["uvicorn"] = None  # as if not installed

        def test_it(influx_server):
            pass
        """,
    )
    result.assert_outcomes(errors=1)
    assert_line(result, "influx_server needs `influxkit serve`: uvicorn is needed")
    assert_line(result, "run `pip install 'influxkit[serve]'`")
    assert "None in sys.modules" not in result.stdout.str()  # no chained traceback


def test_server_is_stopped_at_session_end_in_a_subprocess(pytester: pytest.Pytester) -> None:
    # A separate process, as an xdist worker is: its own server, port and engine.
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        pytester.makepyfile(
            test_it="""
            import threading
            import pytest

            @pytest.fixture(scope="session", autouse=True)
            def check_stopped(request):
                yield
                # influx_server was set up after this fixture, so it is torn down first.
                left = [t for t in threading.enumerate() if t.name.startswith("influxkit-serve")]
                assert left == []
                print("SERVER-STOPPED")

            def test_it(check_stopped, influx_server):
                assert any(t.name.startswith("influxkit-serve") for t in threading.enumerate())
            """
        ),
        "-s",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*SERVER-STOPPED*"])


def test_works_under_pytest_xdist_with_nothing_shared(pytester: pytest.Pytester) -> None:
    # Two workers, each with its own engines and its own influx_server (a free port each).
    pytester.makepyfile(
        test_a="""
        import influxkit, pytest

        @pytest.mark.parametrize("n", range(4))
        def test_local(influx_local, n):
            influx_local.write(f"cpu v={n}i 1")
            assert influx_local.query_sql("SELECT v FROM cpu") == [{"v": n}]

        @pytest.mark.influx(connections=["trading"])
        @pytest.mark.parametrize("n", range(4))
        def test_registry(influx_registry, n):
            influxkit.write("trading", f"cpu v={n}i 1")
            assert influxkit.query_sql("trading", "SELECT count(*) AS c FROM cpu") == [{"c": 1}]

        @pytest.mark.parametrize("n", range(4))
        def test_server(influx_server, influx_server_database, n):
            with influxkit.connect(influx_server.url, database=influx_server_database,
                                   client="http") as conn:
                conn.write(f"cpu v={n}i 1")
                assert conn.query_sql("SELECT v FROM cpu") == [{"v": n}]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=12)
    result.stdout.re_match_lines([r".*2 workers.*"])

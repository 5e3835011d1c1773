"""Starting and stopping: running_server, ServerThread, serve() guards, the command line."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from influxkit.errors import ConfigError
from influxkit.server import ServerThread, running_server, serve


def test_running_server_picks_a_free_port_and_stops() -> None:
    with running_server() as srv:
        assert srv.port > 0
        assert srv.url == f"http://127.0.0.1:{srv.port}"
        assert httpx.get(f"{srv.url}/health").text == "OK"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{srv.url}/health")
    srv.stop()  # a second stop is harmless


def test_server_thread_on_a_given_port_with_databases() -> None:
    with running_server() as probe:
        port = probe.port  # free again once probe stops
    thread = ServerThread(port=port, databases=["a", "b"])
    try:
        thread.start()
        assert thread.port == port
        r = httpx.get(f"{thread.url}/api/v3/configure/database", params={"format": "json"})
        assert [d["iox::database"] for d in r.json()] == ["_internal", "a", "b"]
        assert thread.engine.list_databases() == ["a", "b"]
    finally:
        thread.stop()


def test_ipv6_loopback() -> None:
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        srv = ServerThread("::1")
        srv.start()
    except OSError as exc:
        pytest.skip(f"cannot bind ::1: {exc}")
    try:
        assert srv.url.startswith("http://[::1]:")
        assert httpx.get(f"{srv.url}/health").text == "OK"
    finally:
        srv.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_non_loopback_needs_a_token(host: str) -> None:
    with pytest.raises(ConfigError, match="without a token"):
        ServerThread(host)
    with pytest.raises(ConfigError, match="without a token"):
        serve(host=host, port=0)


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'v9'"):
        ServerThread(profile="v9")
    with pytest.raises(ConfigError, match="token is empty"):
        ServerThread(token="")


def test_token_server_is_ready_with_its_token() -> None:
    with running_server(token="s3cret") as srv:
        assert httpx.get(f"{srv.url}/health").status_code == 401
        ok = httpx.get(f"{srv.url}/health", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert "s3cret" not in repr(srv)


def test_cli_help_and_add_serve_command() -> None:
    import click
    from click.testing import CliRunner

    from influxkit.server.cli import add_serve_command

    @click.group()
    def group() -> None:
        pass

    add_serve_command(group)
    result = CliRunner().invoke(group, ["serve", "--help"])
    assert result.exit_code == 0
    for text in ("--host", "--port", "--token", "--profile", "--database", "INFLUXKIT_SERVE_TOKEN",
                 "influxkit serve --port 8282"):  # fmt: skip
        assert text in result.output


def test_cli_refuses_a_public_host_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from influxkit.server.cli import serve_command

    monkeypatch.delenv("INFLUXKIT_SERVE_TOKEN", raising=False)
    result = CliRunner().invoke(serve_command(), ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "without a token" in result.output


def test_cli_exit_codes_for_a_bad_port_and_a_taken_one() -> None:
    from click.testing import CliRunner

    from influxkit.server.cli import serve_command

    result = CliRunner().invoke(serve_command(), ["--port", "99999"])
    assert result.exit_code == 2  # usage: no such port
    assert "99999" in result.output and "Traceback" not in result.output
    with running_server() as srv:  # holds its port
        result = CliRunner().invoke(serve_command(), ["--port", str(srv.port)])
    assert result.exit_code == 1  # a failure, said plainly
    assert f"cannot listen on 127.0.0.1:{srv.port}" in result.output
    assert "pick another --port" in result.output


def test_python_dash_m_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "influxkit.server", "--help"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "Serve an in-memory InfluxDB 3" in out.stdout


@pytest.mark.parametrize(
    "module", ["influxkit.server.app", "influxkit.server.formats", "influxkit.server.run"]
)
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0

"""Running Flight next to HTTP: ServerThread / running_server(flight_port=), the command
line's ``--flight-port``, stopping with calls in progress, and grpc+tls for the client."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from influxkit.clients.flight import FlightQueryClient
from influxkit.config import ConnectionConfig
from influxkit.errors import ConfigError, InfluxError, TransportError
from influxkit.server import ServerThread, running_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _flight_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("influxkit-serve-flight")]


def _client(host: str, port: int, **options: object) -> FlightQueryClient:
    return FlightQueryClient(
        ConnectionConfig.from_options(host=host, port=1, flight_port=port, **options)
    )


def _fill(server: ServerThread, rows: int) -> None:
    """``rows`` rows of about 400 bytes: far more than gRPC buffers, so a stream waits."""
    pad = "x" * 400
    lines = "\n".join(
        f'big,host=h{i % 3} v={i}i,pad="{pad}" {1700000000000000000 + i}' for i in range(rows)
    )
    server.engine.write(
        lines.encode(), database="db", precision="ns", accept_partial=True, no_sync=False
    )


def test_flight_is_off_unless_asked_for() -> None:
    with running_server() as srv:
        assert srv.flight_port is None
        assert srv.flight_url is None
        assert _flight_threads() == []


def test_a_free_flight_port_serves_and_stops() -> None:
    with running_server(databases=["db"], flight_port=0) as srv:
        port = srv.flight_port
        assert port and port != srv.port
        assert srv.flight_url == f"grpc+tcp://127.0.0.1:{port}"
        assert _flight_threads() == [f"influxkit-serve-flight-{port}"]
        with _client(srv.host, port) as client:
            assert client.query("SELECT 1 AS one", database="db").to_pylist() == [{"one": 1}]
    assert _flight_threads() == []
    with _client("127.0.0.1", port) as client, pytest.raises(TransportError):
        client.query("SELECT 1", database="db")


def test_a_given_flight_port() -> None:
    port = _free_port()
    with running_server(databases=["db"], flight_port=port) as srv:
        assert srv.flight_port == port
        with _client(srv.host, port) as client:
            assert client.query("SELECT 2 AS two", database="db").to_pylist() == [{"two": 2}]


def test_a_taken_flight_port_is_a_config_error_and_nothing_is_left_running() -> None:
    # Other servers may run for the whole session (the contract suite's): count ours only.
    before = {t for t in threading.enumerate() if t.name.startswith("influxkit-serve-")}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = ServerThread(flight_port=port)
        with pytest.raises(ConfigError, match=f"cannot serve Arrow Flight on 127.0.0.1:{port}"):
            server.start()
    after = {t for t in threading.enumerate() if t.name.startswith("influxkit-serve-")}
    assert after - before == set()


def test_the_token_rule_of_http_applies() -> None:
    with pytest.raises(ConfigError, match="without a token"):
        ServerThread("0.0.0.0", flight_port=0)


def test_ipv6_loopback_flight() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        srv = ServerThread("::1", databases=["db"], flight_port=0).start()
    except (OSError, ConfigError) as exc:
        pytest.skip(f"cannot listen on ::1: {exc}")
    try:
        assert srv.flight_url == f"grpc+tcp://[::1]:{srv.flight_port}"
        assert srv.flight_port is not None
        with _client("::1", srv.flight_port) as client:
            assert client.query("SELECT 3 AS n", database="db").to_pylist() == [{"n": 3}]
    finally:
        srv.stop()


def test_stop_ends_a_stream_whose_client_reads_slowly() -> None:
    srv = ServerThread(databases=["db"], flight_port=0).start()
    _fill(srv, 100_000)
    assert srv.flight_port is not None
    client = _client(srv.host, srv.flight_port)
    stream = client.stream("SELECT * FROM big", database="db")
    first = next(stream)
    stopper = threading.Thread(target=srv.stop, kwargs={"timeout": 1.0})
    started = time.monotonic()
    stopper.start()
    rows = first.num_rows
    with pytest.raises(TransportError, match="shutting down"):
        for batch in stream:  # 26 pieces of ~1.6 MB: longer than the stop's grace
            rows += batch.num_rows
            time.sleep(0.1)
    stopper.join(10)
    assert not stopper.is_alive()
    assert time.monotonic() - started < 5
    assert 0 < rows < 100_000
    client.close()
    assert _flight_threads() == []


def test_stop_does_not_hang_on_a_stream_held_open(caplog: pytest.LogCaptureFixture) -> None:
    srv = ServerThread(databases=["db"], flight_port=0).start()
    _fill(srv, 100_000)
    assert srv.flight_port is not None
    client = _client(srv.host, srv.flight_port)
    stream = client.stream("SELECT * FROM big", database="db")
    next(stream)  # then neither read nor closed
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="influxkit.server"):
        srv.stop(timeout=1.0)
    assert time.monotonic() - started < 5
    assert "neither reads nor closes" in caplog.text
    stream.close()  # the client lets go: the shutdown finishes on its own thread
    client.close()
    deadline = time.monotonic() + 10
    while _flight_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _flight_threads() == []


def test_cli_flight_port(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from influxkit.server.cli import serve_command

    help_text = CliRunner().invoke(serve_command(), ["--help"]).output
    assert "--flight-port" in help_text
    assert "query_port_overwrite" in help_text

    http_port, flight_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "influxkit.server", "--port", str(http_port),
               "--flight-port", str(flight_port), "--database", "db"]  # fmt: skip
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        with _client("127.0.0.1", flight_port) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    assert client.query("SELECT 4 AS n", database="db").to_pylist() == [{"n": 4}]
                    break
                except InfluxError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
        proc.send_signal(signal.SIGINT)  # as Ctrl-C: uvicorn stops, then Flight
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert f"Arrow Flight on grpc+tcp://127.0.0.1:{flight_port}" in output
    assert "Finished server process" in output
    with _client("127.0.0.1", flight_port) as client, pytest.raises(TransportError):
        client.query("SELECT 1", database="db")


def test_grpc_tls_with_a_ca_file_or_without_verification(tmp_path: Path) -> None:
    import trustme

    from influxkit.clients.local import LocalClient
    from influxkit.clients.profiles import get_profile
    from influxkit.server.flight import make_flight_server, stop_flight_server

    ca, other = trustme.CA(), trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    other.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    engine = LocalClient(get_profile("v3_core"), databases=["db"])
    pems = [(cert.cert_chain_pems[0].bytes(), cert.private_key_pem.bytes())]
    server = make_flight_server(engine, tls_certificates=pems)
    try:
        assert server.location == f"grpc+tls://127.0.0.1:{server.port}"
        for options in ({"ca_file": str(tmp_path / "ca.pem")}, {"verify_ssl": False}):
            with _client("127.0.0.1", server.port, scheme="https", **options) as client:
                assert client.location.startswith("grpc+tls://")
                assert client.query("SELECT 5 AS n", database="db").to_pylist() == [{"n": 5}]
        for options in ({"ca_file": str(tmp_path / "other.pem")}, {}):
            with _client("127.0.0.1", server.port, scheme="https", **options) as client:
                with pytest.raises(TransportError, match="ca_file") as caught:
                    client.query("SELECT 1", database="db")
                assert caught.value.retryable is False
    finally:
        assert stop_flight_server(server)

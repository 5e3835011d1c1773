"""A 200 answer that is not what was asked for (a proxy's login page, a broken body) is an
influxkit error that says so, never a raw decoder exception.

The stand-in answers ``/ping`` as InfluxDB 3 Core does, so the connection takes it for
one, and everything else with the body a test sets: the situation of a reverse proxy that
lets health checks through but serves its own page elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import influxkit

PING = b'{"product_name":"InfluxDB 3 Core","version":"3.8.0","revision":"abc","process_id":"x"}'


class StandIn(ThreadingHTTPServer):
    answer: tuple[str, bytes] = ("text/html", b"<html>please log in</html>")


class Handler(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path.startswith("/ping") or self.path.startswith("/health"):
            kind, body = "application/json", PING
        else:
            kind, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("x-influxdb-build", "Core")
        self.send_header("x-influxdb-version", "3.8.0")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def conn(standin: StandIn) -> Iterator[influxkit.Connection]:
    host, port = standin.server_address[:2]
    with influxkit.connect(f"http://{host}:{port}", database="db", token="t0ken") as c:
        yield c


@pytest.mark.parametrize("fmt", ["rows", "arrow", "pandas"])
def test_an_html_page_instead_of_results_is_a_query_error(conn, fmt: str) -> None:
    with pytest.raises(influxkit.QueryError, match=r"not Parquet.*please log in"):
        conn.query_sql("SELECT 1", format=fmt)


def test_an_html_page_instead_of_influxql_results(conn) -> None:
    with pytest.raises(influxkit.QueryError, match="is the URL an InfluxDB"):
        conn.query_influxql("SHOW MEASUREMENTS")


@pytest.mark.parametrize(
    "body", [b"<html>please log in</html>\n", b'{"time": 1, broken\n', b"[1, 2]\n"]
)
def test_a_stream_that_is_not_json_lines_is_a_query_error(standin, conn, body: bytes) -> None:
    standin.answer = ("application/jsonl", body)
    with pytest.raises(influxkit.QueryError, match="not JSON lines"):
        list(conn.query_sql_stream("SELECT 1"))


def test_the_error_keeps_the_body_and_not_the_token(conn) -> None:
    with pytest.raises(influxkit.QueryError) as caught:
        conn.query_sql("SELECT 1")
    assert "please log in" in caught.value.body
    assert "t0ken" not in str(caught.value) and "t0ken" not in repr(caught.value.__dict__)

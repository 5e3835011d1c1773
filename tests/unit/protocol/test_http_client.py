"""HttpClient against a tiny real HTTP server on 127.0.0.1 answering canned v3 responses.

The connections say ``check_server=False``: the tests count the requests of each
operation; the first-use ``/ping`` is tested against real servers
(tests/server_local/test_server_info_serve.py).
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import orjson
import pyarrow as pa
import pytest

import influxkit
from influxkit.testing.influxd import free_port

TOKEN = "apiv3_s3cr3t-T0KEN-value"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[Seen] = []
        self.answer: Callable[[Seen], Answer] = lambda req: (204, {}, b"")

    def handle_error(self, request, client_address) -> None:  # client went away: fine
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        req = Seen(self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers), body)
        self.server.seen.append(req)
        status, headers, payload = self.server.answer(req)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _handle

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    srv = FakeServer()
    thread = threading.Thread(target=srv.serve_forever, name="fake-influxdb", daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def fake(server):
    server.seen.clear()
    server.answer = lambda req: (204, {}, b"")
    return server


@pytest.fixture
def conn(fake):
    with influxkit.connect(
        fake.url, token=TOKEN, database="db", timeout=2, check_server=False
    ) as c:
        yield c


def test_write_sends_auth_and_params(fake, conn):
    outcome = conn.write("cpu,host=a usage=0.5 1700000000000000000")
    (req,) = fake.seen
    assert (req.method, req.path) == ("POST", "/api/v3/write_lp")
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.query == {"db": "db", "precision": "nanosecond", "accept_partial": "true"}
    assert TOKEN not in str(req.query)
    assert outcome.lines == 1 and outcome.requests == 1


def test_gzip_above_threshold(fake):
    with influxkit.connect(fake.url, database="db", gzip_threshold=100, check_server=False) as c:
        c.write("cpu v=1 1")
        c.write("\n".join(f"cpu v={i} {i}" for i in range(100)))
    small, big = fake.seen
    assert "Content-Encoding" not in small.headers and small.body == b"cpu v=1 1"
    assert big.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(big.body).count(b"\n") == 99


def test_eleven_mib_body_is_two_requests(fake, conn):
    line = b"cpu,host=server01 usage=0.5,idle=99i 1700000000000000000\n"
    body = line * (11 * 1024 * 1024 // len(line) + 1)
    outcome = conn.write(body)
    assert len(fake.seen) == 2 and outcome.requests == 2
    raw = [gzip.decompress(r.body) for r in fake.seen]
    assert all(len(r) <= 10 * 1024 * 1024 for r in raw)
    assert b"".join(raw) == body
    assert outcome.lines == body.count(b"\n")


def test_partial_write_from_server(fake, conn):
    fake.answer = lambda req: (
        400,
        {"Content-Type": "application/json"},
        b'{"error":"partial write of line protocol occurred","data":[{"error_message":'
        b'"No fields were provided","line_number":2,"original_line":"cpu,host=a val= 123"}]}',
    )
    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write("cpu v=1 1\ncpu,host=a val= 123\ncpu v=2 2")
    assert info.value.line_errors[0].line_number == 2


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, b'{"error": "the request was not authenticated"}', influxkit.AuthError),
        (
            403,
            b'{"error": "unauthorized to perform requested action with the token"}',
            influxkit.AuthError,
        ),
        (
            400,
            b'{"error":"line protocol parsing error","data":{"error_message":"bad",'
            b'"line_number":1,"original_line":"x"}}',
            influxkit.WriteError,
        ),
        (500, b"internal error", influxkit.ServerError),
    ],
)
def test_token_never_in_errors(fake, conn, status, body, cls):
    fake.answer = lambda req: (status, {}, body)
    with pytest.raises(cls) as info:
        conn.write("x")
    err = info.value
    assert err.status == status
    for text in (str(err), repr(err), str(err.__dict__)):
        assert TOKEN not in text


def test_503_with_retry_after(fake, conn):
    fake.answer = lambda req: (503, {"Retry-After": "7"}, b"unavailable")
    with pytest.raises(influxkit.ServerError) as info:
        conn.write("cpu v=1")
    err = info.value
    assert type(err) is influxkit.ServerError
    assert err.retryable and err.retry_after == 7.0 and err.status == 503
    assert err.method == "POST" and err.path == "/api/v3/write_lp"


def test_timeout_is_a_transport_error(fake):
    def slow(req):
        time.sleep(1.0)
        return 204, {}, b""

    fake.answer = slow
    with (
        influxkit.connect(
            fake.url, token=TOKEN, database="db", timeout=0.2, check_server=False
        ) as c,
        pytest.raises(influxkit.TransportError) as info,
    ):
        c.write("cpu v=1")
    err = info.value
    assert err.retryable and "timeout" in str(err)
    assert TOKEN not in str(err) and TOKEN not in repr(err)


def test_connection_refused_is_a_transport_error():
    url = f"http://127.0.0.1:{free_port()}"
    with influxkit.connect(
        url, token=TOKEN, database="db", connect_timeout=1, check_server=False
    ) as c:
        with pytest.raises(influxkit.TransportError) as info:
            c.write("cpu v=1")
        assert info.value.retryable and TOKEN not in str(info.value)
        with pytest.raises(influxkit.TransportError):
            c.query_sql("SELECT 1")


def test_query_sql_rows_from_parquet_keep_every_type(fake, conn):
    import io

    import pyarrow.parquet as pq

    table = pa.table(
        {
            "bucket": pa.array([10**9], pa.timestamp("ns")),
            "host": pa.array(["a"]).dictionary_encode(),
            "never": pa.array([None], pa.float64()),
            "time": pa.array([1_500_000_000], pa.timestamp("ns")),
            "usage": [0.9],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    fake.answer = lambda req: (200, {}, sink.getvalue())
    rows = conn.query_sql("SELECT * FROM cpu WHERE usage > $u", params={"u": 0.5})
    (req,) = fake.seen
    assert req.path == "/api/v3/query_sql"
    assert orjson.loads(req.body) == {
        "db": "db",
        "q": "SELECT * FROM cpu WHERE usage > $u",
        "format": "parquet",
        "params": {"u": 0.5},
    }
    assert rows == [
        {
            "bucket": datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
            "host": "a",
            "never": None,
            "time": datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC),
            "usage": 0.9,
        }
    ]


def test_query_sql_arrow_from_parquet(fake, conn):
    import io

    import pyarrow.parquet as pq

    table = pa.table({"host": ["a"], "time": pa.array([5], pa.timestamp("ns")), "v": [1.0]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    fake.answer = lambda req: (200, {}, sink.getvalue())
    got = conn.query_sql("SELECT * FROM cpu", format="arrow")
    assert orjson.loads(fake.seen[0].body)["format"] == "parquet"
    assert got.equals(table)


def test_stream_jsonl_rows_and_batches(fake, conn):
    body = b"".join(
        orjson.dumps({"i": i, "time": "1970-01-01T00:00:00.000000001"}) + b"\n"
        for i in range(25_000)
    )
    fake.answer = lambda req: (200, {"Content-Type": "application/jsonl"}, body)
    rows = list(conn.query_sql_stream("SELECT * FROM t"))
    assert orjson.loads(fake.seen[0].body)["format"] == "jsonl"
    assert [r["i"] for r in rows] == list(range(25_000))
    batches = list(conn.query_sql_stream("SELECT * FROM t", format="arrow"))
    assert [b.num_rows for b in batches] == [10_000, 10_000, 5_000]
    assert batches[0].schema.field("time").type == pa.timestamp("ns")
    assert batches[0].column("time").cast(pa.int64())[0].as_py() == 1


def test_query_error_and_unknown_database(fake, conn):
    fake.answer = lambda req: (404, {}, b'{"error":"query error: database not found: db"}')
    with pytest.raises(influxkit.DatabaseNotFound):
        conn.query_sql("SELECT 1")
    fake.answer = lambda req: (400, {}, b"Error during planning: table 'public.iox.x' not found")
    with pytest.raises(influxkit.QueryError, match="not found"):
        conn.query_sql("SELECT * FROM x")
    with pytest.raises(influxkit.QueryError):
        list(conn.query_sql_stream("SELECT * FROM x"))


def test_execute_sql_refused(fake, conn):
    fake.answer = lambda req: (400, {}, b"Error during planning: Insert statements are not allowed")
    with pytest.raises(influxkit.QueryError, match="not allowed"):
        conn.execute_sql("INSERT INTO t VALUES (1)")


def test_databases_and_health(fake, conn):
    def answer(req):
        if req.path == "/api/v3/configure/database" and req.method == "GET":
            return (
                200,
                {},
                b'[{"iox::database":"b"},{"iox::database":"_internal"},{"iox::database":"a"}]',
            )
        if req.path == "/ping":
            return (
                200,
                {"X-Influxdb-Version": "3.10.1", "X-Influxdb-Build": "Core"},
                (b'{"product_name":"InfluxDB 3 Core","version":"3.10.1","revision":"abc"}'),
            )
        if req.path == "/health":
            return 200, {}, b"OK"
        return 200, {}, b""

    fake.answer = answer
    assert conn.list_databases() == ["_internal", "a", "b"]
    conn.create_database("new", retention_period="30d")
    assert orjson.loads(fake.seen[-1].body) == {"db": "new", "retention_period": "30d"}
    conn.delete_database("new")
    assert (fake.seen[-1].method, fake.seen[-1].query) == ("DELETE", {"db": "new"})
    health = conn.health()
    assert health["status"] == "pass" and health["version"] == "3.10.1"
    assert health["build"] == "Core"
    fake.answer = lambda req: (503, {}, b"starting")
    assert conn.health()["status"] == "fail"


def test_httpx_is_not_imported_by_influxkit():
    import subprocess
    import sys

    code = "import sys, influxkit; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

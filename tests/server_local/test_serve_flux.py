"""``POST /api/v2/query`` on ``influxkit serve`` (v2 profile): annotated CSV and 2.x's errors.

The route is added to the server's table here when ``app.py`` does not route it yet, with
the app's own route type, so the requests go through the app's dispatch (authentication,
error rendering in the v2 shape) as they will once it is wired.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import influxkit
from influxkit.server import ServerThread
from influxkit.server.flux_endpoint import flux_query_handler

TOKEN = "apiv2_test-token"
AUTH = {"Authorization": f"Token {TOKEN}"}
DATA = (
    b"cpu,host=a usage=1.5 1609459200000000000\n"
    b"cpu,host=a usage=2.5 1609459210000000000\n"
    b'cpu,host=b usage=4.0,note="x, \\"y\\"" 1609459205000000000\n'
)
QUERY = 'from(bucket: "b") |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-01T00:01:00Z)'


def _with_flux_route(server: ServerThread) -> ServerThread:
    from influxkit.server.app import _Route

    key = ("POST", "/api/v2/query")
    if key not in server.app.routes:
        server.app.routes[key] = _Route(flux_query_handler(server.engine), "v2")
    return server


@pytest.fixture(scope="module")
def v2_server() -> Iterator[ServerThread]:
    server = _with_flux_route(ServerThread(profile="v2", token=TOKEN, databases=["b"]))
    with server:
        server.engine.write(DATA, database="b", precision="ns", accept_partial=False, no_sync=False)
        yield server


@pytest.fixture
def c(v2_server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=v2_server.url, headers=AUTH, timeout=30) as client:
        yield client


def test_json_body_default_dialect(c: httpx.Client) -> None:
    q = (
        QUERY
        + ' |> filter(fn: (r) => r._field == "usage") |> keep(columns: ["_time", "_value", "host"])'
    )
    r = c.post("/api/v2/query", params={"org": "o"}, json={"query": q, "type": "flux"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content == (
        b",result,table,_time,_value,host\r\n"
        b",_result,0,2021-01-01T00:00:00Z,1.5,a\r\n"
        b",_result,0,2021-01-01T00:00:10Z,2.5,a\r\n"
        b",_result,1,2021-01-01T00:00:05Z,4,b\r\n"
        b"\r\n"
    )


def test_flux_body_and_dialect_annotations(c: httpx.Client) -> None:
    q = QUERY + ' |> filter(fn: (r) => r._field == "note") |> keep(columns: ["_value"])'
    r = c.post(
        "/api/v2/query", content=q.encode(), headers={"Content-Type": "application/vnd.flux"}
    )
    assert r.content == b',result,table,_value\r\n,_result,0,"x, ""y"""\r\n\r\n'
    body = {
        "query": q,
        "dialect": {"annotations": ["datatype", "group", "default"], "header": False},
    }
    r = c.post("/api/v2/query", json=body)
    assert r.content == (
        b"#datatype,string,long,string\r\n#group,false,false,false\r\n#default,_result,,\r\n"
        b',,0,"x, ""y"""\r\n\r\n'
    )


def test_influxkit_http_client_reads_what_the_local_engine_returns(v2_server: ServerThread) -> None:
    query = QUERY + ' |> filter(fn: (r) => r._field == "usage")'
    query += ' |> aggregateWindow(every: 20s, fn: mean) |> yield(name: "m")'
    with influxkit.connect(v2_server.url, profile="v2", token=TOKEN, org="o") as conn:
        over_http = conn.query_flux(query)
    local = v2_server.engine.query_flux(query, org=None)
    assert over_http == local
    assert [(r["host"], r["_value"]) for r in local] == [
        ("a", 2.0), ("a", None), ("a", None), ("b", 4.0), ("b", None), ("b", None),
    ]  # fmt: skip


def test_the_official_influxdb_client_parses_the_answer(v2_server: ServerThread) -> None:
    from influxdb_client import InfluxDBClient

    with InfluxDBClient(url=v2_server.url, token=TOKEN, org="o") as client:
        tables = client.query_api().query(QUERY + ' |> filter(fn: (r) => r._field == "usage")')
    got = [
        [(rec.get_measurement(), rec["host"], rec.get_value()) for rec in table.records]
        for table in tables
    ]
    assert got == [[("cpu", "a", 1.5), ("cpu", "a", 2.5)], [("cpu", "b", 4.0)]]
    assert [col.label for col in tables[0].get_group_key()] == [
        "_start", "_stop", "_field", "_measurement", "host",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"query": 'from(bucket: "zz") |> range(start: 0)'},
            404,
            'failed to initialize execute state: could not find bucket "zz"',
        ),
        (
            {"query": 'from(bucket: "b") |> range(start: 0'},
            400,
            "compilation failed: error @1:36-1:36: expected RPAREN in call expression, got EOF",
        ),
        (
            {"query": 'from(bucket: "b") |> range(start: 0) |> map(fn: (r) => r)'},
            400,
            "error @1:41-1:44: map() is not supported by influxkit's local Flux engine",
        ),
        (
            {"query": ""},
            400,
            "failed to decode request body: request body requires either query or AST",
        ),
        (
            {"query": "x", "type": "sql"},
            400,
            "failed to decode request body: unknown query type: sql",
        ),
        (
            {"query": "x", "dialect": {"annotations": ["nope"]}},
            400,
            "failed to decode request body: unknown dialect annotation type: nope",
        ),
        (
            {"query": "x", "dialect": {"delimiter": ";;"}},
            400,
            "failed to decode request body: invalid dialect delimeter: must be length 1",
        ),
        (
            {"query": "x", "dialect": {"dateTimeFormat": "unix"}},
            400,
            "failed to decode request body: unknown dialect date time format: unix",
        ),
    ],
)
def test_errors_in_the_v2_shape(c: httpx.Client, body: dict, status: int, message: str) -> None:
    r = c.post("/api/v2/query", json=body)
    assert r.status_code == status
    doc = r.json()
    assert doc["code"] == ("not found" if status == 404 else "invalid")
    assert doc["message"].startswith(message)


def test_a_body_that_is_not_json(c: httpx.Client) -> None:
    r = c.post("/api/v2/query", content=b"", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()) == (
        400,
        {"code": "invalid", "message": "failed to decode request body: EOF"},
    )


def test_now_in_the_request_body(c: httpx.Client) -> None:
    body = {
        "query": 'from(bucket: "b") |> range(start: -55s) |> filter(fn: (r) => r._field == "usage")'
        ' |> keep(columns: ["_value"])',
        "now": "2021-01-01T00:01:00Z",
        "dialect": {"header": False},
    }
    r = c.post("/api/v2/query", json=body)
    assert r.content == b",_result,0,2.5\r\n,_result,1,4\r\n\r\n"


def test_a_token_is_required(v2_server: ServerThread) -> None:
    r = httpx.post(f"{v2_server.url}/api/v2/query", json={"query": QUERY})
    assert r.status_code == 401


def test_no_flux_on_a_v3_server() -> None:
    with _with_flux_route(ServerThread(databases=["b"])) as server:
        r = httpx.post(f"{server.url}/api/v2/query", json={"query": QUERY})
    assert (r.status_code, r.text) == (404, "Not found")

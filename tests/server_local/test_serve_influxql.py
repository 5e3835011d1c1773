"""InfluxQL over ``influxkit serve``: the v1 ``/query`` endpoint and ``/api/v3/query_influxql``.

The v1 profile answers as InfluxDB 1.x does (checked against the real server by the
differential test); these tests check the HTTP side: GET and POST form bodies,
several statements, ``epoch``, chunking, authentication, errors, and that
influxkit's own HTTP client (``api_version="v1"``) reads the answers back.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import orjson
import pyarrow.parquet as pq
import pytest

import influxkit
from influxkit.errors import AuthError, DatabaseNotFound, QueryError
from influxkit.server import ServerThread, running_server

TOKEN = "apiv3_influxql-token"
DATA = (
    b"cpu,host=a,region=us value=1.5,n=3i 1000000000\n"
    b"cpu,host=b,region=eu value=2.5,n=4i 1000000000\n"
    b"cpu,host=a,region=us value=3,n=5i 2000000000\n"
    b"mem,host=a free=10i 1500000000\n"
)


def _docs(response: httpx.Response) -> list[dict]:
    return [orjson.loads(line) for line in response.content.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def v1_server() -> Iterator[ServerThread]:
    with running_server(profile="v1", databases=["db"]) as srv:
        response = httpx.post(f"{srv.url}/write", params={"db": "db"}, content=DATA)
        assert response.status_code == 204, response.text
        yield srv


@pytest.fixture
def http(v1_server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=v1_server.url, timeout=30) as client:
        yield client


def test_get_with_several_statements(http: httpx.Client) -> None:
    response = http.get("/query", params={"db": "db", "q": "SELECT value FROM cpu; SHOW DATABASES"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.content) == {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "cpu",
                        "columns": ["time", "value"],
                        "values": [
                            ["1970-01-01T00:00:01Z", 1.5],
                            ["1970-01-01T00:00:01Z", 2.5],
                            ["1970-01-01T00:00:02Z", 3],
                        ],
                    }
                ],
            },
            {
                "statement_id": 1,
                "series": [{"name": "databases", "columns": ["name"], "values": [["db"]]}],
            },
        ]
    }


def test_post_form_wins_over_the_query_string(http: httpx.Client) -> None:
    response = http.post(
        "/query",
        params={"q": "SHOW DATABASES", "epoch": "s"},
        data={"db": "db", "q": "SELECT max(n) FROM cpu", "epoch": "ms"},
    )
    assert _docs(response) == [
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [{"name": "cpu", "columns": ["time", "max"], "values": [[2000, 5]]}],
                }
            ]
        }
    ]


def test_params_are_bound(http: httpx.Client) -> None:
    response = http.post(
        "/query",
        data={
            "db": "db",
            "q": "SELECT value FROM cpu WHERE host = $h",
            "params": orjson.dumps({"h": "b"}).decode(),
            "epoch": "ns",
        },
    )
    assert _docs(response)[0]["results"][0]["series"][0]["values"] == [[1_000_000_000, 2.5]]
    bad = http.post("/query", data={"db": "db", "q": "SHOW DATABASES", "params": "{"})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("error parsing query parameters")


def test_chunked_answers_one_document_per_chunk(http: httpx.Client) -> None:
    response = http.post(
        "/query",
        data={
            "db": "db",
            "q": "SELECT value FROM cpu GROUP BY host; SELECT * FROM mem",
            "chunked": "true",
            "chunk_size": "1",
            "epoch": "s",
        },
    )
    docs = _docs(response)
    assert response.content.endswith(b"\n")
    assert [d["results"][0]["statement_id"] for d in docs] == [0, 0, 0, 1]
    assert [d["results"][0].get("partial") for d in docs] == [True, True, None, None]
    assert [d["results"][0]["series"][0].get("partial") for d in docs] == [True, None, None, None]
    assert [d["results"][0]["series"][0]["values"] for d in docs] == [
        [[1, 1.5]],
        [[2, 3]],
        [[1, 2.5]],
        [[1, 10, "a"]],
    ]


@pytest.mark.parametrize(
    ("form", "status", "body"),
    [
        ({"db": "db"}, 400, {"error": 'missing required parameter "q"'}),
        (
            {"db": "db", "q": "SELECT value FORM cpu"},
            400,
            {"error": "error parsing query: found FORM, expected FROM at line 1, char 14"},
        ),
        (
            {"db": "nope", "q": "SELECT * FROM cpu"},
            200,
            {"results": [{"statement_id": 0, "error": "database not found: nope"}]},
        ),
        (
            {"q": "SELECT * FROM cpu"},
            200,
            {"results": [{"statement_id": 0, "error": "database name required"}]},
        ),
    ],
)
def test_errors_as_1x(http: httpx.Client, form: dict, status: int, body: dict) -> None:
    response = http.post("/query", data=form)
    assert response.status_code == status
    assert response.json() == body


def test_create_and_drop_database_over_query(http: httpx.Client) -> None:
    assert http.post("/query", data={"q": "CREATE DATABASE extra"}).json() == {
        "results": [{"statement_id": 0}]
    }
    names = http.get("/query", params={"q": "SHOW DATABASES"}).json()
    assert names["results"][0]["series"][0]["values"] == [["db"], ["extra"]]
    http.post("/query", data={"q": "DROP DATABASE extra"})
    names = http.get("/query", params={"q": "SHOW DATABASES"}).json()
    assert names["results"][0]["series"][0]["values"] == [["db"]]


def test_the_v1_http_client_reads_serve_like_a_1x_server(v1_server: ServerThread) -> None:
    """influxkit's HTTP client (chunked, epoch=ns) gets the rows the local engine gives."""
    local = influxkit.connect(client="local", profile="v1", database="db")
    local.write(DATA)
    with influxkit.connect(v1_server.url, api_version="v1", database="db") as remote:
        for query in (
            "SELECT * FROM cpu",
            "SELECT mean(value) FROM cpu GROUP BY host",
            "SELECT count(n) FROM cpu WHERE time >= 0 AND time < 3s GROUP BY time(1s) fill(none)",
            "SHOW TAG VALUES WITH KEY = host",
        ):
            assert remote.query_influxql(query) == local.query_influxql(query)
        assert remote.query_influxql("SELECT * FROM cpu", format="arrow").equals(
            local.query_influxql("SELECT * FROM cpu", format="arrow")
        )
        with pytest.raises(QueryError, match="error parsing query"):
            remote.query_influxql("SELEC")
        with pytest.raises(DatabaseNotFound):
            remote.query_influxql("SELECT * FROM cpu", database="nope")
        remote.create_database("made_by_client")
        assert "made_by_client" in remote.list_databases()
        remote.delete_database("made_by_client")
        assert "made_by_client" not in remote.list_databases()
    local.close()


def test_query_needs_the_token_when_the_server_has_one() -> None:
    with running_server(profile="v1", token=TOKEN, databases=["db"]) as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            denied = http.get("/query", params={"q": "SHOW DATABASES"})
            assert denied.status_code == 401
            by_p = http.get("/query", params={"q": "SHOW DATABASES", "u": "me", "p": TOKEN})
            assert by_p.status_code == 200
            by_header = http.post(
                "/query",
                data={"q": "SHOW DATABASES"},
                headers={"Authorization": f"Token {TOKEN}"},
            )
            assert by_header.status_code == 200
        with influxkit.connect(srv.url, api_version="v1", token=TOKEN, database="db") as conn:
            assert conn.query_influxql("SHOW DATABASES") == [
                {"iox::measurement": "databases", "name": "db"}
            ]
        wrong = influxkit.connect(srv.url, api_version="v1", token="wrong", database="db")
        with wrong, pytest.raises(AuthError):
            wrong.query_influxql("SHOW DATABASES")


# -- InfluxDB 3 profile ---------------------------------------------------------------


@pytest.fixture(scope="module")
def v3_server() -> Iterator[ServerThread]:
    with running_server(profile="v3_core", databases=["db"]) as srv:
        response = httpx.post(
            f"{srv.url}/api/v3/write_lp", params={"db": "db", "precision": "ns"}, content=DATA
        )
        assert response.status_code == 204, response.text
        yield srv


def test_query_influxql_formats(v3_server: ServerThread) -> None:
    with httpx.Client(base_url=v3_server.url, timeout=30) as http:
        q = "SELECT max(n) FROM cpu GROUP BY host"
        json = http.get("/api/v3/query_influxql", params={"db": "db", "q": q})
        # One selector: each row has its point's time.
        assert json.json() == [
            {"iox::measurement": "cpu", "time": "1970-01-01T00:00:02", "host": "a", "max": 5},
            {"iox::measurement": "cpu", "time": "1970-01-01T00:00:01", "host": "b", "max": 4},
        ]
        csv = http.post("/api/v3/query_influxql", json={"db": "db", "q": q, "format": "csv"})
        assert csv.text.splitlines() == [
            "iox::measurement,time,host,max",
            "cpu,1970-01-01T00:00:02,a,5",
            "cpu,1970-01-01T00:00:01,b,4",
        ]
        jsonl = http.get("/api/v3/query_influxql", params={"db": "db", "q": q, "format": "jsonl"})
        assert len(jsonl.text.splitlines()) == 2
        parquet = http.get(
            "/api/v3/query_influxql", params={"db": "db", "q": q, "format": "parquet"}
        )
        assert pq.read_table(io.BytesIO(parquet.content)).column("max").to_pylist() == [5, 4]


def test_query_influxql_errors(v3_server: ServerThread) -> None:
    with httpx.Client(base_url=v3_server.url, timeout=30) as http:
        two = http.get(
            "/api/v3/query_influxql", params={"db": "db", "q": "SHOW DATABASES; SHOW DATABASES"}
        )
        assert (two.status_code, two.text) == (
            400,
            "must provide only one InfluxQl statement per query",
        )
        slimit = http.get(
            "/api/v3/query_influxql", params={"db": "db", "q": "SELECT n FROM cpu SLIMIT 1"}
        )
        assert (slimit.status_code, slimit.text) == (
            405,
            "This feature is not implemented: SLIMIT or SOFFSET",
        )
        missing = http.get(
            "/api/v3/query_influxql", params={"db": "nope", "q": "SELECT * FROM cpu"}
        )
        assert missing.status_code == 404
        assert missing.json() == {"error": "query error: database not found: nope"}


def test_v1_query_on_the_v3_profile(v3_server: ServerThread) -> None:
    with httpx.Client(base_url=v3_server.url, timeout=30) as http:
        raw = http.post(
            "/query",
            params={"db": "db", "epoch": "u"},
            content=b"SELECT max(n) FROM cpu",
            headers={"content-type": "application/vnd.influxql"},
        )
        assert raw.json()["results"][0]["series"][0]["values"] == [[2_000_000, 5]]
        bad = http.get("/query", params={"db": "db", "q": "SHOW DATABASES", "epoch": "us"})
        assert bad.status_code == 400
        text = http.get("/query", params={"db": "db", "q": "SELECT free FROM mem"})
        assert text.json()["results"][0]["series"][0]["values"] == [
            ["1970-01-01T00:00:01.500Z", 10]
        ]
        missing = http.get("/query", params={"db": "db"})
        assert missing.json() == {
            "error": "expected a query to be provided in the query string or body"
        }

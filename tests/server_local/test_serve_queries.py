"""SQL over HTTP: /api/v3/query_sql parameters, the Accept-header rules, formats and errors."""

from __future__ import annotations

import io

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from influxkit.server import ServerThread

Q = "/api/v3/query_sql"
# Times with 0, 3, 6 and 9 fraction digits; NULLs in `usage`, `ok` and `n`.
DATA = (
    b"cpu,host=a usage=1.0,ok=true 1000000000\n"
    b"cpu,host=b usage=0.25,n=3i 1500000000\n"
    b"cpu,host=a n=-4i 1000001000\n"
    b'cpu,host=c,region=eu msg="hi \\"there\\", you" 1000000001\n'
)
SELECT = "SELECT * FROM cpu ORDER BY time"

JSON = (
    b'[{"host":"a","ok":true,"time":"1970-01-01T00:00:01","usage":1.0},'
    b'{"host":"c","msg":"hi \\"there\\", you","region":"eu",'
    b'"time":"1970-01-01T00:00:01.000000001"},'
    b'{"host":"a","n":-4,"time":"1970-01-01T00:00:01.000001"},'
    b'{"host":"b","n":3,"time":"1970-01-01T00:00:01.500","usage":0.25}]'
)
CSV = (
    b"host,msg,n,ok,region,time,usage\n"
    b"a,,,true,,1970-01-01T00:00:01,1.0\n"
    b'c,"hi ""there"", you",,,eu,1970-01-01T00:00:01.000000001,\n'
    b"a,,-4,,,1970-01-01T00:00:01.000001,\n"
    b"b,,3,,,1970-01-01T00:00:01.500,0.25\n"
)
PRETTY = (
    b"+------+-----------------+----+------+--------+-------------------------------+-------+\n"
    b"| host | msg             | n  | ok   | region | time                          | usage |\n"
    b"+------+-----------------+----+------+--------+-------------------------------+-------+\n"
    b"| a    |                 |    | true |        | 1970-01-01T00:00:01           | 1.0   |\n"
    b'| c    | hi "there", you |    |      | eu     | 1970-01-01T00:00:01.000000001 |       |\n'
    b"| a    |                 | -4 |      |        | 1970-01-01T00:00:01.000001    |       |\n"
    b"| b    |                 | 3  |      |        | 1970-01-01T00:00:01.500       | 0.25  |\n"
    b"+------+-----------------+----+------+--------+-------------------------------+-------+"
)


@pytest.fixture(scope="module")
def data_server() -> ServerThread:
    from influxkit.server import running_server

    with running_server(databases=["db"]) as srv:
        r = httpx.post(
            f"{srv.url}/api/v3/write_lp", params={"db": "db", "precision": "ns"}, content=DATA
        )
        assert r.status_code == 204, r.text
        yield srv


@pytest.fixture
def c(data_server: ServerThread) -> httpx.Client:
    with httpx.Client(base_url=data_server.url, timeout=30) as client:
        yield client


def get(c: httpx.Client, q: str = SELECT, headers: dict | None = None, **params: str):
    return c.get(Q, params={"db": "db", "q": q, **params}, headers=headers)


def test_json_exact_bytes(c: httpx.Client) -> None:
    r = get(c, format="json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.content == JSON


def test_json_is_the_default(c: httpx.Client) -> None:
    r = get(c)
    assert (r.headers["content-type"], r.content) == ("application/json", JSON)


def test_jsonl_exact_bytes(c: httpx.Client) -> None:
    for name in ("jsonl", "json_lines"):
        r = get(c, format=name)
        assert r.headers["content-type"] == "application/jsonl"
        expected = b"".join(orjson.dumps(row) + b"\n" for row in orjson.loads(JSON))
        assert r.content == expected


def test_csv_exact_bytes(c: httpx.Client) -> None:
    r = get(c, format="csv")
    assert r.headers["content-type"] == "text/csv"
    assert r.content == CSV


def test_pretty_exact_bytes(c: httpx.Client) -> None:
    r = get(c, format="pretty")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.content == PRETTY


def test_parquet_keeps_types(c: httpx.Client) -> None:
    r = get(c, format="parquet")
    assert r.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    assert table.schema.field("host").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.column("n").to_pylist() == [None, None, -4, 3]


def test_empty_results(c: httpx.Client) -> None:
    q = "SELECT * FROM cpu WHERE host = 'zzz'"
    assert get(c, q, format="json").content == b"[]"
    for fmt in ("jsonl", "csv", "pretty", "parquet"):
        r = get(c, q, format=fmt)
        assert (r.status_code, r.content) == (200, b""), fmt


def test_post_json_body(c: httpx.Client) -> None:
    r = c.post(Q, json={"db": "db", "q": "SELECT host FROM cpu WHERE n = $n", "params": {"n": 3}})
    assert (r.status_code, r.content) == (200, b'[{"host":"b"}]')
    r = c.post(Q, json={"db": "db", "q": "SELECT count(*) AS k FROM cpu", "format": "csv"})
    assert r.content == b"k\n4\n"


def test_get_params_json_string(c: httpx.Client) -> None:
    r = get(c, "SELECT n FROM cpu WHERE host = $h", params=orjson.dumps({"h": "a"}).decode())
    assert r.json() == [{}, {"n": -4}]
    r = get(c, "SELECT 1 AS one", params="{not json")
    assert r.status_code == 400
    assert r.text.startswith("serde json error: ")


def test_unbound_placeholder(c: httpx.Client) -> None:
    r = get(c, "SELECT * FROM cpu WHERE host = $host")
    assert r.status_code == 400
    assert "No value found for placeholder with name $host" in r.text


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html,application/xhtml+xml", "application/json"),
        ("application/json, text/plain, */*", "application/json"),
        ("text/csv", "text/csv"),
        ("text/plain", "text/plain; charset=utf-8"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
    ],
)
def test_accept_header_selects_a_format(c: httpx.Client, accept: str, expected: str) -> None:
    r = get(c, headers={"Accept": accept})
    assert (r.status_code, r.headers["content-type"]) == (200, expected)


def test_format_parameter_wins_over_accept(c: httpx.Client) -> None:
    r = get(c, headers={"Accept": "text/csv"}, format="jsonl")
    assert r.headers["content-type"] == "application/jsonl"


@pytest.mark.parametrize(
    "accept", ["application/jsonl", "text/csv; charset=utf-8", "application/json; charset=utf-8"]
)
def test_accept_header_trap(c: httpx.Client, accept: str) -> None:
    r = get(c, headers={"Accept": accept}, format="json")
    assert (r.status_code, r.text) == (400, f"invalid mime type ({accept})")


def test_unknown_database_is_404_json(c: httpx.Client) -> None:
    r = c.get(Q, params={"db": "nope", "q": "SELECT 1"})
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"
    assert r.content == b'{"error":"query error: database not found: nope"}'


def test_sql_errors_are_400_plain_text(c: httpx.Client) -> None:
    r = get(c, "SELECT * FROM nope")
    assert (r.status_code, r.text) == (
        400,
        "Error during planning: table 'public.iox.nope' not found",
    )
    assert "content-type" not in r.headers
    r = get(c, "SELEC 1")
    assert r.status_code == 400
    assert r.text.startswith("SQL error: ParserError(")


def test_missing_parameters(c: httpx.Client) -> None:
    r = c.get(Q)
    assert (r.status_code, r.text) == (400, "missing query parameters 'db' and 'q'")
    r = c.get(Q, params={"q": "SELECT 1"})
    assert (r.status_code, r.text) == (400, "serde error: missing field `db`")
    r = c.get(Q, params={"db": "db"})
    assert (r.status_code, r.text) == (400, "serde error: missing field `q`")
    r = get(c, format="xml")
    assert r.status_code == 400
    assert r.text.startswith("serde error: unknown variant `xml`")
    r = c.post(Q, content=b"{")
    assert r.status_code == 400
    assert r.text.startswith("serde json error: ")
    r = c.post(Q, json={"q": "SELECT 1"})
    assert (r.status_code, r.text) == (400, "serde json error: missing field `db`")


def test_streamed_result_over_many_batches(data_server: ServerThread, c: httpx.Client) -> None:
    lines = b"".join(b"big,k=%d v=%di %d\n" % (i % 7, i, i + 1) for i in range(30_000))
    assert c.post("/api/v3/write_lp", params={"db": "big"}, content=lines).status_code == 204
    q = "SELECT v FROM big ORDER BY time"
    with c.stream("GET", Q, params={"db": "big", "q": q, "format": "jsonl"}) as r:
        assert r.status_code == 200
        assert r.headers.get("transfer-encoding") == "chunked"
        assert "cluster-uuid" in r.headers
        values = [orjson.loads(line)["v"] for line in r.iter_lines()]
    assert values == list(range(30_000))
    r = c.get(Q, params={"db": "big", "q": q, "format": "csv"})
    assert r.text.split("\n")[:3] == ["v", "0", "1"]
    assert len(r.text.split("\n")) == 30_002  # header, rows, the final empty string
    assert len(orjson.loads(get(c, q, db="big").content)) == 30_000


def test_influxql_endpoint_refuses_an_unknown_accept_type(c: httpx.Client) -> None:
    r = c.get("/api/v3/query_influxql", headers={"Accept": "application/jsonl"},
              params={"db": "db", "q": "SHOW DATABASES"})  # fmt: skip
    assert (r.status_code, r.text) == (400, "invalid mime type (application/jsonl)")

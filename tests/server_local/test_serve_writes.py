"""Writes over HTTP: /api/v3/write_lp, /api/v2/write and /write answer as InfluxDB 3 does."""

from __future__ import annotations

import gzip

import httpx
import orjson

V3 = "/api/v3/write_lp"
LIMIT = 10 * 1024 * 1024
TOO_LARGE = b"max request size (10485760 bytes) exceeded"


def rows(client: httpx.Client, q: str, db: str = "db") -> list[dict]:
    r = client.get("/api/v3/query_sql", params={"db": db, "q": q})
    assert r.status_code == 200, r.text
    return r.json()


# -- /api/v3/write_lp ----------------------------------------------------------------


def test_valid_write_is_204_with_empty_body(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "db"}, content=b"cpu,host=a usage=0.5 1\n")
    assert r.status_code == 204
    assert r.content == b""
    assert rows(client, "SELECT host, usage FROM cpu") == [{"host": "a", "usage": 0.5}]


def test_partial_write_body_and_the_good_lines_land(client: httpx.Client) -> None:
    body = b"cpu,host=a usage=1.0 1\ncpu,host=a val= 123\ncpu,host=b usage=2.0 2\n"
    r = client.post(V3, params={"db": "db"}, content=body)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/json"
    assert r.content == (
        b'{"error":"partial write of line protocol occurred","data":[{"error_message":'
        b'"No fields were provided","line_number":2,"original_line":"cpu,host=a val= 123"}]}'
    )
    assert rows(client, "SELECT host FROM cpu ORDER BY host") == [{"host": "a"}, {"host": "b"}]


def test_partial_write_cuts_original_line_to_20_bytes(client: httpx.Client) -> None:
    line = "cpu,host=aaaaaaaaaaaaaaaaaaaaaaaaaaaa val="
    r = client.post(V3, params={"db": "db"}, content=line.encode())
    assert r.status_code == 400
    (error,) = r.json()["data"]
    assert error["original_line"] == line[:20]


def test_accept_partial_false_body_and_nothing_written(client: httpx.Client) -> None:
    body = b"cpu,host=a usage=1.0 1\ncpu,host=a val= 123\n"
    r = client.post(V3, params={"db": "db", "accept_partial": "false"}, content=body)
    assert r.status_code == 400
    assert r.content == (
        b'{"error":"line protocol parsing error","data":{"error_message":'
        b'"No fields were provided","line_number":2,"original_line":"cpu,host=a val= 123"}}'
    )
    r = client.get("/api/v3/query_sql", params={"db": "db", "q": "SELECT * FROM cpu"})
    assert r.status_code == 400  # the table was never created


def test_write_auto_creates_the_database(client: httpx.Client) -> None:
    assert client.post(V3, params={"db": "fresh"}, content=b"m f=1i 5").status_code == 204
    assert rows(client, "SELECT f FROM m", db="fresh") == [{"f": 1}]


def test_precision_long_and_short_names(client: httpx.Client) -> None:
    for i, precision in enumerate(["second", "s", "millisecond", "ms", "microsecond", "u"]):
        r = client.post(V3, params={"db": "db", "precision": precision}, content=f"p{i} v=1 2")
        assert r.status_code == 204, (precision, r.text)
    assert rows(client, "SELECT time FROM p0") == [{"time": "1970-01-01T00:00:02"}]
    assert rows(client, "SELECT time FROM p2") == [{"time": "1970-01-01T00:00:00.002"}]
    assert rows(client, "SELECT time FROM p4") == [{"time": "1970-01-01T00:00:00.000002"}]


def test_auto_precision_guesses_the_unit(client: httpx.Client) -> None:
    client.post(V3, params={"db": "db"}, content=b"m v=1 1700000000000")
    assert rows(client, "SELECT time FROM m") == [{"time": "2023-11-14T22:13:20"}]


def test_unknown_precision_is_a_plain_serde_error(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "db", "precision": "m"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.text.startswith("serde error: unknown variant `m`")
    assert "content-type" not in r.headers


def test_bad_boolean_parameter(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "db", "accept_partial": "1"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.text == "serde error: provided string was not `true` or `false`"


def test_no_sync_is_accepted(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "db", "no_sync": "true"}, content=b"m v=1 1")
    assert r.status_code == 204


def test_empty_body_is_plain_text(client: httpx.Client) -> None:
    for body in (b"", b"\n# only a comment\n\n"):
        r = client.post(V3, params={"db": "db"}, content=body)
        assert (r.status_code, r.text) == (400, "incoming write was empty")


def test_missing_db_parameter(client: httpx.Client) -> None:
    r = client.post(V3, content=b"m v=1")
    assert (r.status_code, r.text) == (400, "missing query parameter 'db'")
    r = client.post(V3, params={"precision": "ns"}, content=b"m v=1")
    assert (r.status_code, r.text) == (400, "serde error: missing field `db`")


def test_invalid_database_name_is_json(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "_bad"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.content == b'{"error":"db name did not start with a number or letter"}'


def test_database_limit_is_422(client: httpx.Client) -> None:
    for i in range(4):  # "db" exists: five in all
        assert client.post(V3, params={"db": f"d{i}"}, content=b"m v=1").status_code == 204
    r = client.post(V3, params={"db": "sixth"}, content=b"m v=1")
    assert r.status_code == 422
    assert r.content == b'{"error":"Adding a new database would exceed limit of 5 databases"}'


def test_gzip_body_single_and_multi_member(client: httpx.Client) -> None:
    headers = {"Content-Encoding": "gzip"}
    r = client.post(V3, params={"db": "db"}, content=gzip.compress(b"g v=1 1\n"), headers=headers)
    assert r.status_code == 204
    multi = gzip.compress(b"g v=2 2\n") + gzip.compress(b"g v=3 3\n")
    assert client.post(V3, params={"db": "db"}, content=multi, headers=headers).status_code == 204
    assert rows(client, "SELECT v FROM g ORDER BY time") == [{"v": 1.0}, {"v": 2.0}, {"v": 3.0}]


def test_corrupt_gzip_and_unknown_encoding(client: httpx.Client) -> None:
    r = client.post(
        V3, params={"db": "db"}, content=b"not gzip", headers={"Content-Encoding": "gzip"}
    )
    assert r.status_code == 400
    assert r.text.startswith("error decoding gzip stream: ")
    r = client.post(V3, params={"db": "db"}, content=b"m v=1", headers={"Content-Encoding": "br"})
    assert (r.status_code, r.text) == (400, "unacceptable content-encoding: br")


def test_body_over_10_mib_is_413(client: httpx.Client) -> None:
    body = b"m v=1\n" * (LIMIT // 6 + 1)
    assert len(body) > LIMIT
    r = client.post(V3, params={"db": "db"}, content=body)
    assert (r.status_code, r.content) == (413, TOO_LARGE)


def test_body_at_the_limit_is_accepted(client: httpx.Client) -> None:
    line = b"m v=1 1\n"
    body = line + b"#" * (LIMIT - len(line) - 1) + b"\n"  # a long comment
    assert len(body) == LIMIT
    assert client.post(V3, params={"db": "db"}, content=body).status_code == 204


def test_decompressed_body_over_10_mib_is_413(client: httpx.Client) -> None:
    packed = gzip.compress(b"m v=1\n" * (LIMIT // 6 + 1))
    assert len(packed) < LIMIT
    r = client.post(V3, params={"db": "db"}, content=packed, headers={"Content-Encoding": "gzip"})
    assert (r.status_code, r.content) == (413, TOO_LARGE)


def test_non_utf8_body(client: httpx.Client) -> None:
    r = client.post(V3, params={"db": "db"}, content=b"m,t=\xff v=1")
    assert r.status_code == 400
    assert (
        r.text == "body content is not valid utf8: invalid utf-8 sequence of 1 bytes from index 4"
    )


def test_wrong_method_on_a_write_path_is_not_found(client: httpx.Client) -> None:
    r = client.get(V3, params={"db": "db"})
    assert (r.status_code, r.text) == (404, "Not found")


# -- /api/v2/write ---------------------------------------------------------------------


def test_v2_write_bucket_is_the_database_and_org_is_ignored(client: httpx.Client) -> None:
    r = client.post(
        "/api/v2/write",
        params={"bucket": "b2", "org": "whatever", "precision": "s"},
        content=b"m v=1 3",
    )
    assert r.status_code == 204
    assert rows(client, "SELECT time, v FROM m", db="b2") == [
        {"time": "1970-01-01T00:00:03", "v": 1.0}
    ]


def test_v2_write_is_all_or_nothing_with_v2_body(client: httpx.Client) -> None:
    r = client.post("/api/v2/write", params={"bucket": "db"}, content=b"m v=1 1\nm,t=a v= 2\n")
    assert r.status_code == 400
    assert r.json() == {
        "code": "invalid",
        "message": "write buffer error: line protocol parse failed: No fields were provided",
    }
    assert (
        client.get("/api/v3/query_sql", params={"db": "db", "q": "SELECT * FROM m"}).status_code
        == 400
    )


def test_v2_write_error_shapes(client: httpx.Client) -> None:
    r = client.post("/api/v2/write", content=b"m v=1")
    assert r.json() == {"code": "invalid", "message": "no org/bucket destination provided"}
    r = client.post("/api/v2/write", params={"bucket": ""}, content=b"m v=1")
    assert r.json() == {"code": "invalid", "message": "missing bucket value"}
    r = client.post("/api/v2/write", params={"bucket": "db"}, content=b"")
    assert (r.status_code, r.json()) == (
        400,
        {"code": "invalid", "message": "write buffer error: incoming write was empty"},
    )
    r = client.post("/api/v2/write", params={"bucket": "db", "precision": "auto"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.json()["code"] == "invalid"
    assert "unknown variant `auto`" in r.json()["message"]


def test_v2_write_413_shape(client: httpx.Client) -> None:
    r = client.post("/api/v2/write", params={"bucket": "db"}, content=b"m v=1\n" * (LIMIT // 6 + 1))
    assert r.status_code == 413
    assert orjson.loads(r.content) == {
        "code": "request too large",
        "message": "max request size (10485760 bytes) exceeded",
    }


def test_v2_database_limit_is_invalid(client: httpx.Client) -> None:
    for i in range(4):
        client.post("/api/v2/write", params={"bucket": f"d{i}"}, content=b"m v=1")
    r = client.post("/api/v2/write", params={"bucket": "sixth"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.json() == {
        "code": "invalid",
        "message": "Adding a new database would exceed limit of 5 databases",
    }


# -- /write (v1) -------------------------------------------------------------------------


def test_v1_write_rp_mapping(client: httpx.Client) -> None:
    for rp in ("", "autogen", "DEFAULT", "''"):
        r = client.post("/write", params={"db": "db", "rp": rp}, content=f"m,rp=x{rp} v=1 1")
        assert r.status_code == 204, rp
    assert len(rows(client, "SELECT * FROM m")) == 4
    r = client.post("/write", params={"db": "db", "rp": "Weekly"}, content=b"w v=1 1")
    assert r.status_code == 204
    assert rows(client, "SELECT v FROM w", db="db/weekly") == [{"v": 1.0}]
    dbs = client.get("/api/v3/configure/database", params={"format": "json"}).json()
    assert {"iox::database": "db/weekly"} in dbs


def test_v1_write_default_precision_is_ns(client: httpx.Client) -> None:
    client.post("/write", params={"db": "db"}, content=b"m v=1 1500000000")
    assert rows(client, "SELECT time FROM m") == [{"time": "1970-01-01T00:00:01.500"}]


def test_v1_write_error_bodies(client: httpx.Client) -> None:
    r = client.post("/write", content=b"m v=1")
    assert (r.status_code, r.content) == (400, b'{"error":"no db destination provided"}')
    r = client.post("/write", params={"rp": "x"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.json() == {
        "error": "failed to deserialize db/rp/precision in request: missing field `db`"
    }
    r = client.post("/write", params={"db": "db", "precision": "h"}, content=b"m v=1")
    assert r.status_code == 400
    assert r.json()["error"].startswith(
        "failed to deserialize db/rp/precision in request: unknown variant `h`"
    )
    r = client.post("/write", params={"db": "db"}, content=b"")
    assert (r.status_code, r.text) == (400, "incoming write was empty")
    r = client.post("/write", params={"db": "db"}, content=b"m v=1 1\nm v= 2")
    assert r.status_code == 400
    assert r.json() == {
        "error": "line protocol parsing error",
        "data": {"error_message": "No fields were provided", "line_number": 2,
                 "original_line": "m v= 2"},
    }  # fmt: skip
    r = client.post("/write", params={"db": "db"}, content=b"m v=1\n" * (LIMIT // 6 + 1))
    assert (r.status_code, r.content) == (413, TOO_LARGE)

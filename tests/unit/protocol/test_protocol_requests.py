"""Request building: endpoints, precision spellings, auth, gzip and the body splitter."""

from __future__ import annotations

import gzip
import re

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.config import ConnectionConfig
from influxkit.errors import ConfigError
from influxkit.protocol import requests as rq


def cfg(**options) -> ConnectionConfig:
    return ConnectionConfig.from_options(**options)


def write1(config, body=b"m v=1 1", **kw):
    args = {"database": "db", "precision": "ns", "accept_partial": True, "no_sync": False}
    args.update(kw)
    return rq.write(config, body, **args)


@pytest.mark.parametrize(
    ("api", "precision", "spelled"),
    [
        ("v3", "auto", "auto"),
        ("v3", "s", "second"),
        ("v3", "ms", "millisecond"),
        ("v3", "us", "microsecond"),
        ("v3", "ns", "nanosecond"),
        ("v2", "s", "s"),
        ("v2", "us", "us"),
        ("v2", "ns", "ns"),
        ("v1", "s", "s"),
        ("v1", "ms", "ms"),
        ("v1", "us", "u"),  # never "us": 1.6.7 would read it as ns
        ("v1", "ns", "n"),
    ],
)
def test_precision_is_spelled_per_endpoint(api, precision, spelled):
    assert rq.write_precision(api, precision) == spelled
    (req,) = write1(cfg(api_version=api), precision=precision)
    assert req.params["precision"] == spelled


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="unknown precision"):
        rq.write_precision("v1", "d")


def test_minutes_and_hours_exist_on_v1_only():
    assert (rq.write_precision("v1", "m"), rq.write_precision("v1", "h")) == ("m", "h")
    for api in ("v3", "v2"):
        with pytest.raises(ConfigError, match=r"exists only on InfluxDB 1\.x"):
            rq.write_precision(api, "h")


def test_write_endpoints_and_params():
    (v3,) = write1(cfg(), no_sync=True, accept_partial=False)
    assert (v3.method, v3.path) == ("POST", "/api/v3/write_lp")
    assert v3.params == {
        "db": "db",
        "precision": "nanosecond",
        "accept_partial": "false",
        "no_sync": "true",
    }
    (v2,) = write1(cfg(api_version="v2", org="acme"))
    assert v2.path == "/api/v2/write"
    assert v2.params == {"bucket": "db", "precision": "ns", "org": "acme"}
    (v1,) = write1(cfg(api_version="v1"))
    assert (v1.path, v1.params) == ("/write", {"db": "db", "precision": "n"})
    assert v1.lines == 1 and v1.kind == "write"


def test_gzip_above_threshold_only():
    small = b"m v=1 1\n" * 10
    big = b"m v=1 1\n" * 200
    (plain,) = write1(cfg(gzip_threshold=1024), small)
    assert "Content-Encoding" not in plain.headers and plain.content == small
    (packed,) = write1(cfg(gzip_threshold=1024), big)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == big
    assert packed.content[:2] == b"\x1f\x8b" and packed.content[3:4] == b"\x00"  # no name


def test_auth_headers():
    assert rq.auth_headers(cfg(token="t")) == {"Authorization": "Bearer t"}
    assert rq.auth_headers(cfg(api_version="v2", token="t")) == {"Authorization": "Token t"}
    assert rq.auth_headers(cfg(token="t", auth_scheme="Token")) == {"Authorization": "Token t"}
    basic = rq.auth_headers(cfg(api_version="v1", username="u", password="p"))
    assert basic == {"Authorization": "Basic dTpw"}
    assert rq.auth_headers(cfg(api_version="v1", token="t")) == {"Authorization": "Token t"}
    assert rq.auth_headers(cfg()) == {}


def test_secrets_stay_out_of_requests():
    config = cfg(token="s3cret", api_version="v3")
    built = [
        *write1(config),
        rq.sql_query("SELECT 1", database="db", params={"a": 1}, fmt="json"),
        rq.create_database(config, "x"),
        rq.delete_database(config, "x"),
        *rq.health(config),
    ]
    for req in built:
        assert "s3cret" not in repr(req)
        assert "p" not in req.params


def test_query_bodies():
    sql = rq.sql_query(
        "SELECT * FROM t WHERE h = $h", database="db", params={"h": "a"}, fmt="jsonl"
    )
    assert (sql.method, sql.path) == ("POST", "/api/v3/query_sql")
    assert orjson.loads(sql.content) == {
        "db": "db",
        "q": "SELECT * FROM t WHERE h = $h",
        "format": "jsonl",
        "params": {"h": "a"},
    }
    v3 = rq.influxql_query(cfg(), "SHOW MEASUREMENTS", database="db", params=None)
    assert v3.path == "/api/v3/query_influxql"
    v1 = rq.influxql_query(cfg(api_version="v1"), "SELECT 1", database="db", params={"x": 2})
    assert v1.path == "/query"
    assert v1.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert v1.content == (
        b"q=SELECT+1&epoch=ns&chunked=true&chunk_size=10000&db=db&params=%7B%22x%22%3A2%7D"
    )
    assert v1.headers["Accept-Encoding"] == "identity"
    flux = rq.flux_query('from(bucket:"b")', org="acme")
    assert flux.params == {"org": "acme"}
    assert orjson.loads(flux.content)["dialect"]["annotations"] == ["datatype", "group", "default"]


def test_database_requests():
    v3 = cfg()
    assert rq.list_databases(v3).params == {"format": "json"}
    create = rq.create_database(v3, "x", "30d")
    assert orjson.loads(create.content) == {"db": "x", "retention_period": "30d"}
    assert rq.delete_database(v3, "x").params == {"db": "x"}
    v1 = cfg(api_version="v1")
    assert rq.create_database(v1, 'we"ird').content == b"q=CREATE+DATABASE+%22we%5C%22ird%22"
    assert rq.quote_ident('a"b\\c') == '"a\\"b\\\\c"'


def test_token_and_health_requests():
    assert rq.create_token(None).path == "/api/v3/configure/token/admin"
    named = rq.create_token("ci", 60)
    assert orjson.loads(named.content) == {"token_name": "ci", "expiry_secs": 60}
    assert rq.delete_token("ci").params == {"token_name": "ci"}
    assert [r.path for r in rq.health(cfg())] == ["/health", "/ping"]
    assert [r.path for r in rq.health(cfg(api_version="v1"))] == ["/ping"]


def test_split_keeps_small_bodies_whole():
    assert rq.split_body(b"a v=1\n", 100) == [b"a v=1\n"]
    assert rq.split_body(b"", 100) == []


def test_split_eleven_mib_into_two_requests():
    line = b"cpu,host=server01 usage=0.5,idle=99i 1700000000000000000\n"
    body = line * (11 * 1024 * 1024 // len(line) + 1)
    reqs = write1(cfg(gzip_threshold=10**9), body)
    assert len(reqs) == 2
    assert all(len(r.content) <= rq.MAX_BODY_BYTES for r in reqs)
    assert b"".join(r.content for r in reqs) == body
    assert reqs[1].first_line == reqs[0].lines + 1
    assert sum(r.lines for r in reqs) == body.count(b"\n")


def test_a_line_longer_than_the_limit_goes_alone():
    body = b"a v=1\n" + b"b s=" + b"x" * 50 + b"\nc v=2\n"
    pieces = rq.split_body(body, 20)
    assert pieces == [b"a v=1\n", b"b s=" + b"x" * 50 + b"\n", b"c v=2\n"]


def test_split_never_cuts_inside_a_quoted_string():
    line = b'm s="one\ntwo\nthree" 1\n'
    pieces = rq.split_body(line * 10, len(line) + 5)
    assert pieces == [line] * 10


_name = st.text(alphabet='abcxyz,= \\"', min_size=1, max_size=12)
_string_field = st.text(alphabet='ab \n\\"', max_size=12).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
_line = st.tuples(
    _name.map(lambda s: re.sub(r"([ ,\\])", r"\\\1", s)),
    st.one_of(st.integers().map(lambda i: f"{i}i"), _string_field),
).map(lambda t: f"{t[0]} f={t[1]}".encode())


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(_line, min_size=0, max_size=40), limit=st.integers(8, 200))
def test_split_property(lines, limit):
    """Every line lands in exactly one piece, in order; pieces stay under the limit."""
    body = b"\n".join(lines)
    pieces = rq.split_body(body, limit)
    assert b"".join(pieces) == body
    bounds, pos = set(), 0
    for line in lines:
        pos += len(line) + 1
        bounds.add(min(pos, len(body)))
    cut = 0
    for piece in pieces:
        cut += len(piece)
        assert cut in bounds, "a piece ends inside a line"
        if len(piece) > limit:  # only a single over-long line may exceed it
            assert piece.rstrip(b"\n") in lines


@pytest.mark.parametrize("module", ["isal", "zlib"])
@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000) | st.text(max_size=3000).map(str.encode))
def test_write_bodies_gzip_to_what_any_gzip_reader_reads(module, data):
    import zlib
    from unittest import mock

    from isal import isal_zlib  # the fast extra is a dev dependency

    deflate = isal_zlib if module == "isal" else zlib
    with mock.patch.object(rq, "_deflate_module", lambda: deflate):
        packed = rq.gzip_compress(data)
    assert packed[:2] == b"\x1f\x8b"  # one gzip member, as the servers take it
    assert gzip.decompress(packed) == data == zlib.decompress(packed, 31)


def test_the_fast_extra_is_used_when_installed():
    from isal import isal_zlib

    assert rq._deflate_module() is isal_zlib

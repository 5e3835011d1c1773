"""Retention policies on InfluxDB 1.x: ``retention_policy=`` sent as ``rp=`` on ``/write``
and ``/query``, against the real 1.6.7, and the local ``v1`` engine answering as it does.

1.6.7, measured: ``/write?rp=`` puts the points in that policy; an unknown policy (names
are case-sensitive) is ``500 {"error":"retention policy not found: <rp>"}``, after the
body parsed; ``/query?rp=`` is the policy of the measurements a SELECT does not qualify,
and an unknown one is the statement's error. The local engine has ``autogen`` only.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator

import pytest

import influxkit
import influxkit.aio
from influxkit.protocol.requests import quote_ident
from influxkit.server import ServerThread, running_server
from influxkit.testing.influxd import InfluxdServer

pytestmark = pytest.mark.server

_names = itertools.count()


def _db() -> str:
    return f"rp{next(_names)}_{uuid.uuid4().hex[:6]}"


def _now() -> int:
    return time.time_ns()  # a 1h policy drops points older than its duration


@pytest.fixture(scope="module")
def serve_v1() -> Iterator[ServerThread]:
    with running_server(profile="v1") as server:
        yield server


@pytest.fixture
def real(influxdb1: InfluxdServer) -> Iterator[influxkit.Connection]:
    """A v1 connection to the real server, its database having the policy ``short`` too."""
    db = _db()
    conn = influxkit.connect(influxdb1.url, api_version="v1", database=db)
    conn.create_database(db)
    conn.query_influxql(
        f"CREATE RETENTION POLICY short ON {quote_ident(db)} DURATION 1h REPLICATION 1"
    )
    try:
        yield conn
    finally:
        conn.delete_database(db)
        conn.close()


@pytest.fixture(params=["influxd", "local", "serve"])
def side(request: pytest.FixtureRequest) -> Iterator[influxkit.Connection]:
    """A v1 connection with a fresh database, to 1.6.7, the local engine or serve -p v1."""
    db = _db()
    if request.param == "influxd":
        url, opts = request.getfixturevalue("influxdb1").url, {"api_version": "v1"}
    elif request.param == "serve":
        url, opts = request.getfixturevalue("serve_v1").url, {"api_version": "v1"}
    else:
        url, opts = None, {"client": "local", "profile": "v1"}
    conn = influxkit.connect(url, database=db, **opts)
    if db not in conn.list_databases():
        conn.create_database(db)
    try:
        yield conn
    finally:
        conn.delete_database(db)
        conn.close()


def _outcome(call) -> tuple:
    try:
        call()
    except influxkit.InfluxError as exc:
        return type(exc).__name__, getattr(exc, "status", None), getattr(exc, "body", None)
    return ("ok",)


# -- the real server: points land in the policy written to ----------------------------


def test_a_write_to_a_policy_lands_in_it(real):
    db = quote_ident(real.config.database)
    real.write(f"m,p=short v=1 {_now()}", retention_policy="short")
    real.write(f"m,p=default v=2 {_now()}")
    assert [r["p"] for r in real.query_influxql(f"SELECT * FROM {db}.short.m")] == ["short"]
    assert [r["p"] for r in real.query_influxql(f"SELECT * FROM {db}.autogen.m")] == ["default"]


def test_a_query_reads_the_policy_it_names(real):
    real.write(f"m,p=short v=1 {_now()}", retention_policy="short")
    real.write(f"m,p=default v=2 {_now()}", retention_policy="autogen")
    assert [r["p"] for r in real.query_influxql("SELECT * FROM m", retention_policy="short")] == [
        "short"
    ]
    assert [r["p"] for r in real.query_influxql("SELECT * FROM m")] == ["default"]
    # a policy named in the query wins over rp=
    rows = real.query_influxql("SELECT * FROM autogen.m", retention_policy="short")
    assert [r["p"] for r in rows] == ["default"]


def test_the_connection_option_and_the_call_override(influxdb1, real):
    db = real.config.database
    url = f"{influxdb1.url}?retention_policy=short"
    with influxkit.connect(url, api_version="v1", database=db) as conn:
        assert conn.config.retention_policy == "short"
        conn.write(f"m,p=short v=1 {_now()}")
        conn.write(f"m,p=default v=2 {_now()}", retention_policy="autogen")
        assert [r["p"] for r in conn.query_influxql("SELECT * FROM m")] == ["short"]
        rows = conn.query_influxql("SELECT * FROM m", retention_policy="autogen")
        assert [r["p"] for r in rows] == ["default"]
    assert [r["p"] for r in influxkit.query_influxql(real, "SELECT * FROM m")] == ["default"]


def test_batched_points_of_two_policies_are_never_sent_together(influxdb1, real):
    db = real.config.database
    batch = {"size": 1000, "flush_interval": 60}
    with influxkit.connect(influxdb1.url, api_version="v1", database=db, batch=batch) as conn:
        for i in range(6):
            rp = "short" if i % 2 else "autogen"
            conn.write(f"m,p={rp},i={i} v={i} {_now()}", retention_policy=rp)
        conn.flush(timeout=30)
    for rp in ("short", "autogen"):
        rows = real.query_influxql(f"SELECT * FROM {quote_ident(db)}.{rp}.m")
        assert sorted(r["i"] for r in rows) == [
            str(i) for i in range(6) if (rp == "short") == i % 2
        ]


def test_the_asyncio_api_sends_the_policy(influxdb1, real):
    db = real.config.database

    async def main() -> list[str]:
        async with influxkit.aio.connect(influxdb1.url, api_version="v1", database=db) as conn:
            await conn.write(f"m,p=short v=1 {_now()}", retention_policy="short")
            rows = await conn.query_influxql("SELECT * FROM m", retention_policy="short")
            return [r["p"] for r in rows]

    assert asyncio.run(main()) == ["short"]


# -- every side answers alike -------------------------------------------------------------


def test_autogen_is_the_default_policy(side):
    side.write("m v=1 1", retention_policy="autogen")
    side.write("m v=2 2")
    assert [r["v"] for r in side.query_influxql("SELECT * FROM m", retention_policy="autogen")] == [
        1,
        2,
    ]


def test_an_unknown_policy_is_a_500_not_worth_a_retry(side):
    with pytest.raises(influxkit.ServerError) as info:
        side.write("m v=1 1", retention_policy="nope")
    err = info.value
    assert type(err) is influxkit.ServerError
    assert (err.status, err.body) == (500, {"error": "retention policy not found: nope"})
    assert err.retryable is False
    assert side.query_influxql("SELECT * FROM m") == []  # nothing landed anywhere


def test_policy_names_are_case_sensitive(side):
    assert _outcome(lambda: side.write("m v=1 1", retention_policy="AUTOGEN")) == (
        "ServerError",
        500,
        {"error": "retention policy not found: AUTOGEN"},
    )


def test_an_empty_body_to_an_unknown_policy_is_still_refused(side):
    assert _outcome(lambda: side.write(b"", retention_policy="nope"))[:2] == ("ServerError", 500)


def test_a_body_that_does_not_parse_is_refused_before_the_policy(side):
    kind, status, body = _outcome(lambda: side.write("bad line", retention_policy="nope"))
    assert (kind, status) == ("WriteError", 400)
    assert body["error"].startswith("unable to parse 'bad line': ")


def test_a_query_of_an_unknown_policy_fails_its_statement(side):
    side.write("m,t=a v=1 1")
    kind, status, body = _outcome(
        lambda: side.query_influxql("SELECT * FROM m", retention_policy="nope")
    )
    assert (kind, status) == ("QueryError", 200)
    assert body == {"results": [{"statement_id": 0, "error": "retention policy not found: nope"}]}
    # SHOW TAG KEYS does not read rp= on 1.6.7; SHOW FIELD KEYS does
    assert side.query_influxql("SHOW TAG KEYS", retention_policy="nope") == [
        {"iox::measurement": "m", "tagKey": "t"}
    ]
    with pytest.raises(influxkit.QueryError, match="retention policy not found: nope"):
        side.query_influxql("SHOW FIELD KEYS FROM m", retention_policy="nope")


def test_a_batched_write_to_an_unknown_policy_goes_to_on_error_at_once(side):
    failed = []
    config = side.config
    url = None if config.client == "local" else config.base_url
    opts = {"client": "local", "profile": "v1"} if url is None else {"api_version": "v1"}
    batch = {"size": 10, "flush_interval": 0.05, "on_error": lambda b, e: failed.append((b, e))}
    with influxkit.connect(url, database="rp_batch", batch=batch, **opts) as conn:
        if "rp_batch" not in conn.list_databases():
            conn.create_database("rp_batch")
        try:
            conn.write("m v=1 1", retention_policy="nope")
            conn.flush(timeout=10)
            assert conn.stats()["retries"] == 0
        finally:
            conn.delete_database("rp_batch")
    ((batch_, error),) = failed
    assert batch_.database == "rp_batch/nope" and batch_.lines == ("m v=1 1",)
    assert error.status == 500 and "retention policy not found: nope" in str(error)

"""The HTTP client against a real InfluxDB 1.x server (Debian's 1.6.7), via the public API."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

import influxkit

pytestmark = pytest.mark.server

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
T0_DT = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def count(conn, measurement: str, field: str = "v") -> int:
    rows = conn.query_influxql(f'SELECT count("{field}") FROM "{measurement}"')
    return rows[0]["count"] if rows else 0


def test_every_field_type_round_trips(v1_conn):
    big = 2**62 + 1
    v1_conn.write(
        f'types,host=a f=1.5,w=82.0,i={big}i,n=-7i,s="say \\"hi\\" \\\\ ok",b=true {T0}000000000\n'
        f"types,host=b f=-0.25,b=F {T0 + 1}000000000"
    )
    rows = v1_conn.query_influxql("SELECT * FROM types")
    assert rows[0] == {
        "iox::measurement": "types",
        "time": T0_DT,
        "b": True,
        "f": 1.5,
        "host": "a",
        "i": big,
        "n": -7,
        "s": 'say "hi" \\ ok',
        "w": 82.0,  # 1.x's JSON writes 82.0 as 82: equal, but an int in Python
    }
    assert type(rows[0]["i"]) is int and rows[0]["i"] == big  # exact, not via a float
    assert rows[1]["b"] is False and rows[1]["i"] is None and rows[1]["host"] == "b"


def test_arrow_keeps_nanoseconds_and_big_ints(v1_conn):
    v1_conn.write(f"ns,host=a v=1,i={2**62 + 1}i 1700000000123456789")
    table = v1_conn.query_influxql("SELECT * FROM ns", format="arrow")
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.column("time").cast(pa.int64()).to_pylist() == [1700000000123456789]
    assert table.column("i").to_pylist() == [2**62 + 1]
    frame = v1_conn.query_influxql("SELECT * FROM ns", format="pandas")
    assert frame["time"].iloc[0].value == 1700000000123456789


def test_precisions_land_at_the_same_instant(v1_conn):
    for precision, ts in (("s", T0), ("ms", T0 * 1000), ("us", T0 * 10**6), ("ns", T0 * 10**9)):
        v1_conn.write(f"prec,p={precision} v=1 {ts}", precision=precision)
    rows = v1_conn.query_influxql("SELECT v, p FROM prec")
    assert sorted(r["p"] for r in rows) == ["ms", "ns", "s", "us"]
    assert {r["time"] for r in rows} == {T0_DT}


def test_write_to_unknown_database(v1_conn):
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        v1_conn.write("m v=1", database="no_such_db_here")
    assert info.value.status == 404 and "no_such_db_here" in str(info.value)


def test_bad_line_is_a_write_error_with_the_server_message(v1_conn):
    with pytest.raises(influxkit.WriteError) as info:
        v1_conn.write("cpu,host=a val= 123")
    err = info.value
    assert type(err) is influxkit.WriteError and err.status == 400
    assert "unable to parse 'cpu,host=a val= 123': missing field value" in str(err)
    (line,) = err.line_errors
    assert (line.line_number, line.original_line) == (1, "cpu,host=a val= 123")


def test_partial_write(v1_conn):
    with pytest.raises(influxkit.PartialWriteError) as info:
        v1_conn.write("part v=1 1\npart,host=a val= 123\npart v=2 2\nnot a line")
    err = info.value
    assert err.status == 400 and "partial write" in str(err)
    assert [(e.line_number, e.original_line) for e in err.line_errors] == [
        (2, "part,host=a val= 123"),
        (4, "not a line"),
    ]
    assert count(v1_conn, "part") == 2  # the valid points landed


def test_type_conflict_is_a_partial_write(v1_conn):
    v1_conn.write("tc v=1 1")
    with pytest.raises(influxkit.PartialWriteError, match=r"field type conflict.*dropped=1"):
        v1_conn.write('tc v=2 2\ntc v="text" 3')
    assert count(v1_conn, "tc") == 2


def test_gzip_body_above_threshold(v1_conn):
    body = "\n".join(f"gz,host=h{i % 7} v={i} {T0 + i}000000000" for i in range(5000))
    outcome = v1_conn.write(body)
    assert outcome.bytes_sent < len(body) / 3  # it went gzipped (threshold 1024 bytes)
    assert outcome.lines == 5000
    assert count(v1_conn, "gz") == 5000


def test_query_unknown_database(v1_conn):
    with pytest.raises(influxkit.DatabaseNotFound, match="database not found: nodb_x"):
        v1_conn.query_influxql("SELECT * FROM m", database="nodb_x")


def test_query_parse_error(v1_conn):
    with pytest.raises(influxkit.QueryError, match="error parsing query") as info:
        v1_conn.query_influxql("SELEC * FROM m")
    assert info.value.status == 400


def test_bound_parameters_and_group_by(v1_conn):
    v1_conn.write(f"gb,host=a v=1 {T0}000000000\ngb,host=b v=2 {T0}000000000\ngb v=3 {T0}")
    rows = v1_conn.query_influxql("SELECT v FROM gb WHERE host = $h", params={"h": "b"})
    assert [r["v"] for r in rows] == [2]
    grouped = v1_conn.query_influxql("SELECT v FROM gb GROUP BY host")
    assert [(r["host"], r["v"]) for r in grouped] == [("", 3), ("a", 1), ("b", 2)]
    assert list(grouped[0]) == ["iox::measurement", "time", "host", "v"]


def test_databases(influxdb1, v1_db):
    with influxkit.connect(influxdb1.url, api_version="v1") as conn:
        assert v1_db not in conn.list_databases()
        conn.create_database(v1_db, retention_period="30d")
        try:
            assert v1_db in conn.list_databases()
            with pytest.raises(influxkit.ServerError) as info:
                conn.create_database(v1_db)
            assert info.value.status == 409
        finally:
            conn.delete_database(v1_db)
        assert v1_db not in conn.list_databases()
        with pytest.raises(influxkit.DatabaseNotFound):
            conn.delete_database(v1_db)


def test_health(influxdb1):
    with influxkit.connect(influxdb1.url, api_version="v1") as conn:
        health = conn.health()
    assert health["status"] == "pass"
    assert health["version"].startswith("1.6") and health["build"] == "OSS"


def test_credentials_are_accepted_when_auth_is_off(influxdb1, v1_conn):
    # This server runs without auth (as packaged); the Basic header is simply ignored.
    name = v1_conn.config.database
    with influxkit.connect(
        influxdb1.url, api_version="v1", database=name, username="u", password="p"
    ) as conn:
        conn.write("auth v=1 1")
        assert count(conn, "auth") == 1


def test_unsupported_operations_fail_before_any_request(v1_conn):
    with pytest.raises(influxkit.UnsupportedOperation):
        v1_conn.query_sql("SELECT 1")


def test_chunked_answer_of_many_rows(v1_conn):
    # 1.x answers in chunks of 10,000 rows; rows and Arrow see them as one result.
    n = 25_000
    v1_conn.write("\n".join(f"big,host=h{i % 3} v={i}i {T0}{i:09d}" for i in range(n)))
    rows = v1_conn.query_influxql("SELECT v FROM big")
    assert len(rows) == n and [r["v"] for r in rows[:3]] == [0, 1, 2]
    table = v1_conn.query_influxql("SELECT v FROM big", format="arrow")
    assert table.num_rows == n and table.column("v").to_pylist()[-1] == n - 1
    assert table.column("time").cast(pa.int64())[-1].as_py() == T0 * 10**9 + n - 1

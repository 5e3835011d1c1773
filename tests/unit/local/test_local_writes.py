"""Writes into the local engine: InfluxDB 3's schema-on-write rules, partial writes, merges."""

from __future__ import annotations

import dataclasses
import time

import pytest

from influxkit.clients.local import LocalClient
from influxkit.clients.profiles import get_profile
from influxkit.errors import DatabaseNotFound, PartialWriteError, WriteError

FLOAT = "iox::column_type::field::float"
INTEGER = "iox::column_type::field::integer"
TAG = "iox::column_type::tag"


def rejected(engine, text, **kwargs):
    with pytest.raises(WriteError) as info:
        engine.write(text, **kwargs)
    return info.value


def test_valid_lines_are_counted_and_stored(engine):
    outcome = engine.write("cpu,host=a usage=0.5 1\ncpu,host=b usage=0.7 2\n")
    assert outcome.lines == 2
    assert engine.values("SELECT host, usage, time FROM cpu ORDER BY time") == [
        ("a", 0.5, 1),
        ("b", 0.7, 2),
    ]


def test_duplicate_field_in_a_line(engine):
    err = rejected(engine, "cpu usage=1,usage=2 1")
    assert isinstance(err, PartialWriteError)
    assert err.status == 400
    assert err.line_errors[0].message == (
        "invalid line protocol - multiple instances of 'usage' field found"
    )


def test_field_type_conflict_with_an_existing_column(engine):
    engine.write("cpu usage=1.5 1")
    err = rejected(engine, "cpu usage=2i 2")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'usage', expected {FLOAT}, got {INTEGER}"
    )
    assert err.status == 400


def test_type_checks_apply_between_lines_of_one_request(engine):
    err = rejected(engine, "cpu n=1i 1\ncpu n=2.5 2\ncpu n=3i 3")
    assert [(e.line_number, e.message) for e in err.line_errors] == [
        (2, f"invalid column type for column 'n', expected {INTEGER}, got {FLOAT}")
    ]
    assert engine.values("SELECT n FROM cpu ORDER BY time") == [(1,), (3,)]


def test_tag_and_field_with_one_name(engine):
    err = rejected(engine, "cpu,x=a x=1 1")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'x', expected {TAG}, got {FLOAT}"
    )
    engine.write("mem,host=a free=1 1")
    err = rejected(engine, "mem host=2 2")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'host', expected {TAG}, got {FLOAT}"
    )
    err = rejected(engine, "mem,free=x used=2 2")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'free', expected {FLOAT}, got {TAG}"
    )


def test_time_is_reserved_on_a_new_table_and_typed_on_an_existing_one(engine):
    err = rejected(engine, "cpu,time=a v=1 1")
    assert err.line_errors[0].message == "'time' is a reserved column"
    err = rejected(engine, "cpu time=1 1")
    assert err.line_errors[0].message == "'time' is a reserved column"
    engine.write("cpu v=1 1")
    err = rejected(engine, "cpu time=1 2")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'time', expected iox::column_type::timestamp, got {FLOAT}"
    )
    err = rejected(engine, "cpu,time=x v=1 2")
    assert err.line_errors[0].message == (
        f"invalid column type for column 'time', expected iox::column_type::timestamp, got {TAG}"
    )
    err = rejected(engine, "cpu __chunk_order=1 2")
    assert err.line_errors[0].message == "'__chunk_order' is a reserved column"


def test_time_column_exists_for_later_lines_of_the_creating_request(engine):
    err = rejected(engine, "cpu v=1 1\ncpu time=2 2")
    assert err.line_errors[0].message.startswith("invalid column type for column 'time'")


def limited(**limits):
    return LocalClient(dataclasses.replace(get_profile("v3_core"), **limits), databases=["db"])


def test_column_limit_is_422_in_a_partial_write(make_engine):
    engine = make_engine()
    engine.client = limited(max_columns=3)
    engine.write("cpu,a=1 b=1,c=1 1")
    err = rejected(engine, "cpu d=1 2\ncpu b=2 3")
    assert isinstance(err, PartialWriteError)
    assert err.status == 422
    assert err.line_errors[0].message == (
        "Update to schema would exceed number of columns per table limit of 3 columns"
    )
    assert engine.values("SELECT b FROM cpu ORDER BY time") == [(1.0,), (2.0,)]
    # Without accept_partial the same rejection is a plain 400 and nothing lands.
    err = rejected(engine, "cpu b=3 4\ncpu e=1 5", accept_partial=False)
    assert err.status == 400
    assert engine.values("SELECT count(*) FROM cpu") == [(2,)]


def test_table_limit_counts_tables_of_every_database(make_engine):
    engine = make_engine()
    engine.client = limited(max_tables=2)
    engine.write("t1 v=1 1")
    engine.write("t2 v=1 1", db="other")
    err = rejected(engine, "t3 v=1 1\nt1 v=2 2")
    assert err.status == 422
    assert err.line_errors == [
        err.line_errors[0].__class__(
            1,
            "Update to schema would exceed number of tables limit: attempted to create table "
            "but already have 2 table(s) (limit: 2)",
            "t3 v=1 1",
        )
    ]


def test_partial_write_lands_valid_lines_and_reports_the_rest(engine):
    body = (
        "cpu,host=a usage=1 1\ncpu,host=a usage= 2\n\n# comment\ncpu,host=b usage=2i 3\nmem v=1 4"
    )
    with pytest.raises(PartialWriteError) as info:
        engine.write(body)
    err = info.value
    assert err.status == 400
    assert err.message == "partial write of line protocol occurred"
    assert [e.line_number for e in err.line_errors] == [2, 3]
    assert err.line_errors[1].message == (
        f"invalid column type for column 'usage', expected {FLOAT}, got {INTEGER}"
    )
    assert err.body["error"] == "partial write of line protocol occurred"
    assert [d["line_number"] for d in err.body["data"]] == [2, 3]
    assert list(err.body["data"][0]) == ["error_message", "line_number", "original_line"]
    assert engine.values("SELECT host, usage FROM cpu") == [("a", 1.0)]
    assert engine.values("SELECT v FROM mem") == [(1.0,)]


def test_original_line_is_cut_to_20_bytes_on_a_utf8_boundary(engine):
    engine.write("cpu v=1 1")
    line = "cpu,lieu=Zürich_éé v=1i 2"
    err = rejected(engine, line)
    cut = err.body["data"][0]["original_line"]
    assert len(cut.encode()) <= 20
    assert line.startswith(cut)
    assert cut == "cpu,lieu=Zürich_é"  # the second é would straddle byte 20
    assert err.line_errors[0].original_line == cut


def test_rule_errors_show_the_line_as_the_server_reprints_it(engine):
    engine.write("m f=1 1")
    err = rejected(engine, "m f=1i,g=2.50 3")
    assert err.line_errors[0].original_line == "m f=1i,g=2.5 3"


def test_every_line_invalid_is_still_a_partial_write_and_nothing_lands(engine):
    engine.write("cpu v=1 1")
    err = rejected(engine, "cpu v=1i 2\ncpu v=true 3")
    assert isinstance(err, PartialWriteError)
    assert [e.line_number for e in err.line_errors] == [1, 2]
    assert engine.values("SELECT count(*) FROM cpu") == [(1,)]


def test_accept_partial_false_stops_at_the_first_bad_line(engine):
    engine.write("cpu v=1 1")
    err = rejected(engine, "cpu v=2 2\ncpu v=3i 3\ncpu v= 4", accept_partial=False)
    assert not isinstance(err, PartialWriteError)
    assert err.status == 400
    assert err.message == "line protocol parsing error"
    assert err.body == {
        "error": "line protocol parsing error",
        "data": {
            "error_message": (
                f"invalid column type for column 'v', expected {FLOAT}, got {INTEGER}"
            ),
            "line_number": 2,
            "original_line": "cpu v=3i 3",
        },
    }
    assert [e.line_number for e in err.line_errors] == [2]
    assert engine.values("SELECT v FROM cpu") == [(1.0,)]


def test_accept_partial_false_reports_a_syntax_error_before_a_later_rule_error(engine):
    engine.write("cpu v=1 1")
    err = rejected(engine, "cpu v= 2\ncpu v=3i 3", accept_partial=False)
    assert err.line_errors[0].line_number == 1
    assert err.body["data"]["original_line"] == "cpu v= 2"


def test_refused_strict_write_does_not_create_the_database(engine):
    rejected(engine, "cpu v= 1", db="fresh", accept_partial=False)
    assert engine.client.list_databases() == ["db"]


@pytest.mark.parametrize("body", ["", "\n\n", "# just a comment\n", "   \n# c\n"])
def test_empty_write(engine, body):
    err = rejected(engine, body)
    assert not isinstance(err, PartialWriteError)
    assert (err.status, err.message) == (400, "incoming write was empty")


def test_same_series_and_time_merge_field_by_field(engine):
    engine.write("cpu,host=a,dc=x usage=1,idle=9 10")
    engine.write("cpu,dc=x,host=a usage=2,load=3i 10")
    engine.write("cpu,host=a,dc=x usage=5 11")
    assert engine.values("SELECT dc, host, idle, load, usage, time FROM cpu ORDER BY time") == [
        ("x", "a", 9.0, 3, 2.0, 10),
        ("x", "a", None, None, 5.0, 11),
    ]


def test_merge_within_one_request_later_line_wins(engine):
    engine.write("cpu,host=a v=1,w=1 10\ncpu,host=a v=2 10")
    assert engine.values("SELECT v, w FROM cpu") == [(2.0, 1.0)]


def test_missing_tags_and_fields_are_null(engine):
    engine.write("cpu,host=a v=1 1\ncpu,dc=z w=2 2\ncpu x=true 3")
    assert engine.values("SELECT dc, host, v, w, x FROM cpu ORDER BY time") == [
        (None, "a", 1.0, None, None),
        ("z", None, None, 2.0, None),
        (None, None, None, None, True),
    ]


@pytest.mark.parametrize(
    ("precision", "ts", "expected"),
    [
        ("ns", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
        ("us", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("ms", 1_700_000_000_123, 1_700_000_000_123_000_000),
        ("s", 1_700_000_000, 1_700_000_000_000_000_000),
        ("auto", 1_700_000_000, 1_700_000_000_000_000_000),
        ("auto", 1_700_000_000_123, 1_700_000_000_123_000_000),
        ("auto", 1_700_000_000_123_456, 1_700_000_000_123_456_000),
        ("auto", 1_700_000_000_123_456_789, 1_700_000_000_123_456_789),
    ],
)
def test_precision(engine, precision, ts, expected):
    engine.write(f"cpu v=1 {ts}", precision=precision)
    assert engine.values("SELECT time FROM cpu") == [(expected,)]


def test_timestamp_out_of_range_for_its_precision(engine):
    err = rejected(engine, "cpu v=1 9223372036854775807\ncpu v=2 1", precision="s")
    assert err.line_errors[0].message == (
        "timestamp, 9223372036854775807, out of range for precision: Second"
    )
    assert engine.values("SELECT v FROM cpu") == [(2.0,)]


def test_missing_timestamp_is_now_once_per_request(engine):
    before = time.time_ns()
    engine.write("cpu v=1\ncpu w=2")
    after = time.time_ns()
    rows = engine.values("SELECT v, w, time FROM cpu")
    assert len(rows) == 1  # one request, one "now": the two lines are one point
    v, w, ts = rows[0]
    assert (v, w) == (1.0, 2.0)
    assert before <= ts <= after


def test_missing_timestamp_is_truncated_to_an_explicit_precision(engine):
    engine.write("cpu v=1", precision="s")
    (ts,) = engine.values("SELECT time FROM cpu")[0]
    assert ts % 1_000_000_000 == 0


def test_field_types_are_stored_as_written(engine):
    engine.write('m f=1.5,i=-2i,u=3u,s="x y",b=t 1')
    assert engine.values("SELECT b, f, i, s, u FROM m") == [(True, 1.5, -2, "x y", 3)]


def test_write_creates_the_database_on_v3(engine):
    engine.write("cpu v=1 1", db="fresh")
    assert engine.client.list_databases() == ["db", "fresh"]


def test_write_to_a_database_with_a_bad_name(engine):
    err = rejected(engine, "cpu v=1 1", db="bad name")
    assert err.status == 400
    assert err.message == (
        "invalid character in database or rp name: must be ASCII, containing only letters, "
        "numbers, underscores, or hyphens"
    )
    assert err.body == {"error": err.message}


def test_write_beyond_the_database_limit(make_engine):
    engine = make_engine(databases=("a", "b", "c", "d", "e"))
    err = rejected(engine, "cpu v=1 1", db="f")
    assert not isinstance(err, PartialWriteError)
    assert err.status == 422
    assert err.message == "Adding a new database would exceed limit of 5 databases"
    assert err.body == {"error": err.message}


@pytest.mark.parametrize("profile", ["v1", "v2"])
def test_v1_and_v2_do_not_create_databases(make_engine, profile):
    engine = make_engine(profile)
    with pytest.raises(DatabaseNotFound) as info:
        engine.write("cpu v=1 1", db="nope")
    assert info.value.status == 404
    assert info.value.message == 'database not found: "nope"'


def test_v1_refuses_unsigned_integers(make_engine):
    engine = make_engine("v1")
    err = rejected(engine, "cpu n=1u 1\ncpu n=2i 2")
    # 1.x's body, and the line details the HTTP client reads from it (see writes_v1).
    assert err.body == {
        "error": "partial write: unable to parse 'cpu n=1u 1': invalid number dropped=0"
    }
    assert (err.line_errors[0].message, err.line_errors[0].original_line) == (
        "invalid number",
        "cpu n=1u 1",
    )
    assert engine.values("SELECT n FROM cpu") == [(2,)]


def test_unsigned_integers_on_v3(engine):
    engine.write("cpu n=18446744073709551615u 1")
    assert engine.values("SELECT n FROM cpu") == [(18446744073709551615,)]


def test_syntax_errors_come_with_their_line_numbers(engine):
    err = rejected(engine, "cpu v=1 1\nbad line here\ncpu v=2 2")
    assert [e.line_number for e in err.line_errors] == [2]
    assert err.line_errors[0].original_line == "bad line here"
    assert engine.values("SELECT count(*) FROM cpu") == [(2,)]

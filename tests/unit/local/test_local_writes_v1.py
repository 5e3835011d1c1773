"""The ``v1`` profile's writes: InfluxDB 1.x's rules (the real server's check is in
``tests/server/test_v1_write_errors_differential.py``), and properties of the texts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.clients.local import LocalClient
from influxkit.clients.profiles import get_profile
from influxkit.errors import DatabaseNotFound, PartialWriteError, WriteError
from influxkit.protocol.responses import v1_line_errors
from influxkit.server.write_v1 import go_json_error

T2020 = 1_577_836_800_000_000_000


@pytest.fixture
def v1(make_engine):
    return make_engine("v1")


def refused(engine, body: str, **kwargs):
    with pytest.raises(WriteError) as info:
        engine.write(body, **kwargs)
    return info.value


def test_a_missing_database_is_checked_before_the_body(v1):
    with pytest.raises(DatabaseNotFound) as info:
        v1.write("not line protocol", db="nope")
    assert (info.value.status, info.value.body) == (404, {"error": 'database not found: "nope"'})


def test_an_empty_body_is_a_success(v1):
    assert v1.write("").lines == 0
    assert v1.write("\n# just a comment\n").lines == 0


def test_a_conflict_in_a_new_shard_fails_the_shard_then_is_partial(v1):
    err = refused(v1, 'c v=1 1\nc v="s" 2')
    assert type(err) is WriteError and err.body == {"error": "field type conflict"}
    assert v1.client.list_databases() == ["db"] and not v1.client._snapshot("db")
    err = refused(v1, 'c v=1 1\nc v="s" 2')  # the shard exists now
    assert isinstance(err, PartialWriteError)
    assert err.body["error"].endswith("is type string, already exists as type float dropped=1")
    assert v1.values("SELECT time, v FROM c") == [(1, 1.0)]


def test_shards_are_weeks_from_monday(v1):
    monday = 4 * 86_400 * 10**9  # 1970-01-05
    v1.write("a v=1 1")  # makes the week before that Monday
    err = refused(v1, f'c v=1 {monday - 1}\nc v="s" {monday - 2}')
    assert isinstance(err, PartialWriteError)
    err = refused(v1, f'd v=1 {monday}\nd v="s" {monday + 1}')
    assert type(err) is WriteError


def test_a_new_shard_fails_alone(v1):
    v1.write("a v=1 1")
    err = refused(v1, f'c v=1 2\nc v="s" 3\nd v=1 {T2020}\nd v="s" {T2020 + 1}')
    assert type(err) is WriteError and err.message == "field type conflict"
    assert v1.values("SELECT time, v FROM c") == [(2, 1.0)]
    assert "d" not in v1.client._snapshot("db")


def test_a_dropped_database_made_again_has_no_shards(v1):
    v1.write("a v=1 1")
    v1.client.delete_database("db")
    v1.client.create_database("db")
    assert type(refused(v1, 'c v=1 1\nc v="s" 2')) is WriteError


def test_time_tags_and_fields(v1):
    err = refused(v1, "a v=1 1\na,time=x v=2 2\na time=3 3\na time=4,v=4 4")
    assert err.body == {
        "error": 'partial write: invalid tag key: input tag "time" on measurement "a" '
        "is invalid dropped=2"
    }
    assert v1.values("SELECT time, v FROM a") == [(1, 1.0), (4, 4.0)]


def test_a_field_twice_keeps_the_last_value_or_conflicts(v1):
    v1.write("a v=1 1")
    v1.write("a v=1,v=2 2")
    assert v1.values("SELECT time, v FROM a") == [(1, 1.0), (2, 2.0)]
    err = refused(v1, 'a w=1,w="s" 3')
    assert 'input field "w" on measurement "a" is type string, already exists as type ' in (
        err.message
    )


def test_a_tag_and_a_field_of_one_name_is_dropped_and_said_why(v1):
    v1.write("a v=1 1")
    for body in ("a,v=x w=1 2", "a,t=x t=1 3"):
        err = refused(v1, body)
        assert isinstance(err, PartialWriteError) and "would be both a tag and a field" in (
            err.message
        )


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("a v=1u 1", "invalid number"),
        ("a,t=1,t=2 v=1 1", "duplicate tags"),
        (
            "a v=1 9223372036854775807",
            "time outside range -9223372036854775806 - 9223372036854775806",
        ),
    ],
)
def test_what_1x_does_not_parse(v1, line, reason):
    err = refused(v1, line)
    assert type(err) is WriteError
    assert err.body == {"error": f"unable to parse '{line}': {reason}"}
    assert [(e.line_number, e.message, e.original_line) for e in err.line_errors] == [
        (1, reason, line)
    ]


@pytest.mark.parametrize(("precision", "unit"), [("m", 60 * 10**9), ("h", 3600 * 10**9)])
def test_minutes_and_hours(v1, precision, unit):
    v1.write("a v=1 2\na w=1", precision=precision)
    times = sorted(t for (t,) in v1.values("SELECT time FROM a"))
    assert times[0] == 2 * unit and times[1] % unit == 0
    assert "time outside range" in refused(v1, "a v=1 9223372036854", precision=precision).message


def test_other_profiles_refuse_minutes_and_hours(make_engine):
    from influxkit.errors import ConfigError

    with pytest.raises(ConfigError, match="exists only on InfluxDB"):
        make_engine("v3_core").write("a v=1 1", precision="h")


# -- properties ---------------------------------------------------------------------


@given(st.text())
def test_go_json_is_json_and_escapes_what_go_escapes(text):
    out = go_json_error(text)
    assert json.loads(out) == {"error": text} and out.endswith(b"}\n")
    inner = out[len(b'{"error":"') : -3]
    assert not any(c in inner for c in b"<>&\n\r")
    assert all(b >= 0x20 for b in inner)
    assert "\u2028" not in inner.decode() and "\u2029" not in inner.decode()


GOOD = ["m v=1", "m,t=a v=2", 'm s="x y"', "n b=true"]  # one type per field
BAD = ["m v=", "m", "m v=1u", "m,t=1,t=2 v=1", "bad line here"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 4)), max_size=8))
def test_good_lines_land_and_bad_ones_are_named(picks):
    engine = LocalClient(get_profile("v1"), databases=["db"])
    lines, good, bad = [], [], []
    for number, (ok, g, b) in enumerate(picks, 1):
        lines.append(f"{GOOD[g] if ok else BAD[b]} {number}")
        (good if ok else bad).append(number)
    body = "\n".join(lines).encode()
    try:
        outcome = engine.write(
            body, database="db", precision="ns", accept_partial=True, no_sync=False
        )
    except WriteError as err:
        assert bad
        assert isinstance(err, PartialWriteError) is bool(good)
        assert err.line_errors == v1_line_errors(err.body["error"], body)
        assert [e.line_number for e in err.line_errors] == bad
    else:
        assert not bad and outcome.lines == len(good)
    stored = engine._snapshot("db")
    assert sum(t.num_rows for t in stored.values()) == len(good)

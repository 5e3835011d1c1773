"""Pinned field types: exact coercions, refusals naming what and why, through write()."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import influxkit
from influxkit import InvalidRecord, Point, Schema, UInt
from influxkit.lineprotocol.encode import encode
from influxkit.lineprotocol.parse import parse

SCHEMA = Schema.from_value(
    {
        "cpu": {"usage": "float", "count": "int", "free": "uint", "ok": "bool", "note": "string"},
        "mem": {"fields": {"used": "float"}, "tags": ["host"]},
    }
)


def fields_of(body: bytes) -> dict:
    result = parse(body)
    assert not result.errors
    [(_, line)] = result.lines
    return {k: (t.name, v) for k, t, v in line.fields}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("usage", 3, ("FLOAT", 3.0)),
        ("usage", 2**53, ("FLOAT", float(2**53))),
        ("usage", 0.25, ("FLOAT", 0.25)),
        ("count", 7.0, ("INTEGER", 7)),
        ("count", -3, ("INTEGER", -3)),
        ("count", UInt(5), ("INTEGER", 5)),
        ("free", 9, ("UINTEGER", 9)),
        ("free", 9.0, ("UINTEGER", 9)),
        ("free", 2**64 - 1, ("UINTEGER", 2**64 - 1)),
        ("ok", True, ("BOOLEAN", True)),
        ("note", "x", ("STRING", "x")),
    ],
)
def test_exact_coercions(field, value, expected) -> None:
    body = encode({"measurement": "cpu", "fields": {field: value}, "time": 1}, schema=SCHEMA)
    assert fields_of(body)[field] == expected


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("usage", "high", "numbers only"),
        ("usage", True, "numbers only"),
        ("usage", 2**53 + 1, "exactly"),
        ("count", 1.5, "fraction"),
        ("count", float("nan"), "fraction"),
        ("count", 2**63, "int64"),
        ("free", -1, "0..2\\*\\*64-1"),
        ("free", 2**64, "0..2\\*\\*64-1"),
        ("ok", 1, "True or False"),
        ("note", 5, "pass a str"),
    ],
)
def test_refusals_name_measurement_field_value_and_type(field, value, why) -> None:
    with pytest.raises(InvalidRecord, match=why) as info:
        encode({"measurement": "cpu", "fields": {field: value}}, schema=SCHEMA)
    message = str(info.value)
    assert "'cpu'" in message and repr(field) in message
    assert SCHEMA.get("cpu").fields[field] in message


def test_points_are_coerced_without_changing_the_callers_point() -> None:
    p = Point("cpu").field("usage", 1).field("other", 2).time(5)
    assert encode(p, schema=SCHEMA) == b"cpu usage=1.0,other=2i 5"
    assert p.fields["usage"] == 1 and type(p.fields["usage"]) is int


def test_declared_tag_keys_refuse_others() -> None:
    assert encode({"measurement": "mem", "tags": {"host": "a"}, "fields": {"used": 1}, "time": 1},
                  schema=SCHEMA) == b"mem,host=a used=1.0 1"  # fmt: skip
    with pytest.raises(InvalidRecord, match=r"'hots'.*declared tag keys \['host'\]"):
        encode({"measurement": "mem", "tags": {"hots": "a"}, "fields": {"used": 1}}, schema=SCHEMA)


def test_undeclared_measurements_and_line_protocol_pass_unchanged() -> None:
    assert encode(["disk free=1i 1", {"measurement": "disk", "fields": {"x": 1}, "time": 2}],
                  schema=SCHEMA) == b"disk free=1i 1\ndisk x=1i 2"  # fmt: skip


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("cpu", "expected a dict"),
        ({"cpu": {"usage": "decimal"}}, "expected one of float, int, uint, bool, string"),
        ({"cpu": {"fields": {"a": "int"}, "tagz": []}}, "unknown key"),
        ({"cpu": {"fields": {"a": "int"}, "tags": ["a"]}}, "both tag and field"),
        ({"cpu": {"fields": {}, "tags": "host"}}, "list of tag keys"),
    ],
)
def test_bad_schemas_are_refused_at_creation(value, match) -> None:
    with pytest.raises(influxkit.ConfigError, match=match):
        influxkit.connect(client="local", schema=value)


def test_connection_and_per_write_schemas() -> None:
    with influxkit.connect(client="local", database="db", schema={"cpu": {"v": "float"}}) as conn:
        conn.write({"measurement": "cpu", "fields": {"v": 1, "n": 1.0}, "time": 1})
        conn.write({"measurement": "cpu", "fields": {"v": 2, "n": 2}, "time": 2},
                   schema={"cpu": {"v": "float", "n": "float"}})  # fmt: skip
        rows = conn.query_sql("SELECT v, n FROM cpu ORDER BY time")
        assert rows == [{"v": 1.0, "n": 1.0}, {"v": 2.0, "n": 2.0}]
        with pytest.raises(InvalidRecord):
            conn.write({"measurement": "cpu", "fields": {"v": "x"}})


def test_schema_from_the_local_engine_pins_what_exists() -> None:
    with influxkit.connect(client="local", database="db") as conn:
        conn.write('cpu,host=a usage=0.5,n=1i,u=2u,ok=true,s="x" 1')
        schema = influxkit.schema_from_server(conn, "cpu")
        assert dict(schema.get("cpu").fields) == {
            "n": "int", "ok": "bool", "s": "string", "u": "uint", "usage": "float"
        }  # fmt: skip
        conn.write({"measurement": "cpu", "fields": {"usage": 1}, "time": 2}, schema=schema)
        with pytest.raises(influxkit.QueryError, match="no fields"):
            influxkit.schema_from_server(conn, "nothing")


@given(st.integers(min_value=-(2**60), max_value=2**60))
def test_int_to_float_is_exact_or_refused(value: int) -> None:
    try:
        body = encode({"measurement": "cpu", "fields": {"usage": value}, "time": 1}, schema=SCHEMA)
    except InvalidRecord:
        assert float(value) != value
    else:
        kind, parsed = fields_of(body)["usage"]
        assert kind == "FLOAT" and parsed == value


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_to_int_is_exact_or_refused(value: float) -> None:
    try:
        body = encode({"measurement": "cpu", "fields": {"count": value}, "time": 1}, schema=SCHEMA)
    except InvalidRecord:
        assert not (value.is_integer() and -(2**63) <= value < 2**63)
    else:
        assert fields_of(body)["count"] == ("INTEGER", int(value))

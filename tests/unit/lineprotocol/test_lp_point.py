"""Point: chained and one-call building, time handling, views, equality, repr."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.model import UInt
from influxkit.point import Point


def test_chained_and_one_call_forms_are_equal():
    chained = Point("cpu").tag("host", "a").field("usage", 0.5).field("n", 3).time(7)
    one_call = Point("cpu", tags={"host": "a"}, fields={"usage": 0.5, "n": 3}, time=7)
    assert chained == one_call
    assert chained.to_line_protocol() == "cpu,host=a usage=0.5,n=3i 7"


def test_each_builder_call_returns_the_point():
    p = Point("m")
    assert p.tag("a", "b") is p
    assert p.field("f", 1) is p
    assert p.time(1) is p


def test_time_is_kept_in_nanoseconds():
    assert Point("m").time(3, precision="s").time_ns == 3_000_000_000
    assert Point("m").time(3, precision="us").time_ns == 3_000
    assert Point("m", time=1_700_000_000, precision="auto").time_ns == 1_700_000_000 * 10**9
    dt = datetime(2026, 1, 1, tzinfo=UTC)
    assert Point("m").time(dt).time_ns == 1_767_225_600_000_000_000
    assert Point("m").time("2026-01-01T00:00:00.000000007Z").time_ns == 1_767_225_600_000_000_007
    assert Point("m").time(1).time(None).time_ns is None


def test_to_line_protocol_floors_to_the_precision():
    p = Point("m").field("f", 1.5).time(1_999_999_999)
    assert p.to_line_protocol(precision="s") == "m f=1.5 1"
    assert p.to_line_protocol(precision="ms") == "m f=1.5 1999"
    assert p.to_line_protocol() == "m f=1.5 1999999999"


def test_bad_times_are_refused_at_time():
    with pytest.raises(InvalidRecord, match="'m'"):
        Point("m").time(1.5)
    with pytest.raises(InvalidRecord):
        Point("m").time(2**62, precision="s")


def test_none_and_empty_tags_and_none_fields_are_removed():
    p = Point("m").tag("a", "x").tag("b", "").tag("c", None).field("f", 1).field("g", None)
    assert dict(p.tags) == {"a": "x"}
    assert dict(p.fields) == {"f": 1}
    p.tag("a", None).field("f", None)
    assert dict(p.tags) == {} and dict(p.fields) == {}


def test_number_tag_values_are_stored_as_text_and_others_refused():
    assert dict(Point("m").tag("n", 5).tag("x", 1.5).tags) == {"n": "5", "x": "1.5"}
    with pytest.raises(InvalidRecord, match="tag 'l' value"):
        Point("m").tag("l", [1])


def test_changing_a_tag_changes_the_encoded_series():
    p = Point("m").tag("host", "a").field("f", 1)
    assert p.to_line_protocol() == "m,host=a f=1i"
    p.tag("host", "b")
    assert p.to_line_protocol() == "m,host=b f=1i"


def test_views_are_read_only():
    p = Point("m").tag("a", "b").field("f", 1)
    with pytest.raises(TypeError):
        p.tags["a"] = "c"  # type: ignore[index]
    with pytest.raises(TypeError):
        p.fields["f"] = 2  # type: ignore[index]
    assert p.measurement == "m"
    with pytest.raises(AttributeError):
        p.measurement = "n"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        p.extra = 1  # type: ignore[attr-defined]  # __slots__


def test_equality_respects_field_types():
    assert Point("m").field("f", 1) != Point("m").field("f", 1.0)
    assert Point("m").field("f", 1) != Point("m").field("f", True)
    assert Point("m").field("f", 1) != Point("m").field("f", UInt(1))
    assert Point("m").field("f", 1) != Point("n").field("f", 1)
    assert Point("m").field("f", 1).time(1) != Point("m").field("f", 1)
    assert Point("m") != "m"
    with pytest.raises(TypeError):
        hash(Point("m"))


def test_repr_is_readable_and_round_trips():
    p = Point("cpu", tags={"host": "a"}, fields={"usage": 0.5}, time=7)
    assert repr(p) == "Point('cpu', tags={'host': 'a'}, fields={'usage': 0.5}, time=7)"
    assert eval(repr(p)) == p
    assert repr(Point("m")) == "Point('m')"


def test_from_dict():
    d = {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"v": 1.0}, "time": 2}
    assert Point.from_dict(d) == Point("cpu").tag("host", "a").field("v", 1.0).time(2)
    assert Point.from_dict(d, precision="s").time_ns == 2_000_000_000
    assert Point.from_dict({"measurement": "m"}) == Point("m")
    with pytest.raises(InvalidRecord, match="'measurement'"):
        Point.from_dict({"measurment": "m"})


@pytest.mark.parametrize("measurement", ["", None, 5])
def test_a_measurement_must_be_a_non_empty_str(measurement):
    with pytest.raises(InvalidRecord):
        Point(measurement)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, 2**64, 1.5, "3", True])
def test_a_uint_out_of_range_or_not_an_int_is_an_invalid_record(value):
    with pytest.raises(InvalidRecord, match="UInt"):
        UInt(value)

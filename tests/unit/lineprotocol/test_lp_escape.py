"""Escaping (reference 2.2) and the names line protocol cannot carry."""

from __future__ import annotations

import pytest

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.encode import encode
from influxkit.lineprotocol.escape import escape_key, escape_measurement, escape_string
from influxkit.lineprotocol.parse import parse
from influxkit.point import Point


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("cpu", "cpu"),
        ("a,b", r"a\,b"),
        ("a b", r"a\ b"),
        ("a=b", "a=b"),  # '=' needs no escape in a measurement
        ('a"b', 'a"b'),
        ("a\\b", "a\\b"),  # a lone backslash stays single: 1.x / 2.x read it the same
        ("a\\\\b", r"a\\\b"),  # before another backslash it is doubled
        ("a\\,b", r"a\\\,b"),  # and before an escaped character
        ("a\\=b", r"a\=b"),  # "=" is not escaped in a measurement
        ("é", "é"),
        ("m#", "m#"),
    ],
)
def test_measurement(name, escaped):
    assert escape_measurement(name) == escaped


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("host", "host"),
        ("a,b", r"a\,b"),
        ("a=b", r"a\=b"),
        ("a b", r"a\ b"),
        ('a"b', 'a"b'),
        ("a\\b", "a\\b"),
        ("C:\\Users\\x", "C:\\Users\\x"),
        ("a\\\\b", r"a\\\b"),
        ("a\\ b", r"a\\\ b"),
        ("a\\=b", r"a\\\=b"),
        ("#x", "#x"),
        ("nul\0", "nul\0"),
    ],
)
def test_tag_and_field_keys_and_tag_values(name, escaped):
    assert escape_key(name) == escaped


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("", '""'),
        ('a"b', r'"a\"b"'),
        ("a\\b", r'"a\\b"'),
        ('\\"', r'"\\\""'),
        ("a,b=c d\n", '"a,b=c d\n"'),
    ],
)
def test_string_field_values(value, escaped):
    assert escape_string(value) == escaped


@pytest.mark.parametrize(
    "name", ["", "a\nb", "a\tb", "ends\\", "two\\\\", "a\0b", "#comment", 5, None]
)
def test_measurements_line_protocol_cannot_carry(name):
    with pytest.raises(InvalidRecord):
        escape_measurement(name)


@pytest.mark.parametrize("name", ["", "a\nb", "a\tb", "ends\\", 5, None])
def test_keys_line_protocol_cannot_carry(name):
    with pytest.raises(InvalidRecord):
        escape_key(name, "tag key")


def test_one_mebibyte_limit():
    assert escape_key("a" * 1_048_576) == "a" * 1_048_576
    with pytest.raises(InvalidRecord, match="1 MiB"):
        escape_key("a" * 1_048_577)
    with pytest.raises(InvalidRecord, match="1 MiB"):
        escape_string("é" * 524_289)


@pytest.mark.parametrize(
    ("point", "fragment"),
    [
        (Point("cpu").tag("ho\nst", "a").field("f", 1), "tag key 'ho\\nst'"),
        (Point("cpu").tag("host", "a\\").field("f", 1), "tag 'host' value 'a\\\\'"),
        (Point("cpu").field("f\t", 1), "field key 'f\\t'"),
        (Point("#cpu").field("f", 1), "starts with '#'"),
        (Point("cpu").field("", 1), "field key must not be empty"),
    ],
)
def test_refusals_name_the_measurement_the_key_and_the_value(point, fragment):
    with pytest.raises(InvalidRecord) as info:
        encode(point)
    assert fragment in info.value.message
    assert "'cpu'" in info.value.message or "'#cpu'" in info.value.message


def test_hostile_names_survive_the_round_trip():
    names = ["a,b", "a b", "a=b", 'a"b', "a\\b", "a\\,b", "\\ ", " lead", "é€😀", "\0x", "\r",
             "\\\\srv\\share", "a\\=b", 'a\\"b', "\\\\\\x"]  # fmt: skip
    for name in names:
        m = name.replace("\0", "") or "m"  # NUL cannot be in a measurement
        record = Point(m).tag(name, name).field(name, name).field("x" + name, 1)
        line = parse(encode(record)).lines[0][1]
        assert line.measurement == m
        assert line.tags == ((name, name),)
        assert [(f[0], f[2]) for f in line.fields] == [(name, name), ("x" + name, 1)]

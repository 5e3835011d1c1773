"""Property tests: encode/parse round trips, the parser's paths agree, it never crashes."""

from __future__ import annotations

import math
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influxkit.errors import InfluxError
from influxkit.lineprotocol import parse as parse_module
from influxkit.lineprotocol.encode import encode
from influxkit.lineprotocol.model import FieldType, UInt
from influxkit.lineprotocol.parse import parse
from influxkit.point import Point

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = ",= \"\\\0\r#'`é€😀\u2028\x85xX0-."
# Any character but surrogates (not UTF-8) and the two a name cannot hold.
name_chars = st.one_of(
    st.sampled_from(HOSTILE),
    st.characters(exclude_categories=("Cs",), exclude_characters="\n\t"),
)
key = st.text(name_chars, min_size=1, max_size=12).filter(lambda s: not s.endswith("\\"))
measurement = key.filter(lambda s: "\0" not in s and not s.startswith("#"))
string_value = st.text(
    st.one_of(st.sampled_from(HOSTILE + "\n\t"), st.characters(exclude_categories=("Cs",))),
    max_size=20,
)
field_value = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),  # subnormals and huge ones included
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1).map(UInt),
    st.booleans(),
    string_value,
)
timestamp = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
points = st.builds(
    Point,
    measurement,
    tags=st.dictionaries(key, key, max_size=4),
    fields=st.dictionaries(key, field_value, min_size=1, max_size=5),
    time=timestamp,
)

KINDS = {float: FieldType.FLOAT, int: FieldType.INTEGER, UInt: FieldType.UINTEGER,
         bool: FieldType.BOOLEAN, str: FieldType.STRING}  # fmt: skip


def same_value(a: object, b: object) -> bool:
    if isinstance(a, float):  # exact, and -0.0 is not 0.0
        return isinstance(b, float) and a == b and math.copysign(1, a) == math.copysign(1, b)
    return type(a) is type(b) or (isinstance(a, UInt) and type(b) is int and a == b)


def check_line(line, point: Point, ts: int | None) -> None:
    assert line.measurement == point.measurement
    assert line.tags == tuple(sorted(point.tags.items()))
    assert len(line.fields) == len(point.fields)
    for (k, kind, value), (pk, pv) in zip(line.fields, point.fields.items(), strict=True):
        assert k == pk
        assert kind is KINDS[type(pv)]
        assert value == pv and same_value(pv, value)
    assert line.timestamp == ts


def slow_only(data):
    with mock.patch.object(parse_module, "_fast", lambda line, match=None: None):
        return parse(data)


@SETTINGS
@given(points)
def test_a_point_reads_back_as_written(point):
    body = encode(point)
    result = parse(body)
    assert result.errors == []
    [(number, line)] = result.lines
    assert number == 1
    check_line(line, point, point.time_ns)
    assert slow_only(body) == result


@SETTINGS
@given(points, st.sampled_from(["s", "ms", "us"]))
def test_a_coarser_precision_floors_the_time(point, precision):
    factor = {"s": 10**9, "ms": 10**6, "us": 10**3}[precision]
    [(_, line)] = parse(encode(point, precision=precision)).lines
    assert line.timestamp == (None if point.time_ns is None else point.time_ns // factor)


@settings(max_examples=60, deadline=None)
@given(st.lists(points, min_size=1, max_size=8))
def test_many_points_as_points_or_dicts_read_back_in_order(batch):
    as_dicts = [
        {"measurement": p.measurement, "tags": dict(p.tags), "fields": dict(p.fields),
         "time": p.time_ns}
        for p in batch
    ]  # fmt: skip
    body = encode(batch)
    assert encode(as_dicts) == body
    result = parse(body)
    assert result.errors == []
    assert [n for n, _ in result.lines] == list(range(1, len(batch) + 1))
    for (_, line), point in zip(result.lines, batch, strict=True):
        check_line(line, point, point.time_ns)


# Lines made of line protocol's own punctuation find the parser's corners quickly: whole
# lines of plausible parts, with noise in any part.
LP_PIECES = ["m", "t", "T", "f", "true", "x", ",", "=", " ", "  ", "\\", '"', "\n", "\t", "#",
             "1", "-", ".", "e", "E", "+", "i", "u", "0", "99999999999999999999", "\0", "é",
             "\r", "\\\n"]  # fmt: skip
noise = st.lists(st.sampled_from(LP_PIECES), max_size=6).map("".join)
lp_name = st.one_of(st.sampled_from(["m", "cpu", "a\\ b", "a\\,b", "k\\=v", "é", "x\\"]), noise)
lp_value = st.one_of(
    st.sampled_from(["1", "-1", "1.5", "-1.5e-3", "1E+5", "1i", "-9223372036854775808i", "1u",
                     "18446744073709551616u", "t", "FALSE", "tRUE", '""', '"s p,a=c"',
                     '"a\\"b\\\\"', '"\n"', "1.", ".5", "+1", "NaN", '"open']),
    noise,
)  # fmt: skip
lp_pairs = st.lists(st.tuples(lp_name, lp_value), max_size=3)
lp_line = st.builds(
    lambda m, tags, fields, ts, tail: (
        m
        + "".join(f",{k}={v}" for k, v in tags)
        + " "
        + ",".join(f"{k}={v}" for k, v in fields)
        + (f" {ts}" if ts is not None else "")
        + tail
    ),
    lp_name,
    lp_pairs,
    lp_pairs,
    st.one_of(
        st.none(), st.sampled_from(["0", "-1", "1700000000000000000", "9223372036854775808"])
    ),
    st.one_of(st.just(""), noise),
)
lp_text = st.one_of(noise, st.lists(lp_line, max_size=4).map("\n".join))


@settings(max_examples=500, deadline=None)
@given(lp_text)
def test_fast_and_careful_paths_agree(text):
    result = parse(text)
    assert slow_only(text) == result
    for number, _ in result.lines:
        assert number >= 1


def check_numbering(result) -> None:
    numbers = [n for n, _ in result.lines] + [e.line_number for e in result.errors]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), lp_text.map(str.encode)), st.sampled_from([None, True]))
def test_arbitrary_bytes_raise_nothing_but_influx_errors(data, gzip):
    try:
        result = parse(data, gzip=gzip)
    except InfluxError:
        return
    check_numbering(result)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(), max_size=100))  # surrogates included
def test_arbitrary_text_raises_nothing_but_influx_errors(text):
    try:
        result = parse(text)
    except InfluxError:
        return
    check_numbering(result)

"""Row formatters: a shape seen often is formatted by code of its own, to the same bytes.

Every test starts from ``forget()`` and compares what the formatter writes with what the
general loop writes for the same record (a record encoded alone, before any formatter
exists for its shape, takes the general loop), and checks that a formatter was in fact
used or dropped, so that each test fails if the fast path is never taken.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol import rowformat
from influxkit.lineprotocol.encode import encode, encode_lines
from influxkit.lineprotocol.escape import _SAFE_LENGTH
from influxkit.lineprotocol.model import UInt
from influxkit.lineprotocol.parse import parse
from influxkit.point import Point

LEARN = rowformat.LEARN_AFTER
HOSTILE = ",= \"\\\0\r#'`é€😀\u2028\x85xX0-."
name_chars = st.one_of(
    st.sampled_from(HOSTILE),
    st.characters(exclude_categories=("Cs",), exclude_characters="\n\t"),
)
field_key = st.text(name_chars, min_size=1, max_size=8).filter(lambda s: not s.endswith("\\"))
string_value = st.text(
    st.one_of(st.sampled_from(HOSTILE + "\n\t"), st.characters(exclude_categories=("Cs",))),
    max_size=12,
)
# One strategy per type, so that records of one shape keep their types.
VALUES = {
    float: st.floats(allow_nan=False, allow_infinity=False),
    int: st.integers(-(2**63), 2**63 - 1),
    bool: st.booleans(),
    str: string_value,
}


@pytest.fixture(autouse=True)
def _fresh() -> None:
    rowformat.forget()


def general(record: object) -> str:
    """The general loop's line for ``record`` (no formatter exists for its shape yet)."""
    rowformat.forget()
    (line,) = encode_lines(record)  # type: ignore[arg-type]
    rowformat.forget()
    return line


def learned(record: dict) -> tuple:
    """Encode ``record``'s shape until a formatter is written for it; its field names."""
    encode_lines([record] * LEARN)
    names = tuple(record["fields"])
    assert names in rowformat.FORMATTERS
    return names


@st.composite
def shaped_records(draw: st.DrawFn) -> list[dict]:
    """A few records sharing one shape: the same field names and value types."""
    names = draw(st.lists(field_key, min_size=1, max_size=6, unique=True))
    types = [draw(st.sampled_from(list(VALUES))) for _ in names]
    tags = draw(st.dictionaries(field_key, field_key, max_size=3))
    records = []
    for _ in range(draw(st.integers(1, 4))):
        fields = {n: draw(VALUES[t]) for n, t in zip(names, types, strict=True)}
        ts = draw(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)))
        records.append({"measurement": "m", "tags": tags, "fields": fields, "time": ts})
    return records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_records())
def test_formatter_lines_are_the_general_loops(records):
    expected = [general(r) for r in records]
    lines = encode_lines(records * LEARN)
    assert tuple(records[0]["fields"]) in rowformat.FORMATTERS
    assert lines == expected * LEARN
    # ... and they read back to the records' values.
    parsed = parse("\n".join(lines[-len(records) :]))
    assert not parsed.errors
    for (_, line), record in zip(parsed.lines, records, strict=True):
        got = {k: v for k, _, v in line.fields}
        assert got == record["fields"]
        assert [type(v) for v in got.values()] == [type(v) for v in record["fields"].values()]


def test_points_take_the_formatter_with_their_time_in_the_write_precision():
    def point(i: int) -> Point:
        return Point("cpu", tags={"host": "a"}, fields={"v": i / 4, "n": i}, time=i * 10**9)

    expected = [general(point(i)) for i in (1, 2)]
    assert encode_lines([point(1) for _ in range(LEARN)] + [point(2)])[-2:] == expected
    assert ("v", "n") in rowformat.FORMATTERS
    assert encode(point(7), precision="s") == b"cpu,host=a v=1.75,n=7i 7"
    assert encode(point(7).time(None)) == b"cpu,host=a v=1.75,n=7i"


@pytest.mark.parametrize(
    "value",
    [
        3,  # another type than the formatter's float
        True,
        UInt(3),
        None,  # left out
        "3",
    ],
)
def test_a_record_off_the_shape_takes_the_general_loop(value):
    record = {"measurement": "m", "fields": {"a": value, "b": "x"}}
    expected = general(record)
    names = learned({"measurement": "m", "fields": {"a": 1.5, "b": "x"}})
    assert encode_lines(record) == [expected]
    assert names in rowformat.FORMATTERS


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_naming_measurement_and_field(value):
    learned({"measurement": "cpu", "fields": {"usage": 1.5}})
    with pytest.raises(InvalidRecord) as info:
        encode({"measurement": "cpu", "fields": {"usage": value}})
    assert "'cpu'" in info.value.message and "'usage'" in info.value.message


def test_ints_small_and_large():
    values = [0, 1, 1023, 1024, -1, 2**62, -(2**63), 2**63 - 1]
    rows = [{"measurement": "m", "fields": {"n": v}} for v in values]
    expected = [general(r) for r in rows]
    learned(rows[0])
    assert encode_lines(rows) == expected == [f"m n={v}i" for v in values]
    assert ("n",) in rowformat.FORMATTERS  # no record missed


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1])
def test_ints_outside_int64_are_refused(value):
    learned({"measurement": "cpu", "fields": {"n": 1}})
    with pytest.raises(InvalidRecord, match=r"'n' = .* does not fit int64"):
        encode({"measurement": "cpu", "fields": {"n": value}})


def test_long_strings_go_to_the_general_loop_which_escapes_or_refuses_them():
    long = {"measurement": "m", "fields": {"s": 'a"' * (_SAFE_LENGTH // 2 + 1)}}  # < 1 MiB
    expected = general(long)
    names = learned({"measurement": "m", "fields": {"s": "x"}})
    assert encode_lines(long) == [expected]
    assert expected.startswith('m s="a\\"a\\"')
    with pytest.raises(InvalidRecord, match="1 MiB"):
        encode({"measurement": "m", "fields": {"s": "é" * (_SAFE_LENGTH * 2 + 1)}})
    assert names in rowformat.FORMATTERS


def test_escaped_strings_and_keys():
    record = {"measurement": "m", "fields": {"a b,c=d": 'say "hi" \\o/', "é": False}}
    names = learned(record)
    assert encode_lines(record) == ['m a\\ b\\,c\\=d="say \\"hi\\" \\\\o/",é=false']
    assert names in rowformat.FORMATTERS


def test_a_shape_with_a_bad_key_gets_no_formatter_and_the_error_names_it():
    record = {"measurement": "cpu", "fields": {"ok": 1, "bad\nkey": 2}}
    for _ in range(LEARN + 1):
        with pytest.raises(InvalidRecord, match=r"'cpu'.*newline"):
            encode(record)
    assert ("ok", "bad\nkey") not in rowformat.FORMATTERS


def test_a_formatter_that_keeps_missing_is_dropped_then_learned_again():
    names = learned({"measurement": "m", "fields": {"v": 1.5}})
    ints = [{"measurement": "m", "fields": {"v": i}} for i in range(rowformat.MISS_LIMIT)]
    assert encode_lines(ints)[-1] == "m v=999i"
    assert names not in rowformat.FORMATTERS
    encode_lines(ints[:LEARN])  # learned again, now for ints
    assert names in rowformat.FORMATTERS
    assert encode_lines({"measurement": "m", "fields": {"v": 7}}) == ["m v=7i"]


def test_unlearnable_shapes_keep_the_general_loop():
    wide = {"measurement": "m", "fields": {f"f{i}": i for i in range(rowformat.MAX_FIELDS + 1)}}
    uint = {"measurement": "m", "fields": {"u": UInt(1)}}
    encode_lines([wide, uint] * LEARN)
    assert not rowformat.FORMATTERS
    assert encode_lines(uint) == ["m u=1u"]


def test_the_tables_are_bounded():
    limit = rowformat._FORMATTERS_LIMIT
    for i in range(limit + 5):
        names, fields = (f"f{i}",), {f"f{i}": 1.0}
        for _ in range(LEARN):
            rowformat.learn(names, fields)
        assert len(rowformat.FORMATTERS) <= limit
    assert ("f0",) not in rowformat.FORMATTERS and (f"f{limit + 4}",) in rowformat.FORMATTERS
    for i in range(rowformat._SIGHTINGS_LIMIT + 5):  # shapes seen once each
        assert rowformat.learn((f"g{i}",), {f"g{i}": 1.0}) is None
    assert 0 < len(rowformat._SIGHTINGS) <= rowformat._SIGHTINGS_LIMIT


def test_a_shape_with_a_key_that_is_not_a_str_gets_no_formatter():
    record = {"measurement": "cpu", "fields": {"ok": 1, 2: 2}}
    for _ in range(LEARN + 1):
        with pytest.raises(InvalidRecord, match="'cpu': field key must be a str"):
            encode(record)
    assert not rowformat.FORMATTERS

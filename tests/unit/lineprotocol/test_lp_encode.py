"""encode(): field types, tag rules, times and precision, record kinds, refused records."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum

import pytest

from influxkit.errors import ConfigError, InvalidRecord
from influxkit.lineprotocol.encode import encode, encode_lines
from influxkit.lineprotocol.model import FieldType, UInt
from influxkit.lineprotocol.parse import parse
from influxkit.point import Point


def lp(fields, **kwargs) -> str:
    return encode(
        {"measurement": "m", "tags": {}, "fields": fields, "time": None}, **kwargs
    ).decode()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (0.1, "0.1"),
        (1e16, "1e+16"),
        (1.5e-7, "1.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (3, "3i"),
        (-(2**63), "-9223372036854775808i"),
        (2**63 - 1, "9223372036854775807i"),
        (UInt(0), "0u"),
        (UInt(2**64 - 1), "18446744073709551615u"),
        (True, "true"),
        (False, "false"),
        ("", '""'),
        ("plain", '"plain"'),
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("new\nline, tab\t= kept", '"new\nline, tab\t= kept"'),
    ],
)
def test_field_values(value, text):
    assert lp({"x": value}) == f"m x={text}"


def test_bool_is_not_encoded_as_int():
    assert lp({"a": True, "b": 1}) == "m a=true,b=1i"


def test_floats_read_back_exactly():
    values = [0.1, 1 / 3, 2.5e-5, 1e22, 123456789012345680.0, 1e-320, -1e300]
    result = parse(
        encode({"measurement": "m", "fields": {f"f{i}": v for i, v in enumerate(values)}})
    )
    assert [f[2] for f in result.lines[0][1].fields] == values


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_refused_naming_measurement_and_field(value):
    with pytest.raises(InvalidRecord) as info:
        encode(Point("cpu").field("usage", value))
    assert "'cpu'" in info.value.message and "'usage'" in info.value.message
    assert repr(value) in info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1])
def test_ints_outside_int64_are_refused(value):
    with pytest.raises(InvalidRecord, match="does not fit int64"):
        lp({"n": value})


@pytest.mark.parametrize("value", [b"bytes", [1], {"a": 1}, datetime(2026, 1, 1), 1j, object()])
def test_other_value_types_are_refused(value):
    with pytest.raises(InvalidRecord) as info:
        lp({"x": value})
    assert "'m'" in info.value.message and "'x'" in info.value.message


def test_subclasses_and_numpy_scalars():
    import numpy as np

    class Level(IntEnum):
        HIGH = 3

    class Text(str):
        pass

    fields = {
        "e": Level.HIGH,
        "t": Text('a"b'),
        "f64": np.float64(0.5),
        "f32": np.float32(0.25),
        "i": np.int32(-7),
        "u": np.uint64(2**64 - 1),
        "b": np.bool_(True),
    }
    assert lp(fields) == ('m e=3i,t="a\\"b",f64=0.5,f32=0.25,i=-7i,u=18446744073709551615u,b=true')
    with pytest.raises(InvalidRecord):
        lp({"x": np.float64("nan")})


def test_none_fields_are_left_out_and_no_field_at_all_is_refused():
    assert lp({"a": None, "b": 1}) == "m b=1i"
    with pytest.raises(InvalidRecord, match="at least one field"):
        lp({"a": None})
    with pytest.raises(InvalidRecord, match="at least one field"):
        encode(Point("m"))


def test_tags_are_sorted_and_none_or_empty_ones_left_out():
    record = {"measurement": "m", "tags": {"z": "1", "a": "2", "n": None, "e": "", "é": "3"},
              "fields": {"f": 1}}  # fmt: skip
    assert encode(record) == "m,a=2,z=1,é=3 f=1i".encode()


def test_non_str_tag_values_become_text_and_never_share_a_cache_entry():
    lines = encode_lines(
        [{"measurement": "m", "tags": {"t": v}, "fields": {"f": 1}} for v in ("1", 1, True, 1.0)]
    )
    assert lines == ["m,t=1 f=1i", "m,t=1 f=1i", "m,t=True f=1i", "m,t=1.0 f=1i"]
    with pytest.raises(InvalidRecord, match="tag 't' value"):
        encode({"measurement": "m", "tags": {"t": [1]}, "fields": {"f": 1}})


def test_dict_times_are_in_the_write_precision():
    base = {"measurement": "m", "fields": {"f": 1}}
    assert encode({**base, "time": 5}, precision="s") == b"m f=1i 5"
    dt = datetime(2026, 1, 1, tzinfo=UTC)
    assert encode({**base, "time": dt}, precision="s") == b"m f=1i 1767225600"
    iso = "2026-01-01T00:00:00.123456789Z"
    assert encode({**base, "time": iso}) == b"m f=1i 1767225600123456789"
    assert encode({**base, "time": iso}, precision="ms") == b"m f=1i 1767225600123"
    assert encode({**base, "time": None}) == b"m f=1i"
    with pytest.raises(InvalidRecord, match="int64"):
        encode({**base, "time": 2**63})
    with pytest.raises(InvalidRecord):
        encode({**base, "time": 1.5})


def test_point_times_are_floored_to_the_write_precision():
    p = Point("m").field("f", 1).time(-1)  # 1 ns before the epoch
    assert encode(p, precision="s") == b"m f=1i -1"
    assert encode(p, precision="ns") == b"m f=1i -1"
    p.time(1_999_999_999)
    assert [encode(p, precision=x) for x in ("s", "ms", "us", "n", "auto")] == [
        b"m f=1i 1", b"m f=1i 1999", b"m f=1i 1999999", b"m f=1i 1999999999",
        b"m f=1i 1999999999",
    ]  # fmt: skip


def test_unknown_precision():
    with pytest.raises(ConfigError):
        encode(Point("m").field("f", 1), precision="d")  # "m" and "h" exist (InfluxDB 1.x)


def test_record_kinds_mix_and_pass_through():
    assert encode(b"raw bytes\nas is\n") == b"raw bytes\nas is\n"
    assert encode("a f=1") == b"a f=1"
    mixed = [
        "a f=1\n",
        b"b f=2",
        bytearray(b"c f=3"),
        Point("d").field("f", 4.0),
        {"measurement": "e", "fields": {"f": 5}},
        "",
    ]
    assert encode(mixed) == b"a f=1\nb f=2\nc f=3\nd f=4.0\ne f=5i"
    assert encode(p for p in [Point("g").field("f", 1)]) == b"g f=1i"
    assert encode([]) == b""


def test_unsupported_records():
    for bad in (42, None, [42], [b"\xff"]):
        with pytest.raises(InvalidRecord):
            encode(bad)  # type: ignore[arg-type]


def test_tables_are_not_taken_for_rows():
    import pyarrow as pa

    with pytest.raises(InvalidRecord, match="is a table"):
        encode(pa.table({"m": ["cpu"]}))


def test_dict_shape_errors():
    with pytest.raises(InvalidRecord, match="unknown key"):
        encode({"measurement": "m", "fields": {"f": 1}, "tag": {"a": "b"}})
    with pytest.raises(InvalidRecord, match="no 'measurement'"):
        encode({"fields": {"f": 1}})
    with pytest.raises(InvalidRecord, match="no 'fields'"):
        encode({"measurement": "m"})
    with pytest.raises(InvalidRecord, match="'tags' must be a dict"):
        encode({"measurement": "m", "tags": ["a"], "fields": {"f": 1}, "time": 1})


def test_lone_surrogates_are_refused():
    with pytest.raises(InvalidRecord, match="surrogate"):
        encode(Point("m").field("s", "\ud800"))


def test_output_parses_back_with_the_types():
    line = parse(encode(Point("m").field("a", 1.0).field("b", 1).field("c", UInt(1)))).lines[0][1]
    assert [f[1] for f in line.fields] == [FieldType.FLOAT, FieldType.INTEGER, FieldType.UINTEGER]

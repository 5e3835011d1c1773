"""parse(): InfluxDB 3's line protocol rules, examples from the reference and the crate's tests."""

from __future__ import annotations

import pytest

from influxkit.lineprotocol.model import FieldType, Line
from influxkit.lineprotocol.parse import parse

FLT, INT, UNS, STR, BOOL = (
    FieldType.FLOAT,
    FieldType.INTEGER,
    FieldType.UINTEGER,
    FieldType.STRING,
    FieldType.BOOLEAN,
)


def one(text: str) -> Line:
    result = parse(text)
    assert result.errors == [], result.errors
    assert len(result.lines) == 1
    return result.lines[0][1]


def error(text: str) -> str:
    result = parse(text)
    assert result.lines == []
    assert len(result.errors) == 1
    return result.errors[0].message


# -- whole lines ----------------------------------------------------------------------------


def test_a_full_line():
    line = one('cpu,host=a,region=west usage=64.2,n=3i,u=4u,s="x",ok=true 1590488773254420000')
    assert line == Line(
        "cpu",
        (("host", "a"), ("region", "west")),
        (("usage", FLT, 64.2), ("n", INT, 3), ("u", UNS, 4), ("s", STR, "x"), ("ok", BOOL, True)),
        1590488773254420000,
    )


def test_no_timestamp_and_negative_timestamp():
    assert one("m f=1").timestamp is None
    assert one("m f=1i -123").timestamp == -123


def test_tags_and_fields_keep_their_order_and_duplicates():
    line = one("m,b=1,a=2,b=3 x=1,x=2i")
    assert line.tags == (("b", "1"), ("a", "2"), ("b", "3"))
    assert line.fields == (("x", FLT, 1.0), ("x", INT, 2))


def test_spaces_between_parts_and_after_the_timestamp():
    line = one("  measurement  a=1i  123  ")
    assert (line.measurement, line.fields, line.timestamp) == ("measurement", (("a", INT, 1),), 123)


def test_a_trailing_space_without_a_timestamp_is_trailing_content():
    assert error("m a=1 ") == "Could not parse entire line. Found trailing content: ` `"


def test_a_tab_is_not_a_separator():
    assert error("m\ta=1") == "Expected at least one space character, got `\ta=1`"


def test_measurement_with_equals_and_no_tags():
    assert one("tag1=1 field=1 1234").measurement == "tag1=1"
    assert one("tag1=1,tag2=2 value=1 123").tags == (("tag2", "2"),)


# -- escaping (reference 2.2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "measurement"),
    [
        (r"wea\,ther f=1", "wea,ther"),
        (r"wea\ ther f=1", "wea ther"),
        (r"\\wea\\ther f=1", "\\wea\\ther"),
        (r"wea\=ther f=1", r"wea\=ther"),  # "=" is no escape in a measurement
        (r"\wea\ther f=1", r"\wea\ther"),  # unknown escapes keep the backslash
        ('we"a=t f=1', 'we"a=t'),  # quotes and '=' are literal
    ],
)
def test_measurement_escapes(text, measurement):
    assert one(text).measurement == measurement


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [
        (r"wea\,ther", "wea,ther"),
        (r"wea\=ther", "wea=ther"),
        (r"wea\ ther", "wea ther"),
        (r"\\wea\\ther", "\\wea\\ther"),
        (r"\wea\ther", r"\wea\ther"),
    ],
)
def test_tag_key_tag_value_and_field_key_escapes(escaped, plain):
    line = one(f"m,{escaped}={escaped} {escaped}=1")
    assert line.tags == ((plain, plain),)
    assert line.fields[0][0] == plain


def test_bare_comma_in_a_tag_key_and_field_key_is_literal_and_equals_in_a_tag_value():
    assert one("0,,=x f=1").tags == ((",", "x"),)
    assert one("m a,b=1").fields == (("a,b", FLT, 1.0),)
    assert one("m,t=a=b f=1").tags == (("t", "a=b"),)


def test_backslash_newline_is_kept_in_a_name():
    assert one("weat\\\nher f=1").measurement == "weat\\\nher"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('foo asdf=""', ""),
        ('foo asdf="str val"', "str val"),
        (r'foo asdf="The \"string\" val"', 'The "string" val'),
        (r'foo asdf="too hot\cold"', r"too hot\cold"),
        (r'foo asdf="too hot\\cold"', r"too hot\cold"),
        (r'foo asdf="too hot\\\cold"', r"too hot\\cold"),
        (r'foo asdf="too hot\\\\cold"', r"too hot\\cold"),
        (r'foo asdf="too hot\\\\\cold"', r"too hot\\\cold"),
        ('foo asdf="a, b=c d"', "a, b=c d"),
        ('foo asdf="two\nlines"', "two\nlines"),
    ],
)
def test_string_field_values(text, value):
    assert one(text).fields == (("asdf", STR, value),)


@pytest.mark.parametrize(
    "text",
    [
        r"weather\\ f=1",  # measurement
        r"m,weather\\=x f=1",  # tag key
        r"m,t=weather\\ f=1",  # tag value
        r"m weather\\=1",  # field key
        ":\x14\\",  # a lone backslash at the end of the input
    ],
)
def test_names_may_not_end_with_a_backslash(text):
    assert error(text) == (
        "Measurements, tag keys and values, and field keys may not end with a backslash"
    )


def test_an_escaped_space_runs_on_into_the_name():
    assert error(r"weather\ f=1") == "Expected at least one space character, got end of input"
    assert one(r"weather\ f=1 g=2").measurement == "weather f=1"


def test_nul_ends_a_measurement_but_not_other_names():
    assert error("\0 field=1 1234") == "Invalid measurement was provided"
    line = one('m,tag\x001=o\0ne val\0ue="v\0" 123')
    assert line.tags == (("tag\x001", "o\0ne"),)
    assert line.fields == (("val\0ue", STR, "v\0"),)


# -- field values (reference 2.3) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "kind", "value"),
    [
        ("23i", INT, 23),
        ("-1i", INT, -1),
        ("9223372036854775807i", INT, 2**63 - 1),
        ("-9223372036854775808i", INT, -(2**63)),
        ("23u", UNS, 23),
        ("18446744073709551615u", UNS, 2**64 - 1),
        ("44", FLT, 44.0),
        ("-1", FLT, -1.0),
        ("3.74", FLT, 3.74),
        ("-1.234456e+06", FLT, -1.234456e06),
        ("1.234456E-16", FLT, 1.234456e-16),
        ("1e-0", FLT, 1.0),
        ("-1e5", FLT, -1e5),
        ("1e400", FLT, float("inf")),  # Rust's parse overflows to infinity, and so is accepted
    ]
    + [(t, BOOL, True) for t in ("t", "T", "true", "True", "TRUE")]
    + [(t, BOOL, False) for t in ("f", "F", "false", "False", "FALSE")],
)
def test_field_value_types(token, kind, value):
    assert one(f"m x={token}").fields == (("x", kind, value),)


def test_a_very_long_float_parses():
    nines = "9" * 200
    assert one(f"m0 field={nines}.{nines} 99").fields[0][2] == pytest.approx(1e200)


@pytest.mark.parametrize(
    ("token", "trailing"),
    [
        ("-1u", "u"),
        ("1.", "."),
        ("1.5x", "x"),
        ("tRUE", "RUE"),
        ("trueish", "ish"),
        ("-1.234456e", "e"),
        ("-1.234456E+", "E+"),
        ("12ix", "x"),
        ("1e5i", "i"),
    ],
)
def test_malformed_values_leave_trailing_content(token, trailing):
    assert error(f"m0 field={token}") == (
        f"Could not parse entire line. Found trailing content: `{trailing}`"
    )


@pytest.mark.parametrize("token", ["+1", ".5", "NaN", "inf", "-", '"open', "\0"])
def test_values_that_are_no_value_at_all(token):
    assert error(f"m0 field={token}") == "No fields were provided"


def test_integer_overflow_messages():
    assert error("m field=66666666666666666666666666666666666666666666668i") == (
        "Unable to parse integer value `66666666666666666666666666666666666666666666668`"
    )
    assert error("m field=9223372036854775808i") == (
        "Unable to parse integer value `9223372036854775808`"
    )
    assert error("m0 field=18446744073709551616u 99") == (
        "Unable to parse unsigned integer value `18446744073709551616`"
    )


def test_leading_zeros_are_fine_even_thousands_of_them():
    assert one(f"m a={'0' * 5000}7i {'0' * 5000}1").fields == (("a", INT, 7),)


def test_timestamp_errors():
    big = "1" + "8" * 71
    assert error(f"testmeasure field=3.0 {big}") == f"Unable to parse timestamp value `{big}`"
    assert error("m f=1 9223372036854775808") == (
        "Unable to parse timestamp value `9223372036854775808`"
    )
    assert error("m f=1 12.5") == "Could not parse entire line. Found trailing content: `.5`"
    assert error("m f=1 abc") == "Could not parse entire line. Found trailing content: ` abc`"


def test_strings_up_to_one_mebibyte():
    limit = 1_048_576
    assert one(f'm s="{"a" * limit}"').fields[0][2] == "a" * limit
    assert error(f'm s="{"a" * (limit + 1)}"') == "String is greater than 1MB"
    assert error(f"m,t={'é' * (limit // 2 + 1)} f=1") == "String is greater than 1MB"
    assert error(f"{'a' * (limit + 1)} f=1") == "String is greater than 1MB"

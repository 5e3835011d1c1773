"""Precision spellings, InfluxDB 3's auto guess and overflow message, time values to ns."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from influxkit.errors import ConfigError, InvalidRecord
from influxkit.lineprotocol.precision import (
    from_nanos,
    normalize_precision,
    now_ns,
    time_to_nanos,
    to_nanos,
)

I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("auto", "auto"),
        ("s", "s"),
        ("second", "s"),
        ("ms", "ms"),
        ("millisecond", "ms"),
        ("us", "us"),
        ("u", "us"),
        ("microsecond", "us"),
        ("ns", "ns"),
        ("n", "ns"),
        ("nanosecond", "ns"),
    ],
)
def test_v3_spellings(spelling, canonical):
    assert normalize_precision(spelling) == canonical


# "m" and "h" are spellings too (InfluxDB 1.x only: see test_lp_precision_v1.py).
@pytest.mark.parametrize("spelling", ["µ", "NS", "Second", "", None, 1])
def test_other_spellings_are_config_errors_listing_the_accepted(spelling):
    with pytest.raises(ConfigError) as info:
        normalize_precision(spelling)
    assert "auto, s / second, ms / millisecond, us / u / microsecond" in info.value.message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("ts", "precision", "ns"),
    [
        (1, "s", 1_000_000_000),
        (-2, "ms", -2_000_000),
        (3, "us", 3_000),
        (4, "ns", 4),
        (1_700_000_000, "second", 1_700_000_000_000_000_000),
    ],
)
def test_to_nanos_explicit(ts, precision, ns):
    assert to_nanos(ts, precision) == ns


@pytest.mark.parametrize(
    ("ts", "unit_ns"),
    [
        (0, 1_000_000_000),
        (4_999_999_999, 1_000_000_000),  # |ts| // 1e9 == 4: seconds
        (-4_999_999_999, 1_000_000_000),
        (5_000_000_000, 1_000_000),  # 5: milliseconds
        (4_999_999_999_999, 1_000_000),
        (5_000_000_000_000, 1_000),  # 5000: microseconds
        (4_999_999_999_999_999, 1_000),
        (5_000_000_000_000_000, 1),  # 5_000_000: nanoseconds
        (1_700_000_000_000_000_000, 1),
    ],
)
def test_auto_guesses_as_influxdb_does(ts, unit_ns):
    assert to_nanos(ts, "auto") == ts * unit_ns


def test_overflow_uses_influxdbs_message_with_the_rust_debug_name():
    with pytest.raises(ValueError) as info:
        to_nanos(9_223_372_037, "s")
    assert str(info.value) == "timestamp, 9223372037, out of range for precision: Second"
    with pytest.raises(ValueError, match=r"out of range for precision: Millisecond$"):
        to_nanos(-9_223_372_036_855, "millisecond")
    with pytest.raises(ValueError, match=r"out of range for precision: Microsecond$"):
        to_nanos(I64_MAX // 1000 + 1, "u")
    # the server's release build wraps abs(i64::MIN): guessed as seconds, then overflows
    with pytest.raises(ValueError) as info:
        to_nanos(I64_MIN, "auto")
    assert str(info.value) == f"timestamp, {I64_MIN}, out of range for precision: Auto"


def test_edges_that_still_fit():
    assert to_nanos(9_223_372_036, "s") == 9_223_372_036_000_000_000
    assert to_nanos(I64_MAX, "ns") == I64_MAX
    assert to_nanos(I64_MIN, "ns") == I64_MIN


def test_from_nanos_floors():
    assert from_nanos(1_999_999_999, "s") == 1
    assert from_nanos(-1, "s") == -1  # floor, not truncation toward zero
    assert from_nanos(-1_000_000, "ms") == -1
    assert from_nanos(123_456_789, "us") == 123_456
    assert from_nanos(7, "ns") == 7
    assert from_nanos(7, "auto") == 7


def test_now_ns_is_truncated_to_the_precision_except_auto():
    before = time.time_ns()
    for precision, unit in (("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)):
        now = now_ns(precision)
        assert now % unit == 0
        assert before - unit < now <= time.time_ns()
    assert before <= now_ns("auto") <= time.time_ns()


def test_time_to_nanos_from_datetimes():
    assert time_to_nanos(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == 1_000_005_000
    # naive means UTC
    assert time_to_nanos(datetime(2026, 1, 1)) == 1_767_225_600_000_000_000
    plus_two = timezone(timedelta(hours=2))
    assert time_to_nanos(datetime(2026, 1, 1, 2, tzinfo=plus_two)) == 1_767_225_600_000_000_000
    assert time_to_nanos(datetime(1969, 12, 31, 23, 59, 59, 999_999)) == -1_000


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("2026-01-01T00:00:00.123456789Z", 1_767_225_600_123_456_789),
        ("2026-01-01T00:00:00.1Z", 1_767_225_600_100_000_000),
        ("2026-01-01T00:00:00Z", 1_767_225_600_000_000_000),
        ("2026-01-01 00:00:00", 1_767_225_600_000_000_000),  # no zone: UTC
        ("2026-01-01T02:00:00.000000001+02:00", 1_767_225_600_000_000_001),
        ("2025-12-31T19:00:00-0500", 1_767_225_600_000_000_000),
        ("2026-01-01", 1_767_225_600_000_000_000),
        ("1969-12-31T23:59:59.999999999Z", -1),
    ],
)
def test_time_to_nanos_from_iso_strings_keeps_nanoseconds(text, ns):
    assert time_to_nanos(text) == ns


def test_time_to_nanos_from_ints_uses_the_precision():
    assert time_to_nanos(5, "ms") == 5_000_000
    assert time_to_nanos(1_700_000_000, "auto") == 1_700_000_000_000_000_000


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00.1234567891Z",  # more than nanoseconds
        1.5,
        True,
        b"2026-01-01",
        2**63,
        "2300-01-01T00:00:00Z",  # beyond int64 nanoseconds
        datetime(1500, 1, 1),
    ],
)
def test_time_to_nanos_refuses(value):
    with pytest.raises(InvalidRecord):
        time_to_nanos(value)

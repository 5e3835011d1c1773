"""Minutes and hours: InfluxDB 1.x's extra write precisions, refused for every other server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from influxkit import Point
from influxkit.errors import ConfigError
from influxkit.lineprotocol.encode import encode
from influxkit.lineprotocol.precision import (
    V1_ONLY_PRECISIONS,
    check_precision,
    from_nanos,
    normalize_precision,
    now_ns,
    to_nanos,
)

MINUTE, HOUR = 60 * 10**9, 3600 * 10**9


@pytest.mark.parametrize(("spelling", "ns"), [("m", MINUTE), ("h", HOUR)])
def test_minutes_and_hours_scale(spelling, ns):
    assert normalize_precision(spelling) == spelling
    assert to_nanos(3, spelling) == 3 * ns
    assert from_nanos(3 * ns + 1, spelling) == 3
    assert from_nanos(-1, spelling) == -1  # floor, as for the other units
    assert now_ns(spelling) % ns == 0


@pytest.mark.parametrize("profile", ["v3_core", "v3_enterprise", "v2", None])
@pytest.mark.parametrize("spelling", V1_ONLY_PRECISIONS)
def test_only_the_v1_profile_takes_them(profile, spelling):
    assert check_precision(spelling, "v1") == spelling
    with pytest.raises(ConfigError, match=r"exists only on InfluxDB 1\.x") as info:
        check_precision(spelling, profile)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("spelling", ["M", "H", "minute", "hour", "d"])
def test_other_units_are_not_spellings(spelling):
    with pytest.raises(ConfigError, match="m \\(minutes\\) and h \\(hours\\)"):
        check_precision(spelling, "v1")


def test_points_are_encoded_in_minutes_and_hours_rounding_down():
    point = Point("p").field("v", 1.0).time(2 * HOUR + 59 * MINUTE + 1)
    assert encode([point], precision="h") == b"p v=1.0 2"
    assert encode([point], precision="m") == b"p v=1.0 179"


@given(st.integers(min_value=-((2**63) // HOUR), max_value=(2**63 - 1) // HOUR))
def test_whole_hours_round_trip(hours):
    assert from_nanos(to_nanos(hours, "h"), "h") == hours
    assert from_nanos(to_nanos(hours * 60, "m"), "h") == hours

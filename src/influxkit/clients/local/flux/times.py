"""Flux's time values: ``Time`` and ``Duration``, RFC 3339 in and out, calendar arithmetic.

Times are integer nanoseconds since the epoch (UTC), as Flux holds them; wrapping them
in :class:`Time` keeps them apart from integers (``range(start: 0)`` means Unix
seconds, ``range(start: 1970-01-01T00:00:00Z)`` a time).  A :class:`Duration` keeps
months apart from nanoseconds because ``1mo`` has no fixed length: it is added on the
calendar, clamping the day to the month's last (Jan 31 + 1mo = Feb 28).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "DURATION_UNITS",
    "MAX_TIME",
    "MIN_TIME",
    "Duration",
    "Time",
    "add_duration",
    "format_rfc3339nano",
    "parse_duration",
    "parse_rfc3339",
]

NS = 1_000_000_000
MIN_TIME = -(2**63)
MAX_TIME = 2**63 - 1
_EPOCH = datetime(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)

#: Flux's duration units, in nanoseconds (``mo`` and ``y`` are counted in months).
DURATION_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": NS,
    "m": 60 * NS,
    "h": 3_600 * NS,
    "d": 86_400 * NS,
    "w": 7 * 86_400 * NS,
}
_MONTH_UNITS = {"mo": 1, "y": 12}
_DURATION_PART = re.compile(r"([0-9]+)(mo|ms|us|µs|ns|y|w|d|h|m|s)")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2}))?\Z"
)


@dataclass(frozen=True, slots=True)
class Time:
    """A Flux ``time``: nanoseconds since the epoch, UTC."""

    ns: int


@dataclass(frozen=True, slots=True)
class Duration:
    """A Flux ``duration``: whole months plus nanoseconds (either may be negative)."""

    months: int = 0
    ns: int = 0

    def __neg__(self) -> Duration:
        return Duration(-self.months, -self.ns)

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.months + other.months, self.ns + other.ns)

    def __sub__(self, other: Duration) -> Duration:
        return self + (-other)

    @property
    def is_zero(self) -> bool:
        """Whether the duration is ``0s``."""
        return self.months == 0 and self.ns == 0


def parse_duration(text: str) -> Duration | None:
    """A duration literal (``1h30m``, ``5mo``) as a :class:`Duration`; ``None`` if it is not one."""
    months = ns = 0
    pos = 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            return None
        magnitude, unit = int(match[1]), match[2]
        if unit in _MONTH_UNITS:
            months += magnitude * _MONTH_UNITS[unit]
        else:
            ns += magnitude * DURATION_UNITS[unit]
        pos = match.end()
    return Duration(months, ns) if pos else None


def parse_rfc3339(text: str) -> int | None:
    """An RFC 3339 time (or a bare date, meaning midnight UTC) as nanoseconds; ``None`` if not one.

    Every fraction digit is kept (Python's datetime would stop at microseconds).
    """
    match = _RFC3339.match(text)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour = minute = second = 0
    if match[4] is not None:
        hour, minute, second = int(match[4]), int(match[5]), int(match[6])
    try:
        base = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    zone = match[8]
    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = sign * timedelta(hours=hours, minutes=minutes)
    seconds = (base - offset - _EPOCH_UTC) // timedelta(seconds=1)
    fraction = int((match[7] or "").ljust(9, "0"))
    return seconds * NS + fraction


def format_rfc3339nano(ns: int) -> str:
    """Nanoseconds as Go's ``time.RFC3339Nano`` in UTC: trailing fraction zeros trimmed, ``Z``.

    >>> format_rfc3339nano(0), format_rfc3339nano(1_500_000_000), format_rfc3339nano(-1)
    ('1970-01-01T00:00:00Z', '1970-01-01T00:00:01.5Z', '1969-12-31T23:59:59.999999999Z')
    """
    seconds, fraction = divmod(ns, NS)
    text = (_EPOCH + timedelta(seconds=seconds)).isoformat()
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def _add_months(ns: int, months: int) -> int:
    seconds, fraction = divmod(ns, NS)
    when = _EPOCH + timedelta(seconds=seconds)
    total = when.year * 12 + (when.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    moved = when.replace(year=year, month=month, day=day)
    return ((moved - _EPOCH) // timedelta(seconds=1)) * NS + fraction


def add_duration(ns: int, duration: Duration, scale: int = 1) -> int:
    """``ns`` plus ``scale`` times ``duration``: months on the calendar, then nanoseconds."""
    if duration.months:
        ns = _add_months(ns, duration.months * scale)
    return ns + duration.ns * scale

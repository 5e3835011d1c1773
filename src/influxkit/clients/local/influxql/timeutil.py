"""Time in InfluxQL: time-zone lookup, time strings, RFC 3339 output and GROUP BY windows.

Everything is integer nanoseconds since the epoch (UTC), as the engine stores time.
The rules are 1.x's: a time string is RFC 3339 (``2020-01-01T00:00:00Z``), a date
and time (``2020-01-01 00:00:00.5``) or a date, read in the query's ``tz()`` zone
when it names none; windows are aligned to the epoch plus the GROUP BY offset, in
the ``tz()`` zone's local time (``IteratorOptions.Window``).
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = [
    "MAX_TIME",
    "MIN_TIME",
    "format_time",
    "load_zone",
    "now_ns",
    "parse_time_string",
    "window",
    "zone_offset",
]

#: The bounds of InfluxDB's time range (1.x ``influxql.MinTime`` / ``MaxTime``).
MIN_TIME = -9223372036854775806
MAX_TIME = 9223372036854775806

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}.+")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)
_SPACED = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$")


@functools.lru_cache(maxsize=64)
def load_zone(name: str) -> tzinfo | None:
    """The zone ``name`` (IANA, ``UTC``; ``""`` is UTC as in Go), or ``None`` if unknown."""
    if name in ("", "UTC"):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def now_ns() -> int:
    """The current time in nanoseconds."""
    return time.time_ns()


def zone_offset(ns: int, zone: tzinfo | None) -> int:
    """The offset of ``zone`` from UTC at ``ns``, in nanoseconds (0 without a zone)."""
    if zone is None or zone is UTC:
        return 0
    try:
        moment = _EPOCH + timedelta(microseconds=ns // 1000)
    except OverflowError:
        return 0
    offset = zone.utcoffset(moment.astimezone(zone))
    return int(offset.total_seconds()) * _NS if offset else 0


def _from_parts(parts: tuple[str | None, ...], zone: tzinfo) -> int | None:
    year, month, day, hour, minute, second = (int(p or 0) for p in parts[:6])
    fraction = parts[6] or ""
    try:
        local = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if len(parts) > 7 and parts[7] is not None:
        mark = parts[7]
        if mark == "Z":
            aware = local.replace(tzinfo=UTC)
        else:
            sign = -1 if mark[0] == "-" else 1
            hours, minutes = int(mark[1:3]), int(mark[4:6])
            aware = local.replace(tzinfo=UTC) - sign * timedelta(hours=hours, minutes=minutes)
    else:
        aware = local.replace(tzinfo=zone).astimezone(UTC)
    delta = aware - _EPOCH
    ns = (delta.days * 86400 + delta.seconds) * _NS
    return ns + int((fraction + "000000000")[:9])


def parse_time_string(text: str, zone: tzinfo | None = None) -> int | None:
    """A time string as nanoseconds, read as 1.x's ``StringLiteral.ToTimeLiteral``; else ``None``.

    >>> parse_time_string("1970-01-01T00:00:01.5Z"), parse_time_string("1970-01-02")
    (1500000000, 86400000000000)
    """
    zone = zone or UTC
    if _DATETIME.match(text):
        match = _SPACED.match(text)
        if match:
            return _from_parts((*match.groups(), None), zone)
        match = _RFC3339.match(text)
        if match:
            return _from_parts(match.groups(), zone)
        return None
    if _DATE.match(text):
        return _from_parts((text[0:4], text[5:7], text[8:10], "0", "0", "0", None, None), zone)
    return None


def format_time(ns: int, zone: tzinfo | None = None) -> str:
    """``ns`` as Go's RFC 3339 with nanoseconds, trailing zeros cut (``...T00:00:01.5Z``).

    In a zone other than UTC the offset is written (``-06:00``), as 1.x does with ``tz()``.

    >>> format_time(1_500_000_000), format_time(0)
    ('1970-01-01T00:00:01.5Z', '1970-01-01T00:00:00Z')
    """
    seconds, frac = divmod(ns, _NS)
    offset = zone_offset(ns, zone)
    moment = _EPOCH + timedelta(seconds=seconds + offset // _NS)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.year < 1000:
        text = f"{moment.year:04d}" + text[text.index("-") :]
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    if offset == 0:
        return text + "Z"  # Go writes Z for any zero offset
    sign = "-" if offset < 0 else "+"
    minutes = abs(offset) // (60 * _NS)
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def window(t: int, interval: int, offset: int = 0, zone: tzinfo | None = None) -> tuple[int, int]:
    """The GROUP BY window ``[start, end)`` holding ``t`` (1.x ``IteratorOptions.Window``)."""
    t -= offset
    zone_ns = zone_offset(t, zone) if zone is not None else 0
    dt = (t + zone_ns) % interval  # Python's % is already a floor modulo
    start = MIN_TIME if MIN_TIME + dt >= t else t - dt
    if zone is not None:
        start_offset = zone_offset(start, zone)
        diff = zone_ns - start_offset
        if diff != 0 and abs(diff) < interval:
            start += diff
    start += offset
    rest = interval - dt
    end = MAX_TIME if MAX_TIME - rest <= t else t + rest
    end += offset
    if zone is not None:
        end_offset = zone_offset(end, zone)
        if zone_ns != end_offset:
            diff = zone_ns - end_offset
            if abs(diff) < interval:
                end += diff
    return start, end

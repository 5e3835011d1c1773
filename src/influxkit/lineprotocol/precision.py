"""Timestamp precision: the servers' spellings, InfluxDB 3's ``auto`` guess, times to nanoseconds.

The canonical names are ``ns``, ``us``, ``ms``, ``s``, ``auto`` (InfluxDB 3 only) and ``m``
/ ``h`` (minutes and hours: InfluxDB 1.x only, whose ``/write`` takes them; see
:func:`check_precision`). Scaling follows InfluxDB 3's ``Precision::to_nanos``
(``influxdb3_types/src/write.rs``): checked int64 arithmetic, and its own error text when
a timestamp does not fit.
"""

from __future__ import annotations

import re
import time as _time
from datetime import UTC, datetime, timedelta

from influxkit.errors import ConfigError, InvalidRecord

__all__ = [
    "PRECISIONS",
    "V1_ONLY_PRECISIONS",
    "check_precision",
    "from_nanos",
    "normalize_precision",
    "now_ns",
    "time_to_nanos",
    "to_nanos",
]

#: The canonical precision names every profile accepts (``auto``: InfluxDB 3 guesses).
PRECISIONS = ("ns", "us", "ms", "s", "auto")
#: Minutes and hours: spellings of InfluxDB 1.x's ``/write`` that no other server takes.
V1_ONLY_PRECISIONS = ("m", "h")

_ALIASES = {
    "auto": "auto",
    "s": "s",
    "second": "s",
    "ms": "ms",
    "millisecond": "ms",
    "us": "us",
    "u": "us",
    "microsecond": "us",
    "ns": "ns",
    "n": "ns",
    "nanosecond": "ns",
    "m": "m",
    "h": "h",
}
_ACCEPTED = (
    "auto, s / second, ms / millisecond, us / u / microsecond, ns / n / nanosecond, "
    "and on InfluxDB 1.x m (minutes) and h (hours)"
)

#: Nanoseconds per unit of each explicit precision.
FACTORS = {
    "s": 1_000_000_000,
    "ms": 1_000_000,
    "us": 1_000,
    "ns": 1,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# The names InfluxDB prints (Rust's Debug form of its Precision enum).
_DEBUG_NAMES = {
    "auto": "Auto",
    "s": "Second",
    "ms": "Millisecond",
    "us": "Microsecond",
    "ns": "Nanosecond",
    "m": "Minute",
    "h": "Hour",
}
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)


def normalize_precision(precision: str) -> str:
    """The canonical name (``ns``, ``us``, ``ms``, ``s``, ``auto``, ``m``, ``h``) of a spelling.

    Spellings are case-sensitive, as on the servers. Whether the server of a connection
    takes the name is :func:`check_precision`'s question.

    Raises:
        ConfigError: the spelling is not a precision; the message lists those.
    """
    try:
        return _ALIASES[precision]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown precision {precision!r}; accepted values are {_ACCEPTED}"
        ) from None


def check_precision(precision: str, profile: str | None) -> str:
    """The canonical name of ``precision``, refused unless the ``profile``'s server takes it.

    ``m`` and ``h`` exist only on InfluxDB 1.x (profile ``v1``): InfluxDB 3 and 2.x answer
    400 for them, so they are refused here, before anything is sent.

    Raises:
        ConfigError: an unknown spelling, or ``m`` / ``h`` on a profile other than ``v1``.

    Example:
        >>> check_precision("h", "v1")
        'h'
        >>> check_precision("h", "v3_core")
        Traceback (most recent call last):
        ...
        influxkit.errors.ConfigError: precision 'h' exists only on InfluxDB 1.x ...
    """
    name = normalize_precision(precision)
    if name in V1_ONLY_PRECISIONS and profile != "v1":
        raise ConfigError(
            f"precision {precision!r} exists only on InfluxDB 1.x (profile 'v1'); the "
            f"{profile!r} server refuses it: use ns, us, ms, s (or auto on InfluxDB 3)"
        )
    return name


def _guess(ts: int) -> str:
    """InfluxDB 3's ``Precision::guess_precision``: the unit an ``auto`` timestamp is read in."""
    if ts == _I64_MIN:
        # The server's release build computes abs() with wrapping arithmetic, so i64::MIN
        # stays negative, is guessed as seconds and then overflows; mirror that.
        return "s"
    v = abs(ts) // 1_000_000_000
    if v < 5:
        return "s"
    if v < 5_000:
        return "ms"
    if v < 5_000_000:
        return "us"
    return "ns"


def to_nanos(ts: int, precision: str) -> int:
    """An integer timestamp written in ``precision``, as nanoseconds (``auto`` guesses the unit).

    Raises:
        ValueError: the result does not fit int64, with InfluxDB's message
            ``timestamp, <ts>, out of range for precision: <Precision>``.
        ConfigError: ``precision`` is not a v3 spelling.
    """
    p = _ALIASES.get(precision) or normalize_precision(precision)
    unit = _guess(ts) if p == "auto" else p
    ns = ts * FACTORS[unit]
    if ns < _I64_MIN or ns > _I64_MAX:
        raise ValueError(f"timestamp, {ts}, out of range for precision: {_DEBUG_NAMES[p]}")
    return ns


def from_nanos(ns: int, precision: str) -> int:
    """Nanoseconds expressed in ``precision``, rounded down (floor); ``auto`` leaves ns as is."""
    p = _ALIASES.get(precision) or normalize_precision(precision)
    if p in ("auto", "ns"):
        return ns
    return ns // FACTORS[p]


def now_ns(precision: str = "ns") -> int:
    """The current time in nanoseconds, truncated down to a multiple of ``precision``.

    This is what the server assigns to a line without a timestamp; under ``auto`` it is
    not truncated.
    """
    p = _ALIASES.get(precision) or normalize_precision(precision)
    now = _time.time_ns()
    if p == "auto":
        return now
    factor = FACTORS[p]
    return now // factor * factor


def _datetime_ns(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # naive datetimes are UTC, as documented
    ns = (value - _EPOCH) // timedelta(microseconds=1) * 1000
    # pandas.Timestamp is a datetime that carries the nanoseconds datetime cannot.
    return ns + (getattr(value, "nanosecond", 0) or 0)


def _iso_ns(text: str) -> int:
    m = _ISO.fullmatch(text.strip())
    if m is None:
        raise ValueError("not an ISO-8601 / RFC 3339 timestamp")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    dt = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )
    ns = (dt - _EPOCH) // timedelta(seconds=1) * 1_000_000_000
    if frac:
        ns += int(frac.ljust(9, "0"))
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:] or 0)
        ns -= sign * offset * 60_000_000_000
    return ns


def time_to_nanos(value: object, precision: str = "ns") -> int:
    """A time value as int64 nanoseconds since the epoch.

    Accepts an ``int`` in ``precision`` (``auto`` guesses as the server does), a
    ``datetime`` (naive means UTC), or an ISO-8601 string such as
    ``2026-01-01T00:00:00.123456789Z`` (nanoseconds kept; no zone means UTC).

    Raises:
        InvalidRecord: any other type, an unparsable string, or a time outside int64 ns.
    """
    p = _ALIASES.get(precision) or normalize_precision(precision)
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return to_nanos(int(value), p)
        if isinstance(value, datetime):
            ns = _datetime_ns(value)
        elif isinstance(value, str):
            ns = _iso_ns(value)
        else:
            raise InvalidRecord(
                f"time must be an int, a datetime or an ISO-8601 string, not "
                f"{type(value).__name__} ({value!r})"
            )
    except (ValueError, OverflowError) as exc:
        if isinstance(exc, InvalidRecord):
            raise
        raise InvalidRecord(f"time {value!r} cannot be used: {exc}") from None
    if ns < _I64_MIN or ns > _I64_MAX:
        raise InvalidRecord(f"time {value!r} is outside the int64 nanosecond range")
    return ns

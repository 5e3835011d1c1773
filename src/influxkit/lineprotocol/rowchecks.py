"""The row encoder's checks and messages outside its fast path: dict shapes, odd times, odd values.

What :mod:`influxkit.lineprotocol.encode` calls only for records or values off its fast
path (a dict without ``"tags"``, a datetime ``time``, a numpy scalar, ``UInt`` ...) and
the :class:`~influxkit.errors.InvalidRecord` messages it raises, each naming the
measurement, the key and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orjson import dumps as _dumps

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.escape import escape_string
from influxkit.lineprotocol.model import UInt
from influxkit.lineprotocol.precision import from_nanos, time_to_nanos

__all__ = [
    "check_dict_keys",
    "check_fields",
    "dict_time",
    "int_range",
    "non_finite",
    "other_value",
    "tag_text",
    "unsupported",
]

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_DICT_KEYS = frozenset(("measurement", "tags", "fields", "time"))


def unsupported(rec: object) -> str:
    """Why ``rec`` is no record: the kinds that are."""
    return (
        f"cannot encode a {type(rec).__name__} ({rec!r:.60}) as line protocol: pass a str, "
        "bytes, Point, dict, or an iterable of those"
    )


def check_dict_keys(rec: Mapping[str, Any]) -> None:
    """Refuse a record dict with a key it cannot have, or without a measurement."""
    unknown = [k for k in rec if k not in _DICT_KEYS]
    if unknown:
        raise InvalidRecord(
            f"record dict has unknown key(s) {', '.join(map(repr, unknown))}; the keys are "
            "'measurement', 'tags', 'fields' and 'time'"
        )
    if "measurement" not in rec:
        raise InvalidRecord("record dict has no 'measurement'")


def check_fields(measurement: object, fields: object) -> Mapping[Any, Any]:
    """A record dict's ``fields``, if they are a mapping; else refused."""
    if isinstance(fields, Mapping):
        return fields
    if fields is None:
        raise InvalidRecord(f"measurement {measurement!r}: the record dict has no 'fields'")
    raise InvalidRecord(
        f"measurement {measurement!r}: 'fields' must be a dict, not {type(fields).__name__}"
    )


def dict_time(measurement: object, ts: object, precision: str) -> int:
    """A dict's non-``int`` time (datetime, ISO string, int subclass) in the write precision."""
    if isinstance(ts, int) and not isinstance(ts, bool):
        ts = int(ts)
        if ts < _I64_MIN or ts > _I64_MAX:
            raise InvalidRecord(f"measurement {measurement!r}: time {ts} does not fit int64")
        return ts
    try:
        return from_nanos(time_to_nanos(ts, "ns"), precision)
    except InvalidRecord as exc:
        raise InvalidRecord(f"measurement {measurement!r}: {exc.message}") from None


def tag_text(key: object, value: object) -> str:
    """A non-str tag value as text: str subclasses and numbers; anything else is refused."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (int, float)):  # bool too: True -> "True"
        return str(value)
    raise InvalidRecord(
        f"tag {key!r} value must be a str (or a number), not {type(value).__name__} ({value!r})"
    )


def non_finite(measurement: object, key: object, value: object) -> InvalidRecord:
    """The error for a NaN or infinite float field."""
    return InvalidRecord(
        f"measurement {measurement!r}: field {key!r} is {value!r}; line protocol has no "
        "NaN or infinity (leave the field out, or write None)"
    )


def int_range(measurement: object, key: object, value: int) -> InvalidRecord:
    """The error for an int field outside int64."""
    return InvalidRecord(
        f"measurement {measurement!r}: field {key!r} = {value} does not fit int64 "
        "(use UInt for 0..2**64-1, or a float)"
    )


def other_value(measurement: object, key: object, value: Any) -> str:
    """Field values outside the fast path: UInt, subclasses, numpy scalars; else refused."""
    if isinstance(value, UInt):
        return f"{int(value)}u"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        v = int(value)
        if v < _I64_MIN or v > _I64_MAX:
            raise int_range(measurement, key, v)
        return f"{v}i"
    if isinstance(value, float):
        s = _dumps(float(value)).decode()
        if s[0] == "n":
            raise non_finite(measurement, key, value)
        return s
    if isinstance(value, str):
        return escape_string(str.__str__(value))
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if type(value).__module__ == "numpy" and kind in ("b", "i", "u", "f"):
        item = value.item()  # the Python scalar, so numpy itself is never imported here
        return other_value(measurement, key, UInt(item) if kind == "u" else item)
    raise InvalidRecord(
        f"measurement {measurement!r}: field {key!r} = {value!r:.60} is a "
        f"{type(value).__name__}; field values are float, int, UInt, bool or str"
    )

"""Row encoder: Points, dicts, str and bytes (or an iterable mixing them) to line protocol bytes.

The output is what InfluxDB 3's parser reads back to the same values (the round trip is
property-tested against :mod:`influxkit.lineprotocol.parse`). Tags are sorted by key and
tags whose value is ``None`` or ``""`` are left out (an empty tag value is invalid line
protocol); fields whose value is ``None`` are left out, and a record left with no field
is refused. Bad data raises :class:`~influxkit.errors.InvalidRecord` naming the
measurement, the key and the value.

Speed comes from caches, not cleverness: escaped series keys (measurement + sorted tag
set) are cached by the raw tag items, escaped field keys by name, the per-field work is
an inline ``type() is`` dispatch, and floats are formatted by orjson (already a
dependency), whose shortest round-trip digits cost a quarter of ``repr()``'s. Its text
can differ from ``repr()`` (``0.000025`` for ``2.5e-05``); both read back to the same
float, and both are valid line protocol. The caches are bounded (cleared when full), so a
high-cardinality stream costs memory for at most ``_CACHE_LIMIT`` entries each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from operator import itemgetter
from typing import Any

from orjson import dumps as _dumps

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.escape import (
    _SAFE_LENGTH,
    escape_key,
    escape_measurement,
    escape_string,
)
from influxkit.lineprotocol.model import UInt
from influxkit.lineprotocol.precision import (
    _ALIASES,
    FACTORS,
    from_nanos,
    normalize_precision,
    time_to_nanos,
)
from influxkit.lineprotocol.schema import Schema
from influxkit.point import Point

__all__ = ["encode", "encode_lines"]

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_CACHE_LIMIT = 100_000
_DICT_KEYS = frozenset(("measurement", "tags", "fields", "time"))

# (measurement, *tag keys, *tag values) -> escaped "measurement,k=v,..."; only all-str tag
# sets are cached, so 1 == True == 1.0 can never make two tag sets share an entry.
_SERIES_CACHE: dict[tuple[Any, ...], str] = {}
# field name -> "," + escaped name + "="
_FIELD_KEY_CACHE: dict[str, str] = {}

Records = (
    str | bytes | Point | Mapping[str, Any] | Iterable[str | bytes | Point | Mapping[str, Any]]
)


def encode(records: Records, *, precision: str = "ns", schema: Schema | None = None) -> bytes:
    """Line protocol for ``records``, lines joined with ``\\n``, as UTF-8 bytes.

    Args:
        records: a ``str`` or ``bytes`` (passed through), a :class:`~influxkit.Point`, a
            dict ``{"measurement", "tags", "fields", "time"}``, or an iterable of those.
        precision: the write precision. Point times (kept in ns) are floor-divided to
            it; a dict's ``int`` time is taken as already in it, a datetime or ISO-8601
            string is converted. ``auto`` writes nanoseconds.
        schema: pinned field types (:class:`~influxkit.lineprotocol.schema.Schema`):
            Points' and dicts' fields are coerced to them, or refused.

    Raises:
        InvalidRecord: a record line protocol cannot carry (NaN, a bad type, a bad name).
        ConfigError: an unknown precision.
    """
    if type(records) is bytes:
        return records
    text = "\n".join(encode_lines(records, precision=precision, schema=schema))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        start = text.rfind("\n", 0, exc.start) + 1
        raise InvalidRecord(
            f"the record starting {text[start : start + 40]!r} contains a lone surrogate "
            f"({text[exc.start]!r}), which UTF-8 cannot encode"
        ) from None


def encode_lines(
    records: Records, *, precision: str = "ns", schema: Schema | None = None
) -> list[str]:
    """Like :func:`encode`, but the lines as a list of ``str`` (one per record or str)."""
    p = _ALIASES.get(precision) if type(precision) is str else None
    if p is None:
        p = normalize_precision(precision)
    div = FACTORS.get(p, 1)
    if isinstance(records, (str, bytes, bytearray, memoryview, Point, Mapping)):
        records = (records,)
    elif hasattr(records, "__arrow_c_stream__") or hasattr(records, "__dataframe__"):
        # Iterating a DataFrame yields its column names, which would pass for lines.
        raise InvalidRecord(
            f"a {type(records).__name__} is a table, not rows: pass it to write(), which "
            "encodes tables column by column"
        )
    elif not isinstance(records, Iterable):
        raise InvalidRecord(_unsupported(records))
    if schema:
        records = _with_schema(records, schema)

    lines: list[str] = []
    append = lines.append
    dumps, safe, lo, hi = _dumps, _SAFE_LENGTH, _I64_MIN, _I64_MAX  # locals: faster than globals
    fk_get = _FIELD_KEY_CACHE.get
    series_get = _SERIES_CACHE.get
    for rec in records:
        cls = type(rec)
        if cls is Point:
            measurement = rec._measurement
            key = rec._key
            if key is None:
                tags = rec._tags
                key = series_get((measurement, *tags, *tags.values()))
                if key is None:
                    key = _series(measurement, tags)
                rec._key = key
            fields = rec._fields
            ts = rec._time
            if ts is not None and div != 1:
                ts //= div
        elif cls is dict:
            try:
                measurement = rec["measurement"]
                tags = rec["tags"]
                fields = rec["fields"]
                ts = rec["time"]
            except KeyError:  # "tags" or "time" left out, or a key missing: the slow path
                measurement, key, fields, ts = _split_dict(rec, p)
            else:
                if len(rec) != 4:
                    _check_dict_keys(rec)
                if type(tags) is dict:
                    try:
                        key = series_get((measurement, *tags, *tags.values()))
                    except TypeError:  # an unhashable tag value; _series names it
                        key = None
                    if key is None:
                        key = _series(measurement, tags)
                else:
                    key = _series(measurement, tags)
                if type(fields) is not dict:
                    fields = _check_fields(measurement, fields)
                if ts is not None:
                    if type(ts) is not int:
                        ts = _dict_time(measurement, ts, p)
                    elif ts < lo or ts > hi:
                        raise InvalidRecord(
                            f"measurement {measurement!r}: time {ts} does not fit int64"
                        )
        elif cls is str:
            if rec:
                append(rec[:-1] if rec[-1] == "\n" else rec)
            continue
        else:
            item = _other_record(rec, p, div)
            if item is None:
                continue
            if type(item) is str:
                append(item)
                continue
            measurement, key, fields, ts = item

        # Cached keys carry their leading comma; body[1:] drops the first one. For the
        # handful of fields a record has, += beats building a list and joining it.
        body = ""
        for k, v in fields.items():
            ek = fk_get(k)
            if ek is None:
                ek = _field_key(measurement, k)
            t = type(v)
            if t is float:
                s = dumps(v).decode()  # shortest round-trip digits, ~4x faster than repr()
                if s[0] == "n":  # orjson writes NaN and infinities as null
                    raise _non_finite(measurement, k, v)
                body += ek + s
            elif t is int:
                if v < lo or v > hi:
                    raise _int_range(measurement, k, v)
                body += f"{ek}{v}i"
            elif t is str:
                if '"' in v or "\\" in v or len(v) > safe:
                    body += ek + escape_string(v)
                else:
                    body += f'{ek}"{v}"'
            elif t is bool:
                body += ek + ("true" if v else "false")
            elif v is not None:
                body += ek + _other_value(measurement, k, v)
        if not body:
            raise InvalidRecord(
                f"measurement {measurement!r}: a record needs at least one field that is not None"
            )
        if ts is None:
            append(f"{key} {body[1:]}")
        else:
            append(f"{key} {body[1:]} {ts}")
    return lines


def _with_schema(records: Iterable[Any], schema: Schema) -> Iterator[Any]:
    """Points and dicts with their fields coerced to ``schema`` (copies; others as given)."""
    for rec in records:
        yield _pinned(rec, schema)


def _pinned(rec: Any, schema: Schema) -> Any:
    if isinstance(rec, Point):
        fields = schema.coerce(rec._measurement, rec._fields, rec._tags)
        if fields is rec._fields:
            return rec
        copy = Point.__new__(Point)
        copy._measurement, copy._tags, copy._time = rec._measurement, rec._tags, rec._time
        copy._fields, copy._key = dict(fields), rec._key
        return copy
    if isinstance(rec, Mapping) and isinstance(rec.get("fields"), Mapping):
        tags = rec.get("tags")
        fields = schema.coerce(
            rec.get("measurement"), rec["fields"], tags if isinstance(tags, Mapping) else None
        )
        if fields is not rec["fields"]:
            return {**rec, "fields": fields}
    return rec


def _unsupported(rec: object) -> str:
    return (
        f"cannot encode a {type(rec).__name__} ({rec!r:.60}) as line protocol: pass a str, "
        "bytes, Point, dict, or an iterable of those"
    )


def _other_record(rec: Any, precision: str, div: int) -> tuple[Any, ...] | str | None:
    """The uncommon record kinds: subclasses, bytes, anything else (refused)."""
    if isinstance(rec, Point):
        ts = rec._time
        if ts is not None:
            ts //= div
        return rec._measurement, _series(rec._measurement, rec._tags), rec._fields, ts
    if isinstance(rec, (bytes, bytearray, memoryview)):
        try:
            text = bytes(rec).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRecord(f"a bytes record is not valid UTF-8: {exc}") from None
        return (text[:-1] if text.endswith("\n") else text) or None
    if isinstance(rec, str):
        text = str.__str__(rec)
        return (text[:-1] if text.endswith("\n") else text) or None
    if isinstance(rec, Mapping):
        # dict subclasses and other mappings: take the plain-dict path through a copy.
        return _split_dict(dict(rec), precision)
    raise InvalidRecord(_unsupported(rec))


def _split_dict(rec: dict[str, Any], precision: str) -> tuple[Any, ...]:
    _check_dict_keys(rec)
    measurement = rec.get("measurement")
    fields = _check_fields(measurement, rec.get("fields"))
    ts = rec.get("time")
    if ts is not None:
        ts = _dict_time(measurement, ts, precision)
    return measurement, _series(measurement, rec.get("tags")), fields, ts


def _check_dict_keys(rec: Mapping[str, Any]) -> None:
    unknown = [k for k in rec if k not in _DICT_KEYS]
    if unknown:
        raise InvalidRecord(
            f"record dict has unknown key(s) {', '.join(map(repr, unknown))}; the keys are "
            "'measurement', 'tags', 'fields' and 'time'"
        )
    if "measurement" not in rec:
        raise InvalidRecord("record dict has no 'measurement'")


def _check_fields(measurement: object, fields: object) -> Mapping[Any, Any]:
    if isinstance(fields, Mapping):
        return fields
    if fields is None:
        raise InvalidRecord(f"measurement {measurement!r}: the record dict has no 'fields'")
    raise InvalidRecord(
        f"measurement {measurement!r}: 'fields' must be a dict, not {type(fields).__name__}"
    )


def _dict_time(measurement: object, ts: object, precision: str) -> int:
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


def _series(measurement: Any, tags: Any) -> str:
    """The escaped series key, from the cache or built (and cached when every tag is a str)."""
    if tags is None:
        tags = {}
    elif not isinstance(tags, Mapping):
        raise InvalidRecord(
            f"measurement {measurement!r}: 'tags' must be a dict, not {type(tags).__name__}"
        )
    items = tuple(tags.items())
    cache_key = (measurement, *tags, *tags.values())
    try:
        cached = _SERIES_CACHE.get(cache_key)
    except TypeError:
        cached = None
    if cached is not None:
        return cached
    m = escape_measurement(measurement)  # its errors name the measurement already
    try:
        kept = []
        all_str = type(measurement) is str
        for k, value in items:
            text = value
            if type(text) is not str:
                all_str = False
                if text is None:
                    continue
                text = _tag_text(k, text)
            if text == "":
                continue
            kept.append((k, escape_key(k, "tag key"), escape_key(text, f"tag {k!r} value")))
    except InvalidRecord as exc:
        raise InvalidRecord(f"measurement {measurement!r}: {exc.message}") from None
    kept.sort(key=itemgetter(0))
    key = m + "".join(f",{ek}={ev}" for _, ek, ev in kept)
    if all_str:
        if len(_SERIES_CACHE) >= _CACHE_LIMIT:
            _SERIES_CACHE.clear()
        _SERIES_CACHE[cache_key] = key
    return key


def _tag_text(key: object, value: object) -> str:
    """A non-str tag value as text: str subclasses and numbers; anything else is refused."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (int, float)):  # bool too: True -> "True"
        return str(value)
    raise InvalidRecord(
        f"tag {key!r} value must be a str (or a number), not {type(value).__name__} ({value!r})"
    )


def _field_key(measurement: object, key: object) -> str:
    try:
        escaped = "," + escape_key(key, "field key") + "="  # type: ignore[arg-type]
    except InvalidRecord as exc:
        raise InvalidRecord(f"measurement {measurement!r}: {exc.message}") from None
    if type(key) is str:
        if len(_FIELD_KEY_CACHE) >= _CACHE_LIMIT:
            _FIELD_KEY_CACHE.clear()
        _FIELD_KEY_CACHE[key] = escaped
    return escaped


def _non_finite(measurement: object, key: object, value: object) -> InvalidRecord:
    return InvalidRecord(
        f"measurement {measurement!r}: field {key!r} is {value!r}; line protocol has no "
        "NaN or infinity (leave the field out, or write None)"
    )


def _int_range(measurement: object, key: object, value: int) -> InvalidRecord:
    return InvalidRecord(
        f"measurement {measurement!r}: field {key!r} = {value} does not fit int64 "
        "(use UInt for 0..2**64-1, or a float)"
    )


def _other_value(measurement: object, key: object, value: Any) -> str:
    """Field values outside the fast path: UInt, subclasses, numpy scalars; else refused."""
    if isinstance(value, UInt):
        return f"{int(value)}u"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        v = int(value)
        if v < _I64_MIN or v > _I64_MAX:
            raise _int_range(measurement, key, v)
        return f"{v}i"
    if isinstance(value, float):
        s = _dumps(float(value)).decode()
        if s[0] == "n":
            raise _non_finite(measurement, key, value)
        return s
    if isinstance(value, str):
        return escape_string(str.__str__(value))
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if type(value).__module__ == "numpy" and kind in ("b", "i", "u", "f"):
        item = value.item()  # the Python scalar, so numpy itself is never imported here
        return _other_value(measurement, key, UInt(item) if kind == "u" else item)
    raise InvalidRecord(
        f"measurement {measurement!r}: field {key!r} = {value!r:.60} is a "
        f"{type(value).__name__}; field values are float, int, UInt, bool or str"
    )

"""Row encoder: Points, dicts, str and bytes (or an iterable mixing them) to line protocol bytes.

The output is what InfluxDB 3's parser reads back to the same values (the round trip is
property-tested against :mod:`influxkit.lineprotocol.parse`). Tags are sorted by key and
tags whose value is ``None`` or ``""`` are left out (an empty tag value is invalid line
protocol); fields whose value is ``None`` are left out, and a record left with no field
is refused. Bad data raises :class:`~influxkit.errors.InvalidRecord` naming the
measurement, the key and the value.

Speed comes from caches: escaped series keys (measurement + sorted tag set, with the
space that ends them) are cached by the raw tag items, escaped field keys by name (with
and without their leading comma), the per-field work is an inline ``type() is`` dispatch
that grows the line with one f-string per field, and floats are formatted by orjson
(already a dependency), whose shortest round-trip digits cost a quarter of ``repr()``'s.
Its text can differ from ``repr()`` (``0.000025`` for ``2.5e-05``); both read back to
the same float, and both are valid line protocol. A set of field names seen often gets a
formatter of its own (:mod:`influxkit.lineprotocol.rowformat`), which writes the plain
case of such a record in one f-string and leaves everything else to the general loop.
The caches are bounded (cleared when full), so a high-cardinality stream costs memory for
at most ``_CACHE_LIMIT`` entries each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
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
from influxkit.lineprotocol.precision import (
    _ALIASES,
    FACTORS,
    normalize_precision,
)
from influxkit.lineprotocol.rowchecks import (
    check_dict_keys,
    check_fields,
    dict_time,
    int_range,
    non_finite,
    other_value,
    tag_text,
    unsupported,
)
from influxkit.lineprotocol.rowformat import FORMATTERS
from influxkit.lineprotocol.rowformat import learn as _learn
from influxkit.lineprotocol.rowformat import missed as _missed
from influxkit.lineprotocol.schema import Schema
from influxkit.point import Point

__all__ = ["encode", "encode_lines"]

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_CACHE_LIMIT = 100_000
_CHUNK = 1_000

# (measurement, *tag keys, *tag values) -> escaped "measurement,k=v,... " (the space that
# ends the series key included); only all-str tag sets are cached, so 1 == True == 1.0
# can never make two tag sets share an entry.
_SERIES_CACHE: dict[tuple[Any, ...], str] = {}
# field name -> "," + escaped name + "=" (any field after the first) ...
_FIELD_KEY_CACHE: dict[str, str] = {}
# ... and escaped name + "=" (the first field written); both filled and cleared together.
_FIRST_KEY_CACHE: dict[str, str] = {}

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
    p, div, rows = _rows(records, precision, schema)
    # A thousand records at a time: their lines are joined and made bytes while still in
    # the CPU's cache, and their memory is reused by the next thousand.
    if type(rows) is list or type(rows) is tuple:
        if len(rows) <= _CHUNK:
            return _utf8(_encode_rows(rows, p, div))
        chunks: Iterable[Any] = (rows[i : i + _CHUNK] for i in range(0, len(rows), _CHUNK))
    else:
        it = iter(rows)
        chunks = iter(lambda: list(islice(it, _CHUNK)), [])
    parts = []
    for chunk in chunks:
        lines = _encode_rows(chunk, p, div)
        if lines:
            parts.append(_utf8(lines))
    return b"\n".join(parts)


def encode_lines(
    records: Records, *, precision: str = "ns", schema: Schema | None = None
) -> list[str]:
    """Like :func:`encode`, but the lines as a list of ``str`` (one per record or str)."""
    p, div, rows = _rows(records, precision, schema)
    return _encode_rows(rows, p, div)


def _utf8(lines: list[str]) -> bytes:
    text = "\n".join(lines)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        start = text.rfind("\n", 0, exc.start) + 1
        raise InvalidRecord(
            f"the record starting {text[start : start + 40]!r} contains a lone surrogate "
            f"({text[exc.start]!r}), which UTF-8 cannot encode"
        ) from None


def _rows(records: Records, precision: str, schema: Schema | None) -> tuple[str, int, Any]:
    """The precision's name and divisor, and ``records`` as an iterable of records."""
    p = _ALIASES.get(precision) if type(precision) is str else None
    if p is None:
        p = normalize_precision(precision)
    if isinstance(records, (str, bytes, bytearray, memoryview, Point, Mapping)):
        records = (records,)
    elif hasattr(records, "__arrow_c_stream__") or hasattr(records, "__dataframe__"):
        # Iterating a DataFrame yields its column names, which would pass for lines.
        raise InvalidRecord(
            f"a {type(records).__name__} is a table, not rows: pass it to write(), which "
            "encodes tables column by column"
        )
    elif not isinstance(records, Iterable):
        raise InvalidRecord(unsupported(records))
    if schema:
        records = _with_schema(records, schema)
    return p, FACTORS.get(p, 1), records


def _encode_rows(records: Iterable[Any], p: str, div: int) -> list[str]:
    """The lines of ``records`` (precision ``p``, Point times divided by ``div``)."""
    lines: list[str] = []
    append = lines.append
    dumps, safe, lo, hi = _dumps, _SAFE_LENGTH, _I64_MIN, _I64_MAX  # locals: faster than globals
    fkeys = _FIELD_KEY_CACHE
    first_keys = _FIRST_KEY_CACHE
    series = _SERIES_CACHE
    formatters, learn, missed = FORMATTERS, _learn, _missed
    _type, _dict, _int, _len, _tuple, _point = type, dict, int, len, tuple, Point  # same
    last_names: tuple[Any, ...] | None = None
    last_fmt = None
    for rec in records:
        cls = _type(rec)
        if cls is _point:
            measurement = rec._measurement
            key = rec._key
            if key is None:
                tags = rec._tags
                try:
                    key = series[(measurement, *tags, *tags.values())]
                except KeyError:
                    key = _series(measurement, tags)
                rec._key = key
            fields = rec._fields
            ts = rec._time
            if ts is not None and div != 1:
                ts //= div
        elif cls is _dict:
            try:
                measurement = rec["measurement"]
                tags = rec["tags"]
                fields = rec["fields"]
                ts = rec["time"]
            except KeyError:  # "tags" or "time" left out, or a key missing: the slow path
                measurement, key, fields, ts = _split_dict(rec, p)
            else:
                if _len(rec) != 4:
                    check_dict_keys(rec)
                if _type(tags) is _dict:
                    try:
                        key = series[(measurement, *tags, *tags.values())]
                    except (KeyError, TypeError):  # not cached, or unhashable: _series says
                        key = _series(measurement, tags)
                else:
                    key = _series(measurement, tags)
                if _type(fields) is not _dict:
                    fields = check_fields(measurement, fields)
                if _type(ts) is _int:
                    if not lo <= ts <= hi:
                        raise InvalidRecord(
                            f"measurement {measurement!r}: time {ts} does not fit int64"
                        )
                elif ts is not None:
                    ts = dict_time(measurement, ts, p)
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

        if _type(fields) is _dict:  # a shape seen often has a formatter of its own
            names = _tuple(fields)
            if names == last_names:  # the previous record's shape: no lookup
                fmt = last_fmt
            else:
                fmt = formatters.get(names) or learn(names, fields)
                if fmt is not None:
                    last_names, last_fmt = names, fmt
            if fmt is not None:
                line = fmt(fields, key, ts)
                if line is not None:
                    append(line)
                    continue
                missed(names)  # not the plain case: the general loop decides
                last_names = None  # (missed may have dropped it)

        # The line grows from the series key; the first field written takes its key
        # without the comma. One f-string per field copies less than `+=` of a sum.
        body = key
        ekc = first_keys
        for k, v in fields.items():
            try:
                ek = ekc[k]
            except (KeyError, TypeError):
                ek = _field_key(measurement, k, ekc is first_keys)
            t = type(v)
            if t is float:
                s = dumps(v).decode()  # shortest round-trip digits, ~4x faster than repr()
                if s == "null":  # orjson writes NaN and infinities as null
                    raise non_finite(measurement, k, v)
                body = f"{body}{ek}{s}"
            elif t is int:
                if not lo <= v <= hi:
                    raise int_range(measurement, k, v)
                body = f"{body}{ek}{v}i"
            elif t is str:
                if '"' in v or "\\" in v or len(v) > safe:
                    body = f"{body}{ek}{escape_string(v)}"
                else:
                    body = f'{body}{ek}"{v}"'
            elif t is bool:
                body = f"{body}{ek}{'true' if v else 'false'}"
            elif v is None:
                continue
            else:
                body = f"{body}{ek}{other_value(measurement, k, v)}"
            ekc = fkeys
        if ekc is first_keys:  # no field written
            raise InvalidRecord(
                f"measurement {measurement!r}: a record needs at least one field that is not None"
            )
        if ts is None:
            append(body)
        else:
            append(f"{body} {ts}")
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
    raise InvalidRecord(unsupported(rec))


def _split_dict(rec: dict[str, Any], precision: str) -> tuple[Any, ...]:
    check_dict_keys(rec)
    measurement = rec.get("measurement")
    fields = check_fields(measurement, rec.get("fields"))
    ts = rec.get("time")
    if ts is not None:
        ts = dict_time(measurement, ts, precision)
    return measurement, _series(measurement, rec.get("tags")), fields, ts


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
                text = tag_text(k, text)
            if text == "":
                continue
            kept.append((k, escape_key(k, "tag key"), escape_key(text, f"tag {k!r} value")))
    except InvalidRecord as exc:
        raise InvalidRecord(f"measurement {measurement!r}: {exc.message}") from None
    kept.sort(key=itemgetter(0))
    key = m + "".join(f",{ek}={ev}" for _, ek, ev in kept) + " "
    if all_str:
        if len(_SERIES_CACHE) >= _CACHE_LIMIT:
            _SERIES_CACHE.clear()
        _SERIES_CACHE[cache_key] = key
    return key


def _field_key(measurement: object, key: object, first: bool) -> str:
    """A field key escaped, with ``=`` after it and (unless ``first``) a comma before."""
    try:
        escaped = escape_key(key, "field key") + "="  # type: ignore[arg-type]
    except InvalidRecord as exc:
        raise InvalidRecord(f"measurement {measurement!r}: {exc.message}") from None
    if type(key) is str:
        if len(_FIELD_KEY_CACHE) >= _CACHE_LIMIT:
            _FIELD_KEY_CACHE.clear()
            _FIRST_KEY_CACHE.clear()
        _FIELD_KEY_CACHE[key] = "," + escaped
        _FIRST_KEY_CACHE[key] = escaped
    return escaped if first else "," + escaped

"""Row formatters written per field shape, for the row encoder's records that repeat one.

A stream of records mostly repeats one set of field names with the same value types
(``usage`` a float, ``count`` an int ...). For such a shape the row encoder's general
per-field loop spends much of its time on the loop itself: iterating, looking up each
escaped key, dispatching on each type, growing the line field by field. A function
written for the shape (its fields unrolled, one type check each, the line made by a
single f-string) makes the same line with about a tenth less work for the whole record
(3 tags, 4 fields). This module writes such functions, the way :mod:`dataclasses`
writes ``__init__``: the source holds only names of its own (``v0``, ``t0`` ...); the
field names and their escaped text reach the function as values in its namespace, never
as source.

A formatter formats only the plain case: every value of exactly the type it was written
for, floats finite, ints within int64, strings below the length limit. For anything else
it returns ``None`` and the general loop takes the record, so every rule and every error
message stays in one place (:mod:`influxkit.lineprotocol.encode`).

Writing a formatter costs about what it then saves on several hundred records, so one is
written only for a shape seen :data:`LEARN_AFTER` times, and one that keeps missing (its
types changed) is dropped and learned again later. The tables are bounded
(cleared when full)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orjson import dumps

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.escape import _SAFE_LENGTH, escape_key

__all__ = ["FORMATTERS", "forget", "learn", "missed"]

Formatter = Callable[[dict[str, Any], str, "int | None"], "str | None"]

#: Sightings of a shape before a formatter is written for it.
LEARN_AFTER = 500
#: Misses after which a formatter is dropped (its shape is learned again from scratch).
MISS_LIMIT = 1_000
#: The most fields a formatter is written for; wider records keep the general loop.
MAX_FIELDS = 64
_FORMATTERS_LIMIT = 512
_SIGHTINGS_LIMIT = 10_000

#: field names (in the record's order) -> the formatter written for them.
FORMATTERS: dict[tuple[Any, ...], Formatter] = {}
_SIGHTINGS: dict[tuple[Any, ...], int] = {}
_MISSES: dict[tuple[Any, ...], int] = {}

# What each type adds to the source: checks and conversions of v{i} ...
_FLOAT = """    v{i} = dumps(v{i}).decode()
    if v{i} == "null":
        return None
"""
_INT = """    if 0 <= v{i} < small_limit:
        v{i} = small[v{i}]
    elif not lo <= v{i} <= hi:
        return None
"""
_BOOL = """    v{i} = "true" if v{i} else "false"
"""
_STR = """    if len(v{i}) > safe:
        return None
    if '"' in v{i} or "\\\\" in v{i}:
        v{i} = escape(v{i})
"""
_CODE = {float: _FLOAT, int: _INT, bool: _BOOL, str: _STR}
# ... and the text around its value in the line.
_AROUND = {float: ("", ""), int: ("", "i"), bool: ("", ""), str: ('"', '"')}


# The text of the ints most fields hold (counts, codes, percentages): a lookup costs a
# fraction of formatting one.
_SMALL_INTS = tuple(str(i) for i in range(1024))


def _escape(value: str) -> str:
    """A string field's text between its quotes (as ``escape_string``, less the quotes)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def learn(names: tuple[Any, ...], fields: dict[str, Any]) -> Formatter | None:
    """Count a sighting of ``names``; the formatter for them once seen often enough."""
    seen = _SIGHTINGS.get(names, 0) + 1
    if seen < LEARN_AFTER:
        if len(_SIGHTINGS) >= _SIGHTINGS_LIMIT:
            _SIGHTINGS.clear()
        _SIGHTINGS[names] = seen
        return None
    _SIGHTINGS.pop(names, None)  # learned, or not learnable now: count afresh
    formatter = _write(names, tuple(map(type, fields.values())))
    if formatter is not None:
        if len(FORMATTERS) >= _FORMATTERS_LIMIT:
            FORMATTERS.clear()
            _MISSES.clear()
        FORMATTERS[names] = formatter
    return formatter


def missed(names: tuple[Any, ...]) -> None:
    """Count a record the formatter for ``names`` left to the general loop."""
    if names not in FORMATTERS:  # dropped meanwhile (another thread, forget())
        return
    misses = _MISSES.get(names, 0) + 1
    if misses >= MISS_LIMIT:
        FORMATTERS.pop(names, None)
        _MISSES.pop(names, None)
    else:
        _MISSES[names] = misses


def forget() -> None:
    """Drop every formatter and every count (their memory back; a fresh start for tests)."""
    FORMATTERS.clear()
    _SIGHTINGS.clear()
    _MISSES.clear()


def _write(names: tuple[Any, ...], types: tuple[type, ...]) -> Formatter | None:
    """A formatter for these field names and value types, or ``None`` if they have none."""
    if len(names) > MAX_FIELDS or any(t not in _CODE for t in types):
        return None
    namespace: dict[str, Any] = {
        "dumps": dumps,
        "escape": _escape,
        "lo": -(2**63),
        "hi": 2**63 - 1,
        "safe": _SAFE_LENGTH,
        "small": _SMALL_INTS,
        "small_limit": len(_SMALL_INTS),
    }
    # The constant text between two values (the one's suffix, the next's key and
    # prefix) is one string, so the line's f-string has as few parts as it can.
    text, n = "", len(names)
    for i, (name, kind) in enumerate(zip(names, types, strict=True)):
        try:
            key = escape_key(name, "field key")
        except InvalidRecord:  # not a str, or not a valid key
            return None  # the general loop raises, naming the measurement
        prefix, suffix = _AROUND[kind]
        namespace[f"t{i}"] = f"{text}{',' if i else ''}{key}={prefix}"
        text = suffix
    namespace["z"], namespace["zs"] = text, text + " "
    values = "".join(f"v{i}, " for i in range(n))
    checks = " or ".join(f"type(v{i}) is not {t.__name__}" for i, t in enumerate(types))
    line = "{key}" + "".join(f"{{t{i}}}{{v{i}}}" for i in range(n))
    source = (
        "def format_row(fields, key, ts):\n"
        f"    {values}= fields.values()\n"
        f"    if {checks}:\n"
        "        return None\n"
        + "".join(_CODE[t].format(i=i) for i, t in enumerate(types))
        + "    if ts is None:\n"
        f"        return f'{line}{{z}}'\n"
        f"    return f'{line}{{zs}}{{ts}}'\n"
    )
    exec(source, namespace)  # no caller data in the source: see the module docstring
    return namespace["format_row"]  # type: ignore[no-any-return]

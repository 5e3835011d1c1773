"""Escaping of names and string values for line protocol, as InfluxDB 3 reads them back.

The rules are the parser's (reference section 2.2): a measurement escapes ``,`` and space;
tag keys, tag values and field keys escape ``,``, ``=`` and space; string field values
escape ``"`` and ``\\``.

A backslash in a name is doubled only where InfluxDB 3 would otherwise read it as the
start of an escape: before another backslash or before a character that is escaped in
that element (so ``a\\,b`` is written ``a\\\\\\,b``). Anywhere else it is written as is,
which InfluxDB 3 keeps (an unknown escape keeps its backslash) and which is also how
InfluxDB 1.x and 2.x read it: their Go parser never unescapes ``\\\\`` in a name, so
doubling every backslash would store two there. (Names with a backslash next to a
special character or another backslash read differently on 1.x / 2.x whatever is sent.)

Some names cannot be carried at all, whatever the escaping, and are refused with
:class:`~influxkit.errors.InvalidRecord` rather than sent to be mangled or rejected:

* an empty name;
* a newline or tab (they end a name, and ``\\`` before them is kept literally);
* a name ending in a backslash (the server refuses it: *may not end with a backslash*);
* in a measurement, NUL (it ends the measurement) or a leading ``#`` (the line would be
  read as a comment and silently dropped).
"""

from __future__ import annotations

import re

from influxkit.errors import InvalidRecord

__all__ = [
    "MAX_STRING_BYTES",
    "escape_key",
    "escape_measurement",
    "escape_string",
]

#: The largest name, tag value or string field value InfluxDB 3 accepts, in UTF-8 bytes
#: (``String is greater than 1MB`` beyond it; v3.8 and older allowed 64 KiB).
MAX_STRING_BYTES = 1_048_576
# Shorter strings than this cannot exceed MAX_STRING_BYTES, whatever their characters.
_SAFE_LENGTH = MAX_STRING_BYTES // 4

_MEASUREMENT_SPECIAL = re.compile(r"[, \\\t\n\0]")
_KEY_SPECIAL = re.compile(r"[,= \\\t\n]")
# A backslash that would pair with what follows it once that is escaped.
_MEASUREMENT_BACKSLASH = re.compile(r"\\(?=[\\, ])")
_KEY_BACKSLASH = re.compile(r"\\(?=[\\,= ])")
_MEASUREMENT_TABLE = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_TABLE = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def _check_common(name: str, what: str) -> None:
    if "\n" in name or "\t" in name:
        raise InvalidRecord(
            f"{what} {name!r} contains a newline or tab, which line protocol cannot carry"
        )
    if name.endswith("\\"):
        raise InvalidRecord(f"{what} {name!r} ends with a backslash, which InfluxDB refuses")


def _check_length(name: str, what: str) -> None:
    if len(name) > _SAFE_LENGTH and len(name.encode("utf-8", "surrogatepass")) > MAX_STRING_BYTES:
        raise InvalidRecord(f"{what} {name[:20]!r}... is longer than InfluxDB's 1 MiB limit")


def escape_measurement(name: str) -> str:
    """``name`` escaped as a measurement.

    Raises:
        InvalidRecord: ``name`` is not a string, or is one line protocol cannot carry.
    """
    if type(name) is not str:
        if not isinstance(name, str):
            raise InvalidRecord(f"measurement must be a str, not {type(name).__name__} ({name!r})")
        name = str.__str__(name)
    if not name:
        raise InvalidRecord("measurement must not be empty")
    if name[0] == "#":
        raise InvalidRecord(
            f"measurement {name!r} starts with '#': the line would be read as a comment"
        )
    _check_length(name, "measurement")
    if _MEASUREMENT_SPECIAL.search(name) is None:
        return name
    _check_common(name, "measurement")
    if "\0" in name:
        raise InvalidRecord(f"measurement {name!r} contains NUL, which ends a measurement")
    if "\\" in name:
        name = _MEASUREMENT_BACKSLASH.sub(r"\\\\", name)
    return name.translate(_MEASUREMENT_TABLE)


def escape_key(name: str, what: str = "key") -> str:
    """``name`` escaped as a tag key, tag value or field key (the same rule for all three).

    ``what`` names the element in error messages (``"tag key"``, ``"field key"`` ...).

    Raises:
        InvalidRecord: ``name`` is not a string, or is one line protocol cannot carry.
    """
    if type(name) is not str:
        if not isinstance(name, str):
            raise InvalidRecord(f"{what} must be a str, not {type(name).__name__} ({name!r})")
        name = str.__str__(name)
    if not name:
        raise InvalidRecord(f"{what} must not be empty")
    _check_length(name, what)
    if _KEY_SPECIAL.search(name) is None:
        return name
    _check_common(name, what)
    if "\\" in name:
        name = _KEY_BACKSLASH.sub(r"\\\\", name)
    return name.translate(_KEY_TABLE)


def escape_string(value: str) -> str:
    """``value`` as a quoted string field value: ``"`` and ``\\`` escaped, all else kept.

    Raises:
        InvalidRecord: the value is longer than InfluxDB's 1 MiB limit.
    """
    _check_length(value, "string field value")
    if '"' in value or "\\" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'

"""The careful line scanner: InfluxDB 3's line protocol grammar, step by step.

A port of the nom parser in ``core/influxdb_line_protocol/src/lib.rs`` (``parse_line`` and
the parsers it is made of), down to where a failure is soft (the next alternative is
tried, or a list simply ends) and where it is final, since that decides which of the
crate's messages a bad line gets. :mod:`influxkit.lineprotocol.parse` sends every line
its fast path does not take here.
"""

from __future__ import annotations

import re

from influxkit.lineprotocol.escape import _SAFE_LENGTH, MAX_STRING_BYTES
from influxkit.lineprotocol.model import FieldType, Line

__all__ = ["LineFail", "scan_line", "bounded_int"]

_FLOAT = FieldType.FLOAT
_INTEGER = FieldType.INTEGER
_UINTEGER = FieldType.UINTEGER
_STRING = FieldType.STRING
_BOOLEAN = FieldType.BOOLEAN

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
U64_MAX = 2**64 - 1

_ENDS_WITH_BACKSLASH = (
    "Measurements, tag keys and values, and field keys may not end with a backslash"
)
_TOO_LARGE = "String is greater than 1MB"


class LineFail(Exception):
    """One line is refused; ``args[0]`` is InfluxDB's message."""


def bounded_int(text: str, low: int, high: int) -> int | None:
    """``text`` (``-?[0-9]+``) as an int if it lies in ``low..high``, else ``None``."""
    if len(text) < 19:  # 18 characters always fit both int64 and (unsigned) uint64
        return int(text)
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > 20:  # also keeps int() clear of its 4300-digit limit
        return None
    v = int(digits) if digits else 0
    if text[0] == "-":
        v = -v
    return v if low <= v <= high else None


_MEASUREMENT_RUN = re.compile(r"[^ \t\n\0,\\]+")
_TAG_KEY_RUN = re.compile(r"[^ \t\n=\\]+")  # field keys too
_TAG_VALUE_RUN = re.compile(r"[^ \t\n,\\]+")
_MEASUREMENT_ESCAPES = ", \\"
_KEY_ESCAPES = "\\,= "
_INT = re.compile(r"(-?[0-9]+)i")
_UINT = re.compile(r"([0-9]+)u")
_FLOAT_VALUE = re.compile(
    r"-?[0-9]+\.[0-9]+[eE][+-]?[0-9]+|-?[0-9]+[eE][+-]?[0-9]+|-?[0-9]+\.[0-9]+|-?[0-9]+"
)
_STRING_VALUE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"', re.DOTALL)
_STRING_UNESCAPE = re.compile(r'\\([\\"])')
_INTEGRAL = re.compile(r"-?[0-9]+")


def _context(text: str) -> str:
    """The crate's ``maybe_truncate_context``: over 10 bytes -> first 10 chars + ``...``."""
    if len(text) > 10 or len(text.encode("utf-8", "surrogatepass")) > 10:
        return text[:10] + "..."
    return text


def _expected(what: str, rest: str) -> str:
    return f"Expected {what}, got {f'`{_context(rest)}`' if rest else 'end of input'}"


def _check_size(value: str) -> None:
    if len(value) > _SAFE_LENGTH and len(value.encode("utf-8", "surrogatepass")) > MAX_STRING_BYTES:
        raise LineFail(_TOO_LARGE)


def _name(s: str, i: int, run: re.Pattern[str], escapes: str) -> tuple[str, int] | None:
    """``escape_or_fallback``: a name from ``i``, or ``None`` if not even one char is one."""
    start = i
    n = len(s)
    out = []
    while i < n:
        m = run.match(s, i)
        if m is not None:
            out.append(m.group())
            i = m.end()
            continue
        if s[i] != "\\":
            break
        if i + 1 == n:  # a lone backslash at the end is kept, and refused below
            out.append("\\")
            i += 1
            break
        nxt = s[i + 1]
        out.append(nxt if nxt in escapes else "\\" + nxt)  # unknown escapes keep the "\"
        i += 2
    if i == start:
        return None
    value = "".join(out)
    if value.endswith("\\"):
        raise LineFail(_ENDS_WITH_BACKSLASH)
    _check_size(value)
    return value, i


def scan_line(s: str) -> Line:
    """The crate's ``parse_line`` on one line (already split and trimmed).

    Raises:
        LineFail: with InfluxDB's message.
    """
    n = len(s)
    got = _name(s, 0, _MEASUREMENT_RUN, _MEASUREMENT_ESCAPES)
    if got is None:
        raise LineFail("Invalid measurement was provided")
    measurement, i = got
    tags = []
    if i < n and s[i] == ",":
        i += 1
        tag_set_start = i
        while True:
            got = _name(s, i, _TAG_KEY_RUN, _KEY_ESCAPES)
            if got is None:
                raise LineFail(_expected("tag key", s[i:]))
            key, i = got
            if i == n or s[i] != "=":
                rest = _context(s[tag_set_start:])
                raise LineFail(f"Tag set malformed: could not find equals sign in `{rest}`")
            got = _name(s, i + 1, _TAG_VALUE_RUN, _KEY_ESCAPES)
            if got is None:
                raise LineFail(_expected("tag value", s[i + 1 :]))
            value, i = got
            tags.append((key, value))
            if i == n or s[i] != ",":
                break
            i += 1
    j = i
    while j < n and s[j] == " ":
        j += 1
    if j == i:
        rest = s[i:]
        raise LineFail(
            f"Expected at least one space character, got {f'`{rest}`' if rest else 'end of input'}"
        )
    got_field = _field(s, j)
    if got_field is None:
        raise LineFail("No fields were provided")
    fields = [got_field[0]]
    i = got_field[1]
    # The crate's separated list: a field that fails after the first comma leaves the
    # comma consumed; after a later comma it does not (so the trailing content differs).
    if i < n and s[i] == ",":
        i += 1
        got_field = _field(s, i)
        if got_field is not None:
            fields.append(got_field[0])
            i = got_field[1]
            while i < n and s[i] == ",":
                got_field = _field(s, i + 1)
                if got_field is None:
                    break
                fields.append(got_field[0])
                i = got_field[1]
    timestamp = None
    if i < n and s[i] == " ":
        j = i
        while j < n and s[j] == " ":
            j += 1
        m = _INTEGRAL.match(s, j)
        if m is not None:
            timestamp = bounded_int(m.group(), I64_MIN, I64_MAX)
            if timestamp is None:
                raise LineFail(f"Unable to parse timestamp value `{m.group()}`")
            i = m.end()
            while i < n and s[i] == " ":
                i += 1
    if i < n:
        raise LineFail(f"Could not parse entire line. Found trailing content: `{_context(s[i:])}`")
    return Line(measurement, tuple(tags), tuple(fields), timestamp)


def _field(s: str, i: int) -> tuple[tuple[str, FieldType, object], int] | None:
    got = _name(s, i, _TAG_KEY_RUN, _KEY_ESCAPES)
    if got is None:
        return None
    key, i = got
    if i == len(s) or s[i] != "=":
        return None
    got_value = _value(s, i + 1)
    if got_value is None:
        return None
    (kind, value), end = got_value
    return (key, kind, value), end


def _value(s: str, i: int) -> tuple[tuple[FieldType, object], int] | None:
    """``field_value``: int, uint, float, string, bool, tried in the crate's order."""
    m = _INT.match(s, i)
    if m is not None:
        v = bounded_int(m.group(1), I64_MIN, I64_MAX)
        if v is None:
            raise LineFail(f"Unable to parse integer value `{m.group(1)}`")
        return (_INTEGER, v), m.end()
    m = _UINT.match(s, i)
    if m is not None:
        v = bounded_int(m.group(1), 0, U64_MAX)
        if v is None:
            raise LineFail(f"Unable to parse unsigned integer value `{m.group(1)}`")
        return (_UINTEGER, v), m.end()
    m = _FLOAT_VALUE.match(s, i)
    if m is not None:
        return (_FLOAT, float(m.group())), m.end()
    c = s[i : i + 1]
    if c == '"':
        m = _STRING_VALUE.match(s, i)
        if m is None:
            return None  # unterminated: not a string, and not a boolean either
        text = m.group(1)
        if "\\" in text:
            text = _STRING_UNESCAPE.sub(r"\1", text)
        _check_size(text)
        return (_STRING, text), m.end()
    if c in ("t", "T", "f", "F"):
        # Prefix matches, in the crate's order: "tRUE" is "t" and then trailing "RUE".
        for word in ("true", "True", "TRUE", "false", "False", "FALSE"):
            if s.startswith(word, i):
                return (_BOOLEAN, word[0] in "tT"), i + len(word)
        return (_BOOLEAN, c in "tT"), i + 1
    return None

"""Strict line protocol parser: InfluxDB 3's rules and error messages, line by line.

This is a port of the ``influxdb_line_protocol`` crate InfluxDB 3 parses writes with
(``core/influxdb_line_protocol/src/lib.rs``: ``split_lines``, ``trim_leading`` and the
nom grammar), including its quirks: a bare integer is a float, booleans match by prefix
(``tRUE`` is ``t`` followed by trailing content), a bare ``,`` inside a tag or field key
is literal, an unknown escape keeps its backslash, and a line with a trailing space but
no timestamp is refused. Duplicate tags or fields are kept; judging them is the engine's
job, as on the server. The 1 MiB component limit is that of the shipped binary (the
``large-strings`` feature).

Simple lines (no backslash, no ``\\"`` ...) go through one regular expression; anything
else, and every line that would be an error, through the scanner in ``_scanner.py``,
which follows the crate's parser step by step; both paths give the same answer (a
property test holds them to it).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator

from influxkit.errors import ConfigError, LineError, WriteError
from influxkit.lineprotocol._scanner import (
    I64_MAX,
    I64_MIN,
    U64_MAX,
    LineFail,
    bounded_int,
    scan_line,
)
from influxkit.lineprotocol.escape import _SAFE_LENGTH
from influxkit.lineprotocol.model import FieldType, Line, ParseResult

__all__ = ["LineEnds", "file_lines", "numbered_lines", "parse"]

_FLOAT = FieldType.FLOAT
_INTEGER = FieldType.INTEGER
_UINTEGER = FieldType.UINTEGER
_STRING = FieldType.STRING
_BOOLEAN = FieldType.BOOLEAN


def parse(data: bytes | str, *, gzip: bool | None = None) -> ParseResult:
    """Parse a write body into lines and per-line errors, as InfluxDB 3 does.

    Args:
        data: the body. ``bytes`` are gunzipped (when ``gzip`` says so) and decoded as
            UTF-8; a ``str`` is taken as already decoded.
        gzip: ``True`` / ``False`` for ``Content-Encoding: gzip`` or not; ``None``
            detects gzip by its magic bytes. Multi-member gzip is accepted.

    Returns:
        The good lines with their line numbers, and a :class:`~influxkit.errors.LineError`
        per bad line. Line numbers count only lines that are neither blank nor comments,
        as the server's do; ``original_line`` is the raw text of the bad line.

    Raises:
        WriteError: status 400, for a body that is not valid gzip
            (``error decoding gzip stream: ...``) or not UTF-8
            (``body content is not valid utf8: ...``).
        ConfigError: ``data`` is neither bytes nor str, or ``gzip=True`` with a str.
    """
    text = _decode(data, gzip)
    lines: list[tuple[int, Line]] = []
    errors: list[LineError] = []
    fast, slow = _fast, scan_line
    number = 0
    segments, matches = _split_lines(text)
    for segment, split_match in zip(segments, matches, strict=True):
        match = split_match
        if segment and segment[0] not in " \t\n#":
            line = segment
        else:
            line = _trim_leading(segment)
            if not line:
                continue
            match = None  # the split matched the untrimmed text
        number += 1
        try:
            parsed = fast(line, match) if len(line) <= _SAFE_LENGTH else None
            if parsed is None:
                parsed = slow(line)
        except LineFail as fail:
            errors.append(LineError(number, fail.args[0], segment))
            continue
        lines.append((number, parsed))
    return ParseResult(lines, errors)


def numbered_lines(text: str) -> list[str]:
    """The lines of ``text`` the server numbers, in order: item ``k - 1`` is line ``k``.

    The same cut as :func:`parse` makes: newlines inside quoted string values or escaped
    by a backslash do not end a line; blank lines and ``#`` comments are not numbered.
    """
    segments, _ = _split_lines(text)
    out = []
    for segment in segments:
        line = segment if segment and segment[0] not in " \t\n#" else _trim_leading(segment)
        if line:
            out.append(line)
    return out


# -- body -------------------------------------------------------------------------------


def _decode(data: bytes | str, gzip: bool | None) -> str:
    if isinstance(data, str):
        if gzip:
            raise ConfigError("gzip=True needs the body as bytes, not str")
        if not data.isascii():
            try:
                data.encode("utf-8")
            except UnicodeEncodeError as exc:
                message = f"body content is not valid utf8: lone surrogate at index {exc.start}"
                raise WriteError(message, status=400, body=message) from None
        return data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConfigError(f"parse() takes bytes or str, not {type(data).__name__}")
    raw = bytes(data)
    if gzip is None:
        gzip = raw[:2] == b"\x1f\x8b"
    if gzip:
        import gzip as gzip_module

        try:
            raw = gzip_module.decompress(raw)  # reads every member, as the server does
        except (OSError, EOFError, zlib.error) as exc:
            message = f"error decoding gzip stream: {exc}"
            raise WriteError(message, status=400, body=message) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"body content is not valid utf8: {_utf8_detail(exc)}"
        raise WriteError(message, status=400, body=message) from None


def _utf8_detail(exc: UnicodeDecodeError) -> str:
    """Rust's ``Utf8Error`` text (both follow Unicode's "maximal subpart" rule)."""
    if exc.reason == "unexpected end of data":
        return f"incomplete utf-8 byte sequence from index {exc.start}"
    return f"invalid utf-8 sequence of {exc.end - exc.start} bytes from index {exc.start}"


# -- lines --------------------------------------------------------------------------------

_SPLIT_SPECIAL = re.compile(r'[ =,"\\]')
_FRESH = (False, False, 0, 0, False)


def _split_lines(text: str) -> tuple[list[str], list[re.Match[str] | None]]:
    """The crate's ``split_lines`` (a port of Go's ``scanLine``), and fast-path matches.

    A newline ends a line unless it is escaped by a backslash or inside a double-quoted
    field value; "inside" is decided by the same counting of ``=`` and ``,`` as the Go
    scanner does. A piece without a quote or backslash cannot change that state, nor can
    one the fast-path expression matches (its quotes pair up and it has no backslash), so
    those are taken whole, and the match is handed on so as not to be made twice.
    """
    pieces = _split_newlines(text)
    if '"' not in text and "\\" not in text:
        return pieces, [None] * len(pieces)
    last = len(pieces) - 1
    segments: list[str] = []
    matches: list[re.Match[str] | None] = []
    pending: list[str] = []
    state = _FRESH
    fullmatch = _FAST.fullmatch
    for index, piece in enumerate(pieces):
        if state is _FRESH and "\\" not in piece:
            if '"' not in piece:
                segments.append(piece)
                matches.append(None)
                continue
            match = fullmatch(piece) if len(piece) <= _SAFE_LENGTH else None
            if match is not None:
                segments.append(piece)
                matches.append(match)
                continue
        state = _scan_state(piece, state)
        pending.append(piece)
        if index == last:
            break
        quoted, fields, equals, commas, in_escape = state
        if in_escape:  # the newline is the escaped character
            state = (quoted, fields, equals, commas, False)
        elif not quoted:
            segments.append("\n".join(pending))
            matches.append(None)
            pending = []
            state = _FRESH
    if pending:
        segments.append("\n".join(pending))
        matches.append(None)
    return segments, matches


# Text is split at newlines this many characters at a time: one ``str.split`` over a
# 30 MB body holds the GIL ~20 ms (the event loop of an async caller waits that long).
_SPLIT_PIECE = 1 << 20


def _split_newlines(text: str) -> list[str]:
    """``text.split("\\n")``, made by splits of about :data:`_SPLIT_PIECE` characters."""
    if len(text) <= _SPLIT_PIECE:
        return text.split("\n")
    pieces: list[str] = []
    start = 0
    while True:
        cut = text.find("\n", start + _SPLIT_PIECE)
        if cut < 0:
            pieces += text[start:].split("\n")
            return pieces
        pieces += text[start:cut].split("\n")
        start = cut + 1


class LineEnds:
    """Where lines end when text arrives one physical line at a time (a file, a pipe).

    The cut is :func:`parse`'s: a newline inside a quoted string value, or escaped by a
    backslash, does not end the line. Feed each physical line without its newline; the
    answer says whether the newline after it ends the line the server reads.

    Example:
        >>> ends = LineEnds()
        >>> [ends.after('m s="two'), ends.after('lines" 1'), ends.after("m v=1 2")]
        [False, True, True]
    """

    __slots__ = ("_state",)

    def __init__(self) -> None:
        self._state = _FRESH

    def after(self, piece: str) -> bool:
        """Whether a newline after ``piece`` (no newline in it) ends the current line."""
        if self._state is _FRESH and '"' not in piece and "\\" not in piece:
            return True
        quoted, fields, equals, commas, in_escape = _scan_state(piece, self._state)
        if in_escape:  # the newline is the escaped character
            self._state = (quoted, fields, equals, commas, False)
            return False
        if quoted:
            self._state = (quoted, fields, equals, commas, in_escape)
            return False
        self._state = _FRESH
        return True


def file_lines(rows: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """The lines the server reads from the rows of a file, each with the row it starts on.

    ``rows`` are physical lines (with or without their newline), as iterating a binary
    file gives them; the cut is :func:`numbered_lines`'s, so a quoted newline joins rows.
    Blank rows and ``#`` comments are skipped, and an unclosed quote at the end yields
    what is left, for the server to refuse.

    Example:
        >>> list(file_lines([b'm s="a\\n', b'b" 1\\n', b"# note\\n", b"m v=1 2\\n"]))
        [(1, b'm s="a\\nb" 1'), (4, b'm v=1 2')]
    """
    ends = LineEnds()
    pending: list[bytes] = []
    first = 0
    for number, raw in enumerate(rows, 1):
        if not pending and b'"' not in raw and b"\\" not in raw:  # the common case
            line = raw.rstrip(b"\r\n").lstrip(b" \t")
            if line and not line.startswith(b"#"):
                yield number, line
            continue
        if not pending:
            first = number
        pending.append(raw)
        # Latin-1 keeps every byte; the scanner looks only at ASCII ones.
        if ends.after(raw.rstrip(b"\n").decode("latin-1")):
            yield from _joined(first, pending)
            pending = []
    yield from _joined(first, pending, ended=False)


def _joined(first: int, rows: list[bytes], *, ended: bool = True) -> Iterator[tuple[int, bytes]]:
    """The line rows ``first``... make; leading blank and comment rows skipped.

    ``ended=False`` (the input stopped inside a quote or after a backslash): the last
    newline belongs to the line, as the parser would read it.
    """
    while rows and (not rows[0].strip(b" \t\r\n") or rows[0].lstrip(b" \t").startswith(b"#")):
        first, rows = first + 1, rows[1:]
    if rows:
        line = b"".join(rows)
        if ended:  # the newline (or CRLF) that ends the last row, and only that
            line = line[:-1] if line.endswith(b"\n") else line
            line = line[:-1] if line.endswith(b"\r") else line
        yield first, line.lstrip(b" \t")


def _scan_state(
    piece: str, state: tuple[bool, bool, int, int, bool]
) -> tuple[bool, bool, int, int, bool]:
    quoted, fields, equals, commas, in_escape = state
    skip_to = 0
    end = len(piece)
    for match in _SPLIT_SPECIAL.finditer(piece):
        at = match.start()
        if at < skip_to:
            continue
        c = piece[at]
        if c == "\\":
            skip_to = at + 2
            if at + 1 == end:
                in_escape = True
        elif c == " ":
            fields = True
        elif fields:
            if not quoted and c == "=":
                equals += 1
            elif not quoted and c == ",":
                commas += 1
            elif c == '"' and equals > commas:
                quoted = not quoted
    return quoted, fields, equals, commas, in_escape


def _trim_leading(segment: str) -> str:
    """Skip leading spaces, tabs and newlines, and whole ``#`` comment lines."""
    i = 0
    n = len(segment)
    while True:
        while i < n and segment[i] in " \t\n":
            i += 1
        if i < n and segment[i] == "#":
            j = segment.find("\n", i)
            if j < 0:
                return ""
            i = j
        else:
            return segment[i:]


# -- fast path ------------------------------------------------------------------------------

_FIELD = r'[^ \t\n=,\\"]+=(?:"[^"\\]*"|[^ \t\n,"\\]+)'
_FAST = re.compile(
    r"([^ \t\n\0,\\]+)"  # measurement
    r"((?:,[^ \t\n=,\\]+=[^ \t\n,\\]+)*)"  # tags: no backslash, no bare ',' in keys
    rf" +({_FIELD}(?:,{_FIELD})*)"  # fields: strings without backslash
    r"(?: +(-?[0-9]+) *)?"  # timestamp
)
_FIELD_ONE = re.compile(r'([^ \t\n=,\\"]+)=(?:"([^"\\]*)"|([^ \t\n,"\\]+))')
_TOKEN = re.compile(r"(-?[0-9]+)i|([0-9]+)u|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)")
# raw "measurement,tags" text -> (measurement, tags): series repeat, so parse them once.
_SERIES_CACHE: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {}
_SERIES_CACHE_LIMIT = 100_000
_BOOLS = {
    **dict.fromkeys(("t", "T", "true", "True", "TRUE"), (_BOOLEAN, True)),
    **dict.fromkeys(("f", "F", "false", "False", "FALSE"), (_BOOLEAN, False)),
}


def _fast(line: str, m: re.Match[str] | None = None) -> Line | None:
    """The line's parse if it is a simple one whose every value is valid, else ``None``."""
    if m is None:
        m = _FAST.fullmatch(line)
        if m is None:
            return None
    series_text = line[: m.end(2)]
    series = _SERIES_CACHE.get(series_text)
    if series is None:
        tag_text = m.group(2)
        tags: tuple[tuple[str, str], ...] = ()
        if tag_text:
            tags = tuple(tuple(t.split("=", 1)) for t in tag_text[1:].split(","))  # type: ignore[misc]
        series = (m.group(1), tags)
        if len(_SERIES_CACHE) >= _SERIES_CACHE_LIMIT:
            _SERIES_CACHE.clear()
        _SERIES_CACHE[series_text] = series
    field_text = m.group(3)
    ts_text = m.group(4)
    fields = []
    if '"' in field_text:
        for key, quoted, token in _FIELD_ONE.findall(field_text):
            if token:
                value = _token(token)
                if value is None:
                    return None
                fields.append((key, *value))
            else:
                fields.append((key, _STRING, quoted))
    else:
        for part in field_text.split(","):
            key, _, token = part.partition("=")
            value = _token(token)
            if value is None:
                return None
            fields.append((key, *value))
    timestamp = None
    if ts_text is not None:
        timestamp = bounded_int(ts_text, I64_MIN, I64_MAX)
        if timestamp is None:
            return None
    return Line(series[0], series[1], tuple(fields), timestamp)


def _token(token: str) -> tuple[FieldType, object] | None:
    """An unquoted value that is exactly one number or boolean, else ``None``."""
    b = _BOOLS.get(token)
    if b is not None:
        return b
    m = _TOKEN.fullmatch(token)
    if m is None:
        return None
    group = m.lastindex
    if group == 3:
        return _FLOAT, float(token)
    if group == 1:
        v = bounded_int(m.group(1), I64_MIN, I64_MAX)
        return None if v is None else (_INTEGER, v)
    v = bounded_int(m.group(2), 0, U64_MAX)
    return None if v is None else (_UINTEGER, v)

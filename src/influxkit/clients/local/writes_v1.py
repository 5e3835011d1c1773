"""InfluxDB 1.x's ``/write`` for the ``v1`` profile: its checks, its order, its error texts.

Measured against Debian's InfluxDB 1.6.7 (``tests/server/test_v1_write_errors_differential.py``)
and read from 1.x's ``services/httpd/handler.go`` (``serveWrite``) and
``tsdb/shard.go`` (``validateSeriesAndFields``):

* a missing database is ``404 {"error":"database not found: \\"<db>\\""}``, before the
  body is looked at; an empty body (or only blank and comment lines) is a success;
* a retention policy (``database`` given as ``db/rp``, what ``rp=`` is on the wire) other
  than ``autogen`` (the one policy the engine has) is
  ``500 {"error":"retention policy not found: <rp>"}``, after the parse (lines that all
  fail still answer their ``400``) and before any point is judged; 1.x spells policies
  case for case, so ``AUTOGEN`` is not found either;
* lines that do not parse are named in ``unable to parse '<line>': <reason>`` (one per
  line, joined by newlines, the line with its leading blanks cut). When no line is
  left the write is that ``400``; otherwise the good lines are written and the answer
  is ``400 partial write: <those errors> dropped=0``;
* a parsed line is then dropped (the others written) for a ``time`` tag, for ``time``
  as its only field (a ``time`` field beside others is silently left out), or for a
  field whose type differs from the column's (earlier lines of the same write count):
  ``400 partial write: <first reason> dropped=<n>``, which wins over parse errors;
* except in a shard the write itself creates (1.x keeps a shard per week, Monday to
  Monday, made by the first write with a time in it): there two lines of the write that
  disagree on a field's type fail the whole shard, none of its lines written, with
  ``400 {"error":"field type conflict"}`` (not a partial write). Shards exist from the
  write on, whatever became of its lines;
* unsigned integers (``1u``) do not parse (``invalid number``), nor do duplicate tag
  keys (``duplicate tags``) or times outside int64 nanoseconds minus the two ends
  (``time outside range ...``); of a field given twice the last value is kept.

The reasons for lines the two parsers both refuse are the local parser's (InfluxDB 3's
wording); every other text is 1.x's. Errors carry the ``line_errors`` that influxkit's
HTTP client reads from 1.x's answer, so a local ``v1`` connection fails as one to a real
server does.  Three things the engine cannot copy: a tag and a field of one name (1.x keeps
both; the engine's tables have one column per name, so the line is dropped), a field of
different types in different shards (1.x keeps a field's type per shard; the engine's
columns have one type, so the later type is a conflict), and which rejection 1.6.7
reports when several meet in one write (its shards answer concurrently; here: the first
line's, in line order).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from influxkit.clients.base import WriteOutcome
from influxkit.clients.local.storage import FIELD_TYPE_NAMES, TAG, TIMESTAMP, Database
from influxkit.clients.local.writes import Accepted, Staging, commit
from influxkit.errors import DatabaseNotFound, PartialWriteError, ServerError, WriteError
from influxkit.lineprotocol.model import FieldType, Line

if TYPE_CHECKING:
    from influxkit.clients.local.client import LocalClient

__all__ = [
    "NEW_SHARD_CONFLICT",
    "TIME_RANGE_ERROR",
    "ParsedV1",
    "apply_v1",
    "database_not_found",
    "parse_v1",
    "retention_policy_not_found",
    "write_v1",
]

# 1.x's models.MinNanoTime / MaxNanoTime: int64 without its two ends.
_MIN_NS, _MAX_NS = -(2**63) + 2, 2**63 - 2
#: The reason 1.x gives for a time outside its range.
TIME_RANGE_ERROR = f"time outside range {_MIN_NS} - {_MAX_NS}"
_FACTORS = {
    "ns": 1,
    "auto": 1,  # 1.x has no guess: an integer time is nanoseconds
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# influxql's DataType names, as 1.x prints them in a field type conflict.
_TYPE_NAMES = {
    FieldType.FLOAT: "float",
    FieldType.INTEGER: "integer",
    FieldType.UINTEGER: "unsigned",
    FieldType.STRING: "string",
    FieldType.BOOLEAN: "boolean",
}
_ROLE_NAMES = {FIELD_TYPE_NAMES[t]: name for t, name in _TYPE_NAMES.items()}
#: The plain error of a shard the write creates, when its lines disagree on a type.
NEW_SHARD_CONFLICT = "field type conflict"
# Shard groups of an infinite retention policy last 7 days, cut (as Go's Time.Truncate
# does) from 0001-01-01, a Monday: the Unix epoch is 4 days before such a cut.
_WEEK = 7 * 86_400_000_000_000
_WEEK_OFFSET = 4 * 86_400_000_000_000
# engine -> database name -> (the Database, the shard groups (week numbers) it has).
_SHARDS: weakref.WeakKeyDictionary[Any, dict[str, tuple[Database, set[int]]]] = (
    weakref.WeakKeyDictionary()
)
_SHARDS_LOCK = threading.Lock()  # engines have locks of their own; this guards _SHARDS


@dataclass(slots=True)
class ParsedV1:
    """A body as 1.x's parser leaves it: the points, and ``unable to parse`` texts by line."""

    points: list[tuple[Line, int]] = field(default_factory=list)  # (line, time in ns)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (line number, text)

    @property
    def parse_error(self) -> str | None:
        """The joined ``unable to parse ...`` texts, in line order (``None`` if none)."""
        if not self.failures:
            return None
        return "\n".join(text for _, text in sorted(self.failures))


def database_not_found(name: str) -> DatabaseNotFound:
    """1.x's 404 for a write to a database that does not exist."""
    message = f'database not found: "{name}"'
    return DatabaseNotFound(message, status=404, body={"error": message})


def retention_policy_not_found(name: str) -> ServerError:
    """1.x's 500 for a write to a policy the database does not have (not worth a retry)."""
    message = f"retention policy not found: {name}"
    return ServerError(message, status=500, body={"error": message}, retryable=False)


def _refused(text: str, body: bytes, *, partial: bool) -> WriteError:
    """The error influxkit's HTTP client raises for 1.x's ``400 {"error": text}``."""
    from influxkit.protocol.responses import v1_line_errors

    cls = PartialWriteError if partial else WriteError
    return cls(text, status=400, body={"error": text}, line_errors=v1_line_errors(text, body))


def _unparsable(line: Line) -> str | None:
    """What 1.x's parser says of a line the local parser (InfluxDB 3's rules) accepted."""
    keys = [k for k, _ in line.tags]
    if len(set(keys)) != len(keys):
        return "duplicate tags"
    if any(t is FieldType.UINTEGER for _, t, _ in line.fields):
        return "invalid number"  # a build without unsigned integers, as Debian's
    return None


def parse_v1(body: bytes, precision: str, now: int) -> ParsedV1:
    """Parse ``body`` as 1.x does; ``precision`` is canonical, ``now`` the default time (ns).

    Raises:
        WriteError: the body is not UTF-8 (400, ``{"error": ...}``).
    """
    from influxkit.lineprotocol.parse import numbered_lines, parse

    try:
        parsed = parse(body, gzip=False)
    except WriteError as exc:
        raise WriteError(exc.message, status=400, body={"error": exc.message}) from None
    factor = _FACTORS.get(precision, 1)
    default = now // factor * factor
    out = ParsedV1()
    rejected: list[tuple[int, str]] = [(e.line_number, e.message) for e in parsed.errors]
    for number, line in parsed.lines:
        reason = _unparsable(line)
        if reason is None:
            time = default if line.timestamp is None else line.timestamp * factor
            if _MIN_NS <= time <= _MAX_NS:
                out.points.append((line, time))
                continue
            reason = TIME_RANGE_ERROR
        rejected.append((number, reason))
    if rejected:
        texts = numbered_lines(body.decode("utf-8"))
        out.failures = [(n, f"unable to parse '{texts[n - 1]}': {why}") for n, why in rejected]
    return out


class _Rejected(Exception):
    pass


def _check(line: Line, columns: dict[str, str]) -> tuple[tuple[str, FieldType, Any], ...]:
    """The fields 1.x stores for ``line`` (``time`` left out, last of a name kept).

    Raises:
        _Rejected: the line is dropped; ``args[0]`` is 1.x's reason.
    """
    m = line.measurement
    if any(k == "time" for k, _ in line.tags):
        raise _Rejected(f'invalid tag key: input tag "time" on measurement "{m}" is invalid')
    fields: dict[str, tuple[str, FieldType, Any]] = {}
    tag_keys = {k for k, _ in line.tags}
    for name, ftype, value in line.fields:
        if name == "time":
            continue
        if name in tag_keys:
            raise _Rejected(_clash(name, m))
        before = fields.get(name)
        if before is not None and before[1] is not ftype:
            raise _Rejected(_conflict(name, m, ftype, _TYPE_NAMES[before[1]]))
        fields[name] = (name, ftype, value)
    if not fields:
        raise _Rejected(f'invalid field name: input field "time" on measurement "{m}" is invalid')
    for name, ftype, _ in fields.values():
        have = columns.get(name)
        if have is None or have == FIELD_TYPE_NAMES[ftype]:
            continue
        if have == TAG:
            raise _Rejected(_clash(name, m))
        raise _Rejected(_conflict(name, m, ftype, _ROLE_NAMES.get(have, have)))
    for key, _ in line.tags:
        have = columns.get(key)
        if have is not None and have != TAG:
            raise _Rejected(_clash(key, m))
    return tuple(fields.values())


def _conflict(name: str, measurement: str, ftype: FieldType, existing: str) -> str:
    return (
        f'field type conflict: input field "{name}" on measurement "{measurement}" is type '
        f"{_TYPE_NAMES[ftype]}, already exists as type {existing}"
    )


def _clash(name: str, measurement: str) -> str:
    return (
        f'column conflict: "{name}" on measurement "{measurement}" would be both a tag and '
        "a field (InfluxDB 1.x keeps both; the local engine has one column per name)"
    )


def _shard(time: int) -> int:
    return (time - _WEEK_OFFSET) // _WEEK


def _shards_of(engine: LocalClient, db: Database) -> set[int]:
    """The shard groups ``db`` has (call under the engine's lock)."""
    with _SHARDS_LOCK:
        known = _SHARDS.setdefault(engine, {})
    entry = known.get(db.name)
    if entry is None or entry[0] is not db:  # a database dropped and made again starts empty
        entry = known[db.name] = (db, set())
    return entry[1]


def _disagree(points: list[tuple[Line, int]]) -> bool:
    """Whether the lines a new shard gets disagree on a field's type (``time`` tags aside)."""
    types: dict[tuple[str, str], FieldType] = {}
    for line, _ in points:
        if any(k == "time" for k, _ in line.tags):
            continue  # dropped before the shard creates its fields
        for name, ftype, _ in line.fields:
            if name != "time" and types.setdefault((line.measurement, name), ftype) is not ftype:
                return True
    return False


def _stage(
    db: Database, points: list[tuple[Line, int]], failed: set[int]
) -> tuple[Staging, list[Accepted], str, int]:
    """Judge the points outside ``failed`` shards, in order.

    Returns the staged schema, the accepted points, the first reason and the number dropped.
    """
    staging = Staging(db, 0)
    accepted: list[Accepted] = []
    reason, dropped = "", 0
    for line, time in points:
        if _shard(time) in failed:
            continue
        table = line.measurement
        new = staging.new_tables.get(table)
        existing = db.tables.get(table)
        if new is not None:
            columns = new
        elif existing is not None:
            columns = {**existing.columns, **staging.new_columns.get(table, {})}
        else:
            columns = {}
        try:
            fields = _check(line, columns)
        except _Rejected as rej:
            dropped += 1
            reason = reason or rej.args[0]
            continue
        added = {k: TAG for k, _ in line.tags if k not in columns}
        added.update({n: FIELD_TYPE_NAMES[t] for n, t, _ in fields if n not in columns})
        if new is not None:
            new.update(added)
        elif existing is not None:
            if added:
                staging.new_columns.setdefault(table, {}).update(added)
        else:
            staging.new_tables[table] = {**added, "time": TIMESTAMP}
        accepted.append((table, line.tags, time, fields))
    return staging, accepted, reason, dropped


def apply_v1(engine: LocalClient, database: str, parsed: ParsedV1, body: bytes) -> WriteOutcome:
    """Write the parsed points to ``database`` of ``engine``, answering as 1.x does.

    Raises:
        DatabaseNotFound: no such database (404).
        WriteError: no line parsed and some did not (400 ``unable to parse ...``), or
            the lines of a shard this write creates disagree on a type (400 ``field
            type conflict``; the lines of the other shards are written).
        PartialWriteError: some points were dropped or did not parse; the others are
            written (400 ``partial write: ... dropped=<n>``).
    """
    error = parsed.parse_error
    if not parsed.points:
        if error is not None:
            raise _refused(error, body, partial=False)
        return WriteOutcome(lines=0, bytes_sent=len(body))
    with engine._lock:
        db = engine._databases.get(database)
        if db is None:
            raise database_not_found(database)
        shards = _shards_of(engine, db)
        by_shard: dict[int, list[tuple[Line, int]]] = {}
        for point in parsed.points:
            by_shard.setdefault(_shard(point[1]), []).append(point)
        failed = {g for g, pts in by_shard.items() if g not in shards and _disagree(pts)}
        staging, accepted, reason, dropped = _stage(db, parsed.points, failed)
        commit(staging, accepted)
        shards.update(by_shard)  # 1.x made the shards before it judged a line
    if failed:
        raise _refused(NEW_SHARD_CONFLICT, body, partial=False)
    if dropped:
        raise _refused(f"partial write: {reason} dropped={dropped}", body, partial=True)
    if error is not None:
        raise _refused(f"partial write: {error} dropped=0", body, partial=True)
    return WriteOutcome(lines=len(accepted), bytes_sent=len(body))


def write_v1(engine: LocalClient, body: bytes, *, database: str, precision: str) -> WriteOutcome:
    """``LocalClient.write`` on the ``v1`` profile: 1.x's ``/write`` (see the module text).

    ``database`` is ``db`` or ``db/rp`` (1.x refuses ``/`` in its names, so the first is
    the separator).
    """
    from influxkit.lineprotocol.precision import now_ns

    database, _, rp = database.partition("/")
    with engine._lock:
        if database not in engine._databases:
            raise database_not_found(database)
    parsed = parse_v1(body, precision, now_ns())
    if rp not in ("", "autogen") and (parsed.points or parsed.parse_error is None):
        raise retention_policy_not_found(rp)
    return apply_v1(engine, database, parsed, body)

"""InfluxDB 3's schema-on-write rules for parsed lines, and the server's write error bodies.

:func:`check_lines` judges each parsed line against the table schemas (and the
columns the earlier lines of the same request create), as the server's write
validator does; nothing is changed until :func:`commit`, so a refused request
leaves the database as it was.  Messages are the server's
(``influxdb3_catalog/src/error.rs``, ``influxdb3_write``), see reference 2.4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.storage import FIELD_TYPE_NAMES, TAG, TIMESTAMP, Database, Table
from influxkit.errors import LineError, PartialWriteError, WriteError
from influxkit.lineprotocol.model import FieldType, Line

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from influxkit.clients.profiles import Profile

__all__ = [
    "Accepted",
    "LineRejected",
    "Staging",
    "check_lines",
    "check_shape",
    "commit",
    "create_staged",
    "format_line",
    "raise_for_errors",
    "release",
    "uint_refused",
]

RESERVED_COLUMNS = ("time", "__chunk_order")
TAG_COLUMNS_LIMIT = 4096
# A partial write whose errors include one of these answers 422, not 400.
LIMIT_PREFIXES = (
    "Update to schema would exceed number of",
    "Adding a new database would exceed limit of",
)
ORIGINAL_LINE_BYTES = 20
# Items freed per step by release(): ~0.3 ms of deallocation.
_RELEASE_STEP = 4096


# An accepted line: (table, tags, time in ns, fields), a plain tuple as there are many.
Accepted = tuple[str, tuple[tuple[str, str], ...], int, tuple[tuple[str, FieldType, Any], ...]]


@dataclass(slots=True)
class Staging:
    """Tables and columns the accepted lines of one request create, not yet committed.

    ``checked`` holds the line shapes (table, tag keys, field names and types) already
    judged in this request: a shape that passed once passes again, since columns never
    change type and a known shape adds no column.
    """

    db: Database
    table_count: int
    new_tables: dict[str, dict[str, str]] = field(default_factory=dict)
    new_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    checked: set[tuple[Any, ...]] = field(default_factory=set)


class LineRejected(Exception):
    """A line (or a line shape) broke a schema rule; ``message`` is the server's."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_lines(
    staging: Staging,
    lines: list[tuple[int, Line]],
    *,
    profile: Profile,
    precision: str,
    default_time: int,
    to_nanos: Callable[[int, str], int],
    stop_before: int | None = None,
) -> tuple[list[Accepted], list[LineError]]:
    """Judge ``lines`` in order; the accepted ones and a :class:`LineError` per rejected one.

    ``stop_before`` (a line number) makes the check stop at the first rejection, or at
    that line, whichever comes first: ``accept_partial=False`` needs only the first.
    ``lines`` is :func:`release`-d once judged (its items become ``None``).
    """
    accepted: list[Accepted] = []
    errors: list[LineError] = []
    checked = staging.checked
    exact = precision == "ns"  # the parser already bounds timestamps to int64
    for number, line in lines:
        if stop_before is not None and number >= stop_before:
            break
        fields = line.fields
        try:
            ts = line.timestamp
            if ts is None:
                time = default_time
            elif exact:
                time = ts
            else:
                try:
                    time = to_nanos(ts, precision)
                except ValueError as exc:
                    raise LineRejected(str(exc)) from None
            # id() of the FieldType member: hashing an Enum runs Python code, an int not.
            shape = (
                line.measurement,
                tuple([t[0] for t in line.tags]),
                tuple([(f[0], id(f[1])) for f in fields]),
            )
            if shape not in checked:
                _check_line(staging, line, profile)
                checked.add(shape)
        except LineRejected as rej:
            errors.append(LineError(number, rej.message, format_line(line)))
            if stop_before is not None:
                break
            continue
        accepted.append((line.measurement, line.tags, time, fields))
    release(lines)
    return accepted, errors


def _check_line(staging: Staging, line: Line, profile: Profile) -> None:
    """Apply the schema rules to a line of a shape not seen yet; stage what it creates."""
    fields = line.fields
    if len(fields) > 1 and len({f[0] for f in fields}) != len(fields):
        seen: set[str] = set()
        for name, _, _ in fields:
            if name in seen:
                raise LineRejected(
                    f"invalid line protocol - multiple instances of '{name}' field found"
                )
            seen.add(name)
    if not profile.unsigned_integers:
        for _, ftype, _ in fields:
            if ftype is FieldType.UINTEGER:
                raise LineRejected(uint_refused(line))
    check_shape(
        staging,
        line.measurement,
        [t[0] for t in line.tags],
        [(f[0], f[1]) for f in fields],
        profile,
    )


def uint_refused(line: Line) -> str:
    """The message for an unsigned field where the profile has none (``v1``)."""
    # InfluxDB 1.x builds without uint support refuse the `u` suffix so.
    return f"unable to parse '{format_line(line)}': invalid number"


def check_shape(
    staging: Staging,
    table: str,
    tag_keys: Sequence[str],
    fields: Sequence[tuple[str, FieldType]],
    profile: Profile,
) -> None:
    """The schema rules for a line of ``table`` with these tag keys and fields (name, type).

    Stages the tables and columns the line creates; raises :class:`LineRejected` (and
    stages nothing) for a broken rule.  The rules look at names and types only, so a
    whole column of lines of one shape is judged at once (the Arrow ingest does so).
    """
    new_table = staging.new_tables.get(table)
    existing = staging.db.tables.get(table)
    if new_table is not None:
        new_table.update(_new_columns(tag_keys, fields, new_table, profile))
    elif existing is not None:
        staged = staging.new_columns.get(table)
        known = existing.columns if staged is None else {**existing.columns, **staged}
        additions = _new_columns(tag_keys, fields, known, profile)
        if additions:
            staging.new_columns.setdefault(table, {}).update(additions)
    else:
        if profile.max_tables is not None and staging.table_count >= profile.max_tables:
            raise LineRejected(
                "Update to schema would exceed number of tables limit: attempted to create "
                f"table but already have {staging.table_count} table(s) "
                f"(limit: {profile.max_tables})"
            )
        # `time` is created after the line's own columns, so naming one `time` is
        # "reserved" here and a type conflict on any later line.
        schema = _new_columns(tag_keys, fields, {}, profile)
        schema["time"] = TIMESTAMP
        staging.new_tables[table] = schema
        staging.table_count += 1


def _new_columns(
    tag_keys: Sequence[str],
    fields: Sequence[tuple[str, FieldType]],
    known: dict[str, str],
    profile: Profile,
) -> dict[str, str]:
    """The columns a line adds to a table whose columns are ``known``; raises on a broken rule.

    Tags are judged before fields, each in line order, so a tag and a field of one
    line sharing a name conflict as "expected tag, got field".
    """
    additions: dict[str, str] = {}
    wanted = [(k, TAG) for k in tag_keys]
    wanted += [(n, FIELD_TYPE_NAMES[t]) for n, t in fields]
    for name, role in wanted:
        have = additions.get(name) or known.get(name)
        if have is not None:
            if have != role:
                raise LineRejected(
                    f"invalid column type for column '{name}', expected {have}, got {role}"
                )
            continue
        if name in RESERVED_COLUMNS:
            raise LineRejected(f"'{name}' is a reserved column")
        if profile.max_columns is not None:
            roles = [r for r in known.values() if r != TIMESTAMP] + list(additions.values())
            if len(roles) + 1 > profile.max_columns:
                raise LineRejected(
                    "Update to schema would exceed number of columns per table limit of "
                    f"{profile.max_columns} columns"
                )
            if role == TAG and roles.count(TAG) + 1 > TAG_COLUMNS_LIMIT:
                raise LineRejected(
                    "Update to schema would exceed number of tag columns per table limit of "
                    f"{TAG_COLUMNS_LIMIT} columns"
                )
        additions[name] = role
    return additions


def commit(staging: Staging, accepted: list[Accepted]) -> None:
    """Create the staged tables and columns, then write the accepted points in order.

    ``accepted`` is :func:`release`-d once written (it keeps its length).
    """
    create_staged(staging)
    tables = staging.db.tables
    for table, tags, time, fields in accepted:
        tables[table].upsert(tags, time, fields)
    release(accepted)


def release(items: list[Any]) -> None:
    """Let go of ``items``' objects a slice at a time (each becomes ``None``; the length stays).

    A large write's parsed lines and accepted points would otherwise all be freed at
    once when the write returns: one chain of deallocations that never lets go of the
    GIL (~60 ms per 300,000 lines on the test machine), which stalls an event loop
    running in another thread for all of it. Between two slices the interpreter can
    switch threads.
    """
    step = _RELEASE_STEP
    nones = [None] * min(step, len(items))
    for start in range(0, len(items), step):
        items[start : start + step] = nones[: len(items) - start]


def create_staged(staging: Staging) -> None:
    """Create the tables and columns the accepted lines of a request need."""
    db = staging.db
    for name, schema in staging.new_tables.items():
        table = Table(name)
        for column, role in schema.items():
            if role != TIMESTAMP:
                table.add_column(column, role)
        db.tables[name] = table
    for name, columns in staging.new_columns.items():
        table = db.tables[name]
        for column, role in columns.items():
            table.add_column(column, role)


def cut_line(text: str) -> str:
    """``text`` cut to its first 20 bytes on a UTF-8 boundary, as the server serializes it."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= ORIGINAL_LINE_BYTES:
        return text
    return raw[:ORIGINAL_LINE_BYTES].decode("utf-8", "ignore")


def raise_for_errors(errors: list[LineError], *, accept_partial: bool) -> None:
    """Raise the server's error for rejected lines (sorted by line number); nothing if none.

    ``original_line`` is cut to 20 bytes both in ``body`` and in ``line_errors``, so that
    errors from the local engine equal those an HTTP client reads from a real server.
    """
    if not errors:
        return
    cut = [LineError(e.line_number, e.message, cut_line(e.original_line)) for e in errors]
    if not accept_partial:
        first = cut[0]
        message = "line protocol parsing error"
        raise WriteError(
            message,
            status=400,
            body={"error": message, "data": first.to_dict()},
            line_errors=[first],
        )
    message = "partial write of line protocol occurred"
    limit = any(e.message.startswith(LIMIT_PREFIXES) for e in cut)
    raise PartialWriteError(
        message,
        status=422 if limit else 400,
        body={"error": message, "data": [e.to_dict() for e in cut]},
        line_errors=cut,
    )


# -- line protocol, re-serialized as the server prints a parsed line -----------------

_MEASUREMENT_TABLE = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_TABLE = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def _rust_float(value: float) -> str:
    """``value`` as Rust's ``Display`` prints an f64: shortest digits, never an exponent."""
    if not math.isfinite(value):
        return repr(value).replace("nan", "NaN")  # the parser never yields these
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "-0" if text == "0" and str(value).startswith("-") else text


def _field_value(ftype: FieldType, value: Any) -> str:
    if ftype is FieldType.FLOAT:
        return _rust_float(float(value))
    if ftype is FieldType.INTEGER:
        return f"{int(value)}i"
    if ftype is FieldType.UINTEGER:
        return f"{int(value)}u"
    if ftype is FieldType.BOOLEAN:
        return "true" if value else "false"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def format_line(line: Line) -> str:
    """The line as the server writes a parsed line back (its ``original_line`` for rule errors)."""
    parts = [line.measurement.translate(_MEASUREMENT_TABLE)]
    for key, value in line.tags:
        parts.append(f",{key.translate(_KEY_TABLE)}={value.translate(_KEY_TABLE)}")
    fields = ",".join(
        f"{name.translate(_KEY_TABLE)}={_field_value(ftype, value)}"
        for name, ftype, value in line.fields
    )
    text = "".join(parts) + " " + fields
    if line.timestamp is not None:
        text += f" {line.timestamp}"
    return text

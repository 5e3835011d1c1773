"""The local engine's Arrow write: a table judged and stored by columns, no line protocol.

:func:`write_table` takes a :class:`~influxkit.clients.local.arrow_payload.TableWrite`
and answers exactly as :meth:`LocalClient.write` answers for the body ``encode_table``
makes of the same table (a differential test holds the two to it): the same points
stored, the same rows rejected with the same errors, numbered as the body's lines.

InfluxDB 3's schema rules (:func:`~influxkit.clients.local.writes.check_shape`) look at a
line's names and types only, so rows are judged by *shape*: the measurement, which tags
and which fields the row has (null ones are left out of a line).  Each shape is checked
once, at its first row, in row order, against the tables and columns the rows before it
created, as the line protocol path checks each new shape.  A refused shape stays
refused (columns never change type and limits only fill up), but its message can change
once later rows create columns (``'time' is a reserved column`` becomes a type conflict
once the table exists), so refused shapes are judged again after each accepted one.
Only the rows that end up in an error are encoded as line protocol, for the
``original_line`` the server quotes.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from influxkit.clients.base import WriteOutcome
from influxkit.clients.local.writes import (
    LineRejected,
    Staging,
    check_shape,
    create_staged,
    format_line,
    raise_for_errors,
    uint_refused,
)
from influxkit.errors import LineError, WriteError
from influxkit.lineprotocol.model import FieldType

if TYPE_CHECKING:
    from influxkit.clients.local.arrow_payload import TableWrite
    from influxkit.clients.local.client import LocalClient
    from influxkit.clients.local.storage import Database
    from influxkit.clients.profiles import Profile

__all__ = ["write_table"]

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_FACTORS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def write_table(
    engine: LocalClient,
    payload: TableWrite,
    *,
    database: str,
    precision: str,
    accept_partial: bool,
) -> WriteOutcome:
    """Write the table's rows as the line protocol write of its encoded body would.

    Raises what :meth:`LocalClient.write` raises: :class:`PartialWriteError` (rows
    rejected, line numbers = row + 1), :class:`WriteError` (``accept_partial=False``;
    no rows), :class:`DatabaseNotFound`.
    """
    from influxkit.lineprotocol.precision import normalize_precision, now_ns

    if payload.rows == 0:
        message = "incoming write was empty"
        raise WriteError(message, status=400, body=message)
    p = normalize_precision(precision)
    default_time = now_ns(p)
    times, time_bad = _nanoseconds(payload, p, default_time)
    with engine._lock:
        db, is_new = engine._database_for_write(database)
        staging = Staging(db, sum(len(d.tables) for d in engine._databases.values()))
        verdict = _Verdict(staging, payload, time_bad, engine.profile)
        errors = verdict.errors(p, limit=None if accept_partial else 1)
        if errors and not accept_partial:
            raise_for_errors(errors, accept_partial=False)
        if is_new:
            engine._databases[db.name] = db
        create_staged(staging)
        stored = _store(db, payload, times, verdict.accepted)
    raise_for_errors(errors, accept_partial=True)
    return WriteOutcome(lines=stored, bytes_sent=payload.nbytes)


def _nanoseconds(payload: TableWrite, precision: str, default: int) -> tuple[Any, Any]:
    """The rows' times in ns (a row without one: ``default``), and where they overflow.

    :func:`~influxkit.lineprotocol.precision.to_nanos` by columns: ``auto`` guesses each
    value's unit as the server does (so ``-2**63`` is seconds, and out of range).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = payload.rows
    ts = payload.times
    if ts is None:
        return pa.nulls(n, pa.int64()).fill_null(default), None
    bad = None
    if precision == "ns":
        ns = ts
    elif precision == "auto":
        size = pc.abs(ts)  # wraps at -2**63, which is refused below
        factor = pc.if_else(
            pc.less(size, 5_000_000_000),
            1_000_000_000,
            pc.if_else(
                pc.less(size, 5_000_000_000_000),
                1_000_000,
                pc.if_else(pc.less(size, 5_000_000_000_000_000), 1_000, 1),
            ),
        )
        bad = pc.equal(ts, _I64_MIN)
        ns = pc.multiply(pc.if_else(bad, 0, ts), factor)
    else:
        factor = _FACTORS[precision]
        low, high = -(2**63 // factor), _I64_MAX // factor
        bad = pc.or_(pc.less(ts, low), pc.greater(ts, high))
        ns = pc.multiply(pc.if_else(bad, 0, ts), factor)
    if bad is not None:
        bad = pc.fill_null(bad, False)
        if not pc.any(bad).as_py():
            bad = None
    return pc.fill_null(ns, default), bad


class _Verdict:
    """Which rows the schema rules accept, and each refused row's message."""

    def __init__(self, staging: Staging, payload: TableWrite, time_bad: Any, profile: Profile):
        import pyarrow as pa
        import pyarrow.compute as pc

        self.payload = payload
        self.time_bad = time_bad
        n = payload.rows
        if payload.measurements is not None:
            encoded = pc.dictionary_encode(payload.measurements)
            self.codes = encoded.indices
            names = encoded.dictionary.to_pylist()
        else:
            self.codes = None
            names = [payload.measurement]
        columns = [(name, None, a) for name, a in payload.tags]
        columns += list(payload.fields)
        valid = [a.is_valid() for _, _, a in columns]
        varying = [
            v for v, (_, _, a) in zip(valid, columns, strict=True) if 0 < a.null_count < len(a)
        ]
        groups = _shapes(self.codes, varying)
        if time_bad is not None:
            groups = pc.if_else(time_bad, pa.scalar(None, pa.int32()), _as_int32(groups, n))
        self.groups = groups
        first = _first_rows(groups, n)
        present = [pc.take(v, first).to_pylist() for v in valid]
        codes = pc.take(self.codes, first).to_pylist() if self.codes is not None else None
        rows = first.to_pylist()

        self.accepted_shapes: list[int] = []
        self.refused: dict[int, list[tuple[int, str]]] = {}  # shape -> (from row, message)
        self.uint: set[int] = set()
        shapes: dict[int, tuple[str, list[str], list[tuple[str, FieldType]]]] = {}
        for s, row in enumerate(rows):
            table = names[codes[s]] if codes is not None else names[0]
            tag_keys = [
                c[0] for c, p in zip(columns, present, strict=True) if p[s] and c[1] is None
            ]
            fields = [
                (c[0], c[1])
                for c, p in zip(columns, present, strict=True)
                if p[s] and c[1] is not None
            ]
            if not profile.unsigned_integers and any(t is FieldType.UINTEGER for _, t in fields):
                self.uint.add(s)
                continue
            shape = (table, tag_keys, fields)
            shapes[s] = shape
            try:
                check_shape(staging, *shape, profile)
            except LineRejected as rej:
                self.refused[s] = [(row, rej.message)]
                continue
            self.accepted_shapes.append(s)
            for t, history in self.refused.items():  # the rows of t after this one
                try:
                    check_shape(staging, *shapes[t], profile)
                except LineRejected as rej:
                    if rej.message != history[-1][1]:
                        history.append((row, rej.message))
                else:  # cannot happen: see the module docstring
                    raise AssertionError("a line shape refused earlier passed a later check")

    @property
    def accepted(self) -> Any:
        """A mask of the rows written, or ``None`` for every row."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.groups is None and self.time_bad is None:
            if self.accepted_shapes:
                return None
            return pa.nulls(self.payload.rows, pa.bool_()).fill_null(False)
        if self.groups is None:
            return pc.invert(self.time_bad)
        keep = pc.is_in(self.groups, value_set=pa.array(self.accepted_shapes, pa.int32()))
        return pc.fill_null(keep, False)

    def errors(self, precision: str, *, limit: int | None) -> list[LineError]:
        """A :class:`LineError` per refused row (the first ``limit`` of them), in row order."""
        import pyarrow.compute as pc

        from influxkit.lineprotocol.parse import parse
        from influxkit.lineprotocol.precision import to_nanos

        keep = self.accepted
        if keep is None:
            return []
        rows = pc.indices_nonzero(pc.invert(keep))
        if limit is not None:
            rows = rows.slice(0, limit)
        if len(rows) == 0:
            return []
        groups = (
            pc.take(self.groups, rows).to_pylist()
            if self.groups is not None
            else [0] * len(rows)  # one shape (and no time out of range)
        )
        numbers = rows.to_pylist()
        parsed = parse("\n".join(self.payload.lines(numbers)))
        lines = [line for _, line in parsed.lines]
        if parsed.errors or len(lines) != len(numbers):
            raise AssertionError("the encoded rows of a table did not parse back line by line")
        out = []
        for row, group, line in zip(numbers, groups, lines, strict=True):
            if group is None:  # its time is out of range
                try:
                    to_nanos(int(line.timestamp or 0), precision)
                except ValueError as exc:
                    message = str(exc)
                else:  # cannot happen: the row was found out of range
                    raise AssertionError("a time out of range converted")
            elif group in self.uint:
                message = uint_refused(line)
            else:
                history = self.refused[group]
                at = bisect.bisect_right([h[0] for h in history], row) - 1
                message = history[at][1]
            out.append(LineError(row + 1, message, format_line(line)))
        return out


def _as_int32(groups: Any, n: int) -> Any:
    import pyarrow as pa

    return pa.nulls(n, pa.int32()).fill_null(0) if groups is None else groups


def _shapes(codes: Any, valid: list[Any]) -> Any:
    """Each row's shape, numbered 0.. in order of first appearance; ``None``: one shape."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if codes is None and not valid:
        return None
    code = codes.cast(pa.int64()) if codes is not None else None
    bits = 0
    for v in valid:
        if code is None:
            code = v.cast(pa.int64())
        else:
            if bits >= 30:  # renumber the shapes so far, to keep the code in int64
                code = pc.dictionary_encode(code).indices.cast(pa.int64())
                bits = 0
            code = pc.add(pc.multiply(code, 2), v.cast(pa.int64()))
        bits += 1
    return pc.dictionary_encode(code).indices


def _first_rows(groups: Any, n: int) -> Any:
    """The first row of each shape, in shape order."""
    import pyarrow as pa

    if groups is None:
        return pa.array([0], pa.int64())
    rows = pa.table({"g": groups, "i": pa.array(range(n), pa.int64())})
    first = rows.group_by("g", use_threads=False).aggregate([("i", "min")])
    first = first.filter(first.column("g").is_valid()).sort_by("g")
    return first.column("i_min").combine_chunks()


def _store(db: Database, payload: TableWrite, times: Any, keep: Any) -> int:
    """Append the accepted rows to their tables; how many there were."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if keep is not None and not pc.any(keep).as_py():
        return 0
    if payload.measurements is None:
        parts = [(payload.measurement, keep)]
    else:
        names = payload.measurements if keep is None else payload.measurements.filter(keep)
        parts = []
        for name in pc.unique(names).to_pylist():
            mask = pc.equal(payload.measurements, pa.scalar(name, pa.string()))
            parts.append((name, mask if keep is None else pc.and_(mask, keep)))
    stored = 0
    for name, mask in parts:
        table = db.tables[name]

        def pick(a: Any, mask: Any = mask) -> Any:
            return a if mask is None else a.filter(mask)

        picked_times = pick(times)
        tags = []
        for column, values in payload.tags:
            picked = pick(values)
            if picked.null_count != len(picked):
                tags.append((column, picked))
        fields = {}
        for column, _, values in payload.fields:
            picked = pick(values)
            if picked.null_count != len(picked):
                fields[column] = picked
        table.append(tags, picked_times, fields)
        stored += len(picked_times)
    return stored

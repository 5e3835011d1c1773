"""Columnar encoder: a pyarrow Table or RecordBatch, a pandas or polars DataFrame, to line protocol.

:func:`encode_table` builds every line of a slice of rows at once from Arrow columns with
``pyarrow.compute`` kernels, never with a Python loop per row: numbers are formatted by
one kernel per column, names and string values are escaped by a regular-expression kernel
only when the column's bytes hold a character that needs it, and the lines, each ending
in ``\\n``, are made by one ``binary_join_element_wise`` call. The output is then the
string array's data buffer as it stands, so joining the lines costs one copy.

The output is the row encoder's (:mod:`influxkit.lineprotocol.encode`) byte for byte,
each row as a dict (a property test compares them line by line): the same escaping (the
rules of :mod:`~influxkit.lineprotocol.escape`, done as two RE2 substitutions,
property-tested against its functions), tags sorted by key, a null or empty tag left out
of its line, a null field left out of its line, the same float digits (shortest round
trip, from orjson; without NumPy, pyarrow's cast: the same values, other spellings), ints
as ``i``, unsigned ints as ``u``.

What the row encoder raises for, a table reports per row instead, so that one bad row out
of a million does not stop the other 999,999: ``EncodedTable.refused`` lists each row left
out (its 0-based position in the input and why), and
:meth:`EncodedTable.raise_if_refused` turns that into an
:class:`~influxkit.errors.InvalidRecord`. A row is refused, whole, when:

* every field is null (a line needs one field);
* a float field is NaN or infinite (line protocol cannot carry them; skipping the field
  would silently store something else than the row). pandas' NaN is pandas' null, and
  ``pa.Table.from_pandas`` makes it null, so in a pandas float column NaN is skipped like
  ``None``; an Arrow or polars NaN is a value, and is refused;
* a tag value, measurement value or string field cannot be carried (a newline or tab in a
  name, a name ending in a backslash, a measurement that is empty or starts with ``#``,
  more than 1 MiB);
* its time is outside int64 once in nanoseconds (the server converts every time to ns
  and refuses such a line), or is a uint64 above int64.

Mistakes in the arguments or the table's shape raise at once, before anything is encoded:
:class:`~influxkit.errors.ConfigError` for arguments (an unknown column, no measurement,
a column given two roles, an unknown precision), :class:`~influxkit.errors.InvalidRecord`
for data line protocol has no way to carry (a date, binary, list ... column as a field; a
column name that is not a valid key), each naming the column and what to do.

Types:

* fields: signed ints ``NNNi``; unsigned ``NNNu``; float16/32/64 widened to float64 and
  written as the row encoder writes a Python float; decimals as float64 (InfluxDB has no
  decimal type; digits beyond float64's are lost, as with ``float(Decimal)``); bool
  ``true`` / ``false``; string, large_string and string_view quoted and escaped;
  dictionary-encoded (pandas categorical, polars Categorical / Enum) columns as their
  values; a null-typed column contributes nothing. Timestamps, dates, times, durations,
  binary, nested types are refused as fields (cast them first).
* tags: string-like columns as they are; ints and unsigned ints as their digits; floats
  and bools as Python's ``str()`` writes them (``1.5``, ``True``), as the row encoder's
  ``_tag_text`` does; dictionary columns as their values.
* time: ``timestamp`` of any unit, tz-aware or naive (naive is UTC, as everywhere in
  influxkit), and ``date32`` / ``date64`` (midnight UTC), converted to the write
  precision, rounding down (floor, as the row encoder); an integer column is taken as
  already in the write precision (as a dict's int ``time``); ``precision="auto"`` writes
  nanoseconds. A null time writes the line without one (the server stamps it).
* pandas: ``timestamp_column=None`` with a ``DatetimeIndex`` (or a ``PeriodIndex``: each
  period's start) takes the index as the time, as influxdb3-python does
  (``timestamp_column`` may also name the index); any other index
  is not written (``reset_index()`` first to write it as columns). Without either, lines
  have no time: every line of a series then gets the same server time and they overwrite
  one another.

Measured on the 1,000,000-row frame of ``bench/bench_columnar.py`` (3 tags, 4 fields,
ns times; 2 shared cores, medians), in 100,000-row slices, per 1M rows:

* the one ``binary_join_element_wise`` costs ~9 ns per argument per row, scalars and
  arrays alike (2 arguments 37 ms, 16 arguments 148 ms), so adjacent constant text is
  merged into one argument, and a column without nulls is passed as is, not joined into
  a ``,key=value`` piece first (a piece is built only for a column that has nulls);
* float64 to text: pyarrow's cast 73 ms (shortest round trip too, spelled ``0.000025``);
  orjson over the NumPy view, cut at the commas with NumPy, 49 ms and the row encoder's
  very digits. Used when NumPy is importable (pandas needs it), else the cast.
  Ints and times: the cast (14 ms and 21 ms);
* is there anything to escape in a string column: searching its data buffer for the
  characters (``bytes.__contains__``, memchr) 0.4 ms, ``match_substring_regex`` 35 ms;
* the lines to one ``bytes`` (a 95 MB body): each slice's lines end in ``\\n``, so its data
  buffer is the body as it stands; ``bytes.join`` of those buffers is the only copy, 43
  ms (``to_pybytes()`` each then a join 85 ms; ``"".join`` of the Python strs 215 ms);
* slices of 10,000 to 250,000 rows run alike (307-338 ms for the whole encode), one
  slice of 1,000,000 rows slower (447 ms, out of cache): 100,000 bounds the working
  memory to a slice's columns and text. ``encode_table`` holds every slice's lines until
  the final join (peak about twice the output); ``iter_encode_table`` hands each slice on.

``pc.binary_join_element_wise(..., null_handling="skip")`` drops a row in which every
argument is null (pyarrow 26; narwhals-dev/narwhals#3965), so it is only used where each
row has a non-null argument (refused rows are taken out before the join).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from influxkit.errors import ConfigError, InvalidRecord, MissingDependency
from influxkit.lineprotocol.escape import MAX_STRING_BYTES, escape_key, escape_measurement
from influxkit.lineprotocol.precision import FACTORS, normalize_precision
from influxkit.lineprotocol.schema import Schema, coerce_table

__all__ = ["EncodedTable", "RefusedRow", "encode_table", "iter_encode_table"]

#: Rows encoded per slice: bounds memory (the slice's columns and lines) without slowing down.
CHUNK_ROWS = 100_000
# A slice whose text would exceed this is split (string arrays have int32 offsets).
_MAX_SLICE_BYTES = 1 << 30

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1

# pyarrow (and NumPy) are imported on first use, so importing influxkit does not load them.
pa: Any = None
pc: Any = None
np: Any = None


def _load(data: object) -> None:
    global pa, pc, np
    if pa is not None:
        return
    try:
        import pyarrow
        import pyarrow.compute
    except ImportError as exc:
        module = type(data).__module__.split(".")[0]
        extra = module if module in ("pandas", "polars") else "local"
        raise MissingDependency(
            f"encoding a {type(data).__name__} needs pyarrow, which is not installed: "
            f"run `pip install 'influxkit[{extra}]'`"
        ) from exc
    try:
        import numpy
    except ImportError:  # pyarrow does not need NumPy; floats then take the cast
        numpy = None
    pa, pc, np = pyarrow, pyarrow.compute, numpy


@dataclass(frozen=True, slots=True)
class RefusedRow:
    """A row left out of the output: its 0-based position in the input, and why."""

    index: int
    reason: str


@dataclass(slots=True)
class EncodedTable:
    """Line protocol for a table: ``data`` (lines joined by ``\\n``, UTF-8), ``lines``
    (how many), and ``refused`` (the rows left out, in input order)."""

    data: bytes
    lines: int
    refused: list[RefusedRow] = field(default_factory=list)

    def raise_if_refused(self) -> None:
        """Raise :class:`~influxkit.errors.InvalidRecord` naming the first refused rows."""
        if self.refused:
            shown = "; ".join(f"row {r.index}: {r.reason}" for r in self.refused[:5])
            more = f"; and {len(self.refused) - 5} more" if len(self.refused) > 5 else ""
            raise InvalidRecord(
                f"{len(self.refused)} row(s) of the table cannot be written as line "
                f"protocol: {shown}{more}"
            )


def encode_table(
    data: Any,
    *,
    measurement: str | None = None,
    measurement_column: str | None = None,
    tag_columns: Sequence[str] | str = (),
    timestamp_column: str | None = None,
    field_columns: Sequence[str] | str | None = None,
    precision: str = "ns",
    chunk_rows: int = CHUNK_ROWS,
    schema: Schema | None = None,
) -> EncodedTable:
    """Line protocol for every row of a table.

    Args:
        data: a ``pyarrow.Table`` or ``RecordBatch``, a pandas or polars DataFrame, or
            anything with ``__arrow_c_stream__`` or ``__dataframe__``.
        measurement: the measurement of every line; or
        measurement_column: the column holding each row's measurement.
        tag_columns: the tag columns (a str is one column).
        timestamp_column: the time column; ``None`` takes a pandas ``DatetimeIndex``,
            else the lines have no time.
        field_columns: the field columns; ``None`` means every other column.
        precision: the write precision the times are written in (``auto``: ns).
        chunk_rows: rows encoded at a time (memory, not output, depends on it).
        schema: pinned field types: declared field columns of ``measurement`` are cast
            exactly (or refused) first (see :func:`~influxkit.lineprotocol.schema.coerce_table`).

    Returns:
        The lines joined with ``\\n`` (no trailing newline), their count, and the rows
        refused (see the module docstring: all fields null, NaN / inf, ...).

    Raises:
        ConfigError: a wrong argument (unknown column, no measurement, precision ...).
        InvalidRecord: a column line protocol cannot carry (type or name).
    """
    buffers: list[Any] = []
    lines = 0
    refused: list[RefusedRow] = []
    for buffer, count, rows in _parts(
        data,
        measurement=measurement,
        measurement_column=measurement_column,
        tag_columns=tag_columns,
        timestamp_column=timestamp_column,
        field_columns=field_columns,
        precision=precision,
        chunk_rows=chunk_rows,
        schema=schema,
    ):
        if count:
            buffers.append(buffer)
        lines += count
        refused.extend(rows)
    # One copy from the Arrow buffers into the bytes (bytes.join takes any buffer).
    data_out = b"\n".join(buffers) if len(buffers) != 1 else buffers[0].to_pybytes()
    return EncodedTable(data_out, lines, refused)


def iter_encode_table(
    data: Any,
    *,
    measurement: str | None = None,
    measurement_column: str | None = None,
    tag_columns: Sequence[str] | str = (),
    timestamp_column: str | None = None,
    field_columns: Sequence[str] | str | None = None,
    precision: str = "ns",
    chunk_rows: int = CHUNK_ROWS,
    schema: Schema | None = None,
) -> Iterator[EncodedTable]:
    """Like :func:`encode_table`, one :class:`EncodedTable` per slice of ``chunk_rows`` rows.

    Each part holds whole lines (no trailing newline), so parts can be sent as separate
    write bodies; ``refused`` indexes count from the start of the whole table. The
    arguments are checked before the first part is made.
    """
    parts = _parts(
        data,
        measurement=measurement,
        measurement_column=measurement_column,
        tag_columns=tag_columns,
        timestamp_column=timestamp_column,
        field_columns=field_columns,
        precision=precision,
        chunk_rows=chunk_rows,
        schema=schema,
    )
    return (
        EncodedTable(buffer.to_pybytes() if count else b"", count, refused)
        for buffer, count, refused in parts
    )


_Part = tuple[Any, int, list[RefusedRow]]  # (the lines' pyarrow Buffer, count, refused rows)


def _parts(
    data: Any,
    *,
    measurement: str | None,
    measurement_column: str | None,
    tag_columns: Sequence[str] | str,
    timestamp_column: str | None,
    field_columns: Sequence[str] | str | None,
    precision: str,
    chunk_rows: int,
    schema: Schema | None = None,
) -> Iterator[_Part]:
    """Checks the arguments (at once, not on the first ``next()``), then encodes slices."""
    _load(data)
    if type(chunk_rows) is not int or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive int, not {chunk_rows!r}")
    p = normalize_precision(precision)
    table, index_time = _to_arrow(data, timestamp_column)
    if schema and measurement is not None:
        table = coerce_table(table, measurement, schema)
    plan = _Plan(
        table,
        measurement=measurement,
        measurement_column=measurement_column,
        tag_columns=tag_columns,
        timestamp_column=None if index_time is not None else timestamp_column,
        field_columns=field_columns,
        factor=FACTORS.get(p, 1),
        precision=p,
        index_time=index_time is not None,
    )
    return _iter_parts(plan, table, index_time, chunk_rows)


def _iter_parts(plan: _Plan, table: Any, index_time: Any, chunk_rows: int) -> Iterator[_Part]:
    n = table.num_rows
    for start in range(0, n, chunk_rows):
        size = min(chunk_rows, n - start)
        columns = {name: _column(table, name, start, size) for name in plan.used}
        if index_time is not None:
            columns[_INDEX] = index_time.slice(start, size)
        yield from _encode_slice(plan, columns, start, size)


# -- converting the input -------------------------------------------------------------------

_INDEX = object()  # the key of a pandas DatetimeIndex used as the time


def _to_arrow(data: Any, timestamp_column: str | None) -> tuple[Any, Any]:
    """The input as a pyarrow Table, and the pandas DatetimeIndex to use as time (or None)."""
    if isinstance(data, pa.Table):
        return data, None
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), None
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, pd.DataFrame):
        return _from_pandas(pd, data, timestamp_column)
    try:
        if hasattr(data, "__arrow_c_stream__"):
            return pa.table(data), None
        if hasattr(data, "__dataframe__"):
            import pyarrow.interchange

            return pyarrow.interchange.from_dataframe(data), None
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidRecord(
            f"cannot read the {type(data).__name__} as an Arrow table: {exc}"
        ) from None
    raise InvalidRecord(
        f"cannot encode a {type(data).__name__} as a table: pass a pyarrow Table or "
        "RecordBatch, a pandas or polars DataFrame (or rows to the row encoder)"
    )


def _from_pandas(pd: Any, df: Any, timestamp_column: str | None) -> tuple[Any, Any]:
    index = df.index
    if isinstance(index, pd.PeriodIndex):  # each period's start, as influxdb3-python does
        index = index.to_timestamp()
    index_time = None
    use_index = isinstance(index, pd.DatetimeIndex) and (
        timestamp_column is None
        or (timestamp_column == index.name and timestamp_column not in df.columns)
    )
    if use_index:
        index_time = pa.array(index)
    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidRecord(f"cannot convert the DataFrame to Arrow: {exc}") from None
    return table, index_time


def _column(table: Any, name: str, start: int, size: int) -> Any:
    """One column's rows ``start .. start+size`` as a single Array (dictionaries decoded)."""
    chunks = table.column(name).slice(start, size).chunks
    if chunks and pa.types.is_dictionary(chunks[0].type):
        chunks = [_decode(c) for c in chunks]
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return pa.array([], _value_type(table.schema.field(name).type))
    return pa.concat_arrays(chunks)


def _decode(arr: Any) -> Any:
    """A dictionary array's values (``take``, which has no string_view kernel: cast first)."""
    values = arr.dictionary
    if _is_string_view(values.type):
        values = pc.cast(values, pa.string())
    return pc.take(values, arr.indices)


def _value_type(t: Any) -> Any:
    return t.value_type if pa.types.is_dictionary(t) else t


# -- the plan: each column's role, checked once --------------------------------------------


@dataclass(slots=True)
class _Field:
    name: str
    key: str  # the escaped key followed by "=" (and the opening quote of a string)
    kind: str  # "int", "uint", "float", "bool", "string", "null"
    suffix: str  # "i", "u", '"' or ""


@dataclass(slots=True)
class _Tag:
    name: str
    key: str  # "," + escaped key + "="
    kind: str  # "string", "int", "float", "bool", "null"


def _kind(t: Any) -> str | None:
    """The encoder's name for an Arrow value type, or None when it has none."""
    t = _value_type(t)
    types = pa.types
    if types.is_signed_integer(t):
        return "int"
    if types.is_unsigned_integer(t):
        return "uint"
    if types.is_floating(t) or types.is_decimal(t):
        return "float"
    if types.is_boolean(t):
        return "bool"
    if types.is_string(t) or types.is_large_string(t) or _is_string_view(t):
        return "string"
    if types.is_null(t):
        return "null"
    return None


def _is_string_view(t: Any) -> bool:
    check = getattr(pa.types, "is_string_view", None)
    return bool(check and check(t))


class _Plan:
    """The roles and encodings of the columns, from the schema; raises on a wrong argument."""

    def __init__(
        self,
        table: Any,
        *,
        measurement: str | None,
        measurement_column: str | None,
        tag_columns: Sequence[str] | str,
        timestamp_column: str | None,
        field_columns: Sequence[str] | str | None,
        factor: int,
        precision: str,
        index_time: bool,
    ) -> None:
        schema = table.schema
        names = list(schema.names)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ConfigError(
                    f"the table has two columns named {name!r}: rename one (a column can "
                    "be written only once per line)"
                )
            seen.add(name)
        self.schema = schema
        self.factor = factor
        self.precision = precision

        if (measurement is None) == (measurement_column is None):
            raise ConfigError(
                "pass measurement='name' (the same for every row) or measurement_column="
                "'column' (each row's own), exactly one of them"
                + ("" if measurement is None else ", not both")
            )
        roles: dict[str, str] = {}

        def claim(name: object, role: str) -> str:
            if not isinstance(name, str):
                raise ConfigError(f"{role} names must be str, not {type(name).__name__}")
            if name not in seen:
                hint = difflib.get_close_matches(name, names, n=1)
                did = f"; did you mean {hint[0]!r}?" if hint else ""
                shown = ", ".join(map(repr, names[:20])) + (", ..." if len(names) > 20 else "")
                raise ConfigError(
                    f"{role} {name!r} is not a column of the table{did} (its columns: {shown})"
                )
            if name in roles:
                raise ConfigError(
                    f"column {name!r} is given as {roles[name]} and as {role}: a column "
                    "has one role"
                )
            roles[name] = role
            return name

        self.measurement_prefix: str | None = None
        self.measurement_column: str | None = None
        if measurement is not None:
            self.measurement_prefix = escape_measurement(measurement)
            context = f"measurement {measurement!r}"
        else:
            self.measurement_column = claim(measurement_column, "measurement_column")
            kind = _kind(schema.field(measurement_column).type)
            if kind != "string":
                raise InvalidRecord(
                    f"measurement_column {measurement_column!r} is "
                    f"{schema.field(measurement_column).type}; measurements are strings: "
                    "cast the column to string"
                )
            context = f"measurement_column {measurement_column!r}"

        self.time_column: str | None = None
        self.time_kind: str | None = None
        if timestamp_column is not None:
            self.time_column = claim(timestamp_column, "timestamp_column")
            self.time_kind = self._time_kind(timestamp_column, schema.field(timestamp_column).type)
        elif index_time:
            self.time_kind = "timestamp"

        if isinstance(tag_columns, str):
            tag_columns = [tag_columns]
        self.tags: list[_Tag] = []
        for name in tag_columns:
            claim(name, "tag column")
            kind = _kind(schema.field(name).type)
            if kind not in ("string", "int", "uint", "float", "bool", "null"):
                raise InvalidRecord(
                    f"tag column {name!r} is {schema.field(name).type}; tag values are "
                    "strings (or numbers): cast the column to string, or make it a field"
                )
            try:
                key = escape_key(name, "tag key")
            except InvalidRecord as exc:
                raise InvalidRecord(f"{context}: {exc.message}") from None
            self.tags.append(_Tag(name, f",{key}=", "int" if kind == "uint" else kind))
        self.tags.sort(key=lambda t: t.name)  # the row encoder sorts tags by key

        if field_columns is None:
            field_columns = [n for n in names if n not in roles]
        elif isinstance(field_columns, str):
            field_columns = [field_columns]
        self.fields: list[_Field] = []
        for name in field_columns:
            claim(name, "field column")
            self.fields.append(self._field(name, schema.field(name).type, context))
        if not self.fields:
            raise ConfigError(
                "the table has no field column (every column is a tag or the time): a line "
                "needs at least one field"
            )
        self.used = [n for n in names if n in roles]

    def _time_kind(self, name: str, t: Any) -> str:
        t = _value_type(t)
        types = pa.types
        if types.is_timestamp(t):
            return "timestamp"
        if types.is_date(t):
            return "date"
        if types.is_integer(t):
            return "int"
        if types.is_null(t):
            return "null"
        raise InvalidRecord(
            f"timestamp_column {name!r} is {t}; times are timestamps (any unit, naive = "
            "UTC), dates, or ints already in the write precision: convert it (for strings, "
            "pandas.to_datetime() or pyarrow.compute.strptime())"
        )

    def _field(self, name: str, t: Any, context: str) -> _Field:
        kind = _kind(t)
        vt = _value_type(t)
        if kind is None:
            if pa.types.is_timestamp(vt) or pa.types.is_date(vt):
                fix = (
                    "a time can only be the line's time: pass timestamp_column="
                    f"{name!r}, or cast it to int64 or string to store it as a field"
                )
            elif pa.types.is_binary(vt) or pa.types.is_large_binary(vt):
                fix = "cast it to string if it holds text"
            else:
                fix = "cast it to a number, bool or string, or leave it out (field_columns=)"
            raise InvalidRecord(
                f"field column {name!r} is {t}, which line protocol has no type for: {fix}"
            )
        try:
            key = escape_key(name, "field key")
        except InvalidRecord as exc:
            raise InvalidRecord(f"{context}: {exc.message}") from None
        if kind == "string":
            return _Field(name, f'{key}="', kind, '"')
        return _Field(name, f"{key}=", kind, {"int": "i", "uint": "u"}.get(kind, ""))


# -- encoding a slice ---------------------------------------------------------------------


class _Refusals:
    """Masks of bad rows, each with the reason to report for a row it marks."""

    def __init__(self) -> None:
        self.masks: list[tuple[Any, Callable[[int], str]]] = []

    def add(self, mask: Any, reason: Callable[[int], str]) -> None:
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            self.masks.append((mask, reason))

    def keep(self, base: int) -> tuple[Any, list[RefusedRow]]:
        """The rows to keep, and the refused rows (first reason wins), or (None, [])."""
        if not self.masks:
            return None, []
        bad = self.masks[0][0]
        for mask, _ in self.masks[1:]:
            bad = pc.or_(bad, mask)
        reasons: dict[int, str] = {}
        for mask, reason in self.masks:
            for i in pc.indices_nonzero(mask).to_pylist():
                if i not in reasons:
                    reasons[i] = reason(i)
        refused = [RefusedRow(base + i, reasons[i]) for i in sorted(reasons)]
        return pc.invert(bad), refused


def _encode_slice(plan: _Plan, columns: dict[Any, Any], start: int, size: int) -> Iterator[_Part]:
    """The slice's lines (split in halves while its text could pass _MAX_SLICE_BYTES)."""
    if size > 1 and _text_bytes(columns) > _MAX_SLICE_BYTES:
        half = size // 2
        for offset, length in ((0, half), (half, size - half)):
            sub = {k: v.slice(offset, length) for k, v in columns.items()}
            yield from _encode_slice(plan, sub, start + offset, length)
        return
    yield _encode_rows(plan, columns, start, size)


def _text_bytes(columns: dict[Any, Any]) -> int:
    """A bound of a slice's text: its strings escaped (at most doubled), 64 bytes per other
    value (digits, key, separators)."""
    total = 0
    for arr in columns.values():
        total += 64 * len(arr)
        if _kind(arr.type) == "string":
            total += 2 * arr.nbytes
    return total


def _encode_rows(plan: _Plan, columns: dict[Any, Any], start: int, size: int) -> _Part:
    refusals = _Refusals()
    parts: list[Any] = []  # str (constant text) or string arrays, joined in this order

    if plan.measurement_column is not None:
        parts.append(_measurement_values(columns[plan.measurement_column], refusals))
    else:
        parts.append(plan.measurement_prefix)

    for tag in plan.tags:
        text = _tag_values(tag, columns[tag.name], refusals)
        if text is not None:
            parts.append((tag.key, text))  # (key, values): a piece if the values have nulls

    fields: list[tuple[_Field, Any]] = []
    for f in plan.fields:
        text = _field_values(f, columns[f.name], refusals)
        if text is not None:
            fields.append((f, text))
    if all(text.null_count for _, text in fields):
        no_field = None
        for _, text in fields:
            null = text.is_null()
            no_field = null if no_field is None else pc.and_(no_field, null)
        if no_field is None:  # no field has a value in this slice
            no_field = pa.nulls(size, pa.int8()).is_null()
        refusals.add(no_field, lambda i: "every field is null; a line needs at least one field")

    ts = None
    if plan.time_kind is not None:
        raw = columns[plan.time_column if plan.time_column is not None else _INDEX]
        ts = _time_values(plan, raw, refusals)

    keep, refused = refusals.keep(start)
    if keep is not None:
        parts = [_filtered(p, keep) for p in parts]
        fields = [(f, text.filter(keep)) for f, text in fields]
        ts = ts.filter(keep) if ts is not None else None
        size = len(keep) - len(refused)
        if size == 0:
            return None, 0, refused

    args: list[Any] = []
    for p in parts:
        if type(p) is tuple:
            key, values = p
            if values.null_count:
                args.append(_join(key, values))
            else:
                args += [key, values]
        else:
            args.append(p)
    args.append(" ")
    if fields[0][1].null_count == 0:
        first, text = fields[0]
        args += [first.key, text, first.suffix]
        for f, text in fields[1:]:
            if text.null_count:
                args.append(_join("," + f.key, text, f.suffix))
            else:
                args += ["," + f.key, text, f.suffix]
    else:
        pieces = [_join(f.key, text, f.suffix) for f, text in fields]
        body = pc.binary_join_element_wise(*pieces, ",", null_handling="skip")
        if len(body) != size:  # cannot happen: rows without a field were refused above
            raise AssertionError("binary_join_element_wise dropped a row")
        args.append(body)
    if ts is not None:
        text = pc.cast(ts, pa.string())
        if text.null_count:
            args += [_join(" ", text), "\n"]
        else:
            args += [" ", text, "\n"]
    else:
        args.append("\n")
    lines = pc.binary_join_element_wise(*_merge(args), "", null_handling="skip")
    return _lines_buffer(lines), size, refused


def _filtered(part: Any, keep: Any) -> Any:
    if type(part) is tuple:
        return part[0], part[1].filter(keep)
    return part if type(part) is str else part.filter(keep)


def _join(*args: Any) -> Any:
    """Concatenation that is null wherever one of the arrays is null."""
    return pc.binary_join_element_wise(*_merge(list(args)), "")


def _merge(args: list[Any]) -> list[Any]:
    """Adjacent constant strings merged into one argument (each argument costs per row)."""
    out: list[Any] = []
    for a in args:
        if type(a) is str:
            if not a:
                continue
            if out and type(out[-1]) is str:
                out[-1] += a
                continue
        out.append(a)
    return out


def _lines_buffer(lines: Any) -> Any:
    """The lines' bytes, back to back without the last ``\\n``: the array's data buffer, sliced
    (no copy)."""
    start, end = _data_range(lines)
    return lines.buffers()[2].slice(start, end - start - 1)


def _data_range(arr: Any) -> tuple[int, int]:
    offsets = memoryview(arr.buffers()[1]).cast("i")
    return offsets[arr.offset], offsets[arr.offset + len(arr)]


def _strings(arr: Any) -> Any:
    """A string-like array as ``string`` (int32 offsets), which every kernel here takes."""
    if arr.type != pa.string():
        arr = pc.cast(arr, pa.string())
    return arr


def _contains(arr: Any, chars: str) -> str:
    """Which of ``chars`` (ASCII) occur in the array's data buffer (nulls' bytes included:
    a false positive only costs the slow path). Searching bytes is memchr, ~1 ms per 10 MB."""
    buffer = arr.buffers()[2]
    if buffer is None:
        return ""
    start, end = _data_range(arr)
    data = buffer.slice(start, end - start).to_pybytes()
    return "".join(c for c in chars if c.encode() in data)


# Backslashes are doubled only before a backslash or an escaped character (escape.py):
# a run of k backslashes before one of those becomes 2k (and the character is escaped),
# a run of k >= 2 before anything else 2k - 1. RE2 has no lookahead, so two passes.
_KEY_RULES = (
    (r"(\\*)([,= ])", r"\1\1\\\2"),
    (r"(\\+)\\([^\\,= ])", r"\1\1\\\2"),
)
_MEASUREMENT_RULES = (
    (r"(\\*)([, ])", r"\1\1\\\2"),
    (r"(\\+)\\([^\\, ])", r"\1\1\\\2"),
)


def _escape(arr: Any, rules: tuple[tuple[str, str], ...]) -> Any:
    for pattern, replacement in rules:
        arr = pc.replace_substring_regex(arr, pattern=pattern, replacement=replacement)
    return arr


def _name_values(
    arr: Any, what: Callable[[int], str], refusals: _Refusals, *, measurement: bool
) -> Any:
    """Tag or measurement values: refused where line protocol cannot carry them, escaped."""
    special = ", \\\t\n\0#" if measurement else ",= \\\t\n"
    found = _contains(arr, special)
    if "\t" in found or "\n" in found:
        refusals.add(
            pc.match_substring_regex(arr, "[\t\n]"),
            lambda i: f"{what(i)} contains a newline or tab, which line protocol cannot carry",
        )
    if "\\" in found:
        refusals.add(
            pc.ends_with(arr, "\\"),
            lambda i: f"{what(i)} ends with a backslash, which InfluxDB refuses",
        )
    if measurement:
        if "\0" in found:
            refusals.add(
                pc.match_substring(arr, "\0"),
                lambda i: f"{what(i)} contains NUL, which ends a measurement",
            )
        if "#" in found:
            refusals.add(
                pc.starts_with(arr, "#"),
                lambda i: f"{what(i)} starts with '#': the line would be read as a comment",
            )
    _check_length(arr, what, refusals)
    if any(c in found for c in ",= \\"):  # else nothing to escape: the column as it is
        arr = _escape(arr, _MEASUREMENT_RULES if measurement else _KEY_RULES)
    return arr


def _check_length(arr: Any, what: Callable[[int], str], refusals: _Refusals) -> None:
    start, end = _data_range(arr)
    if end - start > MAX_STRING_BYTES:
        refusals.add(
            pc.greater(pc.binary_length(arr), MAX_STRING_BYTES),
            lambda i: f"{what(i)} is longer than InfluxDB's 1 MiB limit",
        )


def _measurement_values(arr: Any, refusals: _Refusals) -> Any:
    arr = _strings(arr)
    refusals.add(
        pc.or_kleene(arr.is_null(), pc.equal(pc.binary_length(arr), 0)),
        lambda i: "the measurement is null or empty",
    )

    def what(i: int) -> str:
        return f"measurement {arr[i].as_py()[:40]!r}"

    return _name_values(arr, what, refusals, measurement=True)


def _tag_values(tag: _Tag, arr: Any, refusals: _Refusals) -> Any:
    """The tag's escaped text, null where the tag is left out (null or empty); None if
    the tag is in no row."""
    if tag.kind == "null" or arr.null_count == len(arr):
        return None
    if tag.kind == "string":
        arr = _strings(arr)
    elif tag.kind == "int":
        arr = pc.cast(arr, pa.string())
    elif tag.kind == "bool":
        arr = pc.if_else(arr, "True", "False")
    else:
        arr = _float_tag_text(arr)
    if pc.min(pc.binary_length(arr)).as_py() == 0:  # "" is left out, as None is
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)

    def what(i: int) -> str:
        return f"tag {tag.name!r} value {arr[i].as_py()[:40]!r}"

    return _name_values(arr, what, refusals, measurement=False)


def _float_tag_text(arr: Any) -> Any:
    """Float tags as Python's ``str()`` writes them (the row encoder's ``_tag_text``): each
    distinct value formatted once (by bit pattern, so -0.0 and 0.0 stay apart)."""
    arr = pc.cast(arr, pa.float64())
    bits = arr.view(pa.int64())
    distinct = pc.unique(bits)
    values = distinct.view(pa.float64()).to_pylist()
    texts = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pc.take(texts, pc.index_in(bits, value_set=distinct))


def _field_values(f: _Field, arr: Any, refusals: _Refusals) -> Any:
    """The field's value text, null where the field is left out; None if in no row."""
    if f.kind == "null" or arr.null_count == len(arr):
        return None
    if f.kind in ("int", "uint"):
        return pc.cast(arr, pa.string())
    if f.kind == "bool":
        return pc.if_else(arr, "true", "false")
    if f.kind == "string":
        arr = _strings(arr)
        _check_length(arr, lambda i: f"field {f.name!r} value", refusals)
        found = _contains(arr, '"\\')
        if "\\" in found:
            arr = pc.replace_substring(arr, "\\", "\\\\")
        if '"' in found:
            arr = pc.replace_substring(arr, '"', '\\"')
        return arr
    if arr.type != pa.float64():
        arr = pc.cast(arr, pa.float64())
    bad = pc.invert(pc.is_finite(arr))
    if pc.any(bad).as_py():
        values = arr
        refusals.add(
            bad,
            lambda i: (
                f"field {f.name!r} is {values[i].as_py()!r}; line protocol has no NaN "
                "or infinity (make it null to leave the field out)"
            ),
        )
    return _float_text(arr)


def _float_text(arr: Any) -> Any:
    """float64 values as the row encoder writes them (orjson's shortest round-trip digits):
    orjson over the NumPy view gives ``[v0,v1,...]``, cut at the commas into a string array.
    Without NumPy, pyarrow's cast (also shortest round trip, spelled ``0.000025``)."""
    n = len(arr)
    if np is None or n == 0:
        return pc.cast(arr, pa.string())
    values = arr.to_numpy(zero_copy_only=False)  # nulls -> NaN -> "null" (refused or null)
    blob = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)
    raw = np.frombuffer(blob, np.uint8)
    keep = raw != 44  # ","
    keep[0] = keep[-1] = False  # "[" and "]"
    commas = np.flatnonzero(~keep[1:-1])  # value i > 0 starts after the (i-1)th comma
    offsets = np.empty(n + 1, np.int32)
    offsets[0] = 0
    offsets[1:n] = commas - np.arange(n - 1, dtype=np.int64)
    data = raw[keep]
    offsets[n] = len(data)
    text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    if arr.null_count:
        text = pc.if_else(arr.is_valid(), text, pa.scalar(None, pa.string()))
    return text


def _time_values(plan: _Plan, arr: Any, refusals: _Refusals) -> Any:
    """int64 times in the write precision (null where there is none).

    A time is refused unless it is within int64 once in nanoseconds: the server converts
    every time to ns and refuses the line otherwise (``timestamp ... out of range``).
    """
    kind = plan.time_kind
    if kind == "null":
        return pa.nulls(len(arr), pa.int64())
    target = plan.factor
    if kind == "timestamp":
        unit = FACTORS[arr.type.unit]
        ints = arr.cast(pa.int64())
    elif kind == "date":
        if pa.types.is_date32(arr.type):
            unit = 86_400 * FACTORS["s"]
            ints = pc.cast(arr.cast(pa.int32()), pa.int64())
        else:
            unit = FACTORS["ms"]
            ints = arr.cast(pa.int64())
    else:  # ints: already in the write precision
        unit = target
        if pa.types.is_uint64(arr.type):
            over = pc.greater(arr, pa.scalar(_I64_MAX, pa.uint64()))
            if pc.any(over).as_py():
                values = arr
                refusals.add(over, lambda i: f"time {values[i].as_py()} does not fit int64")
                arr = pc.if_else(over, pa.scalar(None, arr.type), arr)
        ints = pc.cast(arr, pa.int64(), safe=False)  # what does not fit was nulled above
    if unit > 1:
        low, high = -(-_I64_MIN // unit), _I64_MAX // unit
        out = pc.or_(pc.less(ints, low), pc.greater(ints, high))
        if pc.any(out).as_py():
            values, name = ints, _unit_name(unit)
            refusals.add(
                out,
                lambda i: (
                    f"time {values[i].as_py()} ({name}) is outside the int64 nanosecond range"
                ),
            )
            ints = pc.if_else(out, pa.scalar(None, pa.int64()), ints)
    if unit > target:  # coarser source: multiply (it fits: ints * unit does)
        ints = pc.multiply(ints, unit // target)
    elif unit < target:  # finer source: floor division (pyarrow's divide truncates)
        scale = target // unit
        quotient = pc.divide(ints, scale)
        negative = pc.less(ints, 0)
        if pc.any(negative).as_py():
            inexact = pc.and_(negative, pc.not_equal(pc.multiply(quotient, scale), ints))
            quotient = pc.if_else(inexact, pc.subtract(quotient, 1), quotient)
        ints = quotient
    return ints


def _unit_name(factor: int) -> str:
    names = {f: name for name, f in FACTORS.items()}
    return names.get(factor, "days")

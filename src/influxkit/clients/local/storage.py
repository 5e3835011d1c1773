"""In-memory tables of the local engine, and their Arrow form with InfluxDB 3's schema.

A table stores points as appended Arrow chunks: per point its series id (the tag set is
kept once per series, not per point), its time in ns, and its field values.  Line
protocol writes collect their points in Python lists that become one chunk when the
table is next read; an Arrow write (:mod:`~influxkit.clients.local.ingest_arrow`)
appends its columns as a chunk directly.  Reading merges the chunks written since the
last read into the table: a point written twice (same series, same time) becomes one,
field by field, the later non-null value winning, as InfluxDB 3 does; points keep the
order in which they were first written.  The Arrow table a query sees is built then and
cached until the next write; Arrow tables are immutable, so a query holds a consistent
snapshot.

Merging costs a hash of (series, time) over the table's rows (the stored rows are left
out when every new time is later than every stored one: appends in time order); only
when points do repeat does a ``group_by`` merge them.  Measured on 1,000,000 rows, 3
tags, 4 fields, written as one Arrow table (2 shared cores): the first snapshot ~0.11 s,
of which the check ~0.09 s; after 1,000 of those points are written again, ~0.36 s.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.lineprotocol.model import FieldType

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMN_METADATA_KEY",
    "FIELD_TYPE_NAMES",
    "TAG",
    "TIMESTAMP",
    "Database",
    "Table",
]

# The column roles as InfluxDB 3 names them (in errors and in Arrow field metadata).
TAG = "iox::column_type::tag"
TIMESTAMP = "iox::column_type::timestamp"
FIELD_TYPE_NAMES: dict[FieldType, str] = {
    FieldType.FLOAT: "iox::column_type::field::float",
    FieldType.INTEGER: "iox::column_type::field::integer",
    FieldType.UINTEGER: "iox::column_type::field::uinteger",
    FieldType.STRING: "iox::column_type::field::string",
    FieldType.BOOLEAN: "iox::column_type::field::boolean",
}
COLUMN_METADATA_KEY = "iox::column::type"

_ARROW_TYPES = {
    FIELD_TYPE_NAMES[FieldType.FLOAT]: "float64",
    FIELD_TYPE_NAMES[FieldType.INTEGER]: "int64",
    FIELD_TYPE_NAMES[FieldType.UINTEGER]: "uint64",
    FIELD_TYPE_NAMES[FieldType.STRING]: "string",
    FIELD_TYPE_NAMES[FieldType.BOOLEAN]: "bool_",
}
_I63 = 2**63 - 1


@functools.cache
def _arrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.compute, imported on first use (the engine needs them)."""
    return require("pyarrow", "local"), require("pyarrow.compute", "local")


SeriesKey = tuple[tuple[str, str], ...]


class _Chunk:
    """Points in write order: series ids and ns times (int64 arrays), field arrays by name."""

    __slots__ = ("fields", "ids", "max_time", "times")

    def __init__(self, ids: Any, times: Any, fields: dict[str, Any]) -> None:
        pc = _arrow()[1]
        self.ids = ids
        self.times = times
        self.fields = fields
        self.max_time: int | None = pc.max(times).as_py() if len(times) else None

    def __len__(self) -> int:
        return len(self.times)


class _Rows:
    """Line protocol points not yet in a chunk (a list per column, padded when read)."""

    __slots__ = ("fields", "ids", "times")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.times: list[int] = []
        self.fields: dict[str, list[Any]] = {}


class Table:
    """One measurement: its columns (name -> role), its points, and a cached Arrow form.

    Attributes:
        name: the measurement name.
        columns: column name -> role (``TAG``, a field type name or ``TIMESTAMP``),
            in the order the columns were created.
    """

    __slots__ = (
        "_arrow",
        "_base",
        "_chunks",
        "_raw_series",
        "_rows",
        "_series",
        "_series_tags",
        "_tag_cache",
        "columns",
        "name",
    )

    def __init__(self, name: str) -> None:
        self.name = name
        self.columns: dict[str, str] = {"time": TIMESTAMP}
        self._series: dict[SeriesKey, int] = {}  # canonical tag set -> series id
        self._raw_series: dict[SeriesKey, int] = {}  # a line's tags as parsed -> series id
        self._series_tags: dict[str, list[str | None]] = {}  # tag column -> value per series
        self._tag_cache: dict[str, tuple[int, Any]] = {}  # tag column -> (series, dictionary)
        self._rows = _Rows()
        self._chunks: list[_Chunk] = []  # written since the last merge, in order
        self._base: _Chunk | None = None  # merged: one point per (series, time)
        self._arrow: pa.Table | None = None

    @property
    def num_rows(self) -> int:
        """How many distinct points (series and time) the table holds."""
        base = self._merge()
        return 0 if base is None else len(base)

    @property
    def num_columns(self) -> int:
        """Tag and field columns (``time`` is not counted, as the server's limit does not)."""
        return len(self.columns) - 1

    def add_column(self, name: str, role: str) -> None:
        """Create a column (the caller has checked the schema rules)."""
        self.columns[name] = role
        if role == TAG:
            self._series_tags[name] = [None] * len(self._series)
        self._arrow = None

    # -- writing -------------------------------------------------------------------------

    def upsert(
        self,
        tags: tuple[tuple[str, str], ...],
        time: int,
        fields: Iterable[tuple[str, Any, Any]],
    ) -> None:
        """Write one point (fields as ``(name, type, value)``); merged into an earlier one.

        A point is its series (the tag set, in any order) and time; writing it again
        overwrites the fields it names and keeps the others (when the table is next
        read).  Of a tag key given twice in one line, the last value is kept.
        """
        sid = self._raw_series.get(tags)
        if sid is None:
            sid = self._series_id(tuple(sorted(dict(tags).items())))
            self._raw_series[tags] = sid
        rows = self._rows
        row = len(rows.times)
        rows.ids.append(sid)
        rows.times.append(time)
        data = rows.fields
        for name, _, value in fields:
            column = data.get(name)
            if column is None:
                column = data[name] = []
            if len(column) == row:  # the common case, inlined
                column.append(value)
            else:
                column.extend([None] * (row - len(column)))
                column.append(value)
        self._arrow = None

    def append(self, tags: Sequence[tuple[str, Any]], times: Any, fields: dict[str, Any]) -> None:
        """Write points given as Arrow columns (one row per point, in write order).

        ``tags`` are ``(column, string array)`` (null: the point has no such tag),
        ``times`` an int64 array of ns, ``fields`` column -> array of the column's type
        (null: the point does not set the field).  Every column exists already.
        """
        self._flush_rows()
        ids = self._series_ids(tags, len(times))
        self._chunks.append(_Chunk(ids, times, fields))
        self._arrow = None

    def _series_id(self, key: SeriesKey) -> int:
        sid = self._series.get(key)
        if sid is None:
            sid = self._series[key] = len(self._series)
            values = dict(key)
            for name, per_series in self._series_tags.items():
                per_series.append(values.get(name))
        return sid

    def _series_ids(self, tags: Sequence[tuple[str, Any]], n: int) -> Any:
        """The series id of each row of the tag columns (new series get ids in row order)."""
        pa, pc = _arrow()
        if not tags:
            return pa.array([self._series_id(())] * n if n else [], pa.int64())
        # Each row's tag values as one int: per column 0 for null, 1.. for its values.
        code = None
        radixes: list[int] | None = []
        dictionaries = []
        for _, values in tags:
            encoded = pc.dictionary_encode(values)
            if isinstance(encoded, pa.ChunkedArray):
                encoded = encoded.combine_chunks()
            dictionaries.append(encoded.dictionary.to_pylist())
            digit = pc.add(pc.fill_null(encoded.indices.cast(pa.int64()), -1), 1)
            radix = len(dictionaries[-1]) + 1
            if code is None:
                code = digit
            else:
                if pc.max(code).as_py() >= 2**31:  # renumber (the values cannot be read back)
                    code = pc.dictionary_encode(code).indices.cast(pa.int64())
                    radixes = None
                code = pc.add(pc.multiply(code, radix), digit)
            if radixes is not None:
                radixes.append(radix)
        encoded = pc.dictionary_encode(code)  # row -> combination, in order of first row
        groups = encoded.indices
        names = [name for name, _ in tags]
        if radixes is not None:  # read each combination's values back from its code
            combos = []
            for packed in encoded.dictionary.to_pylist():
                digits = []
                rest = packed
                for radix in reversed(radixes):
                    rest, digit = divmod(rest, radix)
                    digits.append(digit)
                digits.reverse()
                combos.append(
                    [d[k - 1] if k else None for d, k in zip(dictionaries, digits, strict=True)]
                )
        else:
            first = _first_rows(groups)
            combos = list(zip(*[pc.take(v, first).to_pylist() for _, v in tags], strict=True))
        lut = [
            self._series_id(tuple(sorted((k, v) for k, v in zip(names, combo, strict=True) if v)))
            for combo in combos
        ]
        return pc.take(pa.array(lut, pa.int64()), groups)

    def _flush_rows(self) -> None:
        """The collected line protocol points as one chunk."""
        rows = self._rows
        if not rows.times:
            return
        pa = _arrow()[0]
        n = len(rows.times)
        fields = {}
        for name, values in rows.fields.items():
            if len(values) < n:
                values.extend([None] * (n - len(values)))
            fields[name] = pa.array(values, _arrow_type(pa, self.columns[name]))
        chunk = _Chunk(pa.array(rows.ids, pa.int64()), pa.array(rows.times, pa.int64()), fields)
        self._chunks.append(chunk)
        self._rows = _Rows()

    # -- reading -------------------------------------------------------------------------

    def _merge(self) -> _Chunk | None:
        """The points as one chunk, each (series, time) once; merges what was written since."""
        self._flush_rows()
        if not self._chunks:
            return self._base
        pa = _arrow()[0]
        base = self._base
        new = self._chunks
        parts = new if base is None else [base, *new]
        names = [n for n, r in self.columns.items() if r not in (TAG, TIMESTAMP)]
        ids = _concat(pa, [p.ids for p in parts])
        times = _concat(pa, [p.times for p in parts])
        fields = {}
        for name in names:
            arrow_type = _arrow_type(pa, self.columns[name])
            pieces = [p.fields.get(name) for p in parts]
            fields[name] = _concat(
                pa,
                [
                    pa.nulls(len(p), arrow_type) if a is None else a
                    for a, p in zip(pieces, parts, strict=True)
                ],
            )
        # Appends in time order cannot repeat a stored point: only the new rows are hashed.
        new_min = min(_min_time(c) for c in new)
        if base is not None and base.max_time is not None and new_min > base.max_time:
            offset = len(base)
            repeats = _has_repeats(ids.slice(offset), times.slice(offset))
        else:
            repeats = _has_repeats(ids, times)
        if repeats:
            ids, times, fields = _merge_repeats(pa, ids, times, fields)
        self._base = _Chunk(ids, times, fields)
        self._chunks = []
        return self._base

    def to_arrow(self) -> pa.Table:
        """The table as Arrow: columns sorted by name, tags as dictionaries, ``time`` not null."""
        if self._arrow is None:
            self._arrow = self._build_arrow()
        return self._arrow

    def _build_arrow(self) -> pa.Table:
        pa, pc = _arrow()
        base = self._merge()
        n = 0 if base is None else len(base)
        fields = []
        arrays = []
        for name in sorted(self.columns):
            role = self.columns[name]
            meta = {COLUMN_METADATA_KEY: role}
            if role == TIMESTAMP:
                fields.append(pa.field(name, pa.timestamp("ns"), nullable=False, metadata=meta))
                times = base.times if base is not None else pa.array([], pa.int64())
                arrays.append(times.view(pa.timestamp("ns")))
                continue
            if role == TAG:
                per_series = self._tag_dictionary(name)
                dict_type = pa.dictionary(pa.int32(), pa.string())
                fields.append(pa.field(name, dict_type, metadata=meta))
                indices = (
                    pc.take(per_series.indices, base.ids)
                    if base is not None
                    else pa.array([], pa.int32())
                )
                arrays.append(pa.DictionaryArray.from_arrays(indices, per_series.dictionary))
                continue
            arrow_type = _arrow_type(pa, role)
            fields.append(pa.field(name, arrow_type, metadata=meta))
            values = None if base is None else base.fields.get(name)
            arrays.append(pa.nulls(n, arrow_type) if values is None else values)
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def _tag_dictionary(self, name: str) -> Any:
        """The tag's value per series, dictionary-encoded (values in series order).

        Series ids are given in the order series first appear, so this dictionary is the
        one ``dictionary_encode`` of the column, row by row, would make.
        """
        count = len(self._series)
        cached = self._tag_cache.get(name)
        if cached is not None and cached[0] == count:
            return cached[1]
        pa = _arrow()[0]
        encoded = pa.array(self._series_tags[name], pa.string()).dictionary_encode()
        self._tag_cache[name] = (count, encoded)
        return encoded


def _arrow_type(pa: Any, role: str) -> Any:
    return getattr(pa, _ARROW_TYPES[role])()


def _concat(pa: Any, arrays: list[Any]) -> Any:
    """One Array (chunked arrays combined: a snapshot's columns are single chunks)."""
    plain = [a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in arrays]
    return plain[0] if len(plain) == 1 else pa.concat_arrays(plain)


def _min_time(chunk: _Chunk) -> int:
    pc = _arrow()[1]
    low = pc.min(chunk.times).as_py()
    return -(2**63) if low is None else low


def _first_rows(groups: Any) -> Any:
    """The first row of each group (groups numbered 0.. in order of first appearance)."""
    pa = _arrow()[0]
    rows = pa.table({"g": groups, "i": pa.array(range(len(groups)), pa.int64())})
    first = rows.group_by("g", use_threads=False).aggregate([("i", "min")])
    return first.sort_by("g").column("i_min")


def _has_repeats(ids: Any, times: Any) -> bool:
    """Whether a (series, time) pair occurs twice."""
    pa, pc = _arrow()
    n = len(times)
    if n < 2:
        return False
    low, high = pc.min_max(times).values()
    span = high.as_py() - low.as_py() + 1
    series = pc.max(ids).as_py() + 1
    if series * span <= _I63:  # one int64 key: series * span + (time - low)
        key = pc.add(pc.multiply(ids, span), pc.subtract(times, low))
        return pc.count_distinct(key).as_py() != n
    keys = pa.table({"s": ids, "t": times})
    return keys.group_by(["s", "t"]).aggregate([]).num_rows != n


def _merge_repeats(
    pa: Any, ids: Any, times: Any, fields: dict[str, Any]
) -> tuple[Any, Any, dict[str, Any]]:
    """One row per (series, time) in order of first appearance; each field its last value.

    ``group_by`` without threads keeps groups in order of first appearance and takes
    ``last`` in row order; ``last`` skips nulls, so a later point keeps the fields it
    does not set.
    """
    names = list(fields)
    columns = {"s": ids, "t": times, **{f"f{i}": fields[n] for i, n in enumerate(names)}}
    merged = (
        pa.table(columns)
        .group_by(["s", "t"], use_threads=False)
        .aggregate([(f"f{i}", "last") for i in range(len(names))])
    )
    out = {n: merged.column(f"f{i}_last").combine_chunks() for i, n in enumerate(names)}
    return merged.column("s").combine_chunks(), merged.column("t").combine_chunks(), out


class Database:
    """A database: its tables by name, and the options it was created with."""

    __slots__ = ("name", "retention_period", "tables")

    def __init__(self, name: str, retention_period: str | None = None) -> None:
        self.name = name
        self.retention_period = retention_period
        self.tables: dict[str, Table] = {}

    def snapshot(self) -> dict[str, pa.Table]:
        """Every table as Arrow, as of now (call under the engine's lock)."""
        return {name: table.to_arrow() for name, table in self.tables.items()}

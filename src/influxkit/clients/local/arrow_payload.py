"""A table write as the columns line protocol would carry, for the local engine to ingest.

:func:`prepare_table` reads a pyarrow / pandas / polars table with the columnar encoder's
own plan (:mod:`influxkit.lineprotocol.encode_columnar`: the same column roles, types,
argument checks and per-row refusals, with the same messages), but converts each column
to the value the engine would have parsed back from the encoded line instead of to text:

* tags: string columns as they are, ints as their digits, floats and bools as Python's
  ``str()`` writes them; null or ``""`` means the row has no such tag (line protocol
  leaves it out of the line);
* fields: signed ints as int64, unsigned as uint64, floats (and decimals) as float64,
  bools, strings; null means the row does not set the field;
* time: int64 in the write precision (rounded down, as the encoder writes it), null for
  a row without a time (the engine stamps it).

A row the encoder would refuse (every field null, NaN or infinity, a tag value with a
newline...) makes :func:`prepare_table` raise the encoder's
:class:`~influxkit.errors.InvalidRecord`, before anything reaches the engine.
:meth:`TableWrite.lines` encodes chosen rows as line protocol after all, for what only
text can say: the ``original_line`` of a rejected row and a receipt's ``line``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from influxkit.errors import LineError
from influxkit.lineprotocol import encode_columnar as ec
from influxkit.lineprotocol.model import FieldType
from influxkit.lineprotocol.precision import FACTORS, normalize_precision
from influxkit.lineprotocol.schema import Schema, coerce_table

__all__ = ["TableWrite", "prepare_table"]

_FIELD_TYPES = {
    "int": FieldType.INTEGER,
    "uint": FieldType.UINTEGER,
    "float": FieldType.FLOAT,
    "bool": FieldType.BOOLEAN,
    "string": FieldType.STRING,
}


@dataclass(frozen=True, slots=True)
class TableWrite:
    """A table's rows, converted for the local engine (see the module docstring).

    Attributes:
        rows: how many rows (line ``k`` of the equivalent body is row ``k - 1``).
        measurement: the measurement of every row, or ``None`` with ``measurements``.
        measurements: each row's measurement (a string array), from ``measurement_column``.
        tags: ``(column, string array)``, sorted by column name, columns in no row left out.
        fields: ``(column, type, array)`` in the table's field order (all-null ones too).
        times: int64 times in the write precision (null: none), or ``None`` for no time.
        nbytes: the size of those arrays: what the write hands the engine (its ``bytes``).
    """

    rows: int
    measurement: str | None
    measurements: Any
    tags: tuple[tuple[str, Any], ...]
    fields: tuple[tuple[str, FieldType, Any], ...]
    times: Any
    nbytes: int
    source: Any  # the Arrow table as the plan read it (schema coerced), for lines()
    index_time: Any  # a pandas DatetimeIndex used as the time, as an Arrow array
    options: dict[str, Any]  # encode_table's options for lines()

    def lines(self, rows: Sequence[int]) -> list[str]:
        """The line protocol of ``rows`` (0-based), as ``encode_table`` writes them."""
        from influxkit.lineprotocol.encode_columnar import encode_table
        from influxkit.lineprotocol.parse import numbered_lines

        if not rows:
            return []
        pa = ec.pa
        picked = pa.array(rows, pa.int64())
        table = self.source.take(picked)
        options = dict(self.options)
        if self.index_time is not None:
            name = "time"
            while name in table.column_names:
                name = "_" + name
            table = table.append_column(name, self.index_time.take(picked))
            options["timestamp_column"] = name
        data = encode_table(table, **options).data
        return numbered_lines(data.decode("utf-8"))

    def rejections(self, errors: Sequence[LineError]) -> tuple[Any, ...]:
        """A receipt's :class:`~influxkit.clients.base.Rejected` per error: row and full line."""
        from influxkit.clients.base import Rejected

        rows = sorted({e.line_number - 1 for e in errors if 0 < e.line_number <= self.rows})
        lines = self.lines(rows)
        # Rows that cannot be matched line for line are not guessed at.
        text = dict(zip(rows, lines, strict=True)) if len(lines) == len(rows) else {}
        out = []
        for e in errors:
            row = e.line_number - 1
            known = row in text
            out.append(
                Rejected(
                    record=row if known else None,
                    line_number=e.line_number,
                    line=text[row] if known else e.original_line,
                    message=e.message,
                )
            )
        return tuple(out)


def prepare_table(
    data: Any,
    *,
    measurement: str | None = None,
    measurement_column: str | None = None,
    tag_columns: Sequence[str] | str = (),
    timestamp_column: str | None = None,
    field_columns: Sequence[str] | str | None = None,
    precision: str = "ns",
    schema: Schema | None = None,
) -> TableWrite:
    """The rows of ``data`` for the engine; the arguments are :func:`encode_table`'s.

    Raises:
        ConfigError: a wrong argument (unknown column, no measurement, precision ...).
        InvalidRecord: a column line protocol cannot carry, or rows it cannot (each named).
    """
    ec._load(data)
    p = normalize_precision(precision)
    table, index_time = ec._to_arrow(data, timestamp_column)
    if schema and measurement is not None:
        table = coerce_table(table, measurement, schema)
    time_column = None if index_time is not None else timestamp_column
    plan = ec._Plan(
        table,
        measurement=measurement,
        measurement_column=measurement_column,
        tag_columns=tag_columns,
        timestamp_column=time_column,
        field_columns=field_columns,
        factor=FACTORS.get(p, 1),
        precision=p,
        index_time=index_time is not None,
    )
    n = table.num_rows
    columns: dict[Any, Any] = {name: ec._column(table, name, 0, n) for name in plan.used}
    if index_time is not None:
        columns[ec._INDEX] = index_time
    refusals = ec._Refusals()
    # The masks are added in the encoder's order, so a row's first reason is the same.
    measurements = None
    if plan.measurement_column is not None:
        measurements = ec._strings(columns[plan.measurement_column])
        ec._measurement_values(measurements, refusals)
    tags = []
    for tag in plan.tags:
        values = _tag_values(tag, columns[tag.name], refusals)
        if values is not None:
            tags.append((tag.name, values))
    fields = [(f.name, *_field_values(f, columns[f.name], refusals)) for f in plan.fields]
    _refuse_rows_without_fields([a for _, _, a in fields], n, refusals)
    times = None
    if plan.time_kind is not None:
        raw = columns[plan.time_column if plan.time_column is not None else ec._INDEX]
        times = ec._time_values(plan, raw, refusals)
    _, refused = refusals.keep(0)
    if refused:
        ec.EncodedTable(b"", n - len(refused), refused).raise_if_refused()
    arrays = [a for _, a in tags] + [a for _, _, a in fields]
    arrays += [a for a in (measurements, times) if a is not None]
    options = {
        "measurement": measurement,
        "measurement_column": measurement_column,
        "tag_columns": [t.name for t in plan.tags],
        "timestamp_column": time_column,
        "field_columns": [f.name for f in plan.fields],
        "precision": p,
    }
    return TableWrite(
        rows=n,
        measurement=measurement,
        measurements=measurements,
        tags=tuple(tags),
        fields=tuple(fields),
        times=times,
        nbytes=sum(a.nbytes for a in arrays),
        source=table,
        index_time=index_time,
        options=options,
    )


def _tag_values(tag: Any, arr: Any, refusals: Any) -> Any:
    """The tag's text (null where the row has no such tag), or None if no row has it.

    The encoder's ``_tag_values`` without the escaping; its refusals are the encoder's.
    """
    pa, pc = ec.pa, ec.pc
    if tag.kind == "null" or arr.null_count == len(arr):
        return None
    if tag.kind == "string":
        arr = ec._strings(arr)
    elif tag.kind == "int":
        arr = pc.cast(arr, pa.string())
    elif tag.kind == "bool":
        arr = pc.if_else(arr, "True", "False")
    else:
        arr = ec._float_tag_text(arr)
    if pc.min(pc.binary_length(arr)).as_py() == 0:  # "" is left out, as None is
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    if arr.null_count == len(arr):
        return None
    text = arr

    def what(i: int) -> str:
        return f"tag {tag.name!r} value {text[i].as_py()[:40]!r}"

    ec._name_values(arr, what, refusals, measurement=False)  # refusals only; text unused
    return arr


def _field_values(f: Any, arr: Any, refusals: Any) -> tuple[FieldType, Any]:
    """The field's type and values (null where the row does not set it)."""
    pa, pc = ec.pa, ec.pc
    if f.kind == "null":
        return FieldType.FLOAT, pa.nulls(len(arr), pa.float64())  # in no row: no column
    ftype = _FIELD_TYPES[f.kind]
    if f.kind == "int":
        return ftype, pc.cast(arr, pa.int64())
    if f.kind == "uint":
        return ftype, pc.cast(arr, pa.uint64())
    if f.kind == "bool":
        return ftype, arr
    if f.kind == "string":
        arr = ec._strings(arr)
        if arr.null_count != len(arr):
            ec._check_length(arr, lambda i: f"field {f.name!r} value", refusals)
        return ftype, arr
    if arr.type != pa.float64():
        arr = pc.cast(arr, pa.float64())
    bad = pc.invert(pc.is_finite(arr))
    if arr.null_count != len(arr) and pc.any(bad).as_py():
        values = arr
        refusals.add(
            bad,
            lambda i: (
                f"field {f.name!r} is {values[i].as_py()!r}; line protocol has no NaN "
                "or infinity (make it null to leave the field out)"
            ),
        )
    return ftype, arr


def _refuse_rows_without_fields(arrays: list[Any], n: int, refusals: Any) -> None:
    pa, pc = ec.pa, ec.pc
    present = [a for a in arrays if a.null_count != len(a)]
    if present and not all(a.null_count for a in present):
        return  # some field is set in every row
    no_field = None
    for a in present:
        null = a.is_null()
        no_field = null if no_field is None else pc.and_(no_field, null)
    if no_field is None:  # no field has a value in any row
        no_field = pa.nulls(n, pa.int8()).is_null()
    refusals.add(no_field, lambda i: "every field is null; a line needs at least one field")

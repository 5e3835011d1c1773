"""Table transformations that reshape streams: filter, range, group, keep, drop, rename,
limit, sort, pivot.

Each follows its Flux documentation and the behaviour of Flux's implementation:

* ``filter`` keeps rows whose predicate is ``true``; tables left empty are dropped
  unless ``onEmpty: "keep"``.
* ``group`` regroups rows by the named columns (``mode: "except"``: all but those);
  the key columns keep the input's column order, merged tables get the union of the
  columns, and the output tables come sorted by group key.
* ``keep`` / ``drop`` / ``rename`` change the columns and, with them, the group key;
  columns a table does not have are ignored.
* ``sort`` is stable; ``desc: false`` puts nulls last, ``desc: true`` first (documented).
* ``pivot`` removes ``columnKey`` and ``valueColumn`` from the group key, makes one row
  per ``rowKey`` value (sorted) and one column per ``columnKey`` value (sorted by
  label); rows without a value for a column hold null.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from influxkit.clients.local.flux.errors import query_error
from influxkit.clients.local.flux.table import TIME, Column, Table, flux_type_name, key_order
from influxkit.clients.local.flux.times import format_rfc3339nano

__all__ = [
    "drop_columns",
    "filter_tables",
    "group_tables",
    "keep_columns",
    "limit_tables",
    "pivot_tables",
    "range_tables",
    "rename_columns",
    "sort_tables",
]

RowTest = Callable[[Table], Callable[[list[Any]], bool]]


def filter_tables(tables: list[Table], test: RowTest, *, keep_empty: bool) -> list[Table]:
    """The rows ``test(table)(row)`` keeps; empty tables dropped unless ``keep_empty``."""
    out = []
    for table in tables:
        keeps = test(table)
        rows = [row for row in table.rows if keeps(row)]
        if rows or keep_empty:
            out.append(table.with_rows(rows))
    return out


def range_tables(tables: list[Table], start: int, stop: int) -> list[Table]:
    """``range()`` after other transformations: rows with ``start <= _time < stop``, new bounds."""
    out = []
    for table in tables:
        t = table.index("_time")
        if t < 0:
            raise query_error('range: missing time column "_time"')
        columns = list(table.columns)
        key = dict(table.key)
        for label in ("_start", "_stop"):
            if table.index(label) < 0:
                columns.append(Column(label, TIME))
        key.update({"_start": start, "_stop": stop})
        positions = [
            next(i for i, c in enumerate(columns) if c.label == x) for x in ("_start", "_stop")
        ]
        rows = []
        for row in table.rows:
            if row[t] is None or not start <= row[t] < stop:
                continue
            new = row + [None] * (len(columns) - len(row))
            new[positions[0]], new[positions[1]] = start, stop
            rows.append(new)
        if rows:
            out.append(Table(tuple(columns), key, rows))
    return out


def group_tables(tables: list[Table], columns: list[str], mode: str) -> list[Table]:
    """``group(columns:, mode:)``."""
    wanted = set(columns)
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for table in tables:
        if mode == "by":
            on = [c.label for c in table.columns if c.label in wanted]
        else:
            on = [c.label for c in table.columns if c.label not in wanted]
        positions = [table.index(label) for label in on]
        labels = [c.label for c in table.columns]
        for row in table.rows:
            key_values = tuple(row[i] for i in positions)
            group = groups.get((tuple(on), key_values))
            if group is None:
                group = {"key": dict(zip(on, key_values, strict=True)), "types": {}, "rows": []}
                groups[tuple(on), key_values] = group
            types: dict[str, str] = group["types"]
            for column in table.columns:
                known = types.setdefault(column.label, column.type)
                if known != column.type:
                    raise query_error(
                        f'schema collision detected: column "{column.label}" is both of type '
                        f"{flux_type_name(known)} and {flux_type_name(column.type)}"
                    )
            group["rows"].append(dict(zip(labels, row, strict=True)))
    out = []
    for group in groups.values():
        cols = tuple(Column(label, t) for label, t in group["types"].items())
        rows = [[r.get(c.label) for c in cols] for r in group["rows"]]
        out.append(Table(cols, group["key"], rows))
    out.sort(key=key_order)
    return out


def _project(table: Table, labels: list[str]) -> Table:
    positions = [table.index(label) for label in labels]
    columns = tuple(table.columns[i] for i in positions)
    key = {label: value for label, value in table.key.items() if label in labels}
    return Table(columns, key, [[row[i] for i in positions] for row in table.rows])


def keep_columns(tables: list[Table], keep: Callable[[str], bool]) -> list[Table]:
    """``keep()``: only the columns ``keep(label)`` is true for."""
    return [_project(t, [c.label for c in t.columns if keep(c.label)]) for t in tables]


def drop_columns(tables: list[Table], drop: Callable[[str], bool]) -> list[Table]:
    """``drop()``: every column but those ``drop(label)`` is true for."""
    return [_project(t, [c.label for c in t.columns if not drop(c.label)]) for t in tables]


def rename_columns(tables: list[Table], new_name: Callable[[str], str]) -> list[Table]:
    """``rename()``: each column (and key column) as ``new_name(label)`` calls it."""
    out = []
    for table in tables:
        columns = tuple(Column(new_name(c.label), c.type) for c in table.columns)
        key = {new_name(label): value for label, value in table.key.items()}
        out.append(Table(columns, key, [list(row) for row in table.rows]))
    return out


def limit_tables(tables: list[Table], n: int, offset: int) -> list[Table]:
    """``limit(n:, offset:)``: at most ``n`` rows of each table, after skipping ``offset``."""
    return [t.with_rows(t.rows[offset : offset + n]) for t in tables]


def sort_tables(tables: list[Table], columns: list[str], desc: bool) -> list[Table]:
    """``sort(columns:, desc:)``: stable; key columns (constant in a table) are skipped."""
    out = []
    for table in tables:
        positions = [table.index(c) for c in columns if table.index(c) >= 0 and c not in table.key]

        def order(row: list[Any], positions: list[int] = positions) -> tuple[Any, ...]:
            return tuple((row[i] is None, 0 if row[i] is None else row[i]) for i in positions)

        rows = sorted(table.rows, key=order, reverse=desc) if positions else list(table.rows)
        out.append(table.with_rows(rows))
    return out


def _pivot_label(value: Any, column_type: str) -> str:
    """A column key value as the new column's label (Flux's ``valueToStr``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if column_type == TIME:
        return format_rfc3339nano(value)
    if isinstance(value, float):
        return _go_float_e(value)
    return str(value)


def _go_float_e(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'E', -1, 64)``: the shortest digits, as ``1.5E+00``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    assert isinstance(exponent, int)
    if not text:
        return ("-" if sign else "") + "0E+00"
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    scientific = exponent + len(stripped) - 1
    mantissa = stripped[0] + ("." + stripped[1:] if len(stripped) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}E{'+' if scientific >= 0 else '-'}{abs(scientific):02d}"


def pivot_tables(
    tables: list[Table], row_key: list[str], column_key: list[str], value_column: str
) -> list[Table]:
    """``pivot(rowKey:, columnKey:, valueColumn:)``."""
    if set(row_key) & set(column_key):
        shared = next(c for c in row_key if c in column_key)
        raise query_error(f"column name found in both rowKey and colKey: {shared}")
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for table in tables:
        for label in (*row_key, *column_key, value_column):
            if table.index(label) < 0:
                raise query_error(f"specified column does not exist in table: {label}")
        removed = {*column_key, value_column}
        key = {k: v for k, v in table.key.items() if k not in removed}
        kept = [
            c for c in table.columns
            if c.label not in removed and (c.label in key or c.label in row_key)
        ]  # fmt: skip
        group_id = tuple(key.items())
        group = groups.get(group_id)
        if group is None:
            group = {"key": key, "kept": kept, "values": {}, "rows": {}}
            groups[group_id] = group
        value_type = table.columns[table.index(value_column)].type
        row_pos = [table.index(label) for label in row_key]
        col_pos = [
            (table.index(label), table.columns[table.index(label)].type) for label in column_key
        ]
        kept_pos = [table.index(c.label) for c in group["kept"]]
        value_pos = table.index(value_column)
        for row in table.rows:
            label = "_".join(_pivot_label(row[i], t) for i, t in col_pos)
            group["values"].setdefault(label, value_type)
            rk = tuple(row[i] for i in row_pos)
            entry = group["rows"].get(rk)
            if entry is None:
                entry = {"kept": [row[i] if i >= 0 else None for i in kept_pos], "values": {}}
                group["rows"][rk] = entry
            entry["values"][label] = row[value_pos]
    out = []
    for group in groups.values():
        labels = sorted(group["values"])
        columns = (*group["kept"], *(Column(label, group["values"][label]) for label in labels))
        ordered = sorted(
            group["rows"].items(),
            key=lambda item: tuple((v is None, 0 if v is None else v) for v in item[0]),
        )
        rows = [
            entry["kept"] + [entry["values"].get(label) for label in labels] for _, entry in ordered
        ]
        out.append(Table(tuple(columns), group["key"], rows))
    out.sort(key=key_order)
    return out

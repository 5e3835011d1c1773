"""``SHOW`` statements over the engine's tables, answered as InfluxDB 1.x answers them.

Series (tag combinations) come from the stored points: a WHERE clause on tags is
run as a DataFusion query (``SELECT DISTINCT`` of the tags, :mod:`.where` for the
predicate) so that it matches exactly what a SELECT with the same WHERE would.
Names are sorted byte-wise, as 1.x's index returns them; LIMIT / OFFSET apply per
measurement, SLIMIT / SOFFSET to the measurements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.compile import time_range
from influxkit.clients.local.influxql.parser import compile_regex
from influxkit.clients.local.influxql.result import Series
from influxkit.clients.local.influxql.schema import Schema, schema_of
from influxkit.clients.local.influxql.where import Params, quote, translate

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "databases",
    "field_keys",
    "measurements",
    "retention_policies",
    "series_keys",
    "tag_keys",
    "tag_values",
]


def _page(values: list[Any], limit: int, offset: int) -> list[Any]:
    if offset:
        values = values[offset:]
    if limit:
        values = values[:limit]
    return values


def _select_sources(tables: Mapping[str, pa.Table], sources: Sequence[Any]) -> list[Schema]:
    """The measurements named by a FROM list (all of them without one), sorted."""
    if not sources:
        names = sorted(tables)
    else:
        chosen: set[str] = set()
        for source in sources:
            if source.regex is not None:
                pattern = compile_regex(source.regex)
                chosen.update(n for n in tables if pattern.search(n))
            elif source.name in tables:
                chosen.add(source.name)
        names = sorted(chosen)
    return [schema_of(n, tables[n]) for n in names]


def _series(schema: Schema, condition: ast.Expr | None, now: int) -> list[tuple[str | None, ...]]:
    """The distinct tag combinations (in ``schema.tags`` order) of points matching ``condition``."""
    from influxkit.clients.local.sql import Session

    rest, lower, upper = time_range(condition, now, None)
    params = Params()
    predicate = translate(rest, schema, params)
    if predicate == "FALSE":
        return []
    where = [f"({predicate})"]
    if lower is not None:
        where.append(f'CAST("time" AS BIGINT) >= {params.add(lower)}')
    if upper is not None:
        where.append(f'CAST("time" AS BIGINT) <= {params.add(upper)}')
    if not schema.tags:
        sql = f"SELECT COUNT(*) FROM {quote(schema.name)} WHERE {' AND '.join(where)}"
        table = Session({schema.name: schema.table}).run(sql, params.values)
        return [()] if table.column(0)[0].as_py() else []
    columns = ", ".join(f"CAST({quote(t)} AS VARCHAR)" for t in schema.tags)
    sql = f"SELECT DISTINCT {columns} FROM {quote(schema.name)} WHERE {' AND '.join(where)}"
    table = Session({schema.name: schema.table}).run(sql, params.values)
    columns_data = [c.to_pylist() for c in table.columns]
    return list(zip(*columns_data, strict=True)) if columns_data else []


def databases(names: Iterable[str]) -> list[Series]:
    """``SHOW DATABASES``: one series ``databases`` with column ``name``."""
    values = [[n] for n in names]
    return [Series("databases", None, ["name"], values)] if values else []


def retention_policies() -> list[Series]:
    """``SHOW RETENTION POLICIES``: the one policy every local database has, ``autogen``."""
    columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
    return [Series(None, None, columns, [["autogen", "0s", "168h0m0s", 1, True]])]


def measurements(
    stmt: ast.ShowMeasurements, tables: Mapping[str, pa.Table], now: int
) -> list[Series]:
    """``SHOW MEASUREMENTS``: names, filtered by ``WITH MEASUREMENT`` and a tag WHERE."""
    names = sorted(tables)
    source = stmt.source
    if source is not None:
        if source.regex is not None:
            pattern = compile_regex(source.regex)
            names = [n for n in names if pattern.search(n)]
        else:
            names = [n for n in names if n == source.name]
    if stmt.condition is not None:
        names = [n for n in names if _series(schema_of(n, tables[n]), stmt.condition, now)]
    values = [[n] for n in _page(names, stmt.limit, stmt.offset)]
    return [Series("measurements", None, ["name"], values)] if values else []


def tag_keys(stmt: ast.ShowTagKeys, tables: Mapping[str, pa.Table], now: int) -> list[Series]:
    """``SHOW TAG KEYS``: per measurement, the tag keys its (matching) series have."""
    out = []
    for schema in _select_sources(tables, stmt.sources):
        keys = list(schema.tags)
        if stmt.condition is not None:
            found = _series(schema, stmt.condition, now)
            keys = [k for i, k in enumerate(schema.tags) if any(s[i] is not None for s in found)]
        keys = _page(keys, stmt.limit, stmt.offset)
        if keys:
            out.append(Series(schema.name, None, ["tagKey"], [[k] for k in keys]))
    return _page(out, stmt.slimit, stmt.soffset)


def _keys_wanted(stmt: ast.ShowTagValues, tags: Sequence[str]) -> list[str]:
    if stmt.op == "IN":
        return [t for t in tags if t in stmt.keys]
    if stmt.op == "=":
        return [t for t in tags if t == stmt.keys[0]]
    if stmt.op == "!=":
        return [t for t in tags if t != stmt.keys[0]]
    pattern = compile_regex(stmt.regex or "")
    matched = [t for t in tags if pattern.search(t)]
    return matched if stmt.op == "=~" else [t for t in tags if t not in matched]


def tag_values(stmt: ast.ShowTagValues, tables: Mapping[str, pa.Table], now: int) -> list[Series]:
    """``SHOW TAG VALUES WITH KEY ...``: per measurement, sorted ``(key, value)`` pairs."""
    out = []
    for schema in _select_sources(tables, stmt.sources):
        keys = _keys_wanted(stmt, schema.tags)
        if not keys:
            continue
        found = _series(schema, stmt.condition, now)
        pairs: set[tuple[str, str]] = set()
        for key in keys:
            index = schema.tags.index(key)
            pairs.update((key, s[index]) for s in found if s[index] is not None)
        values = [list(p) for p in _page(sorted(pairs), stmt.limit, stmt.offset)]
        if values:
            out.append(Series(schema.name, None, ["key", "value"], values))
    return out


def field_keys(stmt: ast.ShowFieldKeys, tables: Mapping[str, pa.Table]) -> list[Series]:
    """``SHOW FIELD KEYS``: per measurement, ``fieldKey`` and ``fieldType``, sorted."""
    out = []
    for schema in _select_sources(tables, stmt.sources):
        rows = [[name, kind] for name, kind in sorted(schema.fields.items())]
        rows = _page(rows, stmt.limit, stmt.offset)
        if rows:
            out.append(Series(schema.name, None, ["fieldKey", "fieldType"], rows))
    return out


_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_TAG_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})


def series_keys(stmt: ast.ShowSeries, tables: Mapping[str, pa.Table], now: int) -> list[Series]:
    """``SHOW SERIES``: every series key (``cpu,host=a``), sorted, in one unnamed series."""
    keys = []
    for schema in _select_sources(tables, stmt.sources):
        name = schema.name.translate(_MEASUREMENT_ESCAPES)
        for combo in _series(schema, stmt.condition, now):
            parts = [name]
            for tag, value in zip(schema.tags, combo, strict=True):
                if value is not None:
                    parts.append(f"{tag.translate(_TAG_ESCAPES)}={value.translate(_TAG_ESCAPES)}")
            keys.append(",".join(parts))
    values = [[k] for k in _page(sorted(keys), stmt.limit, stmt.offset)]
    return [Series(None, None, ["key"], values)] if values else []

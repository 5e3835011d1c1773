"""The local engine takes tables as Arrow columns, and answers as for their line protocol.

Each case writes one table into two local connections: as a table (the Arrow path) and as
the body ``encode_table`` makes of it (what a table write did before: line protocol
parsed again by the engine).  Everything must agree: the outcome or the error (type,
status, message, per-line errors, the receipt's rows and lines), and afterwards every
table (``SELECT *`` as Arrow, row order, dictionaries and field metadata included) and
``information_schema.columns``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
from functools import partial
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings

import influxkit
import influxkit.aio
from influxkit.config import ConnectionConfig
from influxkit.lineprotocol.encode_columnar import encode_table
from influxkit.prepared import prepare_write
from influxkit.receipts import rejections


def connect(profile: str = "v3_core") -> influxkit.Connection:
    return influxkit.connect(client="local", profile=profile, databases=["db"], database="db")


def attempt(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except influxkit.InfluxError as exc:
        return "error", exc


def lp_write(conn: Any, table: Any, options: dict[str, Any], **write: Any) -> tuple[str, Any]:
    """A table write as it was: encoded (refusals raise), then the body written."""
    precision = write.get("precision") or "ns"
    schema = options.get("schema")
    encode_options = {k: v for k, v in options.items() if k != "schema"}
    try:
        encoded = encode_table(
            table,
            **encode_options,
            precision="ns" if precision == "auto" else precision,
            schema=influxkit.Schema.from_value(schema) if schema else None,
        )
        encoded.raise_if_refused()
    except influxkit.InfluxError as exc:
        return "error", exc
    body = encoded.data
    kind, value = attempt(lambda: conn.write(body, **write))
    if kind == "error" and value.line_errors:  # the receipt of a table write: rows
        value.rejected = rejections(range(encoded.lines), body, value.line_errors)
    return kind, value


def summary(result: tuple[str, Any]) -> Any:
    kind, value = result
    if kind == "ok":
        return ("ok", value.lines)
    return (
        type(value).__name__,
        getattr(value, "status", None),
        value.message,
        getattr(value, "body", None),
        getattr(value, "line_errors", None),
        getattr(value, "rejected", None),
    )


def state(conn: Any, only: set[str] | None = None) -> dict[str, Any]:
    """The database's columns and tables, exactly (writes go to ``db``, which exists).

    Read from the connection's engine itself, whose SQL answers on every profile (a ``v1``
    or ``v2`` connection has no SQL).
    """
    engine = conn._client
    out: dict[str, Any] = {}
    for db in engine.list_databases():
        columns = engine.query_sql(
            "SELECT table_name, column_name, data_type, is_nullable "
            "FROM information_schema.columns WHERE table_schema = 'iox' "
            "ORDER BY table_name, column_name",
            database=db,
            params=None,
            format="rows",
        )
        tables = {}
        for name in sorted({c["table_name"] for c in columns}):
            if only is not None and name not in only:
                continue
            quoted = '"' + name.replace('"', '""') + '"'
            sql = f"SELECT * FROM {quoted}"
            tables[name] = engine.query_sql(sql, database=db, params=None, format="arrow")
        out[db] = (columns, tables)
    return out


def assert_same_state(a: Any, b: Any, only: set[str] | None = None) -> None:
    sa, sb = state(a, only), state(b, only)
    assert sa.keys() == sb.keys()
    for db in sa:
        assert sa[db][0] == sb[db][0]
        ta, tb = sa[db][1], sb[db][1]
        assert ta.keys() == tb.keys()
        for name in ta:
            assert ta[name].schema.equals(tb[name].schema, check_metadata=True), name
            assert ta[name].equals(tb[name]), (name, ta[name].to_pylist(), tb[name].to_pylist())


def both(
    table: Any,
    options: dict[str, Any],
    *,
    profile: str = "v3_core",
    before: tuple[str, ...] = (),
    only: set[str] | None = None,
    **write: Any,
) -> tuple[Any, Any]:
    """Write ``table`` both ways into fresh engines; assert every answer is the same."""
    with connect(profile) as arrow, connect(profile) as lp:
        for line in before:
            assert summary(attempt(partial(arrow.write, line))) == summary(
                attempt(partial(lp.write, line))
            )
        got = attempt(lambda: arrow.write(table, **options, **write))
        want = lp_write(lp, table, options, **write)
        assert summary(got) == summary(want)
        assert_same_state(arrow, lp, only)
    return got, want


# -- generated tables ----------------------------------------------------------------------

BASE = 1_700_000_000
COMMON = st.text(st.sampled_from(list("ab é日,= \"'")), max_size=3)
HOSTILE = st.text(st.sampled_from(list("a\\,= \n\t#\0😀")), max_size=3)
# The ends of int64, and the edges where precision="auto" guesses another unit.
EXTREME_TIMES = [-(2**63), 2**63 - 1, -(2**62), -1, 0, 1]
EXTREME_TIMES += [s * 5 * 10**k + d for k in (9, 12, 15) for s in (1, -1) for d in (-1, 0)]


@st.composite
def tag_column(draw: Any, n: int) -> pa.Array:
    kind = draw(st.sampled_from(["str", "str", "dict", "large", "int", "bool", "float"]))
    if kind in ("str", "dict", "large"):
        text = HOSTILE if draw(st.integers(0, 9)) == 0 else COMMON
        values = draw(st.lists(st.one_of(st.none(), text), min_size=n, max_size=n))
        arr = pa.array(values, pa.large_string() if kind == "large" else pa.string())
        return arr.dictionary_encode() if kind == "dict" else arr
    if kind == "int":
        return pa.array(
            draw(st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=n, max_size=n))
        )
    if kind == "bool":
        return pa.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)))
    floats = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 1.5, 1e20, float("nan")]))
    return pa.array(draw(st.lists(floats, min_size=n, max_size=n)), pa.float64())


@st.composite
def field_column(draw: Any, n: int) -> pa.Array:
    kind = draw(
        st.sampled_from(
            ["float", "float32", "int", "int8", "uint", "bool", "str", "dict", "null", "decimal"]
        )
    )

    def values(strategy: Any) -> list[Any]:
        nulls = draw(st.sampled_from([0, 0, 0, 1, 2, 3, 10]))  # how often null, out of 10
        picked = draw(st.lists(st.tuples(st.integers(0, 9), strategy), min_size=n, max_size=n))
        return [None if k < nulls else v for k, v in picked]

    if kind in ("float", "float32"):
        special = draw(st.integers(0, 9)) == 0  # NaN / infinity: refused on both paths
        floats = st.floats(allow_nan=special, allow_infinity=special, width=64)
        if kind == "float32":
            floats = st.floats(allow_nan=special, allow_infinity=special, width=32)
        return pa.array(values(floats), pa.float64() if kind == "float" else pa.float32())
    if kind == "int":
        return pa.array(values(st.integers(-(2**63), 2**63 - 1)), pa.int64())
    if kind == "int8":
        return pa.array(values(st.integers(-128, 127)), pa.int8())
    if kind == "uint":
        return pa.array(values(st.integers(0, 2**64 - 1)), pa.uint64())
    if kind == "bool":
        return pa.array(values(st.booleans()), pa.bool_())
    if kind in ("str", "dict"):
        text = st.text(st.sampled_from(list('a"\\\n\t,= é😀')), max_size=4)
        arr = pa.array(values(text), pa.string())
        return arr.dictionary_encode() if kind == "dict" else arr
    if kind == "null":
        return pa.nulls(n)
    digits = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False)
    return pa.array(values(digits), pa.decimal128(7, 2))


@st.composite
def time_column(draw: Any, n: int) -> tuple[pa.Array, str]:
    unit = draw(st.sampled_from(["s", "ms", "us", "ns", "int"]))
    scale = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000, "int": 1}[unit]
    small = st.integers(0, 3).map(lambda k: (BASE + k) * scale)  # repeats: same time
    if draw(st.integers(0, 4)) == 0:
        small = st.one_of(small, st.sampled_from(EXTREME_TIMES), st.integers(-(2**63), 2**63 - 1))
    values = draw(st.lists(small, min_size=n, max_size=n))
    if unit == "int":
        return pa.array(values, pa.int64()), unit
    tz = draw(st.sampled_from([None, "UTC", "Europe/Paris"]))
    return pa.array(values, pa.timestamp(unit, tz=tz)), unit


BEFORE = [
    "m,t0=x f0=1i 1",
    "m f0=1.5 1",
    "m t0=1i 1",
    "m,f1=x v=1 1",
    'n f2="s" 1',
    "other v=1 1",
]


@st.composite
def case(draw: Any) -> tuple[pa.Table, dict[str, Any], dict[str, Any]]:
    n = draw(st.integers(0, 8))
    columns: dict[str, pa.Array] = {}
    tags = draw(st.lists(st.sampled_from(["t0", "t1", "t2", "f1"]), max_size=3, unique=True))
    for name in tags:
        columns[name] = draw(tag_column(n))
    names = [n for n in ["f0", "f1", "f2", "f3", "time", "t0"] if n not in tags]
    fields = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    for name in fields:
        columns[name] = draw(field_column(n))
    times, unit = draw(time_column(n))
    columns["ts"] = times
    options: dict[str, Any] = {"tag_columns": tags, "timestamp_column": "ts"}
    if draw(st.booleans()):
        options["measurement"] = "m"
    else:
        rare = draw(st.integers(0, 9)) == 0
        choices = ["m", "n", "m 2", "#x", "", None] if rare else ["m", "n", "m 2"]
        columns["meas"] = pa.array(
            draw(st.lists(st.sampled_from(choices), min_size=n, max_size=n)), pa.string()
        )
        options["measurement_column"] = "meas"
    precisions = ["ns", "us", "ms", "s", "auto"]
    write = {
        "precision": unit if unit != "int" else draw(st.sampled_from(precisions)),
        "accept_partial": draw(st.booleans()),
    }
    if unit != "int" and draw(st.booleans()):
        write["precision"] = draw(st.sampled_from(precisions))
    setup = {
        "profile": draw(st.sampled_from(["v3_core", "v3_enterprise", "v2", "v1"])),
        "before": tuple(draw(st.lists(st.sampled_from(BEFORE), max_size=3))),
    }
    return pa.table(columns), options, {**write, **setup}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_generated_tables_answer_as_their_line_protocol(generated: Any) -> None:
    table, options, write = generated
    got, _ = both(table, options, **write)
    event(f"{got[0]} {type(got[1]).__name__}")  # how the cases end, in --hypothesis-show-statistics


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(case(), st.booleans()), min_size=2, max_size=4))
def test_sequences_of_writes_and_reads_answer_alike(steps: Any) -> None:
    """Several writes, line protocol ones between, with reads (merges) here and there."""
    profile = steps[0][0][2]["profile"]
    with connect(profile) as arrow, connect(profile) as lp:
        for (table, options, drawn), read in steps:
            write = {k: v for k, v in drawn.items() if k not in ("profile", "before")}
            for line in drawn["before"]:
                assert summary(attempt(partial(arrow.write, line))) == summary(
                    attempt(partial(lp.write, line))
                )
            got = attempt(lambda: arrow.write(table, **options, **write))  # noqa: B023
            assert summary(got) == summary(lp_write(lp, table, options, **write))
            if read:
                assert_same_state(arrow, lp)
        assert_same_state(arrow, lp)


# -- particular cases ----------------------------------------------------------------------


def test_many_series_over_several_tag_columns() -> None:
    """Tag combinations too many to number in one int64 (the engine renumbers them)."""
    n = 3000
    table = pa.table(
        {
            **{f"t{k}": [f"v{(i * (k + 1)) % n}" for i in range(n)] for k in range(4)},
            "v": [float(i) for i in range(n)],
            "ts": [i % 7 for i in range(n)],
        }
    )
    options = {
        "measurement": "m",
        "tag_columns": ["t0", "t1", "t2", "t3"],
        "timestamp_column": "ts",
    }
    both(table, options)
    both(table, options, before=("m,t0=v1,t1=v2,t2=v3,t3=v4 v=9 1",))


def test_a_table_write_hands_the_engine_columns_not_line_protocol() -> None:
    config = ConnectionConfig.from_options(client="local", database="db")
    table = pa.table({"h": ["a", "b"], "v": [1.0, 2.0], "t": [1, 2]})
    options = {"measurement": "m", "tag_columns": ["h"], "timestamp_column": "t"}
    prep = prepare_write(
        config,
        table,
        database="db",
        precision=None,
        accept_partial=None,
        no_sync=None,
        schema=None,
        ingest_arrow=True,
        **options,
    )
    assert prep.body == b""
    assert prep.table is not None and prep.table.rows == 2
    with connect() as conn:
        outcome = conn.write(table, **options)
        assert (outcome.lines, outcome.bytes, outcome.bytes_sent) == (2, prep.size, prep.size)
        assert prep.size == sum(
            a.nbytes for a in (prep.table.tags[0][1], prep.table.fields[0][2], prep.table.times)
        )
        assert conn.stats()["bytes_written"] == prep.size
        assert conn.query_sql("SELECT h, v FROM m ORDER BY time") == [
            {"h": "a", "v": 1.0},
            {"h": "b", "v": 2.0},
        ]


def test_batched_and_v1_connections_write_line_protocol() -> None:
    table = pa.table({"v": [1.0, 2.0], "t": [1, 2]})
    body = encode_table(table, measurement="m", timestamp_column="t").data
    with influxkit.connect(client="local", profile="v1", databases=["db"], database="db") as v1:
        assert v1.write(table, measurement="m", timestamp_column="t").bytes == len(body)
    with influxkit.connect(client="local", database="db", batch={"size": 10}) as batched:
        outcome = batched.write(table, measurement="m", timestamp_column="t", wait=True)
        assert outcome.bytes == len(body)
        assert batched.query_sql("SELECT count(*) AS n FROM m") == [{"n": 2}]


def test_rejected_rows_are_reported_by_row_with_their_line() -> None:
    table = pa.table({"h": ["a", "b", "c"], "v": [1, 2, 3], "w": [1.0, None, 2.0], "t": [1, 2, 3]})
    options = {"measurement": "m", "tag_columns": ["h"], "timestamp_column": "t"}
    got, _ = both(table, options, before=("m w=1i 1",))  # w is an integer field
    err = got[1]
    assert isinstance(err, influxkit.PartialWriteError) and err.status == 400
    assert [(r.record, r.line_number, r.line) for r in err.rejected] == [
        (0, 1, "m,h=a v=1i,w=1.0 1"),
        (2, 3, "m,h=c v=3i,w=2.0 3"),
    ]
    assert err.line_errors[0].message == (
        "invalid column type for column 'w', expected iox::column_type::field::integer, "
        "got iox::column_type::field::float"
    )


def test_a_strict_write_with_a_bad_row_writes_nothing() -> None:
    table = pa.table({"v": [1.0, 2.0], "t": [1, 2]})
    got, _ = both(
        table,
        {"measurement": "m", "timestamp_column": "t"},
        before=("m v=1i 5",),
        accept_partial=False,
    )
    assert isinstance(got[1], influxkit.WriteError) and got[1].line_errors[0].line_number == 1


def test_rows_without_fields_and_nan_are_refused_before_anything_is_written() -> None:
    table = pa.table({"v": [1.0, None, float("nan")], "t": [1, 2, 3]})
    got, _ = both(table, {"measurement": "m", "timestamp_column": "t"})
    assert isinstance(got[1], influxkit.InvalidRecord)
    assert "row 1: every field is null" in got[1].message
    assert "row 2: field 'v' is nan" in got[1].message


@pytest.mark.parametrize(
    ("tag", "value"),
    [("t", "a\nb"), ("t", "a\tb"), ("t", "ends\\"), ("t", "x" * (1 << 20 | 1))],
)
def test_tag_values_line_protocol_cannot_carry_are_refused_alike(tag: str, value: str) -> None:
    table = pa.table({tag: [value, "ok"], "v": [1.0, 2.0], "ts": [1, 2]})
    got, _ = both(table, {"measurement": "m", "tag_columns": [tag], "timestamp_column": "ts"})
    assert isinstance(got[1], influxkit.InvalidRecord)


def test_empty_tag_values_are_left_out_as_line_protocol_leaves_them() -> None:
    table = pa.table({"t": ["", None, "a"], "v": [1.0, 2.0, 3.0], "ts": [1, 1, 1]})
    both(table, {"measurement": "m", "tag_columns": ["t"], "timestamp_column": "ts"})


def test_times_out_of_range_for_the_precision_are_line_errors() -> None:
    times = pa.array([-(2**63), 5, 2**63 - 1], pa.timestamp("ns"))
    table = pa.table({"v": [1.0, 2.0, 3.0], "ts": times})
    got, _ = both(table, {"measurement": "m", "timestamp_column": "ts"}, precision="s")
    assert [e.line_number for e in got[1].line_errors] == [1]
    assert got[1].line_errors[0].message == (
        "timestamp, -9223372037, out of range for precision: Second"
    )
    got, _ = both(table, {"measurement": "m", "timestamp_column": "ts"}, precision="auto")
    assert got[1].line_errors[0].message.endswith("out of range for precision: Auto")


def test_rows_without_a_time_get_one_now_per_write() -> None:
    before = dt.datetime.now(dt.UTC)
    table = pa.table(
        {
            "h": ["a", "a", "b"],
            "v": [1.0, None, 3.0],
            "w": [None, 2, None],
            "ts": pa.array([None, None, 7], pa.timestamp("ns")),
        }
    )
    with connect() as conn:
        conn.write(table, measurement="m", tag_columns=["h"], timestamp_column="ts")
        rows = conn.query_sql("SELECT h, v, w, time FROM m ORDER BY h")
    after = dt.datetime.now(dt.UTC)
    assert [(r["h"], r["v"], r["w"]) for r in rows] == [("a", 1.0, 2), ("b", 3.0, None)]
    assert before <= rows[0]["time"] <= after


def test_same_series_and_time_merge_across_both_paths() -> None:
    first = pa.table({"h": ["a", "a"], "v": [1.0, 2.0], "w": [5, None], "ts": [10, 10]})
    options = {"measurement": "m", "tag_columns": ["h"], "timestamp_column": "ts"}
    with connect() as conn:
        conn.write(first, **options)
        conn.write("m,h=a x=true 10")
        conn.write(pa.table({"h": ["a"], "v": [None], "w": [7], "ts": [10]}), **options)
        assert conn.query_sql("SELECT h, v, w, x FROM m") == [
            {"h": "a", "v": 2.0, "w": 7, "x": True}
        ]


def test_unsigned_fields_on_v1_are_refused_as_line_protocol() -> None:
    table = pa.table({"n": pa.array([1, 2], pa.uint64()), "v": [None, 1.0], "t": [1, 2]})
    both(table, {"measurement": "m", "timestamp_column": "t"}, profile="v1")


def test_the_column_limit_is_judged_row_by_row() -> None:
    before = "m " + ",".join(f"c{i}=1" for i in range(497)) + " 1"
    table = pa.table(
        {
            "a": [1.0, None, None, 4.0],
            "b": [None, 2.0, None, None],
            "c": [None, 1.0, 3.0, None],
            "d": [None, None, 5.0, 1.0],
            "t": [1, 2, 3, 4],
        }
    )
    got, _ = both(table, {"measurement": "m", "timestamp_column": "t"}, before=(before,))
    assert got[1].status == 422
    assert [e.line_number for e in got[1].line_errors] == [3, 4]


def test_the_table_limit_with_a_measurement_column() -> None:
    names = [f"m{i}" for i in range(1998)]
    before = ("\n".join(f"{n} v=1 1" for n in names),)
    table = pa.table({"meas": ["x", "y", "z", "x", "m0"], "v": [1.0] * 5, "t": [1, 2, 3, 4, 5]})
    options = {"measurement_column": "meas", "timestamp_column": "t"}
    got, _ = both(table, options, before=before, only={"x", "y", "z", "m0"})
    assert [e.line_number for e in got[1].line_errors] == [3]
    assert got[1].status == 422


def test_reserved_names_then_type_conflicts_once_the_table_exists() -> None:
    table = pa.table({"time": [1.0, None, 2.0], "v": [None, 1.0, 1.0], "t": [1, 2, 3]})
    got, _ = both(table, {"measurement": "m", "timestamp_column": "t"})
    messages = [e.message for e in got[1].line_errors]
    assert messages == [
        "'time' is a reserved column",
        "invalid column type for column 'time', expected iox::column_type::timestamp, "
        "got iox::column_type::field::float",
    ]


def test_pandas_with_categories_and_a_datetime_index() -> None:
    index = pd.DatetimeIndex(["2026-01-01T00:00:00", "2026-01-01T00:00:01", "2026-01-01"])
    df = pd.DataFrame(
        {
            "host": pd.Categorical(["a", "b", "a"]),
            "usage": [0.5, float("nan"), 0.7],  # pandas' NaN is null: the field is left out
            "n": pd.array([1, None, 3], dtype="Int64"),
        },
        index=index,
    )
    both(df, {"measurement": "cpu", "tag_columns": ["host"]})
    both(df, {"measurement": "cpu", "tag_columns": ["host"]}, before=("cpu n=1.5 1",))


def test_polars_with_an_enum_and_a_datetime() -> None:
    df = pl.DataFrame(
        {
            "host": pl.Series(["a", "b", "a"], dtype=pl.Enum(["a", "b"])),
            "v": [1.0, None, 3.0],
            "ok": [True, False, None],
            "t": [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2)],
        }
    )
    both(df, {"measurement": "m", "tag_columns": ["host"], "timestamp_column": "t"})


def test_pinned_schema_applies_to_the_arrow_path() -> None:
    table = pa.table({"v": [1, 2], "n": [3, 4], "t": [1, 2]})
    schema = {"m": {"v": "float", "n": "uint"}}
    both(table, {"measurement": "m", "timestamp_column": "t", "schema": schema})
    got, _ = both(
        pa.table({"n": [-1], "t": [3]}),
        {"measurement": "m", "timestamp_column": "t", "schema": schema},
    )
    assert isinstance(got[1], influxkit.InvalidRecord)


def test_decimals_and_narrow_types_are_widened_as_the_encoder_does() -> None:
    table = pa.table(
        {
            "d": pa.array([decimal.Decimal("1.10"), None], pa.decimal128(5, 2)),
            "f": pa.array([1.5, 2.5], pa.float16()),
            "i": pa.array([1, -1], pa.int16()),
            "u": pa.array([1, 2], pa.uint8()),
            "t": [1, 2],
        }
    )
    both(table, {"measurement": "m", "timestamp_column": "t"})


def test_a_missing_database_on_v2() -> None:
    table = pa.table({"v": [1.0], "t": [1]})
    with connect("v2") as conn, pytest.raises(influxkit.DatabaseNotFound):
        conn.write(table, measurement="m", timestamp_column="t", database="nope")


def test_the_async_connection_takes_the_arrow_path_too() -> None:
    table = pa.table({"h": ["a"], "v": [1.0], "t": [1]})
    options = {"measurement": "m", "tag_columns": ["h"], "timestamp_column": "t"}
    body = encode_table(table, **options).data

    async def main() -> tuple[Any, Any]:
        async with influxkit.aio.connect(client="local", database="db") as conn:
            outcome = await conn.write(table, **options)
            return outcome, await conn.query_sql("SELECT h, v FROM m")

    outcome, rows = asyncio.run(main())
    assert outcome.lines == 1 and outcome.bytes != len(body)
    assert rows == [{"h": "a", "v": 1.0}]


@pytest.mark.parametrize("precision", ["auto", "s", "ms", "us", "ns"])
@pytest.mark.parametrize("kind", ["int", "ns", "s"])
def test_times_at_the_edges_of_each_precision(precision: str, kind: str) -> None:
    column_type = pa.int64() if kind == "int" else pa.timestamp(kind)
    times = [t for t in EXTREME_TIMES if kind != "s" or abs(t) < 9 * 10**9]
    table = pa.table(
        {"v": [float(i) for i in range(len(times))], "ts": pa.array(times, column_type)}
    )
    both(table, {"measurement": "m", "timestamp_column": "ts"}, precision=precision)

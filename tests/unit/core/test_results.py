"""Arrow -> rows: the column-at-a-time conversion against pyarrow's own ``to_pylist``."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit import results


def _reference(data: pa.Table | pa.RecordBatch) -> list[dict]:
    """The rows as pyarrow makes them, timestamps cast to aware µs first (the old path)."""
    columns = [col.cast(results._row_type(pa, col.type), safe=False) for col in data.columns]
    kind = pa.RecordBatch if isinstance(data, pa.RecordBatch) else pa.Table
    return kind.from_arrays(columns, names=data.schema.names).to_pylist()


def _comparable(rows: list[dict]) -> list[list]:
    """Rows as (key, type, value, tzinfo) lists: NaN compares equal, key order counts."""
    return [
        [
            (
                k,
                type(v),
                "nan" if isinstance(v, float) and math.isnan(v) else v,
                getattr(v, "tzinfo", None),
            )
            for k, v in row.items()
        ]
        for row in rows
    ]


def _assert_same(data):
    assert _comparable(
        results.table_to_rows(data)
        if isinstance(data, pa.Table)
        else list(results.batch_to_rows(data))
    ) == _comparable(_reference(data))


MIXED = pa.table(
    {
        "i": pa.array([1, None, 3, 4]),
        "t": pa.array([-1, None, -1001, 1_700_000_000_123_456_789], pa.timestamp("ns")),
        "t_utc": pa.array([-1, None, -1001, 1_700_000_000_123_456_789], pa.timestamp("ns", "UTC")),
        "t_s": pa.array([-1, None, 3, 4], pa.timestamp("s")),
        "t_ms_offset": pa.array([1, None, -1, 4], pa.timestamp("ms", "+00:00")),
        "t_paris": pa.array([1, None, -1001, 10**18], pa.timestamp("ns", "Europe/Paris")),
        "tag": pa.array(["x", None, "y", "x"]).dictionary_encode(),
        "tag_full": pa.array(["b", "a", "b", "c"]).dictionary_encode(),
        "d_ts": pa.DictionaryArray.from_arrays(
            pa.array([0, 1, None, 0], pa.int32()), pa.array([5, 10**15], pa.timestamp("us"))
        ),
        "st": pa.array(
            [{"x": 1, "t": 5}, None, {"x": 2, "t": None}, {"x": 3, "t": 7}],
            pa.struct([("x", pa.int64()), ("t", pa.timestamp("ns"))]),
        ),
        "b": [True, False, None, True],
        "f": [0.5, float("nan"), None, -0.0],
        "s": ["a", "", None, "é"],
        "u": pa.array([2**64 - 1, 0, None, 1], pa.uint64()),
        "date": pa.array([0, 1, None, 19000], pa.date32()),
        "l": [[1, 2], None, [], [3]],
    }
)


def test_every_kind_of_column_as_pyarrow_gives_it():
    _assert_same(MIXED)
    rows = results.table_to_rows(MIXED)
    assert rows[3]["t"] == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert rows[3]["t"].tzinfo is UTC
    assert rows[0]["t"] == datetime(1970, 1, 1, tzinfo=UTC)  # -1 ns truncated, as Arrow does
    assert [r["tag_full"] for r in rows] == ["b", "a", "b", "c"]


def test_several_chunks_and_record_batches():
    table = pa.concat_tables([MIXED, MIXED.slice(1, 2), MIXED.slice(0, 0)])
    assert table.column("t").num_chunks == 3
    _assert_same(table)
    _assert_same(table.to_batches()[1])
    _assert_same(MIXED.slice(0, 0))


def test_duplicate_names_keep_the_first_place_and_the_last_value():
    table = pa.Table.from_arrays(
        [pa.array([1]), pa.array([2]), pa.array(["z"])], names=["x", "y", "x"]
    )
    assert results.table_to_rows(table) == [{"x": "z", "y": 2}]
    _assert_same(table)


def test_no_columns():
    assert results.table_to_rows(pa.table({})) == []


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-(2**62), 2**62)), max_size=20),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
    tz=st.sampled_from([None, "UTC", "+00:00"]),
)
def test_timestamps_of_any_unit_as_pyarrow_converts_them(values, unit, tz):
    limit = {"s": 10**11, "ms": 10**14, "us": 10**17, "ns": 2**62}[unit]  # years 1..9999
    values = [v if v is None else max(-limit // 2, min(v, limit // 2)) for v in values]
    table = pa.table({"t": pa.array(values, pa.timestamp(unit, tz)), "n": list(range(len(values)))})
    _assert_same(table)


@pytest.mark.parametrize("fmt", ["rows", "arrow"])
def test_convert(fmt):
    out = results.convert(MIXED, fmt)
    assert (out is MIXED) if fmt == "arrow" else (len(out) == MIXED.num_rows)

"""CSV / Parquet rows -> line protocol (influxkit.cli_tables), without a server."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from influxkit.cli_tables import (
    LayoutError,
    Row,
    TableLayout,
    check_layout,
    iter_parquet,
    read_csv,
    table_rows,
)
from influxkit.lineprotocol.parse import parse


def rows(table: pa.Table, layout: TableLayout) -> list[Row]:
    return list(table_rows(table.to_batches(max_chunksize=2), layout))


def test_types_map_to_field_types_and_nulls_skip_fields():
    table = pa.table(
        {
            "time": pa.array([1, 2, 3], pa.int64()),
            "host": ["a", None, "c d"],
            "i": pa.array([1, None, -3], pa.int32()),
            "u": pa.array([7, 8, None], pa.uint64()),
            "f": [0.5, 2.0, None],
            "b": [True, False, None],
            "s": ['say "hi"', None, "x"],
        }
    )
    out = rows(table, TableLayout("cpu", ("host",)))
    assert [r.line for r in out] == [
        'cpu,host=a i=1i,u=7u,f=0.5,b=true,s="say \\"hi\\"" 1',
        "cpu u=8u,f=2.0,b=false 2",
        'cpu,host=c\\ d i=-3i,s="x" 3',
    ]
    assert [r.number for r in out] == [1, 2, 3]  # numbered across batches of 2
    # The server's parser reads the lines back as the same types and values.
    parsed = parse("\n".join(r.line for r in out))
    assert not parsed.errors
    first = parsed.lines[0][1]
    assert {k: v for k, _, v in first.fields} == {
        "i": 1,
        "u": 7,
        "f": 0.5,
        "b": True,
        "s": 'say "hi"',
    }


def test_a_row_without_fields_or_time_is_an_error_with_its_number():
    table = pa.table(
        {"time": pa.array([1, None, 3], pa.int64()), "host": ["a", "b", "c"], "v": [1.0, 2.0, None]}
    )
    out = rows(table, TableLayout("m", ("host",)))
    assert out[0].line == "m,host=a v=1.0 1"
    assert out[1] == Row(2, None, "no time in column 'time'")
    assert out[2].line is None and out[2].number == 3
    assert "no field values" in out[2].error


def test_nan_is_refused_for_its_row_only():
    table = pa.table({"time": [1, 2], "v": [float("nan"), 1.5]})
    out = rows(table, TableLayout("m"))
    assert out[0].line is None and "nan" in out[0].error
    assert out[1].line == "m v=1.5 2"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("s", 1_700_000_000_000_000_000), ("ms", 1_700_000_000_000_000), ("ns", 1_700_000_000)],
)
def test_numeric_times_are_read_in_the_time_unit(unit, expected):
    table = pa.table({"time": [1_700_000_000], "v": [1]})
    assert rows(table, TableLayout("m", time_unit=unit))[0].line == f"m v=1i {expected}"


def test_timestamp_and_iso_string_times_carry_their_own_unit():
    stamps = pa.array([1_700_000_000], pa.timestamp("s", tz="UTC"))
    table = pa.table({"time": stamps, "v": [1]})
    assert rows(table, TableLayout("m", time_unit="ms"))[0].line == "m v=1i 1700000000000000000"
    text = pa.table({"time": ["2026-01-01T00:00:00.000000001Z", "nope"], "v": [1, 2]})
    out = rows(text, TableLayout("m"))
    assert out[0].line == "m v=1i 1767225600000000001"
    assert out[1].line is None and "nope" in out[1].error


def test_csv_keeps_tag_text_and_reads_empty_cells_as_null():
    data = b"time,station,temp,ok,note\n1,007,21.5,true,\n2,008,,false,late\n"
    layout = TableLayout("weather", ("station",))
    out = rows(read_csv(io.BytesIO(data), layout), layout)
    assert [r.line for r in out] == [
        "weather,station=007 temp=21.5,ok=true 1",
        'weather,station=008 ok=false,note="late" 2',
    ]


def test_parquet_is_read_a_batch_at_a_time(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"time": list(range(5)), "v": [float(i) for i in range(5)]}), path)
    schema, count, batches = iter_parquet(str(path), batch_size=2)
    assert count == 5 and schema.names == ["time", "v"]
    out = list(table_rows(batches, TableLayout("m")))
    assert [r.number for r in out] == [1, 2, 3, 4, 5]
    assert out[4].line == "m v=4.0 4"


def test_dictionary_columns_are_decoded():
    host = pa.array(["a", "b"]).dictionary_encode()
    table = pa.table(
        {"time": [1, 2], "host": host, "kind": pa.array(["x", "y"]).dictionary_encode()}
    )
    assert [r.line for r in rows(table, TableLayout("m", ("host",)))] == [
        'm,host=a kind="x" 1',
        'm,host=b kind="y" 2',
    ]


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (TableLayout("m", ("nope",)), "tag column 'nope' is not in the file"),
        (TableLayout("m", time_column="ts"), "time column 'ts' is not in the file"),
        (TableLayout("m", ("v",)), "no column is left to be a field"),
        (TableLayout("#m"), "starts with '#'"),
        (TableLayout("m", ("time",)), "cannot be both the time and a tag"),
    ],
)
def test_layout_errors_name_the_problem(layout, message):
    schema = pa.schema([("time", pa.int64()), ("v", pa.float64())])
    with pytest.raises(LayoutError, match=message):
        check_layout(schema, layout)


def test_a_column_type_line_protocol_cannot_carry_is_refused():
    schema = pa.schema([("time", pa.int64()), ("v", pa.list_(pa.int64()))])
    with pytest.raises(LayoutError, match="column 'v' has type list"):
        check_layout(schema, TableLayout("m"))

"""Annotated CSV exactly as 2.x writes it, and the rows the HTTP client reads from it."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.clients.local import LocalClient, flux
from influxkit.clients.local.flux.annotated_csv import Dialect, encode_results, format_value
from influxkit.clients.local.flux.table import DOUBLE, LONG, STRING, TIME, Column, Result, Table
from influxkit.clients.profiles import get_profile

ALL = Dialect(annotations=("datatype", "group", "default"))


def engine_with(lines: str) -> LocalClient:
    engine = LocalClient(get_profile("v2"), databases=["b"])
    engine.write(lines.encode(), database="b", precision="ns", accept_partial=False, no_sync=False)
    return engine


def csv(engine: LocalClient, query: str, dialect: Dialect = ALL) -> str:
    return encode_results(flux.run(engine, query), dialect).decode()


def test_the_documented_example_byte_for_byte():
    """The example of docs.influxdata.com's "Annotated CSV" page (annotations group first)."""
    engine = engine_with(
        "m,host=A,region=east mem=15.43 1672534320000000000\n"
        "m,host=B,region=east mem=59.25 1672534320000000000\n"
        "m,host=C,region=east mem=52.62 1672534320000000000\n"
    )
    query = (
        'from(bucket: "b") |> range(start: 2022-12-31T05:41:24Z, stop: 2023-01-31T05:41:24.001Z)'
        ' |> yield(name: "mean")'
    )
    expected = (
        "#group,false,false,true,true,false,false,true,true,true,true\r\n"
        "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,dateTime:RFC3339,double,string,string,string,string\r\n"
        "#default,mean,,,,,,,,,\r\n"
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host,region\r\n"
        ",,0,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,15.43,mem,m,A,east\r\n"
        ",,1,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,59.25,mem,m,B,east\r\n"
        ",,2,2022-12-31T05:41:24Z,2023-01-31T05:41:24.001Z,2023-01-01T00:52:00Z,52.62,mem,m,C,east\r\n"
        "\r\n"
    )
    assert csv(engine, query, Dialect(annotations=("group", "datatype", "default"))) == expected


def test_2x_default_dialect_has_no_annotations_and_repeats_the_result_name():
    engine = engine_with("cpu,host=a usage=1 1000000000\ncpu,host=a n=2i 1000000000\n")
    got = csv(engine, 'from(bucket: "b") |> range(start: 0, stop: 10)', Dialect())
    assert got == (
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"
        ",_result,0,1970-01-01T00:00:00Z,1970-01-01T00:00:10Z,1970-01-01T00:00:01Z,2,n,cpu,a\r\n"
        "\r\n"
        ",result,table,_start,_stop,_time,_value,_field,_measurement,host\r\n"
        ",_result,1,1970-01-01T00:00:00Z,1970-01-01T00:00:10Z,1970-01-01T00:00:01Z,1,usage,cpu,a\r\n"
        "\r\n"
    )


def test_tables_of_one_schema_share_one_header():
    engine = engine_with("cpu,host=a v=1 1\ncpu,host=b v=2 2\n")
    got = csv(
        engine,
        'from(bucket: "b") |> range(start: 0, stop: 10) |> keep(columns: ["_value", "host"])',
    )
    assert got == (
        "#datatype,string,long,double,string\r\n"
        "#group,false,false,false,true\r\n"
        "#default,_result,,,\r\n"
        ",result,table,_value,host\r\n"
        ",,0,1,a\r\n"
        ",,1,2,b\r\n"
        "\r\n"
    )


def test_an_empty_table_writes_its_key_in_default_and_no_rows():
    engine = engine_with("cpu,host=a v=1 1\n")
    query = (
        'from(bucket: "b") |> range(start: 0, stop: 10)'
        ' |> filter(fn: (r) => false, onEmpty: "keep") |> keep(columns: ["_value", "host"])'
    )
    assert csv(engine, query) == (
        "#datatype,string,long,double,string\r\n"
        "#group,false,false,false,true\r\n"
        "#default,_result,0,,a\r\n"
        ",result,table,_value,host\r\n"
        "\r\n"
    )


def test_each_result_ends_with_a_blank_line_and_restarts_table_ids():
    engine = engine_with("cpu v=1 1\n")
    query = (
        'd = from(bucket: "b") |> range(start: 0, stop: 10) |> keep(columns: ["_value"])\n'
        'd |> yield(name: "one")\nd |> yield(name: "two")'
    )
    assert csv(engine, query) == (
        "#datatype,string,long,double\r\n#group,false,false,false\r\n#default,one,,\r\n"
        ",result,table,_value\r\n,,0,1\r\n\r\n"
        "#datatype,string,long,double\r\n#group,false,false,false\r\n#default,two,,\r\n"
        ",result,table,_value\r\n,,0,1\r\n\r\n"
    )


def test_a_result_without_tables_is_a_blank_line():
    engine = engine_with("cpu v=1 1\n")
    assert (
        csv(engine, 'from(bucket: "b") |> range(start: 0, stop: 10) |> filter(fn: (r) => false)')
        == "\r\n"
    )


def test_fields_are_quoted_as_go_s_csv_writer_quotes_them():
    table = Table(
        (Column("s", STRING),),
        {},
        [["a,b"], ['say "hi"'], ["two\nlines"], [" lead"], ["plain"], [""], [None], ["cr\ronly"]],
    )
    body = encode_results([Result("_result", (table,))], Dialect(header=False)).decode()
    assert body.split("\r\n", 8)[:8] == [
        ',_result,0,"a,b"',
        ',_result,0,"say ""hi"""',
        ',_result,0,"two',  # "\n" inside quotes is written "\r\n"
        'lines"',
        ',_result,0," lead"',
        ",_result,0,plain",
        ",_result,0,",
        ",_result,0,",
    ]
    assert body.endswith(',_result,0,"cronly"\r\n\r\n')  # a bare "\r" is dropped


def test_another_delimiter():
    table = Table((Column("s", STRING), Column("n", LONG)), {}, [["a;b", 3]])
    body = encode_results([Result("r", (table,))], Dialect(delimiter=";")).decode()
    assert body == ';result;table;s;n\r\n;r;0;"a;b";3\r\n\r\n'


@pytest.mark.parametrize(
    ("value", "column_type", "text"),
    [
        (1.0, DOUBLE, "1"),
        (0.1, DOUBLE, "0.1"),
        (1e21, DOUBLE, "1000000000000000000000"),
        (1.5e-7, DOUBLE, "0.00000015"),
        (-0.0, DOUBLE, "-0"),
        (math.nan, DOUBLE, "NaN"),
        (math.inf, DOUBLE, "+Inf"),
        (-math.inf, DOUBLE, "-Inf"),
        (2**63 - 1, LONG, "9223372036854775807"),
        (0, TIME, "1970-01-01T00:00:00Z"),
        (1_609_459_200_123_456_700, TIME, "2021-01-01T00:00:00.1234567Z"),
        (None, DOUBLE, ""),
    ],
)
def test_values_as_go_formats_them(value, column_type, text):
    assert format_value(value, column_type) == text


def test_rows_are_what_the_http_client_decodes():
    engine = engine_with('cpu,host=a s="a,\\"b\\"",f=1.5,n=-3i,u=7u,ok=false 1500000001\n')
    rows = flux.rows(flux.run(engine, 'from(bucket: "b") |> range(start: 0, stop: 10)'))
    values = {r["_field"]: r["_value"] for r in rows}
    assert values == {"f": 1.5, "n": -3, "ok": False, "s": 'a,"b"', "u": 7}
    # times to the microsecond, in UTC (the decoder's datetimes)
    assert rows[0]["_time"] == datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert [r["table"] for r in rows] == [0, 1, 2, 3, 4]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_any_string_survives_the_writer_and_the_client_s_reader(values):
    """Quoting is right for every string; what changes is Go's CRLF rewrite, and "" is null."""
    from influxkit.protocol.decode_v1 import flux_rows

    table = Table((Column("s", STRING),), {}, [[v] for v in values])
    decoded = [row["s"] for row in flux_rows(encode_results([Result("_result", (table,))], ALL))]
    assert decoded == [v.replace("\r", "").replace("\n", "\r\n") or None for v in values]

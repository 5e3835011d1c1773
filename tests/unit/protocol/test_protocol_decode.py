"""Decoding query bodies: v3 json / jsonl / csv / parquet, 1.x series, Flux annotated CSV."""

from __future__ import annotations

import gc
import io
import itertools
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.errors import DatabaseNotFound, QueryError
from influxkit.protocol import decode, decode_v1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2065-01-07T17:28:51", datetime(2065, 1, 7, 17, 28, 51, tzinfo=UTC)),
        ("2065-01-07T17:28:51.500", datetime(2065, 1, 7, 17, 28, 51, 500000, tzinfo=UTC)),
        ("1970-01-01T00:00:01.000123", datetime(1970, 1, 1, 0, 0, 1, 123, tzinfo=UTC)),
        ("1970-01-01T00:00:00.000000123", datetime(1970, 1, 1, tzinfo=UTC)),
        ("2065-01-07T17:28:51.5", datetime(2065, 1, 7, 17, 28, 51, 500000, tzinfo=UTC)),
        ("2065-01-07T17:28:51Z", datetime(2065, 1, 7, 17, 28, 51, tzinfo=UTC)),
    ],
)
def test_timestamps_with_0_3_6_9_fraction_digits(text, expected):
    got = decode.parse_time(text)
    assert got == expected and got.tzinfo is UTC


def test_time_to_ns_keeps_every_digit():
    assert decode.time_to_ns("1970-01-01T00:00:00.000000123") == 123
    assert decode.time_to_ns("1970-01-01T00:00:01.5") == 1_500_000_000
    assert decode.time_to_ns("2065-01-07T17:28:51") == 2_998_574_931_000_000_000
    assert decode.ns_to_datetime(1_500_000_999) == datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)


def test_json_rows_fill_nulls_and_convert_time():
    body = (
        b'[{"host":"a","time":"2065-01-07T17:28:51","usage":0.9},'
        b'{"time":"2065-01-07T17:28:52.5","usage":1.0},'
        b'{"host":"b","region":"eu","time":"2065-01-07T17:28:53"}]'
    )
    rows = decode.json_rows(body)
    assert rows[1] == {
        "host": None,
        "region": None,
        "time": datetime(2065, 1, 7, 17, 28, 52, 500000, tzinfo=UTC),
        "usage": 1.0,
    }
    assert [list(r) for r in rows] == [["host", "region", "time", "usage"]] * 3
    assert decode.json_rows(b"[]") == [] and decode.json_rows(b"") == []


def test_gc_is_paused_only_during_decode():
    assert gc.isenabled()
    with decode.gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with decode.gc_paused():
            pass
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()


def test_jsonl_incremental():
    body = b'{"a":1,"time":"1970-01-01T00:00:00.001"}\n{"a":2}\n{"b":"x","a":3}\n'
    dec = decode.JsonlDecoder()
    got = []
    for i in range(len(body)):
        got.extend(dec.feed(body[i : i + 1]))
    got.extend(dec.close())
    assert [r["a"] for r in got] == [1, 2, 3]
    assert got[0]["time"] == datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert got[1] == {"a": 2, "time": None}
    assert dec.columns == ["b", "a", "time"]
    assert list(decode.JsonlDecoder().decode([b'{"x":1}\n{"x":2}'])) == [{"x": 1}, {"x": 2}]


_rows = st.lists(
    st.fixed_dictionaries(
        {"host": st.text(max_size=5), "n": st.integers(-(2**63), 2**63 - 1)},
        optional={"v": st.floats(allow_nan=False, allow_infinity=False), "b": st.booleans()},
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(rows=_rows, cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_jsonl_chunking_does_not_matter(rows, cuts):
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    whole = list(decode.JsonlDecoder().decode([body]))
    bounds = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert list(decode.JsonlDecoder().decode(chunks)) == whole
    assert [{k: v for k, v in r.items() if v is not None} for r in whole] == rows


def test_parquet_and_csv_tables():
    table = pa.table({"host": ["a"], "time": pa.array([1], pa.timestamp("ns")), "v": [1.5]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    assert decode.parquet_table(sink.getvalue()).equals(table)
    assert decode.parquet_table(b"").num_rows == 0
    csv = decode.csv_table(b"host,time,usage\na,2065-01-07T17:28:51.500,2.0\n")
    assert csv.column("usage").to_pylist() == [2.0]
    assert csv.schema.field("time").type == pa.timestamp("ns")


V1_SERIES = {
    "results": [
        {
            "statement_id": 0,
            "series": [
                {
                    "name": "cpu",
                    "tags": {"host": "a"},
                    "columns": ["time", "usage", "n"],
                    "values": [[1, 0.5, 4611686018427387905], [2, None, 1]],
                },
                {
                    "name": "cpu",
                    "tags": {"host": ""},
                    "columns": ["time", "usage", "n"],
                    "values": [[3, 82, 2]],
                },
            ],
        }
    ]
}


def test_v1_series_with_tags_to_v3_rows():
    rows = decode_v1.v1_rows(V1_SERIES)
    assert rows[0] == {
        "iox::measurement": "cpu",
        "time": datetime(1970, 1, 1, tzinfo=UTC),
        "host": "a",
        "usage": 0.5,
        "n": 2**62 + 1,
    }
    assert list(rows[0]) == ["iox::measurement", "time", "host", "usage", "n"]
    assert rows[1]["usage"] is None  # NaN and NULL both arrive as null
    assert rows[2]["host"] == ""


def test_v1_table_keeps_nanoseconds():
    table = decode_v1.v1_table(V1_SERIES)
    assert table.schema.field("time").type == pa.timestamp("ns")
    assert table.column("time").cast(pa.int64()).to_pylist() == [1, 2, 3]
    assert table.column("n").to_pylist()[0] == 2**62 + 1


def test_v1_rows_without_time_column():
    doc = {
        "results": [
            {
                "statement_id": 0,
                "series": [{"name": "databases", "columns": ["name"], "values": [["a"], ["b"]]}],
            }
        ]
    }
    assert decode_v1.v1_rows(doc) == [
        {"iox::measurement": "databases", "name": "a"},
        {"iox::measurement": "databases", "name": "b"},
    ]
    assert decode_v1.v1_rows({"results": [{"statement_id": 0}]}) == []


def test_v1_statement_errors():
    with pytest.raises(DatabaseNotFound, match="database not found: nodb"):
        decode_v1.v1_rows({"results": [{"statement_id": 0, "error": "database not found: nodb"}]})
    with pytest.raises(QueryError, match="database name required"):
        decode_v1.v1_rows({"results": [{"statement_id": 0, "error": "database name required"}]})


FLUX = (
    b"#datatype,string,long,dateTime:RFC3339,double,string,boolean,long\r\n"
    b"#group,false,false,false,false,true,false,false\r\n"
    b"#default,_result,,,,,,\r\n"
    b",result,table,_time,_value,_field,ok,n\r\n"
    b",,0,2021-01-01T10:00:00Z,1.5,usage,true,9223372036854775807\r\n"
    b",,0,2021-01-01T10:00:01.5Z,NaN,usage,false,\r\n"
    b"\r\n"
    b"#datatype,string,long,string\r\n"
    b"#group,false,false,true\r\n"
    b"#default,_result,,\r\n"
    b",result,table,host\r\n"
    b",,1,a\r\n"
)


def test_flux_annotated_csv():
    rows = decode_v1.flux_rows(FLUX)
    assert rows[0] == {
        "result": "_result",
        "table": 0,
        "_time": datetime(2021, 1, 1, 10, tzinfo=UTC),
        "_value": 1.5,
        "_field": "usage",
        "ok": True,
        "n": 2**63 - 1,
    }
    assert rows[1]["_value"] != rows[1]["_value"] and rows[1]["n"] is None
    assert rows[2] == {"result": "_result", "table": 1, "host": "a"}


def test_flux_error_table():
    body = (
        b"#datatype,string,string\r\n#group,true,true\r\n#default,,\r\n"
        b",error,reference\r\n,bad thing,897\r\n"
    )
    with pytest.raises(QueryError, match="bad thing"):
        decode_v1.flux_rows(body)


def _doc(values, partial=False):
    result = {
        "statement_id": 0,
        "series": [{"name": "m", "columns": ["time", "v"], "values": values}],
    }
    if partial:
        result["partial"] = True
    return orjson.dumps({"results": [result]})


def test_chunked_documents_1x_newlines_and_v3_back_to_back():
    one = _doc([[1, 1.0], [2, 2.0]], partial=True)
    two = _doc([[3, 3.0]])
    for body in (one + b"\n" + two + b"\n", one + two):
        docs = decode_v1.v1_documents(body)
        assert len(docs) == 2
        assert [r["v"] for r in decode_v1.v1_rows(docs)] == [1.0, 2.0, 3.0]
    assert decode_v1.v1_documents(b"") == []
    assert len(decode_v1.v1_documents(one)) == 1


def test_chunked_series_make_one_table():
    docs = decode_v1.v1_documents(_doc([[1, 1.0]], partial=True) + b"\n" + _doc([[2, None]]))
    table = decode_v1.v1_table(docs)
    assert table.column("v").to_pylist() == [1.0, None]
    assert table.column("iox::measurement").to_pylist() == ["m", "m"]


def test_document_stream_any_chunking():
    body = b"".join(_doc([[i, float(i)]], partial=i < 4) + b"\n" for i in range(5))
    for size in (1, 7, 64, len(body)):
        stream = decode_v1.DocumentStream()
        docs = []
        for i in range(0, len(body), size):
            docs.extend(stream.feed(body[i : i + size]))
        docs.extend(stream.close())
        assert [r["v"] for r in decode_v1.v1_rows(docs)] == [0.0, 1.0, 2.0, 3.0, 4.0]
    stream = decode_v1.DocumentStream()
    assert stream.feed(_doc([[1, 1.0]])) == [] and len(stream.close()) == 1

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
    dec = decode.JsonlDecoder(columns=True)
    got = []
    for i in range(len(body)):
        got.extend(dec.feed(body[i : i + 1]))
    got.extend(dec.close())
    assert [r["a"] for r in got] == [1, 2, 3]
    assert got[0]["time"] == datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert got[1] == {"a": 2}  # a streamed row omits its NULL columns, as the server does
    assert dec.columns == ["b", "a", "time"]
    assert decode.JsonlDecoder().columns == []  # kept only when asked for (Arrow batches)
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


# -- fast paths: each checked against a plain reference ---------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT64 = st.integers(-(2**63) + 1, 2**63 - 1)


def _reference_time(ns: int) -> datetime:
    """``ns`` floored to the microsecond, computed without the code under test."""
    from datetime import timedelta

    return _EPOCH + timedelta(microseconds=ns // 1000)


def _server_text(ns: int, digits: int) -> str:
    """``ns`` as InfluxDB 3 writes a zone-less timestamp, ``digits`` fraction digits."""
    from datetime import timedelta

    seconds, frac = divmod(ns, 10**9)
    base = (datetime(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
    return base + (f".{frac:09d}"[: digits + 1] if digits else "")


def _rfc3339nano(ns: int) -> str:
    """``ns`` as InfluxDB 1.x writes it without ``epoch=`` (Go's RFC3339Nano)."""
    from datetime import timedelta

    seconds, frac = divmod(ns, 10**9)
    base = (datetime(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
    return base + (f".{frac:09d}".rstrip("0") if frac else "") + "Z"


@settings(max_examples=300, deadline=None)
@given(ns=_INT64, digits=st.sampled_from([0, 3, 6, 9]))
def test_parse_time_matches_the_general_parse(ns, digits):
    text = _server_text(ns, digits)
    got = decode.parse_time(text)
    assert got == datetime.fromisoformat(text).replace(tzinfo=UTC)
    assert got.tzinfo is UTC
    assert decode.parse_time(text + "Z") == got
    if digits == 9:
        assert got == _reference_time(ns)
        assert decode.time_to_ns(text) == ns == decode.time_to_ns(text + "Z")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2065-01-07T17:28:51+05:30", datetime(2065, 1, 7, 11, 58, 51, tzinfo=UTC)),
        ("2065-01-07T17:28:51.25-01:00", datetime(2065, 1, 7, 18, 28, 51, 250000, tzinfo=UTC)),
        ("2065-01-07", datetime(2065, 1, 7, tzinfo=UTC)),
    ],
)
def test_parse_time_with_a_zone_or_without_a_clock(text, expected):
    got = decode.parse_time(text)
    assert got == expected and got.tzinfo is UTC


def test_parse_time_refuses_what_fromisoformat_refuses():
    with pytest.raises(ValueError):
        decode.parse_time("yesterday")


def test_jsonl_blank_lines_skipped_and_bad_lines_raise():
    body = b'{"a":1}\n\n  \n{"a":2}\r\n'
    assert list(decode.JsonlDecoder().decode([body])) == [{"a": 1}, {"a": 2}]
    with pytest.raises(QueryError, match="not JSON lines"):
        list(decode.JsonlDecoder().decode([b'{"a":1}\n{"a":\n']))


def test_jsonl_rows_stay_as_the_server_wrote_them():
    body = b'{"a":1,"b":2}\n{"a":3,"c":4}\n{"b":5,"c":6}\n'
    dec = decode.JsonlDecoder(columns=True)
    rows = list(dec.decode([body]))
    assert rows == [{"a": 1, "b": 2}, {"a": 3, "c": 4}, {"b": 5, "c": 6}]
    assert sorted(dec.columns) == ["a", "b", "c"] and dec.columns[0] == "a"


def _reference_v1_rows(series: dict) -> list[dict]:
    """The 1.x -> v3 row shape, written plainly: name, time, tags, then the columns."""
    head = {"iox::measurement": series["name"]}
    if "time" in series["columns"]:
        head["time"] = None
    head.update(series.get("tags") or {})
    out = []
    for values in series["values"]:
        row = dict(head)
        row.update(zip(series["columns"], values, strict=False))
        if isinstance(row.get("time"), int):
            row["time"] = _reference_time(row["time"])
        out.append(row)
    return out


_field_values = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.text(max_size=4)
)


@st.composite
def _v1_series(draw):
    fields = draw(st.lists(st.sampled_from(["usage", "n", "ok", "host", "s"]), unique=True))
    tag_keys = draw(st.lists(st.sampled_from(["host", "region", "dc"]), unique=True, max_size=2))
    rows = draw(st.lists(st.tuples(_INT64, st.tuples(*[_field_values] * len(fields))), max_size=12))
    return {
        "name": draw(st.sampled_from(["cpu", "mem"])),
        "tags": {k: draw(st.text(max_size=3)) for k in tag_keys} or None,
        "columns": ["time", *fields],
        "values": [[t, *v] for t, v in rows],
    }


def _docs(series_list):
    return {"results": [{"statement_id": 0, "series": series_list}]}


def _same_rows(got, expected):
    # NaN != NaN: compare the JSON of each row, keys in order.
    assert [orjson.dumps(list(r.items()), default=str) for r in got] == [
        orjson.dumps(list(r.items()), default=str) for r in expected
    ]


@settings(max_examples=200, deadline=None)
@given(series_list=st.lists(_v1_series(), max_size=4))
def test_v1_epoch_int_rows_equal_rfc3339_rows_and_the_reference(series_list):
    as_ints = _docs(series_list)
    as_text = _docs(
        [{**s, "values": [[_rfc3339nano(v[0]), *v[1:]] for v in s["values"]]} for s in series_list]
    )
    expected = [row for s in series_list for row in _reference_v1_rows(s)]
    fast = decode_v1.v1_rows(as_ints)
    _same_rows(fast, expected)
    _same_rows(decode_v1.v1_rows(as_text), expected)
    assert all(r["time"].tzinfo is UTC for r in fast)
    # The documents are left as they were (the rows share no list with them).
    assert as_ints == _docs(series_list)
    ns = decode_v1.v1_rows(as_ints, time_as_ns=True)
    assert [r["time"] for r in ns] == [v[0] for s in series_list for v in s["values"]]
    assert [r["time"] for r in decode_v1.v1_rows(as_text, time_as_ns=True)] == [
        r["time"] for r in ns
    ]


def test_v1_rows_odd_series_take_the_general_path():
    later_none = {"name": "m", "columns": ["time", "v"], "values": [[1000, 1], [None, 2]]}
    short_row = {"name": "m", "columns": ["time", "v", "w"], "values": [[1000, 1, 2], [2000, 3]]}
    tag_like_column = {
        "name": "m",
        "tags": {"host": "a"},
        "columns": ["time", "host", "v"],
        "values": [[1000, "b", 1]],
    }
    for series in (later_none, short_row, tag_like_column):
        _same_rows(decode_v1.v1_rows(_docs([series])), _reference_v1_rows(series))
    assert decode_v1.v1_rows(_docs([later_none]))[1]["time"] is None
    assert list(decode_v1.v1_rows(_docs([tag_like_column]))[0]) == [
        "iox::measurement",
        "time",
        "host",
        "v",
    ]

"""formats.py on hand-built Arrow tables: the server's text for every type it meets."""

from __future__ import annotations

import io
from datetime import date

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from influxkit.server.formats import BatchEncoder, encode_table, format_float, format_timestamp


def small() -> pa.Table:
    tags = pa.array(["a", None, "b"]).dictionary_encode()
    return pa.table(
        {
            "host": tags.cast(pa.dictionary(pa.int32(), pa.string())),
            "f": pa.array([1.0, None, -2.5e-7]),
            "i": pa.array([None, -3, 4], pa.int64()),
            "u": pa.array([2**64 - 1, None, 0], pa.uint64()),
            "b": pa.array([True, False, None]),
            "time": pa.array([0, 1_000, 1_000_000_000], pa.timestamp("ns")),
        }
    )


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "1970-01-01T00:00:00"),
        (1_500_000_000, "1970-01-01T00:00:01.500"),
        (1_000_000, "1970-01-01T00:00:00.001"),
        (1_001_000, "1970-01-01T00:00:00.001001"),
        (123, "1970-01-01T00:00:00.000000123"),
        (-1, "1969-12-31T23:59:59.999999999"),
        (3_000_000_000_000_000_000, "2065-01-24T05:20:00"),
    ],
)
def test_timestamp_text(ns: int, text: str) -> None:
    assert format_timestamp(ns) == text


def test_zoned_timestamps_are_rfc3339() -> None:
    t = pa.table({"t": pa.array([0, 1_500_000_000], pa.timestamp("ns", tz="UTC"))})
    assert encode_table(t, "json") == (
        b'[{"t":"1970-01-01T00:00:00Z"},{"t":"1970-01-01T00:00:01.500Z"}]'
    )
    t = pa.table({"t": pa.array([0], pa.timestamp("s", tz="+05:30"))})
    assert encode_table(t, "csv") == b"t\n1970-01-01T05:30:00+05:30\n"


def test_other_timestamp_units() -> None:
    t = pa.table({"t": pa.array([1_500], pa.timestamp("ms"))})
    assert encode_table(t, "json") == b'[{"t":"1970-01-01T00:00:01.500"}]'


def test_json_omits_nulls_and_keeps_float_points() -> None:
    assert encode_table(small(), "json") == (
        b'[{"host":"a","f":1.0,"u":18446744073709551615,"b":true,"time":"1970-01-01T00:00:00"},'
        b'{"i":-3,"b":false,"time":"1970-01-01T00:00:00.000001"},'
        b'{"host":"b","f":-2.5e-7,"i":4,"u":0,"time":"1970-01-01T00:00:01"}]'
    )


def test_jsonl() -> None:
    body = encode_table(small(), "jsonl")
    assert body.endswith(b"\n")
    assert body.split(b"\n")[1] == b'{"i":-3,"b":false,"time":"1970-01-01T00:00:00.000001"}'


def test_csv() -> None:
    assert encode_table(small(), "csv") == (
        b"host,f,i,u,b,time\n"
        b"a,1.0,,18446744073709551615,true,1970-01-01T00:00:00\n"
        b",,-3,,false,1970-01-01T00:00:00.000001\n"
        b"b,-2.5e-7,4,0,,1970-01-01T00:00:01\n"
    )


def test_pretty() -> None:
    assert encode_table(small(), "pretty").decode() == (
        "+------+---------+----+----------------------+-------+----------------------------+\n"
        "| host | f       | i  | u                    | b     | time                       |\n"
        "+------+---------+----+----------------------+-------+----------------------------+\n"
        "| a    | 1.0     |    | 18446744073709551615 | true  | 1970-01-01T00:00:00        |\n"
        "|      |         | -3 |                      | false | 1970-01-01T00:00:00.000001 |\n"
        "| b    | -2.5e-7 | 4  | 0                    |       | 1970-01-01T00:00:01        |\n"
        "+------+---------+----+----------------------+-------+----------------------------+"
    )


def test_pretty_wide_characters() -> None:
    t = pa.table({"名": ["東京", "a"]})
    assert encode_table(t, "pretty").decode().splitlines()[1:4] == [
        "| 名   |",
        "+------+",
        "| 東京 |",
    ]


def test_parquet_round_trip() -> None:
    table = small()
    back = pq.read_table(io.BytesIO(encode_table(table, "parquet")))
    assert back.equals(table)


def test_empty_tables() -> None:
    empty = small().slice(0, 0)
    assert encode_table(empty, "json") == b"[]"
    for fmt in ("jsonl", "csv", "pretty", "parquet"):
        assert encode_table(empty, fmt) == b""


def test_batch_encoder_joins_batches() -> None:
    batches = small().to_batches(max_chunksize=1)
    assert len(batches) == 3
    enc = BatchEncoder("json")
    body = b"".join(enc.encode([batches[0].slice(0, 0), *batches]))
    assert body == encode_table(small(), "json")
    enc = BatchEncoder("csv")
    assert b"".join(enc.encode(batches)) == encode_table(small(), "csv")


def test_other_types() -> None:
    t = pa.table(
        {
            "d": pa.array([date(2024, 2, 29)]),
            "l": pa.array([[1, 2]]),
            "s": pa.array(['a "q"\n']),
            "nan": pa.array([float("nan")]),
            "big": pa.array([1e20]),
        }
    )
    assert orjson.loads(encode_table(t, "json")) == [
        {"d": "2024-02-29", "l": [1, 2], "s": 'a "q"\n', "nan": None, "big": 1e20}
    ]
    assert encode_table(t, "csv") == b'd,l,s,nan,big\n2024-02-29,"[1,2]","a ""q""\n",NaN,1.0e20\n'


def test_format_float() -> None:
    assert [format_float(v) for v in (0.0, -0.0, 3.0, 0.1, 1e-7, float("inf"))] == [
        "0.0",
        "-0.0",
        "3.0",
        "0.1",
        "1.0e-7",
        "inf",
    ]


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        encode_table(small(), "xml")
    with pytest.raises(ValueError, match="cannot be streamed"):
        BatchEncoder("parquet")

"""encode() works a thousand records at a time: the bytes are the lines joined, whatever
the input's length or kind, and errors past the first thousand still name their record."""

from __future__ import annotations

import math

import pytest

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.encode import _CHUNK, encode, encode_lines
from influxkit.lineprotocol.schema import Schema
from influxkit.point import Point


def records(n: int) -> list:
    kinds = [
        lambda i: Point("p", tags={"t": str(i % 3)}, fields={"v": i / 2}, time=i),
        lambda i: {"measurement": "d", "tags": {"t": "x"}, "fields": {"n": i}, "time": i},
        lambda i: f"s v={i}i {i}",
        lambda i: f"b v={i}i".encode(),
    ]
    return [kinds[i % 4](i) for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 2 * _CHUNK + 7])
def test_the_bytes_are_the_lines_joined(n):
    expected = "\n".join(encode_lines(records(n), precision="ms")).encode()
    assert encode(records(n), precision="ms") == expected
    assert encode(iter(records(n)), precision="ms") == expected  # an iterator, not a list
    assert encode(tuple(records(n)), precision="ms") == expected
    assert expected.count(b"\n") == max(n - 1, 0)


def test_empty_lines_and_empty_chunks_are_kept_as_they_were():
    # A "\n" record is an empty line, also alone in its chunk; "" records make no line.
    rows = ["a f=1"] * (_CHUNK - 1) + ["\n"] + [""] * _CHUNK + ["b f=2"]
    assert encode(rows) == "\n".join(encode_lines(rows)).encode()
    assert encode(rows).endswith(b"a f=1\n\nb f=2")
    assert encode([""] * (_CHUNK + 1)) == b""


def test_a_schema_applies_in_every_chunk():
    rows = [{"measurement": "m", "fields": {"v": i}} for i in range(_CHUNK + 2)]
    out = encode(rows, schema=Schema.from_value({"m": {"v": "float"}})).split(b"\n")
    assert out[0] == b"m v=0.0" and out[-1] == f"m v={_CHUNK + 1}.0".encode()


def test_errors_past_the_first_chunk_name_their_record():
    rows = records(2 * _CHUNK)
    rows[_CHUNK + 5] = Point("late").field("usage", math.nan)
    with pytest.raises(InvalidRecord, match=r"'late'.*'usage'"):
        encode(rows)
    rows[_CHUNK + 5] = Point("late").field("s", "\ud800")
    with pytest.raises(InvalidRecord, match=r"record starting 'late s=.*surrogate"):
        encode(rows)

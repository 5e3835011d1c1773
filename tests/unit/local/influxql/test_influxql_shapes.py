"""The v1 JSON shape (times, epochs, numbers, chunks) and the time helpers under it."""

from __future__ import annotations

import math
from datetime import UTC

import pytest

from influxkit.clients.local.influxql.result import Result, Series
from influxkit.clients.local.influxql.shape_v1 import documents, encode
from influxkit.clients.local.influxql.timeutil import (
    format_time,
    load_zone,
    parse_time_string,
    window,
)

H = 3_600_000_000_000


def _result(values: list[list[object]], **kwargs: object) -> Result:
    return Result(0, [Series("m", None, ["time", "v"], values, timed=True)], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("epoch", "style", "time"),
    [
        (None, "v1", "1970-01-01T00:00:01.5Z"),
        (None, "v3", "1970-01-01T00:00:01.500Z"),
        ("ns", "v1", 1_500_000_000),
        ("n", "v1", 1_500_000_000),
        ("u", "v1", 1_500_000),
        ("µ", "v1", 1_500_000_000),  # 1.6 does not know µ: nanoseconds
        ("µ", "v3", 1_500_000),
        ("ms", "v1", 1_500),
        ("s", "v1", 1),
        ("h", "v1", 0),
        ("bogus", "v1", 1_500_000_000),
    ],
)
def test_epochs_and_time_text(epoch: str | None, style: str, time: object) -> None:
    (doc,) = documents([_result([[1_500_000_000, 1.0]])], epoch=epoch, style=style)
    assert doc["results"][0]["series"][0]["values"] == [[time, 1]]


def test_negative_times_truncate_toward_zero_like_go() -> None:
    (doc,) = documents([_result([[-1_500_000_000, 1.0]])], epoch="s")
    assert doc["results"][0]["series"][0]["values"][0][0] == -1


def test_numbers_as_go_writes_them() -> None:
    (doc,) = documents([_result([[0, 82.0], [0, 0.1], [0, math.nan], [0, 2**70 * 1.0]])])
    body = encode([doc])
    assert b'["1970-01-01T00:00:00Z",82]' in body
    assert b"0.1]" in body and b"null]" in body


def test_empty_and_error_results() -> None:
    assert documents([Result(0), Result(1, error="boom")]) == [
        {"results": [{"statement_id": 0}, {"statement_id": 1, "error": "boom"}]}
    ]
    assert documents([]) == [{}]


def test_chunks_split_series_and_flag_what_continues() -> None:
    one = Series("m", {"t": "a"}, ["time", "v"], [[1, 1.0], [2, 2.0], [3, 3.0]], timed=True)
    two = Series("m", {"t": "b"}, ["time", "v"], [[4, 4.0]], timed=True)
    docs = documents([Result(0, [one, two]), Result(1)], epoch="ns", chunked=True, chunk_size=2)
    assert docs == [
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {
                            "name": "m",
                            "tags": {"t": "a"},
                            "columns": ["time", "v"],
                            "values": [[1, 1], [2, 2]],
                            "partial": True,
                        }
                    ],
                    "partial": True,
                }
            ]
        },
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {
                            "name": "m",
                            "tags": {"t": "a"},
                            "columns": ["time", "v"],
                            "values": [[3, 3]],
                        }
                    ],
                    "partial": True,
                }
            ]
        },
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {
                            "name": "m",
                            "tags": {"t": "b"},
                            "columns": ["time", "v"],
                            "values": [[4, 4]],
                        }
                    ],
                }
            ]
        },
        {"results": [{"statement_id": 1}]},
    ]
    assert encode(docs).count(b"\n") == 4


def test_time_strings() -> None:
    assert parse_time_string("2023-01-01T00:00:00Z") == 1_672_531_200_000_000_000
    assert parse_time_string("2023-01-01T01:00:00+01:00") == 1_672_531_200_000_000_000
    assert parse_time_string("2023-01-01 00:00:00.000000001") == 1_672_531_200_000_000_001
    assert parse_time_string("2023-01-01") == 1_672_531_200_000_000_000
    chicago = load_zone("America/Chicago")
    assert parse_time_string("2023-01-01", chicago) == 1_672_531_200_000_000_000 + 6 * H
    assert parse_time_string("yesterday") is None
    assert parse_time_string("2023-13-01") is None
    assert load_zone("UTC") is UTC
    assert load_zone("Mars/Olympus") is None


def test_formatting_in_a_zone() -> None:
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert format_time(123) == "1970-01-01T00:00:00.000000123Z"
    assert format_time(-1) == "1969-12-31T23:59:59.999999999Z"
    assert format_time(1_000_000_000, load_zone("America/Chicago")) == "1969-12-31T18:00:01-06:00"
    assert format_time(0, load_zone("Asia/Kolkata")) == "1970-01-01T05:30:00+05:30"


def test_windows_align_to_the_epoch_offset_and_zone() -> None:
    assert window(5 * H + 5, H) == (5 * H, 6 * H)
    assert window(-1, H) == (-H, 0)
    assert window(5 * H, 2 * H, 15 * 60 * 10**9)[0] == 4 * H + 15 * 60 * 10**9
    chicago = load_zone("America/Chicago")
    day = 24 * H
    # A day in Chicago (UTC-6 in winter) starts at 06:00 UTC.
    assert window(10 * day + 7 * H, day, 0, chicago)[0] == 10 * day + 6 * H

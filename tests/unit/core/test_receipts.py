"""Write receipts: what a write did, and rejected lines mapped back to the caller's records."""

from __future__ import annotations

import pytest

import influxkit
from influxkit import Point, Rejected


@pytest.fixture
def conn():
    with influxkit.connect(client="local", database="db") as c:
        c.write("cpu v=1i 1")  # v is an integer from here on
        yield c


def test_a_write_returns_its_receipt(conn) -> None:
    result = conn.write(["cpu v=2i 2", Point("cpu").field("v", 3).time(3)])
    assert isinstance(result, influxkit.WriteResult)
    assert result.accepted == result.lines == 2
    assert result.requests == 1 and result.rejected == () and result.retries == 0
    assert result.bytes == len(b"cpu v=2i 2\ncpu v=3i 3") and result.bytes_sent == result.bytes
    assert result.duration > 0 and not result.buffered


def test_rejected_lines_name_the_callers_records(conn) -> None:
    records = [
        "cpu v=2i 2",
        Point("cpu").field("v", 3).time(3),
        'cpu v=4i 4\n\n# a comment\ncpu v="x" 5',  # one record, two lines
        {"measurement": "cpu", "fields": {"v": "y"}, "time": 6},
        "cpu v=7i 7",
    ]
    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write(records)
    assert info.value.rejected == (
        Rejected(2, 4, 'cpu v="x" 5', info.value.line_errors[0].message),
        Rejected(3, 5, 'cpu v="y" 6', info.value.line_errors[1].message),
    )
    assert "expected iox::column_type::field::integer" in info.value.rejected[0].message


def test_a_generator_of_records_is_mapped_too(conn) -> None:
    def records():
        yield "cpu v=2i 2"
        yield {"measurement": "cpu", "fields": {"v": 2.5}, "time": 3}

    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write(records())
    [rejected] = info.value.rejected
    assert (rejected.record, rejected.line) == (1, "cpu v=2.5 3")


def test_a_single_body_maps_to_record_zero(conn) -> None:
    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write(b"cpu v=2i 2\ncpu v=true 3")
    [rejected] = info.value.rejected
    assert (rejected.record, rejected.line_number, rejected.line) == (0, 2, "cpu v=true 3")


def test_a_quoted_newline_does_not_shift_the_mapping(conn) -> None:
    with pytest.raises(influxkit.PartialWriteError) as info:
        conn.write([Point("cpu").field("v", 2).time(2), 'cpu,s=x v="two\nlines" 3', "cpu v=4i 4",
                    "cpu v=true 5"])  # fmt: skip
    assert [(r.record, r.line_number) for r in info.value.rejected] == [(1, 2), (3, 4)]
    assert info.value.rejected[0].line == 'cpu,s=x v="two\nlines" 3'

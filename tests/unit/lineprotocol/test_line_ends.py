"""file_lines and LineEnds: fed one physical row at a time, they cut where the parser cuts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influxkit.lineprotocol.parse import LineEnds, file_lines, numbered_lines

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows(text: str) -> list[bytes]:
    """``text`` as iterating a binary file gives it: rows that keep their newline."""
    return text.encode().splitlines(keepends=True)


def test_a_quoted_newline_joins_rows_into_one_line() -> None:
    text = 'cpu s="first\nsecond" 1\ncpu v=1 3\n'
    assert list(file_lines(rows(text))) == [(1, b'cpu s="first\nsecond" 1'), (3, b"cpu v=1 3")]


def test_an_escaped_newline_joins_rows() -> None:
    text = "cpu,k=a\\\nb v=1 1\ncpu v=2 2"
    assert [line for _, line in file_lines(rows(text))] == [b"cpu,k=a\\\nb v=1 1", b"cpu v=2 2"]


def test_a_quote_in_a_tag_value_opens_nothing() -> None:
    text = 'cpu,k=a"b v=1 1\ncpu v=2 2\n'
    assert list(file_lines(rows(text))) == [(1, b'cpu,k=a"b v=1 1'), (2, b"cpu v=2 2")]


def test_blank_rows_comments_and_crlf_are_skipped_and_numbers_kept() -> None:
    text = '\r\n# a "comment\r\n  \r\ncpu s="x" 1\r\n\ncpu v=1 2\r\n'
    assert list(file_lines(rows(text))) == [(4, b'cpu s="x" 1'), (6, b"cpu v=1 2")]


def test_an_unclosed_quote_at_the_end_is_handed_on() -> None:
    assert list(file_lines(rows('cpu v=1 1\ncpu s="open\nrest'))) == [
        (1, b"cpu v=1 1"),
        (2, b'cpu s="open\nrest'),
    ]


def test_line_ends_says_where_a_line_ends() -> None:
    ends = LineEnds()
    assert [ends.after(p) for p in ('m s="two', 'lines" 1', "m v=1 2")] == [False, True, True]


# Rows rich in what changes the scanner's state: quotes, escapes, "=", "," and spaces.
row = st.text(st.sampled_from('ab=, "\\#\t1é'), max_size=12)


@SETTINGS
@given(st.lists(row, max_size=8))
def test_it_cuts_where_the_parser_cuts(pieces: list[str]) -> None:
    text = "\n".join(pieces)
    lines = [line.decode() for _, line in file_lines(rows(text))]
    assert lines == numbered_lines(text)


@SETTINGS
@given(st.lists(row, max_size=8))
def test_each_line_is_numbered_by_the_row_it_starts_on(pieces: list[str]) -> None:
    text = "\n".join(pieces)
    physical = text.split("\n")
    for number, line in file_lines(rows(text)):
        first_row = line.decode().split("\n")[0]
        assert physical[number - 1].lstrip(" \t") == first_row

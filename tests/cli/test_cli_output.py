"""Query parameters, output formats and the write report, without a server."""

from __future__ import annotations

import io
import json

import click
import pyarrow as pa
import pytest
from rich.console import Console

from influxkit.cli_output import format_time, write_csv, write_jsonl, write_table
from influxkit.cli_progress import WriteReport
from influxkit.cli_query import parse_param


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=42", ("n", 42)),
        ("n=-7", ("n", -7)),
        ("x=0.5", ("x", 0.5)),
        ("x=1e3", ("x", 1000.0)),
        ("b=true", ("b", True)),
        ("b=FALSE", ("b", False)),
        ("h=web-1", ("h", "web-1")),
        ('s="42"', ("s", "42")),
        ("$h=a", ("h", "a")),
        ("e=", ("e", "")),
        ("q=a=b", ("q", "a=b")),
        ("v=1.2.3", ("v", "1.2.3")),
    ],
)
def test_param_values_are_typed_as_they_look(text, expected):
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=1", "1x=2", "a b=1"])
def test_bad_params_are_refused(text):
    with pytest.raises(click.BadParameter):
        parse_param(text)


def test_times_keep_nanoseconds():
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert format_time(1_767_225_600_000_000_001) == "2026-01-01T00:00:00.000000001Z"
    assert format_time(1_500_000_000) == "1970-01-01T00:00:01.5Z"
    assert format_time(-1) == "1969-12-31T23:59:59.999999999Z"


TABLE = pa.table(
    {
        "time": pa.array([1, None], pa.timestamp("ns")),
        "host": pa.array(["a", None]).dictionary_encode(),
        "ok": [True, None],
        "v": [0.5, float("nan")],
    }
)


def test_jsonl_and_csv_keep_nulls_and_types():
    out = io.BytesIO()
    assert write_jsonl([TABLE], out) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {"time": "1970-01-01T00:00:00.000000001Z", "host": "a", "ok": True, "v": 0.5}
    assert second == {"time": None, "host": None, "ok": None, "v": None}  # NaN is null in JSON
    out = io.BytesIO()
    write_csv(TABLE, out)
    assert out.getvalue().decode().splitlines() == [
        "time,host,ok,v",
        "1970-01-01T00:00:00.000000001Z,a,true,0.5",
        ",,,nan",
    ]


def test_table_is_aligned_and_counts_rows():
    out = io.StringIO()
    write_table(TABLE, out, terminal=False)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["time", "host", "ok", "v"]
    assert lines[-1] == "(2 rows)"
    assert lines[2].rstrip().endswith("0.5") and lines[3].rstrip().endswith("nan")
    assert len(lines[2].rstrip()) == len(lines[3].rstrip())  # numbers right-aligned


def test_progress_bar_on_a_terminal_shows_points_per_second():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=120)
    report = WriteReport(console)
    report.start_source("cpu.lp", total=100)
    report.advance(50, written=5000)
    report._progress.refresh()
    report.error("cpu.lp:7", "bad line", "cpu x")
    report.close()
    text = stream.getvalue()
    assert "points/s" in text and "5,000 points" in text
    assert "cpu.lp:7: bad line" in text
    assert "5,000 points written, 0 failed in" in text


def test_no_progress_bar_when_not_a_terminal_or_quiet():
    stream = io.StringIO()
    report = WriteReport(Console(file=stream, force_terminal=False))
    assert report._progress is None
    report.advance(1, written=3, failed=1)
    report.close()
    assert stream.getvalue().startswith("3 points written, 1 failed in")
    quiet = io.StringIO()
    on_tty = WriteReport(Console(file=quiet, force_terminal=True), quiet=True)
    assert on_tty._progress is None
    on_tty.close()
    assert quiet.getvalue() == ""

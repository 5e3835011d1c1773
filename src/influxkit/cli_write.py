"""``influxkit write``: line protocol, CSV or Parquet files (or stdin) into a database.

Input is read a batch at a time and each batch is one request, sent when the previous
one was answered; transient failures (network, 5xx, 429) are retried with backoff. A
refused line is listed as ``file:line`` (``file row N`` for CSV and Parquet), the
server's line numbers mapped back to the file's; the other lines of its batch still
land. The exit status is 1 when any point failed.
"""

from __future__ import annotations

import os
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from influxkit._optional import require
from influxkit.batching.retry import RetryPolicy
from influxkit.cli_connect import (
    ConnectionArgs,
    connection_options,
    open_connection,
    reported_errors,
    require_database,
)
from influxkit.cli_progress import WriteReport
from influxkit.connection import Connection
from influxkit.errors import InfluxError, PartialWriteError, WriteError
from influxkit.lineprotocol.parse import file_lines

__all__ = ["write_command"]

# (number in the file, line protocol) of one point to send.
Item = tuple[int, bytes]
_KINDS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_DROPPED = re.compile(r"\bdropped=(\d+)")  # InfluxDB 1.x counts what it could not store
_RETRY = RetryPolicy(max_retries=3, max_retry_time=60.0, interval=0.5, max_interval=8.0)


@dataclass(slots=True)
class _Input:
    """One input: a path (``None`` for stdin), its kind, and how far it was read."""

    path: str | None
    kind: str
    total: int | None = None
    position: int = 0

    @property
    def label(self) -> str:
        return self.path if self.path is not None else "<stdin>"

    def where(self, first: int, last: int | None = None) -> str:
        """``file:12`` / ``file:1-5000`` for line protocol, ``file row 3`` for tables."""
        span = f"{first}" if last is None or last == first else f"{first}-{last}"
        if self.kind == "lp":
            return f"{self.label}:{span}"
        return f"{self.label} {'row' if last in (None, first) else 'rows'} {span}"


def _binary_input(source: _Input) -> IO[bytes]:
    if source.path is None:
        return sys.stdin.buffer
    return open(source.path, "rb")


def _lp_items(source: _Input, report: WriteReport) -> Iterator[Item]:
    stream = _binary_input(source)
    if source.path is not None:
        source.total = os.path.getsize(source.path)
    report.start_source(source.label, source.total)

    def rows() -> Iterator[bytes]:
        for raw in stream:
            source.position += len(raw)
            yield raw

    try:
        yield from file_lines(rows())  # a quoted newline joins rows into one line
    finally:
        if source.path is not None:
            stream.close()


def _table_items(
    source: _Input, layout: Any, batch_size: int, report: WriteReport
) -> Iterator[Item]:
    import io

    from influxkit import cli_tables

    if source.path is None:
        data: Any = io.BytesIO(sys.stdin.buffer.read())
    else:
        data = source.path
    if source.kind == "csv":
        table = cli_tables.read_csv(data, layout)
        source.total = table.num_rows
        batches: Any = table.to_batches(max_chunksize=batch_size)
    else:
        _, source.total, batches = cli_tables.iter_parquet(data, batch_size)
    report.start_source(source.label, source.total)
    try:
        for row in cli_tables.table_rows(batches, layout):
            source.position = row.number
            if row.line is None:
                report.error(source.where(row.number), row.error or "cannot be written")
                report.advance(source.position, 0, failed=1)
            else:
                yield row.number, row.line.encode("utf-8")
    except cli_tables.LayoutError as exc:
        raise click.UsageError(f"{source.label}: {exc}") from None


class _Sender:
    """Sends batches of items, retrying what may succeed later, reporting what failed."""

    def __init__(self, conn: Connection | None, database: str, report: WriteReport) -> None:
        self.conn = conn  # None: a dry run, the lines go to stdout
        self.database = database
        self.report = report
        self.rng = random.Random()

    def send(self, source: _Input, chunk: list[Item], precision: str) -> None:
        body = b"\n".join(line for _, line in chunk)
        if self.conn is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(body + b"\n")
            self.report.advance(source.position, len(chunk))
            return
        try:
            self._write(body, precision)
        except InfluxError as exc:
            if not isinstance(exc, WriteError) or exc.status in (401, 403, 404):
                # Every later batch would fail the same way: stop (the caller says why).
                self.report.advance(source.position, 0, failed=len(chunk))
                raise
            failed = self._report_refused(source, chunk, exc)
            self.report.advance(source.position, len(chunk) - failed, failed)
            return
        self.report.advance(source.position, len(chunk))

    def _write(self, body: bytes, precision: str) -> None:
        assert self.conn is not None
        attempt, started = 0, time.monotonic()
        while True:
            try:
                self.conn.write(body, database=self.database, precision=precision)
                return
            except InfluxError as exc:
                attempt += 1
                wait = _RETRY.next_delay(exc, attempt, time.monotonic() - started, self.rng)
                if wait is None:
                    raise
                time.sleep(wait)

    def _report_refused(self, source: _Input, chunk: list[Item], exc: WriteError) -> int:
        """List the refused lines of ``chunk``; how many points failed."""
        listed: set[int] = set()
        for err in exc.line_errors:
            index = err.line_number - 1
            if not 0 <= index < len(chunk):
                continue
            listed.add(index)
            number, line = chunk[index]
            # The file's line, whole (a server may shorten its copy).
            self.report.error(source.where(number), err.message, line.decode("utf-8", "replace"))
        first, last = chunk[0][0], chunk[-1][0]
        if not isinstance(exc, PartialWriteError):
            if not listed:
                self.report.error(source.where(first, last), exc.message)
            return len(chunk)
        dropped = sum(int(n) for n in _DROPPED.findall(exc.message))
        if dropped or not listed:
            self.report.error(source.where(first, last), exc.message)
        known = len(listed) + dropped
        return min(len(chunk), known) if known else len(chunk)


def _kind(path: str | None, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    return "lp" if path is None else _KINDS.get(Path(path).suffix.lower(), "lp")


def _inputs(files: tuple[str, ...], fmt: str) -> list[_Input]:
    if not files:
        if sys.stdin.isatty():
            raise click.UsageError("no input: give FILES, or pipe data to stdin (or use -)")
        files = ("-",)
    return [_Input(None if f == "-" else f, _kind(None if f == "-" else f, fmt)) for f in files]


_HELP = """Write points from line protocol, CSV or Parquet files (or stdin).

FILES are read in order; - or no FILES reads stdin.  The format follows the
extension (.csv, .parquet; anything else is line protocol) unless --format says.
Points go in batches of --batch-size, one request at a time; network errors,
5xx and 429 answers are retried.  Refused lines are listed as file:line (file
row N for CSV and Parquet) and the rest of their batch still lands.  Exits 1
when any point failed.

CSV and Parquet: one row is one point of --measurement; --tag columns are tags,
--time-column the time, every other column a field (int -> integer, unsigned ->
uinteger, float, bool, string; an empty cell skips that field).  A numeric time
is in --precision units; timestamps and ISO-8601 strings carry their own.

A progress bar (points/s) shows on stderr when it is a terminal; the summary
line always does, unless --quiet.

\b
Examples:
  influxkit write -d metrics cpu.lp
  cat cpu.lp | influxkit write --url http://localhost:8181 -d metrics
  influxkit write -d metrics --precision s cpu_seconds.lp
  influxkit write -d metrics readings.csv --measurement weather --tag station
  influxkit write -c prod trades.parquet --measurement trades --tag symbol \\
      --tag venue --time-column ts
  influxkit write --url http://localhost:8086 --api-version v1 -d telegraf cpu.lp
  influxkit write readings.csv --measurement weather --dry-run | head
"""


@click.command("write", help=_HELP)
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "lp", "csv", "parquet"]),
    default="auto",
    show_default=True,
    help="Input format (auto: from the file extension; stdin is line protocol).",
)
@click.option("--measurement", "-m", metavar="NAME", help="Measurement of CSV/Parquet rows.")
@click.option(
    "--tag", "-t", "tags", metavar="COLUMN", multiple=True, help="A tag column (repeatable)."
)
@click.option(
    "--time-column", default="time", show_default=True, metavar="COLUMN", help="Time column."
)
@click.option(
    "--precision",
    type=click.Choice(["ns", "us", "ms", "s"]),
    default="ns",
    show_default=True,
    help="Unit of line protocol timestamps and of a numeric time column.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Points per request.",
)
@click.option(
    "--show-errors",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    metavar="N",
    help="List at most N errors (0: all).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.option(
    "--dry-run", is_flag=True, help="Print the line protocol to stdout instead of writing it."
)
@connection_options
def write_command(
    *,
    files: tuple[str, ...],
    fmt: str,
    measurement: str | None,
    tags: tuple[str, ...],
    time_column: str,
    precision: str,
    batch_size: int,
    show_errors: int,
    quiet: bool,
    dry_run: bool,
    conn_args: ConnectionArgs,
) -> None:
    """Write every input; exit 1 if any point failed."""
    from rich.console import Console

    inputs = _inputs(files, fmt)
    layout = None
    if any(i.kind != "lp" for i in inputs):
        if not measurement:
            raise click.UsageError("CSV and Parquet input need --measurement NAME")
        with reported_errors():
            require("pyarrow", "local")
        from influxkit.cli_tables import TableLayout

        layout = TableLayout(measurement, tags, time_column, precision)
    report = WriteReport(Console(stderr=True), quiet=quiet, show_errors=show_errors)
    with reported_errors():
        try:
            if dry_run:
                _run(_Sender(None, "", report), inputs, layout, precision, batch_size)
            else:
                with open_connection(conn_args) as conn:
                    db = require_database(conn.config, "write")
                    _run(_Sender(conn, db, report), inputs, layout, precision, batch_size)
        finally:
            report.close()
    if report.failed or report.errors:
        raise click.exceptions.Exit(1)


def _run(
    sender: _Sender, inputs: list[_Input], layout: Any, precision: str, batch_size: int
) -> None:
    """Read every input in turn and send it in batches of ``batch_size``."""
    report = sender.report
    for source in inputs:
        if source.kind == "lp":
            items, prec = _lp_items(source, report), precision
        else:
            items, prec = _table_items(source, layout, batch_size, report), "ns"
        chunk: list[Item] = []
        try:
            for item in items:
                chunk.append(item)
                if len(chunk) >= batch_size:
                    sender.send(source, chunk, prec)
                    chunk = []
            if chunk:
                sender.send(source, chunk, prec)
        except (OSError, ValueError) as exc:
            if isinstance(exc, InfluxError):
                raise
            raise click.ClickException(f"{source.label}: {exc}") from None

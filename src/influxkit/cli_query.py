"""``influxkit query``: SQL or InfluxQL, printed as a table or written as data.

On a terminal the result is an aligned table; when stdout is a pipe or a file the
default is JSON lines (one object per row: typed, null kept, streamed as it arrives),
and ``--format`` picks json, jsonl, csv, parquet or table explicitly.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from influxkit._optional import require
from influxkit.cli_connect import (
    ConnectionArgs,
    connection_options,
    open_connection,
    reported_errors,
    require_database,
)

__all__ = ["parse_param", "query_command"]

_NAME = re.compile(r"\$?([A-Za-z_][A-Za-z0-9_]*)")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)")
_EXTENSIONS = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_EXTENSIONS |= {".parquet": "parquet", ".pq": "parquet", ".txt": "table"}
FORMATS = ("table", "json", "jsonl", "csv", "parquet")


def parse_param(text: str) -> tuple[str, Any]:
    """``name=value`` as a query parameter; the value typed as it looks.

    ``true``/``false`` (any case) are booleans, ``42`` an int, ``0.5`` or ``1e3`` a
    float; a value in double quotes is the string inside them (``"42"`` is the text
    42); anything else is a string.

    Example:
        >>> parse_param("limit=10"), parse_param("host=web-1"), parse_param('code="007"')
        (('limit', 10), ('host', 'web-1'), ('code', '007'))
    """
    name, sep, value = text.partition("=")
    match = _NAME.fullmatch(name.strip())
    if not sep or match is None:
        raise click.BadParameter(
            f"{text!r}: expected NAME=VALUE with NAME a parameter name, e.g. host=web-1",
            param_hint="'--param'",
        )
    return match.group(1), _typed(value)


def _typed(value: str) -> Any:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


def _params(items: tuple[str, ...]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for item in items:
        name, value = parse_param(item)
        if name in params:
            raise click.BadParameter(f"{name!r} is given twice", param_hint="'--param'")
        params[name] = value
    return params or None


def _pick_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    if output:
        return _EXTENSIONS.get(Path(output).suffix.lower(), "jsonl")
    return "table" if sys.stdout.isatty() else "jsonl"


def _emit(fmt: str, result: Any, output: str | None, *, terminal: bool) -> None:
    """Write ``result`` in ``fmt`` to ``output`` (a path) or to stdout."""
    from influxkit.cli_output import (
        stdout_bytes,
        write_csv,
        write_json,
        write_jsonl,
        write_parquet,
        write_table,
    )

    if fmt == "table":
        if output is None:
            write_table(result, sys.stdout, terminal=terminal)
        else:
            with open(output, "w", encoding="utf-8") as text:
                write_table(result, text, terminal=False)
        return
    writer = {"jsonl": write_jsonl, "json": write_json, "csv": write_csv}.get(fmt, write_parquet)
    if output is None:
        writer(result, stdout_bytes())
    else:
        with open(output, "wb") as out:
            writer(result, out)


_HELP = """Run a SQL or InfluxQL query and print the result.

On a terminal the result is an aligned table; piped or redirected, it is JSON
lines (one object per row) unless --format says otherwise.  With --output FILE
the format follows the file's extension (.json, .jsonl, .csv, .parquet).
Times are RFC 3339 UTC strings with nanoseconds in the text formats.

--language auto runs SQL on InfluxDB 3 and InfluxQL on 1.x / 2.x connections.
$name placeholders are bound from --param name=value: true/false become
booleans, 42 an int, 0.5 a float, "42" (in double quotes) the string 42;
anything else is a string.  QUERY - reads the query from stdin.

\b
Examples:
  influxkit query -d metrics "SELECT * FROM cpu ORDER BY time DESC LIMIT 10"
  influxkit query -d metrics "SELECT * FROM cpu WHERE host = \\$host" --param host=web-1
  influxkit query -d metrics "SELECT * FROM cpu" --format csv > cpu.csv
  influxkit query -d metrics "SELECT * FROM cpu" --output cpu.parquet
  influxkit query -c prod --language influxql "SHOW MEASUREMENTS"
  influxkit query --url http://localhost:8086 --api-version v1 -d telegraf \\
      "SELECT mean(usage_idle) FROM cpu WHERE time > now() - 1h GROUP BY time(5m)"
  echo "SELECT count(*) FROM cpu" | influxkit query -d metrics -
"""


@click.command("query", help=_HELP)
@click.argument("query")
@click.option(
    "--language",
    "-l",
    type=click.Choice(["auto", "sql", "influxql"]),
    default="auto",
    show_default=True,
    help="Query language (auto: SQL on v3, InfluxQL on v1 and v2).",
)
@click.option(
    "--param",
    "-p",
    "params",
    metavar="NAME=VALUE",
    multiple=True,
    help="Bind $NAME in the query (repeatable); typed as described above.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    help="Output format [default: table on a terminal, jsonl otherwise].",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE instead of stdout.",
)
@connection_options
def query_command(
    *,
    query: str,
    language: str,
    params: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    conn_args: ConnectionArgs,
) -> None:
    """Run one query and write its result."""
    if query == "-":
        query = sys.stdin.read()
    bound = _params(params)
    fmt = _pick_format(fmt, output)
    terminal = output is None and sys.stdout.isatty()
    if fmt == "parquet" and terminal:
        raise click.UsageError("Parquet is binary: pass --output FILE or redirect stdout to a file")
    with reported_errors(), open_connection(conn_args) as conn:
        require("pyarrow", "local")  # results are read as Arrow tables
        if language == "auto":
            if conn.config.api_version == "auto":
                conn.server_info()  # the profile follows the server found
            language = "sql" if conn.profile.supports("query_sql") else "influxql"
        if language == "sql":
            db = require_database(conn.config, "a SQL query")
            if fmt == "jsonl":
                result: Any = conn.query_sql_stream(
                    query, params=bound, database=db, format="arrow"
                )
            else:
                result = conn.query_sql(query, params=bound, database=db, format="arrow")
        else:
            result = conn.query_influxql(query, params=bound, format="arrow")
            if fmt == "jsonl":
                result = [result]
        _emit(fmt, result, output, terminal=terminal)

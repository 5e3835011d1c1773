"""``influxkit health``, ``influxkit databases list|create|delete``, ``influxkit config show``."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click
import orjson

from influxkit.cli_connect import (
    ConnectionArgs,
    connection_options,
    open_connection,
    reported_errors,
    resolve,
)
from influxkit.config import ConnectionConfig

__all__ = ["config_group", "databases_group", "health_command", "shown_config"]

_SECRETS = frozenset({"token", "password"})
_TEXT_OR_JSON = click.Choice(["text", "json"])


def _echo_json(value: Any) -> None:
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str).decode())


# -- health -------------------------------------------------------------------

_HEALTH_HELP = """Check that the server answers and is healthy.

Prints the server's status, product and version; exits 1 when the server cannot
be reached or reports a status other than "pass".

\b
Examples:
  influxkit health --url http://localhost:8181
  influxkit health -c prod --format json
  influxkit health --url http://localhost:8086 --api-version v1 && echo up
"""


@click.command("health", help=_HEALTH_HELP)
@click.option("--format", "-f", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@connection_options
def health_command(fmt: str, conn_args: ConnectionArgs) -> None:
    """Print the server's health; exit 1 unless it passes."""
    with reported_errors(), open_connection(conn_args) as conn:
        report = conn.health()
        where = conn.config.base_url
    if fmt == "json":
        _echo_json(report)
    else:
        click.echo(f"{report.get('status', 'unknown')}  {where}")
        for key, value in report.items():
            if key != "status":
                click.echo(f"  {key}: {value}")
    if report.get("status") != "pass":
        raise click.exceptions.Exit(1)


# -- databases ------------------------------------------------------------------

_DATABASES_HELP = """List, create and delete databases.

\b
Examples:
  influxkit databases list --url http://localhost:8181
  influxkit databases create metrics -c prod
  influxkit databases delete scratch -c prod --yes
"""


@click.group("databases", help=_DATABASES_HELP)
def databases_group() -> None:
    """The ``databases`` commands."""


_LIST_HELP = """Print the databases' names, one a line.

\b
Examples:
  influxkit databases list --url http://localhost:8181
  influxkit databases list -c prod --format json
  influxkit databases list --url http://localhost:8086 --api-version v1
"""


@databases_group.command("list", help=_LIST_HELP)
@click.option("--format", "-f", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@connection_options
def databases_list(fmt: str, conn_args: ConnectionArgs) -> None:
    """Print every database name."""
    with reported_errors(), open_connection(conn_args) as conn:
        names = conn.list_databases()
    if fmt == "json":
        _echo_json(names)
    else:
        for name in names:
            click.echo(name)


_CREATE_HELP = """Create database NAME (exit 1 if it exists).

\b
Examples:
  influxkit databases create metrics --url http://localhost:8181
  influxkit databases create metrics -c prod --retention-period 30d
"""


@databases_group.command("create", help=_CREATE_HELP)
@click.argument("name")
@click.option(
    "--retention-period", metavar="DURATION", help="How long data is kept, e.g. 30d or 12h."
)
@connection_options
def databases_create(name: str, retention_period: str | None, conn_args: ConnectionArgs) -> None:
    """Create one database."""
    with reported_errors(), open_connection(conn_args) as conn:
        conn.create_database(name, retention_period=retention_period)
    click.echo(f"created database {name!r}", err=True)


_DELETE_HELP = """Delete database NAME and all its data.

Asks first on a terminal; elsewhere --yes is required.

\b
Examples:
  influxkit databases delete scratch --url http://localhost:8181
  influxkit databases delete scratch -c prod --yes
"""


@databases_group.command("delete", help=_DELETE_HELP)
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@connection_options
def databases_delete(name: str, yes: bool, conn_args: ConnectionArgs) -> None:
    """Delete one database, after confirmation."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError(f"pass --yes to delete database {name!r} without a prompt")
        click.confirm(f"Delete database {name!r} and all its data?", abort=True)
    with reported_errors(), open_connection(conn_args) as conn:
        conn.delete_database(name)
    click.echo(f"deleted database {name!r}", err=True)


# -- config ---------------------------------------------------------------------

_CONFIG_HELP = """Inspect the connection configuration.

\b
Examples:
  influxkit config show
  influxkit config show -c prod --config ~/.config/influxkit.toml
"""


@click.group("config", help=_CONFIG_HELP)
def config_group() -> None:
    """The ``config`` commands."""


def shown_config(config: ConnectionConfig) -> dict[str, Any]:
    """The config's options as plain values, ``url`` first; secrets as ``[secure]``."""
    shown: dict[str, Any] = {"url": config.base_url if config.client == "http" else None}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name in _SECRETS:
            value = "[secure]" if value is not None else None
        elif f.name == "databases":
            value = list(value)
        elif f.name == "batch" and value is not None:
            value = {k: v for k, v in dataclasses.asdict(value).items() if k != "on_error"}
        shown[f.name] = value
    return shown


_SHOW_HELP = """Print the effective connection configuration and where each value came from.

The token and password are shown as [secure], never in clear.  Sources: the
--url/--token/--database/--api-version/--option flags, then either the
[connections.NAME] table of the --config file (with --connection) or the
INFLUX_* environment variables, then the library's defaults.

\b
Examples:
  influxkit config show
  influxkit config show --url https://db.example:8181 --database app
  INFLUX_HOST=http://db.example:8181 INFLUX_TOKEN=... influxkit config show
  influxkit config show -c prod --config influx.toml --format json
"""


@config_group.command("show", help=_SHOW_HELP)
@click.option("--format", "-f", "fmt", type=_TEXT_OR_JSON, default="text", show_default=True)
@connection_options
def config_show(fmt: str, conn_args: ConnectionArgs) -> None:
    """Print the resolved config (secrets redacted)."""
    with reported_errors():
        resolved = resolve(conn_args)
    shown = shown_config(resolved.config)
    if fmt == "json":
        _echo_json({k: {"value": v, "source": _source(resolved, k)} for k, v in shown.items()})
        return
    width = max(len(k) for k in shown)
    cells = {k: _text(v) for k, v in shown.items()}
    value_width = max(len(c) for c in cells.values())
    for key, cell in cells.items():
        click.echo(f"{key:<{width}}  {cell:<{value_width}}  {_source(resolved, key)}".rstrip())


def _source(resolved: Any, key: str) -> str:
    if key == "url":
        return resolved.sources.get("host", "default")
    return resolved.source(key)


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value) or "-"
    return str(value)

"""Where the command line's connection comes from, and how its errors are reported.

Every command that talks to a server takes the same options (:func:`connection_options`).
The options are gathered from one base source, then the flags on top:

* ``--connection NAME``: the ``[connections.NAME]`` table of the TOML file given by
  ``--config FILE`` or ``INFLUXKIT_CONFIG`` (the ``INFLUX_*`` variables are then not
  read, so a token meant for one server never goes to another);
* otherwise the ``INFLUX_*`` environment variables the library reads;
* then ``--url``, ``--token``, ``--database``, ``--api-version`` and ``--option KEY=VALUE``
  override single options (``--url`` replaces the whole address, credentials included).

Validation is the library's (:meth:`ConnectionConfig.from_options`), so messages match.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from influxkit.config import ConnectionConfig
from influxkit.config_sources import ENV_VARS, options_from_env, options_from_toml, options_from_url
from influxkit.connection import Connection
from influxkit.errors import ConfigError, InfluxError, MissingDependency

__all__ = [
    "ConnectionArgs",
    "Resolved",
    "connection_options",
    "open_connection",
    "reported_errors",
    "require_database",
    "resolve",
]

# The options a URL sets: a --url replaces all of them, so none is left from the base.
_ADDRESS_KEYS = ("scheme", "host", "port", "path_prefix", "username", "password")


@dataclass(frozen=True, slots=True)
class ConnectionArgs:
    """The connection flags of one command invocation, as given."""

    url: str | None = None
    token: str | None = None
    database: str | None = None
    api_version: str | None = None
    connection: str | None = None
    config_file: str | None = None
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resolved:
    """The validated config and, per option, where its value came from."""

    config: ConnectionConfig
    sources: dict[str, str]

    def source(self, option: str) -> str:
        """Where ``option`` was set (``"default"`` when nothing set it)."""
        return self.sources.get(option, "default")


def _parse_options(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{item!r}: expected KEY=VALUE, e.g. timeout=30", param_hint="'--option'"
            )
        out[key.strip()] = value
    return out


def resolve(args: ConnectionArgs, environ: Mapping[str, str] | None = None) -> Resolved:
    """Merge the sources of ``args`` into one validated config.

    Raises:
        ConfigError: a source or a value is wrong (the library's message).
    """
    env = os.environ if environ is None else environ
    opts: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def add(new: Mapping[str, Any], source: str) -> None:
        for key, value in new.items():
            opts[key] = value
            sources[key] = source

    if args.connection:
        if not args.config_file:
            raise ConfigError(
                f"--connection {args.connection} needs a config file: pass --config FILE "
                "or set INFLUXKIT_CONFIG"
            )
        where = f"{args.config_file} [connections.{args.connection}]"
        add(options_from_toml(args.config_file, args.connection), where)
        add({"name": args.connection}, where)
    else:
        for var in ENV_VARS:
            if env.get(var) and not (var == "INFLUX_HOST" and args.url):
                add(options_from_env({var: env[var]}), f"env {var}")
    if args.url:
        for key in _ADDRESS_KEYS:
            opts.pop(key, None)
            sources.pop(key, None)
        add(options_from_url(args.url), "--url")
    flags = {"token": args.token, "database": args.database, "api_version": args.api_version}
    for key, value in flags.items():
        if value is not None:
            add({key: value}, f"--{key.replace('_', '-')}")
    for key, value in _parse_options(args.options).items():
        add({key: value}, f"--option {key}")
    if "client" not in opts and env.get("INFLUXKIT_CLIENT"):
        sources["client"] = "env INFLUXKIT_CLIENT"  # the library reads it itself
    return Resolved(ConnectionConfig.from_options(**opts), sources)


def open_connection(args: ConnectionArgs) -> Connection:
    """A new (unregistered) connection for ``args``; the caller closes it."""
    return Connection(resolve(args).config)


def require_database(config: ConnectionConfig, command: str) -> str:
    """The config's database, or a :class:`ConfigError` saying how to give one."""
    if not config.database:
        where = f" or set database in [connections.{config.name}]" if config.name else ""
        raise ConfigError(
            f"{command} needs a database: pass --database NAME, set INFLUX_DATABASE{where}"
        )
    return config.database


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn library errors into click's: configuration -> usage (exit 2), others exit 1."""
    try:
        yield
    except MissingDependency as exc:
        raise click.ClickException(str(exc)) from None
    except ConfigError as exc:
        raise click.UsageError(str(exc), ctx=click.get_current_context(silent=True)) from None
    except InfluxError as exc:
        raise click.ClickException(str(exc)) from None


_OPTIONS = [
    click.option(
        "--url",
        metavar="URL",
        help="Server URL, e.g. http://localhost:8181; ?api_version=v1 and other options "
        "may follow. [env: INFLUX_HOST]",
    ),
    click.option(
        "--token",
        metavar="TOKEN",
        help="API token (prefer INFLUX_TOKEN or token_env in the config file: "
        "a flag is visible to other users of the machine). [env: INFLUX_TOKEN]",
    ),
    click.option(
        "--database", "-d", metavar="NAME", help="Database to use. [env: INFLUX_DATABASE]"
    ),
    click.option(
        "--api-version",
        type=click.Choice(["v3", "v2", "v1", "auto"]),
        help="Server API: v3 (InfluxDB 3, default), v2, v1 (InfluxDB 1.x), or auto (what "
        "the server says it is). [env: INFLUXKIT_API_VERSION]",
    ),
    click.option(
        "--connection",
        "-c",
        metavar="NAME",
        envvar="INFLUXKIT_CONNECTION",
        help="Use [connections.NAME] of the config file instead of INFLUX_* variables. "
        "[env: INFLUXKIT_CONNECTION]",
    ),
    click.option(
        "--config",
        "config_file",
        metavar="FILE",
        envvar="INFLUXKIT_CONFIG",
        help="TOML file with [connections.NAME] tables. [env: INFLUXKIT_CONFIG]",
    ),
    click.option(
        "--option",
        "options",
        metavar="KEY=VALUE",
        multiple=True,
        help="Any other connection option, e.g. timeout=30 or verify_ssl=false (repeatable).",
    ),
]


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the connection flags to a click command; it receives them as ``conn_args``."""

    @functools.wraps(func)
    def wrapper(
        *a: Any,
        url: str | None,
        token: str | None,
        database: str | None,
        api_version: str | None,
        connection: str | None,
        config_file: str | None,
        options: tuple[str, ...],
        **kw: Any,
    ) -> Any:
        conn_args = ConnectionArgs(
            url, token, database, api_version, connection, config_file, options
        )
        return func(*a, conn_args=conn_args, **kw)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper

"""The ``influxkit`` command line (click): write, query, health, databases, config, serve, demo.

Each command lives in its own module (``cli_write``, ``cli_query``, ``cli_admin``;
``serve`` in :mod:`influxkit.server.cli`); this module only assembles the group.
"""

from __future__ import annotations

import sys

from influxkit._optional import require

__all__ = ["build", "main"]

_HELP = """influxkit: a client for InfluxDB 3, 2.x and 1.x, with a local engine.

Connections come from --url/--token/--database, the INFLUX_* environment
variables, or --connection NAME in the TOML file given by --config or
INFLUXKIT_CONFIG.  Exit status: 0 ok, 1 failure, 2 usage error.

\b
Examples:
  influxkit serve --database test &
  influxkit write --url http://127.0.0.1:8181 -d test cpu.lp
  influxkit query --url http://127.0.0.1:8181 -d test "SELECT * FROM cpu"
  influxkit health -c prod --config influx.toml
  influxkit databases list --url http://localhost:8086 --api-version v1
  influxkit config show
"""

_DEMO_HELP = """Run the demo on the embedded local engine: two named connections, a few
thousand points, SQL with date_bin, aggregates and $params.

\b
Examples:
  influxkit demo
  influxkit demo --points 10000
"""


def build() -> object:
    """The ``influxkit`` click group with every command added."""
    click = require("click", "cli")
    require("rich", "cli")

    @click.group(help=_HELP)
    @click.version_option(package_name="influxkit")
    def cli() -> None:
        pass

    @cli.command(help=_DEMO_HELP)
    @click.option("--points", default=6000, show_default=True, help="How many points to write.")
    def demo(points: int) -> None:
        from influxkit.demo import run

        run(points=points, out=click.echo)

    from influxkit.cli_admin import config_group, databases_group, health_command
    from influxkit.cli_query import query_command
    from influxkit.cli_write import write_command
    from influxkit.server.cli import add_serve_command

    for command in (write_command, query_command, health_command, databases_group, config_group):
        cli.add_command(command)
    add_serve_command(cli)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``influxkit`` command."""
    from influxkit.errors import MissingDependency

    try:
        cli = build()
    except MissingDependency as exc:  # installed without the cli extra
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    try:
        cli.main(args=argv, prog_name="influxkit", standalone_mode=True)  # type: ignore[attr-defined]
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``influxkit`` command line (click): ``demo`` and ``serve``."""

from __future__ import annotations

import sys

from influxkit._optional import require

__all__ = ["main"]


def _build() -> object:
    click = require("click", "cli")

    @click.group(help="influxkit: a client for InfluxDB 3, 2.x and 1.x, with a local engine.")
    @click.version_option(package_name="influxkit")
    def cli() -> None:
        pass

    @cli.command(
        help="Run the demo on the embedded local engine: two named connections, a few "
        "thousand points, SQL with date_bin, aggregates and $params.\n\n"
        "Example:\n\n  influxkit demo --points 10000"
    )
    @click.option("--points", default=6000, show_default=True, help="How many points to write.")
    def demo(points: int) -> None:
        from influxkit.demo import run

        run(points=points, out=click.echo)

    from influxkit.server.cli import add_serve_command

    add_serve_command(cli)
    return cli


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``influxkit`` command."""
    cli = _build()
    try:
        cli.main(args=argv, prog_name="influxkit", standalone_mode=True)  # type: ignore[attr-defined]
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

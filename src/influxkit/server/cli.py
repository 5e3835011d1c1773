"""The ``serve`` command (click): ``influxkit serve`` and ``python -m influxkit.server``."""

from __future__ import annotations

from typing import Any

from influxkit._optional import require

__all__ = ["add_serve_command", "serve_command"]

_HELP = """Serve an in-memory InfluxDB 3 over HTTP, for tests and local work.

Any InfluxDB client or tool can write to it and query it with SQL; the data lives
in memory and is gone when the server stops.  This is a developer tool, not a
production server.  It listens on 127.0.0.1 unless told otherwise, and refuses
any other address without a token.

\b
Examples:
  influxkit serve
  influxkit serve --port 8282 --database test --database metrics
  INFLUXKIT_SERVE_TOKEN=secret influxkit serve --host 0.0.0.0
  influxkit serve --profile v3_enterprise --token secret
  influxkit serve --flight-port 8182

\b
Then, from another shell:
  curl -i -X POST 'http://127.0.0.1:8181/api/v3/write_lp?db=test' \\
       --data-binary 'cpu,host=a usage=0.5'
  curl 'http://127.0.0.1:8181/api/v3/query_sql?db=test&q=SELECT+*+FROM+cpu&format=pretty'

\b
With --flight-port, Arrow Flight queries (gRPC DoGet, as InfluxDB 3 answers them)
go to grpc+tcp://127.0.0.1:<flight port>; InfluxDB 3 itself serves Flight on its
HTTP port, so tell the client the port: influxdb3-python takes
query_port_overwrite=<flight port>, influxkit the connection option flight_port.
"""


def serve_command() -> Any:
    """The click command (built on demand: click is an optional dependency)."""
    click = require("click", "cli")
    from influxkit.clients.profiles import PROFILES

    @click.command("serve", help=_HELP)
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
    @click.option(
        "--port",
        default=8181,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="Port to listen on (0: a free one, shown in the log).",
    )
    @click.option(
        "--token",
        envvar="INFLUXKIT_SERVE_TOKEN",
        default=None,
        help="Token clients must send (Bearer, Token, Basic or p=). "
        "Without one, every endpoint is open. [env: INFLUXKIT_SERVE_TOKEN]",
    )
    @click.option(
        "--profile",
        default="v3_core",
        show_default=True,
        type=click.Choice(sorted(PROFILES)),
        help="Which kind of server the engine behaves as (limits, auto-created databases).",
    )
    @click.option(
        "--flight-port",
        "flight_port",
        default=None,
        type=click.IntRange(1, 65535),
        metavar="PORT",
        help="Also answer Arrow Flight queries on this port (same host and token). Off by default.",
    )
    @click.option(
        "--org",
        default=None,
        metavar="NAME",
        help="The organization of the v2 profile (default: named by the first request "
        "that names one).",
    )
    @click.option(
        "--database",
        "databases",
        multiple=True,
        metavar="NAME",
        help="Create this database at start (repeat for more).",
    )
    def serve(
        *,
        host: str,
        port: int,
        token: str | None,
        profile: str,
        flight_port: int | None,
        org: str | None,
        databases: tuple[str, ...],
    ) -> None:
        from influxkit.errors import ConfigError
        from influxkit.server.flight import flight_location
        from influxkit.server.run import serve as run

        auth = "token required" if token else "no authentication"
        click.echo(f"influxkit serve: profile {profile}, {auth}", err=True)
        if flight_port is not None:
            click.echo(
                f"influxkit serve: Arrow Flight on {flight_location(host, flight_port)}", err=True
            )
        try:
            run(
                host=host,
                port=port,
                token=token,
                profile=profile,
                databases=databases,
                flight_port=flight_port,
                org=org,
                announce=lambda url: click.echo(f"influxkit serve: listening on {url}", err=True),
            )
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        except OSError as exc:  # the port is taken, or the address is not this machine's
            raise click.ClickException(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port"
            ) from None

    return serve


def add_serve_command(group: Any) -> None:
    """Add ``serve`` to a click group (the ``influxkit`` command line calls this)."""
    group.add_command(serve_command(), "serve")

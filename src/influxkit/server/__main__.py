"""``python -m influxkit.server``: the ``influxkit serve`` command on its own."""

from __future__ import annotations

import sys

from influxkit.server.cli import serve_command


def main(argv: list[str] | None = None) -> int:
    """Run the ``serve`` command with ``argv`` (default: the process arguments)."""
    command = serve_command()
    try:
        command.main(args=argv, prog_name="python -m influxkit.server", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

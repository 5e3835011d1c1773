"""Import time: ``import influxkit`` beside the peer clients, each in fresh interpreters.

Run: python bench/bench_import.py [--runs 7]
Goal (from the issue): influxkit's import at most a quarter of influxdb3-python's.

Each figure is the cumulative time ``python -X importtime`` reports for the package's
own top-level import (so interpreter start-up is left out), median of ``--runs``
fresh processes; modules are taken in turns so machine load hits all alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PACKAGES = {
    "influxkit": "influxkit",
    "influxdb3-python": "influxdb_client_3",
    "influxdb-client": "influxdb_client",
    "influxdb (1.x)": "influxdb",
}


def import_seconds(module: str) -> float:
    """Cumulative µs of ``import module`` from ``-X importtime``, in seconds."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in proc.stderr.splitlines():
        # "import time:  self [us] | cumulative | imported package"
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1e6
    raise SystemExit(f"no importtime line for {module}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {label: [] for label in PACKAGES}
    for _ in range(args.runs):
        for label, module in PACKAGES.items():
            times[label].append(import_seconds(module))
    medians = {label: statistics.median(t) for label, t in times.items()}
    base = medians["influxdb3-python"]
    print(f"import time, median of {args.runs} fresh interpreters (-X importtime, cumulative):")
    for label, t in medians.items():
        print(f"  {label:<18} {t * 1000:8.1f} ms   {t / base:5.2f}x influxdb3-python")
    ratio = medians["influxkit"] / base
    verdict = "OK" if ratio <= 0.25 else "OVER"
    print(f"influxkit / influxdb3-python: {ratio:.2f} -> {verdict} (goal <= 0.25)")


if __name__ == "__main__":
    main()

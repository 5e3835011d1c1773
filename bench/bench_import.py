"""Import time: ``import influxkit`` beside the peer clients, each in fresh interpreters.

Run: python bench/bench_import.py [--runs 7]
Goal (from the issue): influxkit's import at most a quarter of influxdb3-python's.

Each figure is the cumulative time ``python -X importtime`` reports for the package's
own top-level import (so interpreter start-up is left out), median of ``--runs``
fresh processes; modules are taken in turns so machine load hits all alike.

Bytecode: pip writes ``.pyc`` files when it installs a wheel, so the peers import from
bytecode. An editable install of influxkit has none until Python writes them, and a
machine with ``PYTHONDONTWRITEBYTECODE=1`` (this one has it) never does, so every
import compiles the sources again (about 16 ms of the total here). The script compiles
influxkit's bytecode first, as an installed package has it, and prints the figure
without bytecode too, for the record.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

PACKAGES = {
    "influxkit": "influxkit",
    "influxdb3-python": "influxdb_client_3",
    "influxdb-client": "influxdb_client",
    "influxdb (1.x)": "influxdb",
}


def compile_bytecode(module: str) -> None:
    """Write the package's ``.pyc`` files, as ``pip install`` of a wheel does."""
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{module} is not installed")
    folder = Path(spec.origin).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder)], check=True)


def has_bytecode(module: str) -> bool:
    """Whether the package's ``__init__`` has a ``.pyc`` for this interpreter."""
    spec = find_spec(module)
    return spec is not None and spec.cached is not None and Path(spec.cached).exists()


def import_seconds(module: str) -> float:
    """Cumulative µs of ``import module`` from ``-X importtime``, in seconds."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # the runs leave nothing behind
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
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
    source = None
    if not has_bytecode("influxkit"):  # an editable install where no .pyc was written
        source = statistics.median(import_seconds("influxkit") for _ in range(args.runs))
    compile_bytecode("influxkit")
    times: dict[str, list[float]] = {label: [] for label in PACKAGES}
    for _ in range(args.runs):
        for label, module in PACKAGES.items():
            times[label].append(import_seconds(module))
    medians = {label: statistics.median(t) for label, t in times.items()}
    base = medians["influxdb3-python"]
    print(f"import time, median of {args.runs} fresh interpreters (-X importtime, cumulative):")
    for label, t in medians.items():
        print(f"  {label:<18} {t * 1000:8.1f} ms   {t / base:5.2f}x influxdb3-python")
    if source is not None:
        print(
            f"  (influxkit from source, no .pyc written: {source * 1000:.1f} ms, "
            f"{source / base:.2f}x; an installed wheel has its .pyc)"
        )
    ratio = medians["influxkit"] / base
    verdict = "OK" if ratio <= 0.25 else "OVER"
    print(f"influxkit / influxdb3-python: {ratio:.2f} -> {verdict} (goal <= 0.25)")


if __name__ == "__main__":
    main()

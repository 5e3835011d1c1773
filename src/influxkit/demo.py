"""The README's main job: two named local connections, generated points, SQL, tables.

Runs entirely on the embedded local engine, so it needs no server:
``influxkit demo`` (or ``python -m influxkit.demo``).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from typing import Any

import influxkit

__all__ = ["run"]

START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
STEP_NS = 10_000_000_000  # one point per host every 10 s


def _prices(n: int, rng: random.Random) -> list[influxkit.Point]:
    points = []
    for i in range(n):
        symbol = ("AAPL", "MSFT", "NVDA")[i % 3]
        base = {"AAPL": 230.0, "MSFT": 480.0, "NVDA": 140.0}[symbol]
        price = round(base * (1 + 0.01 * math.sin(i / 50) + rng.uniform(-0.002, 0.002)), 4)
        points.append(
            influxkit.Point("trades")
            .tag("symbol", symbol)
            .tag("venue", ("XNAS", "BATS")[i % 2])
            .field("price", price)
            .field("size", rng.randint(1, 500))
            .time(START_NS + (i // 3) * STEP_NS)
        )
    return points


def _cpu_lines(n: int, rng: random.Random) -> str:
    lines = []
    for i in range(n):
        host = f"web-{i % 4}"
        usage = round(20 + 60 * rng.random(), 3)
        lines.append(
            f"cpu,host={host},region=eu usage={usage},procs={rng.randint(50, 400)}i "
            f"{START_NS + (i // 4) * STEP_NS}"
        )
    return "\n".join(lines)


QUERIES: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "trading",
        "5-minute average price and volume for $symbol",
        """SELECT date_bin(INTERVAL '5 minutes', time) AS bucket,
                  avg(price) AS avg_price, sum(size) AS volume, count(*) AS trades
           FROM trades WHERE symbol = $symbol
           GROUP BY bucket ORDER BY bucket LIMIT 6""",
        {"symbol": "NVDA"},
    ),
    (
        "metrics",
        "busiest hosts (mean usage above $threshold %)",
        """SELECT host, avg(usage) AS mean_usage, max(usage) AS peak, count(*) AS samples
           FROM cpu GROUP BY host HAVING avg(usage) > $threshold ORDER BY mean_usage DESC""",
        {"threshold": 40.0},
    ),
]


def _table(title: str, rows: list[dict[str, Any]], out: Callable[[str], None]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain text when rich (the cli extra) is absent
        out(title)
        for row in rows:
            out("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
        return
    table = Table(title=title)
    for col in rows[0] if rows else ["(no rows)"]:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(v) for v in row.values()))
    Console().print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}"
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def run(points: int = 6000, out: Callable[[str], None] = print) -> dict[str, list[dict[str, Any]]]:
    """Register two local connections, write ``points`` points, run the SQL, print tables."""
    rng = random.Random(7)
    influxkit.add_connection("trading", client="local", database="markets", replace=True)
    influxkit.add_connection("metrics", client="local", database="ops", replace=True)
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        t0 = time.perf_counter()
        influxkit.write("trading", _prices(points // 2, rng))
        influxkit.write("metrics", _cpu_lines(points - points // 2, rng))
        elapsed = time.perf_counter() - t0
        out(f"wrote {points} points to 'trading' and 'metrics' in {elapsed:.2f} s")
        for name, title, sql, params in QUERIES:
            rows = influxkit.query_sql(name, sql, params=params)
            results[title] = rows
            _table(f"{name}: {title}  params={params}", rows, out)
    finally:
        influxkit.remove_connection("trading")
        influxkit.remove_connection("metrics")
    return results


if __name__ == "__main__":
    run()

"""Registry lookup + facade dispatch cost per call, beside a plain dict lookup and a lock.

Run: .venv/bin/python bench/bench_dispatch.py
Goal (issue 2): lookup plus dispatch under 1 microsecond per call.
"""

from __future__ import annotations

import statistics
import threading
import timeit

import influxkit
from influxkit import facade, registry

N = 200_000
RUNS = 7


def per_call_ns(stmt, n: int = N) -> float:
    times = timeit.repeat(stmt, number=n, repeat=RUNS)
    return statistics.median(times) / n * 1e9


def main() -> None:
    conn = influxkit.add_connection("bench", client="local", database="db")
    plain = {"bench": conn}
    lock = threading.Lock()

    def locked_get():
        with lock:
            return plain.get("bench")

    rows = [
        ("plain dict lookup", per_call_ns(lambda: plain.get("bench"))),
        ("dict lookup under an uncontended lock", per_call_ns(locked_get)),
        ("registry.get(name)", per_call_ns(lambda: registry.get("bench"))),
        ("facade name resolution", per_call_ns(lambda: facade._resolve("bench"))),
        ("influxkit.flush('bench') (resolve + dispatch + profile check)",
         per_call_ns(lambda: influxkit.flush("bench"))),
        ("conn.flush() (method call only)", per_call_ns(conn.flush)),
    ]  # fmt: skip
    influxkit.remove_connection("bench")
    width = max(len(r[0]) for r in rows)
    print(f"median of {RUNS} runs x {N} calls")
    for name, ns in rows:
        print(f"{name:<{width}}  {ns:8.1f} ns/call")
    total = rows[4][1]
    verdict = "OK" if total < 1000 else "OVER"
    print(f"facade dispatch: {total:.0f} ns/call -> {verdict} (goal < 1000 ns)")


if __name__ == "__main__":
    main()

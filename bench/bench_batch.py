"""The batch writer against a private InfluxDB 1.x: throughput vs the raw-POST ceiling, and
a reliability run through the fault proxy.

Throughput: 1,000,000 points written through ``write()`` on a batched connection
(``size`` 5,000), timed from the first ``write()`` to the return of ``flush()``, beside
raw preformatted POSTs of the same batches on one connection (the ceiling, as in
``bench_http_v1.py``). Cases: preformatted lines and ``Point`` objects, one request in
flight and two. Every run goes into a fresh database on an idle server and is checked
with a count query; medians of ``--runs``.

Reliability: ``--fault-points`` points through :class:`influxkit.testing.faultproxy.FaultProxy`
with random resets (before and after the server saw the request), stalls, 503s and
429s; prints points sent, points counted on the server, faults injected, retries and
wall time.

Run: ``python bench/bench_batch.py [--points N] [--runs R] [--fault-points N]``.
Goal (from the issue): points written through ``write()`` with batching on reach
>= 100% of the single-connection raw-POST ceiling.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import influxkit
from bench_http_v1 import BATCH, Bench, batches
from influxkit.testing.faultproxy import SOAK_FAULTS, FaultProxy
from influxkit.testing.influxd import InfluxdServer


def batch_writer(
    url: str, records: list, *, in_flight: int, gzip_threshold: int = 1024
) -> Callable[[str], None]:
    """Write ``records`` 5,000 at a time through a batched connection, then flush."""
    chunks = batches(records)

    def run(db: str) -> None:
        options = {"size": BATCH, "max_in_flight": in_flight, "flush_interval": 1.0}
        with influxkit.connect(
            url, api_version="v1", database=db, gzip_threshold=gzip_threshold, batch=options
        ) as conn:
            for chunk in chunks:
                conn.write(chunk)
            conn.flush()
            stats = conn.stats()
            if stats["points_failed"]:
                raise SystemExit(f"batch writer: {stats['points_failed']} points failed")

    return run


def throughput(bench: Bench) -> None:
    points = [
        influxkit.Point("cpu", tags=t, fields=f, time=ts)
        for t, f, ts in (_split(line) for line in bench.lines)
    ]
    methods = {
        "raw POST, one connection (ceiling)": bench.raw(gzip=False),
        "influxkit batch, lines, 1 in flight": batch_writer(bench.url, bench.lines, in_flight=1),
        "influxkit batch, lines, 2 in flight": batch_writer(bench.url, bench.lines, in_flight=2),
        "influxkit batch, lines, 2 in flight, no gzip": batch_writer(
            bench.url, bench.lines, in_flight=2, gzip_threshold=10**9
        ),
        "influxkit batch, Points, 1 in flight": batch_writer(bench.url, points, in_flight=1),
        "influxkit batch, Points, 2 in flight": batch_writer(bench.url, points, in_flight=2),
    }
    print(f"write {bench.points:,} points in batches of {BATCH:,}, median of {bench.runs}:")
    rates = bench.measure(methods)
    ceiling = rates["raw POST, one connection (ceiling)"]
    print()
    for label, rate in rates.items():
        print(f"  {label:<44} {rate / ceiling:6.2f}x ceiling")
    best = max(v for k, v in rates.items() if k.startswith("influxkit"))
    verdict = "OK" if best >= ceiling else "UNDER"
    print(f"best batch writer vs raw-POST ceiling: {best / ceiling:.2f}x -> {verdict} "
          "(goal >= 1.0x)")  # fmt: skip


def _split(line: str) -> tuple[dict[str, str], dict[str, object], int]:
    """The tags, fields and time of one of :func:`bench_http_v1.make_lines`'s lines."""
    series, fields, ts = line.split(" ")
    _, *tags = series.split(",")
    usage, idle = fields.split(",")
    return (
        dict(t.split("=") for t in tags),
        {"usage": float(usage.split("=")[1]), "idle": int(idle.split("=")[1][:-1])},
        int(ts),
    )


def reliability(server: InfluxdServer, n: int) -> None:
    url = urlsplit(server.url)
    db = "faults"
    with influxkit.connect(server.url, api_version="v1") as admin:
        admin.create_database(db)
        with FaultProxy(url.hostname or "127.0.0.1", url.port or 8086, seed=1) as proxy:
            proxy.set_random(**SOAK_FAULTS)
            options = {
                "size": BATCH,
                "max_retries": 100,
                "retry_interval": 0.05,
                "max_retry_interval": 1.0,
            }
            started = time.perf_counter()
            with influxkit.connect(
                proxy.url, api_version="v1", database=db, timeout=5, batch=options
            ) as conn:
                for k in range(0, n, BATCH):
                    conn.write(
                        [f"cpu,host=h{i % 50} v={i}i {i + 1}" for i in range(k, min(n, k + BATCH))]
                    )
                conn.flush()
                stats = conn.stats()
            wall = time.perf_counter() - started
            faults = proxy.injected
        counted = admin.query_influxql("SELECT count(v) FROM cpu", database=db)[0]["count"]
        admin.delete_database(db)
    print(f"\nreliability: {n:,} points through the fault proxy into InfluxDB 1.x")
    print(f"  points sent              {n:>12,}")
    print(f"  points counted on server {counted:>12,}")
    print(f"  faults injected          {sum(faults.values()):>12,}  {faults}")
    print(f"  requests / retries       {stats['requests']:>12,} / {stats['retries']:,}")
    print(f"  points handed to on_error{stats['points_failed']:>12,}")
    print(f"  wall time                {wall:>12.2f} s")
    print(f"  verdict: {'OK, nothing lost' if counted == n else 'POINTS LOST'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fault-points", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = InfluxdServer.start(workdir=Path(tmp))
        try:
            bench = Bench(server, args.points, args.runs)
            try:
                throughput(bench)
                reliability(server, args.fault_points)
            finally:
                bench.admin.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()

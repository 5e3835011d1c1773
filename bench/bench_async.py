"""100 concurrent workers writing and querying ``influxkit serve``: threads vs coroutines.

Each worker does ``--rounds`` rounds of one write (a small batch of ``--points``
points, its own tag) and one query (a small SELECT of its own latest points) against
``influxkit serve`` (:func:`influxkit.server.running_server`, in a child process so
the server does not share the client's GIL):

* ``sync``: ``--workers`` threads over the sync API, through one registered
  connection with ``pool_size`` = workers (``--pool-size`` to change it)
  (``influxkit.write(name, ...)``);
* ``async``: as many coroutines on one event loop over :mod:`influxkit.aio`, through
  the same kind of registered connection (``await influxkit.aio.write(name, ...)``).

Every run writes into a database of its own (created by its first write, dropped
after the run), after one untimed warm-up round that fills the pools. Printed per
mode: operations per second (writes + queries), p50 / p99 latency of writes, of
queries and of all operations, as medians over ``--runs`` runs, and the rounds that
failed (a server closing a kept-alive connection just as it is reused resets that
request: counted, not timed).

Run: ``python bench/bench_async.py [--workers 100] [--rounds 20] [--points 10] [--runs 3]
[--pool-size N]``. Figures and what limits them: ``docs/async.md`` (Performance).

``--loop-lag`` measures instead how long single operations hold the event loop: a probe
task sleeps 1 ms in a loop, and each overshoot is time the loop could not run; printed
per operation are the worst and the p99 overshoot and the operation's duration. The
operations: a local write of ``--lag-lines`` lines (one ``str``), the same as Points,
the same through a batched local connection (``size`` 10,000, then ``flush()``), the
same over HTTP to ``influxkit serve`` (own process), and the first calls of a fresh
process (``connect()``, a write, a ``query_sql``, each over HTTP and on the local
engine; run in a child interpreter, so that nothing is imported yet).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import influxkit
import influxkit.aio

SQL = "SELECT v, time FROM m WHERE w = $w ORDER BY time DESC LIMIT 5"
# 100 connections opened at once may be refused or reset: the warm-up round, which opens
# them, tries again rather than leave a worker out of the run.
WARM_UP_TRIES = 5


def serve(databases: list[str], ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The child process: ``influxkit serve`` on a free port until told to stop."""
    from influxkit.server import running_server

    with running_server(databases=databases) as server:
        ready.put(server.url)
        stop.wait()


def lines(worker: int, round_: int, points: int) -> list[str]:
    base = (round_ * points + 1) * 1000
    return [f"m,w=w{worker} v={round_ * points + i}i {base + i}" for i in range(points)]


@dataclass
class Run:
    """One timed run: wall time, every operation's latency (seconds), failures."""

    elapsed: float
    writes: list[float]
    queries: list[float]
    errors: int = 0

    @property
    def ops_per_s(self) -> float:
        return (len(self.writes) + len(self.queries)) / self.elapsed


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_threads(url: str, db: str, workers: int, rounds: int, points: int, pool: int) -> Run:
    """``workers`` threads through one registered sync connection."""
    name = f"bench-sync-{db}"
    influxkit.add_connection(name, url, database=db, pool_size=pool, timeout=60)
    writes: list[list[float]] = [[] for _ in range(workers)]
    queries: list[list[float]] = [[] for _ in range(workers)]
    errors = [0] * workers
    start = threading.Barrier(workers + 1)
    done = threading.Barrier(workers + 1)

    def worker(k: int) -> None:
        params = {"w": f"w{k}"}
        for _ in range(WARM_UP_TRIES):  # warm-up (untimed): connections open
            try:
                influxkit.write(name, lines(k, 0, points))
                influxkit.query_sql(name, SQL, params=params)
                break
            except influxkit.InfluxError:
                time.sleep(0.1)
        start.wait()
        for r in range(1, rounds + 1):
            try:
                t0 = time.perf_counter()
                influxkit.write(name, lines(k, r, points))
                t1 = time.perf_counter()
                rows = influxkit.query_sql(name, SQL, params=params)
                t2 = time.perf_counter()
            except influxkit.InfluxError:
                errors[k] += 1
                continue
            assert rows and rows[0]["v"] == r * points + points - 1
            writes[k].append(t1 - t0)
            queries[k].append(t2 - t1)
        done.wait()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    done.wait()
    elapsed = time.perf_counter() - began
    for t in threads:
        t.join()
    influxkit.delete_database(name, db)  # InfluxDB 3 Core allows 5 databases
    influxkit.remove_connection(name)
    return Run(
        elapsed, [x for w in writes for x in w], [x for q in queries for x in q], sum(errors)
    )


def run_coroutines(url: str, db: str, workers: int, rounds: int, points: int, pool: int) -> Run:
    """``workers`` coroutines on one loop through one registered connection's async side."""
    name = f"bench-aio-{db}"
    influxkit.add_connection(name, url, database=db, pool_size=pool, timeout=60)
    writes: list[float] = []
    queries: list[float] = []
    errors: list[int] = []

    async def worker(k: int, warm: list[int], all_warm: asyncio.Event, go: asyncio.Event) -> None:
        params = {"w": f"w{k}"}
        for _ in range(WARM_UP_TRIES):  # warm-up (untimed): connections open
            try:
                await influxkit.aio.write(name, lines(k, 0, points))
                await influxkit.aio.query_sql(name, SQL, params=params)
                break
            except influxkit.InfluxError:
                await asyncio.sleep(0.1)
        warm.append(k)
        if len(warm) == workers:
            all_warm.set()
        await go.wait()
        for r in range(1, rounds + 1):
            try:
                t0 = time.perf_counter()
                await influxkit.aio.write(name, lines(k, r, points))
                t1 = time.perf_counter()
                rows = await influxkit.aio.query_sql(name, SQL, params=params)
                t2 = time.perf_counter()
            except influxkit.InfluxError:
                errors.append(k)
                continue
            assert rows and rows[0]["v"] == r * points + points - 1
            writes.append(t1 - t0)
            queries.append(t2 - t1)

    async def main() -> float:
        warm: list[int] = []
        all_warm, go = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(worker(k, warm, all_warm, go)) for k in range(workers)]
        await all_warm.wait()
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    elapsed = asyncio.run(main())
    influxkit.delete_database(name, db)  # InfluxDB 3 Core allows 5 databases
    influxkit.remove_connection(name)
    return Run(elapsed, writes, queries, len(errors))


def report(mode: str, runs: list[Run]) -> None:
    def med(get: Callable[[Run], float]) -> float:
        return statistics.median(get(r) for r in runs)

    ms = 1000.0
    print(
        f"{mode:>6} | {med(lambda r: r.ops_per_s):8.0f} ops/s | "
        f"write p50 {med(lambda r: quantile(r.writes, 0.5)) * ms:6.1f} ms "
        f"p99 {med(lambda r: quantile(r.writes, 0.99)) * ms:6.1f} ms | "
        f"query p50 {med(lambda r: quantile(r.queries, 0.5)) * ms:6.1f} ms "
        f"p99 {med(lambda r: quantile(r.queries, 0.99)) * ms:6.1f} ms | "
        f"all p50 {med(lambda r: quantile(r.writes + r.queries, 0.5)) * ms:6.1f} ms "
        f"p99 {med(lambda r: quantile(r.writes + r.queries, 0.99)) * ms:6.1f} ms | "
        f"failed {sum(r.errors for r in runs)}"
    )


class LagProbe:
    """A task sleeping 1 ms at a time while the block runs; its overshoots are the loop's lag."""

    def __init__(self, every: float = 0.001) -> None:
        self.every = every
        self.lags: list[float] = []
        self.took = 0.0

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.every)
            now = time.perf_counter()
            self.lags.append(now - last - self.every)
            last = now

    async def __aenter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.02)  # the probe runs before the operation starts
        self.lags.clear()
        self._started = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.took = time.perf_counter() - self._started
        await asyncio.sleep(2 * self.every)  # the tick after the operation counts too
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def figures(self) -> dict[str, float]:
        """Worst and p99 lag and the block's duration, in ms."""
        lags = self.lags or [self.took]
        return {
            "worst": max(lags) * 1000,
            "p99": quantile(lags, 0.99) * 1000,
            "took": self.took * 1000,
        }


# The first calls of a fresh interpreter (argv: client, url or ""): JSON figures out.
FIRST_CALLS = """
import asyncio, json, sys, time
sys.path.insert(0, {bench_dir!r})
from bench_async import LagProbe
import influxkit.aio

async def main(client, url):
    out = {{}}
    options = {{"client": "local"}} if client == "local" else {{"url": url, "client": "http"}}
    async with LagProbe() as probe:
        conn = influxkit.aio.connect(**options, database="lag")
        await asyncio.sleep(0)
    out["connect"] = probe.figures()
    async with LagProbe() as probe:
        await conn.write("m v=1i 1")
    out["first write"] = probe.figures()
    async with LagProbe() as probe:
        await conn.query_sql("SELECT v FROM m")
    out["first query_sql"] = probe.figures()
    await conn.close()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def first_calls(client: str, url: str) -> dict[str, dict[str, float]]:
    """The loop lag of a fresh process's first ``connect()``, write and query."""
    import os

    code = FIRST_CALLS.format(bench_dir=os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(
        [sys.executable, "-c", code, client, url], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


async def write_lags(url: str, n: int) -> dict[str, dict[str, float]]:
    """The loop lag of one big write per way of writing (a fresh connection each)."""

    def body() -> str:
        return "\n".join(f"big,h=h{i % 100} v={i}i,w={i * 0.1} {i + 1}" for i in range(n))

    def points() -> list[influxkit.Point]:
        point = influxkit.Point
        return [point("pts").tag("h", f"h{i % 100}").field("v", i).time(i + 1) for i in range(n)]

    batch = {"size": 10_000, "max_buffer_points": 2 * n}
    cases: list[tuple[str, dict[str, Any], Callable[[], Any], bool]] = [
        (f"local write {n:,} lines", {"client": "local"}, body, False),
        (f"local write {n:,} Points", {"client": "local"}, points, False),
        (f"local batched write {n:,} lines", {"client": "local", "batch": batch}, body, True),
        (f"http write {n:,} lines", {"url": url, "client": "http", "timeout": 120}, body, False),
    ]
    out = {}
    for label, options, make, flush in cases:
        records = make()  # held only for its own case: a big heap makes GC passes longer
        async with influxkit.aio.connect(**options, database="lag") as conn:
            async with LagProbe() as probe:
                await conn.write(records)
                if flush:
                    await conn.flush()
            out[label] = probe.figures()
        del records
    return out


def report_lags(figures: dict[str, dict[str, float]]) -> None:
    for label, f in figures.items():
        print(
            f"  {label:<42} worst {f['worst']:6.1f} ms | p99 {f['p99']:5.1f} ms | "
            f"took {f['took']:7.0f} ms",
            flush=True,
        )


def loop_lag(url: str, n: int) -> None:
    """``--loop-lag``: how long single operations hold the loop (see the module's doc)."""
    print(f"loop lag (a probe sleeping 1 ms; worst / p99 overshoot), influxkit serve at {url}")
    report_lags(asyncio.run(write_lags(url, n)))
    for client in ("http", "local"):
        calls = first_calls(client, url)
        report_lags({f"{client}, fresh process: {k}": v for k, v in calls.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--points", type=int, default=10, help="points per write")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pool-size", type=int, default=None, help="default: --workers")
    parser.add_argument("--loop-lag", action="store_true", help="measure the loop's lag instead")
    parser.add_argument("--lag-lines", type=int, default=300_000, help="lines per --loop-lag write")
    args = parser.parse_args()
    pool = args.pool_size or args.workers

    ctx = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue = ctx.Queue()
    stop = ctx.Event()
    server = ctx.Process(target=serve, args=(["db"], ready, stop), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=60)
        if args.loop_lag:
            loop_lag(url, args.lag_lines)
            return
        with influxkit.connect(url, database="db") as conn:  # the server's first-query costs
            conn.write("m,w=w0 v=0i 1")
            conn.query_sql(SQL, params={"w": "w0"})
        print(
            f"influxkit serve at {url} (own process); {args.workers} workers x {args.rounds} "
            f"rounds of write({args.points} points) + query; pool_size={pool}; "
            f"median of {args.runs} runs"
        )
        results: dict[str, list[Run]] = {"sync": [], "async": []}
        for i in range(args.runs):  # interleaved, so drift in the machine hits both alike
            for mode, runner in (("sync", run_threads), ("async", run_coroutines)):
                run = runner(url, f"{mode}{i}", args.workers, args.rounds, args.points, pool)
                results[mode].append(run)
                print(f"  run {i + 1} {mode:>5}: {run.ops_per_s:8.0f} ops/s", flush=True)
        for mode, runs in results.items():
            report(mode, runs)
    finally:
        stop.set()
        server.join(30)


if __name__ == "__main__":
    main()

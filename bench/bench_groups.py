"""Fan-out delivery delay on a group's healthy member while the other is stalled or down.

A steady stream of ``--writes`` writes of ``--points`` points (one write every
``--pace`` seconds, distinct timestamps) goes to a group of two batched members: a
private InfluxDB 1.x (Debian's ``influxd``) and ``influxkit serve`` (in a child process,
so it does not share the client's GIL). The other member sits behind
:class:`influxkit.testing.faultproxy.FaultProxy`. A watcher thread polls the healthy
member and notes when each write's points are all queryable; the delay of a write is
from the start of its ``write()`` to then (so it includes the batch writer's
``flush_interval`` of 0.1 s and the watcher's poll, a few ms). Cases, for each member
as the healthy one:

* ``single``: one batched connection to the healthy server, no group;
* ``group, both healthy``: the group, the other member's proxy passing everything;
* ``group, other stalled``: every request to the other member held ``--stall`` seconds;
* ``group, other down``: the other member's proxy resets every connection.

After each run the faults are cleared, the group flushed, and both members counted:
a run that lost a point stops the script. Printed: p50 / p99 / max delay and the p99
of the ``write()`` call itself, each the median over ``--runs`` runs.

Run: ``python bench/bench_groups.py [--writes 100] [--points 200] [--pace 0.04]
[--runs 3] [--stall 3]``. Figures: ``docs/groups.md``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import influxkit
from influxkit.testing.faultproxy import FaultProxy
from influxkit.testing.influxd import InfluxdServer

DB = "bench"
EPOCH_NS = 1767225600 * 10**9
BATCH = {
    "size": 1000,
    "flush_interval": 0.1,
    "max_retries": 100_000,
    "max_retry_time": 120,
    "retry_interval": 0.05,
    "max_retry_interval": 0.2,
}
SINGLE, BOTH, STALLED, DOWN = CASES = (
    "single connection, no group",
    "group, both healthy",
    "group, other stalled",
    "group, other down",
)
_measurements = itertools.count()


def serve(ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """The child process: ``influxkit serve`` on a free port until told to stop."""
    from influxkit.server import running_server

    with running_server(databases=[DB]) as server:
        ready.put(server.url)
        stop.wait()


@contextmanager
def serve_process() -> Iterator[str]:
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=serve, args=(ready, stop), name="bench-serve")
    child.start()
    try:
        yield ready.get(timeout=60)
    finally:
        stop.set()
        child.join(30)


@dataclass
class Member:
    """A server of the group: its direct URL, its proxy, and how to count on it."""

    kind: str  # "influxd" or "serve"
    url: str
    proxy: FaultProxy
    api_version: str | None

    def counts(self, conn: influxkit.Connection, m: str, first: int) -> dict[int, int]:
        """Points per write (tag ``w``) among the points numbered ``first`` and up."""
        if self.kind == "influxd":
            rows = conn.query_influxql(f"SELECT count(v) FROM {m} WHERE v >= {first} GROUP BY w")
            return {int(r["w"]): r["count"] for r in rows}
        rows = conn.query_sql(f"SELECT w, count(*) AS n FROM {m} WHERE v >= {first} GROUP BY w")
        return {int(r["w"]): r["n"] for r in rows}

    def connect(self, *, via_proxy: bool = False, **kwargs: Any) -> influxkit.Connection:
        url = self.proxy.url if via_proxy else self.url
        return influxkit.connect(url, api_version=self.api_version, database=DB, **kwargs)


@dataclass
class Result:
    delays: list[float] = field(default_factory=list)
    calls: list[float] = field(default_factory=list)


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def run_once(
    write: Callable[[list[str]], object],
    healthy: Member,
    reader: influxkit.Connection,
    args: argparse.Namespace,
) -> tuple[Result, str]:
    """One stream; returns its delays and the measurement it wrote."""
    m = f"m{next(_measurements)}"
    reader.write(f"{m},w=-1 v=-1i {EPOCH_NS - 10**9}")  # the table exists; the path is warm
    healthy.counts(reader, m, -1)
    written: dict[int, float] = {}
    seen: dict[int, float] = {}
    done = threading.Event()
    failures: list[BaseException] = []

    def watch() -> None:
        try:
            while not done.is_set() and len(seen) < args.writes:
                first = min(set(range(args.writes)) - set(seen))
                counts = healthy.counts(reader, m, first * args.points)
                now = time.perf_counter()
                for w, n in counts.items():
                    if n == args.points and w not in seen:
                        seen[w] = now
                time.sleep(0.005)
        except BaseException as exc:
            failures.append(exc)

    watcher = threading.Thread(target=watch, name="bench-groups-watcher", daemon=True)
    watcher.start()
    result = Result()
    began = time.perf_counter()
    for w in range(args.writes):
        time.sleep(max(0.0, began + w * args.pace - time.perf_counter()))
        first = w * args.points
        lines = [
            f"{m},w={w} v={k}i {EPOCH_NS + k * 1000}" for k in range(first, first + args.points)
        ]
        written[w] = t = time.perf_counter()
        write(lines)
        result.calls.append(time.perf_counter() - t)
    watcher.join(30)
    done.set()
    if failures:
        raise failures[0]
    if len(seen) != args.writes:
        raise SystemExit(f"{healthy.kind}: writes {sorted(set(written) - set(seen))} never arrived")
    result.delays = [seen[w] - written[w] for w in range(args.writes)]
    return result, m


def check_all_there(member: Member, conn: influxkit.Connection, m: str, total: int) -> None:
    got = sum(member.counts(conn, m, 0).values())
    if got != total:
        raise SystemExit(f"{member.kind}: {got} of {total} points in {m}")


def bench_pair(healthy: Member, other: Member, args: argparse.Namespace) -> dict[str, list[Result]]:
    """Every case with ``healthy`` as the member timed and ``other`` the one faulted."""
    failed: list[object] = []
    on_error = {"on_error": lambda batch, error: failed.append(error)}
    results: dict[str, list[Result]] = {case: [] for case in CASES}
    total = args.writes * args.points
    with ExitStack() as stack:
        reader = stack.enter_context(healthy.connect())
        other_reader = stack.enter_context(other.connect())
        single = stack.enter_context(healthy.connect(batch={**BATCH, **on_error}))
        h_name, o_name, g_name = f"h-{healthy.kind}", f"o-{other.kind}", f"g-{healthy.kind}"
        options = {"database": DB, "timeout": 10, "batch": {**BATCH, **on_error}}
        influxkit.add_connection(h_name, healthy.url, api_version=healthy.api_version, **options)
        stack.callback(influxkit.remove_connection, h_name)
        influxkit.add_connection(o_name, other.proxy.url, api_version=other.api_version, **options)
        stack.callback(influxkit.remove_connection, o_name)
        influxkit.add_group(g_name, members=[h_name, o_name], primary=h_name)
        stack.callback(influxkit.remove_group, g_name)
        for _ in range(args.runs):
            for case in CASES:
                if case == STALLED:
                    other.proxy.stall_next(1_000_000, seconds=args.stall)
                elif case == DOWN:
                    other.proxy.down(3600)
                if case == SINGLE:
                    result, m = run_once(single.write, healthy, reader, args)
                    single.flush(timeout=60)
                else:
                    to_group = functools.partial(influxkit.write, g_name)
                    result, m = run_once(to_group, healthy, reader, args)
                    other.proxy.clear()
                    influxkit.flush(g_name, timeout=120)
                    check_all_there(other, other_reader, m, total)
                check_all_there(healthy, reader, m, total)
                results[case].append(result)
    if failed:
        raise SystemExit(f"on_error got {len(failed)} batch(es): {failed[:3]}")
    return results


def report(healthy: Member, other: Member, results: dict[str, list[Result]]) -> None:
    def median_ms(stat: Callable[[Result], float], runs: list[Result]) -> str:
        return f"{statistics.median(stat(r) for r in runs) * 1000:7.0f}"

    for case, runs in results.items():
        label = case.replace("other", other.kind)
        print(
            f"  {healthy.kind:<8} {label:<30}"
            f"{median_ms(lambda r: nearest_rank(r.delays, 0.5), runs)}"
            f"{median_ms(lambda r: nearest_rank(r.delays, 0.99), runs)}"
            f"{median_ms(lambda r: max(r.delays), runs)}"
            f"{median_ms(lambda r: nearest_rank(r.calls, 0.99), runs)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--points", type=int, default=200, help="points per write")
    parser.add_argument("--pace", type=float, default=0.04, help="seconds between writes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stall", type=float, default=3.0, help="seconds each request is held")
    args = parser.parse_args()
    with ExitStack() as stack:
        influxd = stack.enter_context(InfluxdServer.start())
        serve_url = stack.enter_context(serve_process())
        with influxkit.connect(influxd.url, api_version="v1") as admin:
            admin.create_database(DB)
        members = {}
        for kind, url, api in (("influxd", influxd.url, "v1"), ("serve", serve_url, None)):
            parts = urlsplit(url)
            proxy = stack.enter_context(FaultProxy(parts.hostname or "127.0.0.1", parts.port or 80))
            members[kind] = Member(kind, url, proxy, api)
        print(
            f"{args.writes} writes of {args.points} points, one every {args.pace * 1000:.0f} ms; "
            f"delay from write() to queryable on the healthy member, ms, median of {args.runs} "
            f"runs (stalled: each request held {args.stall:g} s)"
        )
        print(f"  {'healthy':<8} {'case':<30}{'p50':>7}{'p99':>7}{'max':>7}{'write() p99':>12}")
        for healthy, other in (("influxd", "serve"), ("serve", "influxd")):
            results = bench_pair(members[healthy], members[other], args)
            report(members[healthy], members[other], results)


if __name__ == "__main__":
    main()

"""A fan-out group over a real InfluxDB 1.x and ``influxkit serve``, one member stopped mid-run.

The group has two members, each with its own batch writer: a private ``influxd`` (1.6.7)
and ``influxkit serve``. A steady stream of 50 writes of 200 points goes to the group;
after the 15th write one member's server is really stopped (``influxd`` by its pid,
the serve thread by its ``stop()``), and started again on the same port after the 35th
(``influxd`` on its same data dir). A watcher thread times each write from ``write()``
to its 200 points being queryable on the healthy member. The test asserts that the
healthy member had every write within a second while the other was away, that the
stopped member's writer delivered everything once it was back, and that nothing went
to ``on_error``.
"""

from __future__ import annotations

import math
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx
import pytest

import influxkit
from influxkit.server import ServerThread
from influxkit.testing.influxd import InfluxdServer

WRITES = 50
POINTS = 200  # per write
PACE = 0.08  # seconds between the starts of two writes: the stream lasts ~4 s
STOP_AFTER = 15  # the member's server stops once this many writes were made...
RESTART_AFTER = 35  # ...and starts again once this many were
BOUND = 1.0  # seconds: p99 delivery delay on the healthy member while the other is down
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
EPOCH_NS = 1767225600 * 10**9
STEP_NS = 10**6  # 1 ms between points: distinct timestamps that a datetime holds exactly
DB = "db"


def lines_of(w: int) -> list[str]:
    """Write ``w``'s points: tag ``w``, integer field ``v`` = the point's number."""
    first = w * POINTS
    return [f"m,w={w} v={k}i {EPOCH_NS + k * STEP_NS}" for k in range(first, first + POINTS)]


def expected_points() -> set[tuple[int, int, datetime]]:
    """Every point of the stream as ``(w, v, time)``."""
    return {(k // POINTS, k, EPOCH + timedelta(milliseconds=k)) for k in range(WRITES * POINTS)}


def as_points(rows: list[dict[str, Any]]) -> list[tuple[int, int, datetime]]:
    return [(int(r["w"]), r["v"], r["time"]) for r in rows]


class Member(Protocol):
    """One member's server, which the test can stop and start again."""

    url: str
    api_version: str | None

    def counts_from(self, conn: influxkit.Connection, first: int) -> dict[int, int]:
        """Points per write among those numbered ``first`` and up, as the server has them."""

    def stop(self) -> None:
        """Stop the server for real."""

    def restart(self) -> None:
        """Start it again on the same port."""

    def points(self, conn: influxkit.Connection) -> list[tuple[int, int, datetime]]:
        """Every point the member holds (across its restart)."""

    def close(self) -> None:
        """Stop whatever still runs."""


def _wait_for_ping(url: str, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"influxd exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 204:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"influxd on {url} did not answer /ping in {timeout} s")


@dataclass
class Influxd:
    """A private ``influxd``; restarted with the same binary, config file, ports and data."""

    server: InfluxdServer
    api_version: str | None = "v1"
    url: str = ""

    def __post_init__(self) -> None:
        self.url = self.server.url

    def counts_from(self, conn: influxkit.Connection, first: int) -> dict[int, int]:
        rows = conn.query_influxql(f"SELECT count(v) FROM m WHERE v >= {first} GROUP BY w")
        return {int(r["w"]): r["count"] for r in rows}

    def stop(self) -> None:
        self.server.stop()  # SIGTERM by pid; the data dir is ours (tmp_path), so it stays

    def restart(self) -> None:
        old = self.server
        assert old.process.poll() is not None, "influxd is still running"
        with (old.workdir / "influxd.log").open("ab") as log:
            process = subprocess.Popen(
                [str(old.process.args[0]), "-config", str(old.workdir / "influxdb.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.server = InfluxdServer(
            port=old.port,
            rpc_port=old.rpc_port,
            workdir=old.workdir,
            process=process,
            _owns_workdir=False,
        )
        _wait_for_ping(self.url, process)

    def points(self, conn: influxkit.Connection) -> list[tuple[int, int, datetime]]:
        return as_points(conn.query_influxql("SELECT v, w FROM m WHERE v >= 0"))

    def close(self) -> None:
        self.server.stop()


@dataclass
class Serve:
    """``influxkit serve`` on a thread; restarted as a new server on the same port.

    Its data lives in memory, so the restarted server holds only what reached it after
    the restart; the old engine stays readable after ``stop()``, and the member's points
    are the two together.
    """

    SQL: ClassVar[str] = "SELECT w, v, time FROM m"
    server: ServerThread
    api_version: str | None = None
    url: str = ""
    stopped: list[ServerThread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.url = self.server.url

    def counts_from(self, conn: influxkit.Connection, first: int) -> dict[int, int]:
        rows = conn.query_sql(f"SELECT w, count(*) AS n FROM m WHERE v >= {first} GROUP BY w")
        return {int(r["w"]): r["n"] for r in rows}

    def stop(self) -> None:
        self.server.stop()
        self.stopped.append(self.server)

    def restart(self) -> None:
        self.server = ServerThread(port=self.server.port, databases=[DB]).start()
        assert self.server.url == self.url

    def before_restart(self) -> list[tuple[int, int, datetime]]:
        """The points the stopped server(s) had taken."""
        found: list[tuple[int, int, datetime]] = []
        for old in self.stopped:
            found += as_points(
                old.engine.query_sql(self.SQL, database=DB, params=None, format="rows")
            )
        return found

    def points(self, conn: influxkit.Connection) -> list[tuple[int, int, datetime]]:
        return self.before_restart() + as_points(conn.query_sql(f"{self.SQL} WHERE v >= 0"))

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def influxd(tmp_path: Path) -> Iterator[Influxd]:
    """A private influxd of this test's own, with database ``db``: it gets stopped."""
    workdir = tmp_path / "influxd"
    workdir.mkdir()
    member = Influxd(InfluxdServer.start(workdir=workdir))
    try:
        with influxkit.connect(member.url, api_version="v1") as admin:
            admin.create_database(DB)
        yield member
    finally:
        member.close()


@pytest.fixture
def serve() -> Iterator[Serve]:
    member = Serve(ServerThread(databases=[DB]).start())
    try:
        yield member
    finally:
        member.close()


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q`` quantile by nearest rank (the max for q=0.99 and fewer than 100 values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Run:
    """What one run of the stream measured."""

    written: dict[int, float] = field(default_factory=dict)  # write -> when write() began
    seen: dict[int, float] = field(default_factory=dict)  # write -> when healthy had it all
    write_calls: list[float] = field(default_factory=list)  # how long each write() took
    down_from: float = math.inf
    down_until: float = math.inf
    buffered_while_down: int = 0

    def delays(self, during_outage: bool) -> list[float]:
        return [
            self.seen[w] - t
            for w, t in self.written.items()
            if w in self.seen and (self.down_from <= t < self.down_until) == during_outage
        ]


def watch(
    run: Run,
    counts_from: Callable[[int], dict[int, int]],
    done: threading.Event,
    failures: list[BaseException],
) -> None:
    """Note when each write's points are all queryable on the healthy member."""
    try:
        while not done.is_set() and len(run.seen) < WRITES:
            first = min(set(range(WRITES)) - set(run.seen))
            counts = counts_from(first * POINTS)
            now = time.perf_counter()
            for w, n in counts.items():
                if n == POINTS and w not in run.seen:
                    run.seen[w] = now
            time.sleep(0.005)
    except BaseException as exc:
        failures.append(exc)


def stream(group: str, stopped: Member, stopped_name: str, run: Run) -> None:
    """The steady stream of writes to ``group``; ``stopped`` goes away and comes back."""
    outage_done = threading.Event()
    failures: list[BaseException] = []
    start_outage = threading.Event()
    end_outage = threading.Event()

    def outage() -> None:
        try:
            start_outage.wait()
            stopped.stop()
            try:  # really gone, not just slow
                httpx.get(f"{stopped.url}/ping", timeout=1)
            except httpx.TransportError:
                pass
            else:
                raise AssertionError(f"{stopped_name} still answers after stop()")
            run.down_from = time.perf_counter()
            end_outage.wait()
            run.buffered_while_down = influxkit.stats(stopped_name)["points_buffered"]
            run.down_until = time.perf_counter()
            stopped.restart()
        except BaseException as exc:
            failures.append(exc)
        finally:
            outage_done.set()

    thread = threading.Thread(target=outage, name="test-groups-outage", daemon=True)
    thread.start()
    began = time.perf_counter()
    try:
        for w in range(WRITES):
            time.sleep(max(0.0, began + w * PACE - time.perf_counter()))
            if w == STOP_AFTER:
                start_outage.set()
            if w == RESTART_AFTER:
                end_outage.set()
            lines = lines_of(w)
            run.written[w] = t = time.perf_counter()
            outcome = influxkit.write(group, lines)
            run.write_calls.append(time.perf_counter() - t)
            assert all(o.buffered for o in outcome.values())
    finally:  # the member comes back even when the stream failed
        start_outage.set()
        end_outage.set()
        assert outage_done.wait(30), "the member did not come back"
        thread.join()
    if failures:
        raise failures[0]


@pytest.mark.parametrize("stopped_kind", ["influxd", "serve"])
def test_a_stopped_member_catches_up_and_the_other_gets_everything_on_time(
    stopped_kind: str, influxd: Influxd, serve: Serve, record_property: Any
) -> None:
    members: dict[str, Member] = {"influxd": influxd, "serve": serve}
    healthy_kind = "serve" if stopped_kind == "influxd" else "influxd"
    stopped, healthy = members[stopped_kind], members[healthy_kind]
    errors: list[tuple[str, int, BaseException]] = []

    def options(name: str) -> dict[str, Any]:
        return {
            "size": 1000,
            "flush_interval": 0.1,
            "max_retries": 100_000,  # ride out the outage: it is time, not tries, that ends
            "max_retry_time": 60,
            "retry_interval": 0.05,
            "max_retry_interval": 0.2,
            "on_error": lambda batch, error: errors.append((name, len(batch), error)),
        }

    reader = influxkit.connect(healthy.url, api_version=healthy.api_version, database=DB)
    done = threading.Event()
    run = Run()
    watcher: threading.Thread | None = None
    watch_failures: list[BaseException] = []
    registered: list[str] = []
    grouped = False
    try:
        for kind, member in members.items():
            influxkit.add_connection(
                kind,
                member.url,
                api_version=member.api_version,
                database=DB,
                timeout=5,
                batch=options(kind),
            )
            registered.append(kind)
        influxkit.add_group("pair", members=["influxd", "serve"], primary=healthy_kind)
        grouped = True
        # Make the table and warm the query path up before timing anything; the stream's
        # points are those with v >= 0.
        reader.write(f"m,w=-1 v=-1i {EPOCH_NS - 10**9}")
        assert healthy.counts_from(reader, -1) == {-1: 1}
        watcher = threading.Thread(
            target=watch,
            args=(run, lambda first: healthy.counts_from(reader, first), done, watch_failures),
            name="test-groups-watcher",
            daemon=True,
        )
        watcher.start()
        stream("pair", stopped, stopped_kind, run)
        watcher.join(10)
        if watch_failures:
            raise watch_failures[0]
        missing = set(range(WRITES)) - set(run.seen)
        assert not watcher.is_alive(), f"the healthy member lacks writes {sorted(missing)}"

        # The healthy member had every write, each within the bound while the other was away.
        assert sorted(run.seen) == list(range(WRITES))
        down = run.delays(during_outage=True)
        up = run.delays(during_outage=False)
        assert len(down) >= 10, f"only {len(down)} writes fell in the outage"
        p50, p99, worst = (nearest_rank(down, q) for q in (0.5, 0.99, 1.0))
        figures = (
            f"{stopped_kind} stopped, delivery delay on {healthy_kind} over {len(down)} writes: "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms "
            f"(with both up: p50 {nearest_rank(up, 0.5) * 1000:.0f} ms, "
            f"max {max(up) * 1000:.0f} ms; write() p99 "
            f"{nearest_rank(run.write_calls, 0.99) * 1000:.0f} ms)"
        )
        print(figures)
        record_property("fanout_delay", figures)
        assert p99 < BOUND, figures
        assert run.buffered_while_down > 0  # the stopped member's writer held points

        # The stopped member's own writer caught up once it was back.
        influxkit.flush("pair", timeout=60)
        stats = influxkit.stats("pair")
        assert stats[stopped_kind]["retries"] > 0
        assert {k: s["points_failed"] for k, s in stats.items()} == {"influxd": 0, "serve": 0}
        assert errors == []
        with influxkit.connect(stopped.url, api_version=stopped.api_version, database=DB) as c:
            got = stopped.points(c)
        assert set(got) == expected_points()
        if isinstance(stopped, Serve):  # both servers took part of the stream
            before = stopped.before_restart()
            assert 0 < len(before) < WRITES * POINTS
        else:  # one data dir: all of it, once
            assert len(got) == WRITES * POINTS
        assert sorted(healthy.points(reader)) == sorted(expected_points())
    finally:
        done.set()
        if watcher is not None:
            watcher.join(10)
        reader.close()
        if grouped:
            influxkit.remove_group("pair")
        for kind in registered:
            influxkit.remove_connection(kind)

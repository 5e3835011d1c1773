"""The event loop keeps running during long operations of the async API (issue 8).

A probe task sleeps 1 ms at a time while an operation runs; each overshoot is time the
loop could not run any callback. Before the fix a 300,000-line local write held the
loop ~300 ms at a stretch (the collector's full passes over the parsed lines, one
``str.split`` of the whole body, the lines all freed at once at the end), 300,000
Points ~340 ms, a batched write ~90 ms for each batch, a fresh process's first query
~235 ms (pyarrow imported on the loop) and its local ``connect()`` ~240 ms (DataFusion
imported on the loop). The bounds here, :data:`BOUND` and :data:`P99_BOUND`, are
generous for a loaded 2-core machine; ``bench/bench_async.py --loop-lag`` prints the
figures (about 20 ms at worst now).

The first calls are measured in a fresh interpreter, where nothing is imported yet,
against ``influxkit serve`` in a process of its own (a server in this process would
share the GIL with the loop under test).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import influxkit
import influxkit.aio
from influxkit.clients.local.writes import release
from influxkit.gc_pause import JOIN_WITHIN, gc_paused
from influxkit.lineprotocol import parse as lp_parse

pytestmark = pytest.mark.anyio

BOUND = 0.150  # seconds: the longest the loop may be held (it was ~0.3 s)
# ... and what 99% of ticks must stay under: a batched write was held ~100 ms by each
# of its 50,000-line batches (p99 ~90 ms), below BOUND each time.
P99_BOUND = 0.050
N = 300_000


class LagProbe:
    """A task sleeping 1 ms at a time while the block runs; ``worst`` is its longest overshoot."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.took = 0.0

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.lags.append(now - last - 0.001)
            last = now

    async def __aenter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0.02)
        self.lags.clear()
        self.started = time.perf_counter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.took = time.perf_counter() - self.started
        await asyncio.sleep(0.005)  # the overshoot that spans the operation's end counts
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def worst(self) -> float:
        """The longest the loop was held (the whole block if the probe never ran)."""
        return max(self.lags, default=self.took)

    @property
    def p99(self) -> float:
        """The lag 99% of the probe's ticks stayed under."""
        lags = sorted(self.lags) or [self.took]
        return lags[min(len(lags) - 1, int(0.99 * len(lags)))]


def body(n: int = N, measurement: str = "big") -> str:
    return "\n".join(f"{measurement},h=h{i % 100} v={i}i,w={i * 0.1} {i + 1}" for i in range(n))


def local(**options: object) -> influxkit.aio.AsyncConnection:
    return influxkit.aio.connect(client="local", database="db", **options)


async def count(conn: influxkit.aio.AsyncConnection, table: str) -> int:
    return (await conn.query_sql(f"SELECT count(*) AS n FROM {table}"))[0]["n"]  # type: ignore[no-any-return]


# -- big local writes ----------------------------------------------------------------


async def test_a_300k_line_local_write_leaves_the_loop_running() -> None:
    text = body()
    async with local() as conn:
        async with LagProbe() as probe:
            outcome = await conn.write(text)
        assert outcome.lines == N and await count(conn, "big") == N
    assert probe.took > 0.3, probe.took  # long enough that a held loop would show
    assert probe.worst < BOUND, (probe.took, probe.worst)


async def test_300k_points_written_locally_leave_the_loop_running() -> None:
    point = influxkit.Point
    points = [point("pts").tag("h", f"h{i % 100}").field("v", i).time(i + 1) for i in range(N)]
    async with local() as conn:
        async with LagProbe() as probe:
            outcome = await conn.write(points)
        assert outcome.lines == N and await count(conn, "pts") == N
    assert probe.worst < BOUND, (probe.took, probe.worst)


async def test_a_300k_line_batched_write_leaves_the_loop_running() -> None:
    text = body()
    async with local(batch={"size": 50_000, "max_buffer_points": 2 * N}) as conn:
        async with LagProbe() as probe:
            outcome = await conn.write(text)
            await conn.flush()
        assert outcome.buffered and outcome.lines == N
        assert conn.stats()["requests"] == N // 50_000
        assert await count(conn, "big") == N
    assert probe.worst < BOUND, (probe.took, probe.worst)
    assert probe.p99 < P99_BOUND, (probe.took, probe.p99)


async def test_a_refused_big_write_lands_nothing_and_names_its_line() -> None:
    text = body() + '\nbig,h=h1 v="text" 999999999'  # v is an integer field: line N + 1
    async with local() as conn:
        await conn.write("big,h=h0 v=0i,w=0 0")
        async with LagProbe() as probe:
            with pytest.raises(influxkit.WriteError) as caught:
                await conn.write(text, accept_partial=False)
        assert await count(conn, "big") == 1  # one write: none of its lines landed
    err = caught.value
    assert not isinstance(err, influxkit.PartialWriteError)
    assert [e.line_number for e in err.line_errors] == [N + 1]
    assert [(r.record, r.line_number, r.line) for r in err.rejected] == [
        (0, N + 1, 'big,h=h1 v="text" 999999999')
    ]
    assert probe.worst < BOUND, (probe.took, probe.worst)


async def test_a_partial_big_write_maps_its_rejected_lines_to_records() -> None:
    lines = body(60_000).split("\n")
    lines[41_234] = 'big,h=h1 v="text" 5'
    records = ["\n".join(lines[:30_000]), *lines[30_000:]]  # one text of 30,000 lines, then lines
    async with local() as conn:
        with pytest.raises(influxkit.PartialWriteError) as caught:
            await conn.write(records, accept_partial=True)
        assert await count(conn, "big") == 59_999
    (rejected,) = caught.value.rejected
    assert (rejected.record, rejected.line_number) == (1 + 41_234 - 30_000, 41_235)
    assert rejected.line == 'big,h=h1 v="text" 5'


# -- first calls of a fresh process ------------------------------------------------------

FIRST_CALLS = """
import asyncio, json, sys, time
import influxkit.aio

class Probe:
    def __init__(self):
        self.lags = []
    async def run(self):
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.lags.append(now - last - 0.001)
            last = now

async def main(client, url):
    probe = Probe()
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(0.02)
    out = {}
    async def step(name, make):
        probe.lags.clear()
        started = time.perf_counter()
        result = await make()
        await asyncio.sleep(0.005)
        out[name] = max(probe.lags, default=time.perf_counter() - started)
        return result
    options = {"client": "local"} if client == "local" else {"url": url, "client": "http"}
    async def connect():
        return influxkit.aio.connect(**options, database="db")
    conn = await step("connect", connect)
    await step("first write", lambda: conn.write("first v=1i 1"))
    rows = await step("first query_sql", lambda: conn.query_sql("SELECT v FROM first"))
    task.cancel()
    await conn.close()
    print(json.dumps({"lags": out, "rows": rows}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""

SERVE = """
import sys
from influxkit.server import running_server
with running_server(databases=["db"]) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """``influxkit serve`` in a process of its own, until stdin closes."""
    with subprocess.Popen(
        [sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdin is not None
        try:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://"), url
            yield url
        finally:
            proc.stdin.close()
            proc.wait(30)


def first_calls(client: str, url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALLS, client, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("client", ["http", "local"])
def test_the_first_calls_of_a_process_leave_the_loop_running(client: str, server_url: str) -> None:
    out = first_calls(client, server_url)
    assert out["rows"] == [{"v": 1}]
    lags: dict[str, float] = out["lags"]  # type: ignore[assignment]
    assert list(lags) == ["connect", "first write", "first query_sql"]
    assert max(lags.values()) < BOUND, lags


async def test_a_big_http_write_is_cut_and_gzipped_off_the_loop(server_url: str) -> None:
    text = body(20_000, "hbig")  # ~0.6 MB: made into requests in a worker thread
    async with influxkit.aio.connect(server_url, database="db", client="http") as conn:
        outcome = await conn.write(text)
        assert outcome.lines == 20_000 and outcome.requests == 1
        assert await count(conn, "hbig") == 20_000


async def test_first_uses_at_once_share_one_pool_made_off_the_loop(server_url: str) -> None:
    async with influxkit.aio.connect(server_url, database="db", client="http") as conn:
        outcomes = await asyncio.gather(*(conn.write(f"once,k=k{i} v=1i 1") for i in range(20)))
        assert [o.lines for o in outcomes] == [1] * 20
        assert await count(conn, "once") == 20
        (state,) = conn._loops.values()
        assert state.client._opening.done() and state.client.http is not None


async def test_closing_while_the_pool_is_being_made_leaks_nothing(server_url: str) -> None:
    conn = influxkit.aio.connect(server_url, database="db", client="http")
    write = asyncio.create_task(conn.write("early v=1i 1"))
    await asyncio.sleep(0)  # the write has started making the pool
    await conn.close()
    with pytest.raises(influxkit.InfluxError):
        await write
    assert conn._loops.values() == []


def test_a_local_connect_without_the_extra_still_fails_at_once() -> None:
    code = (
        "import sys\n"
        "sys.modules['datafusion'] = None  # as if not installed\n"
        "import influxkit.aio\n"
        "try:\n"
        "    influxkit.aio.connect(client='local')\n"
        "except influxkit.MissingDependency as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "pip install 'influxkit[local]'" in done.stdout, done


# -- the parts --------------------------------------------------------------------------


def test_the_collector_is_paused_for_the_block_and_resumed_after() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested (or in another thread): one pause
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:  # a collector the application turned off stays off
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_pause_ends_with_the_last_write_that_joined_it() -> None:
    first_in, first_out, late_started = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def long_write() -> None:
        with gc_paused():
            first_in.set()
            first_out.wait(10)

    def late_write() -> None:  # starts after JOIN_WITHIN: does not extend the pause
        with gc_paused():
            late_started.set()
            first_out.set()
            time.sleep(0.1)
            seen["during late write, after the first ended"] = gc.isenabled()

    first = threading.Thread(target=long_write)
    first.start()
    first_in.wait(10)
    time.sleep(JOIN_WITHIN + 0.05)
    late = threading.Thread(target=late_write)
    late.start()
    late.join(10)
    first.join(10)
    assert seen == {"during late write, after the first ended": True}
    assert gc.isenabled()


def test_release_frees_the_items_and_keeps_the_length() -> None:
    class Item:
        pass

    items = [Item() for _ in range(10_000)]
    refs = [weakref.ref(items[0]), weakref.ref(items[5000]), weakref.ref(items[-1])]
    release(items)
    assert items == [None] * 10_000
    assert [r() for r in refs] == [None, None, None]


@given(st.text(alphabet="ab\n", max_size=60), st.integers(min_value=1, max_value=8))
def test_splitting_a_body_in_pieces_is_splitting_it_whole(text: str, piece: int) -> None:
    original = lp_parse._SPLIT_PIECE
    lp_parse._SPLIT_PIECE = piece
    try:
        assert lp_parse._split_newlines(text) == text.split("\n")
    finally:
        lp_parse._SPLIT_PIECE = original

"""Durable mode (``spool_dir``) with real processes killed by SIGKILL, and ``influxkit serve``.

A point whose ``write()`` returned is on disk; a writer that opens the same directory
later replays it, so a crash loses nothing that was acknowledged.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import influxkit
from influxkit.server import ServerThread
from influxkit.testing.influxd import free_port

CHILD = """
import sys, influxkit
url, spool, chunks = sys.argv[1], sys.argv[2], int(sys.argv[3])
conn = influxkit.connect(url, database="db", timeout=2,
                         batch={"spool_dir": spool, "size": 500, "flush_interval": 0.05,
                                "retry_interval": 0.05, "max_retry_interval": 0.2,
                                "max_retries": 10_000, "max_retry_time": 3600})
for k in range(chunks):
    conn.write([f"cpu,k=c{k % 7} v={k * 500 + i}i {k * 500 + i + 1}" for i in range(500)])
    print("acked", (k + 1) * 500, flush=True)    # write() returned: fsynced
    if k == 3:
        print("ready", flush=True)
"""


def spawn(url: str, spool: Path, chunks: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CHILD), url, str(spool), str(chunks)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_when_ready(proc: subprocess.Popen[str]) -> int:
    """SIGKILL the child once it said ready; the last point count it acknowledged."""
    acked = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            word, _, value = line.strip().partition(" ")
            if word == "acked":
                acked = int(value)
            elif word == "ready":
                os.kill(proc.pid, signal.SIGKILL)
                break
        # Lines printed before the kill landed; the last may be cut mid-line by it.
        *whole, _cut = proc.stdout.read().split("\n")
        acked = max([acked, *(int(x.split()[1]) for x in whole if x.startswith("acked "))])
    finally:
        proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL
    return acked


def segments(spool: Path) -> list[str]:
    return sorted(p.name for p in spool.iterdir() if p.name.endswith(".seg"))


def delivered(conn: influxkit.Connection) -> list[int]:
    return [r["v"] for r in conn.query_sql("SELECT v FROM cpu ORDER BY v")]


def test_acknowledged_points_survive_sigkill_while_the_server_is_down(
    server: ServerThread, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: no point can be delivered
    acked = kill_when_ready(spawn(dead, spool, chunks=1000))
    assert acked >= 2000
    assert segments(spool), "the spool must hold what the killed process acknowledged"
    with influxkit.connect(server.url, database="db", batch={"spool_dir": str(spool)}) as conn:
        conn.flush(timeout=60)  # the replay of the dead process's segments
        values = delivered(conn)
    assert values[:acked] == list(range(acked))  # every acknowledged point, in full
    assert len(values) == len(set(values))
    assert segments(spool) == []  # delivered, so deleted


def test_acknowledged_points_survive_sigkill_while_writing_to_a_live_server(
    server: ServerThread, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    acked = kill_when_ready(spawn(server.url, spool, chunks=1000))
    with influxkit.connect(server.url, database="db", batch={"spool_dir": str(spool)}) as conn:
        conn.flush(timeout=60)
        values = delivered(conn)
    # Some points may have reached the server twice (sent, then killed before the
    # segment was deleted): InfluxDB keeps one point per series and time.
    assert set(range(acked)) <= set(values)
    assert segments(spool) == []


def test_durable_writes_clean_up_after_delivery(server: ServerThread, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    options = {"spool_dir": str(spool), "size": 100, "flush_interval": 0.01}
    with influxkit.connect(server.url, database="db", batch=options) as conn:
        for k in range(10):
            conn.write([f"cpu v={k * 100 + i}i {k * 100 + i + 1}" for i in range(100)])
        conn.flush()
        assert len(delivered(conn)) == 1000
    assert segments(spool) == []


def test_undelivered_points_stay_in_the_spool_at_close(server: ServerThread, tmp_path) -> None:
    spool = tmp_path / "spool"
    dead = f"http://127.0.0.1:{free_port()}"
    reported = []
    options = {
        "spool_dir": str(spool),
        "retry_interval": 0.01,
        "max_retries": 1000,
        "close_timeout": 0.3,
        "on_error": lambda b, e: reported.append(b),
    }
    with influxkit.connect(dead, database="db", timeout=1, batch=options) as conn:
        conn.write([f"cpu v={i}i {i + 1}" for i in range(50)])
    assert reported == []  # kept for the next start instead
    assert segments(spool)
    with influxkit.connect(server.url, database="db", batch={"spool_dir": str(spool)}) as conn:
        conn.flush(timeout=30)
        assert delivered(conn) == list(range(50))

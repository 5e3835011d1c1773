"""The batch writer's lifecycle against ``influxkit serve``: exit, fork, many threads.

Real processes and a real HTTP server: a script that exits without closing its
connection must still deliver, and a forked child must not send its parent's buffer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest

import influxkit
from influxkit.server import ServerThread
from influxkit.testing.faultproxy import FaultProxy


def count(conn: influxkit.Connection, table: str = "cpu") -> int:
    rows = conn.query_sql(f"SELECT count(*) AS n FROM {table}")
    return rows[0]["n"] if rows else 0


def run_script(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("registered", [True, False])
def test_points_still_buffered_at_exit_are_delivered(server: ServerThread, registered) -> None:
    make = (
        f'influxkit.add_connection("exit", "{server.url}", database="db", batch=options)'
        if registered
        else f'conn = influxkit.connect("{server.url}", database="db", batch=options)'
    )
    proc = run_script(
        f"""
        import influxkit
        options = {{"size": 100_000, "flush_interval": 3600}}  # nothing goes before exit
        {make}
        target = "exit" if {registered} else conn
        influxkit.write(target, [f"cpu,k=a v={{i}}i {{i + 1}}" for i in range(5000)])
        assert influxkit.stats(target)["points_written"] == 0
        print("buffered", influxkit.stats(target)["points_buffered"])
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "buffered 5000"
    with influxkit.connect(server.url, database="db") as conn:
        assert count(conn) == 5000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")
def test_a_forked_child_does_not_send_its_parents_buffer(server: ServerThread) -> None:
    options = {"size": 100_000, "flush_interval": 3600}
    url = urlsplit(server.url)
    with (
        FaultProxy(url.hostname or "127.0.0.1", url.port or 80) as proxy,  # counts connections
        influxkit.connect(proxy.url, database="db", batch=options) as conn,
    ):
        conn.health()  # the parent's pool now holds a kept-alive connection
        conn.write([f"cpu,who=parent v={i}i {i + 1}" for i in range(300)])
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what it sees, write its own points, leave
            code = 1
            try:
                seen = conn.stats()["points_buffered"]
                conn.write([f"cpu,who=child v={i}i {i + 1}" for i in range(20)])
                conn.flush(timeout=30)
                os.write(write, f"{seen} {conn.stats()['points_written']}".encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        report = os.read(read, 100).decode()
        os.close(read)
        assert os.waitstatus_to_exitcode(status) == 0
        assert report == "0 20"  # the child saw an empty buffer, and sent only its own 20
        assert conn.stats()["points_buffered"] == 300  # the parent still holds its own
        assert proxy.stats["connections"] == 2  # the child did not use the parent's socket
        conn.flush()  # over the parent's own kept-alive connection, untouched by the child
        rows = conn.query_sql("SELECT who, count(*) AS n FROM cpu GROUP BY who ORDER BY who")
        assert rows == [{"who": "child", "n": 20}, {"who": "parent", "n": 300}]


def test_many_threads_through_http_lose_nothing(server: ServerThread) -> None:
    import threading

    options = {"size": 1000, "flush_interval": 0.05, "max_in_flight": 2}
    with influxkit.connect(server.url, database="db", batch=options) as conn:

        def writer(k: int) -> None:
            for j in range(10):
                base = (k * 10 + j) * 200
                conn.write([f"cpu,k=t{k} v={i}i {base + i + 1}" for i in range(200)])

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn.flush()
        assert count(conn) == 6 * 10 * 200
        stats = conn.stats()
        assert stats["points_written"] == 12_000 and stats["points_failed"] == 0
        assert stats["bytes_written"] > 0 and stats["requests"] >= 12

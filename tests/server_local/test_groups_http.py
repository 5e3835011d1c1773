"""A group over real HTTP: a member whose server is down does not hold up the others."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import influxkit
from influxkit.server import ServerThread, running_server
from influxkit.testing.faultproxy import FaultProxy


def test_a_stalled_member_does_not_delay_the_others_delivery(server: ServerThread) -> None:
    with running_server(databases=["db"]) as other:
        url = urlsplit(other.url)
        with FaultProxy(url.hostname or "127.0.0.1", url.port or 80) as proxy:
            fast = influxkit.add_connection("fast", server.url, database="db")
            options = {"size": 10, "max_retries": 100, "retry_interval": 0.05}
            slow = influxkit.add_connection("slow", proxy.url, database="db", batch=options)
            try:
                influxkit.add_group("pair", members=["slow", "fast"])
                proxy.down(60)  # the slow member's server is away
                started = time.monotonic()
                outcome = influxkit.write("pair", [f"cpu v={i}i {i + 1}" for i in range(10)])
                assert time.monotonic() - started < 2
                assert outcome["slow"].buffered and outcome["fast"].lines == 10
                assert fast.query_sql("SELECT count(*) AS n FROM cpu") == [{"n": 10}]
                assert influxkit.stats("pair")["slow"]["points_buffered"] == 10
                proxy.clear()  # back: the slow member's own writer delivers
                influxkit.flush("pair", timeout=30)
                assert slow.query_sql("SELECT count(*) AS n FROM cpu") == [{"n": 10}]
            finally:
                influxkit.remove_group("pair")
                influxkit.remove_connection("fast")
                influxkit.remove_connection("slow")

"""Fifty clients at once, each writing and querying: every answer is right."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from influxkit.server import ServerThread

CLIENTS = 50
ROUNDS = 5


def test_fifty_concurrent_clients(server: ServerThread) -> None:
    start = threading.Barrier(CLIENTS)

    def work(n: int) -> list[int]:
        seen = []
        with httpx.Client(base_url=server.url, timeout=60) as c:
            start.wait()
            for r in range(ROUNDS):
                body = f"load,client=c{n} v={r}i {n * 1000 + r}".encode()
                w = c.post("/api/v3/write_lp", params={"db": "db", "precision": "ns"}, content=body)
                assert w.status_code == 204, w.text
                q = c.get(
                    "/api/v3/query_sql",
                    params={"db": "db", "q": "SELECT v FROM load WHERE client = $c ORDER BY v",
                            "params": f'{{"c": "c{n}"}}'},
                )  # fmt: skip
                assert q.status_code == 200, q.text
                seen.append(len(q.json()))
                assert [row["v"] for row in q.json()] == list(range(r + 1))
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(work, range(CLIENTS)))
    assert results == [list(range(1, ROUNDS + 1))] * CLIENTS
    with httpx.Client(base_url=server.url) as c:
        total = c.get(
            "/api/v3/query_sql", params={"db": "db", "q": "SELECT count(*) AS n FROM load"}
        )
    assert total.json() == [{"n": CLIENTS * ROUNDS}]

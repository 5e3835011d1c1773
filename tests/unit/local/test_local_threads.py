"""The local engine under concurrent writers and readers, and behind a Connection."""

from __future__ import annotations

import threading

import influxkit
from influxkit.errors import PartialWriteError


def test_concurrent_writers_and_readers_see_consistent_snapshots(engine):
    writers, requests = 4, 40
    errors: list[BaseException] = []
    done = threading.Event()

    def write(w: int) -> None:
        try:
            for i in range(requests):
                # One request, two tables: a reader must never see one without the other.
                engine.write(f"a,w=w{w} v={i} {i}\nb,w=w{w} v={i} {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            last = 0
            while not done.is_set():
                tables = {r["table_name"] for r in engine.sql("SHOW TABLES")}
                if not {"a", "b"} <= tables:
                    continue
                (a, b), *_ = engine.values(
                    "SELECT (SELECT count(*) FROM a) AS a, (SELECT count(*) FROM b) AS b"
                )
                assert a == b, (a, b)
                assert a >= last
                last = a
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(w,), name=f"writer-{w}") for w in range(writers)
    ]
    readers = [threading.Thread(target=read, name=f"reader-{r}") for r in range(3)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for t in readers:
        t.join()
    assert errors == []
    assert engine.values("SELECT count(*) FROM a") == [(writers * requests,)]


def test_concurrent_schema_conflicts_are_decided_once(engine):
    results: list[str] = []

    def write(line: str) -> None:
        try:
            engine.write(line)
            results.append("ok")
        except PartialWriteError:
            results.append("rejected")

    threads = [
        threading.Thread(target=write, args=(f"m v={'1i' if i % 2 else '1.5'} {i}",))
        for i in range(20)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok"] * 10 + ["rejected"] * 10


def test_behind_a_connection():
    with influxkit.connect(client="local", profile="v3_core", databases=["test"]) as conn:
        conn.write("cpu,host=a usage=0.5 1700000000000000000", database="test")
        rows = conn.query_sql(
            "SELECT host, usage FROM cpu WHERE host = $h", params={"h": "a"}, database="test"
        )
        assert rows == [{"host": "a", "usage": 0.5}]
        assert conn.list_databases() == ["test"]
        assert conn.health()["status"] == "pass"

"""Write and query throughput against a private InfluxDB 1.x, influxkit vs. its peers.

Writes 1,000,000 points in batches of 5,000 through:

* raw preformatted HTTP POSTs with httpx (the ceiling; plain and gzip level 1),
* influxkit with preformatted line protocol (gzip on, as by default, and off),
* influxkit with ``Point`` objects and with dicts (encoding included),
* the ``influxdb`` package's ``write_points`` (dicts, and preformatted lines),

each into a fresh database, median of 3 runs; then queries the 1,000,000 rows back as
rows and as Arrow (and raw httpx + orjson, and the ``influxdb`` package, for scale).
"decode only" times the body already in memory: per document as ``query_influxql``
decodes the chunked answer (the goal's figure), and all 100 documents first then the
rows (more memory live at once, so more fresh pages to fault in: slower).

End to end, the client and ``influxd`` share this machine's 2 cores: influxd spends
~1.7 CPU-seconds producing the 1M-row answer and the client ~0.8 decoding it, so
~1.25 s (~800k rows/s) is the floor here even with perfect overlap.

Run: ``python bench/bench_http_v1.py [--points N] [--runs R]``.  Needs ``influxd``.
Goals (from the issue): preformatted LP through influxkit >= 90% of the raw-POST
ceiling; query decode into rows >= 1M rows/s.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

import influxkit
from influxkit.protocol import decode, decode_v1
from influxkit.protocol import requests as rq
from influxkit.protocol.requests import gzip_compress
from influxkit.testing.influxd import InfluxdServer

BATCH = 5_000
T0 = 1_700_000_000_000_000_000


def make_lines(n: int) -> list[str]:
    """``n`` distinct points over 100 series (unique timestamps, nothing overwritten)."""
    return [
        f"cpu,host=h{i % 100},region=r{i % 5} usage={(i % 1000) / 10},idle={i % 97}i {T0 + i}"
        for i in range(n)
    ]


def batches(items: list, size: int = BATCH) -> list:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Bench:
    def __init__(self, server: InfluxdServer, points: int, runs: int) -> None:
        self.url = server.url
        self.points = points
        self.runs = runs
        self.lines = make_lines(points)
        self.bodies = [("\n".join(b)).encode() for b in batches(self.lines)]
        self.admin = influxkit.connect(self.url, api_version="v1")
        self.pid = server.process.pid
        self.dbs = 0

    def fresh_db(self) -> str:
        self.dbs += 1
        name = f"bench{self.dbs}"
        self.admin.create_database(name)
        return name

    def drop(self, db: str) -> None:
        self.admin.delete_database(db)

    def count(self, db: str) -> int:
        rows = self.admin.query_influxql("SELECT count(usage) FROM cpu", database=db)
        return rows[0]["count"] if rows else 0

    def wait_idle(self, limit: float = 20.0) -> None:
        """Wait until influxd stops burning CPU (compacting, dropping the last database).

        The server is the bottleneck here; without this, whichever method runs right
        after a big write pays for that write's background work.
        """
        stat = f"/proc/{self.pid}/stat"
        deadline = time.monotonic() + limit

        def ticks() -> int:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        last = ticks()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = ticks()
            if now - last <= 2:  # <= 2 ticks in 0.5 s: idle
                return
            last = now

    def measure(self, methods: dict[str, Callable[[str], None]]) -> dict[str, float]:
        """Median lines/s of each method; runs interleaved (order rotated each round),
        each into a fresh database on an idle server."""
        rates: dict[str, list[float]] = {label: [] for label in methods}
        labels = list(methods)
        for r in range(self.runs):
            order = labels[r % len(labels) :] + labels[: r % len(labels)]
            for label in order:
                db = self.fresh_db()
                self.wait_idle()
                gc.collect()
                start = time.perf_counter()
                methods[label](db)
                elapsed = time.perf_counter() - start
                got = self.count(db)
                if got != self.points:
                    raise SystemExit(f"{label}: wrote {got} of {self.points} points")
                rates[label].append(self.points / elapsed)
                self.drop(db)
        result = {label: statistics.median(v) for label, v in rates.items()}
        for label, rate in result.items():
            print(f"  {label:<44} {rate:>12,.0f} lines/s")
        return result

    def load(self) -> str:
        """A database holding the points, for the queries."""
        db = self.fresh_db()
        self.influxkit_bytes(10**9)(db)
        self.wait_idle()
        return db

    # -- writers -------------------------------------------------------------

    def raw(self, gzip: bool) -> Callable[[str], None]:
        def run(db: str) -> None:
            headers = {"Content-Type": "text/plain; charset=utf-8"}
            if gzip:
                headers["Content-Encoding"] = "gzip"
            with httpx.Client(base_url=self.url) as client:
                for body in self.bodies:
                    content = gzip_compress(body) if gzip else body
                    resp = client.post(
                        "/write",
                        params={"db": db, "precision": "n"},
                        content=content,
                        headers=headers,
                    )
                    if resp.status_code != 204:
                        raise SystemExit(f"raw POST: {resp.status_code} {resp.text}")

        return run

    def influxkit_bytes(self, gzip_threshold: int) -> Callable[[str], None]:
        def run(db: str) -> None:
            with influxkit.connect(
                self.url, api_version="v1", database=db, gzip_threshold=gzip_threshold
            ) as conn:
                for body in self.bodies:
                    conn.write(body)

        return run

    def influxkit_records(self, records: list, *, in_flight: int = 0) -> Callable[[str], None]:
        """Records 5,000 per write; ``in_flight`` > 0: through the batch writer, which
        encodes the next batch while up to that many requests are on their way."""
        options: dict[str, Any] = {}
        if in_flight:
            options["batch"] = {"size": BATCH, "max_in_flight": in_flight}

        def run(db: str) -> None:
            with influxkit.connect(
                self.url, api_version="v1", database=db, gzip_threshold=10**9, **options
            ) as conn:
                for batch in batches(records):
                    conn.write(batch)
                conn.flush()

        return run

    def influxdb_points(self, dicts: list[dict], protocol: str = "json") -> Callable[[str], None]:
        from influxdb import InfluxDBClient

        host, port = self.url.removeprefix("http://").split(":")

        def run(db: str) -> None:
            client = InfluxDBClient(host=host, port=int(port), database=db)
            try:
                client.write_points(dicts, batch_size=BATCH, protocol=protocol, time_precision="n")
            finally:
                client.close()

        return run

    # -- queries -------------------------------------------------------------

    def query(self, db: str) -> None:
        q = "SELECT * FROM cpu"
        print(f"\nquery {self.points:,} rows back ({q}), median of {self.runs}:")

        def rate(label: str, fn: Callable[[], Any]) -> float:
            """Median rows/s; freeing the result is not timed (it is not decoding)."""
            times = []
            for _ in range(self.runs):
                gc.collect()
                start = time.perf_counter()
                result = fn()
                times.append(time.perf_counter() - start)
                n = result if isinstance(result, int) else getattr(result, "num_rows", None)
                n = len(result) if n is None else n
                del result
                if n != self.points:
                    raise SystemExit(f"{label}: got {n} rows")
            r = self.points / statistics.median(times)
            print(f"  {label:<44} {r:>12,.0f} rows/s")
            return r

        with influxkit.connect(self.url, api_version="v1", database=db, timeout=300) as conn:
            results = {
                "rows": rate("influxkit rows (list of dicts)", lambda: conn.query_influxql(q)),
                "arrow": rate(
                    "influxkit Arrow table",
                    lambda: conn.query_influxql(q, format="arrow"),
                ),
            }

            req = rq.influxql_query(conn.config, q, database=db, params=None)
            http = conn._client.http  # type: ignore[attr-defined]

            def fetch() -> bytes:
                resp = http.request(req.method, req.path, headers=req.headers, content=req.content)
                return resp.content

            def raw() -> int:
                docs = decode_v1.v1_documents(fetch())
                return sum(len(s["values"]) for s in decode_v1.v1_series(docs))

            results["raw"] = rate("raw httpx + orjson.loads only (same request)", raw)
            body = fetch()

            def pipeline() -> list[dict[str, Any]]:
                """What query_influxql does with the bytes: one document at a time."""
                rows: list[dict[str, Any]] = []
                stream = decode_v1.DocumentStream()
                with decode.gc_paused():
                    for i in range(0, len(body), 65_536):
                        for doc in stream.feed(body[i : i + 65_536]):
                            rows.extend(decode_v1.v1_rows(doc))
                    for doc in stream.close():
                        rows.extend(decode_v1.v1_rows(doc))
                return rows

            results["decode_rows"] = rate("decode only: body -> rows, per document", pipeline)
            results["decode_rows_whole"] = rate(
                "decode only: all documents, then rows",
                lambda: decode_v1.v1_rows(decode_v1.v1_documents(body)),
            )
            results["decode_arrow"] = rate(
                "decode only: body -> Arrow",
                lambda: decode_v1.v1_table(decode_v1.v1_documents(body)),
            )

        from influxdb import InfluxDBClient

        host, port = self.url.removeprefix("http://").split(":")
        client = InfluxDBClient(host=host, port=int(port), database=db, timeout=300)
        try:
            results["influxdb"] = rate(
                "influxdb package query().get_points()",
                lambda: list(client.query(q, epoch="ns").get_points()),
            )
        finally:
            client.close()
        self.query_results = results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with InfluxdServer.start() as server:
        bench = Bench(server, args.points, args.runs)
        version = bench.admin.health()["version"]
        print(f"InfluxDB {version} at {server.url}; {args.points:,} points, batches of {BATCH:,}")
        print(f"write, median of {args.runs} (interleaved, each into a fresh database):")
        points = [
            influxkit.Point("cpu")
            .tag("host", f"h{i % 100}")
            .tag("region", f"r{i % 5}")
            .field("usage", (i % 1000) / 10)
            .field("idle", i % 97)
            .time(T0 + i)
            for i in range(args.points)
        ]
        dicts = [
            {
                "measurement": "cpu",
                "tags": {"host": f"h{i % 100}", "region": f"r{i % 5}"},
                "fields": {"usage": (i % 1000) / 10, "idle": i % 97},
                "time": T0 + i,
            }
            for i in range(args.points)
        ]
        r = bench.measure(
            {
                "raw httpx POST, preformatted (ceiling)": bench.raw(gzip=False),
                "raw httpx POST, preformatted, gzip 1": bench.raw(gzip=True),
                "influxkit bytes (default: gzip)": bench.influxkit_bytes(1024),
                "influxkit bytes, gzip off": bench.influxkit_bytes(10**9),
                "influxkit Point objects": bench.influxkit_records(points),
                "influxkit dicts": bench.influxkit_records(dicts),
                "influxkit Points, batch writer, 2 in flight": bench.influxkit_records(
                    points, in_flight=2
                ),
                "influxkit dicts, batch writer, 2 in flight": bench.influxkit_records(
                    dicts, in_flight=2
                ),
                "influxdb write_points(dicts)": bench.influxdb_points(dicts),
                "influxdb write_points(lines, protocol=line)": bench.influxdb_points(
                    bench.lines, protocol="line"
                ),
            }
        )
        del points, dicts
        ceiling = r["raw httpx POST, preformatted (ceiling)"]
        ceiling_gz = r["raw httpx POST, preformatted, gzip 1"]
        ik_gz = r["influxkit bytes (default: gzip)"]
        ik = r["influxkit bytes, gzip off"]
        ik_points = r["influxkit Point objects"]
        ik_dicts = r["influxkit dicts"]
        idb = r["influxdb write_points(dicts)"]
        idb_lp = r["influxdb write_points(lines, protocol=line)"]
        kept = bench.load()
        print("\nratios:")
        print(f"  influxkit bytes / raw ceiling (both plain)     {ik / ceiling:6.1%}")
        print(f"  influxkit bytes / raw ceiling (both gzip 1)    {ik_gz / ceiling_gz:6.1%}")
        print(f"  influxkit bytes (gzip) / raw plain ceiling     {ik_gz / ceiling:6.1%}")
        print(f"  influxkit Points / influxdb write_points       {ik_points / idb:6.2f}x")
        print(f"  influxkit dicts / influxdb write_points        {ik_dicts / idb:6.2f}x")
        ik_points_b = r["influxkit Points, batch writer, 2 in flight"]
        ik_dicts_b = r["influxkit dicts, batch writer, 2 in flight"]
        print(f"  influxkit Points, batched / influxdb           {ik_points_b / idb:6.2f}x")
        print(f"  influxkit dicts, batched / influxdb            {ik_dicts_b / idb:6.2f}x")
        print(f"  influxkit bytes / influxdb lines               {ik / idb_lp:6.2f}x")

        bench.query(kept)
        res = bench.query_results
        print("\ngoals:")
        for label, rate in (
            ("Points, direct writes", ik_points),
            ("dicts, direct writes", ik_dicts),
            ("Points, batch writer", ik_points_b),
            ("dicts, batch writer", ik_dicts_b),
        ):
            ratio = rate / idb
            print(f"  {label} >= 2.5x influxdb write_points: {ratio:.2f}x "
                  f"({'met' if ratio >= 2.5 else 'NOT met'})")  # fmt: skip
        print(
            f"  preformatted LP >= 90% of raw ceiling: {ik / ceiling:.1%} "
            f"({'met' if ik / ceiling >= 0.9 else 'NOT met'})"
        )
        for key, label in (
            ("decode_rows", "decode only (as the client does)"),
            ("rows", "end to end, with server"),
        ):
            met = "met" if res[key] >= 1_000_000 else "NOT met"
            print(f"  query into rows >= 1M rows/s, {label}: {res[key]:,.0f} rows/s ({met})")
        bench.admin.close()


if __name__ == "__main__":
    main()

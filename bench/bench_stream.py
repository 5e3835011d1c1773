"""Streaming a 1,000,000-row ``jsonl`` answer through ``query_sql_stream``: rows/s and peak RSS.

Run: /tmp/venv/bin/python bench/bench_stream.py [--rows 1000000] [--runs 3]
Goal (issue 3): ``query_sql_stream`` iterates a 1,000,000-row result with bounded memory.

The server is a stdlib HTTP server on a thread of this process, standing in for
InfluxDB 3's ``POST /api/v3/query_sql``: it streams a body generated before the clock
starts (rows in the server's own text, see ``influxkit.server.formats``) in chunks of
1,000 rows with chunked transfer encoding, as ``jsonl``, ``json`` or ``parquet``, so the
measurement is the client's alone.  Each client run is a fresh subprocess
(``bench_stream.py --client MODE URL``) that makes one warm-up query of the same kind
(imports, connection pool), resets its peak RSS to its current RSS (Linux
``/proc/self/clear_refs``; ``ru_maxrss`` would still hold the parent's size from the
fork), runs the big query and reads the peak (``VmHWM``): the difference is the memory
the query itself needed.

Modes: streaming rows (each dropped as the loop moves on), streaming Arrow batches, and
the materialised answers for comparison: ``list()`` of the streamed rows, ``query_sql``
rows (Parquet, the default with pyarrow) and ``query_sql`` rows from ``json`` (the path
without pyarrow).  Streaming is run at a tenth of the rows too: bounded memory means
the same peak for both sizes.

The rows are: ``host`` and ``region`` tags, ``idle`` (an int, NULL in every 10th row:
jsonl leaves the key out, the client completes the row with ``None``), ``usage`` (a
float) and ``time`` (nanosecond text, one second and 3,001 ns apart).  jsonl carries no
types, so a streamed row's ``time`` is the only value converted (to an aware UTC
``datetime``); the others are what JSON gives (str, int, float, bool).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

T0 = 1_700_000_000_000_000_000
BIG = "SELECT * FROM cpu"
CHUNK_ROWS = 1_000

# mode -> (label, what is materialised); the subprocess runs one of them.
MODES = {
    "stream": "query_sql_stream(), rows dropped as they go",
    "stream_arrow": "query_sql_stream(format='arrow'), batches dropped",
    "stream_list": "list(query_sql_stream()): every row kept",
    "query_sql": "query_sql() rows (Parquet -> Arrow -> rows)",
    "query_sql_json": "query_sql() rows from json (no pyarrow)",
}


# -- the server ----------------------------------------------------------------


def make_rows(n: int) -> list[dict[str, Any]]:
    from influxkit.server.formats import format_timestamp

    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "host": f"h{i % 100}",
            "idle": i % 97,
            "region": f"r{i % 5}",
            "time": format_timestamp(T0 + i * 1_000_003_001),
            "usage": (i % 1000) / 10,
        }
        if i % 10 == 9:
            del row["idle"]
        rows.append(row)
    return rows


def parquet_body(rows: list[dict[str, Any]]) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from influxkit.protocol.decode import time_to_ns

    table = pa.table(
        {
            "host": pa.array([r["host"] for r in rows]).dictionary_encode(),
            "idle": pa.array([r.get("idle") for r in rows], pa.int64()),
            "region": pa.array([r["region"] for r in rows]).dictionary_encode(),
            "time": pa.array([time_to_ns(r["time"]) for r in rows], pa.timestamp("ns")),
            "usage": pa.array([r["usage"] for r in rows], pa.float64()),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


class Bodies:
    """Every answer the server can give, built once: jsonl / json chunks, Parquet bytes."""

    def __init__(self, n: int) -> None:
        rows = make_rows(n)
        lines = [orjson.dumps(r) for r in rows]
        groups = [lines[i : i + CHUNK_ROWS] for i in range(0, n, CHUNK_ROWS)]
        self.jsonl = [b"\n".join(g) + b"\n" for g in groups]
        self.json = [(b"[" if i == 0 else b",") + b",".join(g) for i, g in enumerate(groups)]
        self.json.append(b"]" if groups else b"[]")
        self.parquet = parquet_body(rows)
        small = rows[:10]
        self.small = {
            "jsonl": [b"".join(orjson.dumps(r) + b"\n" for r in small)],
            "json": [orjson.dumps(small)],
            "parquet": [parquet_body(small)],
        }
        self.bytes = sum(map(len, self.jsonl))

    def answer(self, query: str, fmt: str) -> list[bytes]:
        if query != BIG:
            return self.small[fmt]
        return {"jsonl": self.jsonl, "json": self.json, "parquet": [self.parquet]}[fmt]


def serve(bodies: Bodies) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/api/v3/query_sql" or doc.get("format") not in (
                "jsonl",
                "json",
                "parquet",
            ):
                self.send_error(404)
                return
            chunks = bodies.answer(doc["q"], doc["format"])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            write = self.wfile.write
            for chunk in chunks:
                write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            write(b"0\r\n\r\n")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# -- the client (a subprocess) -------------------------------------------------


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {key} in /proc/self/status (this benchmark needs Linux)")


def reset_peak() -> int:
    """Reset this process's peak RSS to its current RSS (Linux ``clear_refs``); KiB.

    Not ``ru_maxrss``: a subprocess inherits its parent's peak at exec (here the
    server's hundreds of MB of bodies), and only ``clear_refs`` resets ``VmHWM``.
    """
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_kib("VmRSS")


def peak_kib() -> int:
    return _status_kib("VmHWM")


def client(mode: str, url: str) -> None:
    """One measured query in this (fresh) process; prints a JSON line of figures."""
    import influxkit

    host, port = url.removeprefix("http://").split(":")
    if mode == "query_sql_json":
        from influxkit.clients import http

        http._HAS_PYARROW = False  # the rows path of an install without pyarrow

    conn = influxkit.connect(host=host, port=int(port), api_version="v3", database="db")

    def run(sql: str) -> int:
        if mode == "stream":
            n = 0
            for _ in conn.query_sql_stream(sql):
                n += 1
            return n
        if mode == "stream_arrow":
            return sum(b.num_rows for b in conn.query_sql_stream(sql, format="arrow"))
        if mode == "stream_list":
            rows = list(conn.query_sql_stream(sql))
            return len(rows)
        return len(conn.query_sql(sql))

    run("SELECT * FROM cpu LIMIT 10")  # warm-up: imports, pool, decoders
    gc.collect()
    base = reset_peak()
    start = time.perf_counter()
    n = run(BIG)
    elapsed = time.perf_counter() - start
    print(json.dumps({"rows": n, "seconds": elapsed, "base_kib": base, "peak_kib": peak_kib()}))
    conn.close()


def measure(url: str, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--client", mode, url],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--client", nargs=2, metavar=("MODE", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(*args.client)
        return

    small_n = max(args.rows // 10, 1)
    t = time.perf_counter()
    sizes = {args.rows: Bodies(args.rows), small_n: Bodies(small_n)}
    big = sizes[args.rows]
    print(
        f"{args.rows:,} rows, jsonl {big.bytes / 1e6:.0f} MB / Parquet "
        f"{len(big.parquet) / 1e6:.0f} MB, chunks of {CHUNK_ROWS:,} rows "
        f"(built in {time.perf_counter() - t:.0f} s); each figure the median of "
        f"{args.runs} fresh client processes"
    )
    servers = {n: serve(b) for n, b in sizes.items()}
    urls = {n: f"http://127.0.0.1:{s.server_address[1]}" for n, s in servers.items()}

    def figures(n: int, mode: str) -> tuple[float, float]:
        runs = [measure(urls[n], mode) for _ in range(args.runs)]
        for r in runs:
            if r["rows"] != n:
                raise SystemExit(f"{mode}: got {r['rows']} rows of {n}")
        rate = statistics.median(n / r["seconds"] for r in runs)
        extra = statistics.median((r["peak_kib"] - r["base_kib"]) / 1024 for r in runs)
        return rate, extra

    print(f"\n{'client':<52} {'rows':>10} {'rows/s':>12} {'peak RSS over baseline':>24}")
    results: dict[tuple[int, str], tuple[float, float]] = {}
    plan = [(args.rows, mode) for mode in MODES] + [(small_n, "stream")]
    for n, mode in plan:
        rate, extra = results[n, mode] = figures(n, mode)
        print(f"{MODES[mode]:<52} {n:>10,} {rate:>12,.0f} {extra:>20,.1f} MiB")
    for server in servers.values():
        server.shutdown()

    stream_rate, stream_mem = results[args.rows, "stream"]
    small_mem = results[small_n, "stream"][1]
    kept_mem = results[args.rows, "stream_list"][1]
    # Bounded: ten times the rows may not need noticeably more memory (a few MiB of
    # allocator noise allowed), and a small fraction of what keeping the rows needs.
    bounded = stream_mem <= small_mem + 8 and stream_mem <= kept_mem / 10
    print(
        f"\nstreaming {args.rows:,} rows: +{stream_mem:.1f} MiB peak "
        f"(+{small_mem:.1f} MiB for {small_n:,}; +{kept_mem:.0f} MiB keeping every row), "
        f"{stream_rate:,.0f} rows/s -> bounded memory {'met' if bounded else 'NOT met'}"
    )


if __name__ == "__main__":
    main()

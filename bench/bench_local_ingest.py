"""Local engine ingest: an Arrow table written directly, beside the line protocol round trip.

Run: /tmp/venv/bin/python bench/bench_local_ingest.py [--rows 1000000] [--runs 3]

Every case writes the same 1,000,000 rows (3 tags of 100 x 4 x 7 values, 4 fields: float,
int, bool, string; nanosecond times, one point per row) into a fresh ``client="local"``
connection, and is timed twice: the write call alone, and the write followed by the
first query (``SELECT count(*)``), since the engine builds the table a query sees only
when one comes (that is where same-series-same-time points are merged):

* ``arrow``: ``conn.write(table, measurement=..., tag_columns=..., timestamp_column=...)``,
  which the local engine takes as Arrow columns (no line protocol);
* ``lp round trip``: what such a write did before: ``encode_table`` to line protocol,
  then ``conn.write(body)`` (parsed again by the engine);
* ``lp (pre-encoded)``: ``conn.write(body)`` of bytes encoded beforehand (the line
  protocol write path alone);
* ``dicts``: the same rows as a list of dicts (built beforehand), for context.

Then the query path on the loaded table (snapshot already built): a filter, a GROUP BY
and a ``date_bin`` aggregate, each the median of ``--runs`` runs.

The rounds are interleaved (each round runs every case once, in a shuffled order) after
one untimed warm-up round at a tenth of the size; figures are medians of the rounds.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

BASE_NS = 1_700_000_000_000_000_000
TAGS = ["host", "region", "dc"]
QUERIES = {
    "filter": "SELECT count(*) FROM cpu WHERE host = 'host-7' AND usage > 50",
    "group by": "SELECT host, avg(usage), max(count) FROM cpu GROUP BY host",
    "date_bin": (
        "SELECT date_bin(INTERVAL '1 second', time) AS t, region, avg(usage) "
        "FROM cpu GROUP BY 1, 2 ORDER BY 1, 2"
    ),
}


def table(n: int) -> Any:
    """The rows as a pyarrow Table (tags plain strings, time ``timestamp[ns]``)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(42)
    i = np.arange(n)

    def cycle(prefix: str, k: int) -> Any:
        return pa.array(np.array([f"{prefix}{j}" for j in range(k)], dtype=object)[i % k])

    return pa.table(
        {
            "host": cycle("host-", 100),
            "region": cycle("region-", 4),
            "dc": cycle("dc-", 7),
            "usage": rng.random(n) * 100,
            "count": rng.integers(0, 1_000_000, n),
            "ok": pa.array(i % 3 == 0),
            "state": cycle("state-", 5),
            "time": pa.array(BASE_NS + i * 1_000, pa.timestamp("ns")),
        }
    )


def dict_rows(data: Any) -> list[dict[str, Any]]:
    rows = data.to_pylist()
    out = []
    for row in rows:
        ts = row.pop("time")
        out.append(
            {
                "measurement": "cpu",
                "tags": {k: row.pop(k) for k in TAGS},
                "fields": row,
                "time": ts,
            }
        )
    return out


def fresh() -> Any:
    import influxkit

    return influxkit.connect(client="local", profile="v3_core", database="db")


def timed(write: Callable[[Any], None]) -> tuple[float, float]:
    """(seconds of the write, seconds of the write and the first query)."""
    conn = fresh()
    gc.collect()
    start = time.perf_counter()
    write(conn)
    wrote = time.perf_counter()
    count = conn.query_sql("SELECT count(*) AS n FROM cpu")[0]["n"]
    done = time.perf_counter()
    conn.close()
    if count == 0:
        raise AssertionError("nothing was written")
    return wrote - start, done - start


def cases(data: Any, body: bytes, rows: list[dict[str, Any]]) -> dict[str, Callable[[Any], None]]:
    from influxkit.lineprotocol.encode_columnar import encode_table

    options = {"measurement": "cpu", "tag_columns": TAGS, "timestamp_column": "time"}

    def arrow(conn: Any) -> None:
        conn.write(data, **options)

    def round_trip(conn: Any) -> None:
        conn.write(encode_table(data, **options).data)

    def pre_encoded(conn: Any) -> None:
        conn.write(body)

    def dicts(conn: Any) -> None:
        conn.write(rows)

    return {
        "arrow": arrow,
        "lp round trip": round_trip,
        "lp (pre-encoded)": pre_encoded,
        "dicts": dicts,
    }


def run_round(fns: dict[str, Callable[[Any], None]], results: dict[str, list[Any]]) -> None:
    names = list(fns)
    random.shuffle(names)
    for name in names:
        results[name].append(timed(fns[name]))


def query_times(data: Any, runs: int) -> dict[str, float]:
    conn = fresh()
    conn.write(data, measurement="cpu", tag_columns=TAGS, timestamp_column="time")
    conn.query_sql("SELECT count(*) FROM cpu")  # the snapshot is built once
    out = {}
    for name, sql in QUERIES.items():
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            conn.query_sql(sql, format="arrow")
            samples.append(time.perf_counter() - start)
        out[name] = statistics.median(samples)
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from influxkit.lineprotocol.encode_columnar import encode_table

    n = args.rows
    data = table(n)
    options = {"measurement": "cpu", "tag_columns": TAGS, "timestamp_column": "time"}
    body = encode_table(data, **options).data
    rows = dict_rows(data)
    warm = data.slice(0, max(1, n // 10))
    warm_fns = cases(warm, encode_table(warm, **options).data, dict_rows(warm))
    run_round(warm_fns, {name: [] for name in warm_fns})

    fns = cases(data, body, rows)
    results: dict[str, list[Any]] = {name: [] for name in fns}
    for _ in range(args.runs):
        run_round(fns, results)

    print(f"{n:,} rows (3 tags, 4 fields), medians of {args.runs} rounds")
    print(f"{'case':<18} {'write s':>8} {'rows/s':>12} {'+query s':>9} {'rows/s':>12}")
    medians = {}
    for name, samples in results.items():
        w = statistics.median(s[0] for s in samples)
        q = statistics.median(s[1] for s in samples)
        medians[name] = (w, q)
        print(f"{name:<18} {w:>8.3f} {n / w:>12,.0f} {q:>9.3f} {n / q:>12,.0f}")
    arrow_w, arrow_q = medians["arrow"]
    for name in ("lp round trip", "lp (pre-encoded)", "dicts"):
        w, q = medians[name]
        print(f"arrow vs {name:<17} write {w / arrow_w:6.1f}x   write+query {q / arrow_q:6.1f}x")
    print("query path (loaded table, snapshot built):")
    for name, seconds in query_times(data, args.runs).items():
        print(f"  {name:<10} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()

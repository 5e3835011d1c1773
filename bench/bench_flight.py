"""Query 1,000,000 rows from ``influxkit serve``: Arrow Flight vs HTTP JSON, jsonl and Parquet.

Run: python bench/bench_flight.py [--rows 1000000] [--runs 3]
Goal (from the issue): Flight >= 10x the JSON path, into Arrow and into pandas.

The same ``SELECT *`` (2 tags, a float, an int, the time) comes back each way, into a
``pyarrow.Table`` and into a pandas DataFrame:

* Flight: ``query_sql(..., transport="flight", format="arrow"|"pandas")``;
* JSON: ``/api/v3/query_sql?format=json`` decoded with orjson, then built into Arrow /
  pandas (what a client of the JSON endpoint does);
* jsonl: ``query_sql_stream(format="arrow")``, record batches concatenated;
* Parquet: ``query_sql(..., format="arrow"|"pandas")`` over HTTP (influxkit's default).

Each path is timed from the request to the finished object, median of ``--runs`` after
one untimed round (connections, the Flight client), the paths taken in turns so machine
load hits all alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pyarrow as pa

import influxkit
from influxkit.server import running_server

SQL = "SELECT * FROM cpu"


def load(url: str, rows: int) -> None:
    with influxkit.connect(url, database="db", timeout=300) as conn:
        step = 100_000
        for start in range(0, rows, step):
            conn.write(
                "\n".join(
                    f"cpu,host=h{i % 100},region=r{i % 5} usage={i % 1000 / 10},n={i}i {i + 1}"
                    for i in range(start, min(rows, start + step))
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with running_server(databases=["db"], flight_port=0) as server:
        load(server.url, args.rows)
        conn = influxkit.connect(server.url, database="db", timeout=300,
                                 flight_port=server.flight_port)  # fmt: skip
        http = httpx.Client(base_url=server.url, timeout=300)

        def json_rows() -> list[dict[str, Any]]:
            resp = http.post("/api/v3/query_sql", json={"db": "db", "q": SQL, "format": "json"})
            resp.raise_for_status()
            return orjson.loads(resp.content)

        paths: dict[str, Callable[[], Any]] = {
            "Flight -> Arrow": lambda: conn.query_sql(SQL, format="arrow", transport="flight"),
            "Flight -> pandas": lambda: conn.query_sql(SQL, format="pandas", transport="flight"),
            "JSON -> Arrow": lambda: pa.Table.from_pylist(json_rows()),
            "JSON -> pandas": lambda: __import__("pandas").DataFrame(json_rows()),
            "jsonl stream -> Arrow": lambda: pa.Table.from_batches(
                list(conn.query_sql_stream(SQL, format="arrow"))
            ),
            "Parquet -> Arrow": lambda: conn.query_sql(SQL, format="arrow"),
            "Parquet -> pandas": lambda: conn.query_sql(SQL, format="pandas"),
        }
        times: dict[str, list[float]] = {k: [] for k in paths}
        try:
            for run in paths.values():  # one untimed round: connections, caches, first touch
                run()
            for _ in range(args.runs):
                for label, run in paths.items():
                    start = time.perf_counter()
                    result = run()
                    times[label].append(time.perf_counter() - start)
                    n = result.num_rows if hasattr(result, "num_rows") else len(result)
                    if n != args.rows:
                        raise SystemExit(f"{label}: {n} rows")
                    del result
        finally:
            http.close()
            conn.close()
    rates = {k: args.rows / statistics.median(v) for k, v in times.items()}
    print(f"{args.rows:,} rows from influxkit serve, median of {args.runs}:")
    for label, rate in rates.items():
        print(f"  {label:<24} {rate:>12,.0f} rows/s")
    for target in ("Arrow", "pandas"):
        ratio = rates[f"Flight -> {target}"] / rates[f"JSON -> {target}"]
        verdict = "OK" if ratio >= 10 else "UNDER"
        print(f"Flight vs JSON into {target}: {ratio:.1f}x -> {verdict} (goal >= 10x)")


if __name__ == "__main__":
    main()

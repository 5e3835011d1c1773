"""Row encoding speed: influxkit (Points and dicts) beside influxdb3-python and influxdb-client.

Run: /tmp/venv/bin/python bench/bench_encode.py [--points 200000] [--runs 5]
Goal: influxkit's row encoder (Points and dicts) at least 5x influxdb3-python's
``Point.to_line_protocol()``.

Every library encodes the same points: 3 tags (100 x 4 x 7 values), 4 fields (float,
int, bool, string) and a nanosecond timestamp. The objects are built before the clock
starts and rebuilt before every run, so nothing one run memoises (a Point's cached
series key, say) helps the next; only the encoding is timed. Each round runs every case
once, so a change in machine load hits all of them alike. influxkit is timed through
``encode()``, which also joins the lines and encodes them to UTF-8 bytes; the peers are
timed making their list of ``str`` lines only, so the comparison leans their way.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

BASE_NS = 1_700_000_000_000_000_000


def rows(n: int) -> list[tuple[dict[str, str], dict[str, Any], int]]:
    rng = random.Random(42)
    return [
        (
            {"host": f"host-{i % 100}", "region": f"region-{i % 4}", "dc": f"dc-{i % 7}"},
            {
                "usage": rng.random() * 100,
                "count": rng.randrange(1_000_000),
                "ok": i % 3 == 0,
                "status": f"state {i % 50}",
            },
            BASE_NS + i * 1_000,
        )
        for i in range(n)
    ]


def influxkit_points(data):
    from influxkit.point import Point

    return [Point("cpu", tags=t, fields=f, time=ts) for t, f, ts in data]


def influxkit_dicts(data):
    return [
        {"measurement": "cpu", "tags": dict(t), "fields": dict(f), "time": ts} for t, f, ts in data
    ]


def peer_points(point_cls, data, **time_kwargs):
    out = []
    for tags, fields, ts in data:
        p = point_cls("cpu")
        for k, v in tags.items():
            p.tag(k, v)
        for k, v in fields.items():
            p.field(k, v)
        out.append(p.time(ts, **time_kwargs))
    return out


def encode_influxkit(objs):
    from influxkit.lineprotocol.encode import encode

    return encode(objs)


def encode_each(objs):
    return [p.to_line_protocol() for p in objs]


def timed(build: Callable[[], Any], run: Callable[[Any], Any]) -> float:
    objs = build()  # fresh objects: no memo survives from the previous run
    start = time.perf_counter()
    run(objs)
    return time.perf_counter() - start


def check_same_data(data) -> None:
    """Both encoders' output must parse to the same records (tag/field order aside)."""
    import influxdb_client_3

    from influxkit.lineprotocol.parse import parse

    sample = data[:2000]
    ours = parse(encode_influxkit(influxkit_points(sample)))
    theirs = parse("\n".join(encode_each(peer_points(influxdb_client_3.Point, sample))))
    assert not ours.errors and not theirs.errors
    for (_, a), (_, b) in zip(ours.lines, theirs.lines, strict=True):
        assert (a.measurement, a.timestamp) == (b.measurement, b.timestamp)
        assert dict(a.tags) == dict(b.tags)
        assert {k: (t, v) for k, t, v in a.fields} == {k: (t, v) for k, t, v in b.fields}


def run_encode(args: argparse.Namespace) -> None:
    import influxdb_client
    import influxdb_client_3

    data = rows(args.points)
    check_same_data(data)
    cases = [
        ("influxkit encode(Points)", lambda: influxkit_points(data), encode_influxkit),
        ("influxkit encode(dicts)", lambda: influxkit_dicts(data), encode_influxkit),
        ("influxkit Point.to_line_protocol() each", lambda: influxkit_points(data), encode_each),
        (
            "influxdb3-python Point.to_line_protocol()",
            lambda: peer_points(influxdb_client_3.Point, data),
            encode_each,
        ),
        (
            "influxdb-client Point.to_line_protocol()",
            lambda: peer_points(influxdb_client.Point, data),
            encode_each,
        ),
    ]
    # Rounds take every case once, so a change in machine load hits all cases alike.
    times: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.runs):
        for name, build, run in cases:
            times[name].append(timed(build, run))
    results = {name: args.points / statistics.median(t) for name, t in times.items()}
    print(f"{args.points} points, 3 tags, 4 fields (float, int, bool, str), ns time; median of "
          f"{args.runs} runs")  # fmt: skip
    width = max(map(len, results))
    baseline = results["influxdb3-python Point.to_line_protocol()"]
    for name, rate in results.items():
        print(f"{name:<{width}}  {rate:>12,.0f} points/s  {rate / baseline:5.2f}x influxdb3-python")
    worst = min(results["influxkit encode(Points)"], results["influxkit encode(dicts)"])
    verdict = "OK" if worst >= 5 * baseline else "UNDER"
    print(f"row encoder vs influxdb3-python: {worst / baseline:.2f}x -> {verdict} (goal >= 5x)")


MODES = {"encode": run_encode}  # other modes are added (and owned) by their authors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="encode")
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    MODES[args.mode](args)


if __name__ == "__main__":
    main()

"""DataFrame encoding speed: influxkit's columnar encoder beside influxdb3-python, influxdb-client
and the questdb client's compiled encoder (the reference).

Run: /tmp/venv/bin/python bench/bench_columnar.py [--rows 1000000] [--runs 5]
Goals: influxkit's ``encode_table`` of the pandas DataFrame at least 8x influxdb3-python's
DataFrame serializer, and within 2x of questdb's compiled ``Buffer.dataframe`` (whose
protocol-1 output is InfluxDB line protocol).

Everyone encodes the same pandas DataFrame: 3 tag columns (100 x 4 x 7 values), 4 fields
(float, int, bool, str) and a ``datetime64[ns]`` time column; pandas' default dtypes (in
pandas 3 strings are its ``str`` dtype). influxkit is timed from that DataFrame (the
conversion to Arrow included) to the bytes of the body, and also from an Arrow table built
beforehand; questdb to ``bytes(buffer)``; the two peers to their list of ``str`` lines only
(no join, no UTF-8 encoding), so the comparison leans their way. The serializers are
called directly, with no network. Each round runs every case once, interleaved, so a
change in machine load hits all of them alike, and the order is shuffled from round to
round (the case run after the peers is often slower here), after one untimed round (the
first encode in a process pays for the allocators' growth: ~0.6 s instead of ~0.33 s for
influxkit here); the figure is the median of the rounds.
Before timing, every encoder's output for the first 2,000 rows must parse (with
influxkit's parser) to the same records.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import random
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

BASE_NS = 1_700_000_000_000_000_000
TAGS = ["host", "region", "dc"]
PEER = "influxdb3-python DataframeSerializer"
REFERENCE = "questdb Buffer.dataframe (compiled)"
OURS = "influxkit encode_table(pandas)"


def frame(n: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    i = np.arange(n)

    def cycle(prefix: str, k: int) -> Any:
        return np.array([f"{prefix}{j}" for j in range(k)], dtype=object)[i % k]

    return pd.DataFrame(
        {
            "host": pd.array(cycle("host-", 100), dtype="str"),
            "region": pd.array(cycle("region-", 4), dtype="str"),
            "dc": pd.array(cycle("dc-", 7), dtype="str"),
            "usage": rng.random(n) * 100,
            "count": rng.integers(0, 1_000_000, n),
            "ok": i % 3 == 0,
            "status": pd.array(cycle("state ", 50), dtype="str"),
            "time": pd.to_datetime(BASE_NS + i * 1_000, unit="ns"),
        }
    )


def influxkit_table(data: Any) -> bytes:
    from influxkit.lineprotocol.encode_columnar import encode_table

    encoded = encode_table(data, measurement="cpu", tag_columns=TAGS, timestamp_column="time")
    assert not encoded.refused
    return encoded.data


def influxdb3_python(df: Any) -> list[str]:
    from influxdb_client_3.write_client.client.write.dataframe_serializer import (
        DataframeSerializer,
    )
    from influxdb_client_3.write_client.client.write_api import PointSettings

    return DataframeSerializer(
        df,
        PointSettings(),
        data_frame_measurement_name="cpu",
        data_frame_tag_columns=TAGS,
        data_frame_timestamp_column="time",
    ).serialize()


def influxdb_client(df: Any) -> list[str]:
    from influxdb_client.client.write.dataframe_serializer import DataframeSerializer
    from influxdb_client.client.write_api import PointSettings

    return DataframeSerializer(
        df,
        PointSettings(),
        data_frame_measurement_name="cpu",
        data_frame_tag_columns=TAGS,
        data_frame_timestamp_column="time",
    ).serialize()


def questdb_available() -> bool:
    try:
        import questdb  # noqa: F401
    except ImportError:
        return False
    return True


def questdb(df: Any) -> bytes:
    with warnings.catch_warnings():  # questdb.ingress is deprecated in favour of questdb
        warnings.simplefilter("ignore", DeprecationWarning)
        from questdb.ingress import Buffer

    buffer = Buffer(protocol_version=1)  # protocol 1: text floats, i.e. line protocol
    buffer.dataframe(df, table_name="cpu", symbols=TAGS, at="time")
    return bytes(buffer)


def records(body: bytes | str) -> list[tuple[Any, ...]]:
    from influxkit.lineprotocol.parse import parse

    result = parse(body)
    assert not result.errors, result.errors[:3]
    return [
        (
            line.measurement,
            tuple(sorted(line.tags)),
            tuple(sorted((k, t, v) for k, t, v in line.fields)),
            line.timestamp,
        )
        for _, line in result.lines
    ]


def check_same_data(df: Any) -> None:
    """Every encoder's output must parse to the same records (tag/field order aside)."""
    sample = df.iloc[:2000]
    ours = records(influxkit_table(sample))
    assert len(ours) == len(sample)
    assert records("\n".join(influxdb3_python(sample))) == ours
    assert records("\n".join(influxdb_client(sample))) == ours
    if questdb_available():
        assert records(questdb(sample)) == ours


def run(args: argparse.Namespace) -> None:
    import pyarrow as pa

    df = frame(args.rows)
    table = pa.Table.from_pandas(df, preserve_index=False)
    check_same_data(df)
    cases: list[tuple[str, Callable[[], Any]]] = [
        (OURS, lambda: influxkit_table(df)),
        ("influxkit encode_table(Arrow table)", lambda: influxkit_table(table)),
        (PEER, lambda: influxdb3_python(df)),
        ("influxdb-client DataframeSerializer", lambda: influxdb_client(df)),
    ]
    if questdb_available():
        cases.append((REFERENCE, lambda: questdb(df)))
    for _ in range(args.warmup):  # untimed: the allocators' first growth is paid here
        for _, call in cases:
            call()
    times: dict[str, list[float]] = {name: [] for name, _ in cases}
    for round_ in range(args.runs):
        # Shuffled (seeded) from round to round, so no case always runs first or always
        # after the same one: the run after the peers' seconds of work (and gigabytes
        # freed) is often slower here, whichever it is.
        order = cases[:]
        random.Random(round_).shuffle(order)
        for name, call in order:
            gc.collect()  # the previous case's garbage is not this case's to collect
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    results = {name: args.rows / statistics.median(t) for name, t in times.items()}

    import pandas as pd
    import pyarrow

    versions = f"pandas {pd.__version__}, pyarrow {pyarrow.__version__}"
    for package in ("influxdb3-python", "influxdb-client", "questdb"):
        try:
            versions += f", {package} {importlib.metadata.version(package)}"
        except importlib.metadata.PackageNotFoundError:
            versions += f", {package} not installed"
    print(f"{args.rows:,} rows, 3 tags, 4 fields (float, int, bool, str), ns time; median of "
          f"{args.runs} interleaved runs after {args.warmup} untimed; {versions}")  # fmt: skip
    width = max(map(len, results))
    baseline = results[PEER]
    reference = results.get(REFERENCE)
    for name, rate in results.items():
        line = f"{name:<{width}}  {rate:>12,.0f} rows/s  {rate / baseline:6.2f}x influxdb3-python"
        if reference:
            line += f"  {rate / reference:5.2f}x questdb"
        print(line)
    ours = results[OURS]
    verdict = "OK" if ours >= 8 * baseline else "UNDER"
    print(f"columnar vs influxdb3-python: {ours / baseline:.2f}x -> {verdict} (goal >= 8x)")
    if reference:
        verdict = "OK" if ours >= reference / 2 else "UNDER"
        print(f"columnar vs questdb (compiled): {ours / reference:.2f}x -> {verdict} "
              "(goal >= 0.5x, within 2x)")  # fmt: skip
    else:
        print("questdb is not installed (pip install questdb): no reference figure")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    run(parser.parse_args())


if __name__ == "__main__":
    main()

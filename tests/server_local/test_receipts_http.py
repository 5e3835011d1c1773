"""Receipts over HTTP, also when a body over the 10 MiB request limit is split."""

from __future__ import annotations

import pytest

import influxkit
from influxkit.server import ServerThread


def test_a_split_write_maps_rejections_to_the_callers_records(server: ServerThread) -> None:
    n = 120_000  # ~13 MB of line protocol: more than one request
    records = [f"cpu,host=host-{i % 100:03d},pad=xxxxxxxxxxxxxxxxxxxxxxxx v={i}i {i + 1}"
               for i in range(n)]  # fmt: skip
    bad = n - 5  # in the last request
    records[bad] = f'cpu,host=host-000 v="text" {bad + 1}'
    with influxkit.connect(server.url, database="db", timeout=60) as conn:
        with pytest.raises(influxkit.PartialWriteError) as info:
            conn.write(records)
        [rejected] = info.value.rejected
        assert rejected.record == bad and rejected.line_number == bad + 1
        assert rejected.line == records[bad]
        assert conn.query_sql("SELECT count(*) AS n FROM cpu") == [{"n": n - 1}]
        result = conn.write(records[:100])  # ~5 KB: over the 1 KiB gzip threshold
        assert result.requests == 1 and result.bytes_sent < result.bytes  # gzip above 1 KiB

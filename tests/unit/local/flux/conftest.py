"""A v2-profile engine with a small hand-written bucket, and helpers to query it with Flux.

All times are seconds after T0 = 2021-01-01T00:00:00Z::

    cpu,host=a,region=eu  usage: 1.0 @0s  2.0 @10s  4.0 @20s    idle: 90i @0s  80i @60s
    cpu,host=b,region=us  usage: 10.0 @5s  20.0 @65s
    mem,host=a            used: 3i @1s
    disk                  full: true @2s   label: "" @2s   note: "a,b" @3s
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from influxkit.clients.local import LocalClient, flux
from influxkit.clients.profiles import get_profile

T0 = datetime(2021, 1, 1, tzinfo=UTC)
T0_NS = 1_609_459_200 * 10**9
START = "2021-01-01T00:00:00Z"
STOP = "2021-01-01T00:01:30Z"  # T0 + 90s

# (line protocol without its time, seconds after T0)
POINTS = [
    ("cpu,host=a,region=eu usage=1.0,idle=90i", 0),
    ("cpu,host=a,region=eu usage=2.0", 10),
    ("cpu,host=a,region=eu usage=4.0", 20),
    ("cpu,host=a,region=eu idle=80i", 60),
    ("cpu,host=b,region=us usage=10.0", 5),
    ("cpu,host=b,region=us usage=20.0", 65),
    ("mem,host=a used=3i", 1),
    ('disk full=true,label=""', 2),
    ('disk note="a,b"', 3),
]


class FluxEngine:
    """The engine and short ways to run Flux on it."""

    START = START
    STOP = STOP
    T0_NS = T0_NS

    @staticmethod
    def at(seconds: float) -> datetime:
        """T0 plus ``seconds``, as the rows hold times."""
        return T0 + timedelta(seconds=seconds)

    @staticmethod
    def q(body: str, start: str = START, stop: str = STOP) -> str:
        """``from(bucket: "b") |> range(start, stop)`` followed by ``body``."""
        return f'from(bucket: "b") |> range(start: {start}, stop: {stop}){body}'

    def __init__(self) -> None:
        self.client = LocalClient(get_profile("v2"), databases=["b"])
        body = "\n".join(f"{line} {T0_NS + seconds * 10**9}" for line, seconds in POINTS)
        self.client.write(
            body.encode(), database="b", precision="ns", accept_partial=False, no_sync=False
        )

    def rows(self, query: str) -> list[dict[str, Any]]:
        """``query_flux`` rows."""
        return self.client.query_flux(query, org=None)

    def results(self, query: str) -> list[flux.Result]:
        """The Flux results (tables with their keys and column types)."""
        return flux.run(self.client, query)

    def tables(self, query: str) -> list[flux.table.Table]:
        """The tables of the only result."""
        (result,) = self.results(query)
        return list(result.tables)

    def values(self, query: str, *columns: str) -> list[tuple[Any, ...]]:
        """Each row's ``columns``, as tuples."""
        return [tuple(r.get(c) for c in columns) for r in self.rows(query)]


@pytest.fixture(scope="module")
def fe() -> FluxEngine:
    return FluxEngine()

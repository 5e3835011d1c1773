"""A small v1 engine whose answers were read from InfluxDB 1.6.7 (the tests' expected values)."""

from __future__ import annotations

from typing import Any

import pytest

from influxkit.clients.local import LocalClient
from influxkit.clients.local.influxql import ParseError, run
from influxkit.clients.local.influxql.shape_v1 import documents
from influxkit.clients.profiles import get_profile

DATA = (
    b'cpu,host=a,region=us value=1.5,n=3i,s="x",b=true 1000000000\n'
    b'cpu,host=b,region=eu value=2.5,n=4i,s="y",b=false 1000000000\n'
    b"cpu,host=a,region=us value=3,n=5i 2000000000\n"
    b"cpu,region=eu value=4 3000000000\n"
    b"mem,host=a free=10i,used=2.5 1500000000\n"
)


class Engine:
    """Run InfluxQL on a fresh v1 engine holding :data:`DATA` in database ``x``."""

    def __init__(self, profile: str = "v1") -> None:
        self.client = LocalClient(get_profile(profile), databases=["x"])
        self.client.write(DATA, database="x", precision="ns", accept_partial=False, no_sync=False)

    def doc(self, query: str, params: dict[str, Any] | None = None, **options: Any) -> Any:
        """The 1.x JSON document for ``query`` (times RFC 3339 unless ``epoch=``)."""
        try:
            results = run(self.client, query, database="x", params=params, now=10**10)
        except ParseError as exc:
            return {"error": exc.message}
        return documents(results, **options)

    def result(self, query: str, **options: Any) -> dict[str, Any]:
        """The first statement's result of :meth:`doc`."""
        return self.doc(query, **options)[0]["results"][0]

    def series(self, query: str, **options: Any) -> list[dict[str, Any]]:
        """The first statement's series."""
        return self.result(query, **options).get("series", [])

    def values(self, query: str, **options: Any) -> list[list[Any]]:
        """The values of the one series ``query`` answers."""
        (series,) = self.series(query, **options)
        return series["values"]


@pytest.fixture
def v1() -> Engine:
    return Engine()

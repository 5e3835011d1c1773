"""Helpers for the local engine's tests: an engine per test, and short write / query calls."""

from __future__ import annotations

from typing import Any

import pytest

from influxkit.clients.local import LocalClient
from influxkit.clients.profiles import get_profile


class Engine:
    """A LocalClient with the Connection's arguments filled in, for terse tests."""

    def __init__(self, profile: str = "v3_core", databases: tuple[str, ...] = ("db",)) -> None:
        self.client = LocalClient(get_profile(profile), databases=databases)

    def write(
        self,
        text: str | bytes,
        *,
        db: str = "db",
        precision: str = "ns",
        accept_partial: bool = True,
    ) -> Any:
        body = text.encode() if isinstance(text, str) else text
        return self.client.write(
            body, database=db, precision=precision, accept_partial=accept_partial, no_sync=False
        )

    def sql(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        db: str = "db",
        format: str = "rows",
    ) -> Any:
        return self.client.query_sql(query, database=db, params=params, format=format)

    def arrow(self, query: str, params: dict[str, Any] | None = None, *, db: str = "db") -> Any:
        return self.sql(query, params, db=db, format="arrow")

    def values(self, query: str, params: dict[str, Any] | None = None, *, db: str = "db") -> list:
        """The rows as tuples, times as int nanoseconds (exact, unlike datetimes)."""
        import pyarrow as pa

        table = self.arrow(query, params, db=db)
        columns = []
        for column in table.columns:
            plain = column.cast(pa.int64()) if pa.types.is_timestamp(column.type) else column
            columns.append(plain.to_pylist())
        return list(zip(*columns, strict=True))


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def make_engine():
    return Engine

"""Blocking backends behind the async contract: each call in a worker thread.

* :class:`ThreadedClient` wraps a blocking :class:`~influxkit.clients.base.Client` (the
  local engine: a DataFusion query can take seconds) so every operation runs in a
  worker thread (``asyncio.to_thread``) and the event loop keeps serving other
  coroutines meanwhile.  A registered sync connection and its async twin share one
  engine this way: data written from either side is read from both.
* :func:`iterate_in_thread` pulls any blocking iterator (the engine's stream, Arrow
  Flight's record batches) from a worker thread.

Streams are pulled in batches (:data:`ROWS_PER_HOP` rows, or one record batch, per
trip to a thread), not an item per trip. The engine writes a large body with the cyclic
garbage collector paused (:mod:`influxkit.gc_pause`), whose full passes over the
write's parsed lines would otherwise hold the GIL, and so the loop, for 100s of ms.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from influxkit.clients.base import Client, Format, StreamFormat, WriteOutcome

__all__ = ["ROWS_PER_HOP", "ThreadedClient", "iterate_in_thread"]

T = TypeVar("T")

# Rows taken from a blocking stream per trip to a worker thread.
ROWS_PER_HOP = 2_000


def _take(it: Iterator[T], n: int) -> list[T]:
    return list(itertools.islice(it, n))


async def iterate_in_thread(
    open_stream: Callable[[], Iterator[T]], per_hop: int
) -> AsyncIterator[T]:
    """The items of a blocking iterator, opened and pulled ``per_hop`` at a time in a thread.

    Closing the async iterator closes the blocking one (in a thread too).
    """
    it = await asyncio.to_thread(open_stream)
    try:
        while True:
            items = await asyncio.to_thread(_take, it, per_hop)
            for item in items:
                yield item
            if len(items) < per_hop:
                return
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            await asyncio.to_thread(close)


class ThreadedClient:
    """A blocking client run in worker threads; ``sync`` is the client itself."""

    def __init__(self, client: Client) -> None:
        self.sync = client
        self.profile = client.profile

    def __repr__(self) -> str:
        return f"<ThreadedClient {self.sync!r}>"

    async def aclose(self) -> None:
        """Nothing: the blocking client belongs to whoever made it (and is closed by it)."""

    async def write(
        self, body: bytes, *, database: str, precision: str, accept_partial: bool, no_sync: bool
    ) -> WriteOutcome:
        """The client's ``write`` in a thread (the engine pauses the collector for a large one)."""
        return await asyncio.to_thread(
            self.sync.write,
            body,
            database=database,
            precision=precision,
            accept_partial=accept_partial,
            no_sync=no_sync,
        )

    async def query_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """The client's ``query_sql`` (planning, running and converting) in a thread."""
        return await asyncio.to_thread(
            self.sync.query_sql, sql, database=database, params=params, format=format
        )

    def query_sql_stream(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: StreamFormat
    ) -> AsyncIterator[Any]:
        """The client's stream, planned and pulled in threads (batches of rows per trip)."""
        sync = self.sync

        def open_stream() -> Iterator[Any]:
            return sync.query_sql_stream(sql, database=database, params=params, format=format)

        return iterate_in_thread(open_stream, ROWS_PER_HOP if format == "rows" else 1)

    async def execute_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None
    ) -> int:
        """The client's ``execute_sql`` in a thread."""
        return await asyncio.to_thread(self.sync.execute_sql, sql, database=database, params=params)

    async def query_influxql(
        self, query: str, *, database: str | None, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """The client's ``query_influxql`` in a thread."""
        return await asyncio.to_thread(
            self.sync.query_influxql, query, database=database, params=params, format=format
        )

    async def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """The client's ``query_flux`` in a thread."""
        return await asyncio.to_thread(self.sync.query_flux, query, org=org)

    async def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """The client's ``create_database`` in a thread."""
        await asyncio.to_thread(self.sync.create_database, name, retention_period=retention_period)

    async def list_databases(self) -> list[str]:
        """The client's ``list_databases`` in a thread."""
        return await asyncio.to_thread(self.sync.list_databases)

    async def delete_database(self, name: str) -> None:
        """The client's ``delete_database`` in a thread."""
        await asyncio.to_thread(self.sync.delete_database, name)

    async def create_bucket(
        self, name: str, *, org: str | None, retention_seconds: int | None
    ) -> None:
        """The client's ``create_bucket`` in a thread."""
        await asyncio.to_thread(
            self.sync.create_bucket, name, org=org, retention_seconds=retention_seconds
        )

    async def list_buckets(self, *, org: str | None) -> list[str]:
        """The client's ``list_buckets`` in a thread."""
        return await asyncio.to_thread(self.sync.list_buckets, org=org)

    async def delete_bucket(self, name: str, *, org: str | None) -> None:
        """The client's ``delete_bucket`` in a thread."""
        await asyncio.to_thread(self.sync.delete_bucket, name, org=org)

    async def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """The client's ``create_token`` in a thread."""
        return await asyncio.to_thread(self.sync.create_token, name, **options)

    async def delete_token(self, name: str) -> None:
        """The client's ``delete_token`` in a thread."""
        await asyncio.to_thread(self.sync.delete_token, name)

    async def health(self) -> dict[str, Any]:
        """The client's ``health`` in a thread."""
        return await asyncio.to_thread(self.sync.health)

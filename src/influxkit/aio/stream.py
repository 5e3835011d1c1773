"""QueryStream: the async iterator a streaming query returns, closable with ``async with``.

``async for row in conn.query_sql_stream(...)`` reads rows as they arrive. Leaving the
loop early leaves the response open until the iterator is garbage collected, so to let
go of it at once either close it (``await stream.aclose()``) or use it as a context
manager::

    async with conn.query_sql_stream("SELECT * FROM cpu") as rows:
        async for row in rows:
            if row["usage"] > 0.9:
                break          # the response is closed when the block ends
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

__all__ = ["QueryStream"]


class QueryStream:
    """Rows (dicts) or Arrow record batches of one query, as they arrive."""

    __slots__ = ("_gen",)

    def __init__(self, gen: AsyncGenerator[Any, None]) -> None:
        self._gen = gen

    def __aiter__(self) -> QueryStream:
        return self

    async def __anext__(self) -> Any:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        """Stop reading: the response (or the engine's stream) is closed."""
        await self._gen.aclose()

    async def __aenter__(self) -> QueryStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

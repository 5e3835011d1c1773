"""BlockingConnection: an AsyncConnection driven from synchronous code, method for method.

Every coroutine method of the wrapped :class:`~influxkit.aio.AsyncConnection` becomes a
blocking call of the same name, run on a private event loop in a thread of its own;
``query_sql_stream`` becomes a plain iterator. So code written against the sync
:class:`~influxkit.Connection` runs unchanged over the async implementation: the
contract suite runs every one of its tests this way (``tests/contract``), and so do
the batch writer's tests. Calls may come from any number of threads.

Example:
    >>> import influxkit.aio
    >>> from influxkit.aio.blocking import BlockingConnection
    >>> with BlockingConnection(influxkit.aio.connect(client="local", database="db")) as conn:
    ...     _ = conn.write("cpu v=1 1")
    ...     rows = conn.query_sql("SELECT v FROM cpu")
    ...     streamed = list(conn.query_sql_stream("SELECT v FROM cpu"))
    >>> rows, streamed
    ([{'v': 1.0}], [{'v': 1.0}])
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from influxkit.aio.connection import AsyncConnection

__all__ = ["BlockingConnection"]

T = TypeVar("T")


class BlockingConnection:
    """The blocking face of an :class:`AsyncConnection` (``.aio``), on a private loop thread.

    :meth:`close` closes the connection, then shuts the loop down as ``asyncio.run()``
    would (tasks cancelled, then async generators closed, then the default executor).
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self.aio = conn
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="influxkit-blocking-loop", daemon=True
        )
        self._thread.start()
        self._closed = False

    def __repr__(self) -> str:
        return f"<BlockingConnection {self.aio!r}>"

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the private loop; its result (or its exception, raised here)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.aio, name)
        if not inspect.iscoroutinefunction(attr):
            return attr  # stats(), config, name, closed...

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self.run(attr(*args, **kwargs))

        return call

    def query_sql_stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """The async stream as a plain iterator (each item fetched on the loop)."""
        stream = self.aio.query_sql_stream(*args, **kwargs)
        return self._iterate(stream)

    def _iterate(self, stream: Any) -> Iterator[Any]:
        try:
            while True:
                try:
                    item = self.run(stream.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            self.run(stream.aclose())

    def close(self, timeout: float | None = None) -> None:
        """Close the connection, then the loop. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.run(self.aio.close(timeout))
        finally:
            self.run(_cancel_all_tasks())
            self.run(self._loop.shutdown_asyncgens())
            self.run(self._loop.shutdown_default_executor())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> BlockingConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _cancel_all_tasks() -> None:
    """What ``asyncio.run()`` does to the tasks still pending when its coroutine ends."""
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)

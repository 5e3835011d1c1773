"""PerLoop: what an async connection holds for each event loop that uses it.

An ``httpx.AsyncClient`` pool and a batch writer's sender tasks belong to the event
loop they were made on: sockets opened on one loop cannot be used from another. A
connection may outlive loops (a connection registered at import, used by one
``asyncio.run()`` after another; a test suite with a loop per test), so it keeps one
*state* per loop, made on the first use there and closed:

* when the loop shuts down: each state registers a tiny async generator with its loop,
  and ``asyncio.run()`` (like every ``asyncio.Runner``, uvicorn's included) closes the
  async generators of a loop before closing the loop, which closes the state while
  the loop can still run its ``await``-s (a batch writer flushes, a pool says goodbye);
* or when the connection closes, from whatever loop or thread that happens on.

A loop closed without that shutdown (``loop.close()`` alone) leaves its state
unclosable; it is dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["PerLoop"]

logger = logging.getLogger("influxkit")
T = TypeVar("T")

# How long a close from another thread waits for a loop to close its state.
_CROSS_THREAD_CLOSE = 30.0


class _Entry(Generic[T]):
    __slots__ = ("closed", "guard", "loop", "value", "watcher")

    def __init__(self, loop: asyncio.AbstractEventLoop, value: T) -> None:
        self.loop = loop
        self.value = value
        self.closed = False
        self.watcher: AsyncGenerator[None, None] | None = None
        self.guard: asyncio.Task[None] | None = None


class PerLoop(Generic[T]):
    """One ``T`` per event loop: ``make()`` on first use there, ``close(value)`` at the end.

    ``make`` runs on the loop's thread, inside the loop, and must not block for long.
    """

    def __init__(self, make: Callable[[], T], close: Callable[[T], Awaitable[None]]) -> None:
        self._make = make
        self._close = close
        self._entries: dict[asyncio.AbstractEventLoop, _Entry[T]] = {}
        self._lock = threading.Lock()  # guards _entries against loops on other threads
        self._closed = False
        self._pending: set[asyncio.Future[None]] = set()  # closes scheduled on this loop

    def get(self) -> T:
        """The running loop's value, made now if this is the loop's first use.

        Raises:
            RuntimeError: no event loop is running in this thread, or :meth:`aclose`
                already ran.
        """
        loop = asyncio.get_running_loop()
        entry = self._entries.get(loop)
        if entry is not None:
            return entry.value
        with self._lock:
            if self._closed:
                raise RuntimeError("closed")
            entry = self._entries.get(loop)
            if entry is not None:
                return entry.value
            entry = _Entry(loop, self._make())
            self._entries[loop] = entry
        try:
            _start(self._watch(entry), entry)
        except BaseException:
            with self._lock:
                self._entries.pop(loop, None)
            raise
        return entry.value

    def guard(self) -> None:
        """Close the running loop's value when the loop's tasks are cancelled at shutdown.

        For a value whose closing needs the loop working normally (requests to send):
        by the time a loop closes its async generators, new ones (which httpx makes for
        every request) are refused.
        """
        entry = self._entries.get(asyncio.get_running_loop())
        if entry is not None and entry.guard is None and not entry.closed:
            entry.guard = entry.loop.create_task(self._guard(entry), name="influxkit-loop-guard")

    async def _guard(self, entry: _Entry[T]) -> None:
        try:
            await entry.loop.create_future()  # nothing ever completes it
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the cancellation was the signal; the close must run
        await self._close_entry(entry)

    async def _close_entry(self, entry: _Entry[T]) -> None:
        with self._lock:
            if self._entries.get(entry.loop) is entry:
                del self._entries[entry.loop]
        if entry.closed:
            return
        entry.closed = True
        try:
            await self._close(entry.value)
        except Exception:
            logger.exception("influxkit: closing %r failed", entry.value)

    def current(self) -> T | None:
        """The running loop's value if it has one (never makes one); ``None`` off a loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        entry = self._entries.get(loop)
        return entry.value if entry is not None else None

    def values(self) -> list[T]:
        """Every loop's value, as it is now."""
        with self._lock:
            return [e.value for e in self._entries.values()]

    async def _watch(self, entry: _Entry[T]) -> AsyncGenerator[None, None]:
        """Registered with the loop; closed by its shutdown (or by :meth:`aclose`)."""
        try:
            yield
        finally:
            await self._close_entry(entry)

    async def aclose(self) -> None:
        """Close every loop's value: this loop's here, others' on their own loops."""
        with self._lock:
            self._closed = True
            entries = list(self._entries.values())
        here = asyncio.get_running_loop()
        for entry in entries:
            if entry.loop is here:
                await _finish(entry)
            else:
                future = self._close_elsewhere(entry)
                if future is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(asyncio.wrap_future(future), _CROSS_THREAD_CLOSE)

    def close_nowait(self) -> None:
        """Close every loop's value from synchronous code, on any thread.

        The running loop's (when called from inside a loop) is closed in a task of that
        loop; another thread's running loop closes its own, waited for here.
        """
        with self._lock:
            self._closed = True
            entries = list(self._entries.values())
        try:
            here: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        for entry in entries:
            if entry.loop is here:
                task = entry.loop.create_task(_finish(entry))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            else:
                future = self._close_elsewhere(entry)
                if future is not None:
                    with contextlib.suppress(Exception):
                        future.result(_CROSS_THREAD_CLOSE)

    def _close_elsewhere(self, entry: _Entry[T]) -> concurrent.futures.Future[None] | None:
        """Ask another loop to close its entry; ``None`` when nothing can or must wait."""
        loop = entry.loop
        if loop.is_closed():
            _abandon(entry)
            with self._lock:
                self._entries.pop(loop, None)
            return None
        if loop.is_running():
            return asyncio.run_coroutine_threadsafe(_finish(entry), loop)
        # A loop between two runs: its shutdown closes the entry (the watcher is its own).
        return None


def _start(watcher: AsyncGenerator[None, None], entry: _Entry[T]) -> None:
    """Start ``watcher`` to its first ``yield`` synchronously, registering it with the loop.

    The first ``__anext__`` calls the running loop's *firstiter* hook, which puts the
    generator in the set of async generators the loop closes at shutdown.
    """
    step = watcher.__anext__()
    try:
        step.send(None)
    except StopIteration:
        pass
    else:  # pragma: no cover - the watcher awaits nothing before its yield
        raise RuntimeError("the loop watcher suspended before its first yield")
    entry.watcher = watcher


async def _finish(entry: _Entry[T]) -> None:
    """Close ``entry`` now, on its own loop: by its guard if it has one, else its watcher."""
    guard = entry.guard
    if guard is not None and not guard.done() and guard is not asyncio.current_task():
        guard.cancel()
        await asyncio.wait([guard])
    watcher = entry.watcher
    if watcher is not None:
        await watcher.aclose()  # closes the value unless the guard did


def _abandon(entry: _Entry[T]) -> None:
    """Let go of an entry whose loop is closed: finish its watcher without awaiting."""
    entry.closed = True
    watcher = entry.watcher
    if watcher is None:
        return
    step = watcher.aclose()
    with contextlib.suppress(StopIteration, RuntimeError):
        step.send(None)
    logger.warning(
        "influxkit: %r belonged to an event loop closed without shutting down its async "
        "generators; it was dropped unclosed (end loops with asyncio.run() or close the "
        "connection first)",
        entry.value,
    )

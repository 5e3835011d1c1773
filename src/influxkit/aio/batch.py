"""AsyncBatchWriter: the batch writer of an async connection, as asyncio tasks.

The same writer as the thread one (:class:`influxkit.batching.batch.BatchWriter`): the
options, the guarantees (bounded memory, retries with backoff, partial writes handed
over line by line, nothing dropped silently, order kept with ``max_in_flight=1``) and
the stats are :class:`~influxkit.batching.core.BatchCore`'s, shared.  Here the core's
plans are driven by coroutines: ``max_in_flight`` sender tasks send with the async
client, waiting on the loop; a caller waiting for room or for delivery awaits.

* The durable spool's fsynced append (and its close) runs in a worker thread.
* ``on_error`` runs in a worker thread, as it runs in a sender thread for the sync
  writer (a slow callback holds up its batch, never the loop); a coroutine function is
  awaited on the loop instead.
* A writer belongs to the loop it was made on.  When that loop shuts down (the end of
  ``asyncio.run()``) the connection closes the writer first, so what is buffered is
  flushed within ``close_timeout``; a batch interrupted by the loop cancelling its
  sender goes back to the buffer for that flush.  At interpreter exit a writer whose
  loop can still run is flushed on it; otherwise its points go to ``on_error``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import logging
import time
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit.batching.core import (
    BatchCore,
    Blocking,
    Callback,
    Pause,
    Plan,
    Send,
    Stop,
    WaitChange,
    default_on_error,
)
from influxkit.errors import InfluxError

if TYPE_CHECKING:
    from influxkit.aio.base import AsyncClient
    from influxkit.batching.core import Action, Key
    from influxkit.config import BatchOptions

__all__ = ["AsyncBatchWriter"]

logger = logging.getLogger("influxkit")
T = TypeVar("T")


class AsyncBatchWriter:
    """The background writer of one async connection on one event loop.

    Made inside the loop (by :class:`~influxkit.aio.AsyncConnection`, on the first
    batched write there); ``stats`` is the connection's counters.
    """

    def __init__(
        self,
        client: AsyncClient,
        options: BatchOptions,
        *,
        stats: Any,
        name: str | None = None,
    ) -> None:
        self._client = client
        self._opts = options
        self._name = name
        self._loop = asyncio.get_running_loop()
        self._core = BatchCore(options, stats=stats, notify=self._notify, name=name)
        self._changed: asyncio.Event | None = None  # made by a waiter, set by the next change
        self._stopped = asyncio.Event()
        self._enqueue = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        if options.spool_dir is not None and self._core.open_spool(recover=True):
            self._ensure_tasks()
        _WRITERS.add(self)

    def __repr__(self) -> str:
        return f"<AsyncBatchWriter {self._name or hex(id(self))} held={self._core.held}>"

    @property
    def buffered(self) -> int:
        """Points accepted and not yet delivered or reported."""
        return self._core.held

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` finished."""
        return self._core.closed

    # -- the driver ----------------------------------------------------------------

    def _notify(self) -> None:
        # Called by the core with its lock held, always on this loop's thread.
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    async def _drive(self, plan: Plan[T]) -> T:
        """Run a plan of the core on the loop, awaiting each action it asks for."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = plan.send(value) if error is None else plan.throw(error)
            except StopIteration as done:
                return done.value
            value = error = None
            try:
                value = await self._perform(action)
            except BaseException as exc:  # thrown into the plan: it cleans up, then raises
                error = exc

    async def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            database, precision, accept_partial, no_sync = action.key
            return await self._client.write(
                action.body,
                database=database,
                precision=precision,
                accept_partial=accept_partial,
                no_sync=no_sync,
            )
        if isinstance(action, WaitChange):
            if self._core.generation != action.generation:
                return None
            if self._changed is None:
                self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(action.timeout):
                    await self._changed.wait()
            return None
        if isinstance(action, Pause):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(action.seconds):
                    await self._stopped.wait()
            return self._stopped.is_set()
        if isinstance(action, Blocking):
            return await asyncio.to_thread(action.fn, *action.args)
        if isinstance(action, Callback):
            return await _call_on_error(action)
        if isinstance(action, Stop):
            self._stopped.set()
            alive = [t for t in self._tasks if not t.done()]
            if alive:
                await asyncio.wait(alive, timeout=max(0.05, action.deadline - time.monotonic()))
            return None
        raise TypeError(f"unknown batch action {action!r}")

    def _ensure_tasks(self) -> None:
        """``max_in_flight`` sender tasks (restarted if the loop cancelled them)."""
        if self._core.closed or self._core.stopping:
            return
        self._tasks = [t for t in self._tasks if not t.done()]
        for _ in range(self._opts.max_in_flight - len(self._tasks)):
            task = self._loop.create_task(
                self._drive(self._core.sender()), name=f"influxkit-writer-{self._name or ''}"
            )
            task.add_done_callback(_log_crash)
            self._tasks.append(task)

    def _check_loop(self) -> None:
        if asyncio.get_running_loop() is not self._loop:
            raise InfluxError(
                "this batch writer belongs to another event loop; an AsyncConnection keeps "
                "one writer per loop, so go through the connection",
                connection=self._name,
                operation="write",
            )

    # -- the caller's side ---------------------------------------------------------

    async def put(
        self,
        pieces: list[tuple[bytes, int]],
        key: Key,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> int:
        """Buffer ``pieces`` in order; the points accepted. See ``BatchWriter.put``."""
        self._check_loop()
        opts = self._opts
        total = sum(n for _, n in pieces)
        if not total:
            return 0
        deadline = time.monotonic() + opts.block_timeout
        try:
            if opts.overflow == "block":
                async with asyncio.timeout(opts.block_timeout):
                    await self._enqueue.acquire()
            else:
                await self._enqueue.acquire()
        except TimeoutError:
            raise self._core.full(total, 0) from None
        try:
            self._ensure_tasks()
            accepted, first, last = await self._drive(
                self._core.admit(pieces, key, wait=wait, deadline=deadline)
            )
        finally:
            self._enqueue.release()
        if wait:
            await self._drive(self._core.wait_for(first, last, timeout))
        return accepted

    async def flush(self, timeout: float | None = None) -> None:
        """Until everything buffered before the call is delivered or reported."""
        self._check_loop()
        await self._drive(self._core.flush(timeout))

    async def close(self, timeout: float | None = None) -> int:
        """Deliver what is buffered within ``timeout``; report the rest; stop. Points left."""
        self._check_loop()
        # A loop shutting down cancels the senders: let them go, the flush needs new ones.
        dying = [t for t in self._tasks if not t.done() and t.cancelling()]
        if dying:
            await asyncio.wait(dying)
        self._ensure_tasks()
        try:
            return await self._drive(self._core.close(timeout))
        finally:
            if self._core.closed:
                _WRITERS.discard(self)

    def close_without_loop(self) -> int:
        """At exit, with the writer's loop gone: report what is left (nothing can be sent)."""
        plan = self._core.close(0)
        value: Any = None
        while True:
            try:
                action = plan.send(value)
            except StopIteration as done:
                _WRITERS.discard(self)
                return int(done.value)
            value = None
            if isinstance(action, Blocking):
                value = action.fn(*action.args)
            elif isinstance(action, Callback):
                try:
                    result = action.fn(action.batch, action.error)
                    if inspect.isawaitable(result):
                        asyncio.run(_awaited(result))
                except Exception:
                    logger.exception("influxkit: on_error raised at exit")


async def _call_on_error(action: Callback) -> None:
    fn = action.fn
    if fn is default_on_error:  # only logs: no thread needed
        fn(action.batch, action.error)
        return
    if inspect.iscoroutinefunction(fn):
        await fn(action.batch, action.error)
        return
    result = await asyncio.to_thread(fn, action.batch, action.error)
    if inspect.isawaitable(result):
        await result


async def _awaited(awaitable: Any) -> None:
    await awaitable


def _log_crash(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("influxkit: a batch sender task failed", exc_info=exc)


# Every writer still open, for the exit hook.
_WRITERS: weakref.WeakSet[AsyncBatchWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_WRITERS):
        loop = writer._loop
        try:
            if loop.is_closed():
                writer.close_without_loop()
            elif loop.is_running():  # a loop on another thread, still up
                asyncio.run_coroutine_threadsafe(writer.close(), loop).result(
                    writer._opts.close_timeout + 5
                )
            else:
                loop.run_until_complete(writer.close())
        except Exception:
            logger.exception("influxkit: flushing an async batch writer at exit failed")

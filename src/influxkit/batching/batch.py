"""BatchWriter: a connection's background writer that retries and loses nothing.

``write()`` on a batched connection encodes in the caller's thread, puts the lines in
a bounded buffer and returns; sender threads take the oldest points in batches of
``size`` (or whatever waited ``flush_interval``) and send them with the connection's
client. A batch that fails with a retryable error (network, timeout, 5xx, 429) is
retried with backoff; what cannot be written (4xx, retries exhausted, left at close)
goes to ``on_error(batch, error)`` with the reason, never dropped silently.

Every buffered point is counted from ``write()`` until it is delivered or reported,
so ``max_buffer_points`` bounds memory whatever the server does. With ``spool_dir``
every accepted chunk is fsynced first and replayed at the next start until delivered.

The decisions are :class:`~influxkit.batching.core.BatchCore`'s, shared with the
asyncio writer (:class:`influxkit.aio.batch.AsyncBatchWriter`); this module is the
thread driver: it runs the core's plans in the caller's thread and in sender threads,
waiting on a condition built on the core's lock.

Threads: senders are daemon threads (the interpreter's exit is not held up by them);
an ``atexit`` hook flushes every live writer instead, within its ``close_timeout``. A
forked child starts with an empty buffer and no threads of its own until it writes.
"""

from __future__ import annotations

import atexit
import inspect
import logging
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit.batching.core import (
    Batch,
    BatchCore,
    Blocking,
    Callback,
    ErrorCallback,
    Key,
    Pause,
    Plan,
    Send,
    Stop,
    WaitChange,
    split_chunks,
)

if TYPE_CHECKING:
    from influxkit.batching.core import Action
    from influxkit.clients.base import Client
    from influxkit.config import BatchOptions

__all__ = ["Batch", "BatchWriter", "ErrorCallback", "Key", "split_chunks"]

logger = logging.getLogger("influxkit")
T = TypeVar("T")


class BatchWriter:
    """The background writer of one connection. Made by :class:`~influxkit.Connection`."""

    def __init__(
        self,
        client: Client,
        options: BatchOptions,
        *,
        stats: Any,
        name: str | None = None,
    ) -> None:
        self._client = client
        self._opts = options
        self._name = name
        self._core = BatchCore(options, stats=stats, notify=self._notify, name=name)
        self._fresh_driver()
        if options.spool_dir is not None and self._core.open_spool(recover=True):
            self._ensure_threads()
        _WRITERS.add(self)

    def _fresh_driver(self) -> None:
        self._cond = threading.Condition(self._core.lock)
        self._enqueue_lock = threading.Lock()
        self._abort = threading.Event()
        self._threads: list[threading.Thread] = []

    def _notify(self) -> None:
        self._cond.notify_all()  # the core calls this with its lock (the condition's) held

    def after_fork_in_child(self) -> None:
        """Forget the parent's buffer, threads and spool files (the parent delivers those)."""
        self._core.forget_after_fork()
        self._fresh_driver()

    def _check_fork(self) -> None:
        if os.getpid() != self._core.pid:
            self.after_fork_in_child()

    @property
    def buffered(self) -> int:
        """Points accepted and not yet delivered or reported."""
        return self._core.held

    # -- the driver ----------------------------------------------------------------

    def _drive(self, plan: Plan[T]) -> T:
        """Run a plan of the core in this thread, doing each action it asks for."""
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = plan.send(value) if error is None else plan.throw(error)
            except StopIteration as done:
                return done.value
            value = error = None
            try:
                value = self._perform(action)
            except BaseException as exc:  # thrown into the plan: it cleans up, then raises
                error = exc

    def _perform(self, action: Action) -> Any:
        if isinstance(action, Send):
            database, precision, accept_partial, no_sync = action.key
            return self._client.write(
                action.body,
                database=database,
                precision=precision,
                accept_partial=accept_partial,
                no_sync=no_sync,
            )
        if isinstance(action, WaitChange):
            with self._cond:
                if self._core.generation == action.generation:
                    self._cond.wait(action.timeout)
            return None
        if isinstance(action, Pause):
            return self._abort.wait(action.seconds)
        if isinstance(action, Blocking):
            return action.fn(*action.args)
        if isinstance(action, Callback):
            result = action.fn(action.batch, action.error)
            if inspect.isawaitable(result):
                _discard(result)
                raise TypeError(
                    "on_error returned an awaitable, which a thread writer cannot await; "
                    "use influxkit.aio for an async on_error"
                )
            return None
        if isinstance(action, Stop):
            self._abort.set()
            with self._cond:
                self._cond.notify_all()
            for t in self._threads:
                t.join(timeout=max(0.05, action.deadline - time.monotonic()))
            return None
        raise TypeError(f"unknown batch action {action!r}")

    def _ensure_threads(self) -> None:
        if self._threads or self._core.closed:
            return
        for i in range(self._opts.max_in_flight):
            label = self._name or hex(id(self))
            t = threading.Thread(
                target=self._drive,
                args=(self._core.sender(),),
                name=f"influxkit-writer-{label}-{i}",
                daemon=True,
            )
            self._threads.append(t)
            t.start()

    # -- the caller's side ---------------------------------------------------------

    def put(
        self,
        pieces: list[tuple[bytes, int]],
        key: Key,
        *,
        wait: bool = False,
        timeout: float | None = None,
    ) -> int:
        """Buffer ``pieces`` (from :func:`split_chunks`) in order; the points accepted.

        With ``wait`` blocks until they are delivered (raising the error of any that
        failed, after ``on_error`` had them) or ``timeout`` passes (:class:`FlushTimeout`).
        """
        self._check_fork()
        opts = self._opts
        total = sum(n for _, n in pieces)
        if not total:
            return 0
        block = opts.overflow == "block"
        deadline = time.monotonic() + opts.block_timeout
        if not self._enqueue_lock.acquire(timeout=opts.block_timeout if block else -1):
            raise self._core.full(total, 0)
        try:
            with self._cond:
                self._ensure_threads()
            accepted, first, last = self._drive(
                self._core.admit(pieces, key, wait=wait, deadline=deadline)
            )
        finally:
            self._enqueue_lock.release()
        if wait:
            self._drive(self._core.wait_for(first, last, timeout))
        return accepted

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything buffered before the call is delivered or reported."""
        self._check_fork()
        self._drive(self._core.flush(timeout))

    def close(self, timeout: float | None = None) -> int:
        """Deliver what is buffered within ``timeout``; report the rest; stop. Points left."""
        self._check_fork()
        try:
            return self._drive(self._core.close(timeout))
        finally:
            if self._core.closed:
                _WRITERS.discard(self)


def _discard(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)  # a coroutine never awaited warns unless closed
    if close is not None:
        close()


# Every writer still open, for the exit hook and the fork hook.
_WRITERS: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_WRITERS):
        try:
            writer.close()
        except Exception:
            logger.exception("influxkit: flushing a batch writer at exit failed")


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)

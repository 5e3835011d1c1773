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

Threads: senders are daemon threads (the interpreter's exit is not held up by them);
an ``atexit`` hook flushes every live writer instead, within its ``close_timeout``. A
forked child starts with an empty buffer and no threads of its own until it writes.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from influxkit import telemetry
from influxkit.batching.retry import RetryPolicy
from influxkit.errors import BufferFull, FlushTimeout, InfluxError, PartialWriteError

if TYPE_CHECKING:
    from influxkit.batching.spool import Spool, SpoolRef
    from influxkit.clients.base import Client
    from influxkit.config import BatchOptions

__all__ = ["Batch", "BatchWriter", "split_chunks"]

logger = logging.getLogger("influxkit")

# (database, precision, accept_partial, no_sync): chunks batch together only if equal.
Key = tuple[str, str, bool, bool]
ErrorCallback = Callable[["Batch", BaseException], Any]


@dataclass(frozen=True, slots=True)
class Batch:
    """Points the writer could not deliver, as handed to ``on_error(batch, error)``.

    ``lines`` are line protocol without newlines, in the order they were written. For a
    partial write they are only the rejected lines, when the server said which (InfluxDB
    3 does; 1.x reports only a count, and then they are the whole batch).
    """

    database: str
    precision: str
    lines: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def body(self) -> bytes:
        """The lines as one line-protocol body, ready to write again."""
        return "\n".join(self.lines).encode("utf-8")


def split_chunks(body: bytes, size: int) -> list[tuple[bytes, int]]:
    """``body`` (line protocol) as ``(bytes, line count)`` pieces of at most ``size`` lines.

    Blank and comment lines are dropped, so counts are points and a server's line
    numbers index the chunk. A body that already fits (and has neither) is not copied.
    """
    body = body.strip(b"\n")
    if not body:
        return []
    count = body.count(b"\n") + 1
    if count <= size and b"\n\n" not in body and b"#" not in body and b"\r" not in body:
        return [(body, count)]
    lines = [
        line for line in body.split(b"\n") if (text := line.strip()) and not text.startswith(b"#")
    ]
    return [
        (b"\n".join(lines[i : i + size]), len(lines[i : i + size]))
        for i in range(0, len(lines), size)
    ]


class _Chunk:
    __slots__ = ("body", "key", "lines", "ref", "seq", "since")

    def __init__(self, body: bytes, lines: int, key: Key, seq: int, ref: SpoolRef | None) -> None:
        self.body = body
        self.lines = lines
        self.key = key
        self.seq = seq
        self.ref = ref
        self.since = time.monotonic()


class _Flight:
    """A batch taken from the buffer and not yet finished."""

    __slots__ = ("abandoned", "chunks", "points")

    def __init__(self, chunks: list[_Chunk]) -> None:
        self.chunks = chunks
        self.points = sum(c.lines for c in chunks)
        self.abandoned = False


def _default_on_error(batch: Batch, error: BaseException) -> None:
    logger.error(
        "influxkit: %d point(s) for database %r could not be written and were dropped: %s",
        len(batch),
        batch.database,
        error,
    )


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
        self._stats = stats
        self._name = name
        self._on_error: ErrorCallback = options.on_error or _default_on_error
        self._policy = RetryPolicy(
            max_retries=options.max_retries,
            max_retry_time=options.max_retry_time,
            interval=options.retry_interval,
            max_interval=options.max_retry_interval,
        )
        self._rng = random.Random()
        self._spool: Spool | None = None
        self._fresh_state()
        if options.spool_dir is not None:
            self._open_spool(recover=True)
        _WRITERS.add(self)

    # -- state -------------------------------------------------------------------

    def _fresh_state(self) -> None:
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._enqueue_lock = threading.Lock()
        self._buffer: deque[_Chunk] = deque()
        self._queued = 0  # points in the buffer
        self._held = 0  # points in the buffer or in flight (what max_buffer_points bounds)
        self._flights: list[_Flight] = []
        self._seq = 0
        self._flush_to = 0
        self._jitter = self._draw_jitter()
        self._closing = False
        self._closed = False
        self._abort = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pid = os.getpid()
        self._failed: dict[int, BaseException] = {}  # seq -> error, kept for waiters
        self._waiting: dict[int, int] = {}  # seq -> writers waiting on it

    def _draw_jitter(self) -> float:
        return self._rng.uniform(0.0, self._opts.jitter) if self._opts.jitter else 0.0

    def _open_spool(self, *, recover: bool) -> None:
        from influxkit.batching.spool import Spool

        self._spool = Spool(self._opts.spool_dir)  # type: ignore[arg-type]
        if not recover:
            return
        records = self._spool.recover()
        for rec in records:
            meta = rec.meta
            key: Key = (
                meta["database"],
                meta["precision"],
                bool(meta["accept_partial"]),
                bool(meta["no_sync"]),
            )
            self._seq += 1
            self._buffer.append(_Chunk(rec.body, int(meta["lines"]), key, self._seq, rec.ref))
            self._queued += int(meta["lines"])
            self._held += int(meta["lines"])
        if records:
            logger.info(
                "influxkit: replaying %d point(s) left in %s by an earlier run",
                self._held,
                self._opts.spool_dir,
            )
            self._flush_to = self._seq
            self._ensure_threads()

    def after_fork_in_child(self) -> None:
        """Forget the parent's buffer, threads and spool files (the parent delivers those)."""
        spool = self._spool
        self._fresh_state()
        if spool is not None:
            spool.forget_after_fork()
            self._open_spool(recover=False)

    @property
    def buffered(self) -> int:
        """Points accepted and not yet delivered or reported."""
        return self._held

    # -- threads -----------------------------------------------------------------

    def _ensure_threads(self) -> None:
        if self._threads or self._closed:
            return
        for i in range(self._opts.max_in_flight):
            label = self._name or hex(id(self))
            t = threading.Thread(
                target=self._run, name=f"influxkit-writer-{label}-{i}", daemon=True
            )
            self._threads.append(t)
            t.start()

    def _due(self, now: float) -> float | None:
        """0 if the head of the buffer should go now, else seconds until it should."""
        head = self._buffer[0]
        if self._queued >= self._opts.size or head.seq <= self._flush_to or self._closing:
            return 0.0
        wait = head.since + self._opts.flush_interval + self._jitter - now
        return 0.0 if wait <= 0 else wait

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._abort.is_set():
                        return
                    if self._buffer:
                        wait = self._due(time.monotonic())
                        if wait == 0.0:
                            flight = self._take()
                            break
                        self._cond.wait(wait)
                    elif self._closing:
                        return
                    else:
                        self._cond.wait()
            self._send(flight)

    def _take(self) -> _Flight:
        """The oldest chunks that share a key, up to ``size`` points (at least one chunk)."""
        buf = self._buffer
        key = buf[0].key
        size = self._opts.size
        chunks = [buf.popleft()]
        points = chunks[0].lines
        while buf and buf[0].key == key and points + buf[0].lines <= size:
            chunk = buf.popleft()
            chunks.append(chunk)
            points += chunk.lines
        self._queued -= points
        self._jitter = self._draw_jitter()
        flight = _Flight(chunks)
        self._flights.append(flight)
        return flight

    # -- sending -----------------------------------------------------------------

    def _send(self, flight: _Flight) -> None:
        chunks = flight.chunks
        database, precision, accept_partial, no_sync = chunks[0].key
        body = chunks[0].body if len(chunks) == 1 else b"\n".join(c.body for c in chunks)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                with telemetry.span(
                    "batch.flush",
                    connection=self._name,
                    database=database,
                    operation="write",
                    points=flight.points,
                    bytes=len(body),
                    attempt=attempt,
                ) as span:
                    outcome = self._client.write(
                        body,
                        database=database,
                        precision=precision,
                        accept_partial=accept_partial,
                        no_sync=no_sync,
                    )
                    span.set(bytes_sent=outcome.bytes_sent)
            except PartialWriteError as exc:
                self._stats.add(requests=1)
                self._partial(flight, body, exc)
                break
            except Exception as exc:
                self._stats.add(requests=1)
                self._stats.note(exc)
                attempt += 1
                wait = (
                    None
                    if self._abort.is_set()
                    else self._policy.next_delay(
                        exc, attempt, time.monotonic() - started, self._rng
                    )
                )
                if wait is None:
                    self._report(flight, chunks, exc)
                    break
                self._stats.add(retries=1)
                telemetry.emit(
                    "batch.retry",
                    connection=self._name,
                    database=database,
                    points=flight.points,
                    attempt=attempt,
                    error=exc,
                    extra={"retry_in": wait},
                )
                logger.debug(
                    "influxkit: retry %d of %d points in %.2fs after %s",
                    attempt,
                    flight.points,
                    wait,
                    exc,
                )
                if self._abort.wait(wait):
                    # close() ran out of time: it reports this batch (or leaves it in the
                    # spool for the next start), so this thread only lets go of it.
                    with self._lock:
                        flight.abandoned = True
                    return
            else:
                self._stats.add(
                    requests=outcome.requests,
                    points_written=flight.points,
                    bytes_written=len(body),
                )
                break
        self._finish(flight)

    def _partial(self, flight: _Flight, body: bytes, exc: PartialWriteError) -> None:
        """Hand only the rejected lines to ``on_error`` when the server numbered them.

        The lines come from the batch itself: the server cuts ``original_line`` to 20
        bytes. Its line numbers are 1-based over the body and count no blank or comment
        line, and :func:`split_chunks` leaves none in a chunk, so they index the body.
        """
        every = body.decode("utf-8", "replace").split("\n")
        numbers = sorted(
            {e.line_number for e in exc.line_errors if 0 < e.line_number <= len(every)}
        )
        if not numbers:
            self._report(flight, flight.chunks, exc)
            return
        hit: list[_Chunk] = []
        start = 1
        it = iter(numbers)
        number = next(it, None)
        for chunk in flight.chunks:
            end = start + chunk.lines
            if number is not None and number < end:
                hit.append(chunk)
                while number is not None and number < end:
                    number = next(it, None)
            start = end
        self._stats.add(points_written=flight.points - len(numbers))
        self._report(flight, hit, exc, lines=[every[n - 1] for n in numbers])

    def _report(
        self,
        flight: _Flight | None,
        chunks: Iterable[_Chunk],
        error: BaseException,
        *,
        lines: list[str] | None = None,
    ) -> None:
        """Hand points that cannot be written to ``on_error``; count and log them."""
        chunks = list(chunks)
        if flight is not None:
            with self._lock:
                if flight.abandoned:  # close() already reported this batch
                    return
                for chunk in chunks:
                    if chunk.seq in self._waiting:
                        self._failed[chunk.seq] = error
        if lines is None:
            lines = [line for c in chunks for line in c.body.decode("utf-8", "replace").split("\n")]
        if not lines:
            return
        database, precision = chunks[0].key[0], chunks[0].key[1]
        batch = Batch(database, precision, tuple(lines))
        self._stats.failed(len(lines), error)
        telemetry.emit(
            "batch.dropped",
            connection=self._name,
            database=database,
            points=len(lines),
            error=error,
        )
        try:
            self._on_error(batch, error)
        except Exception:
            logger.exception(
                "influxkit: on_error raised while handling %d point(s) for %r (%s)",
                len(batch),
                database,
                error,
            )

    def _finish(self, flight: _Flight) -> None:
        with self._cond:
            if flight in self._flights:
                self._flights.remove(flight)
            if not flight.abandoned:
                self._held -= flight.points
            self._cond.notify_all()
        if self._spool is not None and not flight.abandoned:
            for chunk in flight.chunks:
                if chunk.ref is not None:
                    self._spool.release(chunk.ref)

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
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        opts = self._opts
        total = sum(n for _, n in pieces)
        if not total:
            return 0
        block = opts.overflow == "block"
        deadline = time.monotonic() + opts.block_timeout
        if not self._enqueue_lock.acquire(timeout=opts.block_timeout if block else -1):
            raise self._full(total, 0)
        first = last = 0
        accepted = 0
        try:
            with self._cond:
                self._ensure_threads()
                if not block and self._held + total > opts.max_buffer_points:
                    raise self._full(total, 0)
            for body, n in pieces:
                with self._cond:
                    while self._held and self._held + n > opts.max_buffer_points:
                        remaining = deadline - time.monotonic()
                        if not block or remaining <= 0:
                            raise self._full(total, accepted)
                        self._cond.wait(remaining)
                    self._held += n  # reserved before the (slow) spool append
                ref = None
                if self._spool is not None:
                    meta = {
                        "database": key[0],
                        "precision": key[1],
                        "accept_partial": key[2],
                        "no_sync": key[3],
                        "lines": n,
                    }
                    try:
                        ref = self._spool.append(meta, body)
                    except BaseException:
                        with self._cond:
                            self._held -= n
                        raise
                with self._cond:
                    self._seq += 1
                    last = self._seq
                    first = first or last
                    if wait:
                        self._waiting[last] = self._waiting.get(last, 0) + 1
                    was_empty = not self._buffer
                    self._buffer.append(_Chunk(body, n, key, last, ref))
                    self._queued += n
                    if was_empty or self._queued >= opts.size:
                        self._cond.notify()
                accepted += n
        finally:
            self._enqueue_lock.release()
        if wait:
            self._wait_for(first, last, timeout)
        return accepted

    def _full(self, total: int, accepted: int) -> BufferFull:
        how = (
            f"did not drain within block_timeout={self._opts.block_timeout}s"
            if self._opts.overflow == "block"
            else "is full (overflow='raise')"
        )
        return BufferFull(
            f"the batch buffer ({self._held} of max_buffer_points={self._opts.max_buffer_points} "
            f"points held) {how}; {accepted} of this write's {total} points were accepted. "
            "The server is slow or down: see stats() for the last error",
            accepted=accepted,
            connection=self._name,
            operation="write",
        )

    def _done_through(self) -> int:
        """Every chunk with a seq up to this one is delivered or reported."""
        oldest = [f.chunks[0].seq for f in self._flights]
        if self._buffer:
            oldest.append(self._buffer[0].seq)
        return min(oldest) - 1 if oldest else self._seq

    def _wait_for(self, first: int, last: int, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            try:
                self._flush_to = max(self._flush_to, last)
                self._cond.notify_all()
                while self._done_through() < last:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise FlushTimeout(
                            f"points written up to now were not all delivered within {timeout}s;"
                            f" {self._held} point(s) are still buffered and being retried",
                            pending=self._held,
                            connection=self._name,
                            operation="flush",
                        )
                    self._cond.wait(remaining)
                errors = [self._failed[s] for s in range(first, last + 1) if s in self._failed]
            finally:
                for seq in range(first, last + 1):
                    count = self._waiting.pop(seq, 0) - 1
                    if count > 0:
                        self._waiting[seq] = count
                    else:
                        self._failed.pop(seq, None)
        if errors:
            raise errors[0]

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything buffered before the call is delivered or reported."""
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        with self._cond:
            last = self._seq
        self._wait_for(last + 1, last, timeout)

    def close(self, timeout: float | None = None) -> int:
        """Deliver what is buffered within ``timeout``; report the rest; stop. Points left."""
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        timeout = self._opts.close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._closed:
                return 0
            self._closing = True
            self._flush_to = self._seq
            self._cond.notify_all()
            while self._held and (remaining := deadline - time.monotonic()) > 0:
                self._cond.wait(remaining)
            self._abort.set()
            self._cond.notify_all()
        for t in self._threads:
            t.join(timeout=max(0.05, deadline - time.monotonic()))
        with self._cond:
            self._closed = True
            left = list(self._buffer)
            self._buffer.clear()
            for flight in self._flights:
                flight.abandoned = True
                left.extend(flight.chunks)
            self._flights.clear()
            points = sum(c.lines for c in left)
            self._held = self._queued = 0
            self._cond.notify_all()
        _WRITERS.discard(self)
        if left and self._spool is not None:
            logger.warning(
                "influxkit: %d point(s) were not delivered before close; they stay in %s "
                "and are sent by the next writer that opens it",
                points,
                self._opts.spool_dir,
            )
        elif left:
            last = self._stats.as_dict()["last_error"] or "none"
            error = InfluxError(
                f"the connection closed before {points} point(s) were confirmed delivered "
                f"(close_timeout={timeout}s); the last error: {last}",
                connection=self._name,
                operation="close",
            )
            for _key, group in _by_key(left):
                self._report(None, group, error)
        if self._spool is not None:
            self._spool.close()
        return points


def _by_key(chunks: list[_Chunk]) -> list[tuple[Key, list[_Chunk]]]:
    groups: list[tuple[Key, list[_Chunk]]] = []
    for chunk in sorted(chunks, key=lambda c: c.seq):
        if groups and groups[-1][0] == chunk.key:
            groups[-1][1].append(chunk)
        else:
            groups.append((chunk.key, [chunk]))
    return groups


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

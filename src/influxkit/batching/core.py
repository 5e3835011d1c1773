"""The batch writer's core: every decision, no threads, no tasks, no waiting.

The buffer, admission against ``max_buffer_points``, batch formation (``size``,
``flush_interval`` with jitter, key boundaries), retries with the policy, attribution
of a partial write to its chunks, hand-over to ``on_error``, ``wait=True`` / flush
bookkeeping, the stats and the telemetry all live here, once.  Two drivers move it:

* :class:`~influxkit.batching.batch.BatchWriter`: sender threads, waiting on a
  ``threading.Condition`` built on :attr:`BatchCore.lock`;
* :class:`~influxkit.aio.batch.AsyncBatchWriter`: sender tasks on an event loop.

Whatever waits or does IO is a *plan*: a generator that yields an action and is sent
its result (or has the action's exception thrown into it), then returns the
operation's value.  The actions are the only things a driver implements:

* :class:`Send`: write one batch body with the connection's client;
* :class:`Pause`: the retry backoff, cut short by :class:`Stop` (result: stopped?);
* :class:`WaitChange`: sleep until the core changed (its :attr:`~BatchCore.generation`
  moved on) or the timeout passed; the generation taken under the lock rules out a
  lost wake-up between a plan's check and the driver's wait;
* :class:`Blocking`: a blocking call (the spool's fsynced append, its close);
* :class:`Callback`: the user's ``on_error(batch, error)``;
* :class:`Stop`: stop the senders and wait for them until a deadline.

The core's own lock guards its state; no plan yields while holding it, and
:meth:`BatchCore.changed` (called with it held) tells the driver to wake its waiters.

Example (a plan driven by hand, as a driver does):
    >>> from influxkit.config import BatchOptions
    >>> from influxkit.connection import _Stats
    >>> core = BatchCore(BatchOptions(size=2), stats=_Stats(), notify=lambda: None)
    >>> plan = core.admit([(b"m v=1 1", 1), (b"m v=2 2", 1)], ("db", "ns", True, False),
    ...                   wait=False, deadline=float("inf"))
    >>> try:
    ...     next(plan)
    ... except StopIteration as done:
    ...     done.value                     # (points accepted, first seq, last seq)
    (2, 1, 2)
    >>> sender = core.sender()
    >>> action = next(sender)            # a full batch: send it now
    >>> type(action).__name__, action.body
    ('Send', b'm v=1 1\\nm v=2 2')
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit import telemetry
from influxkit.batching.retry import RetryPolicy
from influxkit.errors import BufferFull, FlushTimeout, InfluxError, PartialWriteError
from influxkit.lineprotocol.parse import numbered_lines

if TYPE_CHECKING:
    from influxkit.batching.spool import Spool, SpoolRef
    from influxkit.clients.base import WriteOutcome
    from influxkit.config import BatchOptions

__all__ = [
    "Batch",
    "BatchCore",
    "Blocking",
    "Callback",
    "ErrorCallback",
    "Key",
    "Pause",
    "Plan",
    "Send",
    "Stop",
    "WaitChange",
    "default_on_error",
    "split_chunks",
]

logger = logging.getLogger("influxkit")

# (database, precision, accept_partial, no_sync): chunks batch together only if equal.
Key = tuple[str, str, bool, bool]
ErrorCallback = Callable[["Batch", BaseException], Any]
T = TypeVar("T")


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
    if count <= size and _one_line_per_newline(body):
        return [(body, count)]
    lines = [
        line.encode("utf-8", "surrogateescape")
        for line in numbered_lines(body.decode("utf-8", "surrogateescape"))
    ]
    return [
        (b"\n".join(lines[i : i + size]), len(lines[i : i + size]))
        for i in range(0, len(lines), size)
    ]


def _one_line_per_newline(body: bytes) -> bool:
    """Whether every newline ends a numbered line and every line is numbered.

    Not so with blank or comment lines, or a newline escaped or inside a quoted string
    (a piece with an odd number of quotes); then the parser's cut is needed.
    """
    if b"\n\n" in body or b"#" in body or b"\r" in body or b"\\" in body:
        return False
    return b'"' not in body or not any(p.count(b'"') % 2 for p in body.split(b"\n"))


def default_on_error(batch: Batch, error: BaseException) -> None:
    """What happens to undeliverable points without ``on_error``: logged, never silent."""
    logger.error(
        "influxkit: %d point(s) for database %r could not be written and were dropped: %s",
        len(batch),
        batch.database,
        error,
    )


# -- actions: what a plan asks its driver to do ------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``body`` with the client; the result is its ``WriteOutcome``."""

    body: bytes
    key: Key


@dataclass(frozen=True, slots=True)
class Pause:
    """Sleep ``seconds`` (a retry's backoff); the result is true if :class:`Stop` cut it short."""

    seconds: float


@dataclass(frozen=True, slots=True)
class WaitChange:
    """Sleep until ``core.generation != generation`` or ``timeout`` seconds (``None``: no limit)."""

    generation: int
    timeout: float | None


@dataclass(frozen=True, slots=True)
class Blocking:
    """Call ``fn(*args)``, which may block on IO (an async driver runs it in a thread)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Callback:
    """Call the user's ``on_error(batch, error)``; what it raises is thrown back to be logged."""

    fn: ErrorCallback
    batch: Batch
    error: BaseException


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the senders (cutting a :class:`Pause` short); wait for them until ``deadline``."""

    deadline: float


Action = Send | Pause | WaitChange | Blocking | Callback | Stop
Plan = Generator[Action, Any, T]


# -- state -------------------------------------------------------------------------


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


# How a batch's attempts ended (see BatchCore._attempts).
_DELIVERED, _PARTIAL, _FAILED, _ABANDONED = range(4)


class BatchCore:
    """The state and the decisions of one batch writer (see the module notes).

    ``notify`` is the driver's wake-up: called with :attr:`lock` held after every change
    a waiter may be waiting for (room in the buffer, a batch finished, data to send,
    closing).
    """

    def __init__(
        self,
        options: BatchOptions,
        *,
        stats: Any,
        notify: Callable[[], None],
        name: str | None = None,
    ) -> None:
        self.opts = options
        self.stats = stats
        self.name = name
        self.notify = notify
        self.on_error: ErrorCallback = options.on_error or default_on_error
        self.policy = RetryPolicy(
            max_retries=options.max_retries,
            max_retry_time=options.max_retry_time,
            interval=options.retry_interval,
            max_interval=options.max_retry_interval,
        )
        self.rng = random.Random()
        self.spool: Spool | None = None
        self.reset()

    def reset(self) -> None:
        """An empty writer (also a forked child's: the parent delivers what it holds)."""
        self.lock = threading.Lock()
        self.buffer: deque[_Chunk] = deque()
        self.queued = 0  # points in the buffer
        self.held = 0  # points in the buffer or in flight (what max_buffer_points bounds)
        self.flights: list[_Flight] = []
        self.seq = 0
        self.flush_to = 0
        self.jitter = self._draw_jitter()
        self.closing = False
        self.closed = False
        self.stopping = False
        self.generation = 0
        self.pid = os.getpid()
        self.failed: dict[int, BaseException] = {}  # seq -> error, kept for waiters
        self.waiting: dict[int, int] = {}  # seq -> writers waiting on it

    def changed(self) -> None:
        """Record a change and wake the driver's waiters. Call with :attr:`lock` held."""
        self.generation += 1
        self.notify()

    def _draw_jitter(self) -> float:
        return self.rng.uniform(0.0, self.opts.jitter) if self.opts.jitter else 0.0

    def open_spool(self, *, recover: bool) -> bool:
        """Open ``spool_dir``; with ``recover`` buffer what earlier runs left. Whether any."""
        from influxkit.batching.spool import Spool

        self.spool = Spool(self.opts.spool_dir)  # type: ignore[arg-type]
        if not recover:
            return False
        records = self.spool.recover()
        with self.lock:
            for rec in records:
                meta = rec.meta
                key: Key = (
                    meta["database"],
                    meta["precision"],
                    bool(meta["accept_partial"]),
                    bool(meta["no_sync"]),
                )
                self.seq += 1
                self.buffer.append(_Chunk(rec.body, int(meta["lines"]), key, self.seq, rec.ref))
                self.queued += int(meta["lines"])
                self.held += int(meta["lines"])
            if records:
                self.flush_to = self.seq
                self.changed()
        if records:
            logger.info(
                "influxkit: replaying %d point(s) left in %s by an earlier run",
                self.held,
                self.opts.spool_dir,
            )
        return bool(records)

    def forget_after_fork(self) -> None:
        """In a forked child: an empty buffer, and a spool that leaves the parent's files be."""
        spool = self.spool
        self.reset()
        if spool is not None:
            spool.forget_after_fork()
            self.open_spool(recover=False)

    # -- batch formation -------------------------------------------------------------

    def _due(self, now: float) -> float:
        """0 if the head of the buffer should go now, else seconds until it should."""
        head = self.buffer[0]
        if self.queued >= self.opts.size or head.seq <= self.flush_to or self.closing:
            return 0.0
        wait = head.since + self.opts.flush_interval + self.jitter - now
        return 0.0 if wait <= 0 else wait

    def _take(self) -> _Flight:
        """The oldest chunks that share a key, up to ``size`` points (at least one chunk)."""
        buf = self.buffer
        key = buf[0].key
        size = self.opts.size
        chunks = [buf.popleft()]
        points = chunks[0].lines
        while buf and buf[0].key == key and points + buf[0].lines <= size:
            chunk = buf.popleft()
            chunks.append(chunk)
            points += chunk.lines
        self.queued -= points
        self.jitter = self._draw_jitter()
        flight = _Flight(chunks)
        self.flights.append(flight)
        return flight

    def sender(self) -> Plan[None]:
        """One sender: take batches as they are due and send them, until stopped or drained."""
        while True:
            flight = None
            with self.lock:
                if self.stopping:
                    return
                if self.buffer:
                    wait: float | None = self._due(time.monotonic())
                    if wait == 0.0:
                        flight = self._take()
                elif self.closing:
                    return
                else:
                    wait = None
                generation = self.generation
            if flight is None:
                yield WaitChange(generation, wait)
            else:
                yield from self.send(flight)

    # -- sending ---------------------------------------------------------------------

    def send(self, flight: _Flight) -> Plan[None]:
        """Send one batch, retrying what can succeed later; report what cannot."""
        chunks = flight.chunks
        body = chunks[0].body if len(chunks) == 1 else b"\n".join(c.body for c in chunks)
        try:
            how, error = yield from self._attempts(flight, body)
        except BaseException:
            # The driver gave up on this batch mid-attempt (a sender task cancelled): it
            # goes back to the front of the buffer, for close() or another sender.
            self._requeue(flight)
            raise
        if how == _ABANDONED:
            return
        try:
            if how == _PARTIAL:
                yield from self._partial(flight, body, error)  # type: ignore[arg-type]
            elif how == _FAILED:
                yield from self._report(flight, chunks, error)  # type: ignore[arg-type]
        finally:
            self._finish(flight)

    def _attempts(self, flight: _Flight, body: bytes) -> Plan[tuple[int, BaseException | None]]:
        chunks = flight.chunks
        key = chunks[0].key
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                with telemetry.span(
                    "batch.flush",
                    connection=self.name,
                    database=key[0],
                    operation="write",
                    points=flight.points,
                    bytes=len(body),
                    attempt=attempt,
                ) as span:
                    outcome: WriteOutcome = yield Send(body, key)
                    span.set(bytes_sent=outcome.bytes_sent)
            except PartialWriteError as exc:
                self.stats.add(requests=1)
                return _PARTIAL, exc
            except Exception as exc:
                self.stats.add(requests=1)
                self.stats.note(exc)
                attempt += 1
                wait = (
                    None
                    if self.stopping
                    else self.policy.next_delay(exc, attempt, time.monotonic() - started, self.rng)
                )
                if wait is None:
                    return _FAILED, exc
                self.stats.add(retries=1)
                telemetry.emit(
                    "batch.retry",
                    connection=self.name,
                    database=key[0],
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
                if (yield Pause(wait)):
                    # close() ran out of time: it reports this batch (or leaves it in the
                    # spool for the next start), so this sender only lets go of it.
                    with self.lock:
                        flight.abandoned = True
                    return _ABANDONED, None
            else:
                self.stats.add(
                    requests=outcome.requests,
                    points_written=flight.points,
                    bytes_written=len(body),
                )
                return _DELIVERED, None

    def _partial(self, flight: _Flight, body: bytes, exc: PartialWriteError) -> Plan[None]:
        """Hand only the rejected lines to ``on_error`` when the server numbered them.

        The lines come from the batch itself: the server cuts ``original_line`` to 20
        bytes. Its line numbers are 1-based over the body and count no blank or comment
        line, and :func:`split_chunks` leaves none in a chunk, so they index the body.
        """
        every = numbered_lines(body.decode("utf-8", "replace"))
        numbers = sorted(
            {e.line_number for e in exc.line_errors if 0 < e.line_number <= len(every)}
        )
        if not numbers:
            yield from self._report(flight, flight.chunks, exc)
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
        self.stats.add(points_written=flight.points - len(numbers))
        yield from self._report(flight, hit, exc, lines=[every[n - 1] for n in numbers])

    def _report(
        self,
        flight: _Flight | None,
        chunks: Iterable[_Chunk],
        error: BaseException,
        *,
        lines: list[str] | None = None,
    ) -> Plan[None]:
        """Hand points that cannot be written to ``on_error``; count and log them."""
        chunks = list(chunks)
        if flight is not None:
            with self.lock:
                if flight.abandoned:  # close() already reported this batch
                    return
                for chunk in chunks:
                    if chunk.seq in self.waiting:
                        self.failed[chunk.seq] = error
        if lines is None:
            lines = [
                line for c in chunks for line in numbered_lines(c.body.decode("utf-8", "replace"))
            ]
        if not lines:
            return
        database, precision = chunks[0].key[0], chunks[0].key[1]
        batch = Batch(database, precision, tuple(lines))
        self.stats.failed(len(lines), error)
        telemetry.emit(
            "batch.dropped",
            connection=self.name,
            database=database,
            points=len(lines),
            error=error,
        )
        try:
            yield Callback(self.on_error, batch, error)
        except Exception:
            logger.exception(
                "influxkit: on_error raised while handling %d point(s) for %r (%s)",
                len(batch),
                database,
                error,
            )

    def _finish(self, flight: _Flight) -> None:
        with self.lock:
            if flight in self.flights:
                self.flights.remove(flight)
            if not flight.abandoned:
                self.held -= flight.points
            self.changed()
        if self.spool is not None and not flight.abandoned:
            for chunk in flight.chunks:
                if chunk.ref is not None:
                    self.spool.release(chunk.ref)

    def _requeue(self, flight: _Flight) -> None:
        with self.lock:
            if flight in self.flights:
                self.flights.remove(flight)
            if flight.abandoned or self.closed:
                return
            self.buffer.extendleft(reversed(flight.chunks))
            self.queued += flight.points
            self.changed()

    # -- the caller's side -----------------------------------------------------------

    def admit(
        self,
        pieces: list[tuple[bytes, int]],
        key: Key,
        *,
        wait: bool,
        deadline: float,
    ) -> Plan[tuple[int, int, int]]:
        """Buffer ``pieces`` in order: ``(points accepted, first seq, last seq)``.

        The driver holds its enqueue lock around this plan, so one write's pieces stay
        together. With ``overflow="block"`` a piece waits for room until ``deadline``
        (monotonic); what does not fit raises :class:`BufferFull` (``accepted`` says how
        many points got in). In durable mode each piece is fsynced before it counts.
        """
        opts = self.opts
        total = sum(n for _, n in pieces)
        block = opts.overflow == "block"
        with self.lock:
            if not block and self.held + total > opts.max_buffer_points:
                raise self.full(total, 0)
        first = last = 0
        accepted = 0
        try:
            for body, n in pieces:
                while True:
                    with self.lock:
                        if not (self.held and self.held + n > opts.max_buffer_points):
                            self.held += n  # reserved before the (slow) spool append
                            break
                        remaining = deadline - time.monotonic()
                        if not block or remaining <= 0:
                            raise self.full(total, accepted)
                        generation = self.generation
                    yield WaitChange(generation, remaining)
                ref = None
                if self.spool is not None:
                    meta = {
                        "database": key[0],
                        "precision": key[1],
                        "accept_partial": key[2],
                        "no_sync": key[3],
                        "lines": n,
                    }
                    try:
                        ref = yield Blocking(self.spool.append, (meta, body))
                    except BaseException:
                        with self.lock:
                            self.held -= n
                            self.changed()
                        raise
                with self.lock:
                    self.seq += 1
                    last = self.seq
                    first = first or last
                    if wait:
                        self.waiting[last] = self.waiting.get(last, 0) + 1
                    was_empty = not self.buffer
                    self.buffer.append(_Chunk(body, n, key, last, ref))
                    self.queued += n
                    if was_empty or self.queued >= opts.size:
                        self.changed()
                accepted += n
        except BaseException:
            if wait and first:  # nobody will wait for the pieces that did get in
                self._unwait(first, last)
            raise
        return accepted, first, last

    def full(self, total: int, accepted: int) -> BufferFull:
        """The :class:`BufferFull` for a write of ``total`` points of which ``accepted`` got in."""
        how = (
            f"did not drain within block_timeout={self.opts.block_timeout}s"
            if self.opts.overflow == "block"
            else "is full (overflow='raise')"
        )
        return BufferFull(
            f"the batch buffer ({self.held} of max_buffer_points={self.opts.max_buffer_points} "
            f"points held) {how}; {accepted} of this write's {total} points were accepted. "
            "The server is slow or down: see stats() for the last error",
            accepted=accepted,
            connection=self.name,
            operation="write",
        )

    def _done_through(self) -> int:
        """Every chunk with a seq up to this one is delivered or reported."""
        oldest = [f.chunks[0].seq for f in self.flights]
        if self.buffer:
            oldest.append(self.buffer[0].seq)
        return min(oldest) - 1 if oldest else self.seq

    def _unwait(self, first: int, last: int) -> None:
        with self.lock:
            for seq in range(first, last + 1):
                count = self.waiting.pop(seq, 0) - 1
                if count > 0:
                    self.waiting[seq] = count
                else:
                    self.failed.pop(seq, None)

    def wait_for(self, first: int, last: int, timeout: float | None) -> Plan[None]:
        """Until chunks ``first..last`` are delivered or reported; the error of any that failed.

        Raises :class:`FlushTimeout` after ``timeout`` seconds (the points stay buffered).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            with self.lock:
                self.flush_to = max(self.flush_to, last)
                self.changed()
            while True:
                with self.lock:
                    if self._done_through() >= last:
                        failed = self.failed
                        errors = [failed[s] for s in range(first, last + 1) if s in failed]
                        break
                    generation, held = self.generation, self.held
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise FlushTimeout(
                        f"points written up to now were not all delivered within {timeout}s;"
                        f" {held} point(s) are still buffered and being retried",
                        pending=held,
                        connection=self.name,
                        operation="flush",
                    )
                yield WaitChange(generation, remaining)
        finally:
            self._unwait(first, last)
        if errors:
            raise errors[0]

    def flush(self, timeout: float | None = None) -> Plan[None]:
        """Until everything buffered before the call is delivered or reported."""
        with self.lock:
            last = self.seq
        yield from self.wait_for(last + 1, last, timeout)

    def close(self, timeout: float | None = None) -> Plan[int]:
        """Deliver what is buffered within ``timeout``; report the rest; stop. Points left."""
        timeout = self.opts.close_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self.lock:
            if self.closed:
                return 0
            self.closing = True
            self.flush_to = self.seq
            self.changed()
        while True:
            with self.lock:
                if not self.held:
                    break
                generation = self.generation
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            yield WaitChange(generation, remaining)
        with self.lock:
            self.stopping = True
            self.changed()
        yield Stop(deadline)
        with self.lock:
            self.closed = True
            left = list(self.buffer)
            self.buffer.clear()
            for flight in self.flights:
                flight.abandoned = True
                left.extend(flight.chunks)
            self.flights.clear()
            points = sum(c.lines for c in left)
            self.held = self.queued = 0
            self.changed()
        if left and self.spool is not None:
            logger.warning(
                "influxkit: %d point(s) were not delivered before close; they stay in %s "
                "and are sent by the next writer that opens it",
                points,
                self.opts.spool_dir,
            )
        elif left:
            last_error = self.stats.as_dict()["last_error"] or "none"
            error = InfluxError(
                f"the connection closed before {points} point(s) were confirmed delivered "
                f"(close_timeout={timeout}s); the last error: {last_error}",
                connection=self.name,
                operation="close",
            )
            for _key, group in _by_key(left):
                yield from self._report(None, group, error)
        if self.spool is not None:
            yield Blocking(self.spool.close)
        return points


def _by_key(chunks: list[_Chunk]) -> list[tuple[Key, list[_Chunk]]]:
    groups: list[tuple[Key, list[_Chunk]]] = []
    for chunk in sorted(chunks, key=lambda c: c.seq):
        if groups and groups[-1][0] == chunk.key:
            groups[-1][1].append(chunk)
        else:
            groups.append((chunk.key, [chunk]))
    return groups

"""Telemetry hooks: influxkit reports what it does as :class:`Event` objects.

Attach a callable and it receives an event when a write, a query or a batch flush
starts, stops or fails (with duration, database, point / row counts, body bytes
before and after compression, and the retry attempt), plus ``batch.retry`` and
``batch.dropped``. With no handler attached the library pays almost nothing: a
:func:`span` checks one tuple and returns.

>>> from influxkit import telemetry
>>> seen = []
>>> handler = telemetry.attach(seen.append, kinds=["write"])
>>> with telemetry.span("write", database="app", points=3) as s:
...     s.set(bytes=48, bytes_sent=40)
>>> [(e.name, e.points, e.bytes_sent) for e in seen]
[('write.start', 3, None), ('write.stop', 3, 40)]
>>> seen[-1].duration >= 0
True
>>> telemetry.detach(handler)
>>> telemetry.attached()
False

Handlers run on the thread that did the work, which for the batch writer is its
background thread: keep them quick and thread-safe. A handler that raises is logged
on the ``influxkit.telemetry`` logger and never breaks the operation. Events carry
no secrets: no token, password or request header is ever put in one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = [
    "EVENT_NAMES",
    "KINDS",
    "Event",
    "Handler",
    "Span",
    "attach",
    "attached",
    "detach",
    "emit",
    "span",
]

logger = logging.getLogger("influxkit.telemetry")

KINDS: frozenset[str] = frozenset({"write", "query", "batch.flush", "batch.retry", "batch.dropped"})
"""Every event kind the library emits; ``attach(kinds=...)`` accepts these."""

EVENT_NAMES: tuple[str, ...] = (
    "write.start",
    "write.stop",
    "write.exception",
    "query.start",
    "query.stop",
    "query.exception",
    "batch.flush.start",
    "batch.flush.stop",
    "batch.flush.exception",
    "batch.retry",
    "batch.dropped",
)
"""Every event name the library emits (``<kind>.<phase>``, or the kind alone)."""

_PHASES = frozenset({"start", "stop", "exception"})
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Event:
    """One thing influxkit did. Immutable: every handler gets the same object.

    Fields that do not apply to an event are ``None``; ``extra`` holds anything
    without a field of its own (``retry_in`` on ``batch.retry``).
    """

    name: str
    kind: str
    phase: str
    time: float
    connection: str | None = None
    database: str | None = None
    duration: float | None = None
    points: int | None = None
    rows: int | None = None
    bytes: int | None = None
    bytes_sent: int | None = None
    attempt: int | None = None
    operation: str | None = None
    error: BaseException | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)

    def __repr__(self) -> str:
        # Only what is set: an event has a dozen fields and most are None.
        parts = [f"name={self.name!r}"]
        for name in _OPTIONAL_FIELDS:
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        if self.extra:
            parts.append(f"extra={dict(self.extra)!r}")
        return f"Event({', '.join(parts)})"


_OPTIONAL_FIELDS = (
    "connection",
    "database",
    "duration",
    "points",
    "rows",
    "bytes",
    "bytes_sent",
    "attempt",
    "operation",
    "error",
)
_FIELDS = frozenset(_OPTIONAL_FIELDS)
_DERIVED = frozenset({"kind", "phase", "time"})

Handler = Callable[[Event], None]

# Never mutated in place: attach/detach build a new tuple and rebind the name under
# the lock, so emit() reads it with one load and takes no lock. Each entry is
# (handler, kinds or None for all).
_handlers: tuple[tuple[Handler, frozenset[str] | None], ...] = ()
# The kinds any handler wants (None: some handler wants all), so events nobody wants
# are not even built. Only a hint: delivery checks each handler's own kinds.
_wanted: frozenset[str] | None = frozenset()
_lock = threading.Lock()


def _publish(handlers: tuple[tuple[Handler, frozenset[str] | None], ...]) -> None:
    """Swap in ``handlers`` (caller holds ``_lock``), keeping ``_wanted`` a safe hint."""
    global _handlers, _wanted  # noqa: PLW0603 - copy-on-write: rebinding is the design
    _wanted = None  # "build everything" is never wrong while the two names disagree
    _handlers = handlers
    wanted: set[str] = set()
    for _, kinds in handlers:
        if kinds is None:
            return
        wanted |= kinds
    _wanted = frozenset(wanted)


# Set while a handler runs on this thread: events the handler itself causes (say it
# writes the event to InfluxDB with influxkit) are not delivered, so it cannot recurse.
class _HandlerState(threading.local):
    active = False


_in_handler = _HandlerState()


def attach(handler: Handler, *, kinds: Iterable[str] | None = None) -> Handler:
    """Call ``handler(event)`` for every event, or only those whose kind is in ``kinds``.

    Returns ``handler``, so this works as a decorator. Attaching a handler that is
    already attached replaces its ``kinds`` (it is never called twice per event).

    Raises:
        ValueError: ``kinds`` names an unknown kind, or is empty.
    """
    if not callable(handler):
        raise TypeError(f"telemetry handler must be callable, got {handler!r}")
    wanted = _kinds(kinds)
    with _lock:
        kept = tuple(entry for entry in _handlers if entry[0] != handler)
        _publish((*kept, (handler, wanted)))
    return handler


def _kinds(kinds: Iterable[str] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    wanted = frozenset([kinds] if isinstance(kinds, str) else kinds)
    if not wanted:
        raise ValueError("kinds is empty; pass kinds=None to receive every event")
    unknown = wanted - KINDS
    if unknown:
        raise ValueError(
            f"unknown telemetry kind(s) {', '.join(sorted(map(repr, unknown)))}; "
            f"known kinds: {', '.join(sorted(KINDS))}"
        )
    return wanted


def detach(handler: Handler) -> None:
    """Stop calling ``handler``. Not an error if it is not attached."""
    with _lock:
        _publish(tuple(entry for entry in _handlers if entry[0] != handler))


def attached() -> bool:
    """Whether any handler is attached: a cheap check before work done only for events."""
    return bool(_handlers)


def emit(name: str, **fields: Any) -> None:
    """Build the event ``name`` from ``fields`` and give it to each matching handler.

    Keywords naming an :class:`Event` field set it; any other keyword goes into
    ``extra`` (as does an ``extra=`` mapping). ``kind`` and ``phase`` come from the
    name (``"batch.flush.stop"`` is kind ``"batch.flush"``, phase ``"stop"``; a name
    without a phase, like ``"batch.retry"``, has phase ``"event"``), ``time`` is now.
    Returns at once when no handler is attached, or none wants this kind.
    """
    handlers = _handlers
    if not handlers or _in_handler.active:
        return
    kind, phase = _split(name)
    wanted = _wanted
    if wanted is not None and kind not in wanted:
        return
    _deliver(handlers, _build(name, kind, phase, fields))


def _build(name: str, kind: str, phase: str, fields: dict[str, Any]) -> Event:
    if _DERIVED.intersection(fields):
        raise TypeError(
            f"emit() sets {', '.join(sorted(_DERIVED & fields.keys()))} itself; do not pass it"
        )
    extra = dict(fields.pop("extra", None) or ())
    known = {}
    for key, value in fields.items():
        if key in _FIELDS:
            known[key] = value
        else:
            extra[key] = value
    return Event(
        name=name,
        kind=kind,
        phase=phase,
        time=time.time(),
        extra=MappingProxyType(extra) if extra else _EMPTY,
        **known,
    )


def _split(name: str) -> tuple[str, str]:
    head, _, tail = name.rpartition(".")
    if head and tail in _PHASES:
        return head, tail
    return name, "event"


def _deliver(handlers: tuple[tuple[Handler, frozenset[str] | None], ...], event: Event) -> None:
    state = _in_handler
    state.active = True
    try:
        for handler, kinds in handlers:
            if kinds is not None and event.kind not in kinds:
                continue
            try:
                handler(event)
            except Exception:  # a broken handler must not break a write; KeyboardInterrupt passes
                logger.exception("telemetry handler %r raised on %s", handler, event.name)
    finally:
        state.active = False


class Span:
    """One timed operation: ``<kind>.start`` on enter, ``.stop`` or ``.exception`` on exit.

    Made by :func:`span`. ``fields`` (a dict) go into every event of the span; add
    what is learned during the operation with :meth:`set`. The exception event
    carries ``error`` and the duration; the exception itself always propagates.
    """

    __slots__ = ("_started", "fields", "kind")
    active = True
    """Whether this span reports events (``False`` when no handler was attached)."""

    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        self.kind = kind
        self.fields = fields
        self._started = 0.0

    def set(self, **fields: Any) -> None:
        """Add or replace fields for the events still to come (``rows=...``, ...)."""
        self.fields.update(fields)

    def __enter__(self) -> Span:
        emit(f"{self.kind}.start", **self.fields)
        self._started = time.perf_counter()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        duration = time.perf_counter() - self._started
        if exc is None:
            emit(f"{self.kind}.stop", **{**self.fields, "duration": duration})
        else:
            emit(f"{self.kind}.exception", **{**self.fields, "duration": duration, "error": exc})


class _InactiveSpan(Span):
    """The span handed out when no handler is attached: every method does nothing."""

    __slots__ = ()
    active = False

    def __init__(self) -> None:
        pass

    @property  # type: ignore[override]
    def fields(self) -> dict[str, Any]:  # a fresh dict: changes go nowhere
        return {}

    def set(self, **fields: Any) -> None:
        pass

    def __enter__(self) -> Span:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        pass


_INACTIVE = _InactiveSpan()


def span(kind: str, **fields: Any) -> Span:
    """Time an operation of ``kind`` (``"write"``, ``"query"``, ``"batch.flush"``).

    Use as ``with telemetry.span("write", database=db, points=n) as s: ...``, then
    ``s.set(bytes_sent=...)`` inside. Whether the span reports is decided here: with
    no handler attached for ``kind`` (or when called inside a handler) it returns a
    shared do-nothing span, so the ``with`` costs a few hundred nanoseconds. A span
    reports both its start and its end or neither, so handlers see them in pairs.
    """
    if not _handlers or _in_handler.active:
        return _INACTIVE
    wanted = _wanted
    if wanted is not None and kind not in wanted:
        return _INACTIVE
    return Span(kind, fields)

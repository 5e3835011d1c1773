"""Telemetry: attach/detach, kinds, spans, broken handlers, and attach/detach under churn."""

from __future__ import annotations

import dataclasses
import doctest
import logging
import threading
import time

import pytest

from influxkit import telemetry
from influxkit.telemetry import Event


@pytest.fixture(autouse=True)
def _detach_all():
    assert not telemetry.attached(), "a handler leaked in from elsewhere"
    yield
    for handler, _ in telemetry._handlers:
        telemetry.detach(handler)


def _collect(**kw):
    seen: list[Event] = []
    telemetry.attach(seen.append, **kw)
    return seen


def test_module_docstring_example_runs():
    result = doctest.testmod(telemetry, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_attach_returns_handler_and_detach_stops_delivery():
    seen: list[Event] = []
    assert telemetry.attach(seen.append) == seen.append
    assert telemetry.attached()
    telemetry.emit("write.stop", points=1)
    telemetry.detach(seen.append)  # an equal bound method detaches it
    telemetry.emit("write.stop", points=2)
    assert [e.points for e in seen] == [1]
    assert not telemetry.attached()


def test_attach_works_as_a_decorator():
    seen = []

    @telemetry.attach
    def handler(event):
        seen.append(event.name)

    telemetry.emit("query.start")
    telemetry.detach(handler)
    assert seen == ["query.start"]


def test_detach_of_unknown_handler_is_not_an_error():
    telemetry.detach(print)
    seen = _collect()
    telemetry.detach(lambda e: None)
    telemetry.emit("write.start")
    assert len(seen) == 1
    telemetry.detach(seen.append)
    telemetry.detach(seen.append)


def test_attaching_twice_delivers_once_and_replaces_kinds():
    seen = _collect()
    telemetry.attach(seen.append, kinds=["query"])
    telemetry.emit("write.stop")
    telemetry.emit("query.stop")
    assert [e.name for e in seen] == ["query.stop"]
    telemetry.detach(seen.append)
    assert not telemetry.attached()


def test_kinds_filter():
    writes = _collect(kinds=["write"])
    batches = _collect(kinds=("batch.flush", "batch.retry"))
    everything = _collect()
    for name in telemetry.EVENT_NAMES:
        telemetry.emit(name)
    assert [e.name for e in writes] == ["write.start", "write.stop", "write.exception"]
    assert [e.name for e in batches] == [
        "batch.flush.start",
        "batch.flush.stop",
        "batch.flush.exception",
        "batch.retry",
    ]
    assert [e.name for e in everything] == list(telemetry.EVENT_NAMES)


def test_kinds_accepts_one_string_and_refuses_unknown_or_empty():
    seen = _collect(kinds="query")
    telemetry.emit("query.stop")
    telemetry.emit("write.stop")
    assert [e.name for e in seen] == ["query.stop"]
    with pytest.raises(ValueError, match=r"unknown telemetry kind.*'writes'.*known kinds"):
        telemetry.attach(print, kinds=["writes"])
    with pytest.raises(ValueError, match="kinds is empty"):
        telemetry.attach(print, kinds=[])
    with pytest.raises(TypeError, match="callable"):
        telemetry.attach("not a function")  # type: ignore[arg-type]


def test_kind_and_phase_come_from_the_name():
    seen = _collect()
    for name in telemetry.EVENT_NAMES:
        telemetry.emit(name)
    got = {e.name: (e.kind, e.phase) for e in seen}
    assert got["write.start"] == ("write", "start")
    assert got["query.exception"] == ("query", "exception")
    assert got["batch.flush.stop"] == ("batch.flush", "stop")
    assert got["batch.retry"] == ("batch.retry", "event")
    assert got["batch.dropped"] == ("batch.dropped", "event")
    assert {e.kind for e in seen} == telemetry.KINDS


def test_emit_sets_fields_time_and_extra():
    seen = _collect()
    before = time.time()
    telemetry.emit(
        "batch.retry",
        connection="metrics",
        database="app",
        points=10,
        attempt=2,
        retry_in=1.5,
        extra={"status": 503},
    )
    (event,) = seen
    assert before <= event.time <= time.time()
    assert (event.connection, event.database, event.points, event.attempt) == (
        "metrics",
        "app",
        10,
        2,
    )
    assert event.duration is None and event.rows is None and event.error is None
    assert dict(event.extra) == {"retry_in": 1.5, "status": 503}
    with pytest.raises(TypeError):
        event.extra["x"] = 1  # type: ignore[index]
    assert repr(event) == (
        "Event(name='batch.retry', connection='metrics', database='app', points=10, "
        "attempt=2, extra={'status': 503, 'retry_in': 1.5})"
    )


def test_emit_refuses_derived_fields():
    _collect()
    with pytest.raises(TypeError, match="kind"):
        telemetry.emit("write.stop", kind="query")


def test_emit_without_handlers_does_nothing():
    telemetry.emit("write.stop", points=1, kind="ignored: nothing is built")


def test_event_is_immutable_and_hashable():
    event = Event(name="write.stop", kind="write", phase="stop", time=0.0, points=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.points = 2  # type: ignore[misc]
    with pytest.raises((AttributeError, TypeError)):
        event.new_field = 1  # type: ignore[attr-defined]
    assert event.extra == {}
    assert hash(event) == hash(dataclasses.replace(event))


def test_span_start_and_stop_with_fields_set_during_the_span():
    seen = _collect()
    with telemetry.span("query", connection="c", database="app", operation="query_sql") as s:
        assert s.active
        time.sleep(0.01)
        s.set(rows=7)
        s.fields["bytes"] = 120
    start, stop = seen
    assert start.name == "query.start" and start.duration is None and start.rows is None
    assert (start.connection, start.database, start.operation) == ("c", "app", "query_sql")
    assert stop.name == "query.stop" and stop.phase == "stop"
    assert (stop.rows, stop.bytes, stop.database) == (7, 120, "app")
    assert stop.duration >= 0.009
    assert stop.error is None


def test_span_exception_event_and_the_exception_propagates():
    seen = _collect()
    boom = ValueError("boom")
    with pytest.raises(ValueError) as info, telemetry.span("batch.flush", points=5, attempt=1):
        raise boom
    assert info.value is boom
    start, exc = seen
    assert start.name == "batch.flush.start"
    assert exc.name == "batch.flush.exception" and exc.kind == "batch.flush"
    assert exc.error is boom
    assert exc.duration is not None and exc.duration >= 0
    assert (exc.points, exc.attempt) == (5, 1)


def test_span_fields_named_like_computed_ones_do_not_clash():
    seen = _collect()
    with pytest.raises(KeyError), telemetry.span("write", duration=99.0, error="x"):
        raise KeyError("k")
    assert seen[-1].duration != 99.0
    assert isinstance(seen[-1].error, KeyError)


def test_span_without_handlers_is_inactive_and_reports_nothing():
    with telemetry.span("write", points=1) as s:
        assert not s.active
        s.set(rows=1)
        s.fields["bytes"] = 1  # goes nowhere, does not fail
        seen = _collect()  # attached mid-span: this span stays silent (no lone stop)
    assert seen == []
    with telemetry.span("write") as s:
        assert s.active
    assert [e.name for e in seen] == ["write.start", "write.stop"]


def test_span_of_an_unwanted_kind_is_inactive():
    _collect(kinds=["query"])
    with telemetry.span("write") as s:
        assert not s.active


def test_kinds_wanted_follow_attach_and_detach():
    queries = _collect(kinds=["query"])
    everything = _collect()
    assert telemetry.span("write").active
    telemetry.detach(everything.append)
    assert not telemetry.span("write").active
    telemetry.emit("write.stop")
    telemetry.emit("query.stop")
    assert [e.name for e in queries] == ["query.stop"]
    assert [e.name for e in everything] == []
    telemetry.detach(queries.append)
    assert not telemetry.span("query").active


def test_span_inactive_path_propagates_exceptions():
    with pytest.raises(RuntimeError), telemetry.span("write"):
        raise RuntimeError


def test_raising_handler_is_logged_and_does_not_break_the_caller(caplog):
    def broken(event):
        raise RuntimeError("handler bug")

    telemetry.attach(broken)
    seen = _collect()
    with caplog.at_level(logging.ERROR, logger="influxkit.telemetry"):
        with telemetry.span("write", points=3) as s:
            s.set(bytes_sent=10)
        telemetry.emit("batch.dropped", points=3)
    assert [e.name for e in seen] == ["write.start", "write.stop", "batch.dropped"]
    records = [r for r in caplog.records if r.name == "influxkit.telemetry"]
    assert len(records) == 3
    assert records[0].levelno == logging.ERROR
    assert "write.start" in records[0].getMessage()
    assert records[0].exc_info and records[0].exc_info[0] is RuntimeError


def test_events_caused_by_a_handler_are_not_delivered_again():
    calls = []

    def reentrant(event):
        calls.append(event.name)
        # A handler that itself uses influxkit (say, writes the event to InfluxDB).
        with telemetry.span("write", points=1):
            telemetry.emit("write.stop")

    telemetry.attach(reentrant)
    telemetry.emit("query.stop")
    assert calls == ["query.stop"]
    telemetry.emit("query.stop")  # the guard is reset afterwards
    assert calls == ["query.stop", "query.stop"]


def test_handlers_from_other_threads_see_events():
    seen = _collect()
    thread = threading.Thread(target=lambda: telemetry.emit("batch.flush.stop", points=1))
    thread.start()
    thread.join()
    names = [e.name for e in seen]
    assert names == ["batch.flush.stop"]


def test_attach_detach_from_many_threads_while_emitting():
    errors: list[BaseException] = []
    stop = threading.Event()
    emitted = 0

    def emitter():
        nonlocal emitted
        try:
            while not stop.is_set():
                with telemetry.span("write", points=1) as s:
                    s.set(bytes_sent=1)
                telemetry.emit("batch.retry", attempt=1)
                emitted += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    # Handlers attached for good, each from its own thread while others churn.
    keepers = [[] for _ in range(16)]

    def churn(i):
        try:
            keeper = keepers[i]
            for _ in range(100):
                temp = []
                telemetry.attach(temp.append)
                telemetry.detach(temp.append)
            telemetry.attach(keeper.append)
            for _ in range(100):
                temp = []
                telemetry.attach(temp.append, kinds=["query"])
                telemetry.detach(temp.append)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    emitters = [threading.Thread(target=emitter) for _ in range(4)]
    churners = [threading.Thread(target=churn, args=(i,)) for i in range(len(keepers))]
    for t in emitters + churners:
        t.start()
    for t in churners:
        t.join()
    stop.set()
    for t in emitters:
        t.join()

    assert errors == []
    assert emitted > 0
    assert len(telemetry._handlers) == len(keepers)  # nothing lost, nothing left over
    for keeper in keepers:
        keeper.clear()
    telemetry.emit("write.stop")
    assert all([e.name for e in keeper] == ["write.stop"] for keeper in keepers)
    for keeper in keepers:
        telemetry.detach(keeper.append)
    assert not telemetry.attached()

"""The durable spool: framing, recovery, torn and corrupt segments, ownership, fork, SIGKILL."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.batching.spool import HEADER_SIZE, Spool, SpoolRef
from influxkit.errors import ConfigError, InfluxError

LOGGER = "influxkit.batching.spool"


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.seg"))


def contents(records: list) -> list[tuple[dict, bytes]]:
    return [(r.meta, r.body) for r in records]


def append_tracking(spool: Spool, directory: Path, items: list[tuple[dict, bytes]]) -> list[int]:
    """Append items to a one-segment spool; the offset each record starts at."""
    offsets = []
    for meta, body in items:
        files = segments(directory)
        offsets.append(files[-1].stat().st_size if files else 0)
        spool.append(meta, body)
    assert len(segments(directory)) == 1
    return offsets


ITEMS = [
    ({"database": "db", "precision": "ns", "lines": 1}, b"cpu,host=a usage=1 1\n"),
    ({"database": "db", "accept_partial": True, "lines": 2}, b"cpu usage=2 2\ncpu usage=3 3\n"),
    ({"database": "other", "no_sync": False, "lines": 1}, b"mem,host=b free=7i 4\n"),
]


# -- round trip, release, rotation --------------------------------------------------


def test_round_trip_in_order(tmp_path: Path) -> None:
    items = [
        *ITEMS,
        ({}, b""),
        ({"lines": 5000, "note": "ünïcode"}, b"m,t=x f=1.5 1700000000000000000\n" * 5000),
    ]
    spool = Spool(tmp_path / "spool" / "nested")
    assert spool.recover() == []
    refs = [spool.append(meta, body) for meta, body in items]
    assert len(set(refs)) == len(refs)
    assert spool.pending() == len(items)
    spool.close()

    again = Spool(tmp_path / "spool" / "nested")
    records = again.recover()
    assert contents(records) == items
    assert all(isinstance(r.body, bytes) for r in records)
    assert again.pending() == len(items)
    again.close()


def test_release_deletes_finished_non_current_segments(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=1)  # one record per segment
    spool.recover()
    refs = [spool.append(meta, body) for meta, body in ITEMS]
    files = segments(tmp_path)
    assert [f.name for f in files] == [ref.segment for ref in refs]

    spool.release(refs[0])
    assert not files[0].exists()
    assert files[1].exists()
    spool.release(refs[0])  # twice: a no-op
    assert spool.pending() == 2

    spool.release(refs[2])  # the current append target stays until close
    assert files[2].exists()
    assert spool.pending() == 1
    spool.close()
    assert not files[2].exists()
    assert segments(tmp_path) == [files[1]]

    again = Spool(tmp_path)
    assert contents(again.recover()) == [ITEMS[1]]
    again.close()


def test_released_recovered_segment_is_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    for meta, body in ITEMS:
        spool.append(meta, body)
    spool.close()

    again = Spool(tmp_path)
    records = again.recover()
    (segment,) = segments(tmp_path)
    for record in records[:-1]:
        again.release(record.ref)
    assert segment.exists()
    again.release(records[-1].ref)
    assert not segment.exists()
    assert again.pending() == 0
    again.close()


def test_rotation_by_segment_bytes(tmp_path: Path) -> None:
    record_size = HEADER_SIZE + len(b"{}") + 100
    spool = Spool(tmp_path, segment_bytes=2 * record_size + 10, fsync=False)
    spool.recover()
    bodies = [bytes([65 + i]) * 100 for i in range(5)]
    refs = [spool.append({}, body) for body in bodies]
    files = segments(tmp_path)
    assert [f.stat().st_size for f in files] == [2 * record_size, 2 * record_size, record_size]
    assert [ref.segment for ref in refs] == [files[0].name] * 2 + [files[1].name] * 2 + [
        files[2].name
    ]
    assert [ref.index for ref in refs] == [0, 1, 0, 1, 0]
    spool.close()

    again = Spool(tmp_path)
    assert [r.body for r in again.recover()] == bodies  # segment names sort in creation order
    again.close()


def test_a_record_larger_than_a_segment_gets_one_alone(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=100, fsync=False)
    spool.recover()
    small, big = spool.append({}, b"x"), spool.append({}, b"y" * 500)
    after = spool.append({}, b"z")
    assert len({small.segment, big.segment, after.segment}) == 3
    spool.close()


# -- torn tails and corruption ------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda start, end: start + 10, id="inside-header"),
        pytest.param(lambda start, end: start + HEADER_SIZE + 3, id="inside-meta"),
        pytest.param(lambda start, end: end - 1, id="inside-body"),
    ],
)
def test_torn_tail_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture, cut) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    offsets = append_tracking(spool, tmp_path, ITEMS)
    spool.close()
    (segment,) = segments(tmp_path)
    os.truncate(segment, cut(offsets[2], segment.stat().st_size))

    caplog.set_level(logging.INFO, logger=LOGGER)
    again = Spool(tmp_path)
    records = again.recover()
    assert contents(records) == ITEMS[:2]
    torn = [r for r in caplog.records if "torn" in r.getMessage()]
    assert [r.levelno for r in torn] == [logging.INFO]
    assert str(segment) in torn[0].getMessage()
    assert f"offset {offsets[2]}" in torn[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    for record in records:
        again.release(record.ref)
    assert not segment.exists()
    again.close()


def test_zero_filled_tail_is_a_torn_tail(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    append_tracking(spool, tmp_path, ITEMS)
    spool.close()
    (segment,) = segments(tmp_path)
    with segment.open("ab") as f:
        f.write(bytes(4096))  # what a power cut can leave after a preallocating append

    caplog.set_level(logging.INFO, logger=LOGGER)
    again = Spool(tmp_path)
    assert contents(again.recover()) == ITEMS
    assert any("torn" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    again.close()


def test_segment_holding_only_a_torn_record_is_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    spool.append(*ITEMS[0])
    spool.close()
    (segment,) = segments(tmp_path)
    os.truncate(segment, segment.stat().st_size - 1)

    again = Spool(tmp_path)
    assert again.recover() == []
    assert not segment.exists()
    again.close()


@pytest.mark.parametrize(
    "position",
    [
        pytest.param(lambda start: start, id="magic"),
        pytest.param(lambda start: start + 15, id="body-length"),
        pytest.param(lambda start: start + HEADER_SIZE + 2, id="meta"),
        pytest.param(lambda start: -5, id="body"),
    ],
)
def test_corrupt_middle_record(tmp_path: Path, caplog: pytest.LogCaptureFixture, position) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    offsets = append_tracking(spool, tmp_path, [*ITEMS, ({"after": 1}, b"never read 1\n")])
    spool.close()
    (segment,) = segments(tmp_path)
    original = bytearray(segment.read_bytes())
    where = position(offsets[1])
    if where < 0:
        where += offsets[2]  # a byte at the end of record 1's body
    original[where] ^= 0x20
    segment.write_bytes(original)

    caplog.set_level(logging.INFO, logger=LOGGER)
    again = Spool(tmp_path)
    records = again.recover()
    assert contents(records) == ITEMS[:1]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert str(segment) in message
    assert f"offset {offsets[1]}" in message
    corrupt = segment.with_name(segment.name + ".corrupt")
    assert corrupt.read_bytes() == bytes(original)  # kept whole
    assert segment.read_bytes() == bytes(original[: offsets[1]])  # the good records
    again.close()

    # The good records stay replayable until released; no second warning.
    caplog.clear()
    third = Spool(tmp_path)
    records = third.recover()
    assert contents(records) == ITEMS[:1]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    third.release(records[0].ref)
    assert not segment.exists()
    assert corrupt.read_bytes() == bytes(original)
    third.close()


def test_corrupt_first_record_renames_the_segment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    append_tracking(spool, tmp_path, ITEMS)
    spool.close()
    (segment,) = segments(tmp_path)
    data = bytearray(segment.read_bytes())
    data[HEADER_SIZE] ^= 0xFF
    segment.write_bytes(data)

    caplog.set_level(logging.WARNING, logger=LOGGER)
    again = Spool(tmp_path)
    assert again.recover() == []
    assert not segment.exists()
    assert segment.with_name(segment.name + ".corrupt").read_bytes() == bytes(data)
    assert "offset 0" in caplog.records[0].getMessage()
    again.close()


def test_stale_tmp_files_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / "00000000000000000001-1-000001.seg.tmp"
    fresh = tmp_path / f"{time.time_ns():020d}-1-000002.seg.tmp"
    stale.write_bytes(b"")
    fresh.write_bytes(b"")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    spool = Spool(tmp_path)
    assert spool.recover() == []
    assert not stale.exists()
    assert fresh.exists()  # may be a segment a live process is creating
    spool.close()


# -- ownership ----------------------------------------------------------------------


def test_segment_locked_by_a_live_spool_is_left_alone(tmp_path: Path) -> None:
    first = Spool(tmp_path)
    first.recover()
    for meta, body in ITEMS[:2]:
        first.append(meta, body)

    second = Spool(tmp_path)
    assert second.recover() == []  # flock on a separate open() conflicts in one process
    second.append(*ITEMS[2])
    first.close()

    third = Spool(tmp_path)
    assert contents(third.recover()) == ITEMS[:2]  # not second's: it still lives
    second.close()
    fourth = Spool(tmp_path)
    assert contents(fourth.recover()) == ITEMS[2:]
    third.close()
    fourth.close()


_CHILD = """
import sys
from influxkit.batching.spool import Spool

spool = Spool(sys.argv[1], segment_bytes=16 * 1024)
spool.recover()
n = int(sys.argv[2])

def body(i):
    return b"cpu,host=h%d usage=%d %d\\n" % (i, i, i) * (i % 40 + 1)

for i in range(n):
    spool.append({"i": i, "database": "db"}, body(i))
print("ready", flush=True)
i = n
while True:  # keep appending, so that the kill lands in the middle of a run
    spool.append({"i": i, "database": "db"}, body(i))
    i += 1
"""


def _child_body(i: int) -> bytes:
    return b"cpu,host=h%d usage=%d %d\n" % (i, i, i) * (i % 40 + 1)


def test_sigkill_loses_no_appended_record(tmp_path: Path) -> None:
    n = 60
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path), str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = child.stdout.readline()
        assert line == b"ready\n", child.stderr.read().decode()
        time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    spool = Spool(tmp_path)
    records = spool.recover()
    assert len(segments(tmp_path)) > 1  # the run rotated segments
    assert len(records) >= n
    # Every record read back is whole and in order, the first n included.
    assert [r.meta["i"] for r in records] == list(range(len(records)))
    assert all(r.body == _child_body(r.meta["i"]) for r in records)
    spool.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only")
@pytest.mark.parametrize("forget", [True, False], ids=["forget_after_fork", "close-only"])
def test_forked_child_keeps_the_parents_locks(tmp_path: Path, forget: bool) -> None:
    spool = Spool(tmp_path, segment_bytes=1)
    spool.recover()
    refs = [spool.append(meta, body) for meta, body in ITEMS]
    spool.release(refs[2])  # the current segment is fully released: close() would delete it
    files = segments(tmp_path)

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            if forget:
                spool.forget_after_fork()
            try:
                spool.append({}, b"x")
            except InfluxError as exc:
                code = 0 if "fork" in str(exc) else 2
            spool.release(refs[0])
            spool.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

    assert segments(tmp_path) == files  # the child deleted nothing
    other = Spool(tmp_path)
    assert other.recover() == []  # and the parent's locks are still held
    other.close()

    spool.append(*ITEMS[0])  # the parent goes on
    assert spool.pending() == 3
    spool.close()
    last = Spool(tmp_path)
    assert contents(last.recover()) == [*ITEMS[:2], ITEMS[0]]
    last.close()


def test_forget_after_fork_makes_the_spool_unusable(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    ref = spool.append(*ITEMS[0])
    spool.forget_after_fork()
    with pytest.raises(InfluxError, match="fork"):
        spool.append(*ITEMS[1])
    spool.release(ref)
    spool.close()
    assert len(segments(tmp_path)) == 1  # nothing deleted


# -- concurrency --------------------------------------------------------------------


def test_threads_append_and_release(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=2048)
    spool.recover()
    refs: list[SpoolRef] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        for i in range(25):
            ref = spool.append({"worker": worker, "i": i}, b"m f=%di %d\n" % (i, worker))
            with lock:
                refs.append(ref)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(refs)) == 100
    assert spool.pending() == 100
    spool.close()

    again = Spool(tmp_path)
    records = again.recover()
    assert sorted((r.meta["worker"], r.meta["i"]) for r in records) == [
        (w, i) for w in range(4) for i in range(25)
    ]
    releasers = [
        threading.Thread(target=lambda part=part: [again.release(r.ref) for r in part])
        for part in (records[0::2], records[1::2])
    ]
    for thread in releasers:
        thread.start()
    for thread in releasers:
        thread.join()
    assert again.pending() == 0
    assert segments(tmp_path) == []
    again.close()


# -- property -----------------------------------------------------------------------

_values = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
_metas = st.dictionaries(st.text(st.characters(codec="utf-8"), max_size=8), _values, max_size=4)


@settings(max_examples=50, deadline=None)
@given(
    items=st.lists(st.tuples(_metas, st.binary(max_size=300)), max_size=15),
    segment_bytes=st.integers(min_value=1, max_value=1500),
)
def test_append_then_recover_returns_exactly_the_records(
    tmp_path_factory: pytest.TempPathFactory, items: list, segment_bytes: int
) -> None:
    directory = tmp_path_factory.mktemp("spool")
    spool = Spool(directory, segment_bytes=segment_bytes, fsync=False)
    spool.recover()
    for meta, body in items:
        spool.append(meta, body)
    spool.close()

    again = Spool(directory, fsync=False)
    records = again.recover()
    assert contents(records) == items
    for record in records:
        again.release(record.ref)
    again.close()
    assert segments(directory) == []


# -- misuse and configuration -------------------------------------------------------


def test_config_error_for_a_path_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ConfigError, match="not a directory") as info:
        Spool(path)
    assert str(path) in str(info.value)
    with pytest.raises(ConfigError, match="parent"):
        Spool(path / "below")


def test_config_error_for_bad_segment_bytes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="segment_bytes"):
        Spool(tmp_path, segment_bytes=0)


def test_misuse_raises_influx_errors(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    with pytest.raises(InfluxError, match="once"):
        spool.recover()
    with pytest.raises(InfluxError, match="JSON"):
        spool.append({"when": object()}, b"x")
    with pytest.raises(InfluxError, match="bytes"):
        spool.append({}, "cpu f=1")  # type: ignore[arg-type]
    with pytest.raises(InfluxError, match="not a record"):
        spool.release(SpoolRef("nope.seg", 0))
    ref = spool.append({}, bytearray(b"cpu f=1"))
    spool.close()
    spool.close()  # idempotent
    spool.release(ref)  # after close: a no-op, the record stays for the next start
    with pytest.raises(InfluxError, match="closed"):
        spool.append({}, b"x")
    again = Spool(tmp_path)
    assert [r.body for r in again.recover()] == [b"cpu f=1"]
    again.close()


def test_failed_fsync_refuses_the_batch_and_moves_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    first = spool.append(*ITEMS[0])
    real_fsync = os.fsync

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(InfluxError, match="fsync") as info:
        spool.append(*ITEMS[1])
    assert "Input/output error" in str(info.value)
    assert spool.pending() == 1  # the refused record is not pending
    monkeypatch.setattr(os, "fsync", real_fsync)
    third = spool.append(*ITEMS[2])
    assert third.segment != first.segment  # no more appends after a failed fsync
    spool.close()


def test_failed_write_is_cut_off_and_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    spool.recover()
    first = spool.append(*ITEMS[0])
    real_writev = os.writev

    def short_then_full_disk(fd: int, buffers: list) -> int:
        real_writev(fd, [bytes(buffers[0])[:7]])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "writev", short_then_full_disk)
    with pytest.raises(InfluxError, match="No space left") as info:
        spool.append(*ITEMS[1])
    assert first.segment in str(info.value)
    monkeypatch.setattr(os, "writev", real_writev)
    third = spool.append(*ITEMS[2])
    assert third.segment != first.segment
    spool.close()

    caplog.set_level(logging.INFO, logger=LOGGER)
    again = Spool(tmp_path)
    assert contents(again.recover()) == [ITEMS[0], ITEMS[2]]
    assert not caplog.records  # the partial record was truncated away: nothing torn
    again.close()

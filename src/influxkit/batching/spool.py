"""The durable spool of the batch writer: an append-only log of accepted batches.

In durable mode (``batch={"spool_dir": ...}``) every batch ``write()`` accepts is
appended to a *segment* file in the spool directory and fsynced before ``write()``
returns.  The writer releases a record once the server acknowledged it (or it was
handed to the error callback for good); a segment whose records are all released
is deleted.  At start, :meth:`Spool.recover` hands back what earlier processes left,
so a process killed with SIGKILL loses no point whose ``write()`` returned.
Delivery is at least once: a record whose release did not reach the disk is
replayed, and InfluxDB stores a point written twice (same series, same time) once.

On disk
-------
Segment names sort in creation order: ``{time_ns:020d}-{pid}-{counter:06d}.seg``.
A segment is a sequence of records, each framed as (little-endian)::

    "IKS1" | meta length u32 | body length u64 | crc32(meta + body) u32 | crc32(header) u32
    meta (JSON) | body (line protocol)

The header carries its own crc so that a damaged length is told apart from a
record cut short by a crash: a record whose (valid) header points past the end of
the file, or a file ending inside a header, is a *torn tail* (the process died
during that append, before its ``write()`` returned) and is ignored; anything else
that does not check is *corruption*: reading stops there, the records before it
are recovered and the damaged file is kept as ``*.corrupt`` for inspection.

Ownership
---------
A process owns a segment while it holds ``flock(LOCK_EX)`` on it: the segments it
created and those it recovered.  :meth:`Spool.recover` skips segments it cannot
lock, so two live spools (threads or processes) on one directory never replay the
same records.  A new segment is created under a ``.tmp`` name, locked, then
renamed, so no other process ever sees it unlocked; a segment is unlinked before
its lock is dropped, and a recovering process checks that the file it locked is
still the one at that name.  flock locks belong to the open file description,
which a forked child shares: the child may close its copies of the descriptors
(the lock lasts while the parent holds its own) but must never ``LOCK_UN`` them,
see :meth:`Spool.forget_after_fork`.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from influxkit.errors import ConfigError, InfluxError

__all__ = ["Spool", "SpoolRef", "SpooledRecord"]

_log = logging.getLogger(__name__)

_MAGIC = b"IKS1"
_HEAD = struct.Struct("<4sIQI")  # magic, meta length, body length, crc32(meta + body)
_HEAD_CRC = struct.Struct("<I")  # crc32 of the 20 bytes above
HEADER_SIZE = _HEAD.size + _HEAD_CRC.size
_SEGMENT = ".seg"
_TMP = ".tmp"
_CORRUPT = ".corrupt"
# A .tmp file younger than this may be a segment another live process is creating.
_STALE_TMP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class SpoolRef:
    """One spooled record: its segment's file name and its index in that segment."""

    segment: str
    index: int


@dataclass(frozen=True, slots=True)
class SpooledRecord:
    """A record read back by :meth:`Spool.recover`: its ref, metadata and line protocol."""

    ref: SpoolRef
    meta: dict[str, Any]
    body: bytes


class _Segment:
    """A segment this spool owns: its locked descriptor and which records are released."""

    __slots__ = (
        "fd",
        "name",
        "path",
        "released",
        "remaining",
        "size",
        "sync_error",
        "sync_lock",
        "synced",
        "writable",
    )

    def __init__(self, name: str, path: str, fd: int, *, count: int, size: int) -> None:
        self.name = name
        self.path = path
        self.fd = fd  # holds the flock; -1 once closed
        self.size = size  # bytes of whole records
        self.released = bytearray(count)  # one flag per record
        self.remaining = count  # records not released
        self.writable = False  # the current append target
        self.sync_lock = threading.Lock()  # serialises fsync and close of fd
        self.synced = count  # records known to be on disk
        self.sync_error: OSError | None = None


# Segment names are unique per process (a shared counter) and increase even if the
# wall clock steps back, so that they sort in creation order.
_name_lock = threading.Lock()
_name_counter = itertools.count(1)
_last_ns = 0


def _reset_name_lock() -> None:
    global _name_lock  # noqa: PLW0603 - a lock held by another thread at fork is dead in the child
    _name_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_name_lock)


def _segment_name() -> str:
    global _last_ns  # noqa: PLW0603
    with _name_lock:
        now = max(time.time_ns(), _last_ns + 1)
        _last_ns = now
        counter = next(_name_counter) % 1_000_000
    return f"{now:020d}-{os.getpid()}-{counter:06d}{_SEGMENT}"


class Spool:
    """An fsynced, append-only log of accepted batches in one directory.

    Use: ``recover()`` once (replay what it returns), then ``append()`` each batch
    before acknowledging it to the caller and ``release()`` it once delivered.
    All methods are thread-safe.  Appends from several threads share fsyncs: a
    thread whose record an fsync of another thread already covered returns at once.

    Args:
        directory: the spool directory; created (with parents, mode 0700) if missing.
        segment_bytes: a segment is closed for appends once the next record would
            make it larger than this (a single larger record gets a segment alone).
        fsync: fsync every append before it returns.  Without it a killed process
            loses nothing (the data is in the page cache) but a power cut may.

    Raises:
        ConfigError: the directory cannot be created, is not a directory or is not
            writable, or ``segment_bytes`` is not a positive int.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        segment_bytes: int = 16 * 1024 * 1024,
        fsync: bool = True,
    ) -> None:
        if isinstance(segment_bytes, bool) or not isinstance(segment_bytes, int):
            raise ConfigError(f"spool segment_bytes must be an int, got {segment_bytes!r}")
        if segment_bytes <= 0:
            raise ConfigError(f"spool segment_bytes must be positive, got {segment_bytes}")
        self._path = os.path.abspath(os.fspath(directory))
        self._dir_fd = _open_directory(self._path)
        self._segment_bytes = segment_bytes
        self._fsync = bool(fsync)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._segments: dict[str, _Segment] = {}  # owned segments, by file name
        self._finished: set[str] = set()  # owned segments deleted once fully released
        self._current: _Segment | None = None
        self._pending = 0
        self._recovered = False
        self._appended = False
        self._closed = False
        self._forked = False

    @property
    def directory(self) -> str:
        """The spool directory (absolute)."""
        return self._path

    def __repr__(self) -> str:
        return f"Spool({self._path!r}, pending={self._pending})"

    # -- recovery --------------------------------------------------------------

    def recover(self) -> list[SpooledRecord]:
        """Take over the segments earlier processes left and return their records.

        Records come oldest segment first, in append order within a segment.  The
        segments become this spool's: releasing all records of one deletes it.
        Segments locked by a live spool (in this or another process) are left alone.
        Call once, before the first :meth:`append`.
        """
        with self._lock:
            self._check_usable("recover")
            if self._recovered or self._appended:
                raise InfluxError(
                    f"Spool.recover() is called once, before the first append() (spool "
                    f"{self._path}): a later call would replay records this spool owns"
                )
            self._recovered = True
            try:
                names = sorted(os.listdir(self._path))
            except OSError as exc:
                raise InfluxError(
                    f"cannot list the spool directory {self._path}: {exc.strerror}; "
                    "check that it exists and that this process may read it"
                ) from exc
            for name in names:
                if name.endswith(_SEGMENT + _TMP):
                    self._remove_stale_tmp(name)
            records: list[SpooledRecord] = []
            for name in names:
                if name.endswith(_SEGMENT):
                    records.extend(self._recover_segment(name))
            return records

    def _recover_segment(self, name: str) -> list[SpooledRecord]:
        path = os.path.join(self._path, name)
        fd = _lock_existing(path)
        if fd is None:
            _log.debug("spool segment %s is owned by a live process; left alone", path)
            return []
        try:
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        except OSError as exc:
            os.close(fd)
            raise InfluxError(
                f"cannot read the spool segment {path}: {exc.strerror}; fix its permissions "
                "or move it out of the spool directory (its records would be lost)"
            ) from exc
        parsed, end, problem = _parse(data)
        try:
            if problem is not None and problem[0] == "torn":
                _log.info(
                    "spool segment %s: ignored a torn record at offset %d (%s); the process "
                    "that wrote it died during that append, before its write() returned",
                    path,
                    end,
                    problem[1],
                )
            elif problem is not None:
                fd = self._quarantine(name, fd, data, end=end, good=len(parsed), why=problem[1])
            if not parsed:
                if problem is None or problem[0] == "torn":
                    _unlink_quietly(path)
                os.close(fd)
                return []
        except BaseException:
            if fd >= 0:
                os.close(fd)
            raise
        segment = _Segment(name, path, fd, count=len(parsed), size=end)
        self._segments[name] = segment
        self._pending += len(parsed)
        return [
            SpooledRecord(SpoolRef(name, index), meta, body)
            for index, (meta, body) in enumerate(parsed)
        ]

    def _quarantine(self, name: str, fd: int, data: bytes, *, end: int, good: int, why: str) -> int:
        """Keep a corrupt segment as ``*.corrupt``; its first ``end`` bytes stay a segment.

        Returns the descriptor (locked) of what is now at the segment's name.  Every
        step leaves the directory consistent: the good records stay replayable
        until the new copy replaced the original, which is also kept whole.
        """
        path = os.path.join(self._path, name)
        corrupt = _corrupt_path(path)
        _log.warning(
            "spool segment %s is corrupt at offset %d (%s): the %d record(s) before it are "
            "recovered, the %d byte(s) from there on are not; the file is kept as %s, "
            "inspect it and delete it when done",
            path,
            end,
            why,
            good,
            len(data) - end,
            corrupt,
        )
        try:
            if good == 0:
                if os.path.lexists(corrupt):  # the same file: an earlier attempt linked it
                    os.unlink(path)
                else:
                    os.rename(path, corrupt)
                os.fsync(self._dir_fd)
                return fd
            new_fd, tmp = self._create_locked(name)
            try:
                _write_all(new_fd, (memoryview(data)[:end],))
                os.fsync(new_fd)
                if not (os.path.exists(corrupt) and os.path.samefile(path, corrupt)):
                    try:
                        os.link(path, corrupt)
                    except OSError:  # no hard links on this file system: copy
                        _write_file(corrupt, data)
                os.replace(tmp, path)
                os.fsync(self._dir_fd)
            except BaseException:
                _unlink_quietly(tmp)
                os.close(new_fd)
                raise
        except OSError as exc:
            raise InfluxError(
                f"cannot set aside the corrupt spool segment {path} as {corrupt}: "
                f"{exc.strerror}; move it out of the spool directory by hand"
            ) from exc
        os.close(fd)  # the original, now only at the .corrupt name
        return new_fd

    def _remove_stale_tmp(self, name: str) -> None:
        """Delete a ``.seg.tmp`` left by a process that died creating a segment."""
        path = os.path.join(self._path, name)
        try:
            if time.time() - os.stat(path).st_mtime < _STALE_TMP_SECONDS:
                return
        except FileNotFoundError:
            return
        fd = _lock_existing(path)
        if fd is not None:
            _unlink_quietly(path)
            os.close(fd)

    # -- appending -------------------------------------------------------------

    def append(self, meta: Mapping[str, Any], body: bytes) -> SpoolRef:
        """Write one record and (with ``fsync=True``) fsync it before returning its ref.

        Raises:
            InfluxError: the record could not be written or synced (the batch is
                not accepted), ``meta`` is not JSON-able, or the spool is closed or
                was inherited by a forked child.
        """
        try:
            meta_bytes = orjson.dumps(meta if type(meta) is dict else dict(meta))
        except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
            raise InfluxError(
                f"spool record metadata must be a JSON-able dict with str keys ({exc})"
            ) from exc
        if not isinstance(body, bytes):
            if not isinstance(body, bytearray | memoryview):
                raise InfluxError(
                    f"a spool record body is bytes (encoded line protocol), "
                    f"got {type(body).__name__}"
                )
            body = bytes(body)
        data_crc = zlib.crc32(body, zlib.crc32(meta_bytes))
        head = _HEAD.pack(_MAGIC, len(meta_bytes), len(body), data_crc)
        header = head + _HEAD_CRC.pack(zlib.crc32(head))
        size = len(header) + len(meta_bytes) + len(body)
        with self._lock:
            self._check_usable("append")
            self._appended = True
            segment = self._current
            if segment is None or (segment.released and segment.size + size > self._segment_bytes):
                segment = self._rotate()
            try:
                _write_all(segment.fd, (header, meta_bytes, body))
            except OSError as exc:
                self._abandon(segment)
                raise InfluxError(
                    f"cannot append to the spool segment {segment.path}: {exc.strerror}; "
                    f"the batch was not accepted. Free space in {self._path} or fix its "
                    "permissions"
                ) from exc
            segment.size += size
            index = len(segment.released)
            segment.released.append(0)
            segment.remaining += 1
            self._pending += 1
        if self._fsync:
            error = self._sync(segment, index + 1)
            if error is not None:
                with self._lock:
                    if segment is self._current:
                        self._current = None
                        segment.writable = False
                    if self._segments.get(segment.name) is segment:  # not closed meanwhile
                        self._release_locked(segment, index)
                raise InfluxError(
                    f"cannot fsync the spool segment {segment.path}: {error}; the batch was "
                    f"not accepted. Check the disk holding {self._path}"
                )
        return SpoolRef(segment.name, index)

    def _sync(self, segment: _Segment, written: int) -> str | None:
        """Make the first ``written`` records of ``segment`` durable; an error text or None.

        An fsync covers every record written before it started, so a thread finding
        its record covered by another thread's fsync returns without one.
        """
        with segment.sync_lock:
            if segment.synced >= written:
                return None
            if segment.sync_error is not None:  # after a failed fsync the data is unknown
                return f"{segment.sync_error.strerror} (an earlier fsync failed)"
            if segment.fd < 0:
                return "the spool was closed during the append"
            target = len(segment.released)  # records counted here are fully written
            try:
                os.fsync(segment.fd)
            except OSError as exc:
                segment.sync_error = exc
                return exc.strerror or str(exc)
            segment.synced = target
            return None

    def _rotate(self) -> _Segment:
        """Retire the current segment and create, lock and register a new one."""
        old = self._current
        if old is not None:
            self._current = None
            old.writable = False
            if old.remaining == 0:
                self._delete(old)
        name = _segment_name()
        path = os.path.join(self._path, name)
        try:
            fd, tmp = self._create_locked(name)
            try:
                os.rename(tmp, path)
                if self._fsync:  # the new name must survive a power cut, like the data
                    os.fsync(self._dir_fd)
            except BaseException:
                _unlink_quietly(tmp)
                os.close(fd)
                raise
        except OSError as exc:
            raise InfluxError(
                f"cannot create the spool segment {path}: {exc.strerror}; the batch was not "
                f"accepted. Free space in {self._path} or fix its permissions"
            ) from exc
        segment = _Segment(name, path, fd, count=0, size=0)
        segment.writable = True
        self._segments[name] = segment
        self._current = segment
        return segment

    def _create_locked(self, name: str) -> tuple[int, str]:
        """Create ``name + ".tmp"`` exclusively and lock it: (fd, path)."""
        tmp = os.path.join(self._path, name + _TMP)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        return fd, tmp

    def _abandon(self, segment: _Segment) -> None:
        """After a failed write: cut the partial record off and stop appending here."""
        with contextlib.suppress(OSError):  # else a partial record reads back as a torn tail
            os.ftruncate(segment.fd, segment.size)
        if segment is self._current:
            self._current = None
        segment.writable = False
        if segment.remaining == 0:
            self._delete(segment)

    # -- releasing -------------------------------------------------------------

    def release(self, ref: SpoolRef) -> None:
        """Mark a record done (delivered, or handed to the error callback).

        A segment whose records are all released, and which is not the current
        append target, is deleted.  Releasing twice is a no-op, and so is releasing
        after :meth:`close` (the record stays on disk and is replayed next start).

        Raises:
            InfluxError: ``ref`` was never handed out by this spool.
        """
        with self._lock:
            if self._closed or self._forked or os.getpid() != self._pid:
                return
            segment = self._segments.get(ref.segment)
            if segment is None:
                if ref.segment in self._finished:
                    return
                raise InfluxError(f"{ref!r} is not a record of the spool {self._path}")
            if not 0 <= ref.index < len(segment.released):
                raise InfluxError(f"{ref!r} is not a record of the spool {self._path}")
            self._release_locked(segment, ref.index)

    def _release_locked(self, segment: _Segment, index: int) -> None:
        if segment.released[index]:
            return
        segment.released[index] = 1
        segment.remaining -= 1
        self._pending -= 1
        if segment.remaining == 0 and not segment.writable:
            self._delete(segment)

    def _delete(self, segment: _Segment) -> None:
        """Unlink a fully released segment, then drop its lock (in that order)."""
        try:
            os.unlink(segment.path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            _log.warning(
                "cannot delete the finished spool segment %s (%s); its records will be "
                "replayed (again) at the next start",
                segment.path,
                exc.strerror,
            )
        with segment.sync_lock:
            os.close(segment.fd)
            segment.fd = -1
        del self._segments[segment.name]
        self._finished.add(segment.name)

    def pending(self) -> int:
        """Records appended or recovered and not yet released."""
        with self._lock:
            return self._pending

    # -- closing ---------------------------------------------------------------

    def close(self) -> None:
        """Close the files; segments with unreleased records stay for the next start.

        The current segment is deleted if all its records were released.  Idempotent.
        """
        with self._lock:
            if self._closed:
                return
            if self._forked or os.getpid() != self._pid:
                self._forget()
                self._closed = True
                return
            self._closed = True
            current, self._current = self._current, None
            if current is not None:
                current.writable = False
                if current.remaining == 0:
                    self._delete(current)
            for segment in self._segments.values():
                with segment.sync_lock:
                    if self._fsync and segment.synced < len(segment.released):
                        try:  # an append in flight: its thread finds it synced
                            os.fsync(segment.fd)
                            segment.synced = len(segment.released)
                        except OSError as exc:
                            segment.sync_error = exc
                    os.close(segment.fd)
                    segment.fd = -1
            self._segments.clear()
            os.close(self._dir_fd)
            self._dir_fd = -1

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's segments without touching them.

        The child's descriptors share the parent's open file descriptions, hence
        its flock locks.  They are closed here (a lock lasts while any descriptor
        of its description is open, so the parent keeps it) and never unlocked,
        and no file is deleted.  The spool is unusable afterwards: ``append``
        raises, ``release`` and ``close`` do nothing.  Call it only in the child.
        """
        self._forget()

    def _forget(self) -> None:
        # No lock is taken: a thread of the parent may have held one at fork time.
        self._lock = threading.Lock()
        for segment in self._segments.values():
            segment.sync_lock = threading.Lock()
            if segment.fd >= 0:
                _close_quietly(segment.fd)
                segment.fd = -1
        self._segments = {}
        self._current = None
        if self._dir_fd >= 0:
            _close_quietly(self._dir_fd)
            self._dir_fd = -1
        self._forked = True

    def _check_usable(self, operation: str) -> None:
        if self._forked or os.getpid() != self._pid:
            raise InfluxError(
                f"cannot {operation}: this Spool ({self._path}) was inherited from process "
                f"{self._pid} through a fork, and that process owns its segments. Create a "
                "new Spool in the child process, on another spool directory"
            )
        if self._closed:
            raise InfluxError(
                f"cannot {operation}: the spool {self._path} is closed; open a new Spool "
                "(and recover() it) to go on"
            )


# -- helpers -------------------------------------------------------------------


def _open_directory(path: str) -> int:
    """Create the spool directory if needed and open it (for fsync after a create)."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except FileExistsError:
        raise ConfigError(
            f"the spool directory {path!r} (batch.spool_dir) exists and is not a directory; "
            "point spool_dir at a directory (it is created if missing)"
        ) from None
    except NotADirectoryError:
        raise ConfigError(
            f"cannot create the spool directory {path!r} (batch.spool_dir): a parent of it "
            "is a file; point spool_dir at a directory"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot create the spool directory {path!r} (batch.spool_dir): {exc.strerror}; "
            "create it yourself or point spool_dir at a writable place"
        ) from exc
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"the spool directory {path!r} (batch.spool_dir) is not writable by this process; "
            "fix its permissions or point spool_dir at a writable place"
        )
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(
            f"cannot open the spool directory {path!r} (batch.spool_dir): {exc.strerror}; "
            "fix its permissions or point spool_dir at another place"
        ) from exc


def _lock_existing(path: str) -> int | None:
    """Open and lock a file another process may own: its fd, or None if locked or gone.

    The lock is checked to be on the file still at ``path``: its owner unlinks a
    finished file before dropping the lock, so a lock won on an unlinked file is
    worthless.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InfluxError(
            f"cannot open the spool file {path}: {exc.strerror}; fix its permissions or "
            "move it out of the spool directory"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        locked, current = os.fstat(fd), os.stat(path)
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    if (locked.st_dev, locked.st_ino) != (current.st_dev, current.st_ino):
        os.close(fd)
        return None
    return fd


def _parse(data: bytes) -> tuple[list[tuple[dict[str, Any], bytes]], int, tuple[str, str] | None]:
    """Read the records of a segment: (records, end of the last good one, problem).

    ``problem`` is None, ``("torn", why)`` for a record cut short at the end of the
    file (or zeros where a record would start), or ``("corrupt", why)``.
    """
    records: list[tuple[dict[str, Any], bytes]] = []
    view = memoryview(data)
    offset, size = 0, len(data)
    while offset < size:
        if size - offset < HEADER_SIZE or data[offset : offset + len(_MAGIC)] != _MAGIC:
            if data.count(0, offset) == size - offset:  # file system preallocation, power cut
                zeros = f"{size - offset} zero byte(s) where a record would start"
                return records, offset, ("torn", zeros)
            if size - offset < HEADER_SIZE:
                return records, offset, ("torn", "the file ends inside a record header")
            magic = data[offset : offset + len(_MAGIC)]
            return records, offset, ("corrupt", f"bad magic {magic!r}")
        _, meta_len, body_len, data_crc = _HEAD.unpack_from(data, offset)
        (header_crc,) = _HEAD_CRC.unpack_from(data, offset + _HEAD.size)
        if zlib.crc32(view[offset : offset + _HEAD.size]) != header_crc:
            return records, offset, ("corrupt", "the record header fails its crc")
        meta_start = offset + HEADER_SIZE
        body_start = meta_start + meta_len
        end = body_start + body_len
        if end > size:
            missing = end - size
            return records, offset, ("torn", f"the file ends {missing} byte(s) before the record")
        meta_bytes, body = data[meta_start:body_start], data[body_start:end]
        if zlib.crc32(body, zlib.crc32(meta_bytes)) != data_crc:
            return records, offset, ("corrupt", "the record fails its crc")
        try:
            meta = orjson.loads(meta_bytes)
        except orjson.JSONDecodeError:
            return records, offset, ("corrupt", "the record metadata is not JSON")
        if not isinstance(meta, dict):
            return records, offset, ("corrupt", "the record metadata is not a JSON object")
        records.append((meta, body))
        offset = end
    return records, offset, None


def _write_all(fd: int, parts: Sequence[bytes | memoryview]) -> None:
    """``writev`` until every byte of ``parts`` is written (short writes are legal)."""
    views = [memoryview(part) for part in parts if len(part)]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]


def _write_file(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        _write_all(fd, (data,))
        os.fsync(fd)
    finally:
        os.close(fd)


def _corrupt_path(path: str) -> str:
    """``path + ".corrupt"``, or a free variant; the same name if it already is this file."""
    candidate = path + _CORRUPT
    number = 1
    while os.path.lexists(candidate):
        if os.path.samefile(path, candidate):
            return candidate  # an earlier attempt linked it, then died
        candidate = f"{path}.{number}{_CORRUPT}"
        number += 1
    return candidate


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _close_quietly(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)

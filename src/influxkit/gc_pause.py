"""A pause of the cyclic garbage collector while a large write or answer is digested.

Used by the local engine's writes (above :data:`PAUSE_FROM_BYTES`) and by the decoders
of query answers (orjson's objects are many, and a full pass over them costs more than
the decode itself).

Why: the local engine's write of N lines makes several objects a line (the parsed
lines, their field tuples) that all live until the write ends. As they pile up, the
collector's full passes run, each walking every one of them, and the rest of the heap,
while holding the GIL: 200-400 ms per pass for a 300,000-line write on the test
machine, 25-50 ms for each 10,000-line batch, during which the event loop (another
thread, the same GIL) cannot run a single callback. With the collector paused for the
write no such pass starts; the objects are freed by reference counting when the write
returns, so there is nothing extra left to walk when it resumes. The pause covers only
writes of at least :data:`PAUSE_FROM_BYTES`.

The collector is process-wide, so is the pause. Pauses that overlap (writes in several
threads) share one: it ends when the last of them does, and only ever resumes a
collector that was enabled when it began. A write that starts more than
:data:`JOIN_WITHIN` seconds into a pause does not extend it (it runs as if unpaused once
the others end), so writes that keep overlapping cannot keep the collector off for good.

Example:
    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator

__all__ = ["JOIN_WITHIN", "PAUSE_FROM_BYTES", "gc_paused"]

# A write body from this size on is written with the collector paused (~2,000 lines).
PAUSE_FROM_BYTES = 1 << 16
# A pause this old (seconds) is not extended by a write that starts now.
JOIN_WITHIN = 1.0


class _Pause:
    """The one pause of the process: who holds it, since when, what to resume."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.began = 0.0
        self.resume = False  # whether the collector was enabled when the pause began

    def join(self) -> bool:
        """Hold the pause (starting it if none runs); ``False`` if it is too old to join."""
        with self.lock:
            if self.holders == 0:
                self.began = time.monotonic()
                self.resume = gc.isenabled()
                gc.disable()
            elif time.monotonic() - self.began >= JOIN_WITHIN:
                return False
            self.holders += 1
            return True

    def leave(self) -> None:
        with self.lock:
            self.holders -= 1
            if self.holders == 0 and self.resume:
                gc.enable()


_pause = _Pause()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection during the block (nor in other threads meanwhile)."""
    joined = _pause.join()
    try:
        yield
    finally:
        if joined:
            _pause.leave()

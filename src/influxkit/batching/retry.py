"""When the batch writer tries a batch again, and how long it waits first.

The policy is immutable and has no clock of its own: the writer passes the attempt
number and the time spent so far, so the same decisions are easy to test.

Example:
    >>> import random
    >>> policy = RetryPolicy(max_retries=3, max_retry_time=60, interval=1.0, max_interval=8)
    >>> 0 <= policy.delay(3, None, random.Random(1)) <= 4.0   # full jitter in [0, 1 * 2**2]
    True
    >>> policy.delay(1, retry_after=5.0, rng=random.Random(1))  # the server asked for 5 s
    5.0
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from influxkit.errors import InfluxError

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, honouring ``Retry-After``.

    ``attempt`` counts retries from 1: the first retry waits a random time in
    ``[0, interval]``, the second in ``[0, 2 * interval]``, then ``4 *`` ... up to
    ``max_interval``. Full jitter spreads the retries of many writers that failed
    together (a server restart) instead of bringing them back in one wave.
    """

    max_retries: int
    max_retry_time: float
    interval: float
    max_interval: float

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_interval, self.interval * 2.0 ** (attempt - 1))
        wait = rng.uniform(0.0, ceiling)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait

    def next_delay(
        self, error: BaseException, attempt: int, elapsed: float, rng: random.Random
    ) -> float | None:
        """The wait before retry ``attempt`` after ``error``, or ``None``: give up.

        Gives up on errors that cannot succeed later (4xx, bad data), after
        ``max_retries`` retries, and when the wait would end past ``max_retry_time``
        from the first attempt.
        """
        if not isinstance(error, InfluxError) or not error.retryable:
            return None
        if attempt > self.max_retries:
            return None
        wait = self.delay(attempt, getattr(error, "retry_after", None), rng)
        if elapsed + wait > self.max_retry_time:
            return None
        return wait

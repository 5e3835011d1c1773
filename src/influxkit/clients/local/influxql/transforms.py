"""InfluxQL's transformations: functions of a series' successive values, as 1.x computes them.

``derivative``, ``non_negative_derivative``, ``difference``,
``non_negative_difference``, ``moving_average``, ``cumulative_sum`` and ``elapsed``
take a stream of ``(time, value)`` (a field's points, or the windows of an aggregate
with GROUP BY time) in output order and give a stream of ``(time, value)``.  The
rules are 1.x's reducers (``query/functions.go``):

* ``derivative`` / ``difference`` keep only the first of several points with one
  time; a derivative is ``(v - prev) / ((t - prev_t) / unit)`` (elapsed time counted
  forwards in either order); ``non_negative_*`` drop results whose difference is
  negative;
* ``moving_average(f, n)`` averages the last n values with a running sum (1.x's
  float arithmetic), from the n-th point on;
* ``cumulative_sum`` keeps the value's type; ``elapsed`` is ``(t - prev_t) // unit``
  and keeps points of equal time (0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["TRANSFORMS", "transform"]

#: The transformation functions.
TRANSFORMS = frozenset(
    {
        "derivative",
        "non_negative_derivative",
        "difference",
        "non_negative_difference",
        "moving_average",
        "cumulative_sum",
        "elapsed",
    }
)

Stream = list[tuple[int, Any]]


def _derivative(
    points: Sequence[tuple[int, Any]], unit: int, ascending: bool, nonneg: bool
) -> Stream:
    out: Stream = []
    prev: tuple[int, Any] | None = None
    curr: tuple[int, Any] | None = None
    for t, v in points:
        if curr is not None and curr[0] == t:
            continue
        prev, curr = curr, (t, v)
        if prev is None:
            continue
        diff = float(v) - float(prev[1])
        elapsed = t - prev[0]
        if not ascending:
            elapsed = -elapsed
        if nonneg and diff < 0:
            continue
        out.append((t, diff / (float(elapsed) / float(unit))))
    return out


def _difference(points: Sequence[tuple[int, Any]], nonneg: bool) -> Stream:
    out: Stream = []
    curr: tuple[int, Any] | None = None
    for t, v in points:
        if curr is not None and curr[0] == t:
            continue
        prev, curr = curr, (t, v)
        if prev is None:
            continue
        diff = v - prev[1]
        if nonneg and diff < 0:
            continue
        out.append((t, diff))
    return out


def _moving_average(points: Sequence[tuple[int, Any]], n: int) -> Stream:
    out: Stream = []
    buffer: list[Any] = []
    pos = 0
    total: Any = 0 if points and all(v.__class__ is int for _, v in points) else 0.0
    for t, v in points:
        if len(buffer) < n:
            buffer.append(v)
        else:
            total -= buffer[pos]
            buffer[pos] = v
        total += v
        pos = (pos + 1) % n
        if len(buffer) == n:
            out.append((t, total / n))
    return out


def _cumulative_sum(points: Sequence[tuple[int, Any]]) -> Stream:
    out: Stream = []
    total: Any = None
    for t, v in points:
        total = v if total is None else total + v
        out.append((t, total))
    return out


def _elapsed(points: Sequence[tuple[int, Any]], unit: int) -> Stream:
    out: Stream = []
    prev: int | None = None
    for t, _ in points:
        if prev is not None:
            delta = t - prev
            out.append((t, delta // unit if delta >= 0 else -((-delta) // unit)))
        prev = t
    return out


def transform(
    name: str, points: Sequence[tuple[int, Any]], *, unit: int, n: int, ascending: bool
) -> Stream:
    """Apply transformation ``name`` to ``points`` (in output order)."""
    if name in ("derivative", "non_negative_derivative"):
        return _derivative(points, unit, ascending, name.startswith("non_negative"))
    if name in ("difference", "non_negative_difference"):
        return _difference(points, name.startswith("non_negative"))
    if name == "moving_average":
        return _moving_average(points, n)
    if name == "cumulative_sum":
        return _cumulative_sum(points)
    return _elapsed(points, unit)

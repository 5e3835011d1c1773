"""InfluxQL's aggregates and selectors over one window of one series, as 1.x computes them.

Input: the window's points ``(time, value, row)`` in time order, missing values
left out.  Output: a point ``(time, value, row)`` or ``None`` (no value here), or
for ``top`` / ``bottom`` / ``distinct`` a list of points.  ``time`` is ``None``
when the function gives no time of its own (aggregates: the row then takes the
window's start); ``row`` says which input row a selector picked, so that the
other columns of a ``SELECT max(v), host`` come from that point.

The rules are 1.x's reducers (``query/functions.go``, ``call_iterator.go``):

* ``mean`` / ``median`` / ``stddev`` are floats; ``sum`` / ``spread`` keep the type;
  ``median`` of an even count is ``lo + (hi - lo) / 2``; ``stddev`` is the sample
  deviation, NaN (shown as null) for fewer than two values;
* ``first`` / ``last``: earliest / latest time, a tie won by the greater value
  (for booleans ``first`` prefers false and ``last`` true);
* ``min`` / ``max``: the value, a tie won by the earliest time;
* ``mode``: the most frequent value (with no value seen twice, the smallest; among
  equally frequent ones 1.x's choice follows its unstable sort, see :func:`_mode`);
* ``percentile(f, p)``: nearest rank, ``floor(n * p / 100 + 0.5) - 1``, no value
  outside the range;
* ``top`` / ``bottom(f, [tags...,] n)``: the n largest / smallest (a tie on value
  won by the earlier time), output by time; with tags, first the best point of
  each tag combination;
* ``distinct``: the distinct values, sorted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from influxkit.clients.local.influxql.errors import StatementError

__all__ = ["FLOAT_RESULTS", "Point", "check_type", "reduce"]

Point = tuple[int | None, Any, int | None]

#: Functions whose value is a float whatever the input type.
FLOAT_RESULTS = frozenset({"mean", "median", "stddev"})
_NUMERIC_ONLY = frozenset(
    {"mean", "sum", "median", "stddev", "spread", "percentile", "top", "bottom"}
    | {"derivative", "non_negative_derivative", "difference", "non_negative_difference"}
    | {"moving_average", "cumulative_sum"}
)
_NO_STRINGS = frozenset({"min", "max"})
_INT64 = 2**63


def check_type(name: str, kind: str) -> None:
    """Refuse ``name()`` on a field of InfluxQL type ``kind`` as 1.x does.

    Raises:
        StatementError: e.g. ``unsupported mean iterator type: *query.stringInterruptIterator``.
    """
    if kind in ("string", "boolean") and (
        name in _NUMERIC_ONLY or (name in _NO_STRINGS and kind == "string")
    ):
        raise StatementError(f"unsupported {name} iterator type: *query.{kind}InterruptIterator")


def _wrap(value: int) -> int:
    return ((value + _INT64) % (2 * _INT64)) - _INT64


def _sum(points: Sequence[Point]) -> Point:
    values = [p[1] for p in points]
    if all(v.__class__ is int for v in values):
        return (None, _wrap(sum(values)), None)
    total = 0.0
    for v in values:
        total += v
    return (None, total, None)


def _mean(points: Sequence[Point]) -> Point:
    total = 0.0
    for p in points:
        total += p[1]
    return (None, total / len(points), None)


def _median(points: Sequence[Point]) -> Point:
    values = sorted(p[1] for p in points)
    n = len(values)
    if n % 2 == 0:
        lo, hi = values[n // 2 - 1], values[n // 2]
        return (None, float(lo) + float(hi - lo) / 2, None)
    return (None, float(values[n // 2]), None)


def _stddev(points: Sequence[Point]) -> Point:
    values = [p[1] for p in points if not (isinstance(p[1], float) and math.isnan(p[1]))]
    if len(points) < 2 or len(values) < 2:
        return (None, math.nan, None)
    mean = 0.0
    for i, v in enumerate(values, 1):
        mean += (v - mean) / i
    variance = 0.0
    for v in values:
        variance += (v - mean) ** 2
    return (None, math.sqrt(variance / (len(values) - 1)), None)


def _spread(points: Sequence[Point]) -> Point:
    values = [p[1] for p in points]
    return (None, max(values) - min(values), None)


def _mode(points: Sequence[Point]) -> Point:
    # 1.x's ModeReduceSlice: values sorted, a run competes only from its second point
    # on (so with no repeated value the smallest wins), and a tie in frequency goes to
    # the later run unless it began after the point where the leader reached it.  1.x
    # sorts with Go's unstable sort, so among equal counts its choice can differ.
    ordered = sorted(points, key=lambda p: p[1])
    best_count = 0
    current = best = ordered[0][1]
    current_time = best_time = ordered[0][0]
    count = 0
    for t, v, _ in ordered:
        if v != current:
            count, current, current_time = 1, v, t
            continue
        count += 1
        if best_count > count or (best_count == count and current_time > best_time):
            continue
        best_count, best, best_time = count, v, t
    return (None, best, None)


def _first(points: Sequence[Point]) -> Point:
    best = points[0]
    for p in points[1:]:
        if p[0] < best[0] or (p[0] == best[0] and _tie_wins(p[1], best[1], first=True)):
            best = p
    return best


def _last(points: Sequence[Point]) -> Point:
    best = points[0]
    for p in points[1:]:
        if p[0] > best[0] or (p[0] == best[0] and _tie_wins(p[1], best[1], first=False)):
            best = p
    return best


def _tie_wins(candidate: Any, current: Any, *, first: bool) -> bool:
    if candidate.__class__ is bool:
        return (not candidate and current) if first else (candidate and not current)
    return bool(candidate > current)


def _min(points: Sequence[Point]) -> Point:
    best = points[0]
    for p in points[1:]:
        if p[1] < best[1] or (p[1] == best[1] and p[0] < best[0]):
            best = p
    return best


def _max(points: Sequence[Point]) -> Point:
    best = points[0]
    for p in points[1:]:
        if p[1] > best[1] or (p[1] == best[1] and p[0] < best[0]):
            best = p
    return best


def _percentile(points: Sequence[Point], percent: float) -> Point | None:
    n = len(points)
    index = math.floor(n * percent / 100.0 + 0.5) - 1
    if index < 0 or index >= n:
        return None
    ordered = sorted(points, key=lambda p: p[1])
    return ordered[index]


def _top_bottom(
    points: Sequence[Point], n: int, *, top: bool, keys: list[Any] | None
) -> list[Point]:
    candidates = list(points)
    if keys is not None:
        # The best point of each tag combination first (1.x's inner max()/min()).
        best: dict[Any, Point] = {}
        for p in candidates:
            key = keys[p[2]] if p[2] is not None else None
            kept = best.get(key)
            if (
                kept is None
                or (p[1] > kept[1] if top else p[1] < kept[1])
                or (p[1] == kept[1] and p[0] < kept[0])
            ):
                best[key] = p
        candidates = list(best.values())
    # The n greatest by (value, earlier time first), then by time for output.
    if top:
        ranked = sorted(candidates, key=lambda p: (-_rank(p[1]), p[0]))
    else:
        ranked = sorted(candidates, key=lambda p: (_rank(p[1]), p[0]))
    chosen = ranked[:n]
    return sorted(chosen, key=lambda p: p[0])


def _rank(value: Any) -> float:
    return float(value)


def _distinct(points: Sequence[Point]) -> list[Point]:
    seen = sorted({p[1] for p in points}, key=_distinct_key)
    return [(None, v, None) for v in seen]


def _distinct_key(value: Any) -> tuple[int, Any]:
    return (0, value) if not isinstance(value, str) else (1, value)


_SIMPLE: dict[str, Callable[[Sequence[Point]], Point]] = {
    "sum": _sum,
    "mean": _mean,
    "median": _median,
    "stddev": _stddev,
    "spread": _spread,
    "mode": _mode,
    "first": _first,
    "last": _last,
    "min": _min,
    "max": _max,
}


def reduce(
    name: str,
    points: Sequence[Point],
    *,
    argument: float | int | None = None,
    keys: list[Any] | None = None,
) -> Point | list[Point] | None:
    """Apply function ``name`` to one window's ``points``.

    ``argument`` is percentile's percentage or top / bottom's count; ``keys`` maps a
    row to its tag combination for ``top(f, tag, n)``.
    """
    if name == "count":
        return (None, len(points), None) if points else None
    if not points:
        return [] if name in ("top", "bottom", "distinct") else None
    if name == "distinct":
        return _distinct(points)
    if name in ("top", "bottom"):
        return _top_bottom(points, int(argument or 0), top=name == "top", keys=keys)
    if name == "percentile":
        return _percentile(points, float(argument or 0))
    return _SIMPLE[name](points)

"""Stream values: tables already read, and a ``from()`` whose read waits for ``range()``."""

from __future__ import annotations

from dataclasses import dataclass, field

from influxkit.clients.local.flux.errors import Loc
from influxkit.clients.local.flux.table import Table
from influxkit.clients.local.flux.values import Closure

__all__ = ["PendingRead", "Stream"]


@dataclass(slots=True)
class Stream:
    """A stream of tables that has been read."""

    tables: list[Table]


@dataclass(slots=True)
class PendingRead:
    """``from(bucket:)`` not read yet: its bounds once ``range`` sets them, pushed-down filters.

    Attributes:
        filters: ``(fn, keep_empty)`` for each ``filter()`` piped straight after ``range``.
    """

    bucket: str
    loc: Loc
    start: int | None = None
    stop: int | None = None
    filters: list[tuple[Closure, bool]] = field(default_factory=list)

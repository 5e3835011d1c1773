"""The result of InfluxQL statements, before it is shaped for an endpoint.

A statement gives a list of :class:`Series` (1.x's ``models.Row``: a name, the
GROUP BY tags, columns, and rows of values with ``time`` as integer nanoseconds
first) or an error.  :mod:`.shape_v1` writes these as 1.x's ``/query`` JSON,
:mod:`.shape_v3` as InfluxDB 3's table with ``iox::measurement``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Result", "Series"]


@dataclass(slots=True)
class Series:
    """One series of a result.

    Attributes:
        name: the measurement (or ``databases``, ``measurements`` ...; ``None`` for
            results 1.x sends without a name, such as ``SHOW SERIES``).
        tags: the GROUP BY tags and their values (``""`` when a series lacks one), or
            ``None`` when the statement had none.
        columns: column names, ``time`` first when there is a time.
        values: the rows.
        timed: whether the first column is the time (SELECT results, not SHOW ones).
    """

    name: str | None
    tags: dict[str, str] | None
    columns: list[str]
    values: list[list[Any]]
    timed: bool = False


@dataclass(slots=True)
class Result:
    """One statement's answer: its series, or the error 1.x reports for it.

    Attributes:
        kind: what the statement was (``select``, ``show_databases``,
            ``show_retention_policies``, ``show``, ``ddl``): the v3 shape differs.
        timezone: the statement's ``tz()`` zone name, for writing its times.
        status: the HTTP status InfluxDB 3 gives the error (400; 405 for what it
            parses but does not run).
    """

    statement_id: int
    series: list[Series] = field(default_factory=list)
    error: str | None = None
    kind: str = "select"
    timezone: str | None = None
    status: int = 400

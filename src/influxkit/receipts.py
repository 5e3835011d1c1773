"""Map the lines a server rejected back to the caller's records.

Servers number rejected lines over the request body, which the caller never saw; a
write of a list of records wants to know *which record*. The mapping is worked out
only when something was rejected, from the records and the body as sent: a Point or
dict is one line; a ``str``/``bytes`` record is as many lines as the parser numbers in
it (InfluxDB 3 counts neither blank lines nor comments, and a quoted newline does not
end a line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from influxkit.clients.base import Rejected
from influxkit.errors import LineError
from influxkit.lineprotocol.parse import numbered_lines

__all__ = ["rejections"]


def _lines_of(record: Any) -> int:
    if isinstance(record, (bytes, bytearray, memoryview)):
        record = bytes(record).decode("utf-8", "replace")
    if isinstance(record, str):
        return len(numbered_lines(record))
    return 1


def rejections(records: Any, body: bytes, errors: Sequence[LineError]) -> tuple[Rejected, ...]:
    """One :class:`Rejected` per line error, with the record index and the full line."""
    lines = numbered_lines(body.decode("utf-8", "replace"))
    owners: list[int] | None
    if isinstance(records, (str, bytes, bytearray, memoryview, Mapping)) or not isinstance(
        records, Sequence
    ):
        owners = [0] * len(lines)
    else:
        owners = [i for i, rec in enumerate(records) for _ in range(_lines_of(rec))]
        if len(owners) != len(lines):  # cannot be matched line for line: say so, not guess
            owners = None
    out = []
    for err in errors:
        n = err.line_number
        inside = 0 < n <= len(lines)
        out.append(
            Rejected(
                record=owners[n - 1] if owners is not None and inside else None,
                line_number=n,
                line=lines[n - 1] if inside else err.original_line,
                message=err.message,
            )
        )
    return tuple(out)

"""The parsed form of a line, shared by the parser, the encoder and the local engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from influxkit.errors import InvalidRecord, LineError

__all__ = ["FieldType", "FieldValue", "Line", "ParseResult", "UInt"]


class UInt(int):
    """An unsigned integer field value (``u`` suffix); plain ``int`` encodes as ``i``.

    Example:
        >>> from influxkit import Point, UInt
        >>> Point("m").field("n", UInt(3)).time(1).to_line_protocol()
        'm n=3u 1'
    """

    __slots__ = ()

    def __new__(cls, value: int) -> UInt:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRecord(f"UInt needs an int, got {type(value).__name__}")
        if value < 0 or value > 2**64 - 1:
            raise InvalidRecord(f"UInt must be in 0..2**64-1, got {value}")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"UInt({int(self)})"


class FieldType(enum.Enum):
    """The five field types of line protocol, named as InfluxDB 3 names them."""

    FLOAT = "float"
    INTEGER = "integer"
    UINTEGER = "uinteger"
    STRING = "string"
    BOOLEAN = "boolean"


FieldValue = float | int | str | bool


@dataclass(frozen=True, slots=True)
class Line:
    """One parsed line.

    ``tags`` and ``fields`` keep the order they had in the line (duplicates too: the
    parser does not judge them, the engine does, as InfluxDB 3 does). ``timestamp`` is
    the integer as written, before any precision is applied; ``None`` when absent.
    """

    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, FieldType, FieldValue], ...]
    timestamp: int | None


@dataclass(slots=True)
class ParseResult:
    """What a parse produced: the good lines with their line numbers, and the errors."""

    lines: list[tuple[int, Line]]
    errors: list[LineError]

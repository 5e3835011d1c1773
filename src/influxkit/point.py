"""``Point``: build one line protocol record by chaining, or in one call."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from influxkit.errors import InvalidRecord
from influxkit.lineprotocol.precision import time_to_nanos

__all__ = ["Point"]

_DICT_KEYS = ("measurement", "tags", "fields", "time")


class Point:
    """One record: a measurement, tags, fields and an optional time.

    Build it by chaining (each call returns the point) or in one call; the two are equal.
    The time is kept as int64 nanoseconds: an ``int`` is read in ``precision`` (``"ns"``
    by default, ``"auto"`` guesses as InfluxDB 3 does), a ``datetime`` (naive means UTC)
    or an ISO-8601 string is converted exactly. Encoding with a coarser write precision
    rounds the time down to it.

    A tag set to ``None`` or ``""`` is removed (line protocol has no empty tag value), as
    is a field set to ``None``. Tag values that are numbers are stored as their ``str``.
    Values are checked when the point is encoded: NaN, infinity, ints outside int64 and
    types other than ``float``, ``int``, :class:`~influxkit.UInt`, ``bool`` and ``str``
    raise :class:`~influxkit.errors.InvalidRecord`.

    Example:
        >>> from influxkit.point import Point
        >>> p = Point("cpu").tag("host", "a").field("usage", 0.5).field("cores", 8)
        >>> p.time(1_700_000_000, precision="s").to_line_protocol()
        'cpu,host=a usage=0.5,cores=8i 1700000000000000000'
        >>> p == Point("cpu", tags={"host": "a"}, fields={"usage": 0.5, "cores": 8},
        ...            time="2023-11-14T22:13:20Z")
        True
        >>> p.to_line_protocol(precision="s")
        'cpu,host=a usage=0.5,cores=8i 1700000000'
    """

    __slots__ = ("_fields", "_key", "_measurement", "_tags", "_time")

    _measurement: str
    _tags: dict[str, str]
    _fields: dict[str, Any]
    _time: int | None
    _key: str | None  # the encoded series key, memoised by the encoder; reset by tag()

    def __init__(
        self,
        measurement: str,
        tags: Mapping[str, Any] | None = None,
        fields: Mapping[str, Any] | None = None,
        time: Any = None,
        precision: str = "ns",
    ) -> None:
        if not isinstance(measurement, str) or not measurement:
            raise InvalidRecord(f"measurement must be a non-empty str, not {measurement!r}")
        self._measurement = measurement
        self._tags = {}
        self._fields = {}
        self._time = None
        self._key = None
        if tags:
            for key, value in tags.items():
                self.tag(key, value)
        if fields:
            for key, value in fields.items():
                self.field(key, value)
        if time is not None:
            self.time(time, precision)

    def tag(self, key: str, value: Any) -> Point:
        """Set tag ``key`` (``None`` or ``""`` removes it); returns the point."""
        if value is None or value == "":
            self._tags.pop(key, None)
        else:
            if type(value) is not str:
                if isinstance(value, str):
                    value = str.__str__(value)
                elif isinstance(value, (int, float)):
                    value = str(value)
                else:
                    raise InvalidRecord(
                        f"measurement {self._measurement!r}: tag {key!r} value must be a str "
                        f"(or a number), not {type(value).__name__} ({value!r:.60})"
                    )
            self._tags[key] = value
        self._key = None
        return self

    def field(self, key: str, value: Any) -> Point:
        """Set field ``key`` (``None`` removes it); returns the point."""
        if value is None:
            self._fields.pop(key, None)
        else:
            self._fields[key] = value
        return self

    def time(self, value: Any, precision: str = "ns") -> Point:
        """Set the time (``None`` clears it: the server assigns its own); returns the point.

        Raises:
            InvalidRecord: not an int, datetime or ISO-8601 string, or outside int64 ns.
        """
        if value is None:
            self._time = None
        else:
            try:
                self._time = time_to_nanos(value, precision)
            except InvalidRecord as exc:
                raise InvalidRecord(f"measurement {self._measurement!r}: {exc.message}") from None
        return self

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], precision: str = "ns") -> Point:
        """A point from ``{"measurement", "tags", "fields", "time"}`` (int time in ``precision``).

        Raises:
            InvalidRecord: an unknown key, or no measurement.
        """
        unknown = [k for k in record if k not in _DICT_KEYS]
        if unknown or "measurement" not in record:
            raise InvalidRecord(
                f"a point dict has the keys 'measurement' (required), 'tags', 'fields' and "
                f"'time'; got {sorted(map(repr, record))}"
            )
        return cls(
            record["measurement"],
            tags=record.get("tags"),
            fields=record.get("fields"),
            time=record.get("time"),
            precision=precision,
        )

    @property
    def measurement(self) -> str:
        """The measurement (table) name."""
        return self._measurement

    @property
    def tags(self) -> Mapping[str, str]:
        """The tags, as a read-only view."""
        return MappingProxyType(self._tags)

    @property
    def fields(self) -> Mapping[str, Any]:
        """The fields, as a read-only view."""
        return MappingProxyType(self._fields)

    @property
    def time_ns(self) -> int | None:
        """The time in nanoseconds since the epoch, or ``None``."""
        return self._time

    def to_line_protocol(self, precision: str = "ns") -> str:
        """This point as one line of line protocol, its time in ``precision``.

        Raises:
            InvalidRecord: the point cannot be encoded (see the class docstring).
        """
        from influxkit.lineprotocol.encode import encode_lines

        return encode_lines(self, precision=precision)[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Point):
            return NotImplemented
        return (
            self._measurement == other._measurement
            and self._time == other._time
            and self._tags == other._tags
            and _typed(self._fields) == _typed(other._fields)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        parts = [repr(self._measurement)]
        if self._tags:
            parts.append(f"tags={self._tags!r}")
        if self._fields:
            parts.append(f"fields={self._fields!r}")
        if self._time is not None:
            parts.append(f"time={self._time!r}")
        return f"Point({', '.join(parts)})"


def _typed(fields: dict[str, Any]) -> dict[str, tuple[type, Any]]:
    # 1 == 1.0 == True in Python, but they are three field types in line protocol.
    return {k: (type(v), v) for k, v in fields.items()}

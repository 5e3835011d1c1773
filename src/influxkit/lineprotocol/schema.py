"""Pinned field types: declare a field's type once, and the encoder keeps to it.

Python's ``0`` and ``0.0`` are different types to InfluxDB: a float field first written
as an int (or the reverse) makes the server refuse later batches with a type conflict.
A :class:`Schema` maps measurement -> field -> type (``float``, ``int``, ``uint``,
``bool``, ``string``) and optionally the measurement's tag keys. Before anything is
sent the encoder coerces what is exact (an int to a float field when the float holds it
exactly; an integral float to an int field; a non-negative int to a uint field) and
refuses the rest with an error naming measurement, field, value and declared type.
Fields the schema does not name pass unchanged; declared tag keys refuse any other tag.

Example:
    >>> from influxkit.lineprotocol.schema import Schema
    >>> schema = Schema.from_value({"cpu": {"usage": "float", "cores": "uint"}})
    >>> schema.coerce("cpu", {"usage": 1, "cores": 8, "note": "x"}, {})
    {'usage': 1.0, 'cores': UInt(8), 'note': 'x'}
    >>> schema.coerce("cpu", {"usage": "high"}, {})
    Traceback (most recent call last):
      ...
    influxkit.errors.InvalidRecord: measurement 'cpu': field 'usage' = 'high' (str) does not ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from influxkit.errors import ConfigError, InvalidRecord
from influxkit.lineprotocol.model import UInt

__all__ = ["FIELD_TYPES", "MeasurementSchema", "Schema", "coerce_table"]

FIELD_TYPES = ("float", "int", "uint", "bool", "string")
_ALIASES = {
    "float": "float",
    "float64": "float",
    "double": "float",
    "int": "int",
    "integer": "int",
    "int64": "int",
    "uint": "uint",
    "unsigned": "uint",
    "uint64": "uint",
    "bool": "bool",
    "boolean": "bool",
    "str": "string",
    "string": "string",
    "utf8": "string",
}
_I64 = (-(2**63), 2**63 - 1)
_U64_MAX = 2**64 - 1


@dataclass(frozen=True, slots=True)
class MeasurementSchema:
    """One measurement's declared field types and (optionally) its tag keys."""

    fields: Mapping[str, str]
    tags: frozenset[str] | None = None


class Schema:
    """Declared types per measurement; see the module docstring. Immutable."""

    __slots__ = ("_measurements",)

    def __init__(self, measurements: Mapping[str, MeasurementSchema]) -> None:
        self._measurements = MappingProxyType(dict(measurements))

    def __repr__(self) -> str:
        return f"Schema({dict(self._measurements)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and dict(self._measurements) == dict(other._measurements)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._measurements)))

    def __bool__(self) -> bool:
        return bool(self._measurements)

    def get(self, measurement: str) -> MeasurementSchema | None:
        """The declaration of ``measurement``, if any."""
        return self._measurements.get(measurement)

    def merged(self, other: Schema | None) -> Schema:
        """This schema with ``other``'s measurements laid over it (a per-write schema)."""
        if not other:
            return self
        return Schema({**self._measurements, **other._measurements})

    @classmethod
    def from_value(cls, value: Any) -> Schema | None:
        """A schema from ``None``, a :class:`Schema`, or a dict.

        The dict maps measurement -> ``{field: type}``, or -> ``{"fields": {field: type},
        "tags": [key, ...]}`` to declare the tag keys too.
        """
        if value is None or isinstance(value, Schema):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"invalid schema={value!r:.60}: expected a dict of measurement -> "
                "{field: type} (types: float, int, uint, bool, string)"
            )
        out: dict[str, MeasurementSchema] = {}
        for measurement, spec in value.items():
            if not isinstance(measurement, str) or not measurement:
                raise ConfigError(f"invalid schema: measurement name {measurement!r}")
            out[measurement] = _measurement(measurement, spec)
        return cls(out)

    def coerce(
        self, measurement: str, fields: Mapping[str, Any], tags: Mapping[str, Any] | None
    ) -> Mapping[str, Any]:
        """``fields`` with declared ones converted exactly; raises for what does not fit."""
        declared = self._measurements.get(measurement)
        if declared is None:
            return fields
        if declared.tags is not None and tags:
            extra = [k for k, v in tags.items() if k not in declared.tags and v not in (None, "")]
            if extra:
                raise InvalidRecord(
                    f"measurement {measurement!r}: tag(s) {', '.join(map(repr, extra))} are not "
                    f"among its declared tag keys {sorted(declared.tags)}; fix the name, or "
                    "declare the key in the schema"
                )
        types = declared.fields
        out = dict(fields)
        for key, value in fields.items():
            kind = types.get(key)
            if kind is not None and value is not None:
                out[key] = _convert(measurement, key, value, kind)
        return out


# Arrow types each declared field type takes; others are cast (safely) or refused.
_ARROW_TARGETS = {"float": "float64", "int": "int64", "uint": "uint64", "bool": "bool"}


def coerce_table(table: Any, measurement: str, schema: Schema) -> Any:
    """A ``pyarrow.Table`` with its declared field columns cast exactly, or refused.

    Arrow's safe casts are the exact conversions: int -> float only where the float
    holds the value, float -> int only without a fraction, -> uint only when not
    negative. A string field must already be a string column.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    declared = schema.get(measurement)
    if declared is None:
        return table
    for name, kind in declared.fields.items():
        if name not in table.column_names:
            continue
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if kind == "string":
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                raise InvalidRecord(
                    f"measurement {measurement!r}: column {name!r} is {column.type}, but its "
                    "field is declared string; convert the column to strings yourself"
                )
            continue
        target = pa.type_for_alias(_ARROW_TARGETS[kind])
        if column.type == target:
            continue
        if (
            kind == "bool"
            or pa.types.is_boolean(column.type)
            or not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type))
        ):
            raise InvalidRecord(
                f"measurement {measurement!r}: column {name!r} is {column.type}, which does "
                f"not fit its declared type {kind}"
            )
        try:
            cast = pc.cast(column, target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise InvalidRecord(
                f"measurement {measurement!r}: column {name!r} ({column.type}) does not fit "
                f"its declared type {kind} exactly: {exc}"
            ) from None
        table = table.set_column(table.column_names.index(name), name, cast)
    return table


def _measurement(measurement: str, spec: Any) -> MeasurementSchema:
    if isinstance(spec, MeasurementSchema):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"invalid schema for {measurement!r}: expected {{field: type}} or "
            "{'fields': {...}, 'tags': [...]}"
        )
    tags = None
    fields_spec: Any = spec
    if "fields" in spec and isinstance(spec["fields"], Mapping):
        unknown = set(spec) - {"fields", "tags"}
        if unknown:
            raise ConfigError(
                f"invalid schema for {measurement!r}: unknown key(s) {sorted(unknown)}; "
                "the keys are 'fields' and 'tags'"
            )
        fields_spec = spec["fields"]
        if spec.get("tags") is not None:
            raw = spec["tags"]
            if isinstance(raw, str) or not all(isinstance(t, str) and t for t in raw):
                raise ConfigError(
                    f"invalid schema for {measurement!r}: 'tags' must be a list of tag keys"
                )
            tags = frozenset(raw)
    fields: dict[str, str] = {}
    for key, kind in fields_spec.items():
        name = _ALIASES.get(kind.lower()) if isinstance(kind, str) else None
        if name is None:
            raise ConfigError(
                f"invalid schema for {measurement!r}: field {key!r} has type {kind!r}; "
                f"expected one of {', '.join(FIELD_TYPES)}"
            )
        fields[key] = name
    if tags is not None and tags & set(fields):
        raise ConfigError(
            f"invalid schema for {measurement!r}: {sorted(tags & set(fields))} declared as "
            "both tag and field (InfluxDB refuses that)"
        )
    return MeasurementSchema(MappingProxyType(fields), tags)


def _refuse(measurement: str, key: str, value: Any, kind: str, why: str) -> InvalidRecord:
    return InvalidRecord(
        f"measurement {measurement!r}: field {key!r} = {value!r:.60} "
        f"({type(value).__name__}) does not fit its declared type {kind}: {why}"
    )


def _convert(measurement: str, key: str, value: Any, kind: str) -> Any:
    """``value`` as ``kind``, exactly, or :class:`InvalidRecord`."""
    is_bool = isinstance(value, bool)
    if kind == "bool":
        if is_bool:
            return value
        raise _refuse(measurement, key, value, kind, "only True or False is a bool")
    if kind == "string":
        if isinstance(value, str):
            return value
        raise _refuse(measurement, key, value, kind, "pass a str (convert it yourself)")
    if is_bool or not isinstance(value, (int, float)):
        raise _refuse(measurement, key, value, kind, f"a {kind} field takes numbers only")
    if kind == "float":
        if isinstance(value, float):
            return value
        as_float = float(value) if abs(value) < 2**1024 else math.inf
        if as_float != value:  # int -> float only when the float holds it exactly
            raise _refuse(measurement, key, value, kind, "no float holds this int exactly")
        return as_float
    if isinstance(value, float):
        if not value.is_integer():
            raise _refuse(measurement, key, value, kind, "it has a fraction (or is not finite)")
        value = int(value)
    if kind == "int":
        if not _I64[0] <= value <= _I64[1]:
            raise _refuse(measurement, key, value, kind, "outside int64")
        return int(value)
    if not 0 <= value <= _U64_MAX:
        raise _refuse(measurement, key, value, kind, "a uint is in 0..2**64-1")
    return value if isinstance(value, UInt) else UInt(value)

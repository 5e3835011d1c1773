"""InfluxQL arithmetic on values, with 1.x's rules (``query/math.go``, ``influxql`` valuers).

* integer ``+ - *`` stay integers (64-bit, wrapping); ``/`` is always a float
  division, and dividing by zero gives 0 rather than an error;
* ``%`` keeps the sign of the dividend (Go's), 0 for a zero divisor on integers;
* ``& | ^`` work on two integers or two booleans;
* anything with a missing value (``None``), a string, or mixed kinds is missing;
* a cast (``value::integer``) converts between integers and floats (truncating)
  and makes any other mismatch missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["arith", "cast", "convertible"]

_MASK = 2**64
_HALF = 2**63


def _wrap(value: int) -> int:
    return ((value + _HALF) % _MASK) - _HALF


def _int_mod(a: int, b: int) -> int:
    if b == 0:
        return 0
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _is_int(v: Any) -> bool:
    return v.__class__ is int


def arith(op: str, a: Any, b: Any) -> Any:
    """``a op b`` as 1.x computes it in a SELECT field."""
    if a is None or b is None:
        return None
    a_bool, b_bool = a.__class__ is bool, b.__class__ is bool
    if a_bool or b_bool:
        if a_bool and b_bool:
            if op == "&":
                return a and b
            if op == "|":
                return a or b
            if op == "^":
                return a != b
        return None
    if isinstance(a, str) or isinstance(b, str):
        return None
    if _is_int(a) and _is_int(b):
        if op == "+":
            return _wrap(a + b)
        if op == "-":
            return _wrap(a - b)
        if op == "*":
            return _wrap(a * b)
        if op == "/":
            return 0.0 if b == 0 else a / b
        if op == "%":
            return _int_mod(a, b)
        if op == "&":
            return a & b
        if op == "|":
            return a | b
        if op == "^":
            return a ^ b
        return None
    x, y = float(a), float(b)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return 0.0 if y == 0 else x / y
    if op == "%":
        return math.nan if y == 0 else math.fmod(x, y)
    return None


def _to_float(v: Any) -> Any:
    if v.__class__ is float:
        return v
    if _is_int(v):
        return float(v)
    return None


def _to_int(v: Any) -> Any:
    if _is_int(v):
        return v
    if v.__class__ is float:
        if math.isnan(v) or math.isinf(v):
            return None
        return _wrap(int(v))
    return None


def _to_unsigned(v: Any) -> Any:
    value = _to_int(v)
    return None if value is None else value % _MASK


_CASTS: dict[str, Callable[[Any], Any]] = {
    "float": _to_float,
    "integer": _to_int,
    "unsigned": _to_unsigned,
    "string": lambda v: v if isinstance(v, str) else None,
    "boolean": lambda v: v if v.__class__ is bool else None,
}


def cast(value: Any, kind: str, to: str) -> Any:
    """A field value of InfluxQL type ``kind`` read as ``to`` (``float``, ``integer`` ...).

    ``None`` when the conversion does not exist (a string read as a float, ...).
    """
    if value is None:
        return None
    if to == kind:
        return value
    if to in ("float", "integer", "unsigned") and kind not in ("float", "integer", "unsigned"):
        return None
    convert = _CASTS.get(to)
    return convert(value) if convert is not None else value


def convertible(kind: str, to: str | None) -> bool:
    """Whether a field of type ``kind`` read as ``to`` gives values (not always missing)."""
    if to is None or to in ("field", kind):
        return True
    numeric = ("float", "integer", "unsigned")
    return kind in numeric and to in numeric

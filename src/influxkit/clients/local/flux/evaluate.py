"""Evaluation of Flux expressions: literals, records, arrays, operators, predicates.

Flux semantics kept here:

* an operator with a null operand gives null (``r.host == "a"`` for a row without
  ``host`` is null, and ``filter`` keeps a row only for ``true``);
* ``and`` / ``or`` treat null as false and short-circuit;
* comparisons mix ``int``, ``uint`` and ``float``; arithmetic needs one type
  (``1 + 1.0`` is an error, as in Flux); ``=~`` / ``!~`` match a regex anywhere;
* a type mismatch (``"a" < 1``) is an error naming both types.

``UNKNOWN`` operands (a partial evaluation) propagate, except where the known half
already decides an ``and`` / ``or``.  Function calls are delegated to the interpreter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from influxkit.clients.local.flux import nodes as n
from influxkit.clients.local.flux.builtins import FLUX_FUNCTIONS
from influxkit.clients.local.flux.errors import (
    compile_error,
    query_error,
    semantic_error,
    unsupported,
)
from influxkit.clients.local.flux.times import Duration, Time
from influxkit.clients.local.flux.values import (
    UNKNOWN,
    Closure,
    Regex,
    RowRecord,
    Scope,
    type_name,
)

__all__ = ["CallHook", "Evaluator", "truth"]

#: ``hook(call_node, scope, piped)`` evaluates a function call (the interpreter's job).
CallHook = Callable[[n.Call, Scope, Any], Any]

_NUMBER = (int, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def truth(value: Any) -> bool:
    """Whether a predicate's result keeps a row: only ``true`` does (null and false do not)."""
    return value is True


class Evaluator:
    """Evaluates expressions in a scope; ``call`` runs the function calls it meets."""

    def __init__(self, call: CallHook) -> None:
        self._hook = call

    def eval(self, node: n.Expression, scope: Scope) -> Any:
        """The value of ``node``."""
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node, scope)

    # -- leaves ---------------------------------------------------------------------

    def _identifier(self, node: n.Identifier, scope: Scope) -> Any:
        found, value = scope.lookup(node.name)
        if found:
            return value
        if node.name in FLUX_FUNCTIONS:
            raise unsupported(node.loc, f"{node.name}()")
        raise semantic_error(node.loc, f"undefined identifier {node.name}")

    def _literal(self, node: n.Literal, scope: Scope) -> Any:
        if node.kind == "TIME":
            return Time(node.value)
        if node.kind == "REGEX":
            try:
                return Regex.compile(node.value)
            except re.error as exc:
                raise compile_error(node.loc, f"regex parse error: {exc}") from None
        return node.value

    def _array(self, node: n.Array, scope: Scope) -> list[Any]:
        return [self.eval(element, scope) for element in node.elements]

    def _record(self, node: n.Record, scope: Scope) -> dict[str, Any]:
        return {prop.key: self.eval(prop.value, scope) for prop in node.properties}

    def _functionlit(self, node: n.FunctionLit, scope: Scope) -> Closure:
        return Closure(node, scope)

    def _call(self, node: n.Call, scope: Scope) -> Any:
        return self._hook(node, scope, None)

    def _pipe(self, node: n.Pipe, scope: Scope) -> Any:
        piped = self.eval(node.argument, scope)
        return self._hook(node.call, scope, piped)

    # -- access ---------------------------------------------------------------------

    def _member(self, node: n.Member, scope: Scope) -> Any:
        obj = self.eval(node.object, scope)
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, RowRecord):
            return obj.get(node.property)
        if isinstance(obj, dict):
            return obj.get(node.property)
        raise semantic_error(
            node.loc, f"cannot access property {node.property} of {type_name(obj)}"
        )

    def _index(self, node: n.Index, scope: Scope) -> Any:
        obj = self.eval(node.object, scope)
        index = self.eval(node.index, scope)
        if obj is UNKNOWN or index is UNKNOWN:
            return UNKNOWN
        if not isinstance(obj, list) or not isinstance(index, int) or isinstance(index, bool):
            raise semantic_error(node.loc, f"cannot index {type_name(obj)} with {type_name(index)}")
        if not 0 <= index < len(obj):
            raise query_error(f"cannot access element {index} of array of length {len(obj)}")
        return obj[index]

    # -- operators ------------------------------------------------------------------

    def _unary(self, node: n.Unary, scope: Scope) -> Any:
        value = self.eval(node.argument, scope)
        if value is UNKNOWN:
            return UNKNOWN
        if node.operator == "exists":
            return value is not None
        if value is None:
            return None
        if node.operator == "not":
            if isinstance(value, bool):
                return not value
        elif isinstance(value, Duration) or _is_number(value):
            return -value if node.operator == "-" else value
        raise semantic_error(
            node.loc, f"unsupported unary expression {node.operator} {type_name(value)}"
        )

    def _logical(self, node: n.Logical, scope: Scope) -> Any:
        left = self._boolean(node.left, scope, node.operator)
        is_and = node.operator == "and"
        if left is not UNKNOWN and left is not is_and:  # decided: false and ..., true or ...
            return left
        right = self._boolean(node.right, scope, node.operator)
        if right is not UNKNOWN and right is not is_and:
            return right
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        return is_and

    def _boolean(self, node: n.Expression, scope: Scope, operator: str) -> Any:
        value = self.eval(node, scope)
        if value is None:
            return False
        if value is UNKNOWN or isinstance(value, bool):
            return value
        raise semantic_error(
            node.loc, f"operands of {operator} must be booleans, got {type_name(value)}"
        )

    def _conditional(self, node: n.Conditional, scope: Scope) -> Any:
        test = self._boolean(node.test, scope, "if")
        if test is UNKNOWN:
            return UNKNOWN
        return self.eval(node.consequent if test else node.alternate, scope)

    def _binary(self, node: n.Binary, scope: Scope) -> Any:
        left = self.eval(node.left, scope)
        right = self.eval(node.right, scope)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if left is None or right is None:
            return None
        op = node.operator
        if op in ("=~", "!~"):
            if isinstance(left, str) and isinstance(right, Regex):
                found = right.pattern.search(left) is not None
                return found if op == "=~" else not found
        elif op in ("==", "!=", "<", "<=", ">", ">="):
            comparable = _comparable(left, right, ordered=op not in ("==", "!="))
            if comparable is not None:
                return _COMPARE[op](*comparable)
        else:
            result = _arithmetic(op, left, right)
            if result is not _NO_RESULT:
                return result
        raise semantic_error(
            node.loc, f"unsupported binary expression {type_name(left)} {op} {type_name(right)}"
        )


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_NO_RESULT = object()


def _comparable(left: Any, right: Any, *, ordered: bool) -> tuple[Any, Any] | None:
    """The two values as Python compares them, or ``None`` if Flux cannot compare them."""
    if _is_number(left) and _is_number(right):
        return left, right
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if isinstance(left, Time) and isinstance(right, Time):
        return left.ns, right.ns
    if not ordered:
        if isinstance(left, bool) and isinstance(right, bool):
            return left, right
        if isinstance(left, Duration) and isinstance(right, Duration):
            return (left.months, left.ns), (right.months, right.ns)
    return None


def _go_pow(base: float, exponent: float) -> float:
    """Go's ``math.Pow``: +-Inf where Python overflows, NaN where it has no real answer."""
    odd = exponent.is_integer() and int(exponent) % 2 == 1
    if base == 0 and exponent < 0:
        return math.copysign(math.inf, base) if odd else math.inf
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return -math.inf if base < 0 and odd else math.inf
    except ValueError:  # a negative base to a fractional power
        return math.nan


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    both_int = type(left) is int and type(right) is int
    both_float = type(left) is float and type(right) is float
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if op in ("+", "-") and isinstance(left, Duration) and isinstance(right, Duration):
        return left + right if op == "+" else left - right
    if not (both_int or both_float):
        return _NO_RESULT
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "^":
        return _go_pow(float(left), float(right))
    if op in ("/", "%"):
        if both_int:
            if right == 0:
                raise query_error("cannot divide by zero" if op == "/" else "cannot mod zero")
            quotient = abs(left) // abs(right) * (1 if (left >= 0) == (right >= 0) else -1)
            return quotient if op == "/" else left - quotient * right  # Go truncates
        if right == 0:  # Go's float division: +-Inf, or NaN for 0/0
            if left == 0 or math.isnan(left) or op == "%":
                return math.nan
            return math.copysign(math.inf, left) * math.copysign(1.0, right)
        return left / right if op == "/" else math.fmod(left, right)
    return _NO_RESULT

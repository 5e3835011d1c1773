"""The errors of the local Flux engine, worded as InfluxDB 2.x words its ``message``.

2.x answers a query it cannot compile with 400 ``{"code": "invalid", "message": ...}``:
syntax errors read ``compilation failed: error @1:8-1:9: <what>``, semantic ones
``error @1:1-1:5: undefined identifier foo`` (``line:column`` 1-based, the end column
just past the token).  An unknown bucket is a 404.  The local engine raises
:class:`~influxkit.errors.QueryError` / :class:`~influxkit.errors.DatabaseNotFound`
with that message and status, and the same text as the body, so ``influxkit serve``
answers the same JSON.  Flux the engine does not implement is refused with a message
naming the function, so it is never mistaken for a mistake in the query.
"""

from __future__ import annotations

from dataclasses import dataclass

from influxkit.errors import DatabaseNotFound, QueryError

__all__ = [
    "SUPPORTED_FUNCTIONS",
    "Loc",
    "bucket_not_found",
    "compile_error",
    "query_error",
    "semantic_error",
    "unsupported",
]

#: The Flux functions the local engine runs (the subset the issue asks for, and ``now``).
SUPPORTED_FUNCTIONS = (
    "aggregateWindow",
    "count",
    "drop",
    "filter",
    "first",
    "from",
    "group",
    "keep",
    "last",
    "limit",
    "max",
    "mean",
    "median",
    "min",
    "now",
    "pivot",
    "range",
    "rename",
    "sort",
    "sum",
    "yield",
)


@dataclass(frozen=True, slots=True)
class Loc:
    """A source span: 1-based start line and column, and the line and column just past it."""

    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"@{self.line}:{self.col}-{self.end_line}:{self.end_col}"

    def to(self, other: Loc) -> Loc:
        """The span from the start of this one to the end of ``other``."""
        return Loc(self.line, self.col, other.end_line, other.end_col)


def query_error(message: str, status: int = 400) -> QueryError:
    """A refusal with the server's ``message`` (also the body, as the v2 endpoint sends it)."""
    return QueryError(message, status=status, body=message)


def compile_error(loc: Loc, what: str) -> QueryError:
    """A syntax error: ``compilation failed: error @l:c-l:c: <what>``."""
    return query_error(f"compilation failed: error {loc}: {what}")


def semantic_error(loc: Loc, what: str) -> QueryError:
    """A semantic error (unknown name, missing argument): ``error @l:c-l:c: <what>``."""
    return query_error(f"error {loc}: {what}")


def unsupported(loc: Loc, what: str) -> QueryError:
    """Valid Flux the local engine does not run, named, with what it does run."""
    return query_error(
        f"error {loc}: {what} is not supported by influxkit's local Flux engine "
        f"(it runs {', '.join(SUPPORTED_FUNCTIONS)}); run this query against a real "
        "InfluxDB 2.x"
    )


def bucket_not_found(name: str) -> DatabaseNotFound:
    """2.x's answer to ``from(bucket:)`` naming a bucket that does not exist (404)."""
    message = f'failed to initialize execute state: could not find bucket "{name}"'
    return DatabaseNotFound(message, status=404, body=message)

"""InfluxQL's two kinds of failure, as the servers tell them apart.

A :class:`ParseError` means the text is not InfluxQL: 1.x answers ``400
{"error":"error parsing query: <detail>"}`` for the whole request, InfluxDB 3
``400 error in InfluxQL statement: parsing error: <detail>``.  A
:class:`StatementError` is raised while one statement runs (unknown database, a
function on the wrong type): 1.x answers 200 and puts ``<detail>`` in that
statement's result, next to the results of the others.

Both are :class:`~influxkit.errors.QueryError`, so nothing else escapes the parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from influxkit.clients.local.influxql.tokens import Token
from influxkit.errors import QueryError

__all__ = ["ParseError", "StatementError", "at", "expected"]


class ParseError(QueryError):
    """The query does not parse; ``detail`` is the server's text after ``error parsing query:``."""

    def __init__(self, detail: str, **kwargs: Any) -> None:
        message = f"error parsing query: {detail}"
        kwargs.setdefault("status", 400)
        kwargs.setdefault("body", {"error": message})
        super().__init__(message, **kwargs)
        self.detail = detail


class StatementError(QueryError):
    """A statement failed; ``detail`` is what 1.x puts in the statement's ``error``."""

    def __init__(self, detail: str, **kwargs: Any) -> None:
        kwargs.setdefault("status", 400)
        kwargs.setdefault("body", {"error": detail})
        super().__init__(detail, **kwargs)
        self.detail = detail


def expected(token: Token, what: Sequence[str]) -> ParseError:
    """``found <token>, expected <what> at line L, char C`` (1.x ``newParseError``)."""
    return ParseError(
        f"found {token.found}, expected {', '.join(what)} at line {token.line + 1}, "
        f"char {token.char + 1}"
    )


def at(message: str, token: Token) -> ParseError:
    """``<message> at line L, char C`` (a 1.x ``ParseError`` with a message)."""
    return ParseError(f"{message} at line {token.line + 1}, char {token.char + 1}")

"""The one exception tree of influxkit, and the status-code -> class table.

Every error influxkit raises is an :class:`InfluxError`::

    InfluxError
     ├── ConfigError            (also ValueError)  bad option, value or source
     │    ├── MissingDependency  (also ImportError) an optional package is not installed
     │    └── ServerMismatch                       the server is not what the config says
     ├── ConnectionNotFound     (also KeyError)    name not in the registry
     ├── InvalidRecord          (also ValueError)  a record line protocol cannot carry
     ├── UnsupportedOperation                      operation outside the profile
     ├── BufferFull                                the batch writer's buffer stayed full
     ├── FlushTimeout           (also TimeoutError) flush() ran out of time
     ├── TransportError                            network failure, timeout (retryable)
     └── ServerError                               the server (or the local engine) said no
          ├── AuthError                            401 / 403
          ├── DatabaseNotFound                     404 for a database
          ├── QueryError                           the query was refused or failed
          └── WriteError                           the write was refused
               └── PartialWriteError               a partial write: valid lines landed

The local engine raises the same classes with the status the real server would
answer, so code that handles errors is tested without a server.  Errors carry
context (operation, connection name, method, path, status, the server's body,
per-line errors, ``retryable``), never a token, and survive pickling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AuthError",
    "BufferFull",
    "ConfigError",
    "ConnectionNotFound",
    "DatabaseNotFound",
    "FlushTimeout",
    "InfluxError",
    "InvalidRecord",
    "LineError",
    "MissingDependency",
    "PartialWriteError",
    "QueryError",
    "ServerError",
    "ServerMismatch",
    "TransportError",
    "UnsupportedOperation",
    "WriteError",
    "error_for_status",
]


@dataclass(frozen=True, slots=True)
class LineError:
    """One rejected line of a write: 1-based line number, the server's message, the line."""

    line_number: int
    message: str
    original_line: str

    def to_dict(self) -> dict[str, Any]:
        """The server's JSON shape for this line (keys in the server's order)."""
        return {
            "error_message": self.message,
            "line_number": self.line_number,
            "original_line": self.original_line,
        }


class InfluxError(Exception):
    """Root of every influxkit error.

    Attributes:
        message: what happened and what to do about it.
        operation: the influxkit operation (``"write"``, ``"query_sql"`` ...), if known.
        connection: the connection's name, if it has one.
        retryable: whether trying again later may succeed.
    """

    retryable_default = False

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        connection: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.connection = connection
        self.retryable = self.retryable_default if retryable is None else retryable

    def _context(self) -> list[str]:
        parts = []
        if self.operation:
            parts.append(f"operation={self.operation}")
        if self.connection:
            parts.append(f"connection={self.connection!r}")
        return parts

    def __str__(self) -> str:
        ctx = self._context()
        return f"{self.message} ({', '.join(ctx)})" if ctx else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive the default pickling of
        # exceptions; rebuild from the instance dict instead.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[InfluxError], state: dict[str, Any]) -> InfluxError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class ConfigError(InfluxError, ValueError):
    """An option, its value or a configuration source is wrong; the message names the fix."""


class MissingDependency(ConfigError, ImportError):
    """An optional package is not installed; the message names the ``pip install`` to run."""


class ServerMismatch(ConfigError):
    """The server at the URL is not what ``api_version`` / ``profile`` say (or not InfluxDB).

    Raised by the first operation of such a connection, before its requests could fail
    with an obscure 404; the message names what was expected, what was found, and the fix.

    Attributes:
        expected: what the connection expects (``"InfluxDB 3 (api_version='v3')"``).
        found: the :class:`~influxkit.ServerInfo` of what answers, or ``None`` when it is
            not InfluxDB at all (a proxy's page, a wrong path).
        url: the base URL (no credentials).
    """

    def __init__(
        self,
        message: str,
        *,
        expected: str | None = None,
        found: Any = None,
        url: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.found = found
        self.url = url


class ConnectionNotFound(InfluxError, KeyError):
    """No connection is registered under that name; the message lists the names that are."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return InfluxError.__str__(self)


class InvalidRecord(InfluxError, ValueError):
    """A record cannot be encoded as line protocol (NaN, a bad type, a name line protocol
    cannot carry); the message names the measurement, key and value."""


class UnsupportedOperation(InfluxError):
    """The operation does not exist on this connection's profile (or on a group)."""


class BufferFull(InfluxError):
    """The batch writer's buffer holds ``max_buffer_points`` and did not drain in time.

    Attributes:
        accepted: points of this write that were buffered before the error (a write larger
            than the whole buffer goes in piece by piece under ``overflow="block"``).
    """

    def __init__(self, message: str, *, accepted: int = 0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.accepted = accepted


class FlushTimeout(InfluxError, TimeoutError):
    """``flush()`` (or ``write(..., wait=True)``) timed out; the points are still buffered
    and the writer keeps trying.  ``pending`` is how many points were left."""

    def __init__(self, message: str, *, pending: int = 0, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.pending = pending


class TransportError(InfluxError):
    """The request did not get an answer: connection refused or reset, timeout, TLS failure."""

    retryable_default = True

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.method = method
        self.path = path

    def _context(self) -> list[str]:
        parts = super()._context()
        if self.method and self.path:
            parts.append(f"request={self.method} {self.path}")
        return parts


class ServerError(InfluxError):
    """The server (or the local engine, answering as the server would) refused a request.

    Attributes:
        status: HTTP status the server answered (the local engine uses the same codes).
        body: the server's body, parsed from JSON when it is JSON, else text.
        method, path: the request (without query string secrets).
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("retryable") is None and status is not None:
            kwargs["retryable"] = status == 429 or status >= 500
        super().__init__(message, **kwargs)
        self.status = status
        self.body = body
        self.method = method
        self.path = path
        self.retry_after = retry_after

    def _context(self) -> list[str]:
        parts = super()._context()
        if self.status is not None:
            parts.insert(0, f"status={self.status}")
        if self.method and self.path:
            parts.append(f"request={self.method} {self.path}")
        return parts


class AuthError(ServerError):
    """The token is missing, wrong, expired, or lacks the permission (401 / 403)."""


class DatabaseNotFound(ServerError):
    """The database (or bucket) does not exist."""


class QueryError(ServerError):
    """The query was refused (syntax, unknown table, unbound parameter) or failed running."""


class WriteError(ServerError):
    """The write was refused; ``line_errors`` lists the rejected lines when the server said.

    ``rejected`` maps them back to the caller's records (``Rejected(record, line_number,
    line, message)``, ``record`` the index into the list given to ``write()``), when the
    write came through a connection.
    """

    def __init__(
        self, message: str, *, line_errors: list[LineError] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.line_errors: list[LineError] = list(line_errors or [])
        self.rejected: tuple[Any, ...] = ()


class PartialWriteError(WriteError):
    """A partial write (``accept_partial``): the valid lines landed, if any, and
    ``line_errors`` has every rejected line.  Raised also when every line was rejected,
    as the server then answers the same partial-write body."""


# Status -> class for a server's answer; the first matching row wins.
_STATUS_TABLE: dict[int, type[ServerError]] = {
    401: AuthError,
    403: AuthError,
    404: DatabaseNotFound,
}


def error_for_status(status: int, default: type[ServerError] = ServerError) -> type[ServerError]:
    """The class for an error status: auth and not-found first, then ``default``.

    5xx and 429 always map to :class:`ServerError` (retryable), whatever the default.
    """
    if status in _STATUS_TABLE:
        return _STATUS_TABLE[status]
    if status == 429 or status >= 500:
        return ServerError
    return default

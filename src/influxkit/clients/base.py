"""The client contract: what every backend (``http``, ``local``) does for a Connection.

A :class:`Connection` checks the profile, encodes the records and resolves the
database; the client only talks to its server (or engine).  Queries take a
``format`` so each client can build the requested shape in its fastest way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from influxkit.clients.profiles import Profile
    from influxkit.detection import ServerInfo

__all__ = [
    "ArrowIngest",
    "Client",
    "Format",
    "Rejected",
    "StreamFormat",
    "WriteOutcome",
    "WriteResult",
]

# "csv": the server's CSV text, as it answers it (see docs/querying.md).
Format = Literal["rows", "arrow", "pandas", "polars", "csv"]
StreamFormat = Literal["rows", "arrow"]
Params = Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """One point the server refused: which of the caller's records it came from.

    ``record`` is the index into the list given to ``write()`` (0 for a single record;
    the row number for a DataFrame); ``line_number`` the server's 1-based number over
    the whole body; ``line`` the full line (the server quotes only its first 20 bytes).
    """

    record: int | None
    line_number: int
    line: str
    message: str


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write did (its receipt).

    Attributes:
        lines: points the server accepted (also as ``accepted``).
        requests: HTTP requests made (0 when buffered by a batch writer).
        bytes_sent: bytes on the wire, after compression.
        buffered: the points went to a batch writer's buffer; nothing was sent yet.
        bytes: the line protocol's size before compression.
        rejected: the points refused, each mapped back to the caller's record (set on
            the result a :class:`~influxkit.PartialWriteError` carries).
        retries: attempts after the first (the batch writer retries; a direct write
            does not).
        duration: seconds the write took.
    """

    lines: int
    requests: int = 1
    bytes_sent: int = 0
    buffered: bool = False
    bytes: int = 0
    rejected: tuple[Rejected, ...] = ()
    retries: int = 0
    duration: float = 0.0

    @property
    def accepted(self) -> int:
        """Points the server accepted."""
        return self.lines


# The name the first releases used; the same class.
WriteOutcome = WriteResult


class Client(Protocol):
    """One backend of a connection.  Every method may raise only :class:`InfluxError`."""

    profile: Profile

    def start(self) -> None:
        """Acquire resources (an HTTP pool, an engine). Called once by the connection."""

    def close(self) -> None:
        """Release everything :meth:`start` acquired. Called once."""

    def write(
        self,
        body: bytes,
        *,
        database: str,
        precision: str,
        accept_partial: bool,
        no_sync: bool,
    ) -> WriteOutcome:
        """Write line protocol ``body`` (timestamps in ``precision``).

        Raises :class:`PartialWriteError` when some lines were rejected (the rest landed),
        :class:`WriteError` when nothing landed.
        """
        ...

    def query_sql(self, sql: str, *, database: str, params: Params, format: Format) -> Any:
        """Run one SQL statement; the result in ``format``."""
        ...

    def query_sql_stream(
        self, sql: str, *, database: str, params: Params, format: StreamFormat
    ) -> Iterator[Any]:
        """Run one SQL statement; yield rows (dicts) or Arrow record batches as they come."""
        ...

    def execute_sql(self, sql: str, *, database: str, params: Params) -> int:
        """Run a statement for its effect; the number of rows it affected."""
        ...

    def query_influxql(
        self, query: str, *, database: str | None, params: Params, format: Format
    ) -> Any:
        """Run one InfluxQL statement; rows carry the ``iox::measurement`` column."""
        ...

    def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Run a Flux query; the rows of every table."""
        ...

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database; a name that exists raises :class:`ServerError` (409)."""

    def list_databases(self) -> list[str]:
        """Names of the databases, sorted."""
        ...

    def delete_database(self, name: str) -> None:
        """Delete a database; an unknown name raises :class:`DatabaseNotFound`."""

    def create_bucket(self, name: str, *, org: str | None, retention_seconds: int | None) -> None:
        """Create a v2 bucket."""

    def list_buckets(self, *, org: str | None) -> list[str]:
        """Names of the v2 buckets."""
        ...

    def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Delete a v2 bucket."""

    def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """Create an admin token (``name=None``: the operator token); the server's answer."""
        ...

    def delete_token(self, name: str) -> None:
        """Delete a named token."""

    def health(self) -> dict[str, Any]:
        """At least ``status`` (``"pass"`` or ``"fail"``) and ``version``."""
        ...

    def server_info(self) -> ServerInfo:
        """Which server answers (product, version, build, its API); asked once, then kept.

        The local engine answers as the server of its profile.
        """
        ...


class ArrowIngest(Protocol):
    """A client that takes a table's columns instead of line protocol (the local engine).

    A connection hands a table write to :meth:`write_table` when ``ingests_arrow`` is
    true and no batch writer is in between; the answer must be the one :meth:`Client.write`
    gives for the table's line protocol (rows are lines, numbered from 1).
    """

    @property
    def ingests_arrow(self) -> bool:
        """Whether table writes should come as columns (it may depend on the profile)."""
        ...

    def write_table(
        self, table: Any, *, database: str, precision: str, accept_partial: bool, no_sync: bool
    ) -> WriteOutcome:
        """Write a :class:`~influxkit.clients.local.arrow_payload.TableWrite`."""
        ...

"""The async client contract: what each async backend does for an AsyncConnection.

The twin of :class:`influxkit.clients.base.Client`, method for method, with
coroutines; :meth:`query_sql_stream` returns an async iterator (the request is made
when iteration starts).  Implemented by :class:`~influxkit.aio.http.AsyncHttpClient`
(real servers, over ``httpx.AsyncClient``) and :class:`~influxkit.aio.threaded.ThreadedClient`
(any blocking client, such as the local engine, run in worker threads).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from influxkit.clients.base import Format, StreamFormat, WriteOutcome

__all__ = ["AsyncClient"]

Params = Mapping[str, Any] | None


class AsyncClient(Protocol):
    """One async backend of a connection.  Every method may raise only ``InfluxError``."""

    async def aclose(self) -> None:
        """Release what the client holds on the current event loop."""

    async def write(
        self, body: bytes, *, database: str, precision: str, accept_partial: bool, no_sync: bool
    ) -> WriteOutcome:
        """Write line protocol ``body`` (see :meth:`influxkit.clients.base.Client.write`)."""
        ...

    async def query_sql(self, sql: str, *, database: str, params: Params, format: Format) -> Any:
        """Run one SQL statement; the result in ``format``."""
        ...

    def query_sql_stream(
        self, sql: str, *, database: str, params: Params, format: StreamFormat
    ) -> AsyncIterator[Any]:
        """Rows (dicts) or Arrow record batches as they come."""
        ...

    async def execute_sql(self, sql: str, *, database: str, params: Params) -> int:
        """Run a statement for its effect; the number of rows it affected."""
        ...

    async def query_influxql(
        self, query: str, *, database: str | None, params: Params, format: Format
    ) -> Any:
        """Run one InfluxQL statement."""
        ...

    async def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Run a Flux query; the rows of every table."""
        ...

    async def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database."""

    async def list_databases(self) -> list[str]:
        """Names of the databases, sorted."""
        ...

    async def delete_database(self, name: str) -> None:
        """Delete a database."""

    async def create_bucket(
        self, name: str, *, org: str | None, retention_seconds: int | None
    ) -> None:
        """Create a v2 bucket."""

    async def list_buckets(self, *, org: str | None) -> list[str]:
        """Names of the v2 buckets."""
        ...

    async def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Delete a v2 bucket."""

    async def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """Create an admin token; the server's answer."""
        ...

    async def delete_token(self, name: str) -> None:
        """Delete a named token."""

    async def health(self) -> dict[str, Any]:
        """At least ``status`` and ``version``."""
        ...

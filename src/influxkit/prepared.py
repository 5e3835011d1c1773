"""PreparedWrite: a write checked, encoded and resolved, before any IO, for both APIs.

:class:`~influxkit.Connection` and :class:`~influxkit.aio.AsyncConnection` write the
same way: records are encoded in the caller's thread (bad data fails at once), the
database, precision and write options are resolved from the call and the connection,
and after the IO the receipt, the counters and the mapping of rejected lines back to
the caller's records are worked out the same way.  Only the IO between differs (a
blocking call, an ``await``), so that is all each connection keeps of its own.

Example:
    >>> from influxkit.config import ConnectionConfig
    >>> cfg = ConnectionConfig.from_options(client="local", database="db")
    >>> prep = prepare_write(cfg, ["cpu v=1 1", "cpu v=2 2"], database="db", precision=None,
    ...                      accept_partial=None, no_sync=None, schema=None)
    >>> prep.body, prep.key
    (b'cpu v=1 1\\ncpu v=2 2', ('db', 'ns', True, False))
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from influxkit import telemetry
from influxkit.clients.base import WriteOutcome
from influxkit.errors import ConfigError, InfluxError, WriteError
from influxkit.lineprotocol.schema import Schema
from influxkit.point import Point
from influxkit.receipts import rejections

if TYPE_CHECKING:
    from influxkit.batching.core import Key
    from influxkit.clients.local.arrow_payload import TableWrite
    from influxkit.config import ConnectionConfig

__all__ = ["PreparedWrite", "prepare_write"]

# Records that are one record even though they can be iterated.
ONE_RECORD = (str, bytes, bytearray, memoryview, Point, Mapping)


def is_table(records: Any) -> bool:
    """A DataFrame or Arrow table (encoded by columns), not rows."""
    return (
        hasattr(records, "__arrow_c_stream__")
        or hasattr(records, "__dataframe__")
        or (
            type(records).__name__ in ("Table", "RecordBatch", "DataFrame")
            and type(records).__module__.split(".")[0] in ("pyarrow", "pandas", "polars")
        )
    )


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """One write, encoded and resolved: what to send, and how to account for it after."""

    records: Any  # kept (an iterator made a list), to map rejected lines back to records
    body: bytes
    database: str
    precision: str
    accept_partial: bool
    no_sync: bool
    started: float  # perf_counter() when the write began, for the receipt's duration
    # A table for a client that ingests Arrow (the local engine): its columns, no body.
    table: TableWrite | None = None

    @property
    def size(self) -> int:
        """The write's ``bytes``: the body's length, or a table's Arrow data handed over."""
        return len(self.body) if self.table is None else self.table.nbytes

    def send(self, client: Any) -> WriteOutcome:
        """The write on a blocking client: the table's columns, or the line protocol body."""
        if self.table is not None:
            return client.write_table(  # type: ignore[no-any-return]
                self.table,
                database=self.database,
                precision=self.precision,
                accept_partial=self.accept_partial,
                no_sync=self.no_sync,
            )
        return client.write(  # type: ignore[no-any-return]
            self.body,
            database=self.database,
            precision=self.precision,
            accept_partial=self.accept_partial,
            no_sync=self.no_sync,
        )

    @property
    def key(self) -> Key:
        """The batch writer's key: chunks batch together only if it is equal."""
        return (self.database, self.precision, self.accept_partial, self.no_sync)

    def span(self, connection: str | None) -> telemetry.Span:
        """The ``write`` telemetry span of a direct (unbatched) write."""
        return telemetry.span(
            "write",
            connection=connection,
            database=self.database,
            operation="write",
            bytes=self.size,
        )

    def delivered(self, outcome: WriteOutcome, stats: Any) -> WriteOutcome:
        """Count a direct write the server accepted; its receipt."""
        stats.add(
            writes=1,
            points_written=outcome.lines,
            bytes_written=self.size,
            requests=outcome.requests,
        )
        return dataclasses.replace(
            outcome, bytes=self.size, duration=time.perf_counter() - self.started
        )

    def refused(self, exc: InfluxError, stats: Any) -> None:
        """Count a direct write that failed; map the rejected lines to the caller's records."""
        stats.error("write_errors", exc)
        if isinstance(exc, WriteError) and exc.line_errors:
            if self.table is not None:  # rows, and their line protocol made for the receipt
                exc.rejected = self.table.rejections(exc.line_errors)
            else:
                exc.rejected = rejections(self.records, self.body, exc.line_errors)

    def buffered(self, points: int, *, wait: bool, stats: Any) -> WriteOutcome:
        """Count a write a batch writer accepted; its receipt (``buffered`` unless waited for)."""
        stats.add(writes=1)
        return WriteOutcome(
            lines=points,
            requests=0,
            buffered=not wait,
            bytes=self.size,
            duration=time.perf_counter() - self.started,
        )


def prepare_write(
    config: ConnectionConfig,
    records: Any,
    *,
    database: str,
    precision: str | None,
    accept_partial: bool | None,
    no_sync: bool | None,
    schema: Schema | Mapping[str, Any] | None,
    measurement: str | None = None,
    tag_columns: Sequence[str] | str = (),
    timestamp_column: str | None = None,
    field_columns: Sequence[str] | str | None = None,
    measurement_column: str | None = None,
    ingest_arrow: bool = False,
) -> PreparedWrite:
    """Encode ``records`` for ``database`` (already resolved) with the call's options.

    ``precision`` is the unit of integer timestamps (the connection's when ``None``;
    ``auto`` encodes nanoseconds); ``schema`` pins field types over the connection's. A
    table (pyarrow, pandas, polars) is encoded column by column with the ``measurement``
    / ``tag_columns`` / ``timestamp_column`` / ``field_columns`` /
    ``measurement_column`` options, and its rejected lines map back to row numbers.
    With ``ingest_arrow`` (a client that has ``write_table``: the local engine) a table
    is converted to the engine's columns instead (``table``; ``body`` stays empty), with
    the encoder's checks and refusals; :meth:`PreparedWrite.send` hands it over.

    Raises:
        InvalidRecord: a record cannot be encoded (NaN, a type the schema refuses...).
        ConfigError: table options for records that are not a table.
    """
    from influxkit.lineprotocol.encode import encode
    from influxkit.lineprotocol.precision import check_precision

    started = time.perf_counter()
    # m / h (InfluxDB 1.x only) are refused here on other profiles, before any IO.
    prec = check_precision(precision or config.precision, config.profile)
    if not isinstance(records, ONE_RECORD) and isinstance(records, Iterator):
        records = list(records)
    pinned = config.schema
    if schema is not None:
        extra = Schema.from_value(schema)
        pinned = pinned.merged(extra) if pinned else extra
    table_options = (measurement, measurement_column, timestamp_column, field_columns)
    table = None
    layout = {  # how a table's columns become points, the same for both paths below
        "measurement": measurement,
        "measurement_column": measurement_column,
        "tag_columns": tag_columns,
        "timestamp_column": timestamp_column,
        "field_columns": field_columns,
        "precision": prec if prec != "auto" else "ns",
        "schema": pinned,
    }
    if ingest_arrow and is_table(records):  # the engine takes the columns: no line protocol
        from influxkit.clients.local.arrow_payload import prepare_table

        table = prepare_table(records, **layout)
        body = b""
        records = range(table.rows)  # row k is line k + 1, as in the encoded body
    elif is_table(records):
        from influxkit.lineprotocol.encode_columnar import encode_table

        encoded = encode_table(records, **layout)
        encoded.raise_if_refused()
        body = encoded.data
        records = range(encoded.lines)  # line k is row k: rejections map to rows
    elif tag_columns or any(o is not None for o in table_options):
        raise ConfigError(
            "measurement=, tag_columns=, timestamp_column=, field_columns= and "
            "measurement_column= are for writing a table (pyarrow, pandas or polars); "
            "Points and dicts carry their own"
        )
    else:
        body = encode(records, precision=prec if prec != "auto" else "ns", schema=pinned)
    return PreparedWrite(
        records=records,
        body=body,
        database=database,
        precision=prec,
        accept_partial=config.accept_partial if accept_partial is None else accept_partial,
        no_sync=config.no_sync if no_sync is None else no_sync,
        started=started,
        table=table,
    )

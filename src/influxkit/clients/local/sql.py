"""SQL over a database snapshot with DataFusion, and DataFusion's errors as the server's.

Every query gets its own ``SessionContext`` (cheap: well under a millisecond) over
the Arrow snapshot of one database, in catalog ``public``, schema ``iox``, with the
information schema on, as InfluxDB 3 sets it up.  Parameters are bound only through
``ctx.sql(sql, param_values=...)``.  On every InfluxDB 3 profile DML, DDL and
statements are refused by DataFusion's own ``SQLOptions``, as the server does
(``SHOW TABLES`` / ``SHOW COLUMNS`` are queries and still work).

DataFusion raises untyped ``Exception`` / ``ValueError``; :func:`datafusion_errors`
is the one place that turns them into :class:`QueryError` with the server's status:
planning and SQL errors 400, ``NotImplemented`` 405, execution errors 500 as
``query error: error while executing plan: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from influxkit._optional import require
from influxkit.clients.local.functions import prepare_selectors, public_name
from influxkit.clients.local.gapfill import run_gapfill
from influxkit.clients.local.gapfill_plan import plan_gapfill
from influxkit.errors import InfluxError, QueryError

if TYPE_CHECKING:
    import pyarrow as pa
    from datafusion import DataFrame

__all__ = [
    "Session",
    "convert_error",
    "datafusion_errors",
    "run_query",
    "statement",
    "stream_query",
]

_EXECUTION_PREFIXES = (
    "Execution error",
    "Arrow error",
    "External error",
    "Resources exhausted",
    "IO error",
    "Internal error",
    "Join Error",
    "Object Store error",
    "Parquet error",
    "Shared error",
)
_UNBOUND = re.compile(r"Placeholder '(\$[^']+)' was not provided a value for execution\.?")


def convert_error(exc: BaseException) -> QueryError:
    """The :class:`QueryError` the server would answer for a DataFusion exception."""
    message = str(exc).strip()
    if message.startswith("DataFusion error: "):
        message = message[len("DataFusion error: ") :]
    message = public_name(message)
    unbound = _UNBOUND.search(message)
    if unbound:
        # The server always binds a (possibly empty) parameter map, so DataFusion's
        # planner reports the missing name; the Python binding skips an empty map.
        message = f"Error during planning: No value found for placeholder with name {unbound[1]}"
        return QueryError(message, status=400, body=message)
    if message.startswith("This feature is not implemented"):
        return QueryError(message, status=405, body=message)
    if message.startswith(_EXECUTION_PREFIXES):
        message = f"query error: error while executing plan: {message}"
        return QueryError(message, status=500, body=message, retryable=False)
    return QueryError(message, status=400, body=message)


@contextmanager
def datafusion_errors() -> Iterator[None]:
    """Convert any DataFusion exception raised inside to the server's :class:`QueryError`."""
    try:
        yield
    except InfluxError:
        raise
    except Exception as exc:
        raise convert_error(exc) from exc


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ``SHOW TABLES`` as InfluxDB 3 answers it: the user tables sorted by name, then the
# views of information_schema in DataFusion's own order.
_SHOW_TABLES = re.compile(r"\s*show\s+tables\s*;?\s*", re.IGNORECASE)
_SHOW_TABLES_SORTED = (
    "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables "
    "ORDER BY table_schema <> 'iox', CASE WHEN table_schema = 'iox' THEN table_name END, "
    "array_position(make_array('tables', 'views', 'columns', 'df_settings', 'schemata', "
    "'routines', 'parameters'), table_name)"
)


class Session:
    """One DataFusion context over a snapshot of one database's tables."""

    def __init__(self, tables: Mapping[str, pa.Table], *, allow_dml: bool = False) -> None:
        datafusion = require("datafusion", "local")
        config = (
            datafusion.SessionConfig()
            .with_default_catalog_and_schema("public", "iox")
            .with_information_schema(True)
        )
        self.ctx = datafusion.SessionContext(config)
        self.options = (
            None
            if allow_dml
            else datafusion.SQLOptions()
            .with_allow_ddl(False)
            .with_allow_dml(False)
            .with_allow_statements(False)
        )
        for name, table in tables.items():
            self.register(name, table)

    def register(self, name: str, table: pa.Table) -> None:
        """Make ``table`` queryable as ``name`` (quoted, so any measurement name works)."""
        batches = table.to_batches()
        if not batches:
            pa = require("pyarrow", "local")
            batches = [pa.RecordBatch.from_pylist([], schema=table.schema)]
        with datafusion_errors():
            self.ctx.register_record_batches(_quote(name), [batches])

    def dataframe(self, sql: str, params: dict[str, Any] | None) -> DataFrame:
        """Plan ``sql`` with ``params`` bound as values (never pasted into the text)."""
        if _SHOW_TABLES.fullmatch(sql):
            sql = _SHOW_TABLES_SORTED  # DataFusion lists tables in hash order
        with datafusion_errors():
            return self.ctx.sql(sql, options=self.options, param_values=params or None)

    def run(self, sql: str, params: dict[str, Any] | None) -> pa.Table:
        """Run ``sql`` to one Arrow table."""
        df = self.dataframe(sql, params)
        with datafusion_errors():
            return df.to_arrow_table()

    def stream(self, sql: str, params: dict[str, Any] | None) -> Iterator[pa.RecordBatch]:
        """Plan ``sql`` now; the returned iterator runs it a record batch at a time."""
        df = self.dataframe(sql, params)
        with datafusion_errors():
            stream = df.execute_stream()
        return _batches(stream)


def _batches(stream: Any) -> Iterator[pa.RecordBatch]:
    while True:
        with datafusion_errors():
            try:
                batch = next(stream)
            except StopIteration:
                return
        yield batch.to_pyarrow()


def _renamed(table: Any) -> Any:
    return table.rename_columns([public_name(n) for n in table.schema.names])


def _prepare(
    tables: Mapping[str, pa.Table], sql: str, params: Mapping[str, Any] | None, allow_dml: bool
) -> tuple[Session, str, dict[str, Any] | None, Any, bool]:
    session = Session(tables, allow_dml=allow_dml)
    values = dict(params) if params else None
    gap = plan_gapfill(sql)
    text = gap.sql if gap is not None else sql
    text, renamed = prepare_selectors(session.ctx, text, values, session.options)
    if gap is not None:
        gap.sql = text
    return session, text, values, gap, renamed


def run_query(
    tables: Mapping[str, pa.Table],
    sql: str,
    params: Mapping[str, Any] | None,
    *,
    allow_dml: bool = False,
) -> pa.Table:
    """The whole result of one SQL statement over ``tables``."""
    session, text, values, gap, renamed = _prepare(tables, sql, params, allow_dml)
    table = run_gapfill(gap, session, values) if gap is not None else session.run(text, values)
    return _renamed(table) if renamed else table


def stream_query(
    tables: Mapping[str, pa.Table],
    sql: str,
    params: Mapping[str, Any] | None,
    *,
    allow_dml: bool = False,
) -> Iterator[pa.RecordBatch]:
    """The result of one SQL statement as record batches, produced as they are read.

    Planning errors raise here; execution errors raise from the iterator.  A
    gap-filling query is filled whole first (filling needs every row of a series).
    """
    session, text, values, gap, renamed = _prepare(tables, sql, params, allow_dml)
    if gap is not None:
        table = run_gapfill(gap, session, values)
        batches: Iterator[pa.RecordBatch] = iter(table.to_batches())
    else:
        batches = session.stream(text, values)
    return (_renamed(b) for b in batches) if renamed else batches


def statement(
    tables: Mapping[str, pa.Table],
    sql: str,
    params: Mapping[str, Any] | None,
    *,
    allow_dml: bool,
) -> int:
    """Run a statement for its effect; the row count DataFusion reports (0 if none).

    With ``allow_dml=False`` (every InfluxDB 3) a DML / DDL statement is refused by
    DataFusion; a query is refused too, since a statement run "for its effect" on
    InfluxDB 3 can only be DML.
    """
    session = Session(tables, allow_dml=allow_dml)
    values = dict(params) if params else None
    df = session.dataframe(sql, values)
    if not allow_dml:
        message = (
            "Error during planning: DML not supported: InfluxDB 3 has no SQL statements "
            "that change data; use query_sql() for queries and write() for data"
        )
        raise QueryError(message, status=400, body=message)
    with datafusion_errors():
        table = df.to_arrow_table()
    if table.num_rows == 1 and table.schema.names == ["count"]:
        return int(table.column(0)[0].as_py())
    return 0

"""Running InfluxQL statements against a :class:`~influxkit.clients.local.LocalClient`.

:func:`run` parses the query (parameters bound), then runs each statement in turn;
a statement that fails gets its error in its own :class:`Result`, as 1.x answers,
and the others still run.  The ``dialect`` says whose rules to follow where 1.x and
InfluxDB 3 differ: ``"v1"`` runs ``CREATE`` / ``DROP DATABASE`` and ``SLIMIT``;
``"v3"`` refuses them as InfluxDB 3 does (``This feature is not implemented``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from influxkit.clients.local.influxql import ast, show
from influxkit.clients.local.influxql.errors import StatementError
from influxkit.clients.local.influxql.parser import Unsupported, parse_query
from influxkit.clients.local.influxql.result import Result, Series
from influxkit.clients.local.influxql.select import run_select
from influxkit.clients.local.influxql.timeutil import now_ns

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["Catalog", "not_implemented", "run"]


class Catalog(Protocol):
    """What statements need from the engine (``LocalClient`` has it)."""

    def list_databases(self) -> list[str]:
        """The databases."""
        ...

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database."""
        ...

    def delete_database(self, name: str) -> None:
        """Delete a database."""
        ...

    def _snapshot(self, database: str) -> dict[str, pa.Table]: ...


def not_implemented(what: str) -> StatementError:
    """InfluxDB 3's answer to InfluxQL it parses but does not run (405)."""
    message = f"This feature is not implemented: {what}"
    return StatementError(message, status=405, body=message)


def _creation_order(catalog: Catalog) -> list[str]:
    """Databases in the order they were created, as 1.x lists them.

    ``LocalClient`` keeps its databases in a dict in creation order (and
    ``list_databases()`` sorts them); read it under the engine's lock.  Another
    catalog gets its sorted list.
    """
    ordered = getattr(catalog, "_databases", None)
    lock = getattr(catalog, "_lock", None)
    if isinstance(ordered, dict) and lock is not None:
        with lock:
            return list(ordered)
    return sorted(catalog.list_databases())


class _Context:
    """One query's view of the engine: database lookups, snapshots taken once."""

    def __init__(
        self,
        catalog: Catalog,
        database: str | None,
        dialect: str,
        now: int,
        retention_policy: str | None = None,
    ) -> None:
        self.catalog = catalog
        self.database = database or None
        self.dialect = dialect
        self.now = now
        # 1.x's rp=: the policy of the sources a SELECT (SHOW FIELD KEYS, SHOW SERIES)
        # does not qualify; 1.6.7's other SHOW statements do not read it.
        self.retention_policy = retention_policy or None
        self._snapshots: dict[str, Mapping[str, pa.Table]] = {}

    def exists(self, name: str) -> bool:
        return name in self.catalog.list_databases()

    def name(self, database: str | None) -> str:
        name = database or self.database
        if not name:
            raise StatementError("database name required")
        return name

    def tables(
        self, database: str | None, retention_policy: str | None = None
    ) -> Mapping[str, pa.Table]:
        name = self.name(database)
        if not self.exists(name):
            raise StatementError(f"database not found: {name}")
        if retention_policy and retention_policy != "autogen":
            raise StatementError(f"retention policy not found: {retention_policy}")
        if name not in self._snapshots:
            from influxkit.errors import DatabaseNotFound

            try:
                self._snapshots[name] = self.catalog._snapshot(name)
            except DatabaseNotFound:
                raise StatementError(f"database not found: {name}") from None
        return self._snapshots[name]

    def sourced(
        self, database: str | None, retention_policy: str | None = None
    ) -> Mapping[str, pa.Table]:
        """:meth:`tables` for a source: one without a policy has the query's ``rp=``."""
        return self.tables(database, retention_policy or self.retention_policy)


def _execute(stmt: ast.Statement, ctx: _Context) -> tuple[list[Series], str]:
    """The series of one statement and its kind (see :class:`Result`)."""
    v3 = ctx.dialect == "v3"
    if isinstance(stmt, ast.SelectStatement):
        if v3 and (stmt.slimit or stmt.soffset):
            raise not_implemented("SLIMIT or SOFFSET")
        return run_select(stmt, ctx.sourced, ctx.now), "select"
    if isinstance(stmt, ast.ShowDatabases):
        return show.databases(_creation_order(ctx.catalog)), "show_databases"
    if isinstance(stmt, ast.ShowRetentionPolicies):
        ctx.tables(stmt.database)
        return show.retention_policies(), "show_retention_policies"
    if isinstance(stmt, ast.ShowMeasurements):
        name = ctx.name(stmt.database)
        if not ctx.exists(name):
            return [], "show"
        return show.measurements(stmt, ctx.tables(name), ctx.now), "show"
    if isinstance(stmt, ast.ShowTagKeys):
        return show.tag_keys(stmt, ctx.tables(stmt.database), ctx.now), "show"
    if isinstance(stmt, ast.ShowTagValues):
        return show.tag_values(stmt, ctx.tables(stmt.database), ctx.now), "show"
    if isinstance(stmt, ast.ShowFieldKeys):
        return show.field_keys(stmt, ctx.sourced(stmt.database)), "show"
    if isinstance(stmt, ast.ShowSeries):
        if v3:
            raise not_implemented("SHOW SERIES")
        return show.series_keys(stmt, ctx.sourced(stmt.database), ctx.now), "show"
    if isinstance(stmt, ast.CreateDatabase):
        if v3:
            raise not_implemented("CREATE DATABASE")
        if not ctx.exists(stmt.name):  # 1.x: creating an existing database is no error
            ctx.catalog.create_database(stmt.name)
        return [], "ddl"
    if isinstance(stmt, ast.DropDatabase):
        if v3:
            raise not_implemented("DROP DATABASE")
        if ctx.exists(stmt.name):  # 1.x: dropping a missing database is no error
            ctx.catalog.delete_database(stmt.name)
        ctx._snapshots.pop(stmt.name, None)
        return [], "ddl"
    if isinstance(stmt, Unsupported):
        if v3:
            raise not_implemented(stmt.what)
        raise StatementError(f"{stmt.what} is not supported by the influxkit local engine")
    raise StatementError(f"unsupported statement: {type(stmt).__name__}")


def run(
    catalog: Catalog,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    dialect: str = "v1",
    now: int | None = None,
    retention_policy: str | None = None,
) -> list[Result]:
    """Every statement's result, in order (``retention_policy``: 1.x's ``rp=``).

    Raises:
        ParseError: the query does not parse (nothing runs, as on the server).
    """
    statements = parse_query(query, params)
    ctx = _Context(catalog, database, dialect, now_ns() if now is None else now, retention_policy)
    results = []
    for index, stmt in enumerate(statements):
        zone = stmt.timezone if isinstance(stmt, ast.SelectStatement) else None
        try:
            series, kind = _execute(stmt, ctx)
        except StatementError as exc:
            status = exc.status or 400
            results.append(Result(index, error=exc.detail, timezone=zone, status=status))
            continue
        results.append(Result(index, series, kind=kind, timezone=zone))
    return results

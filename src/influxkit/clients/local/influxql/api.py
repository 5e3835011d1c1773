"""``LocalClient.query_influxql`` for each kind of server the engine can be.

* On the ``v1`` and ``v2`` profiles the answer is what the HTTP client reads from a
  1.x ``/query``: the engine builds the very JSON documents 1.x sends (``epoch=ns``)
  and decodes them with the HTTP client's own decoder, so a local v1 connection and
  one to a real 1.x server give equal rows, and the same errors (a parse error as
  HTTP 400, a statement error as the 200 answer that carries it).
* On the InfluxDB 3 profiles the answer is InfluxDB 3's table (``iox::measurement``
  first) and its errors: one statement per query, the database from ``db`` or the
  FROM clause, parse errors as ``error in InfluxQL statement: parsing error: ...``.
* Over Arrow Flight InfluxDB 3 plans InfluxQL without its HTTP handler, which is what
  strips ``db.rp.`` from a FROM clause and answers ``SHOW DATABASES``; so its planner
  refuses those (:func:`check_flight_statement`, used by ``influxkit serve``'s Flight).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.engine import Catalog, run
from influxkit.clients.local.influxql.errors import ParseError
from influxkit.clients.local.influxql.parser import SubQuery, parse_query
from influxkit.errors import DatabaseNotFound, QueryError

if TYPE_CHECKING:
    from influxkit.clients.base import Format

__all__ = ["check_flight_statement", "query_v1", "query_v3", "v3_database"]


def query_v1(
    catalog: Catalog,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    format: Format,
    retention_policy: str | None = None,
) -> Any:
    """The rows (table, CSV text) a 1.x server's ``/query`` answer decodes to.

    ``retention_policy`` is ``rp=``; ``format="csv"`` is the text 1.x answers for
    ``Accept: application/csv`` (see :mod:`.csv_v1`).
    """
    from influxkit.clients.local.influxql.shape_v1 import documents
    from influxkit.protocol import decode_v1
    from influxkit.results import convert

    try:
        results = run(
            catalog,
            query,
            database=database,
            params=params,
            dialect="v1",
            retention_policy=retention_policy,
        )
    except ParseError as exc:
        body: Any = {"error": exc.message}
        if format == "csv":  # 1.x answers in the format asked for
            from influxkit.clients.local.influxql.csv_v1 import error_body

            body = error_body(exc.message).strip()
        raise QueryError(
            f"query refused (HTTP 400): {body if format == 'csv' else exc.message}",
            status=400,
            body=body,
            method="POST",
            path="/query",
        ) from None
    docs = documents(results, epoch="ns")
    if format == "csv":
        from influxkit.clients.local.influxql.csv_v1 import render

        return render(docs)
    if format == "rows":
        return decode_v1.v1_rows(docs)
    return convert(decode_v1.v1_table(docs), format)


def _source_databases(statement: ast.Statement) -> set[str]:
    sources = getattr(statement, "sources", ()) or ()
    return {s.database for s in sources if not isinstance(s, SubQuery) and s.database}


def v3_database(statement: ast.Statement, database: str | None) -> str | None:
    """The database an InfluxDB 3 InfluxQL query runs in (``db`` or its FROM clause).

    Raises:
        QueryError: both given and different, or neither (400, the server's words).
    """
    named = _source_databases(statement)
    if isinstance(statement, ast.ShowDatabases):
        return database
    on = getattr(statement, "database", None)
    if on:
        named.add(on)
    if database and named and named != {database}:
        message = (
            f"provided a database in both the parameters ({database}) and query string "
            f"({sorted(named)[0]}) that do not match, if providing a query with a database "
            "in the query string, omit the database parameter"
        )
        raise QueryError(message, status=400, body=message)
    chosen = database or (sorted(named)[0] if named else None)
    if chosen is None and not isinstance(statement, ast.ShowRetentionPolicies):
        message = "must specify a 'db' parameter, or provide the database in the InfluxQL query"
        raise QueryError(message, status=400, body=message)
    return chosen


def query_v3(
    catalog: Catalog,
    query: str,
    *,
    database: str | None,
    params: Mapping[str, Any] | None,
    format: Format,
) -> Any:
    """InfluxDB 3's answer to ``/api/v3/query_influxql``, in ``format``."""
    from influxkit.clients.local.influxql.shape_v3 import to_table
    from influxkit.results import convert

    try:
        statements = parse_query(query, params)
    except ParseError as exc:
        message = f"error in InfluxQL statement: parsing error: {exc.detail}"
        raise QueryError(message, status=400, body=message) from None
    if len(statements) != 1:
        message = "must provide only one InfluxQl statement per query"
        raise QueryError(message, status=400, body=message)
    statement = statements[0]
    chosen = v3_database(statement, database)
    needs_database = not isinstance(
        statement, ast.ShowDatabases | ast.CreateDatabase | ast.DropDatabase
    )
    if chosen is not None and needs_database and chosen not in catalog.list_databases():
        message = f"query error: database not found: {chosen}"
        raise DatabaseNotFound(message, status=404, body={"error": message})
    results = run(catalog, query, database=chosen, params=params, dialect="v3")
    result = results[0]
    if result.error is not None:
        raise QueryError(result.error, status=result.status, body=result.error)
    return convert(to_table(result, chosen), format)


def _database_prefixed(statement: ast.SelectStatement) -> bool:
    for source in statement.sources:
        if isinstance(source, SubQuery):
            if _database_prefixed(source.statement):
                return True
        elif source.database:
            return True
    return False


def check_flight_statement(query: str, params: Mapping[str, Any] | None) -> None:
    """Refuse, as InfluxDB 3's InfluxQL planner does over Flight, what only HTTP answers.

    Flight tickets go straight to the planner (``iox_query_influxql``), which takes one
    statement (``The context currently only supports a single InfluxQL statement``),
    has no ``SHOW DATABASES`` and, after ``SLIMIT`` / ``SOFFSET``, refuses a database in
    a FROM clause (``database prefix in qualified measurement syntax``, in subqueries
    too; ``rp.measurement`` is fine). A query that does not parse is left to the engine.

    Raises:
        StatementError: ``This feature is not implemented: <what>`` (405, which the
            Flight server answers ``INVALID_ARGUMENT``).

    Example:
        >>> check_flight_statement("SELECT * FROM autogen.cpu", None)
        >>> check_flight_statement("SELECT * FROM db.autogen.cpu", None)
        Traceback (most recent call last):
        ...
        influxkit.clients.local.influxql.errors.StatementError: This feature is not ...
    """
    from influxkit.clients.local.influxql.engine import not_implemented

    try:
        statements = parse_query(query, params)
    except ParseError:
        return
    if len(statements) != 1:
        raise not_implemented("The context currently only supports a single InfluxQL statement")
    statement = statements[0]
    if isinstance(statement, ast.ShowDatabases):
        raise not_implemented("SHOW DATABASES")
    if isinstance(statement, ast.SelectStatement):
        if statement.slimit or statement.soffset:
            raise not_implemented("SLIMIT or SOFFSET")
        if _database_prefixed(statement):
            raise not_implemented("database prefix in qualified measurement syntax")

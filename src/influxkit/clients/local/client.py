"""``LocalClient``: an in-memory InfluxDB 3 behind the client contract (``client="local"``).

Writes go through the strict line protocol parser and InfluxDB 3's schema-on-write
rules into per-measurement tables; queries run in Apache DataFusion over an Arrow
snapshot, with InfluxDB's own SQL functions; errors are the server's, with its
status codes.  Each instance is a separate server: nothing is shared between two.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from influxkit.clients.base import WriteOutcome
from influxkit.clients.local.storage import Database
from influxkit.clients.local.writes import Staging, check_lines, commit, raise_for_errors
from influxkit.errors import (
    DatabaseNotFound,
    ServerError,
    UnsupportedOperation,
    WriteError,
)
from influxkit.gc_pause import PAUSE_FROM_BYTES, gc_paused

if TYPE_CHECKING:
    import pyarrow as pa

    from influxkit.clients.base import Format, StreamFormat
    from influxkit.clients.local.arrow_payload import TableWrite
    from influxkit.clients.local.buckets import Tenancy
    from influxkit.clients.profiles import Profile
    from influxkit.detection import ServerInfo

__all__ = ["LocalClient", "validate_db_name"]

_MAX_DB_NAME = 511


def validate_db_name(name: str) -> str | None:
    """The server's complaint about a database name, or ``None`` if it is valid.

    InfluxDB 3's ``validate_db_name``: 1..=511 bytes, an ASCII letter or digit first,
    then letters, digits, ``_`` and ``-``; one ``/`` may separate a retention policy,
    not at the end.
    """
    if not name:
        return "db name cannot be empty"
    if len(name.encode("utf-8", "surrogatepass")) > _MAX_DB_NAME:
        return f"db name too long: max {_MAX_DB_NAME}"
    rp_error = (
        "db name with invalid retention policy, if providing a retention policy name, "
        "must be of form '<db_name>/<rp_name>'"
    )
    invalid = (
        "invalid character in database or rp name: must be ASCII, containing only "
        "letters, numbers, underscores, or hyphens"
    )
    separator = False
    for i, char in enumerate(name):
        if not char.isascii():
            return invalid
        if i == 0:
            if not char.isalnum():
                return "db name did not start with a number or letter"
            continue
        if char == "/":
            if separator:
                return rp_error
            separator = True
        elif not (char.isalnum() or char in "_-"):
            return invalid
    if name.endswith("/"):
        return rp_error
    return None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("influxkit")
    except Exception:  # not installed as a distribution
        return "local"


class LocalClient:
    """An in-memory InfluxDB that answers as the real server of ``profile`` does.

    Args:
        profile: the kind of server to be (``v3_core`` ...): its limits, whether a
            write creates a missing database, whether unsigned integers exist.
        databases: databases that exist from the start.
        org: on ``v2``, the organization's name (``None``: named by the first request
            that names one; see :mod:`.buckets`).

    Every instance has its own storage.  Writes and administration take one lock;
    queries copy an immutable Arrow snapshot under it and run outside it, so they
    always see a consistent state.

    Example:
        >>> from influxkit.clients.profiles import get_profile
        >>> engine = LocalClient(get_profile("v3_core"), databases=["db"])
        >>> engine.write(b"cpu,host=a usage=0.5 1", database="db", precision="ns",
        ...              accept_partial=True, no_sync=False).lines
        1
        >>> engine.query_sql("SELECT host, usage FROM cpu", database="db", params=None,
        ...                  format="rows")
        [{'host': 'a', 'usage': 0.5}]
    """

    def __init__(
        self, profile: Profile, databases: Iterable[str] = (), *, org: str | None = None
    ) -> None:
        self.profile = profile
        self._lock = threading.RLock()
        self._databases: dict[str, Database] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        for name in databases:
            if name not in self._databases:
                self.create_database(name)
        # v2: the organization and what 2.x knows of each bucket (a bucket is a database).
        self.tenancy: Tenancy | None = None
        if profile.name == "v2":
            from influxkit.clients.local.buckets import Tenancy

            self.tenancy = Tenancy(self._databases, self._lock, org=org)

    def __repr__(self) -> str:
        return f"<LocalClient profile={self.profile.name} databases={self.list_databases()}>"

    @property
    def _is_v3(self) -> bool:
        return self.profile.name.startswith("v3")

    def start(self) -> None:
        """Nothing to acquire: the engine lives in this object."""

    def close(self) -> None:
        """Nothing to release; the data stays readable until the object is dropped."""

    # -- writes ------------------------------------------------------------------

    def write(
        self,
        body: bytes,
        *,
        database: str,
        precision: str,
        accept_partial: bool,
        no_sync: bool,
    ) -> WriteOutcome:
        """Write line protocol as InfluxDB 3's ``/api/v3/write_lp`` does.

        On the ``v1`` profile it answers as InfluxDB 1.x's ``/write`` instead (its
        precisions, checks and error texts; see :mod:`.writes_v1`).

        A body from :data:`~influxkit.gc_pause.PAUSE_FROM_BYTES` on is written with the
        cyclic garbage collector paused: its passes over the write's parsed lines (all
        alive until it ends) would hold the GIL for hundreds of milliseconds, stalling
        every other thread (an event loop, ``influxkit serve``), and double the time.

        Raises:
            PartialWriteError: some lines were rejected (400, 422 for a limit); the
                valid ones were written.  Also when every line was rejected.
            WriteError: ``accept_partial=False`` and a line was rejected (nothing
                written); an empty body; a bad database name; the database limit (422).
            DatabaseNotFound: the database does not exist on a profile that does not
                create it on write (1.x / 2.x).
        """
        options = {
            "database": database,
            "precision": precision,
            "accept_partial": accept_partial,
            "no_sync": no_sync,
        }
        if len(body) < PAUSE_FROM_BYTES:
            return self._write(body, **options)
        with gc_paused():
            try:
                return self._write(body, **options)
            except Exception as exc:
                # The error's frames hold the parsed lines: let them go before the
                # collector runs again (the traceback itself stays).
                traceback.clear_frames(exc.__traceback__)
                raise

    def _write(
        self, body: bytes, *, database: str, precision: str, accept_partial: bool, no_sync: bool
    ) -> WriteOutcome:
        from influxkit.lineprotocol.parse import parse
        from influxkit.lineprotocol.precision import check_precision, now_ns, to_nanos

        if self.profile.name == "v1":  # InfluxDB 1.x's /write: its own checks and errors
            from influxkit.clients.local.writes_v1 import write_v1

            return write_v1(self, body, database=database, precision=precision)
        check_precision(precision, self.profile.name)  # m / h exist on 1.x only
        del no_sync  # the engine has no write-ahead log to skip waiting for
        parsed = parse(body)
        if not parsed.lines and not parsed.errors:
            raise WriteError(
                "incoming write was empty", status=400, body="incoming write was empty"
            )
        default_time = now_ns(precision)
        first_bad = min((e.line_number for e in parsed.errors), default=None)
        with self._lock:
            db, is_new = self._database_for_write(database)
            staging = Staging(db, sum(len(d.tables) for d in self._databases.values()))
            accepted, errors = check_lines(
                staging,
                parsed.lines,
                profile=self.profile,
                precision=precision,
                default_time=default_time,
                to_nanos=to_nanos,
                stop_before=None if accept_partial else (first_bad or sys.maxsize),
            )
            if accept_partial:
                errors = sorted([*parsed.errors, *errors], key=lambda e: e.line_number)
            else:
                if parsed.errors:
                    errors.append(min(parsed.errors, key=lambda e: e.line_number))
                errors = sorted(errors, key=lambda e: e.line_number)[:1]
                if errors:
                    raise_for_errors(errors, accept_partial=False)
            if is_new:
                self._databases[db.name] = db
            commit(staging, accepted)
        raise_for_errors(errors, accept_partial=True)
        return WriteOutcome(lines=len(accepted), bytes_sent=len(body))

    @property
    def ingests_arrow(self) -> bool:
        """Whether table writes come as Arrow columns (:meth:`write_table`), not line protocol.

        Not on ``v1``: its writes answer as InfluxDB 1.x's ``/write`` (see ``writes_v1``).
        """
        return self.profile.name != "v1"

    def write_table(
        self,
        table: TableWrite,
        *,
        database: str,
        precision: str,
        accept_partial: bool,
        no_sync: bool,
    ) -> WriteOutcome:
        """Write a table's rows as columns, answering as :meth:`write` does for their line
        protocol (see :mod:`.ingest_arrow`); ``bytes_sent`` is the Arrow data's size."""
        from influxkit.clients.local.ingest_arrow import write_table

        del no_sync
        return write_table(
            self, table, database=database, precision=precision, accept_partial=accept_partial
        )

    def _database_for_write(self, name: str) -> tuple[Database, bool]:
        db = self._databases.get(name)
        if db is not None:
            return db, False
        if not self.profile.auto_create_database:
            message = f'database not found: "{name}"'
            raise DatabaseNotFound(message, status=404, body={"error": message})
        if self._is_v3:
            problem = validate_db_name(name)
            if problem is not None:
                raise WriteError(problem, status=400, body={"error": problem})
        self._check_db_limit(WriteError)
        return Database(name), True

    def _check_db_limit(self, error: type[ServerError]) -> None:
        limit = self.profile.max_databases
        if limit is not None and len(self._databases) >= limit:
            message = f"Adding a new database would exceed limit of {limit} databases"
            raise error(message, status=422, body={"error": message})

    # -- queries -----------------------------------------------------------------

    def _snapshot(self, database: str) -> dict[str, pa.Table]:
        with self._lock:
            db = self._databases.get(database)
            if db is None:
                message = f"query error: database not found: {database}"
                raise DatabaseNotFound(message, status=404, body={"error": message})
            return db.snapshot()

    def query_sql(
        self, sql: str, *, database: str, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """Run one SQL statement in DataFusion; the result converted to ``format``."""
        from influxkit.clients.local.sql import run_query
        from influxkit.results import convert

        table = run_query(self._snapshot(database), sql, params, allow_dml=self.profile.sql_dml)
        return convert(table, format)

    def query_sql_stream(
        self,
        sql: str,
        *,
        database: str,
        params: Mapping[str, Any] | None,
        format: StreamFormat,
    ) -> Iterator[Any]:
        """Plan now, then yield rows (``"rows"``, NULL columns left out as in every stream)
        or record batches (``"arrow"``) as read."""
        from influxkit.clients.local.sql import stream_query
        from influxkit.results import stream_rows

        batches = stream_query(
            self._snapshot(database), sql, params, allow_dml=self.profile.sql_dml
        )
        if format == "arrow":
            return batches
        return (row for batch in batches for row in stream_rows(batch))

    def execute_sql(self, sql: str, *, database: str, params: Mapping[str, Any] | None) -> int:
        """Refused on InfluxDB 3 (no DML / DDL); elsewhere the rows DataFusion reports."""
        from influxkit.clients.local.sql import statement

        return statement(self._snapshot(database), sql, params, allow_dml=self.profile.sql_dml)

    def query_influxql(
        self, query: str, *, database: str | None, params: Mapping[str, Any] | None, format: Format
    ) -> Any:
        """InfluxQL: on ``v1`` / ``v2`` the rows a 1.x ``/query`` decodes to, else InfluxDB 3's.

        The ``v1`` profile answers as InfluxDB 1.x (several ``;``-separated statements,
        ``CREATE`` / ``DROP DATABASE``, ``SLIMIT``, 1.x's parse errors as HTTP 400 and
        statement errors as its 200 answer); the InfluxDB 3 profiles answer one
        statement with ``iox::measurement`` first, as ``/api/v3/query_influxql``
        does.  See :mod:`influxkit.clients.local.influxql`.
        """
        from influxkit.clients.local import influxql

        if self._is_v3:
            return influxql.query_v3(self, query, database=database, params=params, format=format)
        rp = None
        if self.profile.name == "v1" and database and "/" in database:
            # 1.x's db and rp= (a v2 bucket is named "db/rp" itself)
            database, _, rp = database.partition("/")
        return influxql.query_v1(
            self, query, database=database, params=params, format=format, retention_policy=rp
        )

    def query_flux(self, query: str, *, org: str | None) -> list[dict[str, Any]]:
        """Run Flux as InfluxDB 2.x does (``v2`` profile): the rows of every table.

        Buckets are the engine's databases, by name; ``org`` is accepted and ignored (the
        engine has one organization).  The rows are those the HTTP client decodes from
        2.x's annotated CSV for the same tables: ``result``, ``table``, then the columns.
        See ``docs/flux.md`` for the Flux the engine runs.

        Raises:
            UnsupportedOperation: the profile has no Flux (every v3 profile, and v1).
            QueryError: invalid Flux, Flux the engine does not run, or a failure (400).
            DatabaseNotFound: the bucket does not exist (404).
        """
        from influxkit.clients.local import flux

        del org  # one organization: any name reaches the same buckets
        if not self.profile.supports("query_flux"):
            raise UnsupportedOperation(
                f"query_flux() is not supported by the {self.profile.name!r} profile "
                f"({self.profile.product}) of the local engine; Flux exists on the 'v2' profile",
                operation="query_flux",
            )
        return flux.rows(flux.run(self, query))

    # -- administration ----------------------------------------------------------

    def create_database(self, name: str, *, retention_period: str | None = None) -> None:
        """Create a database: 409 if it exists, 400 for a bad name (v3), 422 at the limit."""
        if self._is_v3:
            problem = validate_db_name(name)
            if problem is not None:
                raise ServerError(problem, status=400, body={"error": problem})
        with self._lock:
            if name in self._databases:
                message = "attempted to create a resource that already exists"
                raise ServerError(message, status=409, body=message)
            self._check_db_limit(ServerError)
            self._databases[name] = Database(name, retention_period)

    def list_databases(self) -> list[str]:
        """The databases, sorted.

        A v3 server's ``GET /api/v3/configure/database`` also lists its own
        ``_internal`` database; this list leaves it out (it holds the server's system
        tables, not user data, and does not count toward the database limit).
        """
        with self._lock:
            return sorted(self._databases)

    def delete_database(self, name: str) -> None:
        """Delete a database and its data; 404 if there is none."""
        with self._lock:
            if self._is_v3 and name == "_internal":
                raise ServerError("cannot delete internal db", status=500, retryable=False)
            if self._databases.pop(name, None) is None:
                message = f"the requested resource was not found: {name}"
                raise DatabaseNotFound(message, status=404, body=message)

    def _tenancy(self, operation: str) -> Tenancy:
        if self.tenancy is None:
            raise UnsupportedOperation(
                f"{operation}() is not supported by the {self.profile.name!r} profile "
                f"({self.profile.product}) of the local engine; buckets exist on the 'v2' "
                "profile",
                operation=operation,
            )
        return self.tenancy

    def create_bucket(self, name: str, *, org: str | None, retention_seconds: int | None) -> None:
        """Create a bucket (a database) as InfluxDB 2.x does; see :mod:`.buckets`.

        Raises:
            ServerError: the name exists (422 ``conflict``), starts with ``_`` or holds a
                ``"`` (400); a retention under an hour (500, as 2.x answers it).
            DatabaseNotFound: ``org`` is not the engine's organization (404).
            UnsupportedOperation: the profile is not ``v2``.
        """
        self._tenancy("create_bucket").create_named(
            name, org=org, retention_seconds=retention_seconds
        )

    def list_buckets(self, *, org: str | None) -> list[str]:
        """The bucket names, sorted, ``_monitoring`` and ``_tasks`` included (as 2.x lists)."""
        return self._tenancy("list_buckets").names(org=org)

    def delete_bucket(self, name: str, *, org: str | None) -> None:
        """Delete a bucket and its data: 404 for an unknown one, 400 for a system bucket."""
        self._tenancy("delete_bucket").delete_named(name, org=org)

    def create_token(self, name: str | None, **options: Any) -> dict[str, Any]:
        """An admin token shaped as the server answers (``name=None``: the operator token).

        The engine does not check tokens; this exists so code that provisions tokens
        runs against it.  A second token of one name is a 409, as on the server.
        """
        token_name = name or "_admin"
        with self._lock:
            if token_name in self._tokens:
                message = f"token name already exists, {token_name}"
                raise ServerError(message, status=409, body={"error": message})
            token = "apiv3_" + secrets.token_urlsafe(64)
            expiry = options.get("expiry_secs")
            now = datetime.now(UTC)
            answer = {
                "id": len(self._tokens),
                "name": token_name,
                "token": token,
                "hash": hashlib.sha512(token.encode()).hexdigest(),
                "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "expiry": None
                if expiry is None
                else datetime.fromtimestamp(now.timestamp() + expiry, UTC).isoformat(),
            }
            if options.get("permissions") is not None:
                answer["permissions"] = options["permissions"]
            self._tokens[token_name] = {k: v for k, v in answer.items() if k != "token"}
            return answer

    def delete_token(self, name: str) -> None:
        """Delete a named token: 405 for the operator token, 404 for an unknown name."""
        with self._lock:
            if name == "_admin":
                raise ServerError("cannot delete operator token", status=405)
            if self._tokens.pop(name, None) is None:
                message = f"the requested resource was not found: {name}"
                raise ServerError(message, status=404, body=message)

    def server_info(self) -> ServerInfo:
        """The server of this engine's profile (product, version and build ``serve`` reports)."""
        from influxkit.detection import for_profile

        return for_profile(self.profile.name)

    def health(self) -> dict[str, Any]:
        """Always healthy: the engine is this object."""
        return {
            "status": "pass",
            "version": _version(),
            "product": self.profile.product,
            "message": "ready for queries and writes",
        }

"""Profiles as data: which operations each kind of InfluxDB server has, and its limits."""

from __future__ import annotations

from dataclasses import dataclass

from influxkit.errors import UnsupportedOperation

__all__ = ["OPERATIONS", "PROFILES", "Profile", "get_profile"]

# Every operation of the client contract, by name (the facade's function names).
OPERATIONS = frozenset(
    {
        "write",
        "query_sql",
        "query_sql_stream",
        "execute_sql",
        "query_influxql",
        "query_flux",
        "create_database",
        "list_databases",
        "delete_database",
        "create_bucket",
        "list_buckets",
        "delete_bucket",
        "create_token",
        "delete_token",
        "health",
    }
)

_SQL = {"query_sql", "query_sql_stream", "execute_sql"}
_DBS = {"create_database", "list_databases", "delete_database"}
_BUCKETS = {"create_bucket", "list_buckets", "delete_bucket"}
_TOKENS = {"create_token", "delete_token"}


@dataclass(frozen=True, slots=True)
class Profile:
    """What one kind of server offers (the reference's profile table, section 7).

    Attributes:
        name: ``v3_core``, ``v3_enterprise``, ``v2`` or ``v1``.
        product: the product name the server reports.
        operations: the operations that exist on it.
        auto_create_database: a write to an unknown database creates it (v3) or is a 404.
        max_databases: the database limit (``None``: no fixed limit).
        max_tables: tables across all databases.
        max_columns: tag + field columns per table (``time`` not counted).
        unsigned_integers: whether ``u`` field values are accepted.
        sql_dml: whether INSERT / DELETE / DDL statements run (no InfluxDB 3 allows them).
    """

    name: str
    product: str
    operations: frozenset[str]
    auto_create_database: bool
    max_databases: int | None
    max_tables: int | None
    max_columns: int | None
    unsigned_integers: bool = True
    sql_dml: bool = False

    def supports(self, operation: str) -> bool:
        """Whether ``operation`` exists on this profile."""
        return operation in self.operations

    def check(self, operation: str) -> None:
        """Raise :class:`UnsupportedOperation` when ``operation`` is not on this profile."""
        if operation not in self.operations:
            offered = _offered_by(operation)
            hint = f" It exists on: {', '.join(offered)}." if offered else ""
            raise UnsupportedOperation(
                f"{operation}() is not supported by the {self.name!r} profile "
                f"({self.product}).{hint}",
                operation=operation,
            )


PROFILES: dict[str, Profile] = {
    "v3_core": Profile(
        name="v3_core",
        product="InfluxDB 3 Core",
        operations=frozenset({"write", "query_influxql", "health"} | _SQL | _DBS | _TOKENS),
        auto_create_database=True,
        max_databases=5,
        max_tables=2000,
        max_columns=500,
    ),
    "v3_enterprise": Profile(
        name="v3_enterprise",
        product="InfluxDB 3 Enterprise",
        operations=frozenset(
            {"write", "query_influxql", "health", "create_resource_token"} | _SQL | _DBS | _TOKENS
        ),
        auto_create_database=True,
        max_databases=100,
        max_tables=4000,
        max_columns=500,
    ),
    "v2": Profile(
        name="v2",
        product="InfluxDB 2.x OSS",
        operations=frozenset({"write", "query_influxql", "query_flux", "health"} | _BUCKETS),
        auto_create_database=False,
        max_databases=None,
        max_tables=None,
        max_columns=None,
    ),
    "v1": Profile(
        name="v1",
        product="InfluxDB 1.x OSS",
        operations=frozenset({"write", "query_influxql", "health"} | _DBS),
        auto_create_database=False,
        max_databases=None,
        max_tables=None,
        max_columns=None,
        unsigned_integers=False,
    ),
}


def _offered_by(operation: str) -> list[str]:
    return [p.name for p in PROFILES.values() if operation in p.operations]


def get_profile(name: str) -> Profile:
    """The profile called ``name``; raises ``KeyError`` for an unknown name."""
    return PROFILES[name]

"""Fan-out groups: one name that writes to several registered connections.

A team moving from InfluxDB 1.x or 2.x to 3, or keeping a replica, writes everything
twice for weeks. ``add_group("all", members=["old", "new"], primary="new")`` makes
``influxkit.write("all", ...)`` deliver to every member, each through its own connection
(and its own batch writer, retries, spool and ``on_error``), the members' writes running
side by side so a slow or failing member does not hold up the others. Queries on a
group go to its primary. Groups are kept like the registry: copy-on-write, read
without a lock.

Example:
    >>> import influxkit
    >>> _ = influxkit.add_connection("old", client="local", database="db")
    >>> _ = influxkit.add_connection("new", client="local", database="db")
    >>> _ = influxkit.add_group("both", members=["old", "new"], primary="new")
    >>> outcome = influxkit.write("both", "cpu v=1i 1")
    >>> sorted(outcome), outcome["old"].lines
    (['new', 'old'], 1)
    >>> influxkit.query_sql("both", "SELECT v FROM cpu")    # the primary answers
    [{'v': 1}]
    >>> influxkit.remove_group("both")
    >>> influxkit.remove_connection("old"); influxkit.remove_connection("new")
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from influxkit import registry
from influxkit.errors import ConfigError, ConnectionNotFound, InfluxError, UnsupportedOperation
from influxkit.lineprotocol.precision import normalize_precision

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from influxkit.clients.base import WriteOutcome
    from influxkit.connection import Connection
    from influxkit.detection import ServerInfo

__all__ = ["Group", "GroupOutcome", "GroupWriteError", "add_group", "get", "remove_group"]

T = TypeVar("T")

# Never mutated in place (see registry.py): writers rebind it under the lock.
_groups: dict[str, Group] = {}
_lock = threading.Lock()


class GroupWriteError(InfluxError):
    """Some members of a group refused a write; the others have it.

    Attributes:
        outcomes: member name -> :class:`~influxkit.WriteOutcome` of those that took it.
        errors: member name -> the error of each that did not.
    """

    def __init__(
        self,
        message: str,
        *,
        outcomes: Mapping[str, WriteOutcome],
        errors: Mapping[str, BaseException],
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.outcomes = dict(outcomes)
        self.errors = dict(errors)


class GroupOutcome(Mapping[str, "WriteOutcome"]):
    """One :class:`~influxkit.WriteOutcome` per member, by member name."""

    def __init__(self, outcomes: Mapping[str, WriteOutcome]) -> None:
        self._outcomes = dict(outcomes)

    def __getitem__(self, name: str) -> WriteOutcome:
        return self._outcomes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._outcomes)

    def __len__(self) -> int:
        return len(self._outcomes)

    def __repr__(self) -> str:
        return f"GroupOutcome({self._outcomes!r})"


class Group:
    """A named set of registered connections that writes fan out to.

    Members are connection names, resolved at each call, so replacing a member's
    connection (``add_connection(name, ..., replace=True)``) takes effect at once.
    """

    def __init__(self, name: str, members: Sequence[str], primary: str) -> None:
        self.name = name
        self.members = tuple(members)
        self.primary = primary
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Group {self.name!r} members={list(self.members)} primary={self.primary!r}>"

    # -- resolution ------------------------------------------------------------

    def _member(self, name: str) -> Connection:
        try:
            return registry.fetch(name)
        except ConnectionNotFound as exc:
            raise ConnectionNotFound(
                f"group {self.name!r}: its member {name!r} is not registered ({exc.message})"
            ) from None

    def primary_connection(self) -> Connection:
        """The connection queries on this group go to."""
        return self._member(self.primary)

    def _each(
        self, call: Callable[[Connection], T]
    ) -> tuple[dict[str, T], dict[str, BaseException]]:
        """``call`` on every member side by side; results and errors by member name."""
        conns = {name: self._member(name) for name in self.members}
        with self._pool_lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(
                    max_workers=len(self.members), thread_name_prefix=f"influxkit-group-{self.name}"
                )
            pool = self._pool
        futures = {name: pool.submit(call, conn) for name, conn in conns.items()}
        results: dict[str, T] = {}
        errors: dict[str, BaseException] = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except InfluxError as exc:
                errors[name] = exc
        return results, errors

    def close(self) -> None:
        """Stop the group's worker threads (the members stay open)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    # -- what a group does -------------------------------------------------------

    def write(self, records: Any, *, precision: str | None = None, **options: Any) -> GroupOutcome:
        """Encode once, write to every member; one outcome per member.

        Raises:
            GroupWriteError: a member refused; the others' outcomes are on the error.
        """
        from influxkit.lineprotocol.encode import encode

        prec = normalize_precision(precision or "ns")
        body = encode(records, precision=prec if prec != "auto" else "ns")
        outcomes, errors = self._each(lambda c: c.write(body, precision=prec, **options))
        if errors:
            detail = "; ".join(f"{name}: {exc}" for name, exc in errors.items())
            raise GroupWriteError(
                f"group {self.name!r}: {len(errors)} of {len(self.members)} member(s) "
                f"refused the write ({detail}); the others have it",
                outcomes=outcomes,
                errors=errors,
                operation="write",
                connection=self.name,
            )
        return GroupOutcome(outcomes)

    def flush(self, timeout: float | None = None) -> None:
        """Flush every member (side by side); raises the first member's error, if any."""
        _, errors = self._each(lambda c: c.flush(timeout))
        if errors:
            raise next(iter(errors.values()))

    def stats(self) -> dict[str, dict[str, Any]]:
        """Each member's counters, by member name."""
        return {name: self._member(name).stats() for name in self.members}

    def health(self) -> dict[str, dict[str, Any]]:
        """Each member's health, by name; a member that cannot answer shows ``fail``."""
        results, errors = self._each(lambda c: c.health())
        for name, exc in errors.items():
            results[name] = {"status": "fail", "message": str(exc)}
        return {name: results[name] for name in self.members}

    def server_info(self) -> dict[str, ServerInfo]:
        """Each member's server, by name (as :meth:`health`, side by side); raises the
        first member's error, if any (as :meth:`flush`)."""
        results, errors = self._each(lambda c: c.server_info())
        if errors:
            raise next(iter(errors.values()))
        return {name: results[name] for name in self.members}

    def unsupported(self, operation: str) -> UnsupportedOperation:
        """The error for an operation that makes no sense on a group."""
        return UnsupportedOperation(
            f"{operation}() makes no sense on group {self.name!r}, which fans writes out to "
            f"{', '.join(self.members)}; call it on one member by its name",
            operation=operation,
            connection=self.name,
        )


def get(name: str) -> Group | None:
    """The group named ``name``, or ``None``. Takes no lock."""
    return _groups.get(name)


def add_group(
    name: str, members: Sequence[str], *, primary: str | None = None, replace: bool = False
) -> Group:
    """Register a group of connection names; writes to ``name`` go to every member.

    ``primary`` (default: the first member) answers the group's queries. Members must
    be registered already; a group cannot share a name with a connection.
    """
    global _groups  # noqa: PLW0603 - copy-on-write: rebinding is the design
    members = list(dict.fromkeys(members))
    if not isinstance(name, str) or not name:
        raise ConfigError(f"invalid group name {name!r}: expected a non-empty string")
    if not members:
        raise ConfigError(f"group {name!r} needs at least one member")
    primary = members[0] if primary is None else primary
    if primary not in members:
        raise ConfigError(
            f"group {name!r}: primary={primary!r} is not one of its members {members}"
        )
    for member in members:
        registry.fetch(member)  # raises ConnectionNotFound, listing the names
    if registry.get(name) is not None:
        raise ConfigError(f"{name!r} is a connection's name; give the group another")
    group = Group(name, members, primary)
    with _lock:
        old = _groups.get(name)
        if old is not None and not replace:
            raise ConfigError(
                f"a group named {name!r} exists; pass replace=True or remove_group() it first"
            )
        _groups = {**_groups, name: group}
    if old is not None:
        old.close()
    return group


def remove_group(name: str) -> None:
    """Unregister the group (its members stay registered and open)."""
    global _groups  # noqa: PLW0603 - copy-on-write: rebinding is the design
    with _lock:
        group = _groups.get(name)
        if group is None:
            known = ", ".join(repr(n) for n in sorted(_groups)) or "none"
            raise ConnectionNotFound(f"no group named {name!r} (groups: {known})")
        _groups = {k: v for k, v in _groups.items() if k != name}
    group.close()

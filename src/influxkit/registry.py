"""Name -> Connection, readable from any thread without a lock.

Writers build a new dict and swap the module's reference under a lock; readers only
ever load that reference (one atomic operation in CPython), so a reader never waits
and never sees a half-built mapping.
"""

from __future__ import annotations

import threading
from types import MappingProxyType
from typing import TYPE_CHECKING

from influxkit.errors import ConnectionNotFound

if TYPE_CHECKING:
    from influxkit.connection import Connection

__all__ = ["delete", "fetch", "get", "names", "put", "put_new", "snapshot"]

# Never mutated in place: every change builds a new dict and rebinds this name.
_connections: dict[str, Connection] = {}
_write_lock = threading.Lock()


def get(name: str) -> Connection | None:
    """The connection registered as ``name``, or ``None``. Takes no lock."""
    return _connections.get(name)


def fetch(name: str) -> Connection:
    """The connection registered as ``name``.

    Raises:
        ConnectionNotFound: no such name; the message lists the registered names.
    """
    conn = _connections.get(name)
    if conn is None:
        raise _not_found(name, _connections)
    return conn


def _not_found(name: str, current: dict[str, Connection]) -> ConnectionNotFound:
    known = ", ".join(repr(n) for n in sorted(current)) or "none"
    return ConnectionNotFound(
        f"no connection named {name!r} is registered (registered: {known}); "
        "register it with influxkit.add_connection(name, ...)"
    )


def names() -> list[str]:
    """The registered names, sorted."""
    return sorted(_connections)


def snapshot() -> MappingProxyType[str, Connection]:
    """The whole mapping as it is now (read-only; later changes do not show in it)."""
    return MappingProxyType(_connections)


def put(name: str, conn: Connection) -> Connection | None:
    """Register ``conn`` as ``name``, replacing any previous one; returns the previous."""
    global _connections  # noqa: PLW0603 - copy-on-write: rebinding is the design
    with _write_lock:
        previous = _connections.get(name)
        _connections = {**_connections, name: conn}
    return previous


def put_new(name: str, conn: Connection) -> bool:
    """Register ``conn`` as ``name`` only if the name is free; whether it was."""
    global _connections  # noqa: PLW0603 - copy-on-write: rebinding is the design
    with _write_lock:
        if name in _connections:
            return False
        _connections = {**_connections, name: conn}
    return True


def delete(name: str) -> Connection | None:
    """Unregister ``name`` (no error if absent); returns what was registered."""
    global _connections  # noqa: PLW0603 - copy-on-write: rebinding is the design
    with _write_lock:
        if name not in _connections:
            return None
        new = dict(_connections)
        previous = new.pop(name)
        _connections = new
    return previous

"""InfluxDB 2.x's organization and buckets for the local engine's ``v2`` profile.

A bucket *is* one of the engine's databases, by name: writes (``/api/v2/write``), Flux
``from(bucket:)`` and InfluxQL read and write its data; this module keeps what 2.x
knows about each besides: its 16-hex-digit id, type (``user`` / ``system``),
description, retention and shard-group duration, and creation times.  It follows
InfluxDB 2.7's tenant service (``tenant/service_bucket.go``, ``storage_bucket.go``,
``http_server_bucket.go``, ``storage/bucket_service.go``):

* the organization has the two system buckets 2.x makes with it, ``_monitoring``
  (7 days) and ``_tasks`` (3 days); they cannot be deleted or renamed;
* ids are random 64-bit numbers with no byte ``\\``, ``,`` or space, as 2.x's
  ``rand.OrgBucketID`` makes them, printed as 16 lowercase hex digits;
* a shard-group duration of 0 is normalised from the retention (7 days for infinite or
  >= 180 days, 1 day from 2 days, else 1 hour), as the storage engine does;
* errors are 2.x's: the ``{"code", "message"}`` body, its status and its words.

Retention is stored and reported; the engine does not expire data.

The engine has one organization.  Its name is given to :class:`Tenancy` (the
connection's ``org``); otherwise the first request that names one names it, as
``influx setup --org`` would have, and ``influxkit`` is reported until then.  A request
that names none uses it, as the HTTP client uses the first organization a server lists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import MutableMapping

from influxkit.clients.local.bucket_model import (
    DEFAULT_ORG,
    MIN_RETENTION,
    SYSTEM_BUCKETS,
    Bucket,
    Org,
    V2Error,
    check_durations,
    check_name,
    new_id,
    shard_group_seconds,
    v2_error,
)
from influxkit.clients.local.storage import Database

__all__ = ["Tenancy"]


class Tenancy:
    """The organization and the buckets' metadata of one ``v2`` engine.

    Args:
        databases: the engine's databases (name -> :class:`Database`), shared: a bucket
            created here is a database there, and a database made another way (InfluxQL
            ``CREATE DATABASE``, the engine's ``create_database``) is a bucket here.
        lock: the engine's lock, held for every operation.
        org: the organization's name (``None``: named by the first request naming one).

    Example:
        >>> import threading
        >>> tenancy = Tenancy({}, threading.RLock(), org="acme")
        >>> tenancy.create_named("cpu", org="acme", retention_seconds=86400).retention_seconds
        86400
        >>> tenancy.names(org=None)
        ['_monitoring', '_tasks', 'cpu']
    """

    def __init__(
        self,
        databases: MutableMapping[str, Database],
        lock: threading.RLock,
        org: str | None = None,
    ) -> None:
        self._databases = databases
        self._lock = lock
        self.org = Org(id=new_id(), name=org or DEFAULT_ORG, named=org is not None)
        self._buckets: dict[str, Bucket] = {}
        with lock:
            for name, (retention, description) in SYSTEM_BUCKETS.items():
                databases.setdefault(name, Database(name))
                self._buckets[name] = Bucket(
                    id=self._new_id(),
                    org_id=self.org.id,
                    name=name,
                    type="system",
                    description=description,
                    retention_seconds=retention,
                    shard_group_seconds=shard_group_seconds(0, retention),
                )
            self._sync()

    # -- bookkeeping -------------------------------------------------------------

    def _new_id(self) -> str:
        return new_id([self.org.id, *(b.id for b in self._buckets.values())])

    def _sync(self) -> None:
        """Buckets for databases made another way; none for databases deleted another way."""
        for name in self._databases:
            if name not in self._buckets:
                self._buckets[name] = Bucket(id=self._new_id(), org_id=self.org.id, name=name)
        for name in [n for n in self._buckets if n not in self._databases]:
            del self._buckets[name]

    # -- organizations -----------------------------------------------------------

    def resolve_org(self, name: str | None) -> Org:
        """The organization called ``name`` (``None``: the one there is).

        Raises:
            DatabaseNotFound: another name, once the organization has one (404, as
                2.x's ``organization name "<name>" not found``).
        """
        with self._lock:
            org = self.org
            if name is None or name == org.name:
                return org
            if not org.named:  # the first name given is the organization's
                org.name, org.named = name, True
                return org
            raise v2_error(V2Error.NOT_FOUND, f'organization name "{name}" not found')

    def find_orgs(self, *, org_id: str | None = None, name: str | None = None) -> list[Org]:
        """``GET /api/v2/orgs``: by id, by name, or all (404 for an unknown id or name)."""
        with self._lock:
            if org_id is not None:
                if org_id != self.org.id:
                    raise v2_error(V2Error.NOT_FOUND, "organization not found")
                return [self.org]
            return [self.resolve_org(name)]

    # -- buckets -----------------------------------------------------------------

    def by_id(self, bucket_id: str) -> Bucket:
        """The bucket with ``bucket_id`` (404 ``bucket not found``)."""
        with self._lock:
            self._sync()
            for bucket in self._buckets.values():
                if bucket.id == bucket_id:
                    return bucket
        raise v2_error(V2Error.NOT_FOUND, "bucket not found")

    def find(
        self,
        *,
        bucket_id: str | None = None,
        name: str | None = None,
        org_id: str | None = None,
        org: str | None = None,
        limit: int = 20,
        offset: int = 0,
        after: str | None = None,
        descending: bool = False,
    ) -> list[Bucket]:
        """``GET /api/v2/buckets``: 2.x's ``FindBuckets`` with its filters and paging.

        An id wins over the other filters; an org name is looked up when no org id is
        given; a name within an org is one bucket or a 404.  Within an org, buckets come
        in name order; across orgs in id order, ``offset`` counting the buckets the
        name filter leaves out too (as 2.x's cursor does).
        """
        offset = max(0, offset)  # 2.x skips nothing for a negative offset
        with self._lock:
            self._sync()
            if bucket_id is not None:
                return [self.by_id(bucket_id)]
            if org_id is None and org is not None:
                org_id = self.resolve_org(org).id
            if name is not None and org_id is not None:
                found = self._buckets.get(name)
                if found is None or found.org_id != org_id:
                    raise v2_error(V2Error.NOT_FOUND, f'bucket "{name}" not found')
                return [found]
            buckets = list(self._buckets.values())
        if org_id is not None:
            ordered = sorted((b for b in buckets if b.org_id == org_id), key=lambda b: b.name)
            if descending:
                ordered.reverse()
            ordered = ordered[offset:]
            if after is not None:
                ids = [b.id for b in ordered]
                ordered = ordered[ids.index(after) + 1 :] if after in ids else []
            return ordered[:limit]
        ordered = sorted(buckets, key=lambda b: b.id, reverse=descending)
        if after is not None:
            ordered = [b for b in ordered if (b.id < after if descending else b.id > after)]
        picked = [b for b in ordered[offset:] if name is None or b.name == name]
        return picked[:limit]

    def names(self, *, org: str | None) -> list[str]:
        """The names of the organization's buckets, sorted (system buckets included)."""
        with self._lock:
            org_id = self.resolve_org(org).id
            self._sync()
            return sorted(b.name for b in self._buckets.values() if b.org_id == org_id)

    def create(
        self,
        name: str,
        *,
        org_id: str,
        retention_seconds: int = 0,
        shard_group: int = 0,
        description: str = "",
        rp: str = "",
    ) -> Bucket:
        """``POST /api/v2/buckets`` once its body is read: a new user bucket (and database).

        Raises:
            ServerError: a reserved or quoted name (400); the name exists in the org
                (422 ``conflict``); a retention under an hour, or shorter than the shard
                group (500, as 2.x's storage engine answers).
            DatabaseNotFound: no organization has ``org_id`` (404).
        """
        shard_group = shard_group_seconds(shard_group, retention_seconds)
        check_name(name)
        with self._lock:
            if org_id != self.org.id:
                raise v2_error(V2Error.NOT_FOUND, "organization not found")
            self._sync()
            if name in self._buckets:
                raise v2_error(V2Error.CONFLICT, f"bucket with name {name} already exists")
            check_durations(retention_seconds, shard_group)
            bucket = Bucket(
                id=self._new_id(),
                org_id=org_id,
                name=name,
                description=description,
                rp=rp,
                retention_seconds=retention_seconds,
                shard_group_seconds=shard_group,
            )
            self._databases[name] = Database(name)
            self._buckets[name] = bucket
            return bucket

    def create_named(self, name: str, *, org: str | None, retention_seconds: int | None) -> Bucket:
        """``create_bucket()`` as the HTTP client does it: the org by name, then the POST.

        A falsy ``retention_seconds`` sends no rule (infinite retention); a negative one
        is 2.x's 422.
        """
        org_id = self.resolve_org(org).id
        if retention_seconds and retention_seconds < 0:
            raise v2_error(V2Error.UNPROCESSABLE, "expiration seconds cannot be negative")
        return self.create(name, org_id=org_id, retention_seconds=retention_seconds or 0)

    def delete(self, bucket_id: str) -> None:
        """``DELETE /api/v2/buckets/<id>``: the bucket and its data.

        Raises:
            DatabaseNotFound: no bucket has that id (404 ``bucket not found``).
            ServerError: a system bucket (400 ``system buckets cannot be deleted``).
        """
        with self._lock:
            bucket = self.by_id(bucket_id)
            if bucket.is_system:
                raise v2_error(V2Error.INVALID, "system buckets cannot be deleted")
            del self._buckets[bucket.name]
            self._databases.pop(bucket.name, None)

    def delete_named(self, name: str, *, org: str | None) -> None:
        """``delete_bucket()`` as the HTTP client does it: find the id by name, delete it."""
        with self._lock:
            found = self.find(name=name, org=org)
            if not found:
                raise v2_error(V2Error.NOT_FOUND, f'bucket "{name}" not found')
            self.delete(found[0].id)

    def update(
        self,
        bucket_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        retention_seconds: int | None = None,
        shard_group: int | None = None,
    ) -> Bucket:
        """``PATCH /api/v2/buckets/<id>``: rename, describe, or change the retention rule.

        Raises:
            DatabaseNotFound: no bucket has that id (404).
            ServerError: renaming a system bucket or to a reserved name (400), to a name
                in use (422), a retention under an hour (500) or shorter than the shard
                group (422), as 2.x answers each.
        """
        with self._lock:
            bucket = self.by_id(bucket_id)
            if retention_seconds is not None or shard_group is not None:
                retention = (
                    bucket.retention_seconds if retention_seconds is None else retention_seconds
                )
                if retention != 0 and retention < MIN_RETENTION:
                    check_durations(retention, 0)
                group = bucket.shard_group_seconds
                if shard_group is not None:
                    group = shard_group_seconds(shard_group, retention)
                if 0 < retention < group:
                    raise v2_error(
                        V2Error.UNPROCESSABLE,
                        "shard-group duration must also be updated to be smaller than new "
                        "retention duration",
                    )
            if name is not None and name != bucket.name:
                if bucket.is_system:
                    raise v2_error(V2Error.INVALID, "system buckets cannot be renamed")
                check_name(name)
                if name in self._buckets:
                    raise v2_error(V2Error.CONFLICT, "bucket name is not unique")
                self._databases[name] = self._databases.pop(bucket.name)
                self._databases[name].name = name
                del self._buckets[bucket.name]
                bucket.name = name
                self._buckets[name] = bucket
            if description is not None:
                bucket.description = description
            if retention_seconds is not None:
                bucket.retention_seconds = retention_seconds
            if shard_group is not None:
                bucket.shard_group_seconds = shard_group
            bucket.updated_ns = time.time_ns()
            return bucket

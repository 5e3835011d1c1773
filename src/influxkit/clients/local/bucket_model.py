"""What InfluxDB 2.x knows of an organization and a bucket, and its rules for them.

The records :class:`~influxkit.clients.local.buckets.Tenancy` keeps, in 2.7's JSON shapes
(``tenant/http_server_bucket.go`` ``BucketResponse``, ``http_server_org.go``
``OrgResponse``); ids as ``rand.OrgBucketID`` makes them; the shard-group normalisation
of the storage engine; bucket-name and duration checks; and 2.x's errors, as the
exception the HTTP client raises for each with the ``{"code", "message"}`` body.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from influxkit.errors import DatabaseNotFound, ServerError

__all__ = [
    "DEFAULT_ORG",
    "MIN_RETENTION",
    "SYSTEM_BUCKETS",
    "Bucket",
    "Org",
    "V2Error",
    "check_durations",
    "check_name",
    "go_time",
    "new_id",
    "shard_group_seconds",
    "v2_error",
]

DEFAULT_ORG = "influxkit"
_DAY = 86_400
# name -> (retention seconds, description), as 2.x creates them with an organization.
SYSTEM_BUCKETS: dict[str, tuple[int, str]] = {
    "_monitoring": (7 * _DAY, "System bucket for monitoring logs"),
    "_tasks": (3 * _DAY, "System bucket for task logs"),
}
MIN_RETENTION = 3600  # meta.MinRetentionPolicyDuration
_FORBIDDEN_ID_BYTES = frozenset(b"\\, ")

# 2.x's error codes (kit/platform/errors) and the statuses its HTTP layer gives them.
_STATUS = {
    "invalid": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not found": 404,
    "method not allowed": 405,
    "request too large": 413,
    "conflict": 422,
    "unprocessable entity": 422,
    "internal error": 500,
}


class V2Error:
    """The 2.x error codes, by name (the ``code`` of a ``{"code", "message"}`` body)."""

    INVALID = "invalid"
    NOT_FOUND = "not found"
    CONFLICT = "conflict"
    UNPROCESSABLE = "unprocessable entity"
    INTERNAL = "internal error"


def v2_error(code: str, message: str) -> ServerError:
    """The exception for a 2.x refusal: its status, and the body 2.x answers.

    A 404 is :class:`DatabaseNotFound` (the class the HTTP client raises for it).

    Example:
        >>> err = v2_error(V2Error.CONFLICT, "bucket with name b already exists")
        >>> (type(err).__name__, err.status, err.body["code"])
        ('ServerError', 422, 'conflict')
    """
    status = _STATUS[code]
    cls = DatabaseNotFound if status == 404 else ServerError
    return cls(message, status=status, body={"code": code, "message": message})


def new_id(taken: Iterable[str] = ()) -> str:
    """A fresh id as 2.x makes one for an organization or bucket: 16 lowercase hex digits.

    Example:
        >>> ident = new_id()
        >>> len(ident), int(ident, 16) != 0
        (16, True)
    """
    used = set(taken)
    while True:
        raw = bytes(b + 1 if b in _FORBIDDEN_ID_BYTES else b for b in secrets.token_bytes(8))
        ident = raw.hex()
        if int(ident, 16) and ident not in used:
            return ident


def go_time(ns: int) -> str:
    """A UTC time in nanoseconds as Go's ``time.Time`` writes it in JSON (RFC 3339, ns).

    Example:
        >>> go_time(1_700_000_000_120_000_000)
        '2023-11-14T22:13:20.12Z'
        >>> go_time(1_700_000_000_000_000_000)
        '2023-11-14T22:13:20Z'
    """
    seconds, frac = divmod(ns, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def shard_group_seconds(requested: int, retention: int) -> int:
    """The shard-group duration 2.x stores for a bucket (``meta.NormalisedShardDuration``).

    0 is derived from the retention; anything under an hour becomes an hour.

    Example:
        >>> [shard_group_seconds(0, r) for r in (0, 3 * 86400, 3600)]
        [604800, 86400, 3600]
    """
    if requested >= MIN_RETENTION:
        return requested
    basis = retention if requested == 0 else MIN_RETENTION
    if basis == 0 or basis >= 180 * _DAY:
        return 7 * _DAY
    return _DAY if basis >= 2 * _DAY else 3600


@dataclass(slots=True)
class Org:
    """The organization: id, name, and whether a request or the config has named it."""

    id: str
    name: str
    named: bool
    created_ns: int = field(default_factory=time.time_ns)

    def to_json(self) -> dict[str, Any]:
        """2.x's ``OrgResponse``: links first, then the organization's fields."""
        created = go_time(self.created_ns)
        links = {
            "self": f"/api/v2/orgs/{self.id}",
            "logs": f"/api/v2/orgs/{self.id}/logs",
            "members": f"/api/v2/orgs/{self.id}/members",
            "owners": f"/api/v2/orgs/{self.id}/owners",
            "secrets": f"/api/v2/orgs/{self.id}/secrets",
            "labels": f"/api/v2/orgs/{self.id}/labels",
            "buckets": f"/api/v2/buckets?org={self.name}",
            "tasks": f"/api/v2/tasks?org={self.name}",
            "dashboards": f"/api/v2/dashboards?org={self.name}",
        }
        return {
            "links": links,
            "id": self.id,
            "name": self.name,
            "description": "",
            "createdAt": created,
            "updatedAt": created,
        }


@dataclass(slots=True)
class Bucket:
    """What 2.x knows of a bucket besides its data (durations in seconds)."""

    id: str
    org_id: str
    name: str
    type: str = "user"
    description: str = ""
    rp: str = ""
    retention_seconds: int = 0
    shard_group_seconds: int = 7 * _DAY
    created_ns: int = field(default_factory=time.time_ns)
    updated_ns: int = 0

    def __post_init__(self) -> None:
        self.updated_ns = self.updated_ns or self.created_ns

    @property
    def is_system(self) -> bool:
        """A system bucket (``_monitoring``, ``_tasks``): not deleted, not renamed."""
        return self.type == "system"

    def to_json(self) -> dict[str, Any]:
        """2.x's ``BucketResponse``, keys in its order (empty ``description``/``rp`` left out)."""
        doc: dict[str, Any] = {"id": self.id, "orgID": self.org_id, "type": self.type}
        if self.description:
            doc["description"] = self.description
        doc["name"] = self.name
        if self.rp:
            doc["rp"] = self.rp
        rules = []
        if self.retention_seconds > 0 or self.shard_group_seconds > 0:
            rules.append(
                {
                    "type": "expire",
                    "everySeconds": self.retention_seconds,
                    "shardGroupDurationSeconds": self.shard_group_seconds,
                }
            )
        doc["retentionRules"] = rules
        doc["createdAt"] = go_time(self.created_ns)
        doc["updatedAt"] = go_time(self.updated_ns)
        doc["links"] = {
            "self": f"/api/v2/buckets/{self.id}",
            "org": f"/api/v2/orgs/{self.org_id}",
            "members": f"/api/v2/buckets/{self.id}/members",
            "owners": f"/api/v2/buckets/{self.id}/owners",
            "labels": f"/api/v2/buckets/{self.id}/labels",
            "write": f"/api/v2/write?org={self.org_id}&bucket={self.id}",
        }
        doc["labels"] = []
        return doc


def check_name(name: str) -> None:
    """2.x's ``validBucketName`` for a user bucket."""
    if name.startswith("_"):
        raise v2_error(
            V2Error.INVALID, f"bucket name {name} is invalid. Buckets may not start with underscore"
        )
    if '"' in name:
        raise v2_error(
            V2Error.INVALID,
            f"bucket name {name} is invalid. Bucket names may not include quotation marks",
        )


def check_durations(retention: int, shard_group: int) -> None:
    """The storage engine's checks when it creates the bucket's retention policy (500s)."""
    if retention != 0 and retention < MIN_RETENTION:
        raise v2_error(V2Error.INTERNAL, "retention policy duration must be at least 1h0m0s")
    if 0 < retention < shard_group:
        raise v2_error(
            V2Error.INTERNAL, "retention policy duration must be greater than the shard duration"
        )

"""How ``influxkit serve`` says which server it is: ``/ping`` and ``/health`` per profile.

Each profile answers as its server does (reference section 4.5), so a client's
detection (:mod:`influxkit.detection`, or any other client's) sees that server:

* ``v3_core`` / ``v3_enterprise``: ``/ping`` 200 JSON ``product_name``, ``version``,
  ``revision``, ``process_id`` with ``X-Influxdb-Build: Core`` / ``Enterprise``;
  ``/health`` 200 ``OK``; both need the token, as on the server.
* ``v2``: ``/ping`` 204 with ``X-Influxdb-Build: OSS`` and ``X-Influxdb-Version``;
  ``/health`` 200 JSON ``{"name": "influxdb", ..., "version", "commit"}``; open.
* ``v1``: ``/ping`` 204 with the same headers (200 ``{"version"}`` with
  ``?verbose=true``); ``/health`` as InfluxDB 1.8 answers it (no ``commit``); open.

The versions claimed are :data:`influxkit.detection.LOCAL_VERSIONS`: a 1.8 for ``v1``
(the last 1.x line, which has ``/health`` and the 2.x-compatible endpoints ``serve``
offers on every profile).
"""

from __future__ import annotations

import uuid

import orjson

from influxkit.clients.profiles import Profile
from influxkit.detection import LOCAL_VERSIONS

__all__ = ["Identity", "health_answer", "is_open", "ping_answer"]

Identity = tuple[int, dict[str, str], bytes]  # status, headers, body

_BUILDS = {"v3_core": "Core", "v3_enterprise": "Enterprise"}
_READY = "ready for queries and writes"


def is_open(profile: Profile) -> bool:
    """Whether ``/ping`` and ``/health`` answer without a token (1.x and 2.x: always)."""
    return not profile.name.startswith("v3")


def ping_answer(
    profile: Profile, *, revision: str, process_id: str, verbose: bool = False
) -> Identity:
    """The answer of ``GET /ping`` of the server ``profile`` stands for."""
    version = LOCAL_VERSIONS[profile.name]
    request_id = str(uuid.uuid4())
    headers = {
        "x-influxdb-version": version,
        "x-influxdb-build": _BUILDS.get(profile.name, "OSS"),
        "request-id": request_id,
        "x-request-id": request_id,
    }
    if profile.name.startswith("v3"):
        doc = {
            "product_name": profile.product,
            "version": version,
            "revision": revision,
            "process_id": process_id,
        }
        return 200, {"content-type": "application/json", **headers}, orjson.dumps(doc)
    if verbose and profile.name == "v1":
        body = orjson.dumps({"version": version})
        return 200, {"content-type": "application/json", **headers}, body
    return 204, {"content-type": "application/json", **headers}, b""


def health_answer(profile: Profile, *, revision: str) -> Identity:
    """The answer of ``GET /health`` of the server ``profile`` stands for."""
    if profile.name.startswith("v3"):
        return 200, {"content-type": "text/plain; charset=utf-8"}, b"OK"
    doc: dict[str, object] = {
        "name": "influxdb",
        "message": _READY,
        "status": "pass",
        "checks": [],
        "version": LOCAL_VERSIONS[profile.name],
    }
    if profile.name == "v2":
        doc["commit"] = revision
    return 200, {"content-type": "application/json; charset=utf-8"}, orjson.dumps(doc)

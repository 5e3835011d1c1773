"""Which server is on the other end: :class:`ServerInfo`, read from ``/ping`` and ``/health``.

Sans-IO, like :mod:`influxkit.clients.http_ops`: :func:`detect` is a plan that yields the
:class:`~influxkit.protocol.requests.Request` objects to send and is sent each
:class:`Answer` (status, headers, body, whatever the status), and :func:`classify` is the
pure function that turns the answers into a :class:`ServerInfo`. The sync client drives
the plan with :func:`run_plan`, the asyncio client with the same loop and ``await``.

What each server answers (reference section 4.5, and measured on Debian's 1.6.7):

=========================  =============================================================
InfluxDB 3 Core            ``/ping`` 200 JSON ``product_name``, ``version``, ``revision``;
                           ``X-Influxdb-Build: Core``; ``/ping`` needs a token by default
InfluxDB 3 Enterprise      the same with ``Enterprise``
InfluxDB 2.x OSS           ``/ping`` 204, ``X-Influxdb-Build: OSS``, ``X-Influxdb-Version:
                           2.x``; ``/health`` JSON ``{"name": "influxdb", "version", ...}``
InfluxDB Cloud (TSM)       ``/ping`` 204, ``X-Influxdb-Build: cloud2``
InfluxDB 1.x               ``/ping`` 204, ``X-Influxdb-Build: OSS`` (``ENT``),
                           ``X-Influxdb-Version: 1.x``; ``/health`` only from 1.8
=========================  =============================================================

``/ping`` alone is conclusive for every InfluxDB that sends its headers, so detection
costs one request; ``/health`` is asked only when ``/ping`` says too little (a proxy
that strips headers). Anything else (a proxy's HTML page, a redirect to a login page,
a 404 at a wrong path) is :class:`~influxkit.errors.ServerMismatch` with what answered.

Example:
    >>> info = classify(Answer(204, {"X-Influxdb-Version": "1.6.7~rc0",
    ...                             "X-Influxdb-Build": "OSS"}))
    >>> info.product, info.version, info.api_version, info.profile
    ('InfluxDB 1.x OSS', '1.6.7~rc0', 'v1', 'v1')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from influxkit.errors import AuthError, ServerError, ServerMismatch
from influxkit.protocol.requests import Request
from influxkit.protocol.responses import retry_after

__all__ = [
    "CLOUD",
    "LOCAL_VERSIONS",
    "UNIDENTIFIED",
    "V1",
    "V1_ENTERPRISE",
    "V2",
    "V3",
    "V3_CORE",
    "V3_ENTERPRISE",
    "Answer",
    "ServerInfo",
    "classify",
    "detect",
    "for_profile",
    "needs_health",
    "run_plan",
]

ApiVersion = Literal["v3", "v2", "v1"]

V3_CORE = "InfluxDB 3 Core"
V3_ENTERPRISE = "InfluxDB 3 Enterprise"
V3 = "InfluxDB 3"  # the edition could not be told
CLOUD = "InfluxDB Cloud"
V2 = "InfluxDB 2.x OSS"
V1 = "InfluxDB 1.x OSS"
V1_ENTERPRISE = "InfluxDB 1.x Enterprise"
UNIDENTIFIED = "InfluxDB (unidentified)"

#: The versions the local engine (and ``influxkit serve``) reports for each profile.
LOCAL_VERSIONS = {"v3_core": "3.10.1", "v3_enterprise": "3.10.1", "v2": "v2.7.11", "v1": "1.8.10"}

_PRODUCT_OF_PROFILE = {"v3_core": V3_CORE, "v3_enterprise": V3_ENTERPRISE, "v2": V2, "v1": V1}
_BUILD_OF_PROFILE = {"v3_core": "Core", "v3_enterprise": "Enterprise", "v2": "OSS", "v1": "OSS"}
# Which client APIs each kind of server answers: InfluxDB 3 keeps the 1.x and 2.x write
# and /query endpoints, 2.x keeps 1.x's, 1.8 added /api/v2/write and /api/v2/query.
_SPEAKS: dict[str, frozenset[str]] = {
    "v3": frozenset({"v3", "v2", "v1"}),
    "v2": frozenset({"v2", "v1"}),
    "v1": frozenset({"v1"}),
    "v1.8": frozenset({"v1", "v2"}),
}
_MAJOR = re.compile(r"v?(\d+)(?:\.(\d+))?")
_SHOWN_BODY = 120


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer as detection reads it: status, headers, body (any status)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name (``None`` if absent)."""
        value = self.headers.get(name)
        if value is None:
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), None)
        return value


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What answers at a connection's URL.

    Attributes:
        product: ``InfluxDB 3 Core``, ``InfluxDB 3 Enterprise``, ``InfluxDB Cloud``,
            ``InfluxDB 2.x OSS``, ``InfluxDB 1.x OSS`` / ``Enterprise``, or
            ``InfluxDB (unidentified)`` (an InfluxDB-like ``/ping`` without its headers).
        version: the version the server reports (``"1.6.7~rc0"``, ``"3.10.1"``), if any.
        build: the ``X-Influxdb-Build`` header (``Core``, ``Enterprise``, ``OSS``, ``ENT``,
            ``cloud2``), if any.
        api_version: the server's own API (``v3``, ``v2``, ``v1``): what
            ``api_version="auto"`` uses; ``None`` when unidentified.
        profile: the influxkit profile it implies (``v3_core``, ``v3_enterprise``, ``v2``,
            ``v1``); ``None`` when that cannot be told.
        revision: the commit the server reports (v3 ``revision``, 2.x ``commit``).
        url: the base URL asked (never with credentials).
        evidence: how it was told, for messages (``GET /ping: 204, X-Influxdb-Version: ...``).
        details: the raw answers (status, headers, body) by path, for debugging.
    """

    product: str
    version: str | None = None
    build: str | None = None
    api_version: ApiVersion | None = None
    profile: str | None = None
    revision: str | None = None
    url: str = ""
    evidence: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def identified(self) -> bool:
        """Whether the kind of server (and so its API) is known."""
        return self.api_version is not None

    def speaks(self, api_version: str) -> bool:
        """Whether this server answers the endpoints of a client with ``api_version``."""
        if self.api_version is None:
            return False
        family = self.api_version
        if family == "v1" and _minor_at_least(self.version, 1, 8):
            family = "v1.8"
        return api_version in _SPEAKS[family]

    def __str__(self) -> str:
        version = f" {self.version}" if self.version else ""
        where = f" at {self.url}" if self.url else ""
        return f"{self.product}{version}{where}"


def for_profile(profile: str, *, url: str = "", evidence: str = "") -> ServerInfo:
    """The :class:`ServerInfo` of the server a profile stands for (the local engine's)."""
    api: ApiVersion = "v3" if profile.startswith("v3") else profile  # type: ignore[assignment]
    return ServerInfo(
        product=_PRODUCT_OF_PROFILE[profile],
        version=LOCAL_VERSIONS[profile],
        build=_BUILD_OF_PROFILE[profile],
        api_version=api,
        profile=profile,
        url=url,
        evidence=evidence or f"the local engine, profile {profile!r}",
    )


# -- reading the answers -----------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else None


def _version_numbers(version: str | None) -> tuple[int, int] | None:
    match = _MAJOR.match(version.strip()) if isinstance(version, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _minor_at_least(version: str | None, major: int, minor: int) -> bool:
    numbers = _version_numbers(version)
    return numbers is not None and numbers[0] == major and numbers[1] >= minor


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _v3(build: str | None, doc: Mapping[str, Any], version: str | None) -> ServerInfo:
    name = _text(doc.get("product_name")) or ""
    if build == "Enterprise" or "Enterprise" in name:
        product, profile = V3_ENTERPRISE, "v3_enterprise"
    elif build == "Core" or "Core" in name:
        product, profile = V3_CORE, "v3_core"
    else:
        product, profile = name or V3, None
    return ServerInfo(
        product=product,
        version=_text(doc.get("version")) or version,
        build=build,
        api_version="v3",
        profile=profile,
        revision=_text(doc.get("revision")),
    )


def _by_version(version: str | None, build: str | None) -> ServerInfo | None:
    """1.x / 2.x / Cloud / 3 from the version and build headers (or /health's JSON)."""
    numbers = _version_numbers(version)
    major = numbers[0] if numbers else None
    low = (build or "").lower()
    if low.startswith("cloud"):
        return ServerInfo(
            product=CLOUD, version=version, build=build, api_version="v2", profile="v2"
        )
    if major == 3 or build in ("Core", "Enterprise"):
        return _v3(build, {}, version)
    if major == 2:
        return ServerInfo(product=V2, version=version, build=build, api_version="v2", profile="v2")
    if major == 1:
        product = V1_ENTERPRISE if low == "ent" else V1
        return ServerInfo(
            product=product, version=version, build=build, api_version="v1", profile="v1"
        )
    return None


def _from_ping(ping: Answer) -> ServerInfo | None:
    version, build = (
        _text(ping.header("x-influxdb-version")),
        _text(ping.header("x-influxdb-build")),
    )
    doc = _json_object(ping.body) or {}
    if 200 <= ping.status < 300 and ("product_name" in doc or "revision" in doc):
        return _v3(build, doc, version)
    if version or build:
        return _by_version(version or _text(doc.get("version")), build)
    if ping.status == 200 and set(doc) == {"version"}:  # 1.8 verbose ping, headers lost
        return _by_version(_text(doc.get("version")), None)
    return None


def _from_health(health: Answer) -> ServerInfo | None:
    doc = _json_object(health.body) or {}
    if doc.get("name") != "influxdb":
        return None
    found = _by_version(_text(doc.get("version")), _text(health.header("x-influxdb-build")))
    if found is not None and _text(doc.get("commit")):
        found = replace(found, revision=doc["commit"])
    return found


def _shown(answer: Answer) -> str:
    kind = answer.header("content-type")
    text = answer.body[:_SHOWN_BODY].decode("utf-8", "replace")
    text = " ".join(text.split())
    parts = [str(answer.status)]
    if kind:
        parts.append(kind.split(";")[0])
    location = answer.header("location")
    if location:
        parts.append(f"redirect to {location}")
    if text:
        parts.append(repr(text + ("..." if len(answer.body) > _SHOWN_BODY else "")))
    return " ".join(parts)


def _evidence(path: str, answer: Answer) -> str:
    parts = [f"GET {path}: {answer.status}"]
    for name in ("X-Influxdb-Version", "X-Influxdb-Build"):
        value = answer.header(name)
        if value is not None:
            parts.append(f"{name}: {value}")
    doc = _json_object(answer.body) or {}
    for key in ("product_name", "name", "version"):
        if isinstance(doc.get(key), str):
            parts.append(f"{key}={doc[key]!r}")
    return ", ".join(parts)


def _raw(answer: Answer) -> dict[str, Any]:
    return {
        "status": answer.status,
        "headers": {k.lower(): v for k, v in answer.headers.items()},
        "body": answer.body[:2000].decode("utf-8", "replace"),
    }


def needs_health(ping: Answer) -> bool:
    """Whether ``/health`` must be asked too (``/ping`` said too little, or was refused
    by something that is not InfluxDB)."""
    if ping.status in (401, 403):
        return False
    return _from_ping(ping) is None


def classify(ping: Answer, health: Answer | None = None, *, url: str = "") -> ServerInfo:
    """What ``/ping`` (and ``/health``, when asked) say about the server.

    Raises:
        AuthError: ``/ping`` answered 401 / 403 (InfluxDB 3 wants a token there unless
            started with ``--disable-authz ping``; 1.x and 2.x never do).
        ServerError: a 5xx (or 429) answer with nothing of InfluxDB in it (retryable: a
            server starting, a proxy whose upstream is down, a rate limit).
        ServerMismatch: whatever answered is not InfluxDB (``found`` is ``None``).
    """
    details = {"/ping": _raw(ping)}
    if health is not None:
        details["/health"] = _raw(health)
    evidence = _evidence("/ping", ping)
    if ping.status in (401, 403):
        said = _shown(ping)
        raise AuthError(
            f"GET /ping at {url or 'the server'} was refused ({said}): check the token "
            "(InfluxDB 3 asks for one on /ping too, unless started with --disable-authz ping; "
            "a token that may not ping needs an explicit api_version)",
            status=ping.status,
            body=details["/ping"]["body"] or None,
            method="GET",
            path="/ping",
        )
    found = _from_ping(ping)
    if found is None and health is not None:
        found = _from_health(health)
        if found is not None:
            evidence = f"{evidence}; {_evidence('/health', health)}"
    if found is not None:
        return replace(found, url=url, evidence=evidence, details=details)
    if 200 <= ping.status < 300 and not ping.body.strip():
        # An empty 2xx /ping is how 1.x and 2.x answer: InfluxDB behind a proxy that
        # drops the X-Influxdb-* headers. Which one cannot be told.
        return ServerInfo(product=UNIDENTIFIED, url=url, evidence=evidence, details=details)
    if ping.status >= 500 or ping.status == 429:
        raise ServerError(
            f"GET /ping at {url or 'the server'} answered {_shown(ping)}: the server (or a "
            "proxy in front of it) is not ready; try again later",
            status=ping.status,
            body=details["/ping"]["body"] or None,
            method="GET",
            path="/ping",
            retry_after=retry_after({"retry-after": ping.header("retry-after") or ""}),
        )
    seen = f"GET /ping answered {_shown(ping)}"
    if health is not None:
        shown = _shown(health)
        seen += " (GET /health too)" if shown == _shown(ping) else f", GET /health {shown}"
    raise ServerMismatch(
        f"{url or 'the server'} is not InfluxDB (or not at this path): {seen}; check the URL "
        "and path_prefix (InfluxDB behind a proxy is often under a path, e.g. "
        "https://host/influx/)",
        expected="InfluxDB",
        found=None,
        url=url or None,
    )


# -- the plan -------------------------------------------------------------------------

PING = Request("GET", "/ping", "health")
HEALTH = Request("GET", "/health", "health")

Detection = Generator[Request, Answer, ServerInfo]


def detect(url: str = "") -> Detection:
    """Ask ``/ping`` (and ``/health`` if ``/ping`` says too little); the :class:`ServerInfo`.

    Example:
        >>> plan = detect("http://db:8086")
        >>> next(plan).path
        '/ping'
        >>> try:
        ...     plan.send(Answer(204, {"x-influxdb-version": "v2.7.11", "x-influxdb-build": "OSS"}))
        ... except StopIteration as done:
        ...     print(done.value)
        InfluxDB 2.x OSS v2.7.11 at http://db:8086
    """
    ping = yield PING
    health = (yield HEALTH) if needs_health(ping) else None
    return classify(ping, health, url=url)


def run_plan(plan: Detection, send: Callable[[Request], Answer]) -> ServerInfo:
    """Drive ``plan`` with a blocking ``send`` that returns every answer (any status)."""
    try:
        request = next(plan)
        while True:
            request = plan.send(send(request))
    except StopIteration as done:
        return done.value

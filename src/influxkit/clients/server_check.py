"""Once per connection: which server answers, and what the connection then sends it.

A :class:`ServerCheck` belongs to one connection and is shared by its sync HTTP client
and every asyncio client of it (one per event loop). The clients do the IO (the
:func:`influxkit.detection.detect` plan) at the first operation; this object judges the
answer, without IO:

* ``api_version="auto"``: the requests take the API (and, unless given, the profile
  and the auth scheme) of the server found; :attr:`config` is then that resolved config.
* an explicit ``api_version`` (``check_server=True``, the default): the server must
  answer that API's endpoints (InfluxDB 3 answers the 1.x and 2.x ones too) and, for the
  same API, offer what the profile allows; otherwise :class:`~influxkit.ServerMismatch`,
  remembered, so every later operation fails the same way without asking again.

What an answer that tells nothing does (see ``docs/server-detection.md``): no answer or a
5xx is raised as it is (retryable; the next operation asks again), except that an
explicit connection goes on after a 5xx; a 401 with credentials configured is an
:class:`~influxkit.AuthError` (the token is wrong everywhere); a 401 without credentials
or a 403 (a token that may not ping, such as an Enterprise resource token) lets an
explicit connection go on unverified and stops an ``auto`` one, which cannot guess.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from influxkit.clients.profiles import get_profile
from influxkit.errors import AuthError, InfluxError, ServerError, ServerMismatch

if TYPE_CHECKING:
    from influxkit.clients.profiles import Profile
    from influxkit.config import ConnectionConfig
    from influxkit.detection import ServerInfo

__all__ = ["ServerCheck", "judge", "resolve"]

_log = logging.getLogger("influxkit")

_API_NAMES = {
    "v3": "InfluxDB 3 (api_version='v3')",
    "v2": "InfluxDB 2.x (api_version='v2')",
    "v1": "InfluxDB 1.x (api_version='v1')",
}
_OFF = "check_server=False turns this check off"


def _family(profile: str) -> str:
    return "v3" if profile.startswith("v3") else profile


def _mismatch(
    config: ConnectionConfig, info: ServerInfo, expected: str, fix: str
) -> ServerMismatch:
    version = f" {info.version}" if info.version else ""
    return ServerMismatch(
        f"{info.url or config.base_url} is {info.product}{version} ({info.evidence}), but "
        f"this connection expects {expected}: {fix}",
        expected=expected,
        found=info,
        url=config.base_url,
    )


def _fresh(failure: ServerMismatch) -> ServerMismatch:
    """A new exception with ``failure``'s content (one object is not raised twice)."""
    return ServerMismatch(
        failure.message, expected=failure.expected, found=failure.found, url=failure.url
    )


def judge(config: ConnectionConfig, info: ServerInfo) -> ServerMismatch | None:
    """Why ``config`` cannot work with the server ``info`` describes, or ``None``.

    An unidentified server (its headers stripped by a proxy) is given the benefit of the
    doubt. ``api_version="auto"`` with a ``profile`` is judged as that profile's API.
    """
    if not info.identified:
        return None
    api = config.api_version
    if api == "auto":
        if config.profile is None:
            return None
        api = _family(config.profile)
    if not info.speaks(api):
        return _mismatch(
            config,
            info,
            _API_NAMES[api],
            f"set api_version={info.api_version!r} (or api_version='auto' to follow the "
            f"server); {_OFF}",
        )
    if config.profile and info.profile and _family(config.profile) == info.api_version:
        want, have = get_profile(config.profile), get_profile(info.profile)
        if not want.operations <= have.operations:
            return _mismatch(
                config,
                info,
                f"profile {want.name!r} ({want.product})",
                f"set profile={have.name!r} (or leave profile out with api_version='auto'); {_OFF}",
            )
    return None


def resolve(config: ConnectionConfig, info: ServerInfo) -> ConnectionConfig:
    """The config an ``auto`` connection's requests use once ``info`` is known."""
    api = _family(config.profile) if config.profile else info.api_version
    if api is None:
        raise ServerMismatch(
            f"cannot tell which InfluxDB answers at {config.base_url} ({info.evidence}): "
            "api_version='auto' needs its X-Influxdb-* headers (a proxy may drop them); "
            "set api_version='v3', 'v2' or 'v1'",
            expected="an InfluxDB that says which it is",
            found=info,
            url=config.base_url,
        )
    scheme = config.auth_scheme or ("Token" if api == "v2" else "Bearer")
    profile = config.profile or info.profile or {"v3": "v3_core"}.get(api, api)
    return replace(config, api_version=api, auth_scheme=scheme, profile=profile)


class ServerCheck:
    """What a connection knows about its server, judged once (thread-safe).

    Attributes:
        configured: the connection's own config (``api_version`` may be ``"auto"``).
        config: what requests use: ``configured``, or its resolution once detected.
        profile: the profile operations are checked against (provisional until
            :attr:`profile_known` for ``auto`` without a profile).
        info: the :class:`~influxkit.ServerInfo` found, once asked.
        ready: operations may go (detected and fine, unverified, or not checked at all).
        io_lock: held by a blocking client around its detection, so one thread asks
            (never by an asyncio client: it would block its loop).
        state_lock: held briefly around changes of the state (never around IO).
    """

    def __init__(self, config: ConnectionConfig) -> None:
        self.configured = config
        self.auto = config.api_version == "auto"
        self.config = config
        self.profile: Profile = get_profile(config.profile or "v3_core")
        self.profile_known = not (self.auto and config.profile is None)
        self.info: ServerInfo | None = None
        self.ready = not self.auto and not config.check_server
        self._failure: ServerMismatch | None = None
        self.state_lock = threading.Lock()
        self.io_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "ready" if self.ready else "failed" if self._failure else "pending"
        return f"<ServerCheck {self.configured.base_url} {state} info={self.info}>"

    @property
    def has_credentials(self) -> bool:
        """Whether the connection sends a token or a password."""
        cfg = self.configured
        return bool(cfg.token or cfg.password)

    def raise_failure(self) -> None:
        """Raise the remembered mismatch again (a fresh exception each time), if any."""
        if self._failure is not None:
            raise _fresh(self._failure)

    def settle(self, info: ServerInfo, *, quiet: bool = False) -> None:
        """Judge what detection found; ``quiet`` remembers a mismatch without raising it."""
        with self.state_lock:
            self.info = info
            if self.ready or self._failure is not None:
                failure = None if quiet else self._failure
            else:
                failure = self._judge(info)
        if failure is not None and not quiet:
            raise _fresh(failure)

    def _judge(self, info: ServerInfo) -> ServerMismatch | None:
        problem = judge(self.configured, info)
        if problem is None and self.auto:
            try:
                self.config = resolve(self.configured, info)
            except ServerMismatch as exc:
                return exc  # not remembered: the headers may come back
            if not self.profile_known:
                self.profile = get_profile(self.config.profile or "v3_core")
                self.profile_known = True
            _log.debug(
                "influxkit: %s answers at %s: using api_version=%r, profile=%r",
                info.product,
                self.configured.base_url,
                self.config.api_version,
                self.config.profile,
            )
        if problem is not None:
            self._failure = problem
            return problem
        self.ready = True
        return None

    def unanswered(self, exc: InfluxError) -> None:
        """Detection got no usable answer: raise ``exc``, or return to go on unverified."""
        if self.auto:
            raise exc
        if isinstance(exc, AuthError):
            if exc.status == 401 and self.has_credentials:
                raise exc
            with self.state_lock:
                self.ready = True  # asking again would be refused again
            _log.debug("influxkit: %s: server not checked (%s)", self.configured.base_url, exc)
            return
        if isinstance(exc, ServerError) and exc.retryable:
            return  # a 5xx: go on this time, ask again at the next operation
        raise exc

    def after_fork(self) -> None:
        """A forked child's own locks (the parent's may have been held at the fork)."""
        self.state_lock = threading.Lock()
        self.io_lock = threading.Lock()

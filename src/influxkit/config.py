"""Connection and batch options: frozen, validated once, secrets masked.

Every source (keyword options, a URL, environment variables, a TOML file) ends in
:meth:`ConnectionConfig.from_options`, so one validation gives one set of messages.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from influxkit.clients.profiles import PROFILES
from influxkit.errors import ConfigError
from influxkit.lineprotocol.schema import Schema

__all__ = ["BatchOptions", "ConnectionConfig", "check_retention_policy"]

ApiVersion = Literal["v3", "v2", "v1", "auto"]
ClientKind = Literal["http", "local"]

# "auto" does not know the server yet: 8181, InfluxDB 3's port (give the port for others).
_DEFAULT_PORTS = {"v3": 8181, "v2": 8086, "v1": 8086, "auto": 8181}
_DEFAULT_PROFILES = {"v3": "v3_core", "v2": "v2", "v1": "v1"}
_PRECISIONS = ("auto", "ns", "us", "ms", "s", "m", "h")  # m, h: InfluxDB 1.x only


def _suggest(name: str, known: list[str]) -> str:
    import difflib  # here, not at import: only a bad option name needs it

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    if not close:
        # "default_database" is far from "database" by ratio but contains it.
        close = [k for k in known if k in name or name in k][:1]
    return f"; did you mean {close[0]!r}?" if close else f"; known options: {', '.join(known)}"


def _bad(option: str, value: Any, fix: str) -> ConfigError:
    shown = "[secure]" if option in _SECRETS else repr(value)
    return ConfigError(f"invalid {option}={shown}: {fix}")


_SECRETS = frozenset({"token", "password"})


def _check_token(token: str) -> None:
    """Refuse a token no HTTP header can carry, before a request would echo it."""
    if not token.isascii():
        raise _bad("token", token, "it holds a non-ASCII character; tokens are plain ASCII")
    if not token.isprintable() or any(c.isspace() for c in token):
        raise _bad(
            "token",
            token,
            "it holds whitespace or a control character (a newline read from a file?); "
            "strip it, e.g. token=Path(path).read_text().strip()",
        )


def _number(option: str, value: Any, *, minimum: float, integer: bool = False) -> Any:
    kind = int if integer else (int, float)
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise _bad(option, value, "expected a number") from None
    if isinstance(value, bool) or not isinstance(value, kind):
        raise _bad(option, value, f"expected {'an integer' if integer else 'a number'}")
    if value < minimum:
        raise _bad(option, value, f"must be >= {minimum}")
    return value


_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})  # "t", "y": influxdb3-python's
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})


def _flag(option: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(option, value, "expected true or false")


def check_retention_policy(value: Any, option: str = "retention_policy") -> str:
    """A retention policy name, checked: a non-empty string without ``/``.

    ``/`` is refused because ``db/rp`` is how InfluxDB names the pair (1.x refuses it in
    a name, InfluxDB 3 and the 2.x buckets of a 1.x database read it as the separator).
    """
    if not isinstance(value, str) or not value:
        raise _bad(option, value, "expected a retention policy name such as 'autogen'")
    if "/" in value:
        raise _bad(
            option,
            value,
            "a retention policy name cannot hold '/' (InfluxDB reads 'db/rp' as a database "
            "and its policy); give the database and the policy apart",
        )
    return value


def _choice(option: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _bad(option, value, f"expected one of {', '.join(choices)}")
    return str(value)


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How a connection's background writer batches, retries and bounds memory.

    Attributes:
        size: points per request.
        flush_interval: seconds a point may wait for its batch to fill before it is sent.
        jitter: up to this many seconds added at random to each flush interval, so many
            processes started together do not all write in the same instant.
        max_retries: retries of one batch after its first attempt (0: never retry).
        max_retry_time: seconds from a batch's first attempt after which it is not retried.
        retry_interval: base of the exponential backoff: the n-th retry waits a random time
            in ``[0, min(max_retry_interval, retry_interval * 2**(n-1))]`` ("full jitter"),
            or the server's ``Retry-After`` if that is longer.
        max_retry_interval: the longest wait between two attempts.
        max_buffer_points: points buffered or in flight at most (bounded memory).
        overflow: what ``write()`` does when the buffer is full: ``"block"`` waits up to
            ``block_timeout`` seconds for room, then raises ``BufferFull``; ``"raise"``
            raises ``BufferFull`` at once.
        block_timeout: see ``overflow``.
        max_in_flight: requests in flight at once. 1 keeps the server seeing batches in
            write order; more overlap requests (faster), and then two batches in flight
            together may land in either order.
        close_timeout: seconds ``close()`` (and interpreter exit) waits for the buffer to
            drain before it reports what is left.
        spool_dir: durable mode: every accepted batch is fsynced to a segment file in this
            directory before ``write()`` returns, and replayed at the next start until the
            server acknowledges it.
        on_error: ``on_error(batch, error)`` receives every point that cannot be written:
            rejected by the server, retries exhausted, or undelivered at close. Default:
            logged on the ``influxkit`` logger with the count and the reason.

    Example:
        >>> BatchOptions(size=1000).flush_interval
        1.0
    """

    size: int = 5000
    flush_interval: float = 1.0
    jitter: float = 0.0
    max_retries: int = 5
    max_retry_time: float = 180.0
    retry_interval: float = 1.0
    max_retry_interval: float = 30.0
    max_buffer_points: int = 1_000_000
    overflow: Literal["block", "raise"] = "block"
    block_timeout: float = 30.0
    max_in_flight: int = 1
    close_timeout: float = 10.0
    spool_dir: str | None = None
    on_error: Callable[..., Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _number("batch.size", self.size, minimum=1, integer=True)
        _number("batch.flush_interval", self.flush_interval, minimum=0.001)
        _number("batch.jitter", self.jitter, minimum=0)
        _number("batch.max_retries", self.max_retries, minimum=0, integer=True)
        _number("batch.max_retry_time", self.max_retry_time, minimum=0)
        _number("batch.retry_interval", self.retry_interval, minimum=0)
        _number("batch.max_retry_interval", self.max_retry_interval, minimum=0)
        _number("batch.max_buffer_points", self.max_buffer_points, minimum=1, integer=True)
        _choice("batch.overflow", self.overflow, ("block", "raise"))
        _number("batch.block_timeout", self.block_timeout, minimum=0)
        _number("batch.max_in_flight", self.max_in_flight, minimum=1, integer=True)
        _number("batch.close_timeout", self.close_timeout, minimum=0)
        if self.spool_dir is not None and not isinstance(self.spool_dir, (str, os.PathLike)):
            raise _bad("batch.spool_dir", self.spool_dir, "expected a directory path")
        if self.on_error is not None and not callable(self.on_error):
            raise _bad("batch.on_error", self.on_error, "expected a callable(batch, error)")
        if self.max_buffer_points < self.size:
            raise _bad(
                "batch.max_buffer_points",
                self.max_buffer_points,
                f"must be at least batch.size ({self.size})",
            )

    @classmethod
    def from_value(cls, value: Any) -> BatchOptions | None:
        """``None``, a :class:`BatchOptions`, ``True`` (defaults) or a dict of options."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, BatchOptions):
            return value
        if isinstance(value, dict):
            known = [f.name for f in dataclasses.fields(cls)]
            for key in value:
                if key not in known:
                    raise ConfigError(f"unknown batch option {key!r}{_suggest(key, known)}")
            return cls(**value)
        raise _bad("batch", value, "expected a dict of batch options or influxkit.BatchOptions")


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Everything a connection needs to know, validated at creation.

    The token and password are kept out of ``repr``/``str`` (shown as ``[secure]``).

    ``api_version`` (``v3`` default, ``v2``, ``v1``) picks the endpoints; ``"auto"`` asks
    the server once, at first use, and follows what it says (``profile`` and the
    ``auth_scheme`` too, unless given). With ``check_server`` (the default) a connection
    with an explicit ``api_version`` checks the same way, once, that the server answers
    those endpoints, and its first operation raises :class:`~influxkit.ServerMismatch`
    when it does not (see ``docs/server-detection.md``).

    ``retention_policy`` (influxdb-python's name) is the policy writes and InfluxQL
    queries use when a call names none: ``rp=`` on InfluxDB 1.x, the bucket ``db/rp`` on
    2.x, and the database InfluxDB 3 keeps such points in (see ``docs/writing.md``).

    Example:
        >>> cfg = ConnectionConfig.from_options(host="db.example", token="s3cret", database="app")
        >>> cfg.base_url
        'http://db.example:8181'
        >>> "s3cret" in repr(cfg)
        False
    """

    name: str | None = None
    host: str = "localhost"
    port: int | None = None
    scheme: Literal["http", "https"] = "http"
    path_prefix: str = ""
    token: str | None = field(default=None, repr=False)
    auth_scheme: Literal["Bearer", "Token"] | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    retention_policy: str | None = None
    org: str | None = None
    api_version: ApiVersion = "v3"
    check_server: bool = True
    client: ClientKind = "http"
    profile: str | None = None
    timeout: float = 10.0
    connect_timeout: float = 5.0
    pool_size: int = 10
    verify_ssl: bool = True
    ca_file: str | None = None
    http2: bool = False
    gzip_threshold: int = 1024
    transport: Literal["http", "flight", "auto"] = "http"
    flight_port: int | None = None
    precision: str = "ns"
    accept_partial: bool = True
    no_sync: bool = False
    databases: tuple[str, ...] = ()
    batch: BatchOptions | None = None
    schema: Schema | None = None

    def __post_init__(self) -> None:
        # ``ConnectionConfig(...)`` called directly is checked as from_options() checks
        # (the options given are those that differ from their defaults); from_options()'s
        # own output passes through unchanged.
        given = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None and getattr(self, f.name) != f.default
        }
        for name, value in _validate(given).items():
            if getattr(self, name, None) != value:
                object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        shown = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRETS:
                if value is not None:
                    shown.append(f"{f.name}='[secure]'")
                continue
            if value != f.default:
                shown.append(f"{f.name}={value!r}")
        return f"ConnectionConfig({', '.join(shown)})"

    __str__ = __repr__

    @property
    def base_url(self) -> str:
        """``scheme://host:port[/prefix]`` (no credentials)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path_prefix}"

    @classmethod
    def option_names(cls) -> list[str]:
        """Every option :meth:`from_options` accepts."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_options(cls, **options: Any) -> ConnectionConfig:
        """Validate ``options`` and fill the defaults that depend on others.

        Raises:
            ConfigError: an unknown option (with a did-you-mean) or a bad value
                (naming the option, the value and the fix).
        """
        known = cls.option_names()
        for key in options:
            if key not in known:
                raise ConfigError(f"unknown option {key!r}{_suggest(key, known)}")
        opts = {k: v for k, v in options.items() if v is not None}
        if "client" not in opts and os.environ.get("INFLUXKIT_CLIENT"):
            opts["client"] = os.environ["INFLUXKIT_CLIENT"]
        return cls(**_validate(opts))


def _validate(o: dict[str, Any]) -> dict[str, Any]:
    if "api_version" not in o and o.get("profile") in PROFILES:
        o["api_version"] = "v3" if o["profile"].startswith("v3") else o["profile"]
    api = _choice("api_version", o.get("api_version", "v3"), ("v3", "v2", "v1", "auto"))
    o["api_version"] = api
    o["client"] = _choice("client", o.get("client", "http"), ("http", "local"))
    o["scheme"] = _choice("scheme", o.get("scheme", "http"), ("http", "https"))
    host = o.get("host", "localhost")
    if not isinstance(host, str) or not host or "/" in host or " " in host:
        raise _bad("host", host, "expected a host name or IP address, e.g. 'localhost'")
    o["port"] = _number("port", o.get("port", _DEFAULT_PORTS[api]), minimum=1, integer=True)
    if o["port"] > 65535:
        raise _bad("port", o["port"], "must be <= 65535")
    prefix = o.get("path_prefix", "")
    if not isinstance(prefix, str):
        raise _bad("path_prefix", prefix, "expected a URL path such as '/influx'")
    prefix = prefix.rstrip("/")
    o["path_prefix"] = "/" + prefix.lstrip("/") if prefix else ""
    for name in ("token", "password", "username", "database", "org", "ca_file", "name"):
        if name in o and not isinstance(o[name], str):
            raise _bad(name, o[name], "expected a string")
    if o.get("token") is not None:
        _check_token(o["token"])
    if "database" in o and not o["database"]:
        raise _bad("database", o["database"], "expected a non-empty database name")
    if "retention_policy" in o:
        o["retention_policy"] = check_retention_policy(o["retention_policy"])
    # "auto" leaves the auth scheme and the profile open when not given: they follow the
    # server found at first use (influxkit.clients.server_check).
    default_scheme = {"v2": "Token", "auto": None}.get(api, "Bearer")
    if "auth_scheme" in o or default_scheme is not None:
        o["auth_scheme"] = _choice(
            "auth_scheme", o.get("auth_scheme", default_scheme), ("Bearer", "Token")
        )
    profile = o.get("profile", _DEFAULT_PROFILES.get(api))
    if profile is not None:
        o["profile"] = _choice("profile", profile, tuple(PROFILES))
    for name, minimum in (("timeout", 0.001), ("connect_timeout", 0.001)):
        if name in o:
            o[name] = _number(name, o[name], minimum=minimum)
    for name, minimum in (("pool_size", 1), ("gzip_threshold", 0)):
        if name in o:
            o[name] = _number(name, o[name], minimum=minimum, integer=True)
    for name in ("verify_ssl", "http2", "accept_partial", "no_sync", "check_server"):
        if name in o:
            o[name] = _flag(name, o[name])
    if "precision" in o:
        o["precision"] = _choice("precision", o["precision"], _PRECISIONS)
        if o["precision"] in ("m", "h") and o.get("profile") != "v1":
            raise _bad(
                "precision",
                o["precision"],
                "minutes and hours exist only on InfluxDB 1.x "
                "(api_version='v1'); use ns, us, ms or s",
            )
    if "transport" in o:
        o["transport"] = _choice("transport", o["transport"], ("http", "flight", "auto"))
    if o.get("flight_port") is not None:
        o["flight_port"] = _number("flight_port", o["flight_port"], minimum=1, integer=True)
    if o.get("ca_file") and not os.path.isfile(o["ca_file"]):
        raise _bad("ca_file", o["ca_file"], "no such file: give the path of a PEM bundle")
    if o.get("ca_file") and o.get("verify_ssl") is False:
        raise _bad(
            "ca_file",
            o["ca_file"],
            "verify_ssl=False turns certificate checks off, so a CA file would be ignored; "
            "pick one",
        )
    dbs = o.get("databases", ())
    if isinstance(dbs, str):
        dbs = tuple(d.strip() for d in dbs.split(",") if d.strip())
    if not all(isinstance(d, str) and d for d in dbs):
        raise _bad("databases", dbs, "expected a list of database names")
    o["databases"] = tuple(dbs)
    o["batch"] = BatchOptions.from_value(o.get("batch"))
    o["schema"] = Schema.from_value(o.get("schema"))
    return o

"""Where options come from: a URL, environment variables, a TOML file.

Each source only gathers raw options; :meth:`ConnectionConfig.from_options`
validates them, so every source reports mistakes the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from influxkit.config import ConnectionConfig
from influxkit.errors import ConfigError

__all__ = [
    "ENV_VARS",
    "options_from_env",
    "options_from_toml",
    "options_from_url",
    "safe_url",
]

# The names influxdb3-python reads, plus influxkit's own for what it has more of.
ENV_VARS: dict[str, str] = {
    "INFLUX_HOST": "url",
    "INFLUX_TOKEN": "token",
    "INFLUX_DATABASE": "database",
    "INFLUX_ORG": "org",
    "INFLUX_PRECISION": "precision",
    "INFLUX_AUTH_SCHEME": "auth_scheme",
    "INFLUX_GZIP_THRESHOLD": "gzip_threshold",
    "INFLUX_WRITE_NO_SYNC": "no_sync",
    "INFLUX_WRITE_ACCEPT_PARTIAL": "accept_partial",
    "INFLUX_WRITE_TIMEOUT": "timeout",  # milliseconds, as influxdb3-python reads them
    "INFLUX_QUERY_TIMEOUT": "timeout",
    "INFLUX_VERIFY_SSL": "verify_ssl",
    "INFLUX_SSL_CA_CERT": "ca_file",
    "INFLUXKIT_API_VERSION": "api_version",
    "INFLUXKIT_PROFILE": "profile",
    "INFLUXKIT_RETENTION_POLICY": "retention_policy",
}

# Timeouts influxdb3-python reads, in milliseconds (read by options_from_env).
_TIMEOUT_VARS = ("INFLUX_WRITE_TIMEOUT", "INFLUX_QUERY_TIMEOUT")

# Spellings of influxdb3-python that mean one of our options.
_PRECISION_ALIASES = {
    "nanosecond": "ns",
    "n": "ns",
    "microsecond": "us",
    "u": "us",
    "millisecond": "ms",
    "second": "s",
}


def safe_url(url: str) -> str:
    """``url`` fit for a message: no user info (``user:pass@``), no query (``?token=``).

    Example:
        >>> safe_url("localhost:8181/x?token=s3cret"), safe_url("http://u:pw@db:8086/")
        ('localhost:8181/x?...', 'http://db:8086/')
    """
    base, query, _ = url.partition("?")
    base = base.partition("#")[0]
    base = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/@]*@", r"\1", base)
    return base + ("?..." if query else "")


def options_from_url(url: str) -> dict[str, Any]:
    """Options from ``scheme://[user:pass@]host[:port][/prefix][?option=value&...]``.

    Example:
        >>> opts = options_from_url("https://db.example:8443/influx?database=app")
        >>> opts["host"], opts["port"], opts["path_prefix"], opts["database"]
        ('db.example', 8443, '/influx', 'app')
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"invalid url={safe_url(url)!r}: expected http://host[:port] or "
            "https://host[:port], e.g. 'http://localhost:8181'"
        )
    opts: dict[str, Any] = {"scheme": parts.scheme, "host": parts.hostname}
    try:
        if parts.port is not None:
            opts["port"] = parts.port
    except ValueError:
        raise ConfigError(f"invalid port in url {parts.scheme}://{parts.hostname}") from None
    if parts.path and parts.path != "/":
        opts["path_prefix"] = parts.path
    if parts.username:
        opts["username"] = unquote(parts.username)
    if parts.password:
        opts["password"] = unquote(parts.password)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        opts[key] = value
    return opts


def options_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Options from ``INFLUX_*`` variables (influxdb3-python's names), URL expanded."""
    env = os.environ if environ is None else environ
    opts: dict[str, Any] = {}
    for var, option in ENV_VARS.items():
        if env.get(var) and var not in _TIMEOUT_VARS:
            opts[option] = env[var]
    if "precision" in opts:
        opts["precision"] = _PRECISION_ALIASES.get(opts["precision"], opts["precision"])
    # influxdb3-python's timeouts are milliseconds, one for writes and one for queries;
    # a connection has one timeout, in seconds: the longer of the two.
    millis = [env[var] for var in _TIMEOUT_VARS if env.get(var)]
    if millis:
        try:
            opts["timeout"] = max(int(value) for value in millis) / 1000
        except ValueError:
            raise ConfigError(
                f"invalid {' / '.join(_TIMEOUT_VARS)}={', '.join(millis)}: expected "
                "milliseconds as a whole number, e.g. 10000"
            ) from None
    url = opts.pop("url", None)
    if url:
        if "://" not in url:
            url = f"http://{url}"
        opts = {**options_from_url(url), **opts}
    return opts


def options_from_toml(path: str | os.PathLike[str], name: str) -> dict[str, Any]:
    """Options of ``[connections.NAME]`` in the TOML file at ``path``.

    A ``url`` key is expanded like :func:`options_from_url`; ``token_env`` names an
    environment variable that holds the token, so files need not hold secrets.
    """
    import tomllib  # here, not at import: only file configs need it
    from pathlib import Path

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(p)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {str(p)!r} is not valid TOML: {exc}") from None
    conns = data.get("connections", {})
    if name not in conns:
        known = ", ".join(sorted(conns)) or "none"
        raise ConfigError(
            f"no [connections.{name}] table in {str(p)!r} (connections defined: {known})"
        )
    opts = dict(conns[name])
    token_env = opts.pop("token_env", None)
    if token_env:
        if token_env not in os.environ:
            raise ConfigError(
                f"[connections.{name}] token_env={token_env!r} but that variable is not set"
            )
        opts["token"] = os.environ[token_env]
    url = opts.pop("url", None)
    if url:
        opts = {**options_from_url(url), **opts}
    return opts


def connection_names_in_toml(path: str | os.PathLike[str]) -> list[str]:
    """Names of the ``[connections.*]`` tables in a TOML file."""
    import tomllib
    from pathlib import Path

    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return sorted(data.get("connections", {}))


def build_config(url: str | None = None, **options: Any) -> ConnectionConfig:
    """One config from a URL and keyword options (keywords win over the URL)."""
    merged = {**options_from_url(url), **options} if url else dict(options)
    return ConnectionConfig.from_options(**merged)

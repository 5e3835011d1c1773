"""Start and stop a private InfluxDB 1.x server (``influxd``) for tests and benchmarks.

The config is derived from the packaged ``/etc/influxdb/influxdb.conf`` (Debian's
``influxdb`` package) by overriding only what a private, throw-away instance needs:
loopback binds on free ports, data under a temporary folder, no reporting, no
request or query logs, no ``_internal`` monitor database, no ifql listener.

Example::

    with InfluxdServer.start() as server:
        print(server.url)   # http://127.0.0.1:<port>
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PACKAGED_CONFIG", "InfluxdNotFound", "InfluxdServer", "find_influxd", "render_config"]

PACKAGED_CONFIG = Path("/etc/influxdb/influxdb.conf")

_SECTION = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


class InfluxdNotFound(RuntimeError):
    """``influxd`` is not installed (``apt-get install influxdb`` provides it)."""


def find_influxd() -> str | None:
    """The path of ``influxd`` on PATH (or Debian's ``/usr/bin/influxd``), else ``None``."""
    found = shutil.which("influxd")
    if found:
        return found
    return "/usr/bin/influxd" if os.access("/usr/bin/influxd", os.X_OK) else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(base: str, overrides: dict[str, dict[str, Any]]) -> str:
    """``base`` (TOML text) with the keys of ``overrides`` set, everything else kept.

    ``overrides[""]`` holds top-level keys; other entries are ``[section]`` tables.
    An existing (uncommented) assignment of an overridden key is dropped and the new
    value written right after the section header; missing sections are appended.
    The result is checked with :mod:`tomllib`.
    """
    out: list[str] = []
    top = overrides.get("", {})
    out.extend(f"{k} = {_toml_value(v)}" for k, v in top.items())
    section: str | None = ""
    seen: set[str] = set()
    for line in base.splitlines():
        head = _SECTION.match(line)
        if head:
            is_array = head.group(1) is not None
            section = None if is_array else head.group(2)
            out.append(line)
            if section is not None and section in overrides:
                seen.add(section)
                out.extend(f"  {k} = {_toml_value(v)}" for k, v in overrides[section].items())
            continue
        key = _KEY.match(line)
        if key and section is not None and key.group(1) in overrides.get(section, {}):
            continue
        out.append(line)
    for name, values in overrides.items():
        if name and name not in seen:
            out.append(f"[{name}]")
            out.extend(f"  {k} = {_toml_value(v)}" for k, v in values.items())
    text = "\n".join(out) + "\n"
    parsed = tomllib.loads(text)
    for name, values in overrides.items():
        table = parsed if not name else parsed[name]
        for k, v in values.items():
            if table.get(k) != v:
                raise ValueError(f"config override {name or '<top>'}.{k} did not take")
    return text


@dataclass
class InfluxdServer:
    """A running private ``influxd``; stop it with :meth:`stop` (or use ``with``)."""

    port: int
    rpc_port: int
    workdir: Path
    process: subprocess.Popen[bytes]
    _owns_workdir: bool = field(default=True, repr=False)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls,
        *,
        influxd: str | None = None,
        workdir: str | os.PathLike[str] | None = None,
        base_config: Path = PACKAGED_CONFIG,
        timeout: float = 15.0,
        extra: dict[str, dict[str, Any]] | None = None,
    ) -> InfluxdServer:
        """Start ``influxd -config FILE`` and wait until ``/ping`` answers 204.

        Raises:
            InfluxdNotFound: no ``influxd`` binary.
            RuntimeError: it exited or did not answer within ``timeout`` seconds
                (the message holds the tail of its log).
        """
        binary = influxd or find_influxd()
        if binary is None:
            raise InfluxdNotFound("influxd not found: install it with `apt-get install influxdb`")
        owns = workdir is None
        root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="influxkit-influxd-"))
        port, rpc_port = free_port(), free_port()
        while rpc_port == port:
            rpc_port = free_port()
        overrides: dict[str, dict[str, Any]] = {
            "": {"reporting-disabled": True, "bind-address": f"127.0.0.1:{rpc_port}"},
            "meta": {"dir": str(root / "meta")},
            "data": {
                "dir": str(root / "data"),
                "wal-dir": str(root / "wal"),
                "query-log-enabled": False,
            },
            "http": {"bind-address": f"127.0.0.1:{port}", "log-enabled": False},
            "monitor": {"store-enabled": False},
            "ifql": {"enabled": False},
        }
        for name, values in (extra or {}).items():
            overrides.setdefault(name, {}).update(values)
        base = base_config.read_text() if base_config.exists() else ""
        conf = root / "influxdb.conf"
        conf.write_text(render_config(base, overrides))
        log = (root / "influxd.log").open("wb")
        try:
            proc = subprocess.Popen(
                [binary, "-config", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        server = cls(port=port, rpc_port=rpc_port, workdir=root, process=proc, _owns_workdir=owns)
        try:
            server._wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        return server

    def _log_tail(self, size: int = 2000) -> str:
        try:
            return (self.workdir / "influxd.log").read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"influxd exited with {self.process.returncode}; log:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as resp:
                    if resp.status == 204:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"influxd did not answer /ping in {timeout} s; log:\n{self._log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by its own pid (SIGTERM, then SIGKILL) and remove its data."""
        proc = self.process
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> InfluxdServer:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()

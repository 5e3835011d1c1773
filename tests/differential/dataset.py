"""The differential test's data: one deterministic dataset, written to both servers.

Seeded, so every run writes the same points.  It has what InfluxQL queries meet in
practice: several measurements (one without tags, one whose tags hold spaces,
commas and ``=``), series that lack a tag, fields of every 1.x type (float,
integer, string, boolean), points that carry only some fields, irregular
timestamps with nanosecond parts, and gaps (hours without points) for fill().

All points but those of ``dst`` lie in ``START`` .. ``START + SPAN``; queries name
ranges inside it.  ``dst`` has hourly points around both 2023 US daylight-saving
changes (March 12 and November 5), for ``tz()`` windows.
"""

from __future__ import annotations

import random

__all__ = ["END", "START", "generate"]

#: 2023-01-01T00:00:00Z in nanoseconds.
START = 1_672_531_200_000_000_000
_S = 1_000_000_000
SPAN = 12 * 3600 * _S
END = START + SPAN

_HOSTS = ["h1", "h2", "h3", "h4"]
_REGIONS = ["us-east", "us-west", "eu"]
_STATUS = ["ok", "warn", "crit", "état", 'quote"d', "a,b c"]


def _escape_tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _times(rng: random.Random, count: int, *, gap_every: int = 0) -> list[int]:
    """``count`` increasing times from START: irregular steps, ns parts, optional long gaps."""
    out = []
    t = START + rng.randrange(0, 60 * _S)
    for i in range(count):
        out.append(t)
        step = rng.choice([10, 15, 30, 45, 60, 90, 120]) * _S + rng.randrange(0, _S)
        if gap_every and i and i % gap_every == 0:
            step += rng.choice([1, 2, 3]) * 3600 * _S  # a gap of hours: empty windows
        t += step
    return [x for x in out if x < END]


def generate(seed: int = 20230101) -> str:
    """The dataset as line protocol (nanosecond timestamps), one point a line."""
    rng = random.Random(seed)
    lines: list[str] = []

    # cpu: 4 hosts x regions; h4 has no region tag; fields come and go.
    for host in _HOSTS:
        region = None if host == "h4" else _REGIONS[_HOSTS.index(host) % len(_REGIONS)]
        tags = f",host={host}" + (f",region={region}" if region else "")
        for t in _times(rng, 220, gap_every=70):
            fields = []
            if rng.random() < 0.9:
                fields.append(f"usage_user={round(rng.uniform(0, 100), rng.choice([1, 3, 6]))}")
            if rng.random() < 0.8:
                fields.append(f"usage_system={rng.uniform(0, 50)!r}")
            if rng.random() < 0.7:
                fields.append(f"idle={rng.randrange(-5, 100)}i")
            if rng.random() < 0.3:
                fields.append(f"status={_string(rng.choice(_STATUS))}")
            if rng.random() < 0.4:
                fields.append(f"up={'true' if rng.random() < 0.7 else 'false'}")
            if not fields:
                fields.append("idle=0i")
            lines.append(f"cpu{tags} {','.join(fields)} {t}")

    # mem: integer and float fields, two hosts.
    for host in _HOSTS[:2]:
        for t in _times(rng, 150, gap_every=50):
            used = rng.randrange(1_000, 9_000_000)
            lines.append(
                f"mem,host={host} used={used}i,free={rng.randrange(0, 10**9)}i,"
                f"pct={rng.uniform(0, 1)!r} {t}"
            )

    # disk: three tags, integer fields.
    for host in ("h1", "h2"):
        for path in ("/", "/var"):
            for t in _times(rng, 60):
                fstype = "ext4" if path == "/" else "xfs"
                lines.append(
                    f"disk,host={host},path={path},fstype={fstype} "
                    f"used={rng.randrange(0, 10**6)}i,inodes={rng.randrange(0, 5000)}i {t}"
                )

    # temp: tag values needing escapes; float and boolean fields.
    for sensor in ("s 1", "s,2", "s=3"):
        for t in _times(rng, 80, gap_every=30):
            value = round(rng.uniform(-20, 40), 2)
            ok = "t" if value > 0 else "f"
            lines.append(f"temp,sensor={_escape_tag(sensor)},loc=lab value={value},ok={ok} {t}")

    # events: no tags at all; strings and integers.
    for t in _times(rng, 90):
        lines.append(
            f"events msg={_string(rng.choice(_STATUS))},code={rng.randrange(100, 600)}i {t}"
        )

    # net.io: a name with a dot, a field name with a space (both need quoting).
    for iface in ("eth0", "lo"):
        for t in _times(rng, 50):
            lines.append(
                f"net.io,iface={iface} bytes\\ in={rng.randrange(0, 10**7)}i,"
                f"packets={rng.randrange(0, 10**4)}i {t}"
            )

    # dst: a point an hour across both 2023 US daylight-saving changes, for tz() windows.
    for day_start in (1_678_579_200, 1_699_142_400):  # 2023-03-12, 2023-11-05 00:00 UTC
        for hour in range(-30, 54, 1):
            t = (day_start + hour * 3600 + rng.randrange(0, 3600)) * _S
            lines.append(f"dst,site=chi level={rng.uniform(0, 10)!r} {t}")

    return "\n".join(lines) + "\n"

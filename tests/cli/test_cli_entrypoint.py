"""The installed ``influxkit`` console script: it runs, and its exit codes are 0, 1 and 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from influxkit.testing.influxd import free_port


def _script() -> str:
    beside = Path(sys.executable).with_name("influxkit")
    found = str(beside) if beside.exists() else shutil.which("influxkit")
    if found is None:
        pytest.fail("the influxkit console script is not installed (pip install -e .)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INFLUX_", "INFLUXKIT_"))}
    return subprocess.run(
        [_script(), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_console_script_exit_codes():
    ok = run("config", "show", "--url", "http://db.example:8181", "--token", "apiv3_secret")
    assert ok.returncode == 0, ok.stderr
    assert "db.example" in ok.stdout and "apiv3_secret" not in ok.stdout + ok.stderr
    failed = run("health", "--url", f"http://127.0.0.1:{free_port()}", "--option", "timeout=2")
    assert failed.returncode == 1
    assert failed.stderr.startswith("Error: ")
    usage = run("query")
    assert usage.returncode == 2
    assert "Missing argument 'QUERY'" in usage.stderr

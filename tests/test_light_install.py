"""influxkit installed with nothing but its two dependencies (httpx, orjson) still writes and
queries rows over HTTP; what needs an extra says which one.

A fresh virtualenv gets ``pip install <this repo>`` (no extras) from the package index;
a script in it talks to the real InfluxDB 1.x and to ``influxkit serve`` (run here, in
the test process, which has everything).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

from influxkit.server import running_server
from influxkit.testing.influxd import InfluxdServer

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pyarrow", "datafusion", "pandas", "polars", "click", "rich", "starlette", "uvicorn")


@pytest.fixture(scope="module")
def light_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("light-venv")
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return python


def run(python: Path, code: str) -> str:
    proc = subprocess.run(
        [str(python), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_nothing_heavy_is_installed(light_python: Path) -> None:
    out = run(
        light_python,
        f"""
        import importlib.util
        print([m for m in {HEAVY!r} if importlib.util.find_spec(m)])
        """,
    )
    assert out.strip() == "[]"


def test_writes_and_row_queries_over_http_to_influxdb_1x(
    light_python: Path, influxdb1: InfluxdServer
) -> None:
    out = run(
        light_python,
        f"""
        import sys, influxkit
        with influxkit.connect("{influxdb1.url}", api_version="v1", database="light") as conn:
            conn.create_database("light")
            conn.write("cpu,host=a v=1i 1000000000")
            conn.write(influxkit.Point("cpu").tag("host", "b").field("v", 2).time(2, "s"))
            conn.write({{"measurement": "cpu", "tags": {{"host": "c"}}, "fields": {{"v": 3}},
                        "time": 3000000000}})
            rows = conn.query_influxql("SELECT host, v FROM cpu")
            conn.delete_database("light")
        print([(r["host"], r["v"], r["time"].isoformat()) for r in rows])
        print(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
        """,
    )
    rows, modules = out.strip().splitlines()
    assert rows == (
        "[('a', 1, '1970-01-01T00:00:01+00:00'), ('b', 2, '1970-01-01T00:00:02+00:00'), "
        "('c', 3, '1970-01-01T00:00:03+00:00')]"
    )
    assert modules == "[]"


def test_v3_rows_over_http_without_pyarrow(light_python: Path) -> None:
    with running_server(databases=["db"]) as server:
        out = run(
            light_python,
            f"""
            import influxkit
            with influxkit.connect("{server.url}", database="db") as conn:
                conn.write("cpu,host=a usage=0.5 1767225600000000000")
                print(conn.query_sql("SELECT host, usage FROM cpu"))
            """,
        )
    assert out.strip() == "[{'host': 'a', 'usage': 0.5}]"


def test_what_needs_an_extra_names_it(light_python: Path) -> None:
    out = run(
        light_python,
        """
        import influxkit
        try:
            influxkit.connect(client="local")
        except influxkit.MissingDependency as exc:
            print(exc)
        """,
    )
    assert "pip install 'influxkit[local]'" in out


def test_import_is_light_here_too() -> None:
    # The same check in this (full) environment: nothing heavy at import time.
    code = f"import sys, influxkit; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert proc.stdout.strip() == "[]"

"""Fixtures shared by every test folder: the real InfluxDB 1.x server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from influxkit.testing.influxd import InfluxdServer, find_influxd


def pytest_report_header() -> str:
    # Here, in the root conftest: pytest asks for headers before it reaches tests/contract.
    if os.environ.get("INFLUXKIT_TEST_V3_URL") and os.environ.get("INFLUXKIT_TEST_V3_TOKEN"):
        return "contract backends: local, serve, influxdb1, influxdb3 (sync and aio)"
    return (
        "contract backends: local, serve, influxdb1 (sync and aio); influxdb3 left out: "
        "INFLUXKIT_TEST_V3_URL / INFLUXKIT_TEST_V3_TOKEN are unset"
    )


@pytest.fixture(scope="session")
def influxdb1(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxdServer]:
    """A running private InfluxDB 1.x: ``.url``, ``.port``; stopped by its pid at the end."""
    binary = find_influxd()
    if binary is None:
        message = (
            "influxd (InfluxDB 1.x) is not installed; install it with "
            "`apt-get install influxdb` (Debian's package, 1.6.7)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a real InfluxDB 1.x server: {message}", pytrace=False)
        pytest.skip(message)
    server = InfluxdServer.start(influxd=binary, workdir=tmp_path_factory.mktemp("influxd"))
    try:
        yield server
    finally:
        server.stop()

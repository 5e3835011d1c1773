"""One dataset, written once to the real InfluxDB 1.x server and to a local v1 engine.

The module-scoped fixtures write :func:`dataset.generate` to database ``db0`` on both.
The local engine also gets (empty) copies of any other database the shared server
holds, created in the server's order, so that ``SHOW DATABASES`` can be compared
whole.  ``db0`` is dropped from the server at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

import influxkit
from influxkit.testing.influxd import InfluxdServer

from .dataset import generate

DATABASE = "db0"


@dataclass
class Pair:
    """The two sides: the real server (raw HTTP and an influxkit connection) and the engine."""

    http: httpx.Client
    remote: influxkit.Connection
    local: influxkit.Connection


@pytest.fixture(scope="module")
def pair(influxdb1: InfluxdServer) -> Iterator[Pair]:
    body = generate().encode()
    http = httpx.Client(base_url=influxdb1.url, timeout=60)
    remote = influxkit.connect(influxdb1.url, api_version="v1", database=DATABASE)
    local = influxkit.connect(client="local", profile="v1", database=DATABASE)
    try:
        http.post("/query", data={"q": f"DROP DATABASE {DATABASE}"}).raise_for_status()
        # The local connection made its database; recreate it after the server's others.
        local.delete_database(DATABASE)
        for name in remote.list_databases():
            local.create_database(name)
        remote.create_database(DATABASE)
        local.create_database(DATABASE)
        response = http.post("/write", params={"db": DATABASE, "precision": "ns"}, content=body)
        assert response.status_code == 204, response.text
        local.write(body)
        yield Pair(http, remote, local)
    finally:
        try:
            http.post("/query", data={"q": f"DROP DATABASE {DATABASE}"})
        finally:
            http.close()
            remote.close()
            local.close()

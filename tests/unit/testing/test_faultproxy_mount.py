"""FaultProxy's ``mount``: a reverse proxy serving its upstream under a path, and ``seen``."""

from __future__ import annotations

import httpx
import pytest

from influxkit.server import running_server
from influxkit.testing.faultproxy import NOT_FOUND_PAGE, FaultProxy


def test_the_mount_is_cut_and_other_paths_get_a_web_servers_404() -> None:
    with (
        running_server(databases=["db"]) as srv,
        FaultProxy(srv.host, srv.port, mount="/influx") as proxy,
        httpx.Client(base_url=proxy.url) as client,
    ):
        assert client.get("/influx/health").text == "OK"
        ping = client.get("/influx/ping", params={"verbose": "true"})
        assert ping.json()["product_name"] == "InfluxDB 3 Core"
        assert client.get("/influx").text == "Not found"  # upstream's "/", not the proxy's
        for outside in ("/ping", "/influxdb/ping", "/other/influx/ping"):
            page = client.get(outside)
            assert page.status_code == 404 and page.content == NOT_FOUND_PAGE, outside
            assert page.headers["content-type"] == "text/html"
        assert proxy.outside_mount == 3
        assert proxy.stats["forwarded"] == 3
        assert proxy.seen == [
            "GET /influx/health",
            "GET /influx/ping?verbose=true",
            "GET /influx",
            "GET /ping",
            "GET /influxdb/ping",
            "GET /other/influx/ping",
        ]


@pytest.mark.parametrize("mount", ["influx", "/influx/", ""])
def test_a_mount_must_be_a_path_without_a_trailing_slash(mount: str) -> None:
    if mount == "":
        assert FaultProxy("127.0.0.1", 1, mount=mount).mount is None
        return
    with pytest.raises(ValueError, match="mount must look like"):
        FaultProxy("127.0.0.1", 1, mount=mount)

"""Common behaviour: health, ping, CORS, unknown paths, and the headers on every answer."""

from __future__ import annotations

import uuid

import httpx

from influxkit.server import ServerThread


def test_health(client: httpx.Client) -> None:
    for path in ("/health", "/api/v1/health"):
        r = client.get(path)
        assert (r.status_code, r.text) == (200, "OK")
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert client.post("/health").status_code == 404


def test_ping_get_and_post(client: httpx.Client) -> None:
    for method in ("GET", "POST"):
        r = client.request(method, "/ping")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        doc = r.json()
        assert list(doc) == ["product_name", "version", "revision", "process_id"]
        assert doc["product_name"] == "InfluxDB 3 Core"
        assert r.headers["x-influxdb-version"] == doc["version"]
        assert r.headers["x-influxdb-build"] == "Core"
        assert r.headers["request-id"] == r.headers["x-request-id"]
        uuid.UUID(doc["process_id"])
    assert client.head("/ping").status_code == 404


def test_ping_reports_the_profile() -> None:
    from influxkit.server import running_server

    with running_server(profile="v3_enterprise") as srv:
        r = httpx.get(f"{srv.url}/ping")
    assert r.json()["product_name"] == "InfluxDB 3 Enterprise"
    assert r.headers["x-influxdb-build"] == "Enterprise"


def test_options_is_204_with_cors(client: httpx.Client) -> None:
    for path in ("/api/v3/query_sql", "/anything/at/all"):
        r = client.options(path)
        assert r.status_code == 204
        assert r.content == b""
        for name in ("origin", "methods", "headers"):
            assert r.headers[f"access-control-allow-{name}"] == "*"
        assert r.headers["access-control-max-age"] == "86400"


def test_unknown_path_is_plain_not_found(client: httpx.Client) -> None:
    for method, path in [("GET", "/"), ("GET", "/api/v3/nope"), ("PUT", "/api/v3/write_lp"),
                         ("PATCH", "/ping"), ("GET", "/api/v1/query")]:  # fmt: skip
        r = client.request(method, path)
        assert (r.status_code, r.text) == (404, "Not found"), (method, path)


def test_cluster_uuid_on_every_answer(server: ServerThread, client: httpx.Client) -> None:
    answers = [
        client.get("/health"),
        client.options("/x"),
        client.get("/nope"),
        client.post("/api/v3/write_lp", content=b"m v=1"),
        client.post("/api/v3/write_lp", params={"db": "db"}, content=b"m v=1"),
        client.get("/api/v3/query_sql", params={"db": "db", "q": "SELECT 1", "format": "csv"}),
        client.post("/api/v2/write", content=b""),
    ]
    ids = {r.headers["cluster-uuid"] for r in answers}
    assert len(ids) == 1
    uuid.UUID(ids.pop())
    assert server.app.state.cluster_uuid == answers[0].headers["cluster-uuid"]


def test_allow_origin_on_successes_only(client: httpx.Client) -> None:
    assert client.get("/health").headers["access-control-allow-origin"] == "*"
    ok = client.post("/api/v3/write_lp", params={"db": "db"}, content=b"m v=1")
    assert ok.headers["access-control-allow-origin"] == "*"
    bad = client.post("/api/v3/write_lp", params={"db": "db"}, content=b"m v=")
    assert "access-control-allow-origin" not in bad.headers


def test_two_servers_have_their_own_data_and_identity() -> None:
    from influxkit.server import running_server

    with running_server() as one, running_server() as two:
        httpx.post(f"{one.url}/api/v3/write_lp", params={"db": "x"}, content=b"m v=1")
        r = httpx.get(f"{two.url}/api/v3/query_sql", params={"db": "x", "q": "SELECT 1"})
        assert r.status_code == 404
        h1 = httpx.get(f"{one.url}/health").headers["cluster-uuid"]
        h2 = httpx.get(f"{two.url}/health").headers["cluster-uuid"]
        assert h1 != h2

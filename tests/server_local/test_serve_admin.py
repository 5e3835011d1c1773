"""Databases and tokens: /api/v3/configure/database and /api/v3/configure/token*."""

from __future__ import annotations

import httpx

DB = "/api/v3/configure/database"


def test_list_databases_needs_format_and_includes_internal(client: httpx.Client) -> None:
    r = client.get(DB)
    assert (r.status_code, r.text) == (400, "serde error: missing field `format`")
    client.post("/api/v3/write_lp", params={"db": "Zeta"}, content=b"m v=1")
    r = client.get(DB, params={"format": "json"})
    assert r.status_code == 200
    assert r.content == (
        b'[{"iox::database":"Zeta"},{"iox::database":"_internal"},{"iox::database":"db"}]'
    )
    r = client.get(DB, params={"format": "csv", "show_deleted": "true"})
    assert r.text == "iox::database,deleted\nZeta,false\n_internal,false\ndb,false\n"


def test_create_database(client: httpx.Client) -> None:
    r = client.post(DB, json={"db": "new", "retention_period": "30d"})
    assert (r.status_code, r.content) == (200, b"")
    assert {"iox::database": "new"} in client.get(DB, params={"format": "json"}).json()
    r = client.post(DB, json={"db": "new"})
    assert (r.status_code, r.text) == (409, "attempted to create a resource that already exists")


def test_create_database_needs_json_content_type(client: httpx.Client) -> None:
    r = client.post(DB, content=b'{"db":"x"}', headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.text) == (415, "unacceptable content-type, expected: application/json")
    r = client.post(DB, content=b'{"db":"x"}')
    assert r.status_code == 415


def test_create_database_bad_name_and_limit(client: httpx.Client) -> None:
    r = client.post(DB, json={"db": "no spaces"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid character in database or rp name: must be ASCII, containing only "
        "letters, numbers, underscores, or hyphens"
    }
    for i in range(4):
        assert client.post(DB, json={"db": f"d{i}"}).status_code == 200
    r = client.post(DB, json={"db": "sixth"})
    assert (r.status_code, r.content) == (
        422,
        b'{"error":"Adding a new database would exceed limit of 5 databases"}',
    )
    r = client.post(DB, json={"retention_period": "1d"})
    assert (r.status_code, r.text) == (400, "serde json error: missing field `db`")


def test_delete_database(client: httpx.Client) -> None:
    client.post("/api/v3/write_lp", params={"db": "gone"}, content=b"m v=1")
    r = client.delete(DB, params={"db": "gone"})
    assert (r.status_code, r.content) == (200, b"")
    r = client.delete(DB, params={"db": "gone"})
    assert (r.status_code, r.text) == (404, "the requested resource was not found: gone")
    r = client.get("/api/v3/query_sql", params={"db": "gone", "q": "SELECT 1"})
    assert r.status_code == 404
    r = client.delete(DB)
    assert (r.status_code, r.text) == (400, "serde error: missing field `db`")
    r = client.delete(DB, params={"db": "_internal"})
    assert (r.status_code, r.text) == (500, "cannot delete internal db")


def test_token_endpoints_without_auth_are_disabled(client: httpx.Client) -> None:
    for method, path in [
        ("POST", "/api/v3/configure/token/admin"),
        ("POST", "/api/v3/configure/token/named_admin"),
        ("DELETE", "/api/v3/configure/token"),
    ]:
        r = client.request(method, path)
        assert (r.status_code, r.text) == (405, "endpoint disabled, started without auth")


def test_named_admin_token_and_delete(authed: httpx.Client, anon: httpx.Client) -> None:
    r = authed.post("/api/v3/configure/token/named_admin", json={"token_name": "ci"})
    assert r.status_code == 201
    minted = r.json()["token"]
    headers = {"Authorization": f"Token {minted}"}
    assert anon.get("/ping", headers=headers).status_code == 200
    r = authed.post("/api/v3/configure/token/named_admin", json={"token_name": "ci"})
    assert r.status_code == 409
    r = authed.delete("/api/v3/configure/token", params={"token_name": "ci"})
    assert r.status_code == 200
    assert anon.get("/ping", headers=headers).status_code == 401
    r = anon.post("/api/v3/configure/token/named_admin", json={"token_name": "x"})
    assert r.status_code == 401  # only the operator token's creation is open

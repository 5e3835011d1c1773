"""Authentication when the server has a token: schemes, p=, and the 401 / 400 bodies."""

from __future__ import annotations

import base64

import httpx
import pytest

UNAUTHENTICATED = b'{"error": "the request was not authenticated"}'
MALFORMED = (
    b'{"error": "Authorization header was malformed, the request was not in the form of '
    b"'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and "
    b'Basic"}'
)
WRITE = "/api/v3/write_lp"


def basic(user: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v3/write_lp?db=db"),
        ("POST", "/api/v2/write?bucket=db"),  # the v3 shape, not v2's: auth comes first
        ("POST", "/write?db=db"),
        ("GET", "/api/v3/query_sql?db=db&q=SELECT+1"),
        ("GET", "/api/v3/configure/database?format=json"),
        ("GET", "/health"),
        ("GET", "/api/v1/health"),
        ("GET", "/ping"),
        ("GET", "/no/such/path"),
    ],
)
def test_no_token_is_401(anon: httpx.Client, method: str, path: str) -> None:
    r = anon.request(method, path, content=b"m v=1")
    assert r.status_code == 401
    assert r.content == UNAUTHENTICATED
    assert r.headers["content-type"] == "application/json"
    assert "access-control-allow-origin" not in r.headers


def test_wrong_token_is_401(anon: httpx.Client) -> None:
    r = anon.get("/health", headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.content) == (401, UNAUTHENTICATED)


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_bearer_and_token_schemes(anon: httpx.Client, token: str, scheme: str) -> None:
    headers = {"Authorization": f"{scheme} {token}"}
    r = anon.post(WRITE, params={"db": "db"}, content=b"m v=1", headers=headers)
    assert r.status_code == 204


def test_basic_takes_the_text_after_the_colon(anon: httpx.Client, token: str) -> None:
    r = anon.get("/health", headers={"Authorization": basic("anyone", token)})
    assert (r.status_code, r.text) == (200, "OK")
    r = anon.get("/health", headers={"Authorization": basic("anyone", "wrong")})
    assert r.status_code == 401


@pytest.mark.parametrize(
    "header",
    [f"bearer {'x'}", "Bearer", "Bearer a b", "Digest abc", "Basic %%%", "Basic " + "eA=="],
)
def test_malformed_header_is_400(anon: httpx.Client, header: str) -> None:
    r = anon.get("/health", headers={"Authorization": header})
    assert (r.status_code, r.content) == (400, MALFORMED)


def test_p_parameter_on_v1_write_only(anon: httpx.Client, token: str) -> None:
    r = anon.post("/write", params={"db": "db", "p": token, "u": "ignored"}, content=b"m v=1")
    assert r.status_code == 204
    # p= wins over a (wrong) header there
    r = anon.post(
        "/write", params={"db": "db", "p": token}, content=b"m v=1",
        headers={"Authorization": "Bearer wrong"},
    )  # fmt: skip
    assert r.status_code == 204
    r = anon.post(WRITE, params={"db": "db", "p": token}, content=b"m v=1")
    assert r.status_code == 401


def test_options_needs_no_token(anon: httpx.Client) -> None:
    r = anon.options("/api/v3/write_lp")
    assert r.status_code == 204


def test_authenticated_requests_work(authed: httpx.Client) -> None:
    assert authed.post(WRITE, params={"db": "db"}, content=b"m v=1 1").status_code == 204
    r = authed.get("/api/v3/query_sql", params={"db": "db", "q": "SELECT v FROM m"})
    assert r.json() == [{"v": 1.0}]
    assert authed.get("/ping").status_code == 200


def test_no_one_mints_an_admin_token_without_the_servers_token(
    anon: httpx.Client, authed: httpx.Client
) -> None:
    # --token is the operator token: the open bootstrap endpoint finds one and refuses.
    minted = anon.post("/api/v3/configure/token/admin")
    assert minted.status_code == 409
    assert minted.json() == {"error": "token name already exists, _admin"}
    assert "token" not in minted.json()
    assert (
        anon.post("/api/v3/configure/token/named_admin", json={"token_name": "x"}).status_code
        == 401
    )
    # Named tokens still come from someone holding the server's token, and then work.
    made = authed.post("/api/v3/configure/token/named_admin", json={"token_name": "ci"})
    assert made.status_code == 201
    use = {"Authorization": f"Bearer {made.json()['token']}"}
    answer = anon.get(
        "/api/v3/query_sql",
        params={"q": "SELECT 1 AS x", "db": "db", "format": "json"},
        headers=use,
    )
    assert answer.status_code == 200

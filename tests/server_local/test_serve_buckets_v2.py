"""``influxkit serve --profile v2``: /api/v2/buckets and /api/v2/orgs as InfluxDB 2.7 answers.

The facts (bodies, codes, words, ordering, paging links) are from 2.7's source; see
``src/influxkit/server/buckets_v2.py`` and ``src/influxkit/clients/local/buckets.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

import influxkit
from influxkit.server import ServerThread, running_server

JSON = "application/json; charset=utf-8"
BUCKETS = "/api/v2/buckets"
ORGS = "/api/v2/orgs"
T0 = 1_700_000_000_000_000_000
_ID = re.compile(r"[0-9a-f]{16}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")
BUCKET_KEYS = ["id", "orgID", "type", "name", "retentionRules", "createdAt", "updatedAt",
               "links", "labels"]  # fmt: skip


@pytest.fixture
def v2() -> Iterator[ServerThread]:
    """A v2 server without a token, with bucket ``db``."""
    with running_server(profile="v2", databases=["db"]) as srv:
        yield srv


@pytest.fixture
def c(v2: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=v2.url, timeout=30) as client:
        yield client


def org_id(c: httpx.Client) -> str:
    return c.get(ORGS).json()["orgs"][0]["id"]


def create(c: httpx.Client, name: str, **extra) -> httpx.Response:
    return c.post(BUCKETS, json={"orgID": org_id(c), "name": name, **extra})


def refused(r: httpx.Response, status: int, code: str, message: str) -> None:
    """``r`` is 2.x's refusal: status, JSON body, content type and error-code header."""
    assert (r.status_code, r.json()) == (status, {"code": code, "message": message}), r.text
    assert r.headers["content-type"] == JSON
    assert r.headers["x-platform-error-code"] == code


def by_name(c: httpx.Client, **params) -> dict:
    return {b["name"]: b for b in c.get(BUCKETS, params=params).json()["buckets"]}


# -- organizations ------------------------------------------------------------------


def test_the_organization(c: httpx.Client) -> None:
    r = c.get(ORGS)
    assert (r.status_code, r.headers["content-type"]) == (200, JSON)
    assert r.content.startswith(b'{\n\t"links": {\n\t\t"self": "/api/v2/orgs"\n\t},\n\t"orgs": [')
    (org,) = r.json()["orgs"]
    assert list(org) == ["links", "id", "name", "description", "createdAt", "updatedAt"]
    assert _ID.fullmatch(org["id"]) and _TIME.fullmatch(org["createdAt"])
    assert (org["name"], org["description"]) == ("influxkit", "")
    assert org["links"]["self"] == f"/api/v2/orgs/{org['id']}"
    assert org["links"]["buckets"] == "/api/v2/buckets?org=influxkit"
    assert c.get(f"{ORGS}/{org['id']}").json() == org


def test_the_first_name_asked_for_names_the_organization(c: httpx.Client) -> None:
    assert c.get(ORGS, params={"org": "acme"}).json()["orgs"][0]["name"] == "acme"
    message = 'organization name "other" not found'
    refused(c.get(ORGS, params={"org": "other"}), 404, "not found", message)
    assert [o["name"] for o in c.get(ORGS).json()["orgs"]] == ["acme"]
    assert [o["name"] for o in c.get(ORGS, params={"orgID": "not-an-id"}).json()["orgs"]] == [
        "acme"
    ]  # 2.x ignores an orgID it cannot read
    refused(c.get(f"{ORGS}/0000000000000001"), 404, "not found", "organization not found")
    refused(c.get(f"{ORGS}/short"), 400, "invalid", "id must have a length of 16 bytes")


# -- listing ---------------------------------------------------------------------------


def test_a_new_server_lists_the_system_buckets_and_its_own(c: httpx.Client) -> None:
    r = c.get(BUCKETS)
    assert (r.status_code, r.headers["content-type"]) == (200, JSON)
    doc = r.json()
    assert doc["links"] == {"self": "/api/v2/buckets?descending=false&limit=20&offset=0"}
    buckets = {b["name"]: b for b in doc["buckets"]}
    assert set(buckets) == {"_monitoring", "_tasks", "db"}
    ids = [b["id"] for b in doc["buckets"]]
    assert ids == sorted(ids)  # across organizations 2.x lists in id order
    monitoring, tasks, db = buckets["_monitoring"], buckets["_tasks"], buckets["db"]
    assert (monitoring["type"], monitoring["description"]) == (
        "system",
        "System bucket for monitoring logs",
    )
    assert monitoring["retentionRules"] == [
        {"type": "expire", "everySeconds": 604800, "shardGroupDurationSeconds": 86400}
    ]
    assert tasks["retentionRules"][0]["everySeconds"] == 259200
    assert list(db) == BUCKET_KEYS  # no description, no rp: left out as 2.x leaves them
    assert db["type"] == "user"
    assert db["retentionRules"] == [
        {"type": "expire", "everySeconds": 0, "shardGroupDurationSeconds": 604800}
    ]
    assert {b["orgID"] for b in doc["buckets"]} == {org_id(c)}
    assert db["labels"] == []
    assert db["links"]["self"] == f"/api/v2/buckets/{db['id']}"


def test_filters_and_paging(c: httpx.Client) -> None:
    for name in ("e", "b", "d", "a", "c"):
        assert create(c, name).status_code == 201
    c.get(ORGS, params={"org": "acme"})  # name the organization
    oid = org_id(c)
    everything = ["_monitoring", "_tasks", "a", "b", "c", "d", "db", "e"]
    assert list(by_name(c, org="acme")) == everything  # within an org: name order
    assert list(by_name(c, orgID=oid)) == everything
    assert list(by_name(c, org="acme", descending="true")) == everything[::-1]
    page = c.get(BUCKETS, params={"org": "acme", "limit": 2, "offset": 2}).json()
    assert [b["name"] for b in page["buckets"]] == ["a", "b"]
    assert page["links"] == {
        "prev": "/api/v2/buckets?descending=false&limit=2&offset=0&org=acme",
        "self": "/api/v2/buckets?descending=false&limit=2&offset=2&org=acme",
        "next": "/api/v2/buckets?descending=false&limit=2&offset=4&org=acme",
    }
    a = by_name(c, org="acme")["a"]
    assert list(by_name(c, org="acme", after=a["id"], limit=2)) == ["b", "c"]
    assert list(by_name(c, name="c")) == ["c"]
    assert list(by_name(c, name="c", org="acme")) == ["c"]
    assert list(by_name(c, id=a["id"], org="ignored-when-an-id-is-given")) == ["a"]
    assert c.get(BUCKETS, params={"name": "nope"}).json()["buckets"] == []
    r = c.get(BUCKETS, params={"name": "nope", "org": "acme"})
    refused(r, 404, "not found", 'bucket "nope" not found')
    r = c.get(BUCKETS, params={"org": "zz"})
    refused(r, 404, "not found", 'organization name "zz" not found')


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "limit must be between 1 and 100"),
        ({"limit": "101"}, "limit must be between 1 and 100"),
        ({"limit": "ten"}, "limit is invalid"),
        ({"offset": "1.5"}, "offset is invalid"),
        ({"descending": "yes"}, "descending is invalid"),
        ({"after": "abc"}, "decoding after: id must have a length of 16 bytes"),
        ({"orgID": "zzzzzzzzzzzzzzzz"}, "invalid ID"),
        ({"id": "0000000000000000"}, "invalid ID"),
    ],
)
def test_bad_list_parameters(c: httpx.Client, params: dict, message: str) -> None:
    refused(c.get(BUCKETS, params=params), 400, "invalid", message)


# -- creating --------------------------------------------------------------------------


def test_create_answers_201_with_the_bucket(c: httpx.Client) -> None:
    rules = [{"type": "expire", "everySeconds": 7200}]
    r = create(c, "cpu", description="load", rp="autogen", retentionRules=rules)
    assert (r.status_code, r.headers["content-type"]) == (201, JSON)
    doc = r.json()
    assert list(doc) == ["id", "orgID", "type", "description", "name", "rp", *BUCKET_KEYS[4:]]
    assert _ID.fullmatch(doc["id"]) and doc["orgID"] == org_id(c)
    assert (doc["name"], doc["description"], doc["rp"]) == ("cpu", "load", "autogen")
    assert doc["retentionRules"] == [
        {"type": "expire", "everySeconds": 7200, "shardGroupDurationSeconds": 3600}
    ]
    assert _TIME.fullmatch(doc["createdAt"]) and doc["createdAt"] == doc["updatedAt"]
    write = f"/api/v2/write?org={doc['orgID']}&bucket={doc['id']}"
    assert doc["links"]["write"] == write
    assert write.replace("&", "\\u0026").encode() in r.content  # Go escapes & in JSON
    assert c.get(f"{BUCKETS}/{doc['id']}").json() == doc


def test_a_created_bucket_takes_writes_and_queries(c: httpx.Client) -> None:
    r = c.post("/api/v2/write", params={"bucket": "cpu"}, content=f"m v=1 {T0}".encode())
    assert r.status_code == 404
    assert create(c, "cpu").status_code == 201
    r = c.post("/api/v2/write", params={"bucket": "cpu"}, content=f"m v=1 {T0}".encode())
    assert r.status_code == 204
    r = c.get("/query", params={"db": "cpu", "q": "SELECT v FROM m"})
    assert r.json()["results"][0]["series"][0]["values"][0][1] == 1


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"name": "x"}, 400, "invalid", "organization id must be provided"),
        ({"name": "x", "orgID": "xyz"}, 400, "invalid",
         "failed to unmarshal json: id must have a length of 16 bytes"),
        ({"name": "x", "orgID": "0000000000000001"}, 404, "not found", "organization not found"),
        ({"name": 5}, 400, "invalid", "failed to unmarshal json: json: cannot unmarshal number "
         "into Go struct field postBucketRequest.name of type string"),
        ({"name": "_x"}, 400, "invalid",
         "bucket name _x is invalid. Buckets may not start with underscore"),
        ({"name": 'a"b'}, 400, "invalid",
         'bucket name a"b is invalid. Bucket names may not include quotation marks'),
        ({"name": "db"}, 422, "conflict", "bucket with name db already exists"),
        ({"name": "x", "retentionRules": [{"everySeconds": 3600}, {"everySeconds": 7200}]}, 422,
         "unprocessable entity", "buckets cannot have more than one retention rule at this time"),
        ({"name": "x", "retentionRules": [{"everySeconds": -1}]}, 422, "unprocessable entity",
         "expiration seconds cannot be negative"),
        ({"name": "x", "retentionRules": [{"everySeconds": 60}]}, 500, "internal error",
         "retention policy duration must be at least 1h0m0s"),
        ({"name": "x", "retentionRules": [{"everySeconds": 3600,
                                           "shardGroupDurationSeconds": 7200}]},
         500, "internal error",
         "retention policy duration must be greater than the shard duration"),
    ],
)  # fmt: skip
def test_create_refusals(c: httpx.Client, body: dict, status: int, code: str, message: str) -> None:
    if "orgID" not in body and body != {"name": "x"}:
        body = {"orgID": org_id(c), **body}
    refused(c.post(BUCKETS, json=body), status, code, message)
    assert set(by_name(c)) == {"_monitoring", "_tasks", "db"}  # nothing was created


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "failed to unmarshal json: EOF"),
        (b"[]", "failed to unmarshal json: json: cannot unmarshal array into Go value of type "
         "tenant.postBucketRequest"),
    ],
)  # fmt: skip
def test_create_with_a_body_go_cannot_decode(c: httpx.Client, content: bytes, message: str) -> None:
    refused(c.post(BUCKETS, content=content), 400, "invalid", message)


# -- deleting and updating -------------------------------------------------------------


def test_delete(c: httpx.Client) -> None:
    bucket = create(c, "gone").json()
    c.post("/api/v2/write", params={"bucket": "gone"}, content=f"m v=1 {T0}".encode())
    r = c.delete(f"{BUCKETS}/{bucket['id']}")
    assert (r.status_code, r.content) == (204, b"")
    assert "gone" not in by_name(c)
    refused(c.delete(f"{BUCKETS}/{bucket['id']}"), 404, "not found", "bucket not found")
    refused(c.get(f"{BUCKETS}/{bucket['id']}"), 404, "not found", "bucket not found")
    r = c.post("/api/v2/write", params={"bucket": "gone"}, content=f"m v=1 {T0}".encode())
    assert r.status_code == 404  # the data went with it
    tasks = by_name(c)["_tasks"]
    refused(
        c.delete(f"{BUCKETS}/{tasks['id']}"), 400, "invalid", "system buckets cannot be deleted"
    )
    refused(c.delete(f"{BUCKETS}/xyz"), 400, "invalid", "id must have a length of 16 bytes")
    refused(c.delete(f"{BUCKETS}/zzzzzzzzzzzzzzzz"), 400, "invalid", "invalid ID")


def test_patch(c: httpx.Client) -> None:
    bucket = create(c, "old", retentionRules=[{"everySeconds": 86400}]).json()
    c.post("/api/v2/write", params={"bucket": "old"}, content=f"m v=2 {T0}".encode())
    url = f"{BUCKETS}/{bucket['id']}"
    rule = {"type": "expire", "everySeconds": 172800}
    r = c.patch(url, json={"name": "new", "description": "renamed", "retentionRules": [rule]})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["id"], doc["name"], doc["description"]) == (bucket["id"], "new", "renamed")
    assert doc["retentionRules"][0]["everySeconds"] == 172800
    assert doc["createdAt"] == bucket["createdAt"] and doc["updatedAt"] >= bucket["updatedAt"]
    assert set(by_name(c)) == {"_monitoring", "_tasks", "db", "new"}
    r = c.get("/query", params={"db": "new", "q": "SELECT v FROM m"})
    assert r.json()["results"][0]["series"][0]["values"][0][1] == 2  # the data moved with it
    db = by_name(c)["db"]  # infinite retention, 7-day shard groups
    refused(
        c.patch(f"{BUCKETS}/{db['id']}", json={"retentionRules": [{"everySeconds": 7200}]}),
        422,
        "unprocessable entity",
        "shard-group duration must also be updated to be smaller than new retention duration",
    )
    refused(c.patch(url, json={"name": "db"}), 422, "conflict", "bucket name is not unique")
    refused(
        c.patch(url, json={"name": "_no"}),
        400,
        "invalid",
        "bucket name _no is invalid. Buckets may not start with underscore",
    )
    refused(
        c.patch(url, json={"retentionRules": [{"everySeconds": 60}]}),
        500,
        "internal error",
        "retention policy duration must be at least 1h0m0s",
    )
    tasks = by_name(c)["_tasks"]
    refused(
        c.patch(f"{BUCKETS}/{tasks['id']}", json={"name": "t"}),
        400,
        "invalid",
        "system buckets cannot be renamed",
    )
    refused(c.patch(f"{BUCKETS}/0000000000000001", json={}), 404, "not found", "bucket not found")


# -- routing, authentication, clients --------------------------------------------------


def test_only_the_v2_profile_has_buckets() -> None:
    with running_server(databases=["db"]) as v3, httpx.Client(base_url=v3.url) as c:
        r = c.get(BUCKETS)
        assert (r.status_code, r.text) == (404, "Not found")


def test_other_paths_and_methods_are_not_found(c: httpx.Client) -> None:
    db = by_name(c)["db"]
    one = f"{BUCKETS}/{db['id']}"
    for method, path in [
        ("GET", f"{one}/labels"),
        ("PUT", BUCKETS),
        ("POST", one),
        ("GET", f"{BUCKETS}/"),
    ]:
        r = c.request(method, path)
        assert (r.status_code, r.text) == (404, "Not found"), (method, path)


def test_a_token_is_needed_when_serve_has_one(token: str) -> None:
    with running_server(profile="v2", token=token) as srv:
        with httpx.Client(base_url=srv.url) as anon:
            assert anon.get(BUCKETS).status_code == 401
            assert anon.get(ORGS).status_code == 401
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(base_url=srv.url, headers=headers) as authed:
            assert authed.get(BUCKETS).status_code == 200
            oid = authed.get(ORGS).json()["orgs"][0]["id"]
            assert authed.post(BUCKETS, json={"orgID": oid, "name": "t"}).status_code == 201


def test_the_http_client_without_an_org_uses_the_one_there_is(v2: ServerThread) -> None:
    with influxkit.connect(v2.url, api_version="v2", database="db") as conn:
        conn.create_bucket("x", retention_seconds=3600)
        assert conn.list_buckets() == ["_monitoring", "_tasks", "db", "x"]
        conn.delete_bucket("x")
        assert conn.list_buckets() == ["_monitoring", "_tasks", "db"]
    with httpx.Client(base_url=v2.url) as c:
        assert c.get(ORGS).json()["orgs"][0]["name"] == "influxkit"  # still unnamed


def test_the_official_influxdb_client(v2: ServerThread) -> None:
    from influxdb_client import BucketRetentionRules, InfluxDBClient

    with InfluxDBClient(url=v2.url, token="any", org="my-org") as client:
        (org,) = client.organizations_api().find_organizations(org="my-org")
        assert org.name == "my-org"
        api = client.buckets_api()
        rule = BucketRetentionRules(type="expire", every_seconds=3600)
        made = api.create_bucket(bucket_name="metrics", retention_rules=rule, org="my-org")
        assert (made.name, made.org_id, made.type) == ("metrics", org.id, "user")
        assert made.retention_rules[0].every_seconds == 3600
        found = api.find_bucket_by_name("metrics")
        assert found.id == made.id
        names = sorted(b.name for b in api.find_buckets(org="my-org").buckets)
        assert names == ["_monitoring", "_tasks", "db", "metrics"]
        api.delete_bucket(found)
        assert api.find_bucket_by_name("metrics") is None


def test_docstring_examples_run() -> None:
    import doctest

    from influxkit.server import buckets_v2

    result = doctest.testmod(buckets_v2, optionflags=doctest.ELLIPSIS)
    assert (result.attempted > 0, result.failed) == (True, 0)


def test_org_names_the_organization_from_the_start() -> None:
    with running_server(profile="v2", org="acme") as srv:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert [o["name"] for o in c.get(ORGS).json()["orgs"]] == ["acme"]
        with influxkit.connect(srv.url, api_version="v2", org="acme", token="t") as conn:
            conn.create_bucket("metrics")
            assert "metrics" in conn.list_buckets()
        other = influxkit.connect(srv.url, api_version="v2", org="other", token="t")
        with other, pytest.raises(influxkit.DatabaseNotFound):  # not this server's org
            other.create_bucket("elsewhere")

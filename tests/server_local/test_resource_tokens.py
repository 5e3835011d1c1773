"""InfluxDB 3 Enterprise resource tokens: created through the client, enforced by serve."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import influxkit
from influxkit.server import ServerThread, running_server

ADMIN = "apiv3_admin-token"


@pytest.fixture
def enterprise() -> Iterator[ServerThread]:
    with running_server(token=ADMIN, profile="v3_enterprise", databases=["app", "other"]) as srv:
        yield srv


def test_a_read_only_token_reads_its_database_only(enterprise: ServerThread) -> None:
    with influxkit.connect(enterprise.url, token=ADMIN, database="app",
                           profile="v3_enterprise") as admin:  # fmt: skip
        admin.write("cpu v=1i 1")
        admin.write("cpu v=2i 2", database="other")
        answer = admin.create_token(
            "reader",
            permissions=[{"resource_type": "db", "resource_names": ["app"], "actions": ["read"]}],
        )
    assert answer["name"] == "reader" and answer["token"].startswith("apiv3_")
    with influxkit.connect(enterprise.url, token=answer["token"], database="app",
                           profile="v3_enterprise") as reader:  # fmt: skip
        assert reader.query_sql("SELECT v FROM cpu") == [{"v": 1}]
        with pytest.raises(influxkit.AuthError) as info:
            reader.write("cpu v=3i 3")
        assert info.value.status == 403
        assert "unauthorized to perform requested action" in str(info.value)
        with pytest.raises(influxkit.AuthError):
            reader.query_sql("SELECT v FROM cpu", database="other")
        with pytest.raises(influxkit.AuthError):
            reader.create_database("mine")  # administration needs an admin token
        assert reader.health()["status"] == "pass"


def test_a_write_token_on_every_database(enterprise: ServerThread) -> None:
    with influxkit.connect(enterprise.url, token=ADMIN, profile="v3_enterprise") as admin:
        token = admin.create_token(
            "writer",
            permissions=[{"resource_type": "db", "resource_names": ["*"], "actions": ["write"]}],
        )["token"]
    with influxkit.connect(enterprise.url, token=token, database="other",
                           profile="v3_enterprise") as writer:  # fmt: skip
        writer.write("cpu v=5i 5")
        with pytest.raises(influxkit.AuthError):
            writer.query_sql("SELECT v FROM cpu")


def test_resource_tokens_are_enterprise_only() -> None:
    read_all = [{"resource_type": "db", "resource_names": ["*"], "actions": ["read"]}]
    with (
        influxkit.connect("http://127.0.0.1:1", token=ADMIN) as core,  # the v3_core profile
        pytest.raises(influxkit.UnsupportedOperation, match="create_resource_token"),
    ):
        core.create_token("x", permissions=read_all)


@pytest.mark.parametrize(
    "permissions",
    [[], [{"resource_type": "table", "resource_names": ["*"], "actions": ["read"]}],
     [{"resource_type": "db", "resource_names": ["*"], "actions": ["delete"]}],
     [{"resource_type": "db", "actions": ["read"]}]],
)  # fmt: skip
def test_bad_permissions_are_refused_before_sending(permissions) -> None:
    with (
        influxkit.connect("http://127.0.0.1:1", token=ADMIN, profile="v3_enterprise") as conn,
        pytest.raises(influxkit.ConfigError),
    ):
        conn.create_token("x", permissions=permissions)


def test_core_has_no_resource_token_endpoint() -> None:
    import httpx

    with running_server(token=ADMIN) as core:
        r = httpx.post(f"{core.url}/api/v3/enterprise/configure/token",
                       headers={"Authorization": f"Bearer {ADMIN}"}, json={})  # fmt: skip
        assert (r.status_code, r.text) == (404, "Not found")

"""InfluxDB 2.x bucket administration: the local engine (v2) and the HTTP client on serve agree.

Each test runs on ``local_v2`` (``client="local", profile="v2"``) and ``serve_v2`` (the
HTTP client with ``api_version="v2"`` against ``influxkit serve --profile v2``), sync and
asyncio; the connection's organization is ``conftest.V2_ORG``.
"""

from __future__ import annotations

import pytest

import influxkit

pytestmark = pytest.mark.needs("admin_v2")

SYSTEM = {"_monitoring", "_tasks"}
T0 = 1_700_000_000_000_000_000


def test_the_list_holds_the_system_buckets_and_the_connections_bucket(backend):
    names = backend.conn.list_buckets()
    assert names == sorted(names)
    assert all(isinstance(n, str) for n in names)
    assert {*SYSTEM, backend.database} <= set(names)


def test_create_list_delete_bucket(backend):
    name = f"{backend.database}_b"
    backend.conn.create_bucket(name, retention_seconds=3600)
    assert name in backend.conn.list_buckets()
    backend.conn.delete_bucket(name)
    assert name not in backend.conn.list_buckets()


def test_a_bucket_is_where_writes_land(backend):
    name = f"{backend.database}_w"
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        backend.conn.write(f"cpu v=1 {T0}", database=name)
    assert info.value.status == 404
    backend.conn.create_bucket(name)
    try:
        backend.conn.write(f"cpu v=1.5 {T0}", database=name)
        rows = backend.conn.query_flux(f'from(bucket: "{name}") |> range(start: 0)')
        assert [r["_value"] for r in rows] == [1.5]
    finally:
        backend.conn.delete_bucket(name)
    with pytest.raises(influxkit.DatabaseNotFound):
        backend.conn.write(f"cpu v=2 {T0}", database=name)


def test_an_existing_name_is_a_conflict(backend):
    with pytest.raises(influxkit.ServerError) as info:
        backend.conn.create_bucket(backend.database)
    assert not isinstance(info.value, influxkit.DatabaseNotFound)
    assert info.value.status == 422
    assert f"bucket with name {backend.database} already exists" in info.value.message


def test_deleting_an_unknown_bucket_is_not_found(backend):
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        backend.conn.delete_bucket(f"{backend.database}_never")
    assert info.value.status == 404


@pytest.mark.parametrize("name", sorted(SYSTEM))
def test_system_buckets_cannot_be_deleted(backend, name):
    with pytest.raises(influxkit.ServerError) as info:
        backend.conn.delete_bucket(name)
    assert (info.value.status, type(info.value)) == (400, influxkit.ServerError)
    assert "system buckets cannot be deleted" in info.value.message
    assert name in backend.conn.list_buckets()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("_mine", "Buckets may not start with underscore"),
        ('say"cheese', "Bucket names may not include quotation marks"),
    ],
)
def test_names_2x_refuses(backend, name, words):
    with pytest.raises(influxkit.ServerError) as info:
        backend.conn.create_bucket(name)
    assert info.value.status == 400
    assert words in info.value.message
    assert name not in backend.conn.list_buckets()


@pytest.mark.parametrize(
    ("seconds", "status", "words"),
    [
        (60, 500, "retention policy duration must be at least 1h0m0s"),
        (-5, 422, "expiration seconds cannot be negative"),
    ],
)
def test_retentions_2x_refuses(backend, seconds, status, words):
    name = f"{backend.database}_r"
    with pytest.raises(influxkit.ServerError) as info:
        backend.conn.create_bucket(name, retention_seconds=seconds)
    assert info.value.status == status
    assert words in info.value.message
    assert name not in backend.conn.list_buckets()


def test_another_organization_is_not_found(backend):
    for call in (
        lambda: backend.conn.list_buckets(org="nobody"),
        lambda: backend.conn.create_bucket(f"{backend.database}_o", org="nobody"),
        lambda: backend.conn.delete_bucket(backend.database, org="nobody"),
    ):
        with pytest.raises(influxkit.DatabaseNotFound) as info:
            call()
        assert info.value.status == 404
        assert 'organization name "nobody" not found' in info.value.message
    assert backend.database in backend.conn.list_buckets()


def test_more_buckets_than_a_page_are_all_listed(backend):
    names = [f"{backend.database}_p{i:03d}" for i in range(100)]
    for name in names:
        backend.conn.create_bucket(name)
    try:
        listed = backend.conn.list_buckets()
        assert set(names) <= set(listed)
        assert len(listed) == len(set(listed))
    finally:
        for name in names:
            backend.conn.delete_bucket(name)
    assert not set(names) & set(backend.conn.list_buckets())

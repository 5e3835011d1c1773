"""The local engine's v2 buckets: 2.x's organization, system buckets, ids, retention, errors."""

from __future__ import annotations

import threading

import pytest

from influxkit.clients.local import LocalClient
from influxkit.clients.local.bucket_model import go_time, new_id, shard_group_seconds
from influxkit.clients.profiles import get_profile
from influxkit.errors import DatabaseNotFound, ServerError, UnsupportedOperation

T0 = 1_700_000_000_000_000_000


def v2(*databases: str, org: str | None = None) -> LocalClient:
    return LocalClient(get_profile("v2"), databases=databases, org=org)


def write(engine: LocalClient, line: str, bucket: str) -> None:
    engine.write(
        line.encode(), database=bucket, precision="ns", accept_partial=False, no_sync=False
    )


def test_a_new_engine_has_the_system_buckets_and_its_databases():
    assert v2("db").list_buckets(org=None) == ["_monitoring", "_tasks", "db"]


def test_create_list_delete():
    engine = v2(org="acme")
    engine.create_bucket("b", org="acme", retention_seconds=86400)
    engine.create_bucket("a", org=None, retention_seconds=None)
    assert engine.list_buckets(org="acme") == ["_monitoring", "_tasks", "a", "b"]
    engine.delete_bucket("a", org="acme")
    engine.delete_bucket("b", org=None)
    assert engine.list_buckets(org=None) == ["_monitoring", "_tasks"]


def test_retention_and_shard_groups_are_stored_as_2x_reports_them():
    engine = v2()
    engine.create_bucket("day", org=None, retention_seconds=86400)
    assert engine.tenancy is not None
    (day,) = engine.tenancy.find(name="day")
    assert (day.retention_seconds, day.shard_group_seconds, day.type) == (86400, 3600, "user")
    assert day.to_json()["retentionRules"] == [
        {"type": "expire", "everySeconds": 86400, "shardGroupDurationSeconds": 3600}
    ]
    (monitoring,) = engine.tenancy.find(name="_monitoring")
    assert (monitoring.type, monitoring.retention_seconds) == ("system", 604800)


@pytest.mark.parametrize(
    ("requested", "retention", "stored"),
    [
        (0, 0, 604800),  # infinite: 7 days
        (0, 180 * 86400, 604800),
        (0, 179 * 86400, 86400),
        (0, 2 * 86400, 86400),
        (0, 86400, 3600),
        (60, 86400, 3600),  # under an hour: an hour
        (7200, 0, 7200),
    ],
)
def test_shard_group_normalisation(requested, retention, stored):
    assert shard_group_seconds(requested, retention) == stored


def test_ids_are_16_hex_digits_without_the_bytes_2x_avoids():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for ident in ids:
        raw = bytes.fromhex(ident)
        assert len(ident) == 16 and ident == ident.lower() and int(ident, 16)
        assert not set(raw) & set(b"\\, ")


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (T0, "2023-11-14T22:13:20Z"),
        (T0 + 1, "2023-11-14T22:13:20.000000001Z"),
        (T0 + 500_000_000, "2023-11-14T22:13:20.5Z"),
    ],
)
def test_times_are_written_as_go_writes_them(ns, text):
    assert go_time(ns) == text


def test_the_configured_organization_is_the_only_one():
    engine = v2(org="acme")
    with pytest.raises(DatabaseNotFound) as info:
        engine.list_buckets(org="other")
    assert info.value.status == 404
    assert info.value.body == {
        "code": "not found",
        "message": 'organization name "other" not found',
    }


def test_an_unnamed_organization_takes_the_first_name_given():
    engine = v2()
    assert engine.list_buckets(org=None) == ["_monitoring", "_tasks"]
    engine.create_bucket("b", org="first", retention_seconds=None)
    assert "b" in engine.list_buckets(org="first")
    with pytest.raises(DatabaseNotFound):
        engine.list_buckets(org="second")


@pytest.mark.parametrize(
    ("call", "status", "cls", "message"),
    [
        (lambda e: e.create_bucket("db", org=None, retention_seconds=None), 422, ServerError,
         "bucket with name db already exists"),
        (lambda e: e.create_bucket("_x", org=None, retention_seconds=None), 400, ServerError,
         "bucket name _x is invalid. Buckets may not start with underscore"),
        (lambda e: e.create_bucket("x", org=None, retention_seconds=1800), 500, ServerError,
         "retention policy duration must be at least 1h0m0s"),
        (lambda e: e.create_bucket("x", org=None, retention_seconds=-1), 422, ServerError,
         "expiration seconds cannot be negative"),
        (lambda e: e.delete_bucket("_tasks", org=None), 400, ServerError,
         "system buckets cannot be deleted"),
        (lambda e: e.delete_bucket("nope", org=None), 404, DatabaseNotFound,
         'bucket "nope" not found'),
    ],
)  # fmt: skip
def test_refusals_are_2x_errors(call, status, cls, message):
    engine = v2("db")
    with pytest.raises(ServerError) as info:
        call(engine)
    assert type(info.value) is cls
    assert (info.value.status, info.value.message) == (status, message)
    assert info.value.body["message"] == message
    assert engine.list_buckets(org=None) == ["_monitoring", "_tasks", "db"]


def test_a_bucket_is_a_database_its_data_goes_with_it():
    engine = v2()
    with pytest.raises(DatabaseNotFound):
        write(engine, f"cpu v=1 {T0}", "b")  # 2.x does not create a bucket on write
    engine.create_bucket("b", org=None, retention_seconds=None)
    write(engine, f"cpu v=1 {T0}", "b")
    query = 'from(bucket: "b") |> range(start: 0)'
    assert [r["_value"] for r in engine.query_flux(query, org=None)] == [1.0]
    engine.delete_bucket("b", org=None)
    engine.create_bucket("b", org=None, retention_seconds=None)
    assert engine.query_flux(query, org=None) == []
    assert engine.query_flux('from(bucket: "_monitoring") |> range(start: 0)', org=None) == []


def test_databases_made_another_way_are_buckets():
    engine = v2()
    engine.create_database("other")
    assert "other" in engine.list_buckets(org=None)
    engine.delete_database("other")
    assert "other" not in engine.list_buckets(org=None)


def test_concurrent_creates_get_distinct_ids():
    engine = v2()

    def make(worker: int) -> None:
        for i in range(25):
            engine.create_bucket(f"w{worker}_{i}", org=None, retention_seconds=None)

    threads = [threading.Thread(target=make, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.tenancy is not None
    buckets = engine.tenancy.find(limit=200)
    assert len(buckets) == 102
    assert len({b.id for b in buckets}) == 102


@pytest.mark.parametrize("profile", ["v3_core", "v3_enterprise", "v1"])
def test_other_profiles_say_buckets_are_on_v2(profile):
    engine = LocalClient(get_profile(profile))
    with pytest.raises(UnsupportedOperation) as info:
        engine.list_buckets(org=None)
    assert info.value.operation == "list_buckets"
    assert f"not supported by the {profile!r} profile" in info.value.message
    assert "buckets exist on the 'v2' profile" in info.value.message
    assert "query_sql" not in info.value.message


@pytest.mark.parametrize(
    "module", ["influxkit.clients.local.buckets", "influxkit.clients.local.bucket_model"]
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

"""Databases, tokens, health and the operations the local engine does not have yet."""

from __future__ import annotations

import sys

import pytest

from influxkit.clients.local import LocalClient
from influxkit.clients.local.client import validate_db_name
from influxkit.clients.profiles import get_profile
from influxkit.errors import DatabaseNotFound, QueryError, ServerError, UnsupportedOperation


def v3(*databases: str) -> LocalClient:
    return LocalClient(get_profile("v3_core"), databases=databases)


def test_create_list_delete():
    engine = v3()
    engine.create_database("b")
    engine.create_database("a", retention_period="30d")
    assert engine.list_databases() == ["a", "b"]
    engine.delete_database("a")
    assert engine.list_databases() == ["b"]


def test_internal_database_is_not_listed_and_cannot_be_deleted():
    engine = v3("x")
    assert "_internal" not in engine.list_databases()
    with pytest.raises(ServerError) as info:
        engine.delete_database("_internal")
    assert (info.value.status, info.value.message) == (500, "cannot delete internal db")


def test_create_existing_is_409():
    engine = v3("db")
    with pytest.raises(ServerError) as info:
        engine.create_database("db")
    assert info.value.status == 409
    assert info.value.message == "attempted to create a resource that already exists"


def test_delete_unknown_is_404():
    engine = v3("db")
    with pytest.raises(DatabaseNotFound) as info:
        engine.delete_database("nope")
    assert info.value.status == 404
    assert info.value.message == "the requested resource was not found: nope"


def test_delete_drops_the_data():
    engine = v3("db")
    engine.write(b"cpu v=1 1", database="db", precision="ns", accept_partial=True, no_sync=False)
    engine.delete_database("db")
    engine.create_database("db")
    rows = engine.query_sql("SHOW TABLES", database="db", params=None, format="rows")
    assert [r["table_name"] for r in rows if r["table_schema"] == "iox"] == []


def test_core_limit_of_five_databases():
    engine = v3("a", "b", "c", "d", "e")
    with pytest.raises(ServerError) as info:
        engine.create_database("f")
    assert info.value.status == 422
    assert info.value.message == "Adding a new database would exceed limit of 5 databases"
    engine.delete_database("a")
    engine.create_database("f")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "db name cannot be empty"),
        ("_x", "db name did not start with a number or letter"),
        ("-x", "db name did not start with a number or letter"),
        (
            "a b",
            "invalid character in database or rp name: must be ASCII, containing only "
            "letters, numbers, underscores, or hyphens",
        ),
        (
            "caf\u00e9",
            "invalid character in database or rp name: must be ASCII, containing only "
            "letters, numbers, underscores, or hyphens",
        ),
        (
            "db/",
            "db name with invalid retention policy, if providing a retention policy name, "
            "must be of form '<db_name>/<rp_name>'",
        ),
        (
            "db/rp/x",
            "db name with invalid retention policy, if providing a retention policy name, "
            "must be of form '<db_name>/<rp_name>'",
        ),
        ("a" * 512, "db name too long: max 511"),
    ],
)
def test_name_rules(name, message):
    assert validate_db_name(name) == message
    with pytest.raises(ServerError) as info:
        v3().create_database(name)
    assert info.value.status == 400
    assert info.value.message == message
    assert info.value.body == {"error": message}


@pytest.mark.parametrize("name", ["db", "my_db-2", "9lives", "db/rp", "a" * 511])
def test_valid_names(name):
    assert validate_db_name(name) is None
    v3().create_database(name)


def test_v1_names_are_not_v3_rules():
    engine = LocalClient(get_profile("v1"))
    engine.create_database("_anything goes")
    assert engine.list_databases() == ["_anything goes"]


def test_health():
    health = v3().health()
    assert health["status"] == "pass"
    assert health["product"] == "InfluxDB 3 Core"
    assert health["message"] == "ready for queries and writes"
    assert health["version"]


def test_tokens():
    engine = v3()
    admin = engine.create_token(None)
    assert set(admin) == {"id", "name", "token", "hash", "created_at", "expiry"}
    assert admin["name"] == "_admin"
    assert admin["token"].startswith("apiv3_")
    assert admin["expiry"] is None
    with pytest.raises(ServerError) as info:
        engine.create_token(None)
    assert (info.value.status, info.value.message) == (409, "token name already exists, _admin")
    named = engine.create_token("ci")
    assert named["token"] != admin["token"]
    engine.delete_token("ci")
    with pytest.raises(ServerError) as info:
        engine.delete_token("_admin")
    assert (info.value.status, info.value.message) == (405, "cannot delete operator token")
    with pytest.raises(ServerError) as info:
        engine.delete_token("ci")
    assert info.value.status == 404


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("query_flux", lambda e: e.query_flux('from(bucket: "b")', org=None)),
        ("create_bucket", lambda e: e.create_bucket("b", org=None, retention_seconds=None)),
        ("list_buckets", lambda e: e.list_buckets(org=None)),
        ("delete_bucket", lambda e: e.delete_bucket("b", org=None)),
    ],
)
def test_outside_the_v3_profile_of_the_local_engine(operation, call):
    with pytest.raises(UnsupportedOperation) as info:
        call(v3())
    assert info.value.operation == operation
    assert "local engine" in info.value.message


def test_engines_are_isolated():
    one, two = v3("db"), v3("db")
    one.write(b"cpu v=1 1", database="db", precision="ns", accept_partial=True, no_sync=False)
    one.create_database("extra")
    assert two.list_databases() == ["db"]
    with pytest.raises(QueryError, match=r"table 'public\.iox\.cpu' not found"):
        two.query_sql("SELECT * FROM cpu", database="db", params=None, format="rows")


def test_importing_the_engine_loads_neither_pyarrow_nor_datafusion():
    import subprocess

    code = (
        "import sys, influxkit, influxkit.clients.local;"
        "print(any(m.split('.')[0] in ('pyarrow', 'datafusion') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docstring_examples_run():
    import doctest

    from influxkit.clients.local import client

    result = doctest.testmod(client, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_statements_run_where_a_profile_allows_them():
    import dataclasses

    profile = dataclasses.replace(get_profile("v3_core"), sql_dml=True)
    engine = LocalClient(profile, databases=["db"])
    engine.write(b"cpu v=1 1", database="db", precision="ns", accept_partial=True, no_sync=False)
    count = engine.execute_sql(
        "INSERT INTO cpu (time, v) VALUES (arrow_cast(2, 'Timestamp(Nanosecond, None)'), 2.0)",
        database="db",
        params=None,
    )
    assert count == 1

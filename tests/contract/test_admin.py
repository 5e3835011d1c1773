"""Database administration and health."""

from __future__ import annotations

import pytest

import influxkit


def test_health(backend):
    h = backend.conn.health()
    assert h["status"] == "pass"
    assert isinstance(h["version"], str) and h["version"]


def test_create_list_delete_database(backend):
    name = f"{backend.database}_adm"
    backend.conn.create_database(name)
    assert name in backend.conn.list_databases()
    backend.conn.delete_database(name)
    assert name not in backend.conn.list_databases()


@pytest.mark.needs("admin_v3")
def test_create_existing_database_conflicts(backend):
    name = f"{backend.database}_dup"
    backend.conn.create_database(name)
    try:
        with pytest.raises(influxkit.ServerError) as info:
            backend.conn.create_database(name)
        assert info.value.status == 409
    finally:
        backend.conn.delete_database(name)


@pytest.mark.needs("admin_v3")
def test_delete_unknown_database(backend):
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        backend.conn.delete_database(f"{backend.database}_never")
    assert info.value.status == 404


@pytest.mark.needs("admin_v3")
def test_invalid_database_name(backend):
    with pytest.raises(influxkit.ServerError) as info:
        backend.conn.create_database("_bad name")
    assert info.value.status == 400

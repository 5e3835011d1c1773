"""Fan-out groups on the local engine: writes reach every member, queries the primary."""

from __future__ import annotations

import pytest

import influxkit


@pytest.fixture
def members():
    a = influxkit.add_connection("g-a", client="local", database="db")
    b = influxkit.add_connection("g-b", client="local", database="db")
    yield a, b
    for name in ("g-all",):
        if influxkit.groups.get(name) is not None:
            influxkit.remove_group(name)
    for name in ("g-a", "g-b"):
        if influxkit.registry.get(name) is not None:
            influxkit.remove_connection(name)


def count(conn) -> int:
    return conn.query_sql("SELECT count(*) AS n FROM cpu")[0]["n"]


def test_a_write_reaches_every_member(members) -> None:
    a, b = members
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    outcome = influxkit.write("g-all", [f"cpu v={i}i {i + 1}" for i in range(10)])
    assert {name: o.lines for name, o in outcome.items()} == {"g-a": 10, "g-b": 10}
    assert count(a) == count(b) == 10


def test_queries_go_to_the_primary(members) -> None:
    a, b = members
    a.write("cpu v=1i 1")
    b.write("cpu v=2i 1")
    influxkit.add_group("g-all", members=["g-a", "g-b"], primary="g-b")
    assert influxkit.query_sql("g-all", "SELECT v FROM cpu") == [{"v": 2}]


def test_points_and_dicts_are_encoded_once_for_all(members) -> None:
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    influxkit.write("g-all", influxkit.Point("cpu").field("v", 1.5).time(2, "s"), precision="s")
    for conn in members:
        assert conn.query_sql("SELECT v, CAST(time AS BIGINT) AS t FROM cpu") == [
            {"v": 1.5, "t": 2_000_000_000}
        ]


def test_a_refusing_member_does_not_stop_the_others(members) -> None:
    a, b = members
    a.write("cpu v=1i 1")  # a now has v as an integer: a float is a conflict there only
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    with pytest.raises(influxkit.GroupWriteError) as info:
        influxkit.write("g-all", "cpu v=2.5 2")
    assert set(info.value.errors) == {"g-a"}
    assert isinstance(info.value.errors["g-a"], influxkit.PartialWriteError)
    assert info.value.outcomes["g-b"].lines == 1
    assert count(b) == 1


def test_stats_health_and_flush_per_member(members) -> None:
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    influxkit.write("g-all", "cpu v=1i 1")
    influxkit.flush("g-all")
    stats = influxkit.stats("g-all")
    assert set(stats) == {"g-a", "g-b"} and stats["g-a"]["points_written"] == 1
    health = influxkit.health("g-all")
    assert {name: h["status"] for name, h in health.items()} == {"g-a": "pass", "g-b": "pass"}


def test_administration_on_a_group_is_refused(members) -> None:
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    with pytest.raises(influxkit.UnsupportedOperation, match="makes no sense on group 'g-all'"):
        influxkit.create_database("g-all", "other")


def test_group_names_are_checked(members) -> None:
    with pytest.raises(influxkit.ConnectionNotFound, match="g-missing"):
        influxkit.add_group("g-all", members=["g-a", "g-missing"])
    with pytest.raises(influxkit.ConfigError, match="primary"):
        influxkit.add_group("g-all", members=["g-a"], primary="g-b")
    with pytest.raises(influxkit.ConfigError, match="connection's name"):
        influxkit.add_group("g-a", members=["g-b"])
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    with pytest.raises(influxkit.ConfigError, match="exists"):
        influxkit.add_group("g-all", members=["g-a"])
    with pytest.raises(influxkit.ConfigError, match="group's name"):
        influxkit.add_connection("g-all", client="local")
    influxkit.add_group("g-all", members=["g-b"], replace=True)
    assert influxkit.groups.get("g-all").members == ("g-b",)


def test_a_member_removed_later_is_named(members) -> None:
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    influxkit.remove_connection("g-b")
    with pytest.raises(influxkit.ConnectionNotFound, match="member 'g-b'"):
        influxkit.write("g-all", "cpu v=1i 1")


def test_remove_group_keeps_the_members(members) -> None:
    influxkit.add_group("g-all", members=["g-a", "g-b"])
    influxkit.remove_group("g-all")
    assert influxkit.groups.get("g-all") is None
    assert influxkit.registry.get("g-a") is not None
    with pytest.raises(influxkit.ConnectionNotFound):
        influxkit.remove_group("g-all")

"""DoGet tickets: what the client builds, what the server reads (InfluxDB 3's decode_json rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from influxkit.clients.flight import build_ticket
from influxkit.errors import ConfigError
from influxkit.server.flight import DATABASE_KEYS, FlightTicket, InvalidTicket, parse_ticket


def _ticket(**doc: Any) -> bytes:
    return json.dumps(doc).encode()


@pytest.mark.parametrize("key", DATABASE_KEYS)
def test_every_database_alias(key: str) -> None:
    ticket = parse_ticket(_ticket(**{key: "my_db", "sql_query": "SELECT 1;"}))
    assert ticket == FlightTicket("my_db", "SELECT 1;", "sql", {}, False)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "sql"),
        ({"query_type": None}, "sql"),
        ({"query_type": "sql"}, "sql"),
        ({"query_type": "influxql"}, "influxql"),
    ],
)
def test_query_type_defaults_to_sql(given: dict[str, Any], expected: str) -> None:
    assert (
        parse_ticket(_ticket(database="db", sql_query="SHOW MEASUREMENTS", **given)).query_type
        == expected
    )


@pytest.mark.parametrize(
    "data",
    [
        b"invalid ticket",
        b"\xff\xfe{}",  # not UTF-8
        b"[]",
        b'"SELECT 1"',
        _ticket(database_name="my_db", sql_query="SELECT 1;"),  # not an alias
        _ticket(sql_query="SELECT 1"),
        _ticket(database="db"),
        _ticket(database="db", sql_query=1),
        _ticket(database=1, sql_query="SELECT 1"),
        _ticket(database="a", bucket="b", sql_query="SELECT 1"),  # serde: duplicate field
        b'{"database": "a", "database": "b", "sql_query": "SELECT 1"}',
        _ticket(database="db", sql_query="SELECT 1", query_type="flight"),
        _ticket(database="db", sql_query="SELECT 1", query_type=""),
        _ticket(database="db", sql_query="SELECT 1", query_type="SQL"),
        _ticket(database="db", sql_query="SELECT $1", params=["foo", "bar"]),
        _ticket(database="db", sql_query="SELECT $1", params=None),
        _ticket(database="db", sql_query="SELECT $1", params={"1": [1]}),
        _ticket(database="db", sql_query="SELECT $1", params={"1": {"a": 1}}),
        _ticket(database="db", sql_query="SELECT 1", is_debug="yes"),
    ],
)
def test_tickets_the_server_refuses(data: bytes) -> None:
    with pytest.raises(InvalidTicket):
        parse_ticket(data)


def test_an_unknown_query_type_says_why_in_the_log_only() -> None:
    with pytest.raises(InvalidTicket, match="Expected 'sql' or 'influxql', got flight"):
        parse_ticket(_ticket(database="db", sql_query="SELECT 1", query_type="flight"))


def test_params_keep_their_json_types_and_unknown_keys_are_ignored() -> None:
    ticket = parse_ticket(
        _ticket(
            bucket="my_db",
            sql_query="SELECT $1, $2, $3, $4, $5",
            params={"1": None, "2": True, "3": "string", "4": 1234, "5": 12.34},
            is_debug=True,
            something_new="ignored",
        )
    )
    assert ticket.params == {"1": None, "2": True, "3": "string", "4": 1234, "5": 12.34}
    assert type(ticket.params["4"]) is int
    assert ticket.is_debug is True


def test_an_integer_past_u64_is_a_float_as_serde_reads_it() -> None:
    params = parse_ticket(_ticket(database="db", sql_query="SELECT $a", params={"a": 2**64})).params
    assert params == {"a": float(2**64)}
    assert parse_ticket(_ticket(database="db", sql_query="x", params={"a": 2**64 - 1})).params == {
        "a": 2**64 - 1
    }


def test_the_client_ticket_is_what_influxdb3_python_sends() -> None:
    # influxdb3-python: json.dumps({"database", "sql_query", "query_type"} + "params")
    official = json.dumps(
        {"database": "db", "sql_query": "SELECT $h", "query_type": "sql", "params": {"h": "a"}}
    ).encode()
    ours = build_ticket("SELECT $h", database="db", params={"h": "a"})
    assert json.loads(ours) == json.loads(official)
    assert list(json.loads(ours)) == ["database", "sql_query", "query_type", "params"]
    assert parse_ticket(ours) == parse_ticket(official)


def test_the_client_ticket_leaves_out_empty_params_and_round_trips() -> None:
    assert json.loads(build_ticket("SELECT 1", database="db", params={})) == {
        "database": "db",
        "sql_query": "SELECT 1",
        "query_type": "sql",
    }
    ticket = parse_ticket(build_ticket("SHOW MEASUREMENTS", database="db", query_type="influxql"))
    assert (ticket.database, ticket.query, ticket.query_type) == (
        "db",
        "SHOW MEASUREMENTS",
        "influxql",
    )


def test_a_datetime_param_goes_as_rfc3339_text_as_over_http() -> None:
    doc = json.loads(
        build_ticket("x", database="db", params={"t": datetime(2026, 1, 1, tzinfo=UTC)})
    )
    assert doc["params"] == {"t": "2026-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"database": "db", "query_type": "flux"}, "query_type='flux'"),
        ({"database": ""}, "non-empty database"),
        ({"database": "db", "params": {"x": {1, 2}}}, "invalid params"),
    ],
)
def test_bad_client_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        build_ticket("SELECT 1", **kwargs)

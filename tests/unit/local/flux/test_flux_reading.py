"""from / range / filter, tables and group keys, results, yields, errors: as Flux documents."""

from __future__ import annotations

import pytest

import influxkit
from influxkit.clients.local import LocalClient
from influxkit.clients.profiles import get_profile
from influxkit.errors import DatabaseNotFound, QueryError, UnsupportedOperation

S = 10**9


def test_each_series_and_field_is_a_table_in_series_key_order(fe):
    """Default group key: _start, _stop, _field, _measurement and the tags; one table each."""
    got = fe.values(fe.q(""), "table", "_measurement", "_field", "host", "_value")
    assert got == [
        (0, "cpu", "idle", "a", 90),
        (0, "cpu", "idle", "a", 80),
        (1, "cpu", "usage", "a", 1.0),
        (1, "cpu", "usage", "a", 2.0),
        (1, "cpu", "usage", "a", 4.0),
        (2, "cpu", "usage", "b", 10.0),
        (2, "cpu", "usage", "b", 20.0),
        (3, "disk", "full", None, True),
        (4, "disk", "label", None, None),  # an empty string is an empty CSV cell: null
        (5, "disk", "note", None, "a,b"),
        (6, "mem", "used", "a", 3),
    ]
    tables = fe.tables(fe.q(""))
    assert tables[0].key == {
        "_start": fe.T0_NS,
        "_stop": fe.T0_NS + 90 * S,
        "_field": "idle",
        "_measurement": "cpu",
        "host": "a",
        "region": "eu",
    }
    assert [c.label for c in tables[0].columns] == [
        "_start", "_stop", "_time", "_value", "_field", "_measurement", "host", "region",
    ]  # fmt: skip
    assert [(c.label, c.type) for c in tables[3].columns if c.label == "_value"] == [
        ("_value", "boolean")
    ]
    assert "host" not in [c.label for c in tables[3].columns]  # a series without tags


def test_rows_carry_result_table_and_the_range_bounds(fe):
    row = fe.rows(fe.q('|> filter(fn: (r) => r._measurement == "mem")'))[0]
    assert row == {
        "result": "_result",
        "table": 0,
        "_start": fe.at(0),
        "_stop": fe.at(90),
        "_time": fe.at(1),
        "_value": 3,
        "_field": "used",
        "_measurement": "mem",
        "host": "a",
    }


def test_range_start_is_inclusive_and_stop_exclusive(fe):
    query = fe.q(
        '|> filter(fn: (r) => r.host == "a" and r._field == "usage")',
        start="2021-01-01T00:00:10Z",
        stop="2021-01-01T00:00:20Z",
    )
    assert fe.values(query, "_time", "_value", "_start", "_stop") == [
        (fe.at(10), 2.0, fe.at(10), fe.at(20))
    ]


def test_relative_range_against_option_now_and_unix_seconds(fe):
    now = "option now = () => 2021-01-01T00:01:30Z\n"
    relative = (
        now
        + 'from(bucket: "b") |> range(start: -30s) |> filter(fn: (r) => r._measurement == "cpu")'
    )
    assert fe.values(relative, "_time", "_value", "_stop") == [
        (fe.at(60), 80, fe.at(90)),
        (fe.at(65), 20.0, fe.at(90)),
    ]
    seconds = (
        now
        + f'from(bucket: "b") |> range(start: {fe.T0_NS // S + 60})'
        + '|> filter(fn: (r) => r._measurement == "cpu")'
    )
    assert fe.values(seconds, "_value") == [(80,), (20.0,)]


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ('r._field == "usage" and (r.host == "b" or r._value > 3.0)', [4.0, 10.0, 20.0]),
        ('r["_measurement"] == "cpu" and r["host"] =~ /^b$/', [10.0, 20.0]),
        ('r._measurement !~ /^(cpu|mem)$/ and r._field != "label"', [True, "a,b"]),
        ("not exists r.host", [True, None, "a,b"]),
        # a row without the column reads null; null != "a" is null, and filter drops it
        ('r.host != "a"', [10.0, 20.0]),
        ('r._field == "idle" and r._value <= 80', [80]),
        (
            'r._field == "usage" and r._time >= 2021-01-01T00:00:10Z'
            " and r._time < 2021-01-01T00:01:00Z",
            [2.0, 4.0],
        ),
        ('if r._measurement == "mem" then true else false', [3]),
    ],
)
def test_filter_predicates(fe, predicate, expected):
    assert [
        v for (v,) in fe.values(fe.q(f"|> filter(fn: (r) => {predicate})"), "_value")
    ] == expected


def test_consecutive_filters_and_variables(fe):
    query = (
        'host = "b"\n'
        'from(bucket: "b") |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-01T00:01:30Z)'
        ' |> filter(fn: (r) => r._measurement == "cpu") |> filter(fn: (r) => r.host == host)'
    )
    assert fe.values(query, "_value") == [(10.0,), (20.0,)]


def test_filter_on_empty_keep_keeps_the_emptied_tables(fe):
    (result,) = fe.results(fe.q('|> filter(fn: (r) => r._field == "none", onEmpty: "keep")'))
    assert len(result.tables) == 7 and all(not t.rows for t in result.tables)
    (dropped,) = fe.results(fe.q('|> filter(fn: (r) => r._field == "none")'))
    assert dropped.tables == ()


def test_a_type_mismatch_in_a_predicate_is_flux_s_error(fe):
    with pytest.raises(QueryError) as info:
        fe.rows(fe.q("|> filter(fn: (r) => r._value > 1)"))
    assert info.value.message.endswith("unsupported binary expression bool > int")
    assert info.value.status == 400


def test_yield_names_results_and_table_ids_restart(fe):
    query = (
        'data = from(bucket: "b")'
        " |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-01T00:01:30Z)\n"
        'data |> filter(fn: (r) => r._field == "usage") |> yield(name: "usage")\n'
        'data |> filter(fn: (r) => r._measurement == "mem") |> yield(name: "mem")\n'
    )
    got = fe.values(query, "result", "table", "_value")
    assert got == [
        ("usage", 0, 1.0), ("usage", 0, 2.0), ("usage", 0, 4.0),
        ("usage", 1, 10.0), ("usage", 1, 20.0),
        ("mem", 0, 3),
    ]  # fmt: skip
    assert [r.name for r in fe.results(query)] == ["usage", "mem"]
    assert {r["result"] for r in fe.rows(fe.q("|> yield()"))} == {"_result"}


def test_yield_passes_its_input_on(fe):
    query = fe.q(
        '|> filter(fn: (r) => r._field == "usage") |> yield(name: "raw")'
        '|> count() |> yield(name: "n")'
    )
    assert fe.values(query, "result", "_value") == [
        ("raw", 1.0), ("raw", 2.0), ("raw", 4.0), ("raw", 10.0), ("raw", 20.0), ("n", 3), ("n", 2),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            'from(bucket: "b") |> filter(fn: (r) => true)',
            "error in building plan while starting program: cannot submit unbounded read to "
            "\"b\"; try bounding 'from' with a call to 'range'",
        ),
        ('x = from(bucket: "b") |> range(start: 0)', "this Flux script returns no streaming data"),
        (
            'from(bucket: "b") |> range(start: 0) |> map(fn: (r) => r)',
            "error @1:41-1:44: map() is not supported",
        ),
        (
            'from(bucket: "b") |> range(start: 0) |> strings.toUpper(v: "a")',
            "strings.toUpper() is not supported",
        ),
        (
            'import "strings"\nfrom(bucket: "b") |> range(start: 0)',
            'import "strings" is not supported',
        ),
        (
            'from(bucket: "b") |> range(start: 0) |> aggregateWindow(every: 1m, fn: spread)',
            "spread() is not supported",
        ),
        ('from(bucketID: "0123") |> range(start: 0)', "from(bucketID:) is not supported"),
        (
            'from(bucket: "b") |> range(start: 0) |> filter(fn: (r) => r.x == y)',
            "error @1:66-1:67: undefined identifier y",
        ),
        (
            'from(bucket: "b") |> range(begin: 0)',
            "error @1:28-1:36: found unexpected argument begin",
        ),
        ('from(bucket: "b") |> range()', "error @1:22-1:29: missing required argument start"),
        ("from(bucket: 1) |> range(start: 0)", "expected string but found int (argument bucket)"),
        (
            'from(bucket: "b") |> range(start: "yesterday")',
            "expected time but found string (argument start)",
        ),
        ("mean()", "missing required argument tables"),
        (
            'from(bucket: "b") |> range(start: 0) |> yield(name: "a") |> yield(name: "a")',
            'more than one result named "a"',
        ),
    ],
)
def test_errors(fe, query, message):
    with pytest.raises(QueryError) as info:
        fe.rows(query)
    assert message in info.value.message
    assert info.value.status == 400
    assert info.value.body == info.value.message  # what serve answers as the v2 message


def test_unsupported_flux_names_the_function_and_what_runs(fe):
    with pytest.raises(QueryError) as info:
        fe.rows('from(bucket: "b") |> range(start: 0) |> window(every: 1m)')
    assert "window() is not supported by influxkit's local Flux engine" in info.value.message
    assert "aggregateWindow" in info.value.message


def test_unknown_bucket_is_2x_s_404(fe):
    with pytest.raises(DatabaseNotFound) as info:
        fe.rows('from(bucket: "nope") |> range(start: 0)')
    assert info.value.status == 404
    assert info.value.message == 'failed to initialize execute state: could not find bucket "nope"'


def test_profiles_without_flux_refuse_it():
    engine = LocalClient(get_profile("v3_core"), databases=["b"])
    with pytest.raises(UnsupportedOperation) as info:
        engine.query_flux('from(bucket: "b") |> range(start: 0)', org=None)
    assert info.value.operation == "query_flux"
    assert "'v2' profile" in info.value.message


def test_through_a_local_v2_connection():
    with influxkit.connect(client="local", profile="v2", database="app") as conn:
        conn.write("cpu,host=a usage=0.5 1609459200000000000", database="app")
        rows = conn.query_flux(
            'from(bucket: "app") |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-02T00:00:00Z)',
            org="any",
        )
    assert [(r["host"], r["_value"]) for r in rows] == [("a", 0.5)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("10.0 ^ 400.0", "+Inf"),
        ("(-10.0) ^ 401.0", "-Inf"),
        ("0.0 ^ -1.0", "+Inf"),
        ("(-8.0) ^ 0.5", "NaN"),
        ("2 ^ 3", "8"),
        ("7 / 2", "3"),
        ("(-7) / 2", "-3"),  # Go truncates toward zero
        ("(-7) % 2", "-1"),
        ("1.0 / 0.0", "+Inf"),
    ],
)
def test_arithmetic_as_go_computes_it(expression, expected):
    """Operators on constants, printed as the CSV encoder prints a float or an int."""
    from influxkit.clients.local.flux.annotated_csv import format_value
    from influxkit.clients.local.flux.evaluate import Evaluator
    from influxkit.clients.local.flux.parser import parse
    from influxkit.clients.local.flux.values import Scope

    (statement,) = parse(expression).body
    value = Evaluator(lambda *_: None).eval(statement.expression, Scope())
    assert format_value(value, "double" if isinstance(value, float) else "long") == expected

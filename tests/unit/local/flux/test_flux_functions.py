"""Aggregates, selectors, aggregateWindow, group, sort, limit, keep/drop/rename, pivot.

Expectations are hand-computed from the bucket in conftest.py and Flux's documented
rules (each test names the rule it checks).
"""

from __future__ import annotations

import pytest

from influxkit.errors import QueryError

USAGE = '|> filter(fn: (r) => r._field == "usage")'
USAGE_A = '|> filter(fn: (r) => r._field == "usage" and r.host == "a")'


# -- aggregateWindow ----------------------------------------------------------------------


def test_aggregate_window_stamps_the_window_stop_and_creates_empty_windows(fe):
    """_time is each window's _stop (timeSrc "_stop"); createEmpty defaults to true."""
    got = fe.values(
        fe.q(USAGE + "|> aggregateWindow(every: 30s, fn: mean)"), "host", "_time", "_value"
    )
    assert got == [
        ("a", fe.at(30), 7.0 / 3),
        ("a", fe.at(60), None),
        ("a", fe.at(90), None),
        ("b", fe.at(30), 10.0),
        ("b", fe.at(60), None),
        ("b", fe.at(90), 20.0),
    ]


def test_aggregate_window_keeps_the_group_key_and_range_bounds(fe):
    tables = fe.tables(fe.q(USAGE + "|> aggregateWindow(every: 30s, fn: mean)"))
    assert [t.key["host"] for t in tables] == ["a", "b"]
    assert tables[0].key["_start"] == fe.T0_NS and tables[0].key["_stop"] == fe.T0_NS + 90 * 10**9
    assert [c.label for c in tables[0].columns] == [
        "_start", "_stop", "_time", "_value", "_field", "_measurement", "host", "region",
    ]  # fmt: skip


def test_aggregate_window_count_of_an_empty_window_is_zero_and_sum_is_null(fe):
    count = fe.values(fe.q(USAGE + "|> aggregateWindow(every: 30s, fn: count)"), "_value")
    assert count == [(3,), (0,), (0,), (1,), (0,), (1,)]
    total = fe.values(fe.q(USAGE_A + "|> aggregateWindow(every: 30s, fn: sum)"), "_value")
    assert total == [(7.0,), (None,), (None,)]


def test_aggregate_window_without_empty_windows(fe):
    got = fe.values(
        fe.q(USAGE + "|> aggregateWindow(every: 30s, fn: mean, createEmpty: false)"),
        "host",
        "_time",
    )
    assert got == [("a", fe.at(30)), ("b", fe.at(30)), ("b", fe.at(90))]


def test_aggregate_window_windows_are_clipped_to_the_range(fe):
    """Windows align to the epoch; the first and last are cut at the range's start and stop."""
    stop = fe.q(USAGE_A + "|> aggregateWindow(every: 30s, fn: count)", stop="2021-01-01T00:01:10Z")
    assert fe.values(stop, "_time", "_value") == [(fe.at(30), 3), (fe.at(60), 0), (fe.at(70), 0)]
    start = fe.q(
        USAGE_A + '|> aggregateWindow(every: 30s, fn: count, timeSrc: "_start")',
        start="2021-01-01T00:00:05Z",
    )
    assert fe.values(start, "_time", "_value") == [(fe.at(5), 2), (fe.at(30), 0), (fe.at(60), 0)]


def test_aggregate_window_offset_and_time_dst(fe):
    got = fe.values(
        fe.q(USAGE_A + '|> aggregateWindow(every: 30s, offset: 15s, fn: sum, timeDst: "end")'),
        "end",
        "_value",
    )
    assert got == [(fe.at(15), 3.0), (fe.at(45), 4.0), (fe.at(75), None), (fe.at(90), None)]


def test_aggregate_window_with_a_selector_stamps_the_window_too(fe):
    """duplicate(column: timeSrc, as: timeDst) overwrites the selected row's _time."""
    got = fe.values(fe.q(USAGE_A + "|> aggregateWindow(every: 30s, fn: last)"), "_time", "_value")
    assert got == [(fe.at(30), 4.0), (fe.at(60), None), (fe.at(90), None)]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("aggregateWindow(every: 1mo, fn: mean)", "calendar durations"),
        ("aggregateWindow(every: 0s, fn: mean)", "cannot be negative or zero"),
        (
            "aggregateWindow(every: 1m, fn: (column, tables=<-) => tables |> mean(column: column))",
            "aggregateWindow(fn: a user-defined function) is not supported",
        ),
        ("aggregateWindow(every: 1m, fn: median)", "unsupported aggregate column type int"),
    ],
)
def test_aggregate_window_errors(fe, call, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fe.rows(fe.q(f'|> filter(fn: (r) => r._field == "idle") |> {call}'))


# -- aggregates and selectors -------------------------------------------------------------


def test_aggregates_drop_time_and_keep_the_group_key(fe):
    """An aggregate's output has the group key columns and _value only."""
    (table,) = fe.tables(fe.q(USAGE_A + "|> mean()"))
    assert [c.label for c in table.columns] == [
        "_start", "_stop", "_field", "_measurement", "host", "region", "_value",
    ]  # fmt: skip
    assert table.rows[0][-1] == 7.0 / 3


@pytest.mark.parametrize(
    ("fn", "field", "expected", "column_type"),
    [
        ("mean", "idle", 85.0, "double"),  # mean of integers is a float
        ("sum", "idle", 170, "long"),  # sum keeps the type
        ("count", "usage", 3, "long"),
        ("median", "usage", 2.0, "double"),  # odd count: the middle value
        ("sum", "usage", 7.0, "double"),
    ],
)
def test_aggregate_values_and_types(fe, fn, field, expected, column_type):
    query = fe.q(f'|> filter(fn: (r) => r._field == "{field}" and r.host == "a") |> {fn}()')
    (table,) = fe.tables(query)
    assert table.rows[0][-1] == expected
    assert table.columns[-1].type == column_type


def test_median_of_an_even_count_averages_the_middle_values(fe):
    assert fe.values(fe.q(USAGE + '|> filter(fn: (r) => r.host == "b") |> median()'), "_value") == [
        (15.0,)
    ]
    selected = fe.q(
        USAGE + '|> filter(fn: (r) => r.host == "b") |> median(method: "exact_selector")'
    )
    assert fe.values(selected, "_time", "_value") == [(fe.at(5), 10.0)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            '|> filter(fn: (r) => r._field == "note") |> mean()',
            "unsupported aggregate column type string",
        ),
        (
            '|> filter(fn: (r) => r._field == "full") |> sum()',
            "unsupported aggregate column type bool",
        ),
        ('|> filter(fn: (r) => r._field == "note") |> max()', "unsupported selector type string"),
        (
            '|> filter(fn: (r) => r._field == "used") |> mean(column: "nope")',
            'column "nope" does not exist',
        ),
        (
            '|> filter(fn: (r) => r._field == "used") |> mean(column: "host")',
            "cannot aggregate columns that are part of the group key",
        ),
    ],
)
def test_aggregate_type_errors_are_flux_s(fe, query, message):
    with pytest.raises(QueryError, match=message):
        fe.rows(fe.q(query))


@pytest.mark.parametrize(
    ("fn", "seconds", "value"),
    [("first", 0, 1.0), ("last", 20, 4.0), ("min", 0, 1.0), ("max", 20, 4.0)],
)
def test_selectors_keep_the_whole_row_with_its_time(fe, fn, seconds, value):
    (row,) = fe.rows(fe.q(USAGE_A + f"|> {fn}()"))
    assert (row["_time"], row["_value"], row["_start"], row["region"]) == (
        fe.at(seconds), value, fe.at(0), "eu",
    )  # fmt: skip


def test_first_skips_null_values(fe):
    pivoted = fe.q(
        '|> filter(fn: (r) => r._measurement == "cpu" and r.host == "a")'
        '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
        '|> last(column: "usage")'
    )
    assert fe.values(pivoted, "_time", "usage", "idle") == [(fe.at(20), 4.0, None)]


# -- group, sort, limit ---------------------------------------------------------------------


def test_group_by_columns_merges_tables_and_sets_the_key(fe):
    tables = fe.tables(fe.q(USAGE + '|> group(columns: ["host"])'))
    assert [t.key for t in tables] == [{"host": "a"}, {"host": "b"}]
    everything = fe.tables(fe.q(USAGE + "|> group()"))
    assert len(everything) == 1 and everything[0].key == {}
    assert [r[3] for r in everything[0].rows] == [1.0, 2.0, 4.0, 10.0, 20.0]
    assert fe.values(fe.q(USAGE + '|> group(columns: ["_measurement"]) |> mean()'), "_value") == [
        (7.4,)
    ]


def test_group_except(fe):
    (table, _) = fe.tables(
        fe.q(USAGE + '|> group(columns: ["_start", "_stop", "_time", "_value"], mode: "except")')
    )
    assert table.key == {"_field": "usage", "_measurement": "cpu", "host": "a", "region": "eu"}


def test_group_refuses_to_merge_columns_of_different_types(fe):
    with pytest.raises(QueryError, match='column "_value" is both of type int and float'):
        fe.rows(fe.q('|> filter(fn: (r) => r._measurement == "cpu") |> group()'))


def test_sort_is_descending_on_request_and_puts_nulls_last_ascending(fe):
    base = USAGE + "|> aggregateWindow(every: 30s, fn: mean) |> group()"
    asc = [v for (v,) in fe.values(fe.q(base + "|> sort()"), "_value")]
    assert asc == [7.0 / 3, 10.0, 20.0, None, None, None]
    desc = [v for (v,) in fe.values(fe.q(base + "|> sort(desc: true)"), "_value")]
    assert desc == [None, None, None, 20.0, 10.0, 7.0 / 3]
    by_time = fe.values(
        fe.q(USAGE + '|> group() |> sort(columns: ["_time"], desc: true)'), "_value"
    )
    assert by_time == [(20.0,), (4.0,), (2.0,), (10.0,), (1.0,)]


def test_limit_and_offset_apply_per_table(fe):
    assert fe.values(fe.q(USAGE + "|> limit(n: 1)"), "host", "_value") == [("a", 1.0), ("b", 10.0)]
    assert fe.values(fe.q(USAGE_A + "|> limit(n: 2, offset: 1)"), "_value") == [(2.0,), (4.0,)]


# -- keep, drop, rename -----------------------------------------------------------------


def test_keep_and_drop_change_the_columns_and_the_group_key(fe):
    (table, _) = fe.tables(fe.q(USAGE + '|> keep(columns: ["_time", "_value", "host", "nope"])'))
    assert [c.label for c in table.columns] == ["_time", "_value", "host"]
    assert table.key == {"host": "a"}
    rows = fe.rows(fe.q(USAGE_A + '|> drop(columns: ["_start", "_stop", "region"])'))
    assert set(rows[0]) == {"result", "table", "_time", "_value", "_field", "_measurement", "host"}
    (table,) = fe.tables(fe.q(USAGE_A + "|> drop(fn: (column) => column =~ /^_st/)"))
    assert "_start" not in table.key and "_field" in table.key


def test_rename_renames_key_columns_too(fe):
    (table,) = fe.tables(fe.q(USAGE_A + '|> rename(columns: {_value: "usage", host: "machine"})'))
    assert "machine" in table.key and "host" not in table.key
    assert fe.values(fe.q(USAGE_A + '|> rename(columns: {_value: "usage"})'), "usage") == [
        (1.0,), (2.0,), (4.0,),
    ]  # fmt: skip
    upper = fe.rows(fe.q(USAGE_A + '|> rename(fn: (column) => "c" + column)'))
    assert "c_value" in upper[0]


# -- pivot ------------------------------------------------------------------------------


def test_pivot_makes_a_column_per_field_and_a_row_per_time(fe):
    query = fe.q(
        '|> filter(fn: (r) => r._measurement == "cpu")'
        '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
    )
    got = fe.values(query, "table", "host", "_time", "idle", "usage")
    assert got == [
        (0, "a", fe.at(0), 90, 1.0),
        (0, "a", fe.at(10), None, 2.0),
        (0, "a", fe.at(20), None, 4.0),
        (0, "a", fe.at(60), 80, None),
        (1, "b", fe.at(5), None, 10.0),
        (1, "b", fe.at(65), None, 20.0),
    ]
    tables = fe.tables(query)
    # the group key loses the columnKey and valueColumn columns
    assert tables[0].key == {
        "_start": fe.T0_NS,
        "_stop": fe.T0_NS + 90 * 10**9,
        "_measurement": "cpu",
        "host": "a",
        "region": "eu",
    }
    assert [c.label for c in tables[0].columns] == [
        "_start", "_stop", "_time", "_measurement", "host", "region", "idle", "usage",
    ]  # fmt: skip
    assert [c.label for c in tables[1].columns] == [
        "_start", "_stop", "_time", "_measurement", "host", "region", "usage",
    ]  # fmt: skip
    assert "_field" not in fe.rows(query)[0] and "_value" not in fe.rows(query)[0]


def test_pivot_joins_several_column_keys_with_underscores(fe):
    query = fe.q(
        '|> filter(fn: (r) => r.host == "a")'
        '|> pivot(rowKey: ["_time"], columnKey: ["_measurement", "_field"], valueColumn: "_value")'
    )
    rows = fe.rows(query)
    cpu = [(r["_time"], r["cpu_idle"], r["cpu_usage"]) for r in rows if "cpu_idle" in r]
    assert cpu[0] == (fe.at(0), 90, 1.0)
    assert [(r["_time"], r["mem_used"]) for r in rows if "mem_used" in r] == [(fe.at(1), 3)]


def test_pivot_needs_its_columns(fe):
    with pytest.raises(QueryError, match="specified column does not exist in table: nope"):
        fe.rows(fe.q('|> pivot(rowKey: ["nope"], columnKey: ["_field"], valueColumn: "_value")'))

"""SELECT on the v1 engine: every expected answer here is InfluxDB 1.6.7's for the same data.

These pin the rules the differential test checks at scale, so that they hold (and
fail with a readable diff) on a machine without an InfluxDB server.
"""

from __future__ import annotations

import pytest

from .conftest import Engine

T1, T2, T3 = "1970-01-01T00:00:01Z", "1970-01-01T00:00:02Z", "1970-01-01T00:00:03Z"


def test_star_lists_fields_and_tags_sorted_together(v1: Engine) -> None:
    (series,) = v1.series("SELECT * FROM cpu")
    assert series["name"] == "cpu"
    assert series["columns"] == ["time", "b", "host", "n", "region", "s", "value"]
    assert series["values"] == [
        [T1, True, "a", 3, "us", "x", 1.5],
        [T1, False, "b", 4, "eu", "y", 2.5],
        [T2, None, "a", 5, "us", None, 3],
        [T3, None, None, None, "eu", None, 4],
    ]


def test_several_measurements_share_the_expanded_columns(v1: Engine) -> None:
    cpu, mem = v1.series("SELECT * FROM cpu, mem")
    assert cpu["columns"] == mem["columns"]
    assert mem["values"] == [["1970-01-01T00:00:01.5Z", None, 10, "a", None, None, None, 2.5, None]]


def test_group_by_tag_makes_series_and_a_missing_tag_is_empty(v1: Engine) -> None:
    series = v1.series("SELECT * FROM cpu GROUP BY host")
    assert [s["tags"] for s in series] == [{"host": ""}, {"host": "a"}, {"host": "b"}]
    assert series[0]["columns"] == ["time", "b", "n", "region", "s", "value"]
    assert series[0]["values"] == [[T3, None, None, "eu", None, 4]]


@pytest.mark.parametrize(
    ("where", "values"),
    [
        ("host != 'a'", [2.5, 4]),
        ("host = ''", [4]),
        ("nope = ''", [1.5, 2.5, 3, 4]),
        ("nope != 'z'", [1.5, 2.5, 3, 4]),
        ("b = true", [1.5]),
        ("s =~ /x|y/", [1.5, 2.5]),
        ("host =~ /a/ AND value > 1", [1.5, 3]),
        ("host = 'a' OR value > 3.5", [1.5, 3, 4]),
        ("(host = 'a' OR region = 'eu') AND value < 4", [1.5, 2.5, 3]),
        ("s > 5", []),
        ("host = 5", []),
        ("host > 'a'", []),
        ("n / 2 > 1", [2.5, 3]),
        ("time > 1s OR host = 'a'", [3]),
    ],
)
def test_where(v1: Engine, where: str, values: list[float]) -> None:
    result = v1.result(f"SELECT value FROM cpu WHERE {where}")
    got = [row[1] for s in result.get("series", []) for row in s["values"]]
    assert got == values


def test_a_point_is_listed_when_a_selected_field_has_a_value(v1: Engine) -> None:
    assert v1.values("SELECT n + value FROM cpu") == [[T1, 4.5], [T1, 6.5], [T2, 8], [T3, None]]
    assert v1.values("SELECT n * 0 FROM cpu") == [[T1, 0], [T1, 0], [T2, 0]]
    assert v1.result("SELECT n FROM cpu WHERE value > 3.5") == {"statement_id": 0}
    assert v1.result("SELECT host FROM cpu") == {"statement_id": 0}


def test_arithmetic_names_casts_and_division_by_zero(v1: Engine) -> None:
    (series,) = v1.series("SELECT n / 2, n * 2, n + value, n % 2, -n, n & 1, value / 0 FROM cpu")
    assert series["columns"] == ["time", "n", "n_1", "n_value", "n_2", "n_3", "n_4", "value"]
    assert series["values"][0] == [T1, 1.5, 6, 4.5, 1, -3, 1, 0]
    (cast,) = v1.series(
        "SELECT value::integer, n::float, n::string, host::tag, host::field FROM cpu"
    )
    assert cast["columns"] == ["time", "value", "n", "n_1", "host", "host_1"]
    assert cast["values"][0] == [T1, 1, 3, None, "a", None]


def test_aggregates_over_everything(v1: Engine) -> None:
    (series,) = v1.series(
        "SELECT count(value), sum(n), mean(value), stddev(value), stddev(n), median(n), "
        "mode(n), spread(n), spread(value) FROM cpu"
    )
    assert series["columns"][:4] == ["time", "count", "sum", "mean"]
    assert series["values"] == [
        ["1970-01-01T00:00:00Z", 4, 12, 2.75, 1.0408329997330663, 1, 4, 3, 2, 2.5]
    ]


def test_selectors_report_their_points_time_and_columns(v1: Engine) -> None:
    assert v1.values("SELECT max(value) FROM cpu") == [[T3, 4]]
    assert v1.values("SELECT max(value), host FROM cpu") == [[T3, 4, None]]
    assert v1.values("SELECT max(value) * 2, host FROM cpu") == [[T3, 8, None]]
    assert v1.values("SELECT max(value), max(value) * 2 FROM cpu") == [[T3, 4, 8]]
    assert v1.values("SELECT max(value), min(value) FROM cpu") == [["1970-01-01T00:00:00Z", 4, 1.5]]
    assert v1.values("SELECT max(value) FROM cpu WHERE time > 0") == [[T3, 4]]
    assert v1.values("SELECT count(value) FROM cpu WHERE time > 1s") == [
        ["1970-01-01T00:00:01.000000001Z", 2]
    ]


def test_first_and_last_break_ties_on_time_by_value(v1: Engine) -> None:
    assert v1.values("SELECT first(s), last(s), first(b), last(b) FROM cpu") == [
        ["1970-01-01T00:00:00Z", "y", "y", False, True]
    ]


def test_percentile_distinct_top_bottom(v1: Engine) -> None:
    assert v1.values("SELECT percentile(value, 50) FROM cpu") == [[T1, 2.5]]
    assert v1.values("SELECT percentile(value, 101) FROM cpu") == [[T3, 4]]
    assert v1.result("SELECT percentile(value, 0) FROM cpu") == {"statement_id": 0}
    zero = "1970-01-01T00:00:00Z"
    assert v1.values("SELECT distinct(value) FROM cpu") == [
        [zero, 1.5],
        [zero, 2.5],
        [zero, 3],
        [zero, 4],
    ]
    assert v1.values("SELECT count(distinct(value)) FROM cpu") == [[zero, 4]]
    assert v1.values("SELECT top(value, 2) FROM cpu") == [[T2, 3], [T3, 4]]
    assert v1.values("SELECT top(value, host, 2) FROM cpu") == [[T2, 3, "a"], [T3, 4, None]]
    assert v1.values("SELECT bottom(value, 2), host FROM cpu") == [[T1, 1.5, "a"], [T1, 2.5, "b"]]
    assert v1.values(
        "SELECT top(value, 2) FROM cpu WHERE time >= 0 AND time < 4s GROUP BY time(2s)"
    ) == [[T1, 2.5], [T1, 1.5], [T2, 3], [T3, 4]]


WINDOW = "WHERE time >= 0 AND time < 6s GROUP BY time(2s)"


@pytest.mark.parametrize(
    ("select", "values"),
    [
        (
            "count(value) FROM cpu WHERE time >= 0 AND time < 6s GROUP BY time(1s)",
            [0, 2, 1, 1, 0, 0],
        ),
        (
            "mean(value) FROM cpu WHERE time >= 0 AND time < 6s GROUP BY time(1s)",
            [None, 2, 3, 4, None, None],
        ),
        (f"sum(value) FROM cpu {WINDOW} fill(previous)", [4, 7, 7]),
        (f"sum(value) FROM cpu {WINDOW} fill(linear)", [4, 7, None]),
        (f"sum(value) FROM cpu {WINDOW} fill(7)", [4, 7, 7]),
        (f"count(value) FROM cpu {WINDOW} fill(7)", [2, 2, 7]),
        (f"count(value) FROM cpu {WINDOW} fill(none)", [2, 2]),
        ("count(value) FROM cpu WHERE time >= 0 AND time < 6s GROUP BY time(2s, 1s)", [0, 3, 1, 0]),
    ],
)
def test_group_by_time_and_fill(v1: Engine, select: str, values: list[object]) -> None:
    assert [row[1] for row in v1.values(f"SELECT {select}")] == values


def test_windows_start_at_each_series_first_point_without_a_lower_bound(v1: Engine) -> None:
    series = v1.series("SELECT count(value) FROM cpu WHERE time < 4s GROUP BY time(1s), host")
    assert [(s["tags"]["host"], [r[0][17:19] for r in s["values"]]) for s in series] == [
        ("", ["03"]),
        ("a", ["01", "02", "03"]),
        ("b", ["01", "02", "03"]),
    ]


def test_order_limit_offset_and_series_limits(v1: Engine) -> None:
    assert v1.values("SELECT value FROM cpu ORDER BY time DESC LIMIT 2 OFFSET 1") == [
        [T2, 3],
        [T1, 2.5],
    ]
    series = v1.series("SELECT value FROM cpu GROUP BY host SLIMIT 2 SOFFSET 1")
    assert [s["tags"]["host"] for s in series] == ["a", "b"]
    # SLIMIT counts per measurement.
    series = v1.series("SELECT value, used FROM cpu, mem GROUP BY host SLIMIT 1")
    assert [(s["name"], s["tags"]["host"]) for s in series] == [("cpu", ""), ("mem", "a")]
    # DESC also reverses series and measurements.
    series = v1.series("SELECT * FROM cpu, mem ORDER BY time DESC")
    assert [s["name"] for s in series] == ["mem", "cpu"]


def test_tz_shifts_the_written_times(v1: Engine) -> None:
    values = v1.values("SELECT value FROM cpu WHERE time >= 0 AND time <= 3s tz('America/Chicago')")
    assert values[0] == ["1969-12-31T18:00:01-06:00", 1.5]


def test_params_are_values_never_text(v1: Engine) -> None:
    query = "SELECT value FROM cpu WHERE host = $h AND value >= $v"
    values = v1.doc(query, {"h": "b", "v": 2})[0]["results"][0]["series"][0]["values"]
    assert values == [[T1, 2.5]]
    hostile = v1.doc(query, {"h": "b' OR '1'='1", "v": 0})[0]["results"][0]
    assert hostile == {"statement_id": 0}
    assert v1.doc("SELECT value FROM cpu WHERE host = $nope", {}) == {
        "error": "error parsing query: missing parameter: nope"
    }


@pytest.mark.parametrize(
    ("query", "error"),
    [
        (
            "SELECT mean(s) FROM cpu",
            "unsupported mean iterator type: *query.stringInterruptIterator",
        ),
        ("SELECT max(s) FROM cpu", "unsupported max iterator type: *query.stringInterruptIterator"),
        (
            "SELECT median(b) FROM cpu",
            "unsupported median iterator type: *query.booleanInterruptIterator",
        ),
        (
            "SELECT mean(value), value FROM cpu",
            "mixing aggregate and non-aggregate queries is not supported",
        ),
        (
            "SELECT max(value), min(value), host FROM cpu",
            "mixing multiple selector functions with tags or fields is not supported",
        ),
        (
            "SELECT top(value, 2), max(value) FROM cpu",
            "selector function top() cannot be combined with other functions",
        ),
        (
            "SELECT value FROM cpu GROUP BY time(1s)",
            "GROUP BY requires at least one aggregate function",
        ),
        ("SELECT value FROM cpu fill(none)", "fill(none) must be used with a function"),
        ("SELECT time FROM cpu", "at least 1 non-time field must be queried"),
        ("SELECT 1 FROM cpu", "field must contain at least one variable"),
        ("SELECT foo(value) FROM cpu", "undefined function foo()"),
        ("SELECT top(value, 0) FROM cpu", "limit (0) in top function must be at least 1"),
        (
            "SELECT top(value, 2.5) FROM cpu",
            "expected integer as last argument in top(), found 2.500",
        ),
        ("SELECT mean(value) FROM cpu GROUP BY time()", "time dimension expected 1 or 2 arguments"),
        ("SELECT value FROM cpu WHERE time != 1s", "invalid time comparison operator: !="),
        (
            "SELECT value FROM cpu WHERE time > 'bad'",
            "invalid operation: time and *influxql.StringLiteral are not compatible",
        ),
        ("SELECT value FROM nope..cpu", "database not found: nope"),
        (
            "SELECT integral(value) FROM cpu",
            "integral() is not supported by the influxkit local engine; use a real server",
        ),
    ],
)
def test_statement_errors_read_as_the_servers(v1: Engine, query: str, error: str) -> None:
    assert v1.result(query) == {"statement_id": 0, "error": error}


def test_several_statements_and_ddl(v1: Engine) -> None:
    doc = v1.doc("CREATE DATABASE b2; CREATE DATABASE a1; CREATE DATABASE a1; SHOW DATABASES")
    results = doc[0]["results"]
    assert results[:3] == [{"statement_id": 0}, {"statement_id": 1}, {"statement_id": 2}]
    assert results[3]["series"][0]["values"] == [["x"], ["b2"], ["a1"]]  # creation order
    v1.doc("DROP DATABASE b2; DROP DATABASE nope")
    assert v1.client.list_databases() == ["a1", "x"]


def test_show_statements(v1: Engine) -> None:
    assert v1.series("SHOW MEASUREMENTS") == [
        {"name": "measurements", "columns": ["name"], "values": [["cpu"], ["mem"]]}
    ]
    assert [s["values"] for s in v1.series("SHOW TAG KEYS")] == [[["host"], ["region"]], [["host"]]]
    assert v1.series("SHOW TAG VALUES FROM cpu WITH KEY IN (host, region)")[0]["values"] == [
        ["host", "a"],
        ["host", "b"],
        ["region", "eu"],
        ["region", "us"],
    ]
    assert v1.series("SHOW TAG VALUES WITH KEY = host WHERE region = 'eu'")[0]["values"] == [
        ["host", "b"]
    ]
    assert v1.series("SHOW FIELD KEYS FROM cpu")[0]["values"] == [
        ["b", "boolean"],
        ["n", "integer"],
        ["s", "string"],
        ["value", "float"],
    ]
    assert v1.series("SHOW SERIES WHERE region = 'eu'") == [
        {"columns": ["key"], "values": [["cpu,host=b,region=eu"], ["cpu,region=eu"]]}
    ]
    assert v1.series("SHOW RETENTION POLICIES")[0]["values"] == [
        ["autogen", "0s", "168h0m0s", 1, True]
    ]
    assert v1.result("SHOW MEASUREMENTS ON nope") == {"statement_id": 0}
    assert v1.result("SHOW TAG KEYS ON nope") == {
        "statement_id": 0,
        "error": "database not found: nope",
    }


def test_query_influxql_gives_the_rows_the_http_client_gives(v1: Engine) -> None:
    rows = v1.client.query_influxql(
        "SELECT mean(value) FROM cpu GROUP BY host", database="x", params=None, format="rows"
    )
    assert [(r["iox::measurement"], r["host"], r["mean"]) for r in rows] == [
        ("cpu", "", 4),
        ("cpu", "a", 2.25),
        ("cpu", "b", 2.5),
    ]
    assert str(rows[0]["time"]) == "1970-01-01 00:00:00+00:00"


def test_query_influxql_raises_as_the_http_client_does(v1: Engine) -> None:
    from influxkit.errors import DatabaseNotFound, QueryError

    with pytest.raises(QueryError) as parse:
        v1.client.query_influxql("SELEC", database="x", params=None, format="rows")
    assert parse.value.status == 400
    assert parse.value.message.startswith(
        "query refused (HTTP 400): error parsing query: found SELEC"
    )
    with pytest.raises(DatabaseNotFound, match="query refused: database not found: nope"):
        v1.client.query_influxql("SELECT * FROM cpu", database="nope", params=None, format="rows")

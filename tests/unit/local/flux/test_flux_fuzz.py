"""Random pipelines of the supported functions: rows, or an influxkit error, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from influxkit.errors import InfluxError

CALLS = [
    "mean()",
    'mean(column: "x")',
    "sum()",
    "count()",
    "median()",
    'median(method: "exact_selector")',
    "min()",
    "max()",
    "first()",
    'last(column: "_time")',
    "limit(n: 1)",
    "limit(n: -1)",
    "limit(n: 2, offset: 1)",
    "sort()",
    'sort(columns: ["_time"], desc: true)',
    "sort(columns: [1])",
    'group(columns: ["host"])',
    "group()",
    'group(columns: ["_value"], mode: "except")',
    'keep(columns: ["_value", "_time"])',
    'drop(columns: ["_start", "_stop"])',
    'drop(fn: (column) => column == "host")',
    'rename(columns: {_value: "v"})',
    'rename(fn: (column) => column + "x")',
    'pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
    "aggregateWindow(every: 10s, fn: mean)",
    "aggregateWindow(every: 7s, fn: last, createEmpty: false)",
    'aggregateWindow(every: 20s, period: 40s, fn: count, timeSrc: "_start")',
    "filter(fn: (r) => r._value > 1)",
    'filter(fn: (r) => r.host == "a" or not exists r.host)',
    'filter(fn: (r) => r._field =~ /u/, onEmpty: "keep")',
    "filter(fn: (r) => r)",
    "range(start: 2021-01-01T00:00:05Z, stop: 2021-01-01T00:00:50Z)",
    'yield(name: "y")',
    "yield()",
]

PIPELINES = st.lists(st.sampled_from(CALLS), max_size=6).map(
    lambda calls: (
        'from(bucket: "b") |> range(start: 2021-01-01T00:00:00Z, stop: 2021-01-01T00:01:30Z)'
        + "".join(f" |> {c}" for c in calls)
    )
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(PIPELINES)
def test_pipelines_answer_rows_or_an_influxkit_error(fe, query):
    try:
        rows = fe.rows(query)
    except InfluxError as exc:
        assert exc.status in (400, 404), exc
    else:
        assert isinstance(rows, list)
        assert all(isinstance(r, dict) and "result" in r and "table" in r for r in rows)


ATOMS = st.sampled_from(
    [
        "r._value", "r.host", "r._time", "r.nope", 'r["_field"]', "1", "0", "1.5", "0.0", '"a"',
        "true", "false", "2021-01-01T00:00:00Z", "1h", "now()", "[1, 2]", "{a: 1}", "(r) => r",
    ]
)  # fmt: skip
OPERATORS = st.sampled_from(
    ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "^", "and", "or", "=~", "!~"]
)


@st.composite
def predicates(draw, depth=3):
    if depth == 0 or draw(st.booleans()):
        atom = draw(ATOMS)
        prefix = draw(st.sampled_from(["", "not ", "exists ", "-"]))
        return prefix + atom
    left, right = draw(predicates(depth=depth - 1)), draw(predicates(depth=depth - 1))
    op = draw(OPERATORS)
    if op in ("=~", "!~"):
        right = draw(st.sampled_from(["/a/", "/^[[:alpha:]]+$/", "/(/"]))
    return f"({left} {op} {right})"


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(predicates())
@example("(r._value ^ (r._value + (r._value + r._value)))")  # overflowed math.pow once
def test_filter_predicates_answer_rows_or_an_influxkit_error(fe, predicate):
    query = fe.q(f"|> filter(fn: (r) => {predicate})")
    try:
        rows = fe.rows(query)
    except InfluxError as exc:
        assert exc.status == 400, exc
    else:
        assert isinstance(rows, list)

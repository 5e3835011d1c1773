"""Property tests: no text makes the InfluxQL parser or engine fail other than with a QueryError.

Two generators: arbitrary text (any character, hostile ones weighted in), and
sequences of InfluxQL's own words and symbols, which reach deep into the grammar
(and so into the planner and executor, run here against a small database).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influxkit.clients.local import LocalClient
from influxkit.clients.local.influxql import parse_query, run
from influxkit.clients.local.influxql.shape_v1 import documents
from influxkit.clients.profiles import get_profile
from influxkit.errors import QueryError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = "'\"\\/$;:,.()*=~!<>+-%&|^ \t\n\r\0é€😀µ#`"
text = st.text(
    st.one_of(st.sampled_from(HOSTILE), st.characters(exclude_categories=("Cs",))), max_size=80
)

WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "SLIMIT",
    "SOFFSET",
    "SHOW",
    "TAG",
    "KEYS",
    "VALUES",
    "FIELD",
    "SERIES",
    "MEASUREMENTS",
    "DATABASES",
    "RETENTION",
    "POLICIES",
    "WITH",
    "KEY",
    "MEASUREMENT",
    "IN",
    "ON",
    "AS",
    "AND",
    "OR",
    "DESC",
    "ASC",
    "CREATE",
    "DROP",
    "DATABASE",
    "DISTINCT",
    "time",
    "now()",
    "fill",
    "tz",
    "mean",
    "count",
    "max",
    "top",
    "percentile",
    "distinct",
    "first",
    "value",
    "host",
    "cpu",
    "mem",
    "*",
    "/h.*/",
    "(",
    ")",
    ",",
    ";",
    "=",
    "!=",
    "=~",
    "!~",
    "<",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "::",
    "::field",
    "::integer",
    "'a'",
    "'2020-01-01T00:00:00Z'",
    "1h",
    "5m",
    "0s",
    "10",
    "-3",
    "2.5",
    "$p",
    "$q",
    "true",
    "null",
    "none",
    "previous",
    "linear",
    "'UTC'",
    "'America/Chicago'",
    '"x"',
    ".",
    "..",
]
tokens = st.lists(st.sampled_from(WORDS), min_size=1, max_size=25).map(" ".join)

# Mostly valid statements, built from the grammar, so that planning and running are reached.
FIELDS = [
    "*",
    "value",
    "n",
    "s",
    "b",
    "host",
    "nothere",
    "/v/",
    "value * 2",
    "n / 0",
    "-n",
    "value::integer",
    "n::string",
    "mean(value)",
    "count(n)",
    "max(value)",
    "min(s)",
    "first(*)",
    "sum(b)",
    "top(value, 2)",
    "bottom(n, host, 1)",
    "percentile(value, 50)",
    "distinct(s)",
    "count(distinct(n))",
    "median(n)",
    "mode(s)",
    "spread(value)",
    "stddev(n)",
    "last(b)",
    "mean(value) + max(n)",
    "time",
]
CONDITIONS = [
    "host = 'a'",
    "host != 'b'",
    "host =~ /a|b/",
    "host !~ /^$/",
    "value > 1",
    "n <= 3",
    "s = 'x'",
    "b = true",
    "time > 0",
    "time < 2s",
    "time >= now() - 1h",
    "nothere = ''",
    "value * 2 > n",
    "time > '1970-01-01T00:00:01Z'",
    "host = $p",
    "n = $q",
]
DIMENSIONS = ["host", "*", "time(1s)", "time(500ms, 250ms)", "time(0s)", "/h/", "time(1s), host"]
TAILS = [
    "",
    " fill(none)",
    " fill(previous)",
    " fill(linear)",
    " fill(0)",
    " ORDER BY time DESC",
    " LIMIT 1",
    " OFFSET 1",
    " SLIMIT 1",
    " SOFFSET 1",
    " tz('America/Chicago')",
]
SOURCES = ["cpu", "mem", "cpu, mem", "/.*/", "db..cpu", "nope", "db.autogen.cpu"]


@st.composite
def statements(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:
        return draw(
            st.sampled_from(
                [
                    "SHOW DATABASES",
                    "SHOW MEASUREMENTS",
                    "SHOW TAG KEYS FROM cpu",
                    "SHOW TAG VALUES WITH KEY = host",
                    "SHOW FIELD KEYS",
                    "SHOW SERIES",
                    "SHOW RETENTION POLICIES",
                    "SHOW MEASUREMENTS WHERE host = 'a'",
                ]
            )
        )
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3))
    text = f"SELECT {', '.join(fields)} FROM {draw(st.sampled_from(SOURCES))}"
    conditions = draw(st.lists(st.sampled_from(CONDITIONS), max_size=3))
    if conditions:
        joiner = draw(st.sampled_from([" AND ", " OR "]))
        text += " WHERE " + joiner.join(conditions)
    if draw(st.booleans()):
        text += " GROUP BY " + draw(st.sampled_from(DIMENSIONS))
    for tail in draw(st.lists(st.sampled_from(TAILS), max_size=2, unique=True)):
        text += tail
    return text


def _mutate(text: str, data: st.DataObject) -> str:
    """Drop or insert one word: near-valid text finds the parser's error paths."""
    words = text.split(" ")
    at = data.draw(st.integers(0, len(words)))
    if data.draw(st.booleans()) and at < len(words):
        del words[at]
    else:
        words.insert(at, data.draw(st.sampled_from(WORDS)))
    return " ".join(words)


ENGINE = LocalClient(get_profile("v1"), databases=["db"])
ENGINE.write(
    b'cpu,host=a value=1.5,n=3i,s="x",b=true 1000000000\n'
    b"cpu,host=b value=2.5,n=4i 2000000000\nmem,host=a value=10i 1500000000\n",
    database="db",
    precision="ns",
    accept_partial=False,
    no_sync=False,
)
PARAMS = {"p": "a", "q": 2}


@SETTINGS
@given(text)
def test_arbitrary_text_parses_or_raises_a_query_error(query: str) -> None:
    try:
        parse_query(query, PARAMS)
    except QueryError as exc:
        assert exc.status == 400
        assert exc.message.startswith("error parsing query: ")


@SETTINGS
@given(st.one_of(statements(), tokens, text), st.data())
def test_running_any_statement_gives_results_or_a_query_error(
    query: str, data: st.DataObject
) -> None:
    if data.draw(st.integers(0, 3)) == 0:
        query = _mutate(query, data)
    try:
        results = run(ENGINE, query, database="db", params=PARAMS, now=3_000_000_000)
    except QueryError:
        return
    for result in results:
        assert (result.error is None) or isinstance(result.error, str)
    documents(results, epoch="ns")  # and they can be written as 1.x's JSON
    documents(results)


@SETTINGS
@given(st.one_of(statements(), tokens, text))
def test_the_v3_profile_answers_any_text_with_a_table_or_a_query_error(query: str) -> None:
    engine = V3
    try:
        engine.query_influxql(query, database="db", params=PARAMS, format="arrow")
    except QueryError as exc:
        assert exc.status in (400, 404, 405)


V3 = LocalClient(get_profile("v3_core"), databases=["db"])
V3.write(
    b"cpu,host=a value=1.5,n=3i 1000000000\n",
    database="db",
    precision="ns",
    accept_partial=True,
    no_sync=False,
)

"""The InfluxQL parser: the statements it builds and the errors 1.x gives, word for word.

Every expected error message here was read from the InfluxDB 1.6.7 server the
differential test runs against.
"""

from __future__ import annotations

import pytest

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.errors import ParseError
from influxkit.clients.local.influxql.parser import Unsupported, parse_duration, parse_query
from influxkit.errors import QueryError


def one(text: str, params: dict | None = None) -> ast.Statement:
    statements = parse_query(text, params)
    assert len(statements) == 1
    return statements[0]


def test_select_with_every_clause() -> None:
    stmt = one(
        "SELECT mean(value) * 2 AS m, max(n) FROM db.rp.cpu, /m.*/ "
        "WHERE host =~ /a\\/b/ AND time > now() - 1h "
        "GROUP BY time(1h, 15m), host fill(previous) ORDER BY time DESC "
        "LIMIT 2 OFFSET 1 SLIMIT 3 SOFFSET 4 tz('America/Chicago')"
    )
    assert isinstance(stmt, ast.SelectStatement)
    assert stmt.fields[0] == ast.Field(
        ast.BinaryExpr("*", ast.Call("mean", (ast.VarRef("value"),)), ast.IntegerLiteral(2)), "m"
    )
    assert stmt.sources == (
        ast.Measurement(name="cpu", database="db", retention_policy="rp"),
        ast.Measurement(regex="m.*"),
    )
    assert stmt.condition == ast.BinaryExpr(
        "AND",
        ast.BinaryExpr("=~", ast.VarRef("host"), ast.RegexLiteral("a/b")),
        ast.BinaryExpr(
            ">",
            ast.VarRef("time"),
            ast.BinaryExpr("-", ast.Call("now"), ast.DurationLiteral(3_600_000_000_000, "1h")),
        ),
    )
    assert [d.expr for d in stmt.dimensions] == [
        ast.Call(
            "time",
            (
                ast.DurationLiteral(3_600_000_000_000, "1h"),
                ast.DurationLiteral(900_000_000_000, "15m"),
            ),
        ),
        ast.VarRef("host"),
    ]
    assert (stmt.fill, stmt.descending, stmt.limit, stmt.offset) == ("previous", True, 2, 1)
    assert (stmt.slimit, stmt.soffset, stmt.timezone) == (3, 4, "America/Chicago")


def test_operator_precedence_and_parentheses() -> None:
    stmt = one("SELECT a + b * c, (a + b) * c FROM m WHERE x = 1 OR y = 2 AND z = 3")
    assert isinstance(stmt, ast.SelectStatement)
    a, b, c = ast.VarRef("a"), ast.VarRef("b"), ast.VarRef("c")
    assert stmt.fields[0].expr == ast.BinaryExpr("+", a, ast.BinaryExpr("*", b, c))
    assert stmt.fields[1].expr == ast.BinaryExpr("*", ast.ParenExpr(ast.BinaryExpr("+", a, b)), c)
    cond = stmt.condition
    assert isinstance(cond, ast.BinaryExpr) and cond.op == "OR"
    assert isinstance(cond.rhs, ast.BinaryExpr) and cond.rhs.op == "AND"


def test_unary_minus_names_and_casts() -> None:
    stmt = one('SELECT -n, -1.5, value::integer, host::tag, "my field"::field, "a.b" FROM m')
    assert isinstance(stmt, ast.SelectStatement)
    exprs = [f.expr for f in stmt.fields]
    assert exprs[0] == ast.BinaryExpr("*", ast.IntegerLiteral(-1), ast.VarRef("n"))
    assert exprs[1] == ast.NumberLiteral(-1.5)
    assert exprs[2:] == [
        ast.VarRef("value", "integer"),
        ast.VarRef("host", "tag"),
        ast.VarRef("my field", "field"),
        ast.VarRef("a.b"),
    ]
    assert ast.column_names(stmt.fields) == ["n", "", "value", "host", "my field", "a.b"]


def test_column_names_resolve_clashes_as_1x() -> None:
    stmt = one("SELECT mean(a), mean(b), a + b, value AS n, n, max(a) * 2 FROM m")
    assert isinstance(stmt, ast.SelectStatement)
    assert ast.column_names(stmt.fields) == ["mean", "mean_1", "a_b", "n", "n_1", "max"]


def test_sources_and_segments() -> None:
    stmt = one('SELECT v FROM "x"..cpu, autogen.mem, db.rp./re/, "we.ird"')
    assert isinstance(stmt, ast.SelectStatement)
    assert stmt.sources == (
        ast.Measurement(name="cpu", database="x"),
        ast.Measurement(name="mem", retention_policy="autogen"),
        ast.Measurement(regex="re", database="db", retention_policy="rp"),
        ast.Measurement(name="we.ird"),
    )


def test_bound_parameters_become_typed_literals() -> None:
    stmt = one(
        'SELECT v FROM m WHERE a = $s AND b = $i AND c = $f AND d = $b AND e = $"odd name"',
        {"s": "x' OR '1'='1", "i": 3, "f": 1.5, "b": True, "odd name": None},
    )
    assert isinstance(stmt, ast.SelectStatement)
    literals = [
        n.rhs for n in ast.walk(stmt.condition) if isinstance(n, ast.BinaryExpr) and n.op == "="
    ]
    assert literals == [
        ast.StringLiteral("x' OR '1'='1"),
        ast.IntegerLiteral(3),
        ast.NumberLiteral(1.5),
        ast.BooleanLiteral(True),
        ast.NilLiteral(),
    ]


def test_comments_and_empty_statements() -> None:
    statements = parse_query("-- a comment\nSHOW DATABASES;; /* block */ SHOW MEASUREMENTS;")
    assert [type(s).__name__ for s in statements] == ["ShowDatabases", "ShowMeasurements"]
    assert parse_query(";") == []


def test_show_statements() -> None:
    tv = one("SHOW TAG VALUES ON db FROM cpu WITH KEY IN (host, region) WHERE a = 'b' LIMIT 2")
    assert tv == ast.ShowTagValues(
        "IN",
        ("host", "region"),
        None,
        "db",
        (ast.Measurement(name="cpu"),),
        ast.BinaryExpr("=", ast.VarRef("a"), ast.StringLiteral("b")),
        2,
        0,
    )
    assert one("SHOW TAG VALUES WITH KEY =~ /h/") == ast.ShowTagValues("=~", (), "h")
    assert one("SHOW MEASUREMENTS WITH MEASUREMENT =~ /c/ LIMIT 1 OFFSET 2") == (
        ast.ShowMeasurements(None, ast.Measurement(regex="c"), None, 1, 2)
    )
    assert one("SHOW RETENTION POLICIES ON db") == ast.ShowRetentionPolicies("db")
    assert one("SHOW SERIES FROM cpu WHERE host = 'a'") == ast.ShowSeries(
        None,
        (ast.Measurement(name="cpu"),),
        ast.BinaryExpr("=", ast.VarRef("host"), ast.StringLiteral("a")),
    )
    assert one("SHOW FIELD KEYS FROM cpu") == ast.ShowFieldKeys(
        None, (ast.Measurement(name="cpu"),)
    )
    assert one("CREATE DATABASE d WITH DURATION 1d NAME rp") == ast.CreateDatabase("d")
    assert one("DROP DATABASE d") == ast.DropDatabase("d")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("DELETE FROM cpu WHERE time < 0", "DELETE"),
        ("SHOW USERS", "SHOW USERS"),
        ("DROP MEASUREMENT cpu", "DROP MEASUREMENT"),
        ("CREATE RETENTION POLICY r ON d DURATION 1d REPLICATION 1", "CREATE RETENTION"),
        ("SHOW SERIES CARDINALITY", "SHOW SERIES CARDINALITY"),
    ],
)
def test_statements_the_engine_does_not_run_parse_as_unsupported(text: str, what: str) -> None:
    assert one(text) == Unsupported(what)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SELCT value FROM cpu",
            "found SELCT, expected SELECT, DELETE, SHOW, CREATE, DROP, EXPLAIN, GRANT, REVOKE, "
            "ALTER, SET, KILL at line 1, char 1",
        ),
        ("SELECT value FORM cpu", "found FORM, expected FROM at line 1, char 14"),
        (
            "SELECT FROM cpu",
            "found FROM, expected identifier, string, number, bool at line 1, char 8",
        ),
        ("SELECT value FROM", "found EOF, expected identifier at line 1, char 19"),
        ("SELECT value FROM ", "found EOF, expected identifier at line 1, char 19"),
        ("SELECT value\nFROM", "found EOF, expected identifier at line 2, char 6"),
        (
            "SELECT value FROM cpu WHERE",
            "found EOF, expected identifier, string, number, bool at line 1, char 29",
        ),
        ("SELECT mean(value FROM cpu", "found FROM, expected ) at line 1, char 19"),
        (
            "SELECT value FROM cpu WHERE host = 'a' blah",
            "found blah, expected ; at line 1, char 40",
        ),
        ("SELECT value FROM cpu WHERE host =~ 'a'", "found a, expected regex at line 1, char 36"),
        ("SELECT * FROM cpu WHERE host =~ /a", "bad regex:  at line 1, char 32"),
        (
            "SELECT value FROM cpu WHERE host =~ /(/",
            "error parsing regexp: missing closing ): `(` at line 1, char 36",
        ),
        (
            "SELECT value::blah FROM cpu",
            "found blah, expected float, integer, unsigned, string, boolean, field, tag "
            "at line 1, char 15",
        ),
        ("SELECT value FROM cpu tz('UTC'", "found EOF, expected ) at line 1, char 31"),
        ("SELECT value FROM cpu tz('Nope/Zone')", "unable to find time zone Nope/Zone"),
        ("SHOW TAG VALUES FROM cpu", "found EOF, expected WITH at line 1, char 26"),
        ("SHOW TAG VALUES WITH KEY host", "found host, expected IN, =, =~ at line 1, char 26"),
        (
            "SELECT mean(value) FROM cpu GROUP BY time(1h) fill(bad)",
            "expected number argument in fill()",
        ),
        ("CREATE DATABASE", "found EOF, expected identifier at line 1, char 17"),
        ("SELECT value FROM cpu ORDER BY value", "only ORDER BY time supported at this time"),
        ("SELECT 10mb FROM cpu", "invalid duration"),
        ("SELECT value AS FROM cpu", "found FROM, expected identifier at line 1, char 17"),
        ("SELECT value FROM 'cpu'", "found cpu, expected identifier at line 1, char 18"),
        ("SELECT value FROM a.b.c.d", 'too many segments in "a"."b"."c".d at line 1, char 1'),
        ("SELECT value FROM cpu LIMIT -1", "found -, expected integer at line 1, char 29"),
        (
            "SELECT value FROM cpu WHERE host = 'a",
            "found a, expected identifier, string, number, bool at line 1, char 35",
        ),
        (
            "SELECT value FROM cpu WHERE host = 'a\\q'",
            "found \\q, expected identifier, string, number, bool at line 1, char 39",
        ),
        ("SELECT value FROM cpu WHERE $x = 1", "missing parameter: x"),
        (
            "SELECT value FROM cpu WHERE time > 99999999999999999999",
            "unable to parse integer at line 1, char 36",
        ),
        (
            "SHOW BLAH",
            "found BLAH, expected CONTINUOUS, DATABASES, DIAGNOSTICS, FIELD, GRANTS, MEASUREMENT, "
            "MEASUREMENTS, QUERIES, RETENTION, SERIES, SHARD, SHARDS, STATS, SUBSCRIPTIONS, TAG, "
            "USERS at line 1, char 6",
        ),
        ("SHOW RETENTION BLAH", "found BLAH, expected POLICIES at line 1, char 16"),
        ("SELECT value FROM cpu GROUP time", "found time, expected BY at line 1, char 29"),
        (
            "SELECT a > 1 FROM cpu",
            "invalid operator > in SELECT clause at line 1, char 8; operator is intended for "
            "WHERE clause",
        ),
    ],
)
def test_parse_errors_read_as_the_servers(text: str, message: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_query(text)
    assert info.value.detail == message
    assert info.value.message == f"error parsing query: {message}"
    assert isinstance(info.value, QueryError)
    assert info.value.status == 400
    assert info.value.body == {"error": f"error parsing query: {message}"}


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1ns", 1),
        ("5u", 5_000),
        ("5µ", 5_000),
        ("10ms", 10_000_000),
        ("2s", 2_000_000_000),
        ("1m", 60_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("1d", 86_400_000_000_000),
        ("2w", 1_209_600_000_000_000),
        ("-5s", -5_000_000_000),
    ],
)
def test_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["1", "s", "10mb", "1n", "1x", "1h3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ParseError, match="invalid duration"):
        parse_duration(text)


def test_keywords_must_be_quoted_to_be_names() -> None:
    with pytest.raises(ParseError, match="found name, expected identifier"):
        parse_query("SELECT v FROM cpu WHERE name = 'x'")
    stmt = one("SELECT v FROM cpu WHERE \"name\" = 'x'")
    assert isinstance(stmt, ast.SelectStatement)
    assert stmt.condition == ast.BinaryExpr("=", ast.VarRef("name"), ast.StringLiteral("x"))


@pytest.mark.parametrize(
    ("text", "char"),
    [
        ("SELECT value FROM cpu tz('UTC'", 31),
        ("SELECT mean(value)", 19),
        ("SELECT value FROM cpu WHERE v = 'a' AND", 41),
        ("SELECT *", 9),
        ("SELECT value,", 15),
        ("SELECT value FROM cpu WHERE v =", 32),
        ("SELECT value FROM cpu GROUP BY time(", 38),
        ('SELECT value FROM "cpu" WHERE', 31),
        ("SELECT 5", 9),
        ("SELECT 5s", 10),
        ("SELECT /a/", 11),
        ("SELECT value::", 15),
        ("SELECT value FROM cpu WHERE v =~", 34),
        ('SELECT "value"', 15),
        ("SELECT value FROM cpu WHERE (v = 1", 35),
        ("SELECT value FROM cpu WHERE v = -", 34),
        ('SELECT value FROM "cpu".', 26),
        ("SELECT value FROM cpu.", 24),
    ],
)
def test_end_of_text_is_reported_where_1x_reports_it(text: str, char: int) -> None:
    """1.x's reader places the end one or two characters past the text, by what came last."""
    with pytest.raises(ParseError) as info:
        parse_query(text)
    assert info.value.detail.startswith("found EOF")
    assert info.value.detail.endswith(f"at line 1, char {char}")

"""The Flux lexer and parser: literals, precedence, spans, errors; fuzzed with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from influxkit.clients.local.flux import nodes as n
from influxkit.clients.local.flux.errors import Loc
from influxkit.clients.local.flux.lexer import tokenize
from influxkit.clients.local.flux.parser import parse
from influxkit.clients.local.flux.times import Duration
from influxkit.errors import InfluxError, QueryError


def expr(source: str) -> n.Expression:
    program = parse(source)
    assert len(program.body) == 1
    statement = program.body[0]
    assert isinstance(statement, n.ExprStatement)
    return statement.expression


def test_pipe_chain_and_named_arguments():
    e = expr('from(bucket: "b") |> range(start: -5m) |> yield(name: "x")')
    assert isinstance(e, n.Pipe) and e.call.callee == n.Identifier(e.call.callee.loc, "yield")
    inner = e.argument
    assert isinstance(inner, n.Pipe)
    assert [p.key for p in inner.call.arguments] == ["start"]
    start = inner.call.arguments[0].value
    assert isinstance(start, n.Unary) and start.operator == "-"
    assert start.argument == n.Literal(start.argument.loc, "DURATION", Duration(0, 300 * 10**9))
    source = inner.argument
    assert isinstance(source, n.Call) and source.arguments[0].value.value == "b"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("1h30m", "DURATION", Duration(0, 5_400 * 10**9)),
        ("1mo2w", "DURATION", Duration(1, 14 * 86_400 * 10**9)),
        ("1y", "DURATION", Duration(12, 0)),
        ("150ms", "DURATION", Duration(0, 150_000_000)),
        ("3µs", "DURATION", Duration(0, 3_000)),
        ("2021-01-01T00:00:00Z", "TIME", 1_609_459_200 * 10**9),
        ("2021-01-01T00:00:00.000000001Z", "TIME", 1_609_459_200 * 10**9 + 1),
        ("2021-01-01T02:00:00+02:00", "TIME", 1_609_459_200 * 10**9),
        ("2021-01-01", "TIME", 1_609_459_200 * 10**9),
        ("42", "INT", 42),
        ("4.25", "FLOAT", 4.25),
        (r'"a\"b\\c\n\t\x41"', "STRING", 'a"b\\c\n\tA'),
        ('"héllo\nworld"', "STRING", "héllo\nworld"),
        (r"/^a\/b$/", "REGEX", "^a/b$"),
    ],
)
def test_literals(text, kind, value):
    token = tokenize(text)[0]
    assert (token.kind, token.value) == (kind, value)


def test_slash_is_division_after_an_operand_and_a_regex_elsewhere():
    division = expr("a / b / c")
    assert isinstance(division, n.Binary) and division.operator == "/"
    match = expr("r.host =~ /a/")
    assert isinstance(match, n.Binary) and match.right == n.Literal(match.right.loc, "REGEX", "a")


def test_boolean_precedence_and_parentheses():
    e = expr('r._measurement == "cpu" and (r.host == "a" or r.host != "b")')
    assert isinstance(e, n.Logical) and e.operator == "and"
    assert isinstance(e.right, n.Logical) and e.right.operator == "or"
    # without parentheses "and" binds tighter than "or"
    e = expr("a or b and c")
    assert isinstance(e, n.Logical) and e.operator == "or"
    assert isinstance(e.right, n.Logical) and e.right.operator == "and"
    # comparison binds tighter than not, arithmetic tighter than comparison
    e = expr("not a + 1 == 2")
    assert isinstance(e, n.Unary) and isinstance(e.argument, n.Binary)
    assert e.argument.operator == "==" and e.argument.left.operator == "+"


def test_function_literal_bracket_member_and_shorthand_properties():
    e = expr('filter(fn: (r) => r["_field"] == "usage")')
    fn = e.arguments[0].value
    assert isinstance(fn, n.FunctionLit) and [p.name for p in fn.params] == ["r"]
    assert isinstance(fn.body.left, n.Member) and fn.body.left.property == "_field"
    e = expr("range(start, stop)")
    assert [(p.key, p.value.name) for p in e.arguments] == [("start", "start"), ("stop", "stop")]
    block = expr("map(fn: (r) => { return r })").arguments[0].value
    assert isinstance(block, n.FunctionLit) and isinstance(block.body, n.Identifier)


def test_statements():
    program = parse('option now = () => 2021-01-01T00:00:00Z\ndata = from(bucket: "b")\ndata\n')
    kinds = [type(s) for s in program.body]
    assert kinds == [n.OptionAssign, n.VarAssign, n.ExprStatement]
    assert parse('import "strings"').body[0] == n.Import(Loc(1, 1, 1, 17), "strings")


def test_comments_are_skipped_and_spans_count_lines():
    e = expr('// a comment\nfrom(bucket: "b") // another\n  |> count()')
    assert isinstance(e, n.Pipe)
    assert str(e.call.loc) == "@3:6-3:13"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "from(bucket: )",
            "compilation failed: error @1:14-1:15: invalid expression: "
            "invalid token for primary expression: RPAREN",
        ),
        (
            'from(bucket: "b"',
            "compilation failed: error @1:17-1:17: expected RPAREN in call expression, got EOF",
        ),
        (
            'from(bucket "b")',
            "compilation failed: error @1:13-1:16: expected comma in property list, got STRING",
        ),
        ('"abc', "compilation failed: error @1:1-1:5: got unterminated string literal"),
        ("a |> b", "compilation failed: error @1:6-1:7: pipe destination must be a function call"),
        ("x = 1 & 2", "compilation failed: error @1:7-1:8: invalid token: ILLEGAL (&)"),
        ("2021-13-01", "compilation failed: error @1:1-1:11: invalid date time literal 2021-13-01"),
        ('"\\q"', "compilation failed: error @1:2-1:4: invalid escape sequence \\q"),
    ],
)
def test_syntax_errors_name_the_token_and_its_span(source, message):
    with pytest.raises(QueryError) as info:
        parse(source)
    assert info.value.message == message
    assert info.value.status == 400
    assert info.value.body == message


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ('"${x}"', "string interpolation"),
        ("{r with a: 1}", "the record extension {r with ...}"),
        ("f = (r) => { x = 1\n return x }", "a function block with statements before return"),
    ],
)
def test_syntax_the_engine_does_not_run_is_named(source, named):
    with pytest.raises(QueryError, match="not supported by influxkit's local Flux engine") as info:
        parse(source)
    assert named in info.value.message


# -- fuzzing: whatever the text, the parser answers a tree or an influxkit error ----------

_FLUXISH = st.lists(
    st.sampled_from(
        [
            "from", "(", ")", "bucket", ":", '"b"', "|>", "range", "start", "-1h", ",", "filter",
            "fn", "r", "=>", "r.", "_value", "==", "and", "or", "not", "exists", "[", "]", "{",
            "}", "/a/", "=~", "1", "2.5", "2021-01-01T00:00:00Z", "if", "then", "else", "=",
            "option", "import", "\n", " ", "\\", '"', "${", "//", "<-", ".", "?", "^", "%",
        ]
    ),
    max_size=30,
).map("".join)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=80), _FLUXISH))
def test_parser_raises_only_influxkit_errors(source):
    try:
        program = parse(source)
    except InfluxError as exc:
        assert isinstance(exc, QueryError)
        assert exc.status == 400
    else:
        assert isinstance(program, n.Program)

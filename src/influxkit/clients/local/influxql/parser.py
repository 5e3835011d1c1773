"""A recursive-descent InfluxQL parser with InfluxDB 1.x's grammar and error messages.

Hand-written because no maintained Python InfluxQL parser exists (PyPI's
``pyinfluxql`` builds query text, it does not read it) and InfluxQL's grammar is
small.  It follows 1.x's ``influxql/parser.go`` closely, token for token, so that a
query the server refuses is refused here with the same text, e.g. ``found FORM,
expected FROM at line 1, char 14``.  ``$name`` parameters are bound while parsing,
as 1.x does, into typed literals: their values never become query text.

Statements the local engine does not run (``DELETE``, ``GRANT``, ``SHOW USERS``,
``CREATE RETENTION POLICY`` ...) parse to :class:`Unsupported`, which fails as a
statement when run, leaving the other statements of the query unaffected.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from influxkit.clients.local.influxql import ast
from influxkit.clients.local.influxql.errors import ParseError, at, expected
from influxkit.clients.local.influxql.tokens import KEYWORDS, OPERATORS, Scanner, Token

__all__ = ["Unsupported", "compile_regex", "parse_duration", "parse_query"]

_INT64_MAX = 2**63 - 1
_UINT64_MAX = 2**64 - 1
_STATEMENTS = ("SELECT", "DELETE", "SHOW", "CREATE", "DROP", "EXPLAIN", "GRANT", "REVOKE")
_STATEMENTS_ALL = (*_STATEMENTS, "ALTER", "SET", "KILL")
_SHOW_WORDS = (
    "CONTINUOUS",
    "DATABASES",
    "DIAGNOSTICS",
    "FIELD",
    "GRANTS",
    "MEASUREMENT",
    "MEASUREMENTS",
    "QUERIES",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SHARDS",
    "STATS",
    "SUBSCRIPTIONS",
    "TAG",
    "USERS",
)
_CREATE_WORDS = ("CONTINUOUS", "DATABASE", "USER", "RETENTION", "SUBSCRIPTION")
_DROP_WORDS = (
    "CONTINUOUS",
    "DATABASE",
    "MEASUREMENT",
    "RETENTION",
    "SERIES",
    "SHARD",
    "SUBSCRIPTION",
    "USER",
)
_CAST_TYPES = ("float", "integer", "unsigned", "string", "boolean")
_INVALID_SELECT_OPS = ("AND", "OR", "=", "!=", "=~", "!~", "<", "<=", ">", ">=")
_NS = {"ns": 1, "u": 1_000, "µ": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_NS.update({"m": 60 * _NS["s"], "h": 3600 * _NS["s"], "d": 86400 * _NS["s"]})
_NS["w"] = 7 * _NS["d"]


@dataclass(frozen=True, slots=True)
class Unsupported(ast.Statement):
    """A statement InfluxQL has and the local engine does not run (named by its keywords)."""

    what: str


@dataclass(frozen=True, slots=True)
class SubQuery:
    """``FROM (SELECT ...)``: parsed, and refused when run."""

    statement: ast.SelectStatement


def parse_duration(text: str) -> int:
    """A duration literal (``1h30m``, ``10ms``, ``-5s``) in nanoseconds (1.x ``ParseDuration``).

    Raises:
        ParseError: ``invalid duration``.
    """
    if len(text) < 2:
        raise ParseError("invalid duration")
    i = 0
    negative = text[0] == "-"
    if negative:
        i = 1
    total = 0
    n = len(text)
    while i < n:
        start = i
        while i < n and "0" <= text[i] <= "9":
            i += 1
        if i >= n or i == start:
            raise ParseError("invalid duration")
        value = int(text[start:i])
        if value > _INT64_MAX:
            raise ParseError("invalid duration")
        unit = text[i]
        if unit == "n" or (unit == "m" and text[i + 1 : i + 2] == "s"):
            if text[i + 1 : i + 2] != "s":
                raise ParseError("invalid duration")
            unit, i = text[i : i + 2], i + 2
        elif unit in _NS:
            i += 1
        else:
            raise ParseError("invalid duration")
        total += value * _NS[unit]
        if total > _INT64_MAX:
            raise ParseError(f"overflowed duration {value}{unit}: choose a smaller duration or INF")
    return -total if negative else total


def compile_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python (Go's ``\\z`` is Python's ``\\Z``).

    Raises:
        re.error: not a valid regular expression.
    """
    translated = pattern.replace("\\z", "\\Z")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(translated)


def _needs_quotes(segment: str) -> bool:
    if segment.upper() in KEYWORDS:
        return True
    for i, ch in enumerate(segment):
        plain = ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch == "_"
        if not (plain or (i > 0 and "0" <= ch <= "9")):
            return True
    return False


def _quote_segments(segments: list[str]) -> str:
    """1.x ``QuoteIdent`` over several segments (as its "too many segments" error prints them)."""
    out = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        quote = _needs_quotes(seg) or (i < last and seg != "") or (i in (0, last) and seg == "")
        text = seg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'"{text}"' if quote else text)
    return ".".join(out)


class Parser:
    """Parses one query text into statements; ``params`` bind ``$name`` placeholders."""

    def __init__(self, text: str, params: Mapping[str, Any] | None = None) -> None:
        self.s = Scanner(text)
        self.params = dict(params or {})

    # -- token helpers ----------------------------------------------------------------

    def next(self) -> Token:
        return self.s.next()

    def back(self, count: int = 1) -> None:
        self.s.back(count)

    def expect(self, *kinds: str) -> Token:
        tok = self.next()
        if tok.kind not in kinds:
            raise expected(tok, kinds)
        return tok

    def ident(self) -> str:
        tok = self.next()
        if tok.kind != "IDENT":
            raise expected(tok, ["identifier"])
        return tok.text

    def optional(self, kind: str) -> bool:
        tok = self.next()
        if tok.kind == kind:
            return True
        self.back()
        return False

    # -- query and statements ---------------------------------------------------------

    def query(self) -> list[ast.Statement]:
        """Every statement, separated by ``;`` (empty ones allowed, as 1.x)."""
        statements: list[ast.Statement] = []
        semi = True
        while True:
            tok = self.next()
            if tok.kind == "EOF":
                return statements
            if tok.kind == ";":
                semi = True
                continue
            if not semi:
                raise expected(tok, [";"])
            self.back()
            statements.append(self.statement())
            semi = False

    def statement(self) -> ast.Statement:
        tok = self.next()
        kind = tok.kind
        if kind == "SELECT":
            return self.select()
        if kind == "SHOW":
            return self.show()
        if kind == "CREATE":
            return self.create()
        if kind == "DROP":
            return self.drop()
        if kind in _STATEMENTS_ALL:
            return self.unsupported(kind)
        raise expected(tok, _STATEMENTS_ALL)

    def unsupported(self, what: str) -> Unsupported:
        """Skip the rest of a statement the engine does not run."""
        while True:
            tok = self.next()
            if tok.kind in (";", "EOF"):
                self.back()
                return Unsupported(what)

    # -- SELECT -----------------------------------------------------------------------

    def select(self) -> ast.SelectStatement:
        fields = self.fields()
        into = None
        if self.optional("INTO"):
            into = str(self.source(subqueries=False))
        self.expect("FROM")
        sources = self.sources(subqueries=True)
        condition = self.condition()
        dimensions = self.dimensions()
        fill, fill_value = self.fill()
        descending = self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        slimit = self.optional_int("SLIMIT")
        soffset = self.optional_int("SOFFSET")
        timezone = self.location()
        return ast.SelectStatement(
            fields=tuple(fields),
            sources=tuple(sources),
            condition=condition,
            dimensions=tuple(dimensions),
            fill=fill,
            fill_value=fill_value,
            descending=descending,
            limit=limit,
            offset=offset,
            slimit=slimit,
            soffset=soffset,
            timezone=timezone,
            into=into,
        )

    def fields(self) -> list[ast.Field]:
        out = [self.field()]
        while self.optional(","):
            out.append(self.field())
        return out

    def field(self) -> ast.Field:
        regex = self.regex()
        if regex is not None:
            expr: ast.Expr = regex
        else:
            start = self.s.peek()
            expr = self.expr()
            for node in ast.walk(expr):
                if isinstance(node, ast.BinaryExpr) and node.op in _INVALID_SELECT_OPS:
                    raise ParseError(
                        f"invalid operator {node.op} in SELECT clause at line {start.line + 1}, "
                        f"char {start.char + 1}; operator is intended for WHERE clause"
                    )
        alias = self.ident() if self.optional("AS") else None
        return ast.Field(expr, alias)

    def sources(self, *, subqueries: bool) -> list[Any]:
        out = [self.source(subqueries=subqueries)]
        while self.optional(","):
            out.append(self.source(subqueries=subqueries))
        return out

    def source(self, *, subqueries: bool) -> Any:
        regex = self.regex()
        if regex is not None:
            return ast.Measurement(regex=regex.pattern)
        if subqueries and self.optional("("):
            self.expect("SELECT")
            inner = self.select()
            self.expect(")")
            return SubQuery(inner)
        idents = self.segments()
        if len(idents) == 3:
            return ast.Measurement(
                name=idents[2], database=idents[0] or None, retention_policy=idents[1] or None
            )
        regex = self.regex()
        if len(idents) == 1:
            if regex is not None:
                return ast.Measurement(regex=regex.pattern, retention_policy=idents[0] or None)
            return ast.Measurement(name=idents[0])
        if regex is not None:
            return ast.Measurement(
                regex=regex.pattern, database=idents[0] or None, retention_policy=idents[1] or None
            )
        return ast.Measurement(name=idents[1], retention_policy=idents[0] or None)

    def segments(self) -> list[str]:
        """``a``, ``a.b``, ``a.b.c`` (``a..c`` leaves the middle empty); at most three."""
        idents = [self.ident()]
        while True:
            tok = self.next()
            if tok.kind != "." or tok.space_before:
                self.back()
                break
            pos = self.s.pos
            ch = self.s.text[pos : pos + 1]
            if ch in ("/", ":"):
                break
            if ch == ".":
                idents.append("")
                continue
            idents.append(self.ident())
        if len(idents) > 3:
            raise ParseError(f"too many segments in {_quote_segments(idents)} at line 1, char 1")
        return idents

    def condition(self) -> ast.Expr | None:
        if not self.optional("WHERE"):
            return None
        return self.expr()

    def dimensions(self) -> list[ast.Dimension]:
        if not self.optional("GROUP"):
            return []
        self.expect("BY")
        out = [self.dimension()]
        while self.optional(","):
            out.append(self.dimension())
        return out

    def dimension(self) -> ast.Dimension:
        regex = self.regex()
        if regex is not None:
            return ast.Dimension(regex)
        return ast.Dimension(self.expr())

    def fill(self) -> tuple[str, float | int | None]:
        tok = self.s.peek()
        if tok.kind != "IDENT" or tok.text.lower() != "fill":
            return "null", None
        expr = self.expr()
        if not isinstance(expr, ast.Call):
            raise ParseError("fill must be a function call")
        if len(expr.args) != 1:
            raise ParseError("fill requires an argument, e.g.: 0, null, none, previous, linear")
        arg = expr.args[0]
        if (
            isinstance(arg, ast.VarRef)
            and arg.type is None
            and arg.name in ("null", "none", "previous", "linear")
        ):
            return arg.name, None
        if isinstance(arg, ast.IntegerLiteral | ast.NumberLiteral):
            return "number", arg.value
        raise ParseError("expected number argument in fill()")

    def order_by(self) -> bool:
        """Whether ``ORDER BY time DESC`` was given (only ``time`` can be ordered by)."""
        if not self.optional("ORDER"):
            return False
        self.expect("BY")
        orders: list[bool] = []
        tok = self.next()
        if tok.kind in ("ASC", "DESC"):
            orders.append(tok.kind == "DESC")
        elif tok.kind == "IDENT":
            self.back()
            descending = self.sort_field()
            if tok.text != "time":
                raise ParseError("only ORDER BY time supported at this time")
            orders.append(descending)
        else:
            raise expected(tok, ["identifier", "ASC", "DESC"])
        while self.optional(","):
            orders.append(self.sort_field())
        if len(orders) > 1:
            raise ParseError("only ORDER BY time supported at this time")
        return orders[0]

    def sort_field(self) -> bool:
        self.ident()
        tok = self.next()
        if tok.kind not in ("ASC", "DESC"):
            self.back()
            return False
        return tok.kind == "DESC"

    def optional_int(self, keyword: str) -> int:
        if not self.optional(keyword):
            return 0
        tok = self.next()
        if tok.kind != "INTEGER":
            raise expected(tok, ["integer"])
        return min(int(tok.text), _INT64_MAX)

    def location(self) -> str | None:
        tok = self.s.peek()
        if tok.kind != "IDENT" or tok.text.lower() != "tz":
            return None
        self.next()
        self.expect("(")
        name = self.expect("STRING").text
        from influxkit.clients.local.influxql.timeutil import load_zone

        if load_zone(name) is None:
            raise ParseError(f"unable to find time zone {name}")
        self.expect(")")
        return name

    # -- expressions ------------------------------------------------------------------

    def regex(self) -> ast.RegexLiteral | None:
        """A ``/regex/`` if one starts here (1.x ``parseRegex``), else ``None``."""
        if self.s.peek_char() != "/":
            return None
        tok = self.s.regex()
        if tok is None:
            return None
        if tok.kind == "BADREGEX":
            raise at("bad regex: ", tok)
        try:
            compile_regex(tok.text)
        except (re.error, RecursionError, OverflowError) as exc:
            raise at(f"error parsing regexp: {_regex_message(exc)}: `{tok.text}`", tok) from None
        return ast.RegexLiteral(tok.text)

    def expr(self) -> ast.Expr:
        """An expression, by operator precedence as 1.x's ``ParseExpr`` builds it."""
        root = self.unary()
        while True:
            tok = self.next()
            op = tok.kind
            if op not in OPERATORS:
                self.back()
                return root
            if op in ("=~", "!~"):
                rhs: ast.Expr | None = self.regex()
                if rhs is None:
                    raise expected(self.next(), ["regex"])
            else:
                rhs = self.unary()
            root = _insert(root, op, rhs)

    def unary(self) -> ast.Expr:
        tok = self.next()
        kind = tok.kind
        if kind == "(":
            inner = self.expr()
            self.expect(")")
            return ast.ParenExpr(inner)
        if kind == "IDENT":
            nxt = self.next()
            if nxt.kind == "(" and not nxt.space_before:
                return self.call(tok.text)
            self.back(2)
            return self.varref()
        if kind == "DISTINCT":
            nxt = self.next()
            if nxt.kind == "(" and not nxt.space_before:
                return self.call("distinct")
            if nxt.space_before:
                if nxt.kind != "IDENT":
                    raise expected(nxt, ["identifier"])
                return ast.Distinct(nxt.text)
            raise expected(nxt, ["(", "identifier"])
        if kind == "STRING":
            return ast.StringLiteral(tok.text)
        if kind == "NUMBER":
            return ast.NumberLiteral(float(tok.text))
        if kind == "INTEGER":
            value = int(tok.text)
            if value > _UINT64_MAX:
                raise at("unable to parse integer", tok)
            return ast.IntegerLiteral(value)
        if kind in ("TRUE", "FALSE"):
            return ast.BooleanLiteral(kind == "TRUE")
        if kind == "DURATION":
            return ast.DurationLiteral(parse_duration(tok.text), tok.text)
        if kind == "*":
            nxt = self.next()
            if nxt.kind == "::" and not nxt.space_before:
                what = self.next()
                if what.kind not in ("FIELD", "TAG"):
                    raise expected(what, ["field", "tag"])
                return ast.Wildcard(what.kind.lower())
            self.back()
            return ast.Wildcard()
        if kind == "PARAM":
            return self.param(tok)
        if kind in ("+", "-"):
            sign = -1 if kind == "-" else 1
            nxt = self.next()
            if nxt.kind in ("NUMBER", "INTEGER", "DURATION", "(", "IDENT"):
                self.back()
                value = self.unary()
                if isinstance(value, ast.NumberLiteral):
                    return ast.NumberLiteral(value.value * sign)
                if isinstance(value, ast.IntegerLiteral):
                    if value.value > _INT64_MAX and not (
                        sign < 0 and value.value == _INT64_MAX + 1
                    ):
                        raise ParseError(f"constant -{value.value} underflows int64")
                    return ast.IntegerLiteral(value.value * sign)
                if isinstance(value, ast.DurationLiteral):
                    return ast.DurationLiteral(value.value * sign, "-" * (sign < 0) + value.text)
                return ast.BinaryExpr("*", ast.IntegerLiteral(sign), value)
            raise expected(nxt, ["identifier", "number", "duration", "("])
        raise expected(tok, ["identifier", "string", "number", "bool"])

    def param(self, tok: Token) -> ast.Expr:
        """A bound parameter, replaced by a literal of its value's type."""
        key = tok.text[1:]
        if not key:
            raise ParseError("empty bound parameter")
        if key not in self.params:
            raise ParseError(f"missing parameter: {key}")
        value = self.params[key]
        if value is None:
            return ast.NilLiteral()
        if isinstance(value, bool):
            return ast.BooleanLiteral(value)
        if isinstance(value, int):
            return ast.IntegerLiteral(value)
        if isinstance(value, float):
            return ast.NumberLiteral(value)
        if isinstance(value, str):
            return ast.StringLiteral(value)
        raise ParseError(f"unable to bind parameter with type {type(value).__name__}")

    def varref(self) -> ast.VarRef:
        name = ".".join(self.segments())
        tok = self.next()
        if tok.kind != "::" or tok.space_before:
            self.back()
            return ast.VarRef(name)
        what = self.next()
        if what.kind == "IDENT":
            lowered = what.text.lower()
            if lowered not in _CAST_TYPES:
                raise expected(what, [*_CAST_TYPES, "field", "tag"])
            return ast.VarRef(name, lowered)
        if what.kind in ("FIELD", "TAG"):
            return ast.VarRef(name, what.kind.lower())
        raise expected(what, ["float", "integer", "string", "boolean", "field", "tag"])

    def call(self, name: str) -> ast.Call:
        args: list[ast.Expr] = []
        regex = self.regex()
        if regex is not None:
            args.append(regex)
        else:
            if self.optional(")"):
                return ast.Call(name.lower())
            args.append(self.expr())
        while self.optional(","):
            regex = self.regex()
            args.append(regex if regex is not None else self.expr())
        self.expect(")")
        return ast.Call(name.lower(), tuple(args))

    # -- SHOW, CREATE, DROP ---------------------------------------------------------

    def on(self) -> str | None:
        return self.ident() if self.optional("ON") else None

    def show(self) -> ast.Statement:
        tok = self.next()
        kind = tok.kind
        if kind == "DATABASES":
            return ast.ShowDatabases()
        if kind == "MEASUREMENTS":
            return self.show_measurements()
        if kind == "TAG":
            nxt = self.next()
            if nxt.kind == "KEYS":
                return self.show_tag_keys()
            if nxt.kind == "VALUES":
                return self.show_tag_values()
            if nxt.kind == "KEY":
                return self.unsupported("SHOW TAG KEY CARDINALITY")
            raise expected(nxt, ["KEY", "KEYS", "VALUES"])
        if kind == "FIELD":
            nxt = self.next()
            if nxt.kind == "KEYS":
                return self.show_field_keys()
            if nxt.kind == "KEY":
                return self.unsupported("SHOW FIELD KEY CARDINALITY")
            raise expected(nxt, ["KEY", "KEYS"])
        if kind == "SERIES":
            if self.s.peek().kind in ("CARDINALITY", "EXACT"):
                return self.unsupported("SHOW SERIES CARDINALITY")
            return self.show_series()
        if kind == "RETENTION":
            self.expect("POLICIES")
            return ast.ShowRetentionPolicies(self.on())
        if kind in _SHOW_WORDS:
            return self.unsupported(f"SHOW {kind}")
        raise expected(tok, _SHOW_WORDS)

    def show_measurements(self) -> ast.ShowMeasurements:
        database = self.on()
        source = None
        if self.optional("WITH"):
            self.expect("MEASUREMENT")
            tok = self.next()
            if tok.kind not in ("=", "=~"):
                raise expected(tok, ["=", "=~"])
            source = self.source(subqueries=False)
        condition = self.condition()
        self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        return ast.ShowMeasurements(database, source, condition, limit, offset)

    def _from(self) -> tuple[Any, ...]:
        if not self.optional("FROM"):
            return ()
        return tuple(self.sources(subqueries=False))

    def show_tag_keys(self) -> ast.ShowTagKeys:
        database = self.on()
        sources = self._from()
        condition = self.condition()
        self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        slimit = self.optional_int("SLIMIT")
        soffset = self.optional_int("SOFFSET")
        return ast.ShowTagKeys(database, sources, condition, limit, offset, slimit, soffset)

    def show_tag_values(self) -> ast.ShowTagValues:
        database = self.on()
        sources = self._from()
        self.expect("WITH")
        self.expect("KEY")
        tok = self.next()
        keys: tuple[str, ...] = ()
        pattern = None
        if tok.kind == "IN":
            self.expect("(")
            names = [self.ident()]
            while self.optional(","):
                names.append(self.ident())
            self.expect(")")
            op, keys = "IN", tuple(names)
        elif tok.kind in ("=", "!="):
            op, keys = tok.kind, (self.ident(),)
        elif tok.kind in ("=~", "!~"):
            regex = self.regex()
            if regex is None:
                raise expected(self.next(), ["regex"])
            op, pattern = tok.kind, regex.pattern
        else:
            raise expected(tok, ["IN", "=", "=~"])
        condition = self.condition()
        self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        return ast.ShowTagValues(op, keys, pattern, database, sources, condition, limit, offset)

    def show_field_keys(self) -> ast.ShowFieldKeys:
        database = self.on()
        sources = self._from()
        self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        return ast.ShowFieldKeys(database, sources, limit, offset)

    def show_series(self) -> ast.ShowSeries:
        database = self.on()
        sources = self._from()
        condition = self.condition()
        self.order_by()
        limit = self.optional_int("LIMIT")
        offset = self.optional_int("OFFSET")
        return ast.ShowSeries(database, sources, condition, limit, offset)

    def create(self) -> ast.Statement:
        tok = self.next()
        if tok.kind == "DATABASE":
            name = self.ident()
            options: dict[str, object] = {}
            if self.optional("WITH"):
                while True:
                    word = self.next()
                    if word.kind == "DURATION":
                        options["duration"] = self.next().text
                    elif word.kind == "REPLICATION":
                        options["replication"] = int(self.expect("INTEGER").text)
                    elif word.kind == "SHARD":
                        self.expect("DURATION")
                        options["shard_duration"] = self.next().text
                    elif word.kind == "NAME":
                        options["name"] = self.ident()
                    else:
                        self.back()
                        break
                if not options:
                    raise expected(self.next(), ["DURATION", "NAME", "REPLICATION", "SHARD"])
            return ast.CreateDatabase(name, options)
        if tok.kind in _CREATE_WORDS:
            return self.unsupported(f"CREATE {tok.kind}")
        raise expected(tok, _CREATE_WORDS)

    def drop(self) -> ast.Statement:
        tok = self.next()
        if tok.kind == "DATABASE":
            return ast.DropDatabase(self.ident())
        if tok.kind in _DROP_WORDS:
            return self.unsupported(f"DROP {tok.kind}")
        raise expected(tok, _DROP_WORDS)


def _insert(expr: ast.Expr, op: str, rhs: ast.Expr) -> ast.Expr:
    """Add ``op rhs`` to the tree at the place operator precedence puts it."""
    if isinstance(expr, ast.BinaryExpr) and OPERATORS[expr.op] < OPERATORS[op]:
        return ast.BinaryExpr(expr.op, expr.lhs, _insert(expr.rhs, op, rhs))
    return ast.BinaryExpr(op, expr, rhs)


# Python's words for the regex mistakes people make, in Go's (``regexp/syntax``) words.
_GO_REGEX_ERRORS = {
    "missing ), unterminated subpattern": "missing closing )",
    "unbalanced parenthesis": "unexpected )",
    "unterminated character set": "missing closing ]",
    "nothing to repeat": "missing argument to repetition operator",
    "multiple repeat": "invalid nested repetition operator",
}


def _regex_message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, re.error):
        text = text.split(" at position", 1)[0]
    return _GO_REGEX_ERRORS.get(text, text)


def parse_query(text: str, params: Mapping[str, Any] | None = None) -> list[ast.Statement]:
    """The statements of ``text`` (``;``-separated), parameters bound.

    Raises:
        ParseError: the text is not valid InfluxQL (the message is the server's).

    Example:
        >>> [type(s).__name__ for s in parse_query("SHOW DATABASES; SELECT * FROM cpu")]
        ['ShowDatabases', 'SelectStatement']
    """
    try:
        return Parser(text, params).query()
    except RecursionError:
        raise ParseError("query is nested too deeply") from None

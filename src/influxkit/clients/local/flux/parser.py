"""A hand-written recursive-descent parser for the Flux subset: tokens -> :mod:`.nodes`.

Operator precedence follows the Flux spec, loosest first: ``if/then/else``, ``or``,
``and``, ``not`` / ``exists``, comparisons (``== != < <= > >= =~ !~``), ``+ -``,
``* / %``, ``^``, ``|>``, prefix ``- +``, then calls, member and index access.  Errors
name the offending token as Flux's parser does (``RPAREN``, ``EOF``...) with its span.
"""

from __future__ import annotations

from influxkit.clients.local.flux import nodes as n
from influxkit.clients.local.flux.errors import Loc, compile_error, unsupported
from influxkit.clients.local.flux.lexer import Token, tokenize

__all__ = ["parse"]

_TOKEN_NAMES = {
    "(": "LPAREN", ")": "RPAREN", "[": "LBRACK", "]": "RBRACK", "{": "LBRACE", "}": "RBRACE",
    ",": "COMMA", ":": "COLON", ".": "DOT", "|>": "PIPE_FORWARD", "=>": "ARROW",
    "<-": "PIPE_RECEIVE", "==": "EQ", "!=": "NEQ", "<": "LT", "<=": "LTE", ">": "GT",
    ">=": "GTE", "=~": "REGEXEQ", "!~": "REGEXNEQ", "=": "ASSIGN", "+": "ADD", "-": "SUB",
    "*": "MUL", "/": "DIV", "%": "MOD", "^": "POW", "?": "QUESTION_MARK",
}  # fmt: skip
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "=~", "!~"})
_LITERALS = frozenset({"INT", "FLOAT", "STRING", "DURATION", "TIME", "REGEX"})


def _name(token: Token) -> str:
    return _TOKEN_NAMES.get(token.kind, token.kind.upper())


def parse(source: str) -> n.Program:
    """The syntax tree of a Flux script.

    Raises:
        QueryError: the script is not valid Flux, or uses syntax the engine does not
            run (``{r with ...}``, string interpolation, blocks with statements); 400.
    """
    return _Parser(tokenize(source)).program()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    # -- helpers ------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "EOF":
            self.i += 1
        return token

    def accept(self, kind: str) -> Token | None:
        if self.tok.kind == kind:
            return self.next()
        return None

    def expect(self, kind: str, context: str = "") -> Token:
        if self.tok.kind == kind:
            return self.next()
        where = f" {context}" if context else ""
        raise compile_error(
            self.tok.loc, f"expected {_TOKEN_NAMES.get(kind, kind)}{where}, got {_name(self.tok)}"
        )

    # -- statements ---------------------------------------------------------------

    def program(self) -> n.Program:
        body: list[n.Statement] = []
        while self.tok.kind != "EOF":
            body.append(self.statement())
        return n.Program(tuple(body))

    def statement(self) -> n.Statement:
        tok = self.tok
        if tok.kind == "import":
            self.next()
            path = self.expect("STRING", "after import")
            return n.Import(tok.loc.to(path.loc), path.value)
        if tok.kind == "option":
            self.next()
            name = self.expect("IDENT", "after option")
            qualified = name.value
            while self.accept("."):
                qualified += "." + self.expect("IDENT").value
            self.expect("=", "in option assignment")
            value = self.expression()
            return n.OptionAssign(tok.loc.to(_loc(value)), qualified, value)
        if tok.kind in ("package", "builtin", "testcase", "return"):
            raise unsupported(tok.loc, f"the {tok.kind} statement")
        if tok.kind == "IDENT" and self.peek().kind == "=":
            self.next()
            self.next()
            value = self.expression()
            return n.VarAssign(tok.loc.to(_loc(value)), tok.value, value)
        expr = self.expression()
        return n.ExprStatement(_loc(expr), expr)

    # -- expressions, loosest first -----------------------------------------------

    def expression(self) -> n.Expression:
        if self.tok.kind == "if":
            start = self.next()
            test = self.expression()
            self.expect("then", "in conditional expression")
            consequent = self.expression()
            self.expect("else", "in conditional expression")
            alternate = self.expression()
            return n.Conditional(start.loc.to(_loc(alternate)), test, consequent, alternate)
        return self.logical_or()

    def logical_or(self) -> n.Expression:
        left = self.logical_and()
        while self.tok.kind == "or":
            self.next()
            right = self.logical_and()
            left = n.Logical(_loc(left).to(_loc(right)), "or", left, right)
        return left

    def logical_and(self) -> n.Expression:
        left = self.unary_logical()
        while self.tok.kind == "and":
            self.next()
            right = self.unary_logical()
            left = n.Logical(_loc(left).to(_loc(right)), "and", left, right)
        return left

    def unary_logical(self) -> n.Expression:
        if self.tok.kind in ("not", "exists"):
            op = self.next()
            argument = self.unary_logical()
            return n.Unary(op.loc.to(_loc(argument)), op.kind, argument)
        return self.comparison()

    def comparison(self) -> n.Expression:
        left = self.additive()
        while self.tok.kind in _COMPARISONS:
            op = self.next().kind
            right = self.additive()
            left = n.Binary(_loc(left).to(_loc(right)), op, left, right)
        return left

    def additive(self) -> n.Expression:
        left = self.multiplicative()
        while self.tok.kind in ("+", "-"):
            op = self.next().kind
            right = self.multiplicative()
            left = n.Binary(_loc(left).to(_loc(right)), op, left, right)
        return left

    def multiplicative(self) -> n.Expression:
        left = self.power()
        while self.tok.kind in ("*", "/", "%"):
            op = self.next().kind
            right = self.power()
            left = n.Binary(_loc(left).to(_loc(right)), op, left, right)
        return left

    def power(self) -> n.Expression:
        left = self.pipe()
        while self.tok.kind == "^":
            self.next()
            right = self.pipe()
            left = n.Binary(_loc(left).to(_loc(right)), "^", left, right)
        return left

    def pipe(self) -> n.Expression:
        left = self.unary()
        while self.tok.kind == "|>":
            self.next()
            dest = self.postfix()
            if not isinstance(dest, n.Call):
                raise compile_error(_loc(dest), "pipe destination must be a function call")
            left = n.Pipe(_loc(left).to(dest.loc), left, dest)
        return left

    def unary(self) -> n.Expression:
        if self.tok.kind in ("-", "+"):
            op = self.next()
            argument = self.unary()
            return n.Unary(op.loc.to(_loc(argument)), op.kind, argument)
        return self.postfix()

    def postfix(self) -> n.Expression:
        expr = self.primary()
        while True:
            if self.tok.kind == ".":
                self.next()
                name = self.expect("IDENT", "after DOT")
                expr = n.Member(_loc(expr).to(name.loc), expr, name.value)
            elif self.tok.kind == "[":
                self.next()
                index = self.expression()
                end = self.expect("]", "in index expression")
                loc = _loc(expr).to(end.loc)
                if isinstance(index, n.Literal) and index.kind == "STRING":
                    expr = n.Member(loc, expr, index.value)
                else:
                    expr = n.Index(loc, expr, index)
            elif self.tok.kind == "(":
                self.next()
                args = self.properties(")")
                end = self.expect(")", "in call expression")
                expr = n.Call(_loc(expr).to(end.loc), expr, args)
            else:
                return expr

    def primary(self) -> n.Expression:
        tok = self.tok
        if tok.kind == "IDENT":
            self.next()
            return n.Identifier(tok.loc, tok.value)
        if tok.kind in _LITERALS:
            self.next()
            return n.Literal(tok.loc, tok.kind, tok.value)
        if tok.kind == "[":
            self.next()
            elements: list[n.Expression] = []
            while self.tok.kind != "]":
                elements.append(self.expression())
                if not self.accept(","):
                    break
            end = self.expect("]", "in array literal")
            return n.Array(tok.loc.to(end.loc), tuple(elements))
        if tok.kind == "{":
            self.next()
            if (
                self.tok.kind == "IDENT"
                and self.peek().kind == "IDENT"
                and self.peek().text == "with"
            ):
                raise unsupported(tok.loc.to(self.peek().loc), "the record extension {r with ...}")
            props = self.properties("}")
            end = self.expect("}", "in record literal")
            return n.Record(tok.loc.to(end.loc), props)
        if tok.kind == "(":
            function = self.function_literal()
            if function is not None:
                return function
            self.next()
            inner = self.expression()
            self.expect(")", "in parenthesized expression")
            return inner
        raise compile_error(
            tok.loc, f"invalid expression: invalid token for primary expression: {_name(tok)}"
        )

    def properties(self, closer: str) -> tuple[n.Property, ...]:
        props: list[n.Property] = []
        while self.tok.kind != closer:
            key = self.tok
            if key.kind not in ("IDENT", "STRING"):
                raise compile_error(
                    key.loc, f"unexpected token for property key: {_name(key)} ({key.text})"
                )
            self.next()
            if self.accept(":"):
                value = self.expression()
            elif key.kind == "IDENT":  # shorthand: {a} means {a: a}
                value = n.Identifier(key.loc, key.value)
            else:
                raise compile_error(key.loc, f"string literal key {key.value} must have a value")
            props.append(n.Property(key.loc.to(_loc(value)), key.value, value))
            if not self.accept(","):
                if self.tok.kind not in (closer, "EOF"):  # at EOF the caller expects the closer
                    raise compile_error(
                        self.tok.loc, f"expected comma in property list, got {_name(self.tok)}"
                    )
                break
        return tuple(props)

    def function_literal(self) -> n.FunctionLit | None:
        """``(params) => body`` if one starts here, else ``None`` with nothing consumed."""
        start = self.i
        open_paren = self.next()
        params: list[n.Param] = []
        while self.tok.kind == "IDENT":
            name = self.next()
            default: n.Expression | str | None = None
            if self.accept("="):
                default = "<-" if self.accept("<-") else self.expression()
            params.append(n.Param(name.loc, name.value, default))
            if not self.accept(","):
                break
        if self.tok.kind != ")" or self.peek().kind != "=>":
            self.i = start
            return None
        self.next()
        self.next()
        if self.tok.kind == "{":
            brace = self.next()
            if self.tok.kind != "return":
                raise unsupported(brace.loc, "a function block with statements before return")
            self.next()
            body = self.expression()
            end = self.expect("}", "after return in function block")
            return n.FunctionLit(open_paren.loc.to(end.loc), tuple(params), body)
        body = self.expression()
        return n.FunctionLit(open_paren.loc.to(_loc(body)), tuple(params), body)


def _loc(node: n.Expression) -> Loc:
    return node.loc

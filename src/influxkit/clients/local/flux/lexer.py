"""Flux source text -> tokens, each with its span for error messages.

Literals are decoded here: strings (escapes ``\\n \\r \\t \\\\ \\" \\${`` and ``\\xNN``
bytes), durations (``1h30m``, ``-`` is a separate token), RFC 3339 times and dates,
integers, floats and regexes.  ``/`` starts a regex where an operand is expected and is
division after one, as Flux's scanner decides.  ``//`` comments run to the end of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from influxkit.clients.local.flux.errors import Loc, compile_error, unsupported
from influxkit.clients.local.flux.times import parse_duration, parse_rfc3339

__all__ = ["KEYWORDS", "Token", "tokenize"]

KEYWORDS = frozenset(
    {"and", "or", "not", "exists", "if", "then", "else", "import", "option", "return",
     "package", "builtin", "testcase"}
)  # fmt: skip

# Longest first, so that "|>" wins over "|" and "=~" over "=".
_OPERATORS = (
    "|>", "=>", "<-", "==", "!=", "<=", ">=", "=~", "!~",
    "<", ">", "=", "+", "-", "*", "/", "%", "^", "(", ")", "[", "]", "{", "}", ",", ":", ".", "?",
)  # fmt: skip
_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2}))?(?![\w.])"
)
_DURATION = re.compile(r"(?:[0-9]+(?:mo|ms|us|µs|ns|y|w|d|h|m|s))+(?![\w.])")
_FLOAT = re.compile(r"[0-9]+\.[0-9]+(?![\w.])")
_INT = re.compile(r"[0-9]+(?![\w.])")
_IDENT = re.compile(r"[^\W0-9]\w*")
_BAD_NUMBER = re.compile(r"[0-9]+[\w.]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$"}
# After these a "/" divides; anywhere else it opens a regex.
_OPERAND_END = frozenset(
    {"IDENT", "INT", "FLOAT", "STRING", "DURATION", "TIME", "REGEX", ")", "]", "}"}
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` (``IDENT``, ``INT``, ``STRING``... or the operator / keyword itself),
    its source ``text``, its decoded ``value`` for literals, and its span."""

    kind: str
    text: str
    value: Any
    loc: Loc


class _Scanner:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def here(self) -> tuple[int, int]:
        return self.line, self.pos - self.line_start + 1

    def loc_from(self, start: tuple[int, int]) -> Loc:
        line, col = self.here()
        return Loc(start[0], start[1], line, col)

    def advance(self, n: int) -> None:
        for char in self.src[self.pos : self.pos + n]:
            self.pos += 1
            if char == "\n":
                self.line += 1
                self.line_start = self.pos

    def skip_space_and_comments(self) -> None:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char in " \t\r\n":
                self.advance(1)
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.advance((len(src) if end < 0 else end) - self.pos)
            else:
                return

    def string(self) -> Token:
        start = self.here()
        begin = self.pos
        self.advance(1)
        out: list[str] = []
        raw = bytearray()  # \xNN escapes are bytes; they join into UTF-8 text

        def flush() -> None:
            if raw:
                out.append(raw.decode("utf-8", errors="replace"))
                raw.clear()

        src = self.src
        while True:
            if self.pos >= len(src):
                raise compile_error(self.loc_from(start), "got unterminated string literal")
            char = src[self.pos]
            if char == '"':
                self.advance(1)
                break
            if char == "\\":
                nxt = src[self.pos + 1 : self.pos + 2]
                if nxt in _ESCAPES:
                    flush()
                    out.append(_ESCAPES[nxt])
                    self.advance(2)
                    continue
                if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", src[self.pos + 2 : self.pos + 4]):
                    raw.append(int(src[self.pos + 2 : self.pos + 4], 16))
                    self.advance(4)
                    continue
                esc_start = self.here()
                self.advance(2)
                raise compile_error(
                    self.loc_from(esc_start), f"invalid escape sequence \\{nxt or 'EOF'}"
                )
            if char == "$" and src[self.pos + 1 : self.pos + 2] == "{":
                here = self.here()
                self.advance(2)
                raise unsupported(self.loc_from(here), "string interpolation (${...})")
            flush()
            out.append(char)
            self.advance(1)
        flush()
        return Token("STRING", src[begin : self.pos], "".join(out), self.loc_from(start))

    def regex(self) -> Token:
        start = self.here()
        begin = self.pos
        self.advance(1)
        out: list[str] = []
        src = self.src
        while True:
            if self.pos >= len(src) or src[self.pos] == "\n":
                raise compile_error(self.loc_from(start), "got unterminated regex literal")
            char = src[self.pos]
            if char == "/":
                self.advance(1)
                break
            if char == "\\" and src[self.pos + 1 : self.pos + 2] == "/":
                out.append("/")
                self.advance(2)
                continue
            if char == "\\" and self.pos + 1 < len(src):
                out.append(src[self.pos : self.pos + 2])
                self.advance(2)
                continue
            out.append(char)
            self.advance(1)
        pattern = "".join(out)
        if not pattern:
            raise compile_error(self.loc_from(start), "got empty regex literal")
        return Token("REGEX", src[begin : self.pos], pattern, self.loc_from(start))


def tokenize(source: str) -> list[Token]:
    """Every token of ``source``, ending with an ``EOF`` token.

    Raises:
        QueryError: an illegal character, an unterminated string or regex, a bad escape,
            or a time literal that is not a valid date (400, ``compilation failed: ...``).
    """
    sc = _Scanner(source)
    tokens: list[Token] = []
    src = source
    while True:
        sc.skip_space_and_comments()
        if sc.pos >= len(src):
            here = sc.here()
            tokens.append(Token("EOF", "", None, Loc(here[0], here[1], here[0], here[1])))
            return tokens
        start = sc.here()
        char = src[sc.pos]
        prev = tokens[-1].kind if tokens else None
        if char == '"':
            tokens.append(sc.string())
            continue
        if char == "/" and prev not in _OPERAND_END:
            tokens.append(sc.regex())
            continue
        if "0" <= char <= "9":
            token = _number(sc, start)
            tokens.append(token)
            continue
        ident = _IDENT.match(src, sc.pos)
        if ident:
            text = ident[0]
            sc.advance(len(text))
            kind = text if text in KEYWORDS else "IDENT"
            tokens.append(Token(kind, text, text, sc.loc_from(start)))
            continue
        for op in _OPERATORS:
            if src.startswith(op, sc.pos):
                sc.advance(len(op))
                tokens.append(Token(op, op, None, sc.loc_from(start)))
                break
        else:
            sc.advance(1)
            raise compile_error(sc.loc_from(start), f"invalid token: ILLEGAL ({char})")


def _number(sc: _Scanner, start: tuple[int, int]) -> Token:
    src = sc.src
    for pattern, kind in ((_TIME, "TIME"), (_DURATION, "DURATION"), (_FLOAT, "FLOAT")):
        match = pattern.match(src, sc.pos)
        if match is None:
            continue
        text = match[0]
        sc.advance(len(text))
        loc = sc.loc_from(start)
        if kind == "TIME":
            ns = parse_rfc3339(text)
            if ns is None:
                raise compile_error(loc, f"invalid date time literal {text}")
            return Token(kind, text, ns, loc)
        if kind == "DURATION":
            return Token(kind, text, parse_duration(text), loc)
        return Token(kind, text, float(text), loc)
    match = _INT.match(src, sc.pos) or _BAD_NUMBER.match(src, sc.pos)
    assert match is not None  # the caller saw a digit
    text = match[0]
    sc.advance(len(text))
    loc = sc.loc_from(start)
    if not text.isdigit():
        raise compile_error(loc, f"invalid number literal {text}")
    return Token("INT", text, int(text), loc)

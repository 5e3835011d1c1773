"""The InfluxQL scanner: text to tokens, as InfluxDB 1.x's ``influxql/scanner.go`` reads it.

Tokens carry their kind, their literal (the unquoted text of strings and quoted
identifiers, the digits of numbers, the original spelling of keywords), their
position (0-based line and character, reported 1-based in errors as the server
does) and whether whitespace came before them: a function call needs its ``(``
right after the name, so the parser asks.

Regular expressions are not scanned here: ``/`` is division unless the parser,
expecting a regex, asks :meth:`Scanner.regex` for one at the current position.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KEYWORDS", "OPERATORS", "Scanner", "Token", "describe"]

#: InfluxQL's reserved words (1.x ``influxql/token.go``): not usable unquoted as names.
_KEYWORD_TEXT = """
    ALL ALTER AND ANALYZE ANY AS ASC BEGIN BY CARDINALITY CREATE CONTINUOUS DATABASE
    DATABASES DEFAULT DELETE DESC DESTINATIONS DIAGNOSTICS DISTINCT DROP DURATION END
    EVERY EXACT EXPLAIN FALSE FIELD FOR FROM GRANT GRANTS GROUP GROUPS IN INF INSERT
    INTO KEY KEYS KILL LIMIT MEASUREMENT MEASUREMENTS NAME OFFSET ON OR ORDER PASSWORD
    POLICIES POLICY PRIVILEGES QUERIES QUERY READ REPLICATION RESAMPLE RETENTION REVOKE
    SELECT SERIES SET SHARD SHARDS SHOW SLIMIT SOFFSET STATS SUBSCRIPTION SUBSCRIPTIONS
    TAG TO TRUE USER USERS VALUES WHERE WITH WRITE
"""
KEYWORDS = frozenset(_KEYWORD_TEXT.split())

#: Binary operators and their precedence (1.x ``Token.Precedence``).
OPERATORS = {
    "OR": 1,
    "AND": 2,
    "=": 4,
    "!=": 4,
    "=~": 4,
    "!~": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "|": 5,
    "^": 5,
    "*": 6,
    "/": 6,
    "%": 6,
    "&": 6,
}

# How a kind is named in "expected ..." lists and when a token has no literal.
_KIND_NAMES = {
    "EOF": "EOF",
    "IDENT": "identifier",
    "STRING": "string",
    "NUMBER": "number",
    "INTEGER": "integer",
    "DURATION": "duration",
    "PARAM": "bound parameter",
    "BADSTRING": "bad string",
    "BADESCAPE": "bad escape",
    "ILLEGAL": "ILLEGAL",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token.

    Attributes:
        kind: ``IDENT``, ``STRING``, ``NUMBER``, ``INTEGER``, ``DURATION``, ``PARAM``,
            ``EOF``, ``BADSTRING``, ``BADESCAPE``, ``ILLEGAL``, a keyword in upper case
            (``SELECT``), or an operator / punctuation (``=~``, ``(``, ``::``).
        text: the literal: unquoted string or name, digits, a keyword as written.
        line, char: the 0-based position of the first character.
        space_before: whether whitespace (or a comment) came right before it.
    """

    kind: str
    text: str
    line: int
    char: int
    space_before: bool = False

    @property
    def found(self) -> str:
        """The token as 1.x prints it after ``found``: its literal, else its kind."""
        if self.text:
            return self.text
        return _KIND_NAMES.get(self.kind, self.kind)

    def is_keyword(self, *words: str) -> bool:
        """Whether this is one of the keywords ``words``."""
        return self.kind in words


def describe(kind: str) -> str:
    """A kind as named in an ``expected ...`` list."""
    return _KIND_NAMES.get(kind, kind)


# Token kinds that are not names or keywords (for where 1.x reports the end).
_NOT_WORDS = frozenset(
    {"STRING", "NUMBER", "INTEGER", "DURATION", "PARAM", "REGEX", "BADREGEX", "BADSTRING"}
    | {"BADESCAPE", "ILLEGAL", "EOF"}
    | set("+-*/%&|^=<>(),;.:")
    | {"=~", "!~", "!=", "<=", ">=", "::"}
)


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _is_digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"


def _is_ident_start(ch: str) -> bool:
    # 1.x's isLetter is ASCII only: other letters must be in a quoted identifier.
    return _is_letter(ch) or ch == "_"


def _is_ident_char(ch: str) -> bool:
    return _is_letter(ch) or ("0" <= ch <= "9") or ch == "_"


class Scanner:
    """Reads tokens from InfluxQL text, one at a time, with unlimited look-back.

    The parser calls :meth:`next`, :meth:`back` (to un-read) and, where a regex may
    start, :meth:`regex`.  Whitespace and ``--`` / ``/* */`` comments are skipped.
    """

    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.pos = 0
        # (token, offset after it) for every token read, so back() can rewind.
        self._history: list[tuple[Token, int, int]] = []
        self._index = 0
        self._line_starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                self._line_starts.append(i + 1)

    # -- positions ------------------------------------------------------------------

    def _where(self, offset: int) -> tuple[int, int]:
        line = 0
        lo, hi = 0, len(self._line_starts) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            if self._line_starts[mid] <= offset:
                line, lo = mid, mid + 1
            else:
                hi = mid - 1
        return line, offset - self._line_starts[line]

    def _token(self, kind: str, text: str, start: int, space: bool) -> Token:
        line, char = self._where(start)
        return Token(kind, text, line, char, space)

    # -- the public reading interface -------------------------------------------------

    def next(self) -> Token:
        """The next token (re-reading un-read ones first)."""
        if self._index < len(self._history):
            token, _, end = self._history[self._index]
            self._index += 1
            self.pos = end
            return token
        start = self.pos
        token = self._scan()
        self._history.append((token, start, self.pos))
        self._index += 1
        return token

    def back(self, count: int = 1) -> None:
        """Un-read the last ``count`` tokens."""
        self._index -= count
        self.pos = self._history[self._index][1] if self._index < len(self._history) else self.pos

    def peek(self) -> Token:
        """The next token, left unread."""
        token = self.next()
        self.back()
        return token

    def peek_char(self) -> str:
        """The next non-space character (after comments), or ``""`` at the end."""
        pos = self._skip(self.pos)
        return self.text[pos] if pos < len(self.text) else ""

    def regex(self) -> Token | None:
        """A ``/regex/`` token at the current position, else ``None`` (nothing read).

        The token's kind is ``REGEX`` (literal: the pattern with ``\\/`` unescaped) or
        ``BADREGEX`` (no closing ``/`` on the line).
        """
        if self._index < len(self._history):
            # Tokens after this point were read ahead; a regex re-reads the text.
            del self._history[self._index :]
        start = self._skip(self.pos)
        if start >= len(self.text) or self.text[start] != "/":
            return None
        space = start > self.pos
        i = start + 1
        out: list[str] = []
        text = self.text
        while True:
            if i >= len(text) or text[i] == "\n":
                self.pos = i
                token = self._token("BADREGEX", "", max(start - 1, 0), space)
                break
            ch = text[i]
            if ch == "\\" and i + 1 < len(text) and text[i + 1] == "/":
                out.append("/")
                i += 2
                continue
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i : i + 2])
                i += 2
                continue
            if ch == "/":
                self.pos = i + 1
                token = self._token("REGEX", "".join(out), max(start - 1, 0), space)
                break
            out.append(ch)
            i += 1
        self._history.append((token, start, self.pos))
        self._index += 1
        return token

    # -- scanning ---------------------------------------------------------------------

    def _skip(self, pos: int) -> int:
        """The offset of the first character at or after ``pos`` that is not space or comment."""
        text = self.text
        n = len(text)
        while pos < n:
            ch = text[pos]
            if ch in " \t\n":
                pos += 1
            elif text.startswith("--", pos):
                end = text.find("\n", pos)
                pos = n if end < 0 else end + 1
            elif text.startswith("/*", pos):
                end = text.find("*/", pos + 2)
                if end < 0:
                    return pos  # an unterminated comment is ILLEGAL, scanned as such
                pos = end + 2
            else:
                break
        return pos

    def _scan(self) -> Token:
        text = self.text
        start = self._skip(self.pos)
        space = start > self.pos
        self.pos = start
        if start >= len(text):
            return self._token("EOF", "", self._end_offset(), space)
        ch = text[start]
        if text.startswith("/*", start):
            self.pos = len(text)
            return self._token("ILLEGAL", "", start, space)
        if _is_ident_start(ch):
            return self._ident(start, space)
        if "0" <= ch <= "9" or (ch == "." and _is_digit(text[start + 1 : start + 2])):
            return self._number(start, space)
        if ch == '"':
            return self._quoted(start, space, '"', "IDENT")
        if ch == "'":
            # 1.x reports a string (and a regex) at the character before its quote.
            return self._quoted(start, space, "'", "STRING", report=max(start - 1, 0))
        if ch == "$":
            return self._param(start, space)
        two = text[start : start + 2]
        if two in ("=~", "!~", "!=", "<>", "<=", ">=", "::"):
            self.pos = start + 2
            return self._token("!=" if two == "<>" else two, "", start, space)
        if ch in "+-*/%&|^=<>(),;.:":
            self.pos = start + 1
            return self._token(ch, "", start, space)
        self.pos = start + 1
        return self._token("ILLEGAL", ch, start, space)

    def _end_offset(self) -> int:
        """Where 1.x reports the end of the text (0-based).

        Its reader counts the end as one more character each time it is read afresh:
        right after the text in general, one further when the last thing read was a
        bare name or keyword (whose scan swallows the end) or a token after which
        the parser peeks for a regex (``=~``, ``!~``, ``,``, ``(``, ``.``); on the
        last character when the text ends in whitespace.
        """
        text = self.text
        if not text or text[-1] in " \t\n":
            return len(text)
        last = self._history[-1][0] if self._history else None
        if last is None:
            return len(text)
        bare_word = last.kind not in _NOT_WORDS and text[-1] != '"'
        if bare_word or last.kind in ("=~", "!~", ",", "(", "."):
            return len(text) + 1
        return len(text)

    def _ident(self, start: int, space: bool) -> Token:
        text = self.text
        i = start
        while i < len(text) and _is_ident_char(text[i]):
            i += 1
        self.pos = i
        word = text[start:i]
        upper = word.upper()
        if upper in KEYWORDS:
            return self._token(upper, word, start, space)
        return self._token("IDENT", word, start, space)

    def _quoted(
        self, start: int, space: bool, quote: str, kind: str, report: int | None = None
    ) -> Token:
        text = self.text
        where = start if report is None else report
        i = start + 1
        out: list[str] = []
        while True:
            if i >= len(text) or text[i] == "\n":
                self.pos = i
                return self._token("BADSTRING", text[start + 1 : i], where, space)
            ch = text[i]
            if ch == quote:
                self.pos = i + 1
                return self._token(kind, "".join(out), where, space)
            if ch == "\\":
                nxt = text[i + 1] if i + 1 < len(text) else ""
                if nxt == "n":
                    out.append("\n")
                elif nxt == "\\":
                    out.append("\\")
                elif nxt and nxt in "'\"":
                    out.append(nxt)
                else:
                    self.pos = i + 2
                    return self._token("BADESCAPE", "\\" + nxt, i + 1, space)
                i += 2
                continue
            out.append(ch)
            i += 1

    def _param(self, start: int, space: bool) -> Token:
        text = self.text
        i = start + 1
        if i < len(text) and text[i] == '"':
            self.pos = i
            inner = self._quoted(i, False, '"', "IDENT")
            if inner.kind != "IDENT":
                return inner
            return self._token("PARAM", "$" + inner.text, start, space)
        while i < len(text) and _is_ident_char(text[i]):
            i += 1
        self.pos = i
        if i == start + 1:
            return self._token("PARAM", "$", start, space)
        return self._token("PARAM", text[start:i], start, space)

    def _number(self, start: int, space: bool) -> Token:
        # 1.x ``scanNumber``: digits, an optional ``.digits``; digits followed by a
        # letter are a duration, letters and digits read greedily (``1h30m``, ``10mb``).
        text = self.text
        n = len(text)
        i = start
        while i < n and _is_digit(text[i]):
            i += 1
        if i < n and text[i] == ".":
            if i + 1 < n and _is_digit(text[i + 1]):
                j = i + 1
                while j < n and _is_digit(text[j]):
                    j += 1
                self.pos = j
                return self._token("NUMBER", text[start:j], start, space)
            self.pos = i + 1  # ``1.`` is the number 1, the dot consumed
            return self._token("NUMBER", text[start:i], start, space)
        if i < n and (_is_letter(text[i]) or text[i] == "µ"):
            j = i
            while j < n and (_is_letter(text[j]) or text[j] == "µ" or _is_digit(text[j])):
                j += 1
            self.pos = j
            return self._token("DURATION", text[start:j], start, space)
        self.pos = i
        return self._token("INTEGER", text[start:i], start, space)

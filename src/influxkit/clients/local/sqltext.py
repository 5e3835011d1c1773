"""A small SQL tokenizer for the few rewrites the local engine makes before DataFusion plans.

InfluxDB's own functions (``date_bin_gapfill``, ``locf``, ``interpolate``, the
selectors) need the query text looked at before DataFusion sees it.  This module
only splits text into tokens (strings, quoted identifiers and comments are opaque)
and finds calls and top-level clauses; every rewrite splices the user's own text,
so no value is ever formatted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "Call",
    "Token",
    "find_calls",
    "normalize_ident",
    "split_top",
    "tokenize",
]

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>[eE]?'(?:[^']|'')*(?:'|\Z))
  | (?P<qident>"(?:[^"]|"")*(?:"|\Z))
  | (?P<param>\$[A-Za-z0-9_]+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|::|\|\||->>|->|[-+*/%<>=!~^&|@#?:.])
  | (?P<punct>[(),;\[\]{}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, text, position in the statement and bracket depth."""

    kind: str
    text: str
    start: int
    end: int
    depth: int

    @property
    def upper(self) -> str:
        """The text upper-cased (keywords and function names are case-insensitive)."""
        return self.text.upper()

    def is_word(self, *words: str) -> bool:
        """Whether this is an unquoted identifier equal (ignoring case) to one of ``words``."""
        return self.kind == "ident" and self.upper in words


def tokenize(sql: str) -> list[Token]:
    """The significant tokens of ``sql`` (whitespace and comments dropped), with depths.

    ``depth`` counts open ``(`` and ``[`` before the token; a closing bracket carries
    the depth of its opening one.
    """
    tokens: list[Token] = []
    depth = 0
    for m in _TOKEN_RE.finditer(sql):
        kind = m.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        text = m.group()
        if text in ("(", "["):
            tokens.append(Token(kind, text, m.start(), m.end(), depth))
            depth += 1
            continue
        if text in (")", "]"):
            depth = max(depth - 1, 0)
        tokens.append(Token(kind, text, m.start(), m.end(), depth))
    return tokens


@dataclass(frozen=True, slots=True)
class Call:
    """A function call in the text: its name token index, the parentheses and the arguments.

    ``args`` are ``(start, end)`` character spans of each top-level argument.
    """

    name: str
    name_index: int
    open_index: int
    close_index: int
    start: int
    end: int
    args: tuple[tuple[int, int], ...]


def find_calls(tokens: list[Token], names: set[str]) -> list[Call]:
    """Every call of a function in ``names`` (lower-case), in text order, nested ones too."""
    calls = []
    for i, tok in enumerate(tokens):
        if tok.kind != "ident" or tok.text.lower() not in names:
            continue
        if i + 1 >= len(tokens) or tokens[i + 1].text != "(":
            continue
        if i > 0 and tokens[i - 1].text == ".":  # a qualified column such as t.locf
            continue
        close = _matching(tokens, i + 1)
        if close is None:
            continue
        spans = tuple(
            (tokens[a].start, tokens[b].end) for a, b in split_top(tokens, i + 2, close, ",")
        )
        calls.append(Call(tok.text.lower(), i, i + 1, close, tok.start, tokens[close].end, spans))
    return calls


def _matching(tokens: list[Token], open_index: int) -> int | None:
    depth = tokens[open_index].depth
    for j in range(open_index + 1, len(tokens)):
        if tokens[j].text in (")", "]") and tokens[j].depth == depth:
            return j
    return None


def split_top(tokens: list[Token], start: int, end: int, sep: str) -> list[tuple[int, int]]:
    """Split ``tokens[start:end]`` at separators of the lowest depth in that range.

    Returns inclusive ``(first, last)`` token index pairs of the non-empty pieces.
    ``sep`` is a punctuation text (``","``) or a keyword (``"AND"``).
    """
    if start >= end:
        return []
    depth = min(t.depth for t in tokens[start:end])
    pieces = []
    first = start
    for j in range(start, end):
        tok = tokens[j]
        if tok.depth == depth and (tok.text == sep or tok.is_word(sep)):
            if j > first:
                pieces.append((first, j - 1))
            first = j + 1
    if end > first:
        pieces.append((first, end - 1))
    return pieces


def normalize_ident(text: str) -> str:
    """An identifier as SQL resolves it: unquoted folds to lower case, quoted keeps its case.

    A qualified name (``cpu.time``, ``"cpu"."time"``) gives its last part.
    """
    toks = tokenize(text)
    parts = [t for t in toks if t.kind in ("ident", "qident")]
    if not parts or any(t.kind not in ("ident", "qident") and t.text != "." for t in toks):
        return text.strip()
    last = parts[-1]
    if last.kind == "qident":
        return last.text[1:-1].replace('""', '"')
    return last.text.lower()

"""Reading a ``date_bin_gapfill`` query: what to run in DataFusion and how to fill its result.

InfluxDB 3 turns ``date_bin_gapfill`` into ``date_bin`` plus a ``GapFill`` plan node
(``iox_query/src/analyzer/handle_gapfill.rs``).  DataFusion alone has no such node, so
the local engine rewrites the text instead: ``date_bin_gapfill`` becomes ``date_bin``,
``locf(x)`` / ``interpolate(x)`` become ``(x)``, the trailing ORDER BY / LIMIT are
held back (the server applies them after filling), and group keys or the time bin
that are not selected are added as hidden columns.  The time range comes from the
top-level WHERE conjuncts on the time column, as the server's range finder reads
its Filter nodes.  Errors are the server's planning errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from influxkit.clients.local.sqltext import Call, Token, find_calls, normalize_ident, tokenize
from influxkit.errors import QueryError

__all__ = ["Bound", "GapfillPlan", "plan_gapfill"]

HIDDEN = "__influxkit_gapfill_"
_CLAUSES = ("FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "QUALIFY", "ORDER", "LIMIT", "OFFSET")
_FILLS = ("locf", "interpolate")


def _plan_error(message: str, status: int = 400) -> QueryError:
    prefix = "This feature is not implemented" if status == 405 else "Error during planning"
    return QueryError(f"{prefix}: {message}", status=status)


@dataclass(frozen=True, slots=True)
class Bound:
    """One end of the time range: the SQL expression and whether it is included."""

    sql: str
    inclusive: bool


@dataclass(slots=True)
class GapfillPlan:
    """What the gap-filling step needs (column indexes refer to the rewritten query's output).

    ``fills`` maps an aggregate column to ``"null"``, ``"zero"`` (``count``, whose
    DataFusion default value is 0), ``"locf"`` or ``"interpolate"``; ``names`` maps
    unaliased columns to a function renaming DataFusion's name to the server's.
    """

    sql: str
    time_index: int
    group_indexes: list[int]
    fills: dict[int, str]
    hidden: int
    tail: str
    stride: str
    origin: str | None
    lower: Bound
    upper: Bound
    names: dict[int, tuple[str, str]] = field(default_factory=dict)


def _item_alias(tokens: list[Token], first: int, last: int) -> tuple[int, str | None]:
    """(index of the expression's last token, alias) of a select item."""
    if last - first >= 2 and tokens[last - 1].is_word("AS"):
        return last - 2, normalize_ident(tokens[last].text)
    tok = tokens[last]
    prev = tokens[last - 1] if last > first else None
    if (
        prev is not None
        and tok.kind in ("ident", "qident")
        and (prev.text == ")" or prev.kind in ("ident", "qident", "string", "number"))
        and prev.text != "."
    ):
        return last - 1, normalize_ident(tok.text)
    return last, None


def _norm(tokens: list[Token], first: int, last: int) -> str:
    """An expression's text for comparing GROUP BY items with select items."""
    return " ".join(
        t.text if t.kind in ("string", "qident") else t.text.lower()
        for t in tokens[first : last + 1]
    )


def _split(
    tokens: list[Token], start: int, end: int, depth: int, sep: str
) -> list[tuple[int, int]]:
    """Split at ``sep`` (``","`` or ``"AND"``) at ``depth``; the ``AND`` of a BETWEEN is kept."""
    pieces, first, pending_between = [], start, False
    for j in range(start, end):
        tok = tokens[j]
        if tok.depth != depth:
            continue
        if sep == "AND" and tok.is_word("BETWEEN"):
            pending_between = True
        elif tok.text == sep or tok.is_word(sep):
            if sep == "AND" and pending_between:
                pending_between = False
                continue
            if j > first:
                pieces.append((first, j - 1))
            first = j + 1
    if end > first:
        pieces.append((first, end - 1))
    return pieces


def _clauses(tokens: list[Token]) -> dict[str, int]:
    """Index of each clause keyword of the main SELECT (depth 0), after any WITH list."""
    found: dict[str, int] = {}
    for i, tok in enumerate(tokens):
        if tok.depth != 0 or tok.kind != "ident":
            continue
        word = tok.upper
        if word == "SELECT" and "SELECT" not in found:
            found["SELECT"] = i
        elif "SELECT" in found and word in _CLAUSES and word not in found:
            if word in ("GROUP", "ORDER") and not (
                i + 1 < len(tokens) and tokens[i + 1].is_word("BY")
            ):
                continue
            found[word] = i
        elif "SELECT" in found and word in ("UNION", "INTERSECT", "EXCEPT"):
            raise _plan_error("gap filling over a set operation in the local engine", 405)
    return found


def _clause_end(found: dict[str, int], after: str, total: int) -> int:
    start = found[after]
    later = [i for i in found.values() if i > start]
    return min(later) if later else total


def plan_gapfill(sql: str) -> GapfillPlan | None:
    """The gap-filling plan of ``sql``, or ``None`` if it does not gap-fill.

    Raises:
        QueryError: the server's planning error (400) for a misused gap-filling function
            or a missing time bound.
    """
    text = sql.rstrip().rstrip(";")
    tokens = tokenize(text)
    dbg = find_calls(tokens, {"date_bin_gapfill"})
    fill_calls = find_calls(tokens, set(_FILLS))
    if not dbg:
        if fill_calls:
            raise _plan_error(
                f"{fill_calls[0].name} may only be used in the SELECT list of a gap-filling query"
            )
        return None
    distinct = {_norm(tokens, c.name_index, c.close_index) for c in dbg}
    if len(distinct) > 1:
        raise _plan_error("DATE_BIN_GAPFILL specified more than once")
    args = [text[a:b] for a, b in dbg[0].args]
    if len(args) not in (2, 3):
        raise _plan_error(f"DATE_BIN_GAPFILL expects 2 or 3 arguments, got {len(args)}")
    time_column = normalize_ident(args[1])

    found = _clauses(tokens)
    if "SELECT" not in found or "FROM" not in found:
        raise _plan_error("date_bin_gapfill may only be used as a GROUP BY expression")
    sel_start = found["SELECT"] + 1
    if tokens[sel_start].is_word("DISTINCT", "ALL"):
        sel_start += 1
    items = _split(tokens, sel_start, found["FROM"], 0, ",")
    if "GROUP" not in found:
        raise _plan_error("date_bin_gapfill may only be used as a GROUP BY expression")
    group_end = _clause_end(found, "GROUP", len(tokens))
    groups = _split(tokens, found["GROUP"] + 2, group_end, 0, ",")

    exprs = []  # (first, last_of_expr, alias, normalized)
    for first, last in items:
        expr_last, alias = _item_alias(tokens, first, last)
        exprs.append((first, expr_last, alias, _norm(tokens, first, expr_last)))

    def select_index(first: int, last: int) -> int | None:
        norm = _norm(tokens, first, last)
        if first == last and tokens[first].kind == "number" and tokens[first].text.isdigit():
            n = int(tokens[first].text) - 1
            return n if 0 <= n < len(exprs) else None
        for i, (_, _, _, e_norm) in enumerate(exprs):
            if e_norm == norm:
                return i
        if first == last:
            name = normalize_ident(tokens[first].text)
            for i, (_, _, alias, _) in enumerate(exprs):
                if alias is not None and alias == name:
                    return i
        return None

    dbg_call = dbg[0]
    hidden: list[str] = []
    time_index = None
    for i, (first, expr_last, _, _) in enumerate(exprs):
        if tokens[first].start <= dbg_call.start < tokens[expr_last].end:
            if not (dbg_call.name_index == first and dbg_call.close_index == expr_last):
                raise _plan_error(
                    "DATE_BIN_GAPFILL must be a top-level expression in the GROUP BY clause "
                    "when gap filling. It cannot be part of another expression or cast"
                )
            time_index = i
    group_indexes: list[int] = []
    time_grouped = False
    for first, last in groups:
        idx = select_index(first, last)
        is_time = (idx is not None and idx == time_index) or (
            tokens[first].start <= dbg_call.start < tokens[last].end
        )
        if is_time:
            time_grouped = True
            if time_index is None:
                time_index = len(exprs) + len(hidden)
                hidden.append(text[tokens[first].start : tokens[last].end])
            continue
        if idx is None:
            group_indexes.append(len(exprs) + len(hidden))
            hidden.append(text[tokens[first].start : tokens[last].end])
        else:
            group_indexes.append(idx)
    if not time_grouped or time_index is None:
        raise _plan_error("date_bin_gapfill may only be used as a GROUP BY expression")

    fills: dict[int, str] = {}
    names: dict[int, tuple[str, str]] = {}
    for i, (first, expr_last, alias, _) in enumerate(exprs):
        if i == time_index or i in group_indexes:
            for call in fill_calls:
                if tokens[first].start <= call.start < tokens[expr_last].end:
                    raise _plan_error(
                        f"{call.name} must be called on an aggregate column in a gap-filling query"
                    )
            continue
        inside = [c for c in fill_calls if tokens[first].start <= c.start < tokens[expr_last].end]
        if inside:
            fills[i] = inside[0].name
            if (
                alias is None
                and inside[0].name_index == first
                and inside[0].close_index == expr_last
            ):
                names[i] = (inside[0].name, "wrap")
        elif tokens[first].is_word("COUNT") and _whole_call(tokens, first, expr_last):
            fills[i] = "zero"
        else:
            fills[i] = "null"
    if time_index < len(exprs) and exprs[time_index][2] is None:
        names[time_index] = ("date_bin_gapfill", "rename")

    lower, upper = _time_range(text, tokens, found, time_column)
    held = [found[k] for k in ("ORDER", "LIMIT", "OFFSET") if k in found]
    tail = text[tokens[min(held)].start :] if held else ""
    return GapfillPlan(
        sql=_rewrite(text, tokens, found, (dbg, fill_calls), hidden),
        time_index=time_index,
        group_indexes=group_indexes,
        fills=fills,
        hidden=len(hidden),
        tail=tail,
        stride=args[0],
        origin=args[2] if len(args) == 3 else None,
        lower=lower,
        upper=upper,
        names=names,
    )


def _time_range(
    text: str, tokens: list[Token], found: dict[str, int], time_column: str
) -> tuple[Bound, Bound]:
    """The bounds the WHERE conjuncts put on the time column (a later one wins)."""
    lower: Bound | None = None
    upper: Bound | None = None

    def span(a: int, b: int) -> str:
        return text[tokens[a].start : tokens[b].end]

    def is_time(a: int, b: int) -> bool:
        return a <= b and normalize_ident(span(a, b)) == time_column

    def visit(start: int, end: int, depth: int) -> None:
        nonlocal lower, upper
        for a, b in _split(tokens, start, end, depth, "AND"):
            if (
                tokens[a].text == "("
                and tokens[b].text == ")"
                and tokens[b].depth == depth
                and all(t.depth > depth for t in tokens[a + 1 : b])
            ):
                visit(a + 1, b, depth + 1)
                continue
            level = [k for k in range(a, b + 1) if tokens[k].depth == depth]
            if any(tokens[k].is_word("OR") for k in level):
                continue
            between = [k for k in level if tokens[k].is_word("BETWEEN")]
            if between:
                k = between[0]
                ands = [m for m in level if m > k and tokens[m].is_word("AND")]
                if ands and k > a and not tokens[k - 1].is_word("NOT") and is_time(a, k - 1):
                    lower = Bound(span(k + 1, ands[0] - 1), True)
                    upper = Bound(span(ands[0] + 1, b), True)
                continue
            ops = [k for k in level if tokens[k].text in ("<", "<=", ">", ">=")]
            if not ops or ops[0] in (a, b):
                continue
            k = ops[0]
            op = tokens[k].text
            if is_time(a, k - 1):
                other = span(k + 1, b)
            elif is_time(k + 1, b):
                other = span(a, k - 1)
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
            else:
                continue
            if op in (">", ">="):
                lower = Bound(other, op == ">=")
            else:
                upper = Bound(other, op == "<=")

    if "WHERE" in found:
        visit(found["WHERE"] + 1, _clause_end(found, "WHERE", len(tokens)), 0)
    if lower is None and upper is None:
        raise _plan_error("gap-filling query is missing both upper and lower time bounds")
    if lower is None:
        raise _plan_error("gap-filling query is missing lower time bound")
    if upper is None:
        raise _plan_error("gap-filling query is missing upper time bound")
    return lower, upper


def _whole_call(tokens: list[Token], first: int, last: int) -> bool:
    if first + 1 > last or tokens[first + 1].text != "(":
        return False
    depth = tokens[first + 1].depth
    return (
        tokens[last].text == ")"
        and tokens[last].depth == depth
        and all(t.depth > depth for t in tokens[first + 2 : last])
    )


def _rewrite(
    text: str,
    tokens: list[Token],
    found: dict[str, int],
    calls: tuple[list[Call], list[Call]],
    hidden: list[str],
) -> str:
    """The query DataFusion runs: plain ``date_bin``, fills unwrapped, hidden keys added."""
    dbg, fill_calls = calls
    edits: list[tuple[int, int, str]] = []
    for call in dbg:
        edits.append((call.start, call.start + len(call.name), "date_bin"))
    for call in fill_calls:
        edits.append((call.start, call.start + len(call.name), ""))
    if hidden:
        extra = "".join(f', {_dbg_to_date_bin(h)} AS "{HIDDEN}{n}"' for n, h in enumerate(hidden))
        at = tokens[found["FROM"]].start
        edits.append((at, at, extra + " "))
    cut = [found[k] for k in ("ORDER", "LIMIT", "OFFSET") if k in found]
    end = tokens[min(cut)].start if cut else len(text)
    out, pos = [], 0
    for start, stop, repl in sorted(edits):
        if start >= end:
            break
        out.append(text[pos:start])
        out.append(repl)
        pos = stop
    out.append(text[pos:end])
    return "".join(out)


def _dbg_to_date_bin(expr: str) -> str:
    toks = tokenize(expr)
    for call in find_calls(toks, {"date_bin_gapfill"}):
        return expr[: call.start] + "date_bin" + expr[call.start + len(call.name) :]
    return expr

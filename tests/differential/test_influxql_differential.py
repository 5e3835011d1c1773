"""Differential test: every query of the corpus, on the real InfluxDB 1.x and the v1 engine.

For each query two things must agree:

1. the ``/query`` JSON (``epoch=ns``): the 1.x server's body against the documents the
   local engine builds for ``influxkit serve``: HTTP status, statement ids, errors,
   and every series' name, tags, columns and values;
2. ``query_influxql`` rows (or the exception) through an influxkit connection to
   each, as an application would see them.

Tolerances, stated: floats equal to a relative 1e-9 (the two sum in different
orders); rows of one series with the same timestamp compared as a multiset (1.x
merges series by a heap, so the order of ties is not defined).  Everything else is
exact.  Queries in ``corpus.KNOWN_DIFFERENCES`` run as strict xfails, with a reason.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from influxkit.clients.local.influxql import ParseError, run
from influxkit.clients.local.influxql.shape_v1 import documents
from influxkit.errors import InfluxError

from .conftest import DATABASE, Pair
from .corpus import KNOWN_DIFFERENCES, PARAMS, QUERIES

REL = 1e-9


def _params(query: str) -> list[Any]:
    return [
        pytest.param(q, marks=pytest.mark.xfail(reason=KNOWN_DIFFERENCES[q], strict=True))
        if q in KNOWN_DIFFERENCES
        else q
        for q in query
    ]


def _oracle(pair: Pair, query: str, **extra: str) -> tuple[int, Any]:
    form = {"q": query, "db": DATABASE, "epoch": "ns", **extra}
    if query in PARAMS:
        form["params"] = orjson.dumps(PARAMS[query]).decode()
    response = pair.http.post("/query", data={k: v for k, v in form.items() if v})
    docs = [orjson.loads(line) for line in response.content.splitlines() if line.strip()]
    return response.status_code, docs[0] if len(docs) == 1 else docs


def _local(pair: Pair, query: str, **extra: str) -> tuple[int, Any]:
    engine = pair.local._client  # the LocalClient behind the connection
    options = {"epoch": "ns", **extra}
    try:
        results = run(engine, query, database=DATABASE, params=PARAMS.get(query))
    except ParseError as exc:
        return 400, {"error": exc.message}
    docs = documents(
        results,
        epoch=options["epoch"] or None,
        chunked=options.get("chunked") == "true",
        chunk_size=int(options.get("chunk_size") or 10000),
    )
    return 200, docs[0] if len(docs) == 1 else docs


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if isinstance(a, float) or isinstance(b, float):
            return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)
        return a == b
    return a == b


def _tie_key(row: list[Any]) -> tuple[Any, ...]:
    key = []
    for v in row:
        if isinstance(v, float):
            key.append((1, f"{v:.9g}"))
        else:
            key.append((0, repr(v)))
    return tuple(key)


def _canonical(values: list[list[Any]]) -> list[list[Any]]:
    """Rows with equal times (the first column) in a fixed order."""
    out: list[list[Any]] = []
    start = 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i][0] != values[start][0]:
            out += sorted(values[start:i], key=_tie_key)
            start = i
    return out


def _compare_docs(expected: Any, actual: Any, *, timed: bool = True) -> None:
    assert set(expected) == set(actual), (expected, actual)
    if "error" in expected:
        assert actual["error"] == expected["error"]
        return
    exp_results, act_results = expected.get("results", []), actual.get("results", [])
    assert len(act_results) == len(exp_results)
    for exp, act in zip(exp_results, act_results, strict=True):
        assert act.get("statement_id") == exp.get("statement_id")
        assert act.get("error") == exp.get("error")
        exp_series, act_series = exp.get("series", []), act.get("series", [])
        assert [(s.get("name"), s.get("tags")) for s in act_series] == [
            (s.get("name"), s.get("tags")) for s in exp_series
        ]
        for es, acs in zip(exp_series, act_series, strict=True):
            assert acs["columns"] == es["columns"], (es["name"], es.get("tags"))
            ev, av = es["values"], acs["values"]
            assert len(av) == len(ev), (es.get("name"), es.get("tags"), len(ev), len(av))
            if timed:  # rows with equal times: any order
                ev, av = _canonical(ev), _canonical(av)
            for n, (erow, arow) in enumerate(zip(ev, av, strict=True)):
                assert len(arow) == len(erow)
                same = all(_same_value(e, a) for e, a in zip(erow, arow, strict=True))
                assert same, f"series {es.get('name')} {es.get('tags')} row {n}: {erow} != {arow}"


def _rows_or_error(conn: Any, query: str) -> Any:
    try:
        return conn.query_influxql(query, params=PARAMS.get(query))
    except InfluxError as exc:
        return (type(exc).__name__, exc.message)


def _row_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, _tie_key([v])) for k, v in row.items()))


def _compare_rows(expected: Any, actual: Any) -> None:
    if isinstance(expected, tuple) or isinstance(actual, tuple):
        assert actual == expected
        return
    assert len(actual) == len(expected)
    for erow, arow in zip(
        sorted(expected, key=_row_key), sorted(actual, key=_row_key), strict=True
    ):
        assert set(arow) == set(erow)
        assert all(_same_value(erow[k], arow[k]) for k in erow), (erow, arow)


@pytest.mark.server
@pytest.mark.parametrize("query", _params(QUERIES))
def test_query_agrees_with_influxdb_1x(pair: Pair, query: str) -> None:
    expected_status, expected = _oracle(pair, query)
    actual_status, actual = _local(pair, query)
    assert actual_status == expected_status, (expected, actual)
    _compare_docs(expected, actual, timed=_is_select(query))
    _compare_rows(_rows_or_error(pair.remote, query), _rows_or_error(pair.local, query))


def _is_select(query: str) -> bool:
    return query.lstrip().upper().startswith("SELECT")


_TEN_MINUTES = "time >= '2023-01-01T01:00:00Z' AND time < '2023-01-01T01:10:00Z'"
_SHAPES = [
    f"SELECT usage_user, host FROM cpu WHERE {_TEN_MINUTES}",
    "SELECT mean(usage_user) FROM cpu WHERE time >= '2023-01-01T00:00:00Z' "
    "AND time < '2023-01-01T06:00:00Z' GROUP BY time(1h), host",
    "SELECT max(usage_user) FROM cpu GROUP BY host",
    "SELECT usage_user FROM cpu WHERE time >= '2023-01-01 01:00:00' "
    "AND time < '2023-01-01 01:10:00' tz('America/New_York')",
    "SHOW TAG VALUES WITH KEY = host; SELECT count(used) FROM mem; SHOW DATABASES",
]


@pytest.mark.server
@pytest.mark.parametrize("epoch", ["", "ns", "n", "u", "µ", "ms", "s", "m", "h", "bogus"])
@pytest.mark.parametrize("query", _SHAPES)
def test_epoch_and_time_text_agree(pair: Pair, query: str, epoch: str) -> None:
    """Times as RFC 3339 text (with the tz() offset) or as integers in each epoch unit."""
    expected_status, expected = _oracle(pair, query, epoch=epoch)
    actual_status, actual = _local(pair, query, epoch=epoch)
    assert actual_status == expected_status
    _compare_docs(expected, actual, timed=_is_select(query))


@pytest.mark.server
@pytest.mark.parametrize("size", ["1", "7", "100", ""])
@pytest.mark.parametrize("query", _SHAPES[:4])
def test_chunked_documents_agree(pair: Pair, query: str, size: str) -> None:
    """chunked=true: the same sequence of documents, ``partial`` flags included."""
    expected_status, expected = _oracle(pair, query, chunked="true", chunk_size=size)
    actual_status, actual = _local(pair, query, chunked="true", chunk_size=size)
    assert actual_status == expected_status
    expected = expected if isinstance(expected, list) else [expected]
    actual = actual if isinstance(actual, list) else [actual]
    assert len(actual) == len(expected)
    for exp, act in zip(expected, actual, strict=True):
        assert [r.get("partial") for r in act["results"]] == [
            r.get("partial") for r in exp["results"]
        ]
        assert [[s.get("partial") for s in r.get("series", [])] for r in act["results"]] == [
            [s.get("partial") for s in r.get("series", [])] for r in exp["results"]
        ]
        _compare_docs(exp, act)


@pytest.mark.server
def test_create_and_drop_database_agree(pair: Pair) -> None:
    """CREATE / DROP DATABASE (twice each: 1.x answers both without error) and SHOW DATABASES."""
    script = [
        "CREATE DATABASE diff_ddl",
        "CREATE DATABASE diff_ddl",
        "SHOW DATABASES",
        "DROP DATABASE diff_ddl",
        "DROP DATABASE diff_ddl",
        "SHOW DATABASES",
        "CREATE DATABASE diff_ddl; SHOW DATABASES; DROP DATABASE diff_ddl",
    ]
    try:
        for query in script:
            expected_status, expected = _oracle(pair, query)
            actual_status, actual = _local(pair, query)
            assert actual_status == expected_status
            _compare_docs(expected, actual, timed=False)
    finally:
        pair.http.post("/query", data={"q": "DROP DATABASE diff_ddl"})


def test_corpus_is_large_and_distinct() -> None:
    """The corpus spans the constructs (at least 150 queries, none twice)."""
    assert len(QUERIES) >= 150
    assert len(set(QUERIES)) == len(QUERIES)
    assert set(PARAMS) <= set(QUERIES)
    assert set(KNOWN_DIFFERENCES) <= set(QUERIES)

"""``/write`` on a real InfluxDB 1.6.7 against ``influxkit serve --profile v1``, case by case.

Each case writes the same body, with the same parameters, to a fresh database on both
servers, and compares the status, the body, the ``Content-Type`` and ``X-InfluxDB-Error``
headers, and what was stored.  Where both parsers refuse a line, the reason after
``unable to parse '<line>': `` is the local parser's (InfluxDB 3's wording): those cases
compare everything but that reason (``exact=False``); all other cases must be equal byte
for byte.  Then the public API: a local ``v1`` connection raises what the HTTP client
raises against the real server (class, status, body, per-line details).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

import influxkit
from influxkit.errors import ConfigError, InfluxError
from influxkit.server import ServerThread, running_server
from influxkit.server.write_v1 import go_json_error
from influxkit.testing.influxd import InfluxdServer

pytestmark = pytest.mark.server

_names = itertools.count()
_REASON = re.compile(r"(unable to parse '.*?'): (.*?)(?=\nunable to parse '| dropped=\d+$|$)", re.S)


T2020 = 1_577_836_800_000_000_000  # 2020-01-01: another week, so another shard
SPAN = f'c v=1 2\nc v="s" 3\nd v=1 {T2020}\nd v="s" {T2020 + 1}'.encode()


@dataclass(frozen=True)
class Case:
    """One write: ``body`` with ``params`` after ``setup`` (written first, must succeed)."""

    name: str
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    setup: bytes = b""
    exact: bool = True
    database: str | None = None  # None: the fresh database; "": no db parameter
    # 1.x writes the shards of one request in parallel and answers the first error to
    # come back, so where two shards refuse points the answer is either's (measured).
    racy: bool = False


CASES = [
    # (a) one bad line alone; (b) a bad line among good ones
    Case("bad_line_alone", b"cpu,host=a val= 123", exact=False),
    Case("no_fields_alone", b"cpu,host=a", exact=False),
    Case("bad_line_among_good", b"cpu v=1 1\ncpu,host=a val= 123\ncpu v=2 2\n", exact=False),
    Case("two_bad_lines_among_good", b"cpu v=1 1\nbad line\ncpu v=2 2\nworse=\n", exact=False),
    Case("bad_line_with_html_characters", b"cpu<&> v= 1\n", exact=False),
    Case("bad_line_after_blanks", b"   cpu v= 1\n", exact=False),
    Case("bad_line_utf8", "café v= 1\n".encode(), exact=False),
    Case("bad_line_longer_than_the_header", b"x" * 1100 + b" v= 1\nyy v= 2", exact=False),
    Case("crlf_line_ends", b"cpu v=1 1\r\ncpu v=2 2\r\n", exact=False),
    # (c) field type conflicts
    Case("conflict_in_one_write", b'conf v=1 1\nconf v="s" 2\n'),  # its shard is new
    Case("conflict_in_an_existing_shard", b'conf v=1 2\nconf v="s" 3\n', setup=b"a v=1 1"),
    Case(
        "conflict_in_a_new_shard",
        f'c v=1 {T2020}\nc v="s" {T2020 + 1}\n'.encode(),
        setup=b"a v=1 1",
    ),
    Case("conflicts_in_new_and_old_shards", SPAN, setup=b"a v=1 1", racy=True),
    Case(
        "new_shard_fine_old_shard_conflict",
        SPAN.split(b"\nd ")[0] + f"\nd v=1 {T2020}".encode(),
        setup=b"a v=1 1",
    ),
    Case("conflict_with_stored", b'cpu v="str" 3\ncpu v=3 4\n', setup=b"cpu v=1 1"),
    Case("conflict_integer", b"cpu v=3i 5\n", setup=b"cpu v=1 1"),
    Case("conflicts_counted", b'a v=1 1\nb w=1i 1\na v="x" 2\nb w=true 2\na v=2 3\n'),
    Case("conflict_in_second_field", b'mf a=1,b=2 1\nmf a=3,b="x" 2\n'),
    Case("conflict_beats_parse_error", b'cpu v="s" 9\ncpu v= 1\n', setup=b"cpu v=1 1"),
    Case("duplicate_field_of_two_types", b'df v=1,v="s" 1\n'),
    Case("duplicate_field_last_wins", b"dd v=1,v=2 1\n"),
    # (d) a missing database
    Case("missing_database", b"cpu v=1 1", database="nope"),
    Case("missing_database_bad_body", b"bad", database="nope"),
    Case("missing_database_empty_body", b"", database="nope"),
    Case("no_db_parameter", b"cpu v=1 1", database=""),
    # (e) unsigned integers (Debian's build has none)
    Case("unsigned_alone", b"u v=1u 1\n"),
    Case("unsigned_among_good", b"u2 v=1 1\nu2 w=1u 2\n"),
    Case("unsigned_only", b"ub v=1u 1\nub v=2u 2\n"),
    # the rest of what 1.x checks
    Case("time_tag", b"tt,time=x v=1 1\n"),
    Case("time_only_field", b"tf time=1 1\n"),
    Case("time_field_beside_others", b"tf time=1,v=2 1\n"),
    Case("duplicate_tags", b"dt,a=1,a=2 v=1 1\n"),
    Case("time_at_int64_max", b"cpu v=1 9223372036854775807\n"),
    Case("time_at_int64_min", b"cpu v=1 -9223372036854775808\n"),
    Case("time_inside_the_range", b"mx v=1 9223372036854775806\nmn v=1 -9223372036854775806\n"),
    Case("seconds_past_the_range", b"cpu v=1 9223372037\n", {"precision": "s"}),
    Case("hours_past_the_range", b"cpu v=1 2562048\n", {"precision": "h"}),
    Case("hours_inside_the_range", b"hok v=1 2562047\n", {"precision": "h"}),
    Case("empty_body", b""),
    Case("blank_and_comment_lines", b"\n\n# note\n"),
    Case("rp_autogen", b"cpu v=1 1", {"rp": "autogen"}),
    Case("rp_empty", b"cpu v=1 1", {"rp": ""}),
    Case("rp_unknown", b"cpu v=1 1", {"rp": "nope"}),
    Case("rp_unknown_empty_body", b"", {"rp": "nope"}),
    Case("rp_unknown_bad_body", b"cpu v= 1", {"rp": "nope"}, exact=False),
    Case("rp_is_case_sensitive", b"cpu v=1 1", {"rp": "AUTOGEN"}),
    Case("consistency_any_case", b"cpu v=1 1", {"consistency": "ONE"}),
    Case("consistency_bad", b"cpu v=1 1", {"consistency": "x"}),
    Case("consistency_after_parsing", b"cpu v= 1", {"consistency": "x"}, exact=False),
    Case("unknown_encoding_read_as_is", b"cpu v=1 1"),
]


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str | None
    error_header: bytes | None
    stored: object


# What 1.x answers when a shard refuses points: a new shard the whole write of its week,
# an existing one the conflicting points (a partial write).
_SHARD_ERRORS = re.compile(
    rb'\{"error":"(field type conflict|partial write: field type conflict: input field '
    rb'\\"v\\" on measurement \\"[cd]\\" is type string, already exists as type float '
    rb'dropped=\d+)"\}\n'
)


def _mask(message: str) -> str:
    return _REASON.sub(r"\1: <reason>", message)


@pytest.fixture(scope="module")
def serve_v1() -> Iterator[ServerThread]:
    with running_server(profile="v1") as server:
        yield server


@pytest.fixture(scope="module")
def sides(influxdb1: InfluxdServer, serve_v1: ServerThread) -> Iterator[dict[str, httpx.Client]]:
    clients = {
        "influxd": httpx.Client(base_url=influxdb1.url, timeout=30),
        "serve": httpx.Client(base_url=serve_v1.url, timeout=30),
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            client.close()


def _run(client: httpx.Client, case: Case) -> Answer:
    db = f"w{next(_names)}"
    assert client.post("/query", data={"q": f'CREATE DATABASE "{db}"'}).status_code == 200
    try:
        if case.setup:
            assert client.post("/write", params={"db": db}, content=case.setup).status_code == 204
        params = dict(case.params)
        if case.database != "":
            params["db"] = db if case.database is None else case.database
        headers = {"content-encoding": "br"} if case.name.startswith("unknown_encoding") else {}
        response = client.post("/write", params=params, content=case.body, headers=headers)
        stored = client.get(
            "/query", params={"db": db, "q": "SELECT * FROM /.*/", "epoch": "ns"}
        ).json()
    finally:
        client.post("/query", data={"q": f'DROP DATABASE "{db}"'})
    raw = dict(response.headers.raw)
    return Answer(
        response.status_code,
        response.content,
        response.headers.get("content-type"),
        raw.get(b"X-Influxdb-Error", raw.get(b"x-influxdb-error")),
        stored,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_write_answers_as_influxdb_1_6_7(sides, case):
    real, local = _run(sides["influxd"], case), _run(sides["serve"], case)
    if case.racy:
        # The engine gives one of the answers 1.x gives: ask 1.x until it gives that one
        # (what is stored then differs too), and compare the whole answer.
        assert _SHARD_ERRORS.fullmatch(local.body), local.body
        for _ in range(40):
            assert _SHARD_ERRORS.fullmatch(real.body), real.body
            if real.body == local.body:
                break
            real = _run(sides["influxd"], case)
        assert (local.body, local.error_header) == (real.body, real.error_header)
    assert local.status == real.status
    assert local.content_type == real.content_type
    assert local.stored == real.stored
    if case.exact:
        assert local.body == real.body
        assert local.error_header == real.error_header
        return
    # Same shape (Go's JSON, the header cut at 1024 bytes), same text but the reasons.
    messages = []
    for answer in (real, local):
        message = json.loads(answer.body)["error"]
        assert answer.body == go_json_error(message)
        header = message.encode()[:1024].replace(b"\n", b" ").replace(b"\r", b" ")
        assert answer.error_header == header
        messages.append(_mask(message))
    assert messages[0] == messages[1]
    assert messages[0] != json.loads(real.body)["error"]  # the mask did mask something


PRECISIONS = ["", "n", "ns", "u", "us", "µ", "ms", "s", "m", "h", "d", "x", "NS", "auto"]


@pytest.mark.parametrize("precision", PRECISIONS)
def test_every_precision_spelling_is_read_as_1_6_7_reads_it(sides, precision):
    case = Case("precision", b"p v=1 1\n", {"precision": precision})
    real, local = _run(sides["influxd"], case), _run(sides["serve"], case)
    assert (local.status, local.body, local.stored) == (real.status, real.body, real.stored)
    assert real.status == 204  # 1.6.7 refuses no spelling


@pytest.mark.parametrize("precision", ["m", "h", "s"])
def test_a_line_without_time_gets_now_truncated_to_the_precision(sides, precision):
    factor = {"m": 60, "h": 3600, "s": 1}[precision] * 10**9
    for client in sides.values():
        answer = _run(client, Case("now", b"now v=1\n", {"precision": precision}))
        [(time, _)] = answer.stored["results"][0]["series"][0]["values"]
        assert answer.status == 204 and time % factor == 0


EPOCHS = ["", "h", "m", "s", "ms", "u", "µ", "us", "ns", "n", "d", "x"]


@pytest.mark.parametrize("epoch", EPOCHS)
def test_query_epoch_values_as_1_6_7(sides, epoch):
    answers = []
    for client in sides.values():
        db = f"e{next(_names)}"
        client.post("/query", data={"q": f'CREATE DATABASE "{db}"'})
        try:
            assert client.post(
                "/write", params={"db": db}, content=b"e v=1 3723004005006"
            ).is_success
            r = client.get("/query", params={"db": db, "q": "SELECT * FROM e", "epoch": epoch})
            answers.append((r.status_code, r.content))
        finally:
            client.post("/query", data={"q": f'DROP DATABASE "{db}"'})
    assert answers[0] == answers[1]


def test_serve_sends_control_characters_escaped_and_a_clean_header(serve_v1):
    # 1.6.7 puts them raw in X-InfluxDB-Error, which HTTP clients refuse (measured).
    line = 'c\x08\x01\x0c\x7f\u2028<>&"\\\t v= 1'
    with httpx.Client(base_url=serve_v1.url, timeout=30) as client:
        client.post("/query", data={"q": "CREATE DATABASE ctl"})
        r = client.post("/write", params={"db": "ctl"}, content=line.encode())
    assert r.status_code == 400
    assert r.content.startswith(
        b'{"error":"unable to parse \'c\\u0008\\u0001\\u000c\x7f\\u2028\\u003c\\u003e\\u0026\\"'
        b"\\\\\\t v= 1': "
    )
    assert r.content.endswith(b'"}\n')
    header = dict(r.headers.raw)[b"x-influxdb-error"]
    assert header.startswith(b"unable to parse 'c    \xe2\x80\xa8<>&\"\\\t v= 1': ")


# -- the public API: the local v1 engine raises what the HTTP client raises -----------------

API_CASES = [c for c in CASES if not c.params and c.database != "" and c.name != "empty_body"]
API_CASES = [c for c in API_CASES if not c.name.startswith("unknown_encoding")]


def _outcome(conn: influxkit.Connection, case: Case) -> tuple[object, ...]:
    db = f"a{next(_names)}"
    conn.create_database(db)
    try:
        if case.setup:
            conn.write(case.setup, database=db)
        try:
            target = db if case.database is None else case.database
            outcome = conn.write(case.body, database=target)
        except InfluxError as exc:
            message = exc.body["error"] if isinstance(exc.body, dict) else exc.body
            lines = [
                (e.line_number, e.original_line, e.message if case.exact else "")
                for e in getattr(exc, "line_errors", [])
            ]
            shown = message if case.exact else _mask(message)
            return type(exc).__name__, exc.status, shown, lines
        del outcome  # the HTTP client counts the lines sent, the engine those written
        return "ok", conn.query_influxql("SELECT * FROM /.*/", database=db)
    finally:
        conn.delete_database(db)


@pytest.mark.parametrize("case", API_CASES, ids=lambda c: c.name)
def test_local_v1_raises_what_the_http_client_raises(influxdb1, case):
    with (
        influxkit.connect(influxdb1.url, api_version="v1") as remote,
        influxkit.connect(client="local", profile="v1") as local,
    ):
        expected = _outcome(local, case)
        tries = 40 if case.racy else 1  # one of the answers 1.x gives (see Case.racy)
        outcomes = [_outcome(remote, case)]
        while expected not in outcomes and len(outcomes) < tries:
            outcomes.append(_outcome(remote, case))
        assert expected == outcomes[-1]


@pytest.mark.parametrize(("precision", "seconds"), [("m", 60), ("h", 3600)])
def test_minutes_and_hours_through_the_api(influxdb1, precision, seconds):
    with (
        influxkit.connect(influxdb1.url, api_version="v1") as remote,
        influxkit.connect(client="local", profile="v1") as local,
    ):
        times = []
        for conn in (remote, local):
            db = f"p{next(_names)}"
            conn.create_database(db)
            try:
                conn.write(influxkit.Point("p").field("v", 1.0).time(2 * seconds * 10**9),
                           database=db, precision=precision)  # fmt: skip
                conn.write("p w=1 3", database=db, precision=precision)
                rows = conn.query_influxql("SELECT * FROM p", database=db, format="arrow")
                times.append(rows.column("time").cast("int64").to_pylist())
            finally:
                conn.delete_database(db)
        assert times[0] == times[1] == [2 * seconds * 10**9, 3 * seconds * 10**9]


@pytest.mark.parametrize("target", ["local_v3", "local_v2", "http_v3", "http_v2"])
def test_minutes_and_hours_are_refused_where_the_server_refuses_them(target):
    kind, api = target.split("_")
    profile = "v3_core" if api == "v3" else "v2"
    with contextlib.ExitStack() as stack:
        url, options = None, {"client": "local", "profile": profile}
        if kind == "http":
            server = stack.enter_context(running_server(profile=profile))
            url, options = server.url, {"api_version": api}
        conn = stack.enter_context(influxkit.connect(url, database="db", **options))
        for precision in ("m", "h"):
            with pytest.raises(ConfigError, match=r"exists only on InfluxDB 1\.x"):
                conn.write("cpu v=1 1", precision=precision)
        if api == "v3":  # nothing was written (nor sent: serve would have made the database)
            assert "db" not in conn.list_databases() or not conn.query_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_name = 'cpu'"
            )
        with pytest.raises(ConfigError, match=r"minutes and hours exist only on InfluxDB 1\.x"):
            influxkit.connect(url, database="db", precision="h", **options)

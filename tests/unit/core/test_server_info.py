"""Server detection, sans IO: recorded /ping and /health answers -> ServerInfo, and judging.

The answers are what the servers send: Debian's InfluxDB 1.6.7 (measured), and the
reference's section 4.5 for InfluxDB 3, 2.x and 1.8. Classification and judging are pure
functions, so they are tested here on tables; the IO around them is tested against
``influxkit serve`` (tests/server_local) and the real 1.6.7 (tests/server).
"""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import influxkit
from influxkit.clients.server_check import ServerCheck, judge, resolve
from influxkit.config import ConnectionConfig
from influxkit.detection import Answer, ServerInfo, classify, detect, for_profile, needs_health
from influxkit.errors import AuthError, InfluxError, ServerError, ServerMismatch

# GET /ping of Debian's influxd 1.6.7, as measured (also with ?verbose=true: the same).
PING_1_6_7 = Answer(
    204,
    {
        "Content-Type": "application/json",
        "Request-Id": "34fdc595-ed8f-11f1-8002-000000000000",
        "X-Influxdb-Build": "OSS",
        "X-Influxdb-Version": "1.6.7~rc0",
        "X-Request-Id": "34fdc595-ed8f-11f1-8002-000000000000",
    },
)
# 1.6.7 has no /health: Go's 404, still with its headers.
HEALTH_1_6_7 = Answer(
    404,
    {"Content-Type": "text/plain; charset=utf-8", "X-Influxdb-Version": "1.6.7~rc0"},
    b"404 page not found\n",
)
PING_V3_CORE = Answer(
    200,
    {
        "content-type": "application/json",
        "x-influxdb-version": "3.10.1",
        "x-influxdb-build": "Core",
    },
    b'{"product_name":"InfluxDB 3 Core","version":"3.10.1","revision":"d7834110",'
    b'"process_id":"0b7f1c1e-8d0a-4f7c-9d43-5e1c4c1d2f10"}',
)
NGINX_404 = Answer(
    404,
    {"Content-Type": "text/html", "Server": "nginx"},
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>...</body></html>\r\n",
)

V3 = ConnectionConfig.from_options()
AUTO = ConnectionConfig.from_options(api_version="auto")


@pytest.mark.parametrize(
    ("ping", "product", "version", "build", "api", "profile"),
    [
        (PING_1_6_7, "InfluxDB 1.x OSS", "1.6.7~rc0", "OSS", "v1", "v1"),
        (
            Answer(200, {"X-Influxdb-Version": "1.8.10", "X-Influxdb-Build": "OSS"},
                   b'{"version":"1.8.10"}'),
            "InfluxDB 1.x OSS", "1.8.10", "OSS", "v1", "v1",
        ),  # 1.8 /ping?verbose=true
        (
            Answer(204, {"X-Influxdb-Version": "1.11.8-c1.11.8", "X-Influxdb-Build": "ENT"}),
            "InfluxDB 1.x Enterprise", "1.11.8-c1.11.8", "ENT", "v1", "v1",
        ),
        (
            Answer(204, {"X-Influxdb-Version": "v2.7.11", "X-Influxdb-Build": "OSS"}),
            "InfluxDB 2.x OSS", "v2.7.11", "OSS", "v2", "v2",
        ),
        (
            Answer(204, {"X-Influxdb-Version": "2.7.10", "X-Influxdb-Build": "OSS"}),
            "InfluxDB 2.x OSS", "2.7.10", "OSS", "v2", "v2",
        ),
        (
            Answer(204, {"X-Influxdb-Version": "", "X-Influxdb-Build": "cloud2"}),
            "InfluxDB Cloud", None, "cloud2", "v2", "v2",
        ),
        (PING_V3_CORE, "InfluxDB 3 Core", "3.10.1", "Core", "v3", "v3_core"),
        (
            Answer(200, {"x-influxdb-version": "3.10.1", "x-influxdb-build": "Enterprise"},
                   b'{"product_name":"InfluxDB 3 Enterprise","version":"3.10.1",'
                   b'"revision":"abc","process_id":"x"}'),
            "InfluxDB 3 Enterprise", "3.10.1", "Enterprise", "v3", "v3_enterprise",
        ),
        (
            # Older v3: the documented ping schema, without product_name.
            Answer(200, {"x-influxdb-version": "3.0.3", "x-influxdb-build": "Core"},
                   b'{"version":"3.0.3","revision":"abc"}'),
            "InfluxDB 3 Core", "3.0.3", "Core", "v3", "v3_core",
        ),
        (
            # Headers dropped by a proxy: the v3 body still says it.
            Answer(200, {}, b'{"product_name":"InfluxDB 3 Core","version":"3.9.0","revision":"r"}'),
            "InfluxDB 3 Core", "3.9.0", None, "v3", "v3_core",
        ),
    ],
)  # fmt: skip
def test_classify_from_ping_alone(ping, product, version, build, api, profile):
    assert not needs_health(ping)
    info = classify(ping, url="http://db:8086")
    assert (info.product, info.version, info.build, info.api_version, info.profile) == (
        product, version, build, api, profile,
    )  # fmt: skip
    assert info.identified and info.url == "http://db:8086"
    assert info.evidence.startswith(f"GET /ping: {ping.status}")
    assert info.details["/ping"]["status"] == ping.status


def test_the_v3_revision_and_the_raw_answers_are_kept():
    info = classify(PING_V3_CORE)
    assert info.revision == "d7834110"
    assert info.details["/ping"]["headers"]["x-influxdb-build"] == "Core"
    assert "InfluxDB 3 Core" in info.details["/ping"]["body"]


@pytest.mark.parametrize(
    ("health", "product", "version", "revision"),
    [
        (
            Answer(200, {}, b'{"name":"influxdb","message":"ready for queries and writes",'
                            b'"status":"pass","checks":[],"version":"v2.7.0","commit":"abc"}'),
            "InfluxDB 2.x OSS", "v2.7.0", "abc",
        ),
        (
            Answer(200, {}, b'{"name":"influxdb","message":"ready for queries and writes",'
                            b'"status":"pass","checks":[],"version":"1.8.10"}'),
            "InfluxDB 1.x OSS", "1.8.10", None,
        ),
    ],
)  # fmt: skip
def test_health_tells_when_a_proxy_dropped_the_ping_headers(health, product, version, revision):
    bare = Answer(204, {})
    assert needs_health(bare)
    info = classify(bare, health)
    assert (info.product, info.version, info.revision) == (product, version, revision)
    assert "GET /health: 200" in info.evidence


def test_an_empty_ping_without_headers_is_influxdb_of_unknown_kind():
    info = classify(Answer(204, {}), HEALTH_1_6_7)
    assert info.product == "InfluxDB (unidentified)"
    assert not info.identified and info.api_version is None and info.profile is None
    assert not info.speaks("v1")


@pytest.mark.parametrize(
    ("ping", "shown"),
    [
        (NGINX_404, "404 text/html '<html>"),
        (Answer(200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><title>Sign in</title>"),
         "200 text/html '<!DOCTYPE html>"),
        (Answer(302, {"Location": "https://sso.example/login"}),
         "302 redirect to https://sso.example/login"),
        (Answer(200, {"Content-Type": "application/json"}, b'{"status":"UP"}'),
         "200 application/json"),
        (Answer(405, {"Allow": "GET"}, b"Method Not Allowed"), "405 'Method Not Allowed'"),
    ],
)  # fmt: skip
def test_what_is_not_influxdb_says_what_answered(ping, shown):
    assert needs_health(ping)
    with pytest.raises(ServerMismatch) as info:
        classify(ping, NGINX_404, url="http://proxy:8080")
    err = info.value
    assert err.found is None and err.expected == "InfluxDB" and err.url == "http://proxy:8080"
    assert isinstance(err, influxkit.ConfigError) and not err.retryable
    assert "http://proxy:8080 is not InfluxDB" in err.message
    assert shown in err.message
    assert "path_prefix" in err.message


def test_a_refused_ping_is_an_auth_error_naming_the_fix():
    for status in (401, 403):
        ping = Answer(status, {}, b'{"error": "the request was not authenticated"}')
        assert not needs_health(ping)
        with pytest.raises(AuthError) as info:
            classify(ping, url="http://db:8181")
        assert info.value.status == status and info.value.path == "/ping"
        assert "--disable-authz ping" in info.value.message


def test_a_5xx_without_influxdb_in_it_is_retryable():
    with pytest.raises(ServerError) as info:
        classify(Answer(503, {"Content-Type": "text/html"}, b"<h1>maintenance</h1>"), NGINX_404)
    assert info.value.retryable and info.value.status == 503
    # ... while a 503 that carries InfluxDB's headers still says which server it is.
    sick = Answer(503, {"X-Influxdb-Version": "1.8.10", "X-Influxdb-Build": "OSS"})
    assert classify(sick).product == "InfluxDB 1.x OSS"


@given(
    status=st.integers(100, 599),
    headers=st.dictionaries(
        st.sampled_from(["X-Influxdb-Version", "x-influxdb-build", "Content-Type", "Location"]),
        st.text(max_size=20),
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda d: json.dumps(d).encode(),
            st.dictionaries(
                st.sampled_from(["product_name", "version", "revision", "name", "commit"]),
                st.one_of(st.text(max_size=10), st.integers(-10, 10), st.none()),
            ),
        ),
    ),
)
def test_any_answer_is_a_server_info_or_an_influx_error(status, headers, body):
    answer = Answer(status, headers, body)
    try:
        info = classify(answer, answer if needs_health(answer) else None)
    except InfluxError:
        return
    assert isinstance(info, ServerInfo)
    assert info.api_version in (None, "v1", "v2", "v3")
    assert info.identified == (info.api_version is not None)


def test_the_plan_asks_health_only_when_ping_says_too_little():
    plan = detect("http://db:8086")
    assert next(plan).path == "/ping"
    with pytest.raises(StopIteration) as done:
        plan.send(PING_1_6_7)
    assert done.value.value.product == "InfluxDB 1.x OSS"

    plan = detect("http://proxy")
    next(plan)
    assert plan.send(Answer(204, {})).path == "/health"
    with pytest.raises(StopIteration) as done:
        plan.send(Answer(200, {}, b'{"name":"influxdb","status":"pass","version":"v2.7.1"}'))
    assert done.value.value.api_version == "v2"


def test_which_api_each_server_answers():
    one_six = classify(PING_1_6_7)
    one_eight = classify(Answer(204, {"X-Influxdb-Version": "1.8.10", "X-Influxdb-Build": "OSS"}))
    two = classify(Answer(204, {"X-Influxdb-Version": "v2.7.11", "X-Influxdb-Build": "OSS"}))
    three = classify(PING_V3_CORE)
    assert [one_six.speaks(a) for a in ("v1", "v2", "v3")] == [True, False, False]
    assert [one_eight.speaks(a) for a in ("v1", "v2", "v3")] == [True, True, False]
    assert [two.speaks(a) for a in ("v1", "v2", "v3")] == [True, True, False]
    assert [three.speaks(a) for a in ("v1", "v2", "v3")] == [True, True, True]


def _cfg(**options) -> ConnectionConfig:
    return ConnectionConfig.from_options(host="db", **options)


@pytest.mark.parametrize(
    ("options", "server", "expected", "fix"),
    [
        ({}, PING_1_6_7, "InfluxDB 3 (api_version='v3')", "set api_version='v1'"),
        ({"api_version": "v2"}, PING_1_6_7, "InfluxDB 2.x (api_version='v2')", "api_version='v1'"),
        ({"api_version": "v3"}, Answer(204, {"X-Influxdb-Version": "v2.7.11",
                                             "X-Influxdb-Build": "OSS"}),
         "InfluxDB 3 (api_version='v3')", "set api_version='v2'"),
        ({"profile": "v3_enterprise"}, PING_V3_CORE,
         "profile 'v3_enterprise' (InfluxDB 3 Enterprise)", "set profile='v3_core'"),
        ({"api_version": "auto", "profile": "v3_core"}, PING_1_6_7, "InfluxDB 3 (api_version='v3')",
         "set api_version='v1'"),
    ],
)  # fmt: skip
def test_a_mismatch_names_what_was_expected_what_was_found_and_the_fix(
    options, server, expected, fix
):
    info = classify(server, url="http://db:8086")
    err = judge(_cfg(**options), info)
    assert isinstance(err, ServerMismatch)
    assert err.expected == expected and err.found is info
    assert f"is {info.product}" in err.message and f"expects {expected}" in err.message
    assert fix in err.message and "check_server=False" in err.message


@pytest.mark.parametrize(
    ("options", "server"),
    [
        ({"api_version": "v1"}, PING_V3_CORE),  # InfluxDB 3 keeps the 1.x endpoints
        ({"api_version": "v2"}, PING_V3_CORE),
        ({"api_version": "v1"}, Answer(204, {"X-Influxdb-Version": "v2.7.1"})),
        ({}, PING_V3_CORE),
        # The default profile (Core) on Enterprise: Enterprise has all Core has.
        ({}, Answer(200, {"x-influxdb-build": "Enterprise"}, b'{"version":"3.1","revision":"r"}')),
        ({"api_version": "v1"}, PING_1_6_7),
        ({"api_version": "auto"}, PING_1_6_7),
        ({}, Answer(204, {})),  # unidentified: the benefit of the doubt
    ],
)  # fmt: skip
def test_what_works_is_not_a_mismatch(options, server):
    assert judge(_cfg(**options), classify(server)) is None


def test_auto_takes_the_api_profile_and_auth_scheme_of_the_server():
    v1 = resolve(_cfg(api_version="auto", token="t"), classify(PING_1_6_7))
    assert (v1.api_version, v1.profile, v1.auth_scheme) == ("v1", "v1", "Bearer")
    v2 = resolve(_cfg(api_version="auto"), classify(Answer(204, {"X-Influxdb-Version": "v2.7.1"})))
    assert (v2.api_version, v2.profile, v2.auth_scheme) == ("v2", "v2", "Token")
    ent = resolve(
        _cfg(api_version="auto", auth_scheme="Token"),
        classify(
            Answer(200, {"x-influxdb-build": "Enterprise"}, b'{"version":"3","revision":"r"}')
        ),
    )
    assert (ent.api_version, ent.profile, ent.auth_scheme) == ("v3", "v3_enterprise", "Token")
    with pytest.raises(ServerMismatch, match="set api_version='v3', 'v2' or 'v1'"):
        resolve(_cfg(api_version="auto"), classify(Answer(204, {})))


def test_auto_in_the_config():
    assert (AUTO.api_version, AUTO.port, AUTO.profile, AUTO.auth_scheme) == (
        "auto", 8181, None, None,
    )  # fmt: skip
    assert ConnectionConfig.from_options(api_version="auto", port=8086).port == 8086
    assert ConnectionConfig.from_options(api_version="auto", profile="v1").profile == "v1"
    assert V3.check_server is True
    assert ConnectionConfig.from_options(check_server="false").check_server is False
    with pytest.raises(influxkit.ConfigError, match="expected one of v3, v2, v1, auto"):
        ConnectionConfig.from_options(api_version="v4")


def test_a_check_judges_once_and_remembers_a_mismatch():
    check = ServerCheck(_cfg())
    assert not check.ready and check.profile_known
    with pytest.raises(ServerMismatch) as first:
        check.settle(classify(PING_1_6_7))
    assert not check.ready
    with pytest.raises(ServerMismatch) as again:
        check.raise_failure()
    assert again.value is not first.value and again.value.message == first.value.message

    auto = ServerCheck(_cfg(api_version="auto"))
    assert not auto.profile_known and auto.config.api_version == "auto"
    auto.settle(classify(PING_1_6_7))
    assert auto.ready and auto.profile_known and auto.profile.name == "v1"
    assert auto.config.api_version == "v1" and auto.configured.api_version == "auto"

    unchecked = ServerCheck(_cfg(check_server=False))
    assert unchecked.ready


def test_answers_that_tell_nothing():
    refused = AuthError("no", status=401)
    forbidden = AuthError("no", status=403)
    down = ServerError("starting", status=503)
    # An explicit connection goes on where the answer tells nothing ...
    check = ServerCheck(_cfg())
    check.unanswered(down)
    assert not check.ready  # ... and asks again next time after a 5xx,
    check.unanswered(forbidden)
    assert check.ready  # ... but not after a 403 (it would be refused again).
    assert ServerCheck(_cfg()).unanswered(refused) is None  # no credentials: go on
    # With a token a 401 is the token's fault everywhere: say so now.
    with pytest.raises(AuthError):
        ServerCheck(_cfg(token="t")).unanswered(refused)
    # auto cannot guess.
    for exc in (refused, forbidden, down):
        with pytest.raises(type(exc)):
            ServerCheck(_cfg(api_version="auto")).unanswered(exc)


def test_server_info_and_mismatch_survive_pickling():
    info = classify(PING_1_6_7, url="http://db:8086")
    assert pickle.loads(pickle.dumps(info)) == info
    err = judge(_cfg(), info)
    back = pickle.loads(pickle.dumps(err))
    assert isinstance(back, ServerMismatch) and back.found == info and str(back) == str(err)


def test_the_local_engine_answers_per_profile():
    assert for_profile("v3_enterprise").product == "InfluxDB 3 Enterprise"
    for profile, product, api in [
        ("v3_core", "InfluxDB 3 Core", "v3"),
        ("v2", "InfluxDB 2.x OSS", "v2"),
        ("v1", "InfluxDB 1.x OSS", "v1"),
    ]:
        with influxkit.connect(client="local", profile=profile) as conn:
            info = influxkit.server_info(conn)
        assert (info.product, info.api_version, info.profile) == (product, api, profile)

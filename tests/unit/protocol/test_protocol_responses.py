"""Response judging, with bodies verbatim from the reference (and measured on 1.6.7)."""

from __future__ import annotations

import pickle

import pytest

from influxkit.errors import (
    AuthError,
    DatabaseNotFound,
    PartialWriteError,
    QueryError,
    ServerError,
    WriteError,
)
from influxkit.protocol import responses
from influxkit.protocol.requests import Request

WRITE = Request("POST", "/api/v3/write_lp", "write", {"db": "db"}, lines=3)
QUERY = Request("POST", "/api/v3/query_sql", "query")

SHAPE_A = (
    b'{"error":"line protocol parsing error","data":{"error_message":"No fields were provided",'
    b'"line_number":1,"original_line":"cpu,host=a val= 123"}}'
)
SHAPE_B = (
    b'{"error":"partial write of line protocol occurred","data":[{"error_message":'
    b'"No fields were provided","line_number":2,"original_line":"cpu,host=a val= 123"}]}'
)


def judge(status, body, request=WRITE, headers=None):
    return responses.error_for(status, headers or {}, body, request)


def test_success_passes():
    responses.check(204, {}, b"", WRITE)
    responses.check(200, {}, b"[]", QUERY)


def test_shape_a_is_a_write_error_with_the_line():
    err = judge(400, SHAPE_A)
    assert type(err) is WriteError
    assert err.status == 400 and err.method == "POST" and err.path == "/api/v3/write_lp"
    assert err.body["error"] == "line protocol parsing error"
    (line,) = err.line_errors
    assert (line.line_number, line.message, line.original_line) == (
        1,
        "No fields were provided",
        "cpu,host=a val= 123",
    )
    assert "line protocol parsing error" in str(err)


def test_shape_b_is_a_partial_write():
    err = judge(400, SHAPE_B)
    assert type(err) is PartialWriteError
    assert [e.line_number for e in err.line_errors] == [2]


def test_shape_b_with_every_line_rejected_is_still_partial():
    # The server answers the partial-write body; the local engine raises the same class.
    one_line = Request("POST", "/api/v3/write_lp", "write", lines=1)
    body = SHAPE_B.replace(b'"line_number":2', b'"line_number":1')
    err = judge(400, body, one_line)
    assert type(err) is PartialWriteError
    assert [e.line_number for e in err.line_errors] == [1]


def test_line_numbers_are_offset_for_later_pieces():
    later = Request("POST", "/api/v3/write_lp", "write", lines=3, first_line=101)
    assert judge(400, SHAPE_B, later).line_errors[0].line_number == 102


def test_the_20_byte_original_line_is_kept_as_sent():
    body = (
        b'{"error":"partial write of line protocol occurred","data":[{"error_message":'
        b'"invalid column type","line_number":1,"original_line":"cpu,host=server01 us"}]}'
    )
    (line,) = judge(400, body).line_errors
    assert line.original_line == "cpu,host=server01 us" and len(line.original_line) == 20


def test_v2_code_message_shape():
    body = b'{"code":"invalid","message":"write buffer error: line protocol parse failed: bad"}'
    err = judge(400, body, Request("POST", "/api/v2/write", "write", lines=1))
    assert type(err) is WriteError
    assert "write buffer error: line protocol parse failed: bad" in err.message
    too_big = b'{"code":"request too large","message":"max request size (10485760 bytes) exceeded"}'
    assert type(judge(413, too_big)) is WriteError


def test_v1_partial_write_names_the_lines():
    source = b"m v=1 1\nm,host=a val= 123\nm v=2 2\nx y"
    req = Request("POST", "/write", "write", lines=4, source=source)
    body = (
        b'{"error":"partial write: unable to parse \'m,host=a val= 123\': missing field value'
        b"\\nunable to parse 'x y': invalid field format dropped=0\"}"
    )
    err = judge(400, body, req)
    assert type(err) is PartialWriteError
    assert [(e.line_number, e.message, e.original_line) for e in err.line_errors] == [
        (2, "missing field value", "m,host=a val= 123"),
        (4, "invalid field format", "x y"),
    ]


def test_v1_type_conflict_partial_write():
    body = (
        b'{"error":"partial write: field type conflict: input field \\"v\\" on measurement '
        b'\\"cpu\\" is type string, already exists as type float dropped=1"}'
    )
    err = judge(400, body, Request("POST", "/write", "write", lines=2))
    assert type(err) is PartialWriteError and "dropped=1" in err.message


def test_v1_parse_error_without_valid_lines_is_a_write_error():
    body = b'{"error":"unable to parse \'cpu,host=a val= 123\': missing field value"}'
    req = Request("POST", "/write", "write", lines=1, source=b"cpu,host=a val= 123")
    err = judge(400, body, req)
    assert type(err) is WriteError and err.line_errors[0].line_number == 1


def test_v1_unknown_database():
    err = judge(
        404, b'{"error":"database not found: \\"nodb\\""}', Request("POST", "/write", "write")
    )
    assert type(err) is DatabaseNotFound and 'database not found: "nodb"' in err.message


@pytest.mark.parametrize("status", [401, 403])
def test_auth(status):
    err = judge(status, b'{"error": "the request was not authenticated"}')
    assert type(err) is AuthError and err.status == status
    assert err.body == {"error": "the request was not authenticated"}
    assert not err.retryable


def test_413_plain_text():
    err = judge(413, b"max request size (10485760 bytes) exceeded")
    assert type(err) is WriteError and err.body == "max request size (10485760 bytes) exceeded"


def test_422_limit_is_a_write_error():
    body = b'{"error":"Adding a new database would exceed limit of 5 databases"}'
    assert type(judge(422, body)) is WriteError


def test_429_with_retry_after():
    err = judge(
        429, b"this service is overloaded, please try again later", QUERY, {"retry-after": "3"}
    )
    assert type(err) is ServerError and err.retryable and err.retry_after == 3.0


def test_retry_after_http_date():
    headers = {"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}
    assert responses.retry_after(headers, now=1445412480.0) == 10.0
    assert responses.retry_after({"Retry-After": "soon"}) is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retryable(status):
    err = judge(status, b"query error: error while executing plan: boom", QUERY)
    assert type(err) is ServerError and err.retryable


def test_query_errors():
    err = judge(404, b'{"error":"query error: database not found: nope"}', QUERY)
    assert type(err) is DatabaseNotFound
    err = judge(400, b"Error during planning: table 'public.iox.t' not found", QUERY)
    assert type(err) is QueryError and "table 'public.iox.t' not found" in str(err)
    assert type(judge(405, b"This feature is not implemented", QUERY)) is QueryError


def test_unknown_route_is_not_database_not_found():
    err = judge(404, b"Not found", Request("GET", "/health", "health"))
    assert type(err) is ServerError
    err = judge(404, b"404 page not found\n", QUERY)
    assert type(err) is ServerError and "api_version" in err.message


def test_errors_pickle():
    err = judge(400, SHAPE_B)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is PartialWriteError and back.line_errors == err.line_errors
    assert str(back) == str(err)

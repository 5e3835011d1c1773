"""parse(): the tag-set and structure messages, line splitting and numbering, the body itself."""

from __future__ import annotations

import gzip
import pickle

import pytest

from influxkit.errors import ConfigError, LineError, WriteError
from influxkit.lineprotocol.parse import parse


def messages(text: str) -> list[str]:
    return [e.message for e in parse(text).errors]


# The crate's own `better_error_messages` cases, with InfluxDB's exact wording.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("measurement", "Expected at least one space character, got end of input"),
        (",", "Invalid measurement was provided"),
        (",tag1=1,tag2=2 value=1 123", "Invalid measurement was provided"),
        ("J,#", "Tag set malformed: could not find equals sign in `#`"),
        ("J," + "a" * 200, "Tag set malformed: could not find equals sign in `aaaaaaaaaa...`"),
        ("J,", "Expected tag key, got end of input"),
        ("testmeasure, bar=1i", "Expected tag key, got ` bar=1i`"),
        ("testmeasure, " + "b" * 200 + "=1i", "Expected tag key, got ` bbbbbbbbb...`"),
        ("0,,=", "Expected tag value, got end of input"),
        ("testmeasure,foo\\=\\,baz= bar=1i", "Expected tag value, got ` bar=1i`"),
        ("testmeasure,foo= bar=" + "1" * 100 + "i", "Expected tag value, got ` bar=11111...`"),
        ("testmeasure,foo=,baz= bar=1i", "Expected tag value, got `,baz= bar=...`"),
        (
            "metrics,bananas=,platanos=great value=1.000000 1725629157696678000",
            "Expected tag value, got `,platanos=...`",
        ),
        ("testmeasure,foo= sed=1i", "Expected tag value, got ` sed=1i`"),
        (
            "testmeasure,foo=f bar=1i,baz=",
            "Could not parse entire line. Found trailing content: `baz=`",
        ),
        (
            "testmeasure,foo=f bar=1i,ba" + "z" * 100 + "=",
            "Could not parse entire line. Found trailing content: `bazzzzzzzz...`",
        ),
        ("\x1b# /", "No fields were provided"),
        ("foo 1234", "No fields were provided"),
        ("field=1 1234", "No fields were provided"),
        ("cpu,host=a val= 123", "No fields were provided"),  # the reference's 1.4 example
        (
            "foo,tag0=value1 asdf=23.1.22,jkl=4",
            "Could not parse entire line. Found trailing content: `.22,jkl=4`",
        ),
    ],
)
def test_crate_error_messages(text, message):
    assert messages(text) == [message]


def test_a_bad_field_after_the_first_comma_and_after_a_later_one():
    # The crate's separated list consumes the first comma but not later ones.
    assert messages("m a=1,c=") == ["Could not parse entire line. Found trailing content: `c=`"]
    assert messages("m a=1,b=2,c=") == [
        "Could not parse entire line. Found trailing content: `,c=`"
    ]


def test_context_is_cut_at_ten_characters_counting_utf8_bytes():
    # Six characters but thirteen bytes: over the limit, so cut (to all six) plus "...".
    assert messages("m a=1 1 ééééé€") == [
        "Could not parse entire line. Found trailing content: `ééééé€...`"
    ]
    assert messages("m a=1 1 éé€") == ["Could not parse entire line. Found trailing content: `éé€`"]


# -- lines and their numbers ------------------------------------------------------------------


def test_every_line_is_parsed_even_after_a_bad_one():
    result = parse("goodline,tag1=one value=1 123\nbadline,\nanother,tag3=3 value=67 1234")
    assert [n for n, _ in result.lines] == [1, 3]
    assert result.errors == [LineError(2, "Expected tag key, got end of input", "badline,")]


def test_line_numbers_skip_blank_and_comment_lines():
    body = "# a comment\n\nm a=1\n   \n# another\nm,bad\n\tm b=2\n"
    result = parse(body)
    assert [n for n, _ in result.lines] == [1, 3]
    # Numbered 2 (the server's count, though it is the sixth line), with its own text.
    assert result.errors == [
        LineError(2, "Tag set malformed: could not find equals sign in `bad`", "m,bad")
    ]
    assert parse("\tm b=2").lines == parse("m b=2").lines


def test_blank_and_comment_only_bodies_are_empty():
    for body in ("", "\n\n\n", "# comment", "  #comment\n #c2\n#c3\n", "\t\n"):
        result = parse(body)
        assert result.lines == [] and result.errors == []


def test_a_comment_ends_at_the_newline():
    result = parse("  #comment\n a=1 f=1")
    assert [line.measurement for _, line in result.lines] == ["a=1"]


def test_newlines_inside_quoted_strings_do_not_split():
    result = parse('meas,tag=val field="\nval"\nnext f=1')
    assert [line.fields[0][2] for _, line in result.lines] == ["\nval", 1.0]


def test_an_escaped_quote_does_not_open_a_string():
    # The newline splits, so the first line is refused and `val"` is the next measurement.
    result = parse('meas,tag=val field=\\"\nval" f=1\nnext f=1')
    assert [(n, line.measurement) for n, line in result.lines] == [(2, 'val"'), (3, "next")]
    assert [e.line_number for e in result.errors] == [1]


def test_an_escaped_newline_joins_lines():
    line = parse("m\\\nx f=1").lines[0][1]
    assert line.measurement == "m\\\nx"


def test_a_comment_with_an_open_quote_swallows_the_following_newlines():
    # The Go scanner knows nothing of comments: `# a="x` opens a quote, so no newline after
    # it splits; the comment is then skipped and the rest is one line with trailing content.
    result = parse('# a="x\nm f=1\nn g=2')
    assert result.lines == []
    assert result.errors == [
        LineError(
            1,
            "Could not parse entire line. Found trailing content: `\nn g=2`",
            '# a="x\nm f=1\nn g=2',
        )
    ]


def test_crlf_leaves_a_carriage_return_as_trailing_content():
    result = parse('m a=1i 123\r\nm b=2i\r\nm c="s"\r\nm d=1\r\n')
    assert result.lines == []
    assert [e.message for e in result.errors] == [
        "Could not parse entire line. Found trailing content: `\r`"
    ] * 4
    assert result.errors[0].original_line == "m a=1i 123\r"


def test_carriage_return_is_an_ordinary_character_in_names():
    assert parse("m\r,t=\r f\r=1").lines[0][1].tags == (("t", "\r"),)


# -- the body -----------------------------------------------------------------------------


def test_bytes_and_str_give_the_same_result():
    body = 'cpu,host=é v=1i,s="ü" 1\nbad'
    assert parse(body) == parse(body.encode())


def test_gzip_is_detected_by_magic_bytes_or_forced():
    body = b"m a=1i 1\nm b=2i 2"
    zipped = gzip.compress(body)
    assert parse(zipped) == parse(body)
    assert parse(zipped, gzip=True) == parse(body)


def test_multi_member_gzip():
    zipped = gzip.compress(b"m a=1i 1\n") + gzip.compress(b"m b=2i 2")
    assert [n for n, _ in parse(zipped).lines] == [1, 2]


def test_gzip_false_reads_gzip_bytes_as_text():
    with pytest.raises(WriteError) as info:
        parse(gzip.compress(b"m v=1i 1"), gzip=False)
    assert info.value.message == (
        "body content is not valid utf8: invalid utf-8 sequence of 1 bytes from index 1"
    )


@pytest.mark.parametrize(
    "body", [b"\x1f\x8bnot gzip at all", gzip.compress(b"m a=1")[:-6], b"plain"]
)
def test_corrupt_gzip(body):
    with pytest.raises(WriteError) as info:
        parse(body, gzip=True)
    assert info.value.status == 400
    assert info.value.message.startswith("error decoding gzip stream: ")
    assert info.value.retryable is False


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"u v=1i \xff", "invalid utf-8 sequence of 1 bytes from index 7"),
        (b"u v=1i 1\xe2\x82", "incomplete utf-8 byte sequence from index 8"),
        (b"u v=\xf0\x9f\x98x", "invalid utf-8 sequence of 3 bytes from index 4"),
        (b"u v=\xe0\x80\x80", "invalid utf-8 sequence of 1 bytes from index 4"),
        (b"m,t=\xed\xa0\x80 v=1", "invalid utf-8 sequence of 1 bytes from index 4"),  # surrogate
    ],
)
def test_non_utf8_bodies_name_the_first_bad_byte_as_rust_does(body, detail):
    with pytest.raises(WriteError) as info:
        parse(body)
    assert info.value.status == 400
    assert info.value.message == f"body content is not valid utf8: {detail}"
    assert pickle.loads(pickle.dumps(info.value)).message == info.value.message


def test_a_str_with_a_lone_surrogate_is_not_utf8():
    with pytest.raises(WriteError, match="not valid utf8"):
        parse("m,t=\ud800 v=1")


def test_wrong_argument_types():
    with pytest.raises(ConfigError):
        parse(123)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        parse("m a=1", gzip=True)


def test_bytearray_and_memoryview_are_bytes():
    assert parse(bytearray(b"m a=1")) == parse(memoryview(b"m a=1")) == parse("m a=1")

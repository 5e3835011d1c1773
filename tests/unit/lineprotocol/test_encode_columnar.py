"""encode_table(): types, units, escaping, nulls, refused rows, inputs, errors; and properties
holding it to the row encoder (the same text, row for row) and to the parser (the same values).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from influxkit.errors import ConfigError, InvalidRecord, MissingDependency
from influxkit.lineprotocol import encode_columnar as ec
from influxkit.lineprotocol.encode import encode
from influxkit.lineprotocol.escape import escape_key, escape_measurement
from influxkit.lineprotocol.model import FieldType, UInt
from influxkit.lineprotocol.parse import parse
from influxkit.lineprotocol.precision import FACTORS

encode_table = ec.encode_table
iter_encode_table = ec.iter_encode_table
ec._load(None)  # the helpers tested directly below need pyarrow loaded

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lines(data, **kwargs) -> list[str]:
    kwargs.setdefault("measurement", "m")
    encoded = encode_table(data, **kwargs)
    assert not encoded.refused, encoded.refused
    text = encoded.data.decode()
    out = text.split("\n") if text else []
    assert encoded.lines == len(out)
    return out


def one_field(arr, **kwargs) -> list[str]:
    return lines(pa.table({"f": arr}), **kwargs)


def row_encoder(rows: list[dict]) -> list[str]:
    return [encode(r).decode() for r in rows]


# -- field types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arr", "texts"),
    [
        (pa.array([-128, 127], pa.int8()), ["-128i", "127i"]),
        (pa.array([-(2**15), 2**15 - 1], pa.int16()), ["-32768i", "32767i"]),
        (pa.array([-(2**31)], pa.int32()), ["-2147483648i"]),
        (
            pa.array([-(2**63), 2**63 - 1], pa.int64()),
            ["-9223372036854775808i", "9223372036854775807i"],
        ),
        (pa.array([0, 255], pa.uint8()), ["0u", "255u"]),
        (pa.array([65535], pa.uint16()), ["65535u"]),
        (pa.array([2**32 - 1], pa.uint32()), ["4294967295u"]),
        (pa.array([2**64 - 1], pa.uint64()), ["18446744073709551615u"]),
        (pa.array([True, False]), ["true", "false"]),
        (pa.array(["a b", ""]), ['"a b"', '""']),
        (pa.array(["x"], pa.large_string()), ['"x"']),
        (pa.array(["x"], pa.string_view()), ['"x"']),
        (pa.array([1.5, -0.0, 100.0]), ["1.5", "-0.0", "100.0"]),
        (pa.array([0.5], pa.float32()), ["0.5"]),
        (pa.array([np.float16(0.25)], pa.float16()), ["0.25"]),
        (pa.array([Decimal("1.25"), Decimal("-3")], pa.decimal128(5, 2)), ["1.25", "-3.0"]),
    ],
)
def test_field_types(arr, texts) -> None:
    assert one_field(arr) == [f"m f={t}" for t in texts]


def test_float32_is_widened_as_the_row_encoder_widens_numpy_float32() -> None:
    [line] = one_field(pa.array([0.1], pa.float32()))
    assert line == encode({"measurement": "m", "fields": {"f": np.float32(0.1)}}).decode()
    assert line == "m f=0.10000000149011612"


FLOATS = [
    0.0,
    -0.0,
    1.0,
    0.1,
    1e-7,
    1.5e-7,
    2.5e-05,
    1e16,
    1e22,
    1e23,
    123456789.125,
    5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    9007199254740993.0,
    1 / 3,
]


@pytest.mark.parametrize("numpy", [True, False], ids=["orjson", "cast"])
def test_floats_read_back_exactly(numpy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not numpy:  # pyarrow without NumPy: the cast to string
        monkeypatch.setattr(ec, "np", None)
    result = parse(encode_table(pa.table({"f": FLOATS}), measurement="m").data)
    assert not result.errors
    for (_, line), value in zip(result.lines, FLOATS, strict=True):
        [(_, kind, back)] = line.fields
        assert kind is FieldType.FLOAT
        assert back == value and math.copysign(1, back) == math.copysign(1, value)


def test_floats_are_the_row_encoders_digits() -> None:
    expected = row_encoder([{"measurement": "m", "fields": {"f": v}} for v in FLOATS])
    assert one_field(pa.array(FLOATS)) == expected


def test_dictionary_string_field_is_its_values() -> None:
    arr = pa.DictionaryArray.from_arrays(pa.array([1, 0, None, 1], pa.int8()), ["a", 'q"'])
    assert lines(pa.table({"f": arr, "g": [1, 2, 3, 4]})) == [
        'm f="q\\"",g=1i',
        'm f="a",g=2i',
        "m g=3i",
        'm f="q\\"",g=4i',
    ]


def test_null_typed_column_contributes_nothing() -> None:
    assert lines(pa.table({"n": pa.nulls(2), "v": [1, 2]})) == ["m v=1i", "m v=2i"]


@pytest.mark.parametrize(
    ("arr", "fix"),
    [
        (pa.array([1], pa.date32()), "timestamp_column='f'"),
        (pa.array([1], pa.timestamp("ns")), "timestamp_column='f'"),
        (pa.array([b"x"]), "cast it to string"),
        (pa.array([[1]]), "cast it to a number, bool or string"),
        (pa.array([1], pa.duration("s")), "cast it"),
        (pa.array([{"a": 1}]), "cast it"),
    ],
)
def test_fields_line_protocol_has_no_type_for_are_refused(arr, fix: str) -> None:
    with pytest.raises(
        InvalidRecord, match=r"field column 'f' is .*line protocol has no type"
    ) as e:
        encode_table(pa.table({"f": arr, "g": [1]}), measurement="m")
    assert fix in str(e.value)


# -- escaping ---------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "a b",
    "a,b",
    "a=b",
    "a\\b",
    "a\\\\b",
    "a\\,b",
    "a\\ b",
    "a\\=b",
    "\\\\,",
    "é€😀",
    'q"uote',
    "#x",
    "a\\\\\\b",
]


def test_hostile_names_and_values_are_escaped_as_the_row_encoder_does() -> None:
    n = len(HOSTILE_NAMES)
    columns = {f"t{i} {name}": HOSTILE_NAMES for i, name in enumerate(HOSTILE_NAMES[:3])}
    columns |= {f"f{i}{name}": HOSTILE_NAMES for i, name in enumerate(HOSTILE_NAMES)}
    tags = list(columns)[:3]
    for measurement in ("m", "me as,ure\\,x", "a\\b=c"):
        got = lines(pa.table(columns), measurement=measurement, tag_columns=tags)
        expected = row_encoder(
            [
                {
                    "measurement": measurement,
                    "tags": {k: columns[k][i] for k in tags},
                    "fields": {k: v[i] for k, v in columns.items() if k not in tags},
                }
                for i in range(n)
            ]
        )
        assert got == expected


def test_string_field_escapes_quote_and_backslash_and_keeps_newlines() -> None:
    values = ['a"b', "c\\d", "e\nf\tg", '\\"']
    encoded = encode_table(pa.table({"f": values}), measurement="m")
    assert encoded.data == b'm f="a\\"b"\nm f="c\\\\d"\nm f="e\nf\tg"\nm f="\\\\\\""'
    assert [line.fields[0][2] for _, line in parse(encoded.data).lines] == values


@pytest.mark.parametrize("name", ["a\nb", "a\tb", "ab\\", ""])
def test_column_names_line_protocol_cannot_carry_are_refused(name: str) -> None:
    with pytest.raises(InvalidRecord, match="field key"):
        encode_table(pa.table({name: [1]}), measurement="m")
    with pytest.raises(InvalidRecord, match="tag key"):
        encode_table(pa.table({name: ["x"], "v": [1]}), measurement="m", tag_columns=[name])


@pytest.mark.parametrize("name", ["", "#m", "a\nb", "a\0b", "m\\"])
def test_measurement_line_protocol_cannot_carry_is_refused(name: str) -> None:
    with pytest.raises(InvalidRecord, match="measurement"):
        encode_table(pa.table({"v": [1]}), measurement=name)


def test_tag_values_line_protocol_cannot_carry_refuse_their_row() -> None:
    table = pa.table({"t": ["ok", "a\nb", "c\td", "e\\", "x" * (2**20 + 1)], "v": [1, 2, 3, 4, 5]})
    encoded = encode_table(table, measurement="m", tag_columns=["t"])
    assert encoded.data == b"m,t=ok v=1i"
    assert encoded.lines == 1
    assert [r.index for r in encoded.refused] == [1, 2, 3, 4]
    reasons = [r.reason for r in encoded.refused]
    assert "newline or tab" in reasons[0] and "newline or tab" in reasons[1]
    assert "ends with a backslash" in reasons[2]
    assert "1 MiB" in reasons[3]
    assert all(r.startswith("tag 't' value") for r in reasons)


def test_too_long_string_field_refuses_its_row() -> None:
    encoded = encode_table(pa.table({"s": ["x" * (2**20 + 1), "y"]}), measurement="m")
    assert encoded.data == b'm s="y"'
    assert [(r.index, "1 MiB" in r.reason) for r in encoded.refused] == [(0, True)]


# -- tags ---------------------------------------------------------------------------------------


def test_tags_sorted_by_key_null_and_empty_left_out() -> None:
    table = pa.table({"z": ["1", None, "", "4"], "a": ["x", "y", None, ""], "v": [1, 2, 3, 4]})
    assert lines(table, tag_columns=["z", "a"]) == [
        "m,a=x,z=1 v=1i",
        "m,a=y v=2i",
        "m v=3i",
        "m,z=4 v=4i",
    ]


def test_numeric_and_bool_tags_are_written_as_str_writes_them() -> None:
    table = pa.table(
        {
            "i": pa.array([-1, 2**63 - 1, None], pa.int64()),
            "u": pa.array([2**64 - 1, 0, 1], pa.uint64()),
            "f": [100.0, 2.5e-05, -0.0],
            "b": [True, False, None],
            "v": [1, 2, 3],
        }
    )
    got = lines(table, tag_columns=["i", "u", "f", "b"])
    rows = table.to_pylist()
    expected = row_encoder(
        [
            {"measurement": "m", "tags": {k: r[k] for k in "iufb"}, "fields": {"v": r["v"]}}
            for r in rows
        ]
    )
    assert got == expected
    assert got[0] == "m,b=True,f=100.0,i=-1,u=18446744073709551615 v=1i"
    assert got[2] == "m,f=-0.0,u=1 v=3i"


def test_dictionary_tags_pandas_categorical_polars_categorical_and_enum() -> None:
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 1, None, 0], pa.int32()), ["a b", "c"])
    expected = ["m,t=a\\ b v=1i", "m,t=c v=2i", "m v=3i", "m,t=a\\ b v=4i"]
    assert lines(pa.table({"t": arr, "v": [1, 2, 3, 4]}), tag_columns=["t"]) == expected
    df = pd.DataFrame({"t": pd.Categorical(["a b", "c", None, "a b"]), "v": [1, 2, 3, 4]})
    assert lines(df, tag_columns=["t"]) == expected
    values = ["a b", "c", None, "a b"]
    for dtype in (pl.Categorical, pl.Enum(["c", "a b"])):
        frame = pl.DataFrame({"t": pl.Series(values, dtype=dtype), "v": [1, 2, 3, 4]})
        assert lines(frame, tag_columns=["t"]) == expected


def test_dictionary_chunks_with_different_dictionaries() -> None:
    one = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int8()), ["a", "b"])
    two = pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int8()), ["z"])
    table = pa.table({"t": pa.chunked_array([one, two]), "v": [1, 2, 3, 4]})
    expected = ["m,t=a v=1i", "m,t=b v=2i", "m,t=z v=3i", "m,t=z v=4i"]
    assert lines(table, tag_columns=["t"]) == expected
    assert lines(table, tag_columns=["t"], chunk_rows=3) == expected


@pytest.mark.parametrize(
    "arr", [pa.array([1], pa.timestamp("s")), pa.array([[1]]), pa.array([b"x"])]
)
def test_tag_column_of_another_type_is_refused(arr) -> None:
    with pytest.raises(InvalidRecord, match=r"tag column 't' is .*cast the column to string"):
        encode_table(pa.table({"t": arr, "v": [1]}), measurement="m", tag_columns=["t"])


# -- nulls and refused rows ------------------------------------------------------------------


def test_null_field_is_left_out_of_its_row_and_all_null_row_is_reported() -> None:
    table = pa.table(
        {"a": [None, 1.5, None, None], "b": pa.array([1, None, None, 4]), "t": ["x"] * 4}
    )
    encoded = encode_table(table, measurement="m", tag_columns=["t"])
    assert encoded.data.decode().split("\n") == ["m,t=x b=1i", "m,t=x a=1.5", "m,t=x b=4i"]
    assert encoded.lines == 3
    assert encoded.refused == [
        ec.RefusedRow(2, "every field is null; a line needs at least one field")
    ]


def test_field_with_no_value_in_a_slice_and_every_row_refused() -> None:
    table = pa.table({"a": pa.array([None, None], pa.float64()), "b": pa.nulls(2)})
    encoded = encode_table(table, measurement="m")
    assert (encoded.data, encoded.lines, [r.index for r in encoded.refused]) == (b"", 0, [0, 1])


def test_nan_and_infinity_refuse_the_row_with_the_value() -> None:
    table = pa.table({"a": [1.0, math.nan, math.inf, -math.inf, None], "b": [1, 2, 3, 4, 5]})
    encoded = encode_table(table, measurement="m")
    assert encoded.data.decode().split("\n") == ["m a=1.0,b=1i", "m b=5i"]
    assert [r.index for r in encoded.refused] == [1, 2, 3]
    assert "field 'a' is nan" in encoded.refused[0].reason
    assert "field 'a' is inf" in encoded.refused[1].reason
    assert "field 'a' is -inf" in encoded.refused[2].reason


def test_raise_if_refused_names_the_rows() -> None:
    encoded = encode_table(pa.table({"a": [math.nan] * 7 + [1.0]}), measurement="m")
    assert encoded.lines == 1
    with pytest.raises(InvalidRecord, match=r"7 row\(s\).*row 0: field 'a' is nan.*and 2 more"):
        encoded.raise_if_refused()
    encode_table(pa.table({"a": [1.0]}), measurement="m").raise_if_refused()  # nothing refused


def test_first_reason_wins_and_indexes_count_from_the_table_start() -> None:
    table = pa.table({"t": ["a\nb"] * 3 + ["ok"] * 3, "v": [math.nan, 1.0, None, 1.0, None, 2.0]})
    parts = list(iter_encode_table(table, measurement="m", tag_columns=["t"], chunk_rows=4))
    assert [p.lines for p in parts] == [1, 1]
    assert [(r.index, r.reason.split(" ")[0]) for p in parts for r in p.refused] == [
        (0, "tag"),
        (1, "tag"),
        (2, "tag"),
        (4, "every"),
    ]
    assert b"\n".join(p.data for p in parts) == b"m,t=ok v=1.0\nm,t=ok v=2.0"


# -- measurement column --------------------------------------------------------------------


def test_measurement_column_escaped_and_bad_values_refused() -> None:
    names = ["cpu", "a b,c", None, "", "#x", "a\0b", "a\\", "d=e"]
    table = pa.table({"m": names, "v": list(range(len(names)))})
    encoded = encode_table(table, measurement_column="m")
    assert encoded.data.decode().split("\n") == ["cpu v=0i", "a\\ b\\,c v=1i", "d=e v=7i"]
    assert [r.index for r in encoded.refused] == [2, 3, 4, 5, 6]
    assert "null or empty" in encoded.refused[0].reason
    assert "comment" in encoded.refused[2].reason
    assert "NUL" in encoded.refused[3].reason
    assert "backslash" in encoded.refused[4].reason
    cat = pa.table({"m": pa.array(["x", "y"]).dictionary_encode(), "v": [1, 2]})
    assert encode_table(cat, measurement_column="m").data == b"x v=1i\ny v=2i"


# -- time ---------------------------------------------------------------------------------------

NS = 1_700_000_000_123_456_789


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("precision", ["s", "ms", "us", "ns", "auto"])
def test_timestamps_of_any_unit_to_any_precision(unit: str, precision: str) -> None:
    values = [NS // FACTORS[unit], -NS // FACTORS[unit] - 1, None]
    table = pa.table({"t": pa.array(values, pa.timestamp(unit)), "v": [1, 2, 3]})
    factor = FACTORS.get(precision, 1)
    expected = [v * FACTORS[unit] // factor if v is not None else None for v in values]
    got = lines(table, timestamp_column="t", precision=precision)
    assert got == [f"m v={i + 1}i" + ("" if e is None else f" {e}") for i, e in enumerate(expected)]


def test_tz_aware_timestamps_are_utc_and_naive_ones_taken_as_utc() -> None:
    aware = pd.DataFrame({"t": pd.to_datetime(["2026-01-01T01:00:00+01:00"]), "v": [1]})
    naive = pd.DataFrame({"t": pd.to_datetime(["2026-01-01T00:00:00"]), "v": [1]})
    expected = ["m v=1i 1767225600"]
    assert lines(aware, timestamp_column="t", precision="s") == expected
    assert lines(naive, timestamp_column="t", precision="s") == expected
    arrow = pa.table({"t": pa.array([1767225600], pa.timestamp("s", "Asia/Tokyo")), "v": [1]})
    assert lines(arrow, timestamp_column="t", precision="s") == expected


def test_dates_are_midnight_utc() -> None:
    days, ms = pa.array([20454], pa.date32()), pa.array([86_400_000], pa.date64())
    table = pa.table({"d": days, "e": ms, "v": [1]})
    assert lines(table.drop(["e"]), timestamp_column="d", precision="s") == ["m v=1i 1767225600"]
    assert lines(table.drop(["d"]), timestamp_column="e", precision="ms") == ["m v=1i 86400000"]


def test_dates_as_fields_are_refused_even_beside_a_time() -> None:
    table = pa.table({"d": pa.array([20454], pa.date32()), "v": [1]})
    with pytest.raises(InvalidRecord, match="field column 'd' is date32"):
        encode_table(table, measurement="m")


def test_int_time_is_taken_in_the_write_precision() -> None:
    table = pa.table({"t": pa.array([5, None, -3]), "v": [1, 2, 3]})
    assert lines(table, timestamp_column="t", precision="s") == ["m v=1i 5", "m v=2i", "m v=3i -3"]
    unsigned = pa.table({"t": pa.array([7, 2**63], pa.uint64()), "v": [1, 2]})
    encoded = encode_table(unsigned, measurement="m", timestamp_column="t")
    assert encoded.data == b"m v=1i 7"
    assert [(r.index, "does not fit int64" in r.reason) for r in encoded.refused] == [(1, True)]


def test_time_that_overflows_the_precision_refuses_its_row() -> None:
    table = pa.table({"t": pa.array([1, 10**10, -(10**10)], pa.timestamp("s")), "v": [1, 2, 3]})
    encoded = encode_table(table, measurement="m", timestamp_column="t")
    assert encoded.data == b"m v=1i 1000000000"
    assert [r.index for r in encoded.refused] == [1, 2]
    assert "time 10000000000 (s) is outside the int64 nanosecond range" in encoded.refused[0].reason
    # the server converts every time to ns: out of range whatever the precision
    assert encode_table(table, measurement="m", timestamp_column="t", precision="s").lines == 1
    ints = pa.table({"t": [1, 10**10], "v": [1, 2]})
    encoded = encode_table(ints, measurement="m", timestamp_column="t", precision="s")
    assert (encoded.data, [r.index for r in encoded.refused]) == (b"m v=1i 1", [1])


def test_all_null_time_column_writes_lines_without_time() -> None:
    assert lines(pa.table({"t": pa.nulls(2), "v": [1, 2]}), timestamp_column="t") == [
        "m v=1i",
        "m v=2i",
    ]


@pytest.mark.parametrize("arr", [pa.array([1.5]), pa.array(["2026-01-01"]), pa.array([True])])
def test_time_column_of_another_type_is_refused(arr) -> None:
    with pytest.raises(InvalidRecord, match=r"timestamp_column 't' is .*convert it"):
        encode_table(pa.table({"t": arr, "v": [1]}), measurement="m", timestamp_column="t")


# -- inputs -------------------------------------------------------------------------------------


def test_pandas_datetime_index_is_the_time_when_no_column_is_named() -> None:
    index = pd.DatetimeIndex(pd.to_datetime([1, 2], unit="s", utc=True), name="when")
    df = pd.DataFrame({"host": ["a", "b"], "v": [1.0, np.nan]}, index=index)
    expected = ["m,host=a v=1.0 1000000000"]
    encoded = encode_table(df, measurement="m", tag_columns=["host"])
    assert encoded.data.decode().split("\n") == expected
    assert [r.index for r in encoded.refused] == [1]  # pandas NaN is null: no field left
    assert encode_table(df, measurement="m", tag_columns="host", timestamp_column="when").data == (
        encoded.data
    )


def test_pandas_period_index_is_the_time_of_each_period_start() -> None:
    df = pd.DataFrame({"v": [1, 2]}, index=pd.period_range("2026-01-01", periods=2, freq="D"))
    assert lines(df, precision="s") == ["m v=1i 1767225600", "m v=2i 1767312000"]


def test_pandas_other_index_is_not_written_and_gives_no_time() -> None:
    df = pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="k"))
    assert lines(df) == ["m v=1i", "m v=2i"]
    index = pd.to_datetime([9], unit="s")
    with_column = pd.DataFrame({"t": pd.to_datetime([5], unit="s"), "v": [1]}, index=index)
    assert lines(with_column, timestamp_column="t", precision="s") == ["m v=1i 5"]


def test_pandas_nullable_dtypes_and_inf() -> None:
    df = pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "u": pd.array([1, 2, None], dtype="UInt8"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "f": [1.5, np.nan, np.inf],
            "s": pd.array(["x", None, "z"], dtype="str"),
        }
    )
    encoded = encode_table(df, measurement="m")
    assert encoded.data.decode().split("\n") == ['m i=1i,u=1u,b=true,f=1.5,s="x"', "m u=2u"]
    assert [r.index for r in encoded.refused] == [2]


def test_polars_dataframe() -> None:
    frame = pl.DataFrame(
        {
            "host": ["a", None],
            "v": [1.5, float("nan")],
            "n": pl.Series([1, None], dtype=pl.UInt32),
            "s": ["x y", "z"],
            "t": pl.Series([1_000, 2_000], dtype=pl.Datetime("us", "UTC")),
        }
    )
    encoded = encode_table(frame, measurement="m", tag_columns=["host"], timestamp_column="t")
    assert encoded.data == b'm,host=a v=1.5,n=1u,s="x y" 1000000'
    assert [r.index for r in encoded.refused] == [1]  # polars NaN is a value, not null


def test_record_batch_and_chunked_table_and_small_slices_give_the_same_lines() -> None:
    n = 50
    data = {
        "t": [f"h{i % 3}" for i in range(n)],
        "v": [float(i) for i in range(n)],
        "n": [i if i % 4 else None for i in range(n)],
    }
    whole = encode_table(pa.table(data), measurement="m", tag_columns=["t"])
    batch = pa.RecordBatch.from_pydict(data)
    assert encode_table(batch, measurement="m", tag_columns=["t"]) == whole
    chunked = pa.table(
        {
            "t": pa.chunked_array([data["t"][:7], data["t"][7:]]),
            "v": pa.chunked_array([data["v"][:30], data["v"][30:]]),
            "n": pa.chunked_array([data["n"][:1], data["n"][1:40], data["n"][40:]], pa.int64()),
        }
    )
    for chunk_rows in (1, 3, 16, 1000):
        assert (
            encode_table(chunked, measurement="m", tag_columns=["t"], chunk_rows=chunk_rows)
            == whole
        )
        parts = list(
            iter_encode_table(chunked, measurement="m", tag_columns="t", chunk_rows=chunk_rows)
        )
        assert b"\n".join(p.data for p in parts) == whole.data
        assert sum(p.lines for p in parts) == n


def test_a_slice_too_big_for_one_string_array_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    table = pa.table({"s": ["x" * 100] * 20, "v": [math.nan] + [1.0] * 19})
    whole = encode_table(table, measurement="m")
    monkeypatch.setattr(ec, "_MAX_SLICE_BYTES", 500)
    calls = []
    real = ec._encode_rows
    monkeypatch.setattr(ec, "_encode_rows", lambda *a: calls.append(a[3]) or real(*a))
    assert encode_table(table, measurement="m") == whole
    assert max(calls) < 20 and sum(calls) == 20


def test_empty_table() -> None:
    encoded = encode_table(pa.table({"v": pa.array([], pa.int64())}), measurement="m")
    assert (encoded.data, encoded.lines, encoded.refused) == (b"", 0, [])


def test_interchange_protocol_input() -> None:
    class Interchange:  # only __dataframe__, as some dataframe libraries offer
        def __init__(self, table):
            self.table = table

        def __dataframe__(self, *args, **kwargs):
            return self.table.__dataframe__(*args, **kwargs)

    got = encode_table(Interchange(pa.table({"v": [1, 2]})), measurement="m")
    assert got.data == b"m v=1i\nm v=2i"


def test_rows_are_not_a_table() -> None:
    with pytest.raises(InvalidRecord, match="cannot encode a list as a table"):
        encode_table([{"measurement": "m"}], measurement="m")


def test_without_pyarrow_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name, *args, **kwargs):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(ec, "pa", None)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(MissingDependency, match=r"influxkit\[polars\]"):
        encode_table(pl.DataFrame({"v": [1]}), measurement="m")


# -- argument errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "pass measurement='name'"),
        ({"measurement": "m", "measurement_column": "s"}, "not both"),
        (
            {"measurement": "m", "tag_columns": ["hots"]},
            "tag column 'hots' is not a column of the table; did you mean 'host'",
        ),
        ({"measurement": "m", "timestamp_column": "tim"}, "timestamp_column 'tim' is not a column"),
        ({"measurement": "m", "field_columns": ["nope"]}, "field column 'nope' is not a column"),
        ({"measurement_column": "x"}, "measurement_column 'x' is not a column"),
        (
            {"measurement": "m", "tag_columns": ["host"], "field_columns": ["host", "v"]},
            "column 'host' is given as tag column and as field column",
        ),
        (
            {"measurement": "m", "tag_columns": ["host", "host"]},
            "given as tag column and as tag column",
        ),
        (
            {"measurement": "m", "tag_columns": ["host", "v", "s"], "timestamp_column": "time"},
            "no field column",
        ),
        ({"measurement": "m", "field_columns": []}, "no field column"),
        ({"measurement": "m", "precision": "sec"}, "unknown precision 'sec'"),
        ({"measurement": "m", "chunk_rows": 0}, "chunk_rows must be a positive int"),
        ({"measurement": "m", "tag_columns": [1]}, "tag column names must be str"),
    ],
)
def test_argument_errors(kwargs, message: str) -> None:
    table = pa.table(
        {"host": ["a"], "v": [1], "s": ["x"], "time": pa.array([1], pa.timestamp("s"))}
    )
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        encode_table(table, **kwargs)


def test_measurement_column_must_hold_strings() -> None:
    with pytest.raises(InvalidRecord, match="measurement_column 'm' is int64"):
        encode_table(pa.table({"m": [1], "v": [1]}), measurement_column="m")


def test_duplicate_column_names_are_refused() -> None:
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["v", "v"])
    with pytest.raises(ConfigError, match="two columns named 'v'"):
        encode_table(table, measurement="m")


def test_errors_are_raised_before_the_first_part_is_asked_for() -> None:
    with pytest.raises(ConfigError):
        iter_encode_table(pa.table({"v": [1]}), measurement="m", tag_columns=["x"])


# -- the vectorised helpers against the row encoder's --------------------------------------

name_text = st.text(
    st.one_of(st.sampled_from(",= \\\"#'é😀xX0"), st.characters(exclude_categories=("Cs",))),
    max_size=10,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(name_text, min_size=1, max_size=30))
def test_vectorised_escaping_is_escape_key_and_escape_measurement(values: list[str]) -> None:
    def carried(v: str) -> bool:
        return bool(v) and "\n" not in v and "\t" not in v and not v.endswith("\\")

    values = [v for v in values if carried(v)] or ["x"]
    arr = pa.array(values)
    assert ec._escape(arr, ec._KEY_RULES).to_pylist() == [escape_key(v) for v in values]
    values = [v for v in values if "\0" not in v and not v.startswith("#")] or ["x"]
    arr = pa.array(values)
    got = ec._escape(arr, ec._MEASUREMENT_RULES).to_pylist()
    assert got == [escape_measurement(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)), min_size=1))
def test_float_text_is_the_row_encoders_and_the_cast_reads_back(values) -> None:
    arr = pa.array(values, pa.float64())
    row = [
        encode({"measurement": "m", "fields": {"f": v}}).decode() for v in values if v is not None
    ]
    expected = [None if v is None else row.pop(0)[4:] for v in values]
    assert ec._float_text(arr).to_pylist() == expected
    assert ec._float_text(arr.slice(1)).to_pylist() == expected[1:]
    cast = pc.cast(arr, pa.string()).to_pylist()
    assert [None if t is None else float(t) for t in cast] == values


# -- properties: whole tables against the row encoder and the parser ----------------------

column_name = st.text(
    st.one_of(st.sampled_from(',= \\"é😀ab'), st.characters(exclude_categories=("Cs",))),
    min_size=1,
    max_size=8,
).filter(lambda s: "\n" not in s and "\t" not in s and not s.endswith("\\"))
tag_chars = st.one_of(st.sampled_from(',= \\\n\t"é'), st.characters(exclude_categories=("Cs",)))
tag_value = st.one_of(st.none(), st.text(tag_chars, max_size=6))
string_value = st.text(
    st.one_of(st.sampled_from('"\\\n\t,= '), st.characters(exclude_categories=("Cs",))), max_size=8
)
FIELD_TYPES = {
    "int": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "uint": (pa.uint64(), st.integers(0, 2**64 - 1)),
    "float": (pa.float64(), st.floats()),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), string_value),
}


@st.composite
def tables(draw):
    n = draw(st.integers(1, 8))
    names = draw(st.lists(column_name, min_size=1, max_size=6, unique=True))
    n_tags = draw(st.integers(0, len(names) - 1))
    tags, fields = names[:n_tags], names[n_tags:]
    columns, kinds = {}, {}
    for name in tags:
        columns[name] = pa.array([draw(tag_value) for _ in range(n)], pa.string())
    for name in fields:
        kind = draw(st.sampled_from(sorted(FIELD_TYPES)))
        arrow_type, values = FIELD_TYPES[kind]
        column = [draw(st.one_of(st.none(), values)) for _ in range(n)]
        columns[name] = pa.array(column, arrow_type)
        kinds[name] = kind
    unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    times = [draw(st.one_of(st.none(), st.integers(-(2**63) + 1, 2**63 - 1))) for _ in range(n)]
    time_name = "\x01time"
    columns[time_name] = pa.array(times, pa.timestamp(unit))
    table = pa.table(columns)
    if draw(st.booleans()):  # a dictionary tag column
        for name in tags[:1]:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, pc.dictionary_encode(table.column(name)))
    precision = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    if draw(st.booleans()):  # one measurement, or each row's own (bad ones included)
        measurement = draw(column_name.filter(lambda s: "\0" not in s and s[0] != "#"))
    else:
        names = st.one_of(
            st.none(), st.sampled_from(["", "#c", "a\0b", "a\nb", "x\\"]), column_name
        )
        measurement = [draw(names) for _ in range(n)]
        table = table.append_column("\x02measurement", pa.array(measurement, pa.string()))
    chunk_rows = draw(st.integers(1, n + 1))
    return table, measurement, tags, time_name, unit, precision, kinds, chunk_rows


@SETTINGS
@given(tables())
def test_each_line_is_the_row_encoders_line_and_refused_rows_are_its_errors(case) -> None:
    table, measurement, tags, time_name, unit, precision, kinds, chunk_rows = case
    ints = table.column(time_name).cast(pa.int64()).to_pylist()
    if isinstance(measurement, list):
        where = {"measurement_column": "\x02measurement"}
        rows = table.drop([time_name, "\x02measurement"]).to_pylist()
    else:
        where = {"measurement": measurement}
        measurement = [measurement] * table.num_rows
        rows = table.drop([time_name]).to_pylist()
    encoded = encode_table(
        table,
        tag_columns=tags,
        timestamp_column=time_name,
        precision=precision,
        chunk_rows=chunk_rows,
        **where,
    )
    expected_lines, expected_refused = [], []
    for i, row in enumerate(rows):
        ts = ints[i]
        if ts is not None:
            ns = ts * FACTORS[unit]
            if not -(2**63) <= ns < 2**63:
                expected_refused.append(i)
                continue
            ts = ns // FACTORS[precision]
        fields = {
            k: (UInt(v) if kinds[k] == "uint" and v is not None else v)
            for k, v in row.items()
            if k not in tags
        }
        record = {
            "measurement": measurement[i],
            "tags": {k: row[k] for k in tags},
            "fields": fields,
            "time": ts,
        }
        try:
            expected_lines.append(encode(record).decode())
        except InvalidRecord:
            expected_refused.append(i)
    assert [r.index for r in encoded.refused] == expected_refused
    assert encoded.lines == len(expected_lines)
    assert encoded.data.decode() == "\n".join(expected_lines)

    # And the parser reads the input's values back, exactly.
    result = parse(encoded.data)
    assert not result.errors
    kept = [i for i in range(len(rows)) if i not in set(expected_refused)]
    assert len(result.lines) == len(kept)
    types = {
        "int": FieldType.INTEGER,
        "uint": FieldType.UINTEGER,
        "float": FieldType.FLOAT,
        "bool": FieldType.BOOLEAN,
        "string": FieldType.STRING,
    }
    for (_, line), i in zip(result.lines, kept, strict=True):
        row = rows[i]
        assert line.measurement == measurement[i]
        assert dict(line.tags) == {k: row[k] for k in tags if row[k]}
        want = {k: (types[kinds[k]], v) for k, v in row.items() if k not in tags and v is not None}
        got = {k: (t, v) for k, t, v in line.fields}
        assert got.keys() == want.keys()
        for k, (t, v) in want.items():
            assert got[k][0] is t
            assert got[k][1] == v and type(got[k][1]) is type(v)
            if t is FieldType.FLOAT:
                assert math.copysign(1, got[k][1]) == math.copysign(1, v)

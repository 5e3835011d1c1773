"""The engine's storage: appended chunks, merged when read, points in first-written order."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import influxkit


@pytest.fixture
def conn():
    with influxkit.connect(client="local", database="db") as c:
        yield c


def rows(conn, sql: str = "SELECT h, v, w, time FROM m") -> list[tuple]:
    table = conn.query_sql(sql, format="arrow")
    columns = [
        (c.cast(pa.int64()) if pa.types.is_timestamp(c.type) else c).to_pylist()
        for c in table.columns
    ]
    return list(zip(*columns, strict=True))


OPTIONS = {"measurement": "m", "tag_columns": ["h"], "timestamp_column": "t"}


def frame(h, v, w, t) -> pa.Table:
    return pa.table({"h": h, "v": pa.array(v, pa.float64()), "w": pa.array(w, pa.int64()), "t": t})


def test_a_read_between_writes_merges_what_came_after(conn) -> None:
    conn.write(frame(["a", "b"], [1, 2], [None, 0], [1, 1]), **OPTIONS)
    assert rows(conn) == [("a", 1.0, None, 1), ("b", 2.0, 0, 1)]
    # later times only, repeating among themselves: merged though the stored rows are not hashed
    conn.write(frame(["a", "a", "b"], [3, None, 4], [None, 7, None], [5, 5, 6]), **OPTIONS)
    assert rows(conn) == [
        ("a", 1.0, None, 1),
        ("b", 2.0, 0, 1),
        ("a", 3.0, 7, 5),
        ("b", 4.0, None, 6),
    ]
    # an earlier point again: merged into it, in its place; the rest as it was
    conn.write("m,h=b w=9i 1")
    conn.write(frame(["b"], [None], [10], [1]), **OPTIONS)
    assert rows(conn) == [
        ("a", 1.0, None, 1),
        ("b", 2.0, 10, 1),
        ("a", 3.0, 7, 5),
        ("b", 4.0, None, 6),
    ]


def test_points_keep_the_order_they_were_first_written_in(conn) -> None:
    conn.write("m,h=z v=1 9\nm,h=a v=2 3\nm,h=z v=3 9\nm,h=m v=4 1")
    assert rows(conn, "SELECT h, v, time FROM m") == [("z", 3.0, 9), ("a", 2.0, 3), ("m", 4.0, 1)]


def test_tag_columns_are_dictionaries_in_order_of_first_appearance(conn) -> None:
    conn.write(pa.table({"h": ["b", None, "a", "b"], "v": [1.0] * 4, "t": [1, 2, 3, 4]}), **{
        "measurement": "m", "tag_columns": ["h"], "timestamp_column": "t"
    })  # fmt: skip
    conn.write("m,h=c,g=x v=1 5\nm,g=y v=1 6")
    table = conn.query_sql("SELECT * FROM m", format="arrow")
    for name in ("g", "h"):
        column = table.column(name).combine_chunks()
        assert column.type == pa.dictionary(pa.int32(), pa.string())
        values = column.dictionary.to_pylist()
        assert values == pc.unique(column.cast(pa.string()).drop_null()).to_pylist()
    assert table.column("h").to_pylist() == ["b", None, "a", "b", "c", None]


def test_many_small_writes_of_both_kinds(conn) -> None:
    for i in range(300):
        if i % 2:
            conn.write(f"m,h=h{i % 5} v={i} {i % 50}")
        else:
            conn.write(frame([f"h{i % 5}"], [i], [i], [i % 50]), **OPTIONS)
    got = rows(conn, "SELECT h, v, w, time FROM m ORDER BY time, h")
    expected: dict[tuple[str, int], list] = {}
    for i in range(300):
        point = expected.setdefault((f"h{i % 5}", i % 50), [None, None])
        point[0] = float(i)
        if not i % 2:
            point[1] = i
    want = sorted(((h, v, w, t) for (h, t), (v, w) in expected.items()), key=lambda r: (r[3], r[0]))
    assert got == want


def test_a_column_added_later_is_null_in_the_earlier_points(conn) -> None:
    conn.write(frame(["a"], [1], [None], [1]), **OPTIONS)
    assert rows(conn, "SELECT * FROM m") == [("a", 1, 1.0)]  # h, time, v: w is not a column yet
    conn.write('m,h=a,g=x s="x" 2')
    assert rows(conn, "SELECT g, h, s, v, time FROM m") == [
        (None, "a", None, 1.0, 1),
        ("x", "a", "x", None, 2),
    ]

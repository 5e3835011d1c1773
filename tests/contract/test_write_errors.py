"""Rejected writes: partial writes and their details, schema conflicts, unknown databases."""

from __future__ import annotations

import pytest

import influxkit

T0 = 1_767_225_600_000_000_000


def test_partial_write_lands_the_valid_lines(backend):
    body = f"pw,host=a v=1 {T0}\npw,host=b v= {T0}\npw,host=c v=3 {T0}"
    with pytest.raises(influxkit.PartialWriteError) as info:
        backend.conn.write(body)
    assert info.value.status == 400
    assert [r["host"] for r in backend.read("pw")] == ["a", "c"]


@pytest.mark.needs("v3_writes")
def test_partial_write_details(backend):
    body = f"pd v=1 {T0}\npd,host=b v= {T0}\npd v=3 {T0 + 1}\npd v=4i {T0 + 2}"
    with pytest.raises(influxkit.PartialWriteError) as info:
        backend.conn.write(body)
    err = info.value
    assert [e.line_number for e in err.line_errors] == [2, 4]
    assert err.line_errors[0].original_line == "pd,host=b v= 1767225"  # cut to 20 bytes
    assert "invalid column type for column 'v'" in err.line_errors[1].message
    assert err.body["error"] == "partial write of line protocol occurred"
    assert [r["v"] for r in backend.read("pd")] == [1.0, 3.0]


@pytest.mark.needs("v3_writes")
def test_accept_partial_false_writes_nothing(backend):
    backend.conn.write(f"ap v=0 {T0}")
    with pytest.raises(influxkit.WriteError) as info:
        backend.conn.write(f"ap v=1 {T0 + 1}\nap v=oops {T0 + 2}", accept_partial=False)
    assert not isinstance(info.value, influxkit.PartialWriteError)
    assert info.value.line_errors[0].line_number == 2
    assert [r["v"] for r in backend.read("ap")] == [0.0]


def test_field_type_conflict_is_refused_and_keeps_the_first_type(backend):
    backend.conn.write(f"tc v=1.5 {T0}")
    with pytest.raises(influxkit.WriteError) as info:
        backend.conn.write(f"tc v=2i {T0 + 1}")
    assert info.value.status == 400
    assert backend.read("tc") == [{"v": 1.5, "time": backend.read("tc")[0]["time"]}]


@pytest.mark.needs("v3_writes")
def test_tag_field_name_clash(backend):
    backend.conn.write(f"cl,host=a v=1 {T0}")
    with pytest.raises(influxkit.PartialWriteError) as info:
        backend.conn.write(f"cl host=1 {T0}")
    assert "iox::column_type::tag" in info.value.line_errors[0].message


def test_nan_is_refused_before_sending(backend):
    with pytest.raises(influxkit.InvalidRecord, match=r"NaN|nan"):
        backend.conn.write(influxkit.Point("nan").field("v", float("nan")))
    assert backend.conn.stats()["writes"] == 0


@pytest.mark.needs("auto_create")
def test_write_creates_an_unknown_database(backend):
    other = f"{backend.database}_new"
    try:
        backend.conn.write(f"m v=1 {T0}", database=other)
        assert other in backend.conn.list_databases()
    finally:
        if other in backend.conn.list_databases():
            backend.conn.delete_database(other)


@pytest.mark.needs("admin_v1")
def test_write_to_an_unknown_database_is_not_found(backend):
    with pytest.raises(influxkit.DatabaseNotFound) as info:
        backend.conn.write(f"m v=1 {T0}", database=f"{backend.database}_none")
    assert info.value.status == 404

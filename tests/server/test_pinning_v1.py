"""schema_from_server against a real InfluxDB 1.x: SHOW FIELD KEYS / SHOW TAG KEYS."""

from __future__ import annotations

import pytest

import influxkit


def test_pins_the_field_types_influxdb_1x_has(v1_conn: influxkit.Connection) -> None:
    v1_conn.write('cpu,host=a,dc=x usage=0.5,n=1i,ok=true,s="x" 1')
    schema = influxkit.schema_from_server(v1_conn, "cpu")
    declared = schema.get("cpu")
    assert dict(declared.fields) == {"n": "int", "ok": "bool", "s": "string", "usage": "float"}
    assert declared.tags == {"host", "dc"}
    # An int for the float field now lands as a float, where 1.x would refuse "1i".
    v1_conn.write({"measurement": "cpu", "tags": {"host": "b"}, "fields": {"usage": 1},
                   "time": 2}, schema=schema)  # fmt: skip
    rows = v1_conn.query_influxql("SELECT usage FROM cpu WHERE host = 'b'")
    assert [r["usage"] for r in rows] == [1.0]
    with pytest.raises(influxkit.InvalidRecord, match="declared tag keys"):
        v1_conn.write({"measurement": "cpu", "tags": {"hots": "b"}, "fields": {"usage": 1}},
                      schema=schema)  # fmt: skip

"""Unchanged clients talk to ``influxkit serve``: influxdb3-python, influxdb-client, influxkit.

The official clients only write here (influxdb3-python queries over Arrow Flight, which
this server does not speak); the data is read back with SQL over HTTP.
"""

from __future__ import annotations

import httpx

import influxkit
from influxkit.server import ServerThread


def sql_rows(server: ServerThread, token: str, db: str, q: str) -> list[dict]:
    r = httpx.get(
        f"{server.url}/api/v3/query_sql",
        params={"db": db, "q": q},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_influxdb3_python_writes(auth_server: ServerThread, token: str) -> None:
    from influxdb_client_3 import InfluxDBClient3

    with InfluxDBClient3(host=auth_server.url, token=token, database="v3db") as client:
        client.write(record="cpu,host=a usage=1.5 1700000000000000000")
        client.write(record=["cpu,host=b usage=2.5 1700000000000000001"])
    assert sql_rows(auth_server, token, "v3db", "SELECT * FROM cpu ORDER BY time") == [
        {"host": "a", "time": "2023-11-14T22:13:20", "usage": 1.5},
        {"host": "b", "time": "2023-11-14T22:13:20.000000001", "usage": 2.5},
    ]


def test_influxdb_client_v2_writes(auth_server: ServerThread, token: str) -> None:
    from influxdb_client import InfluxDBClient, Point
    from influxdb_client.client.write_api import SYNCHRONOUS

    with InfluxDBClient(url=auth_server.url, token=token, org="ignored") as client:
        write_api = client.write_api(write_options=SYNCHRONOUS)
        write_api.write(bucket="v2db", record="mem,host=b used=3i 1700000000000000000")
        write_api.write(bucket="v2db", record=Point("mem").tag("host", "c").field("used", 4))
        write_api.close()
    rows = sql_rows(auth_server, token, "v2db", "SELECT host, used FROM mem ORDER BY host")
    assert rows == [{"host": "b", "used": 3}, {"host": "c", "used": 4}]


def test_influxdb_client_v2_sees_the_v2_error(auth_server: ServerThread, token: str) -> None:
    from influxdb_client import InfluxDBClient
    from influxdb_client.client.exceptions import InfluxDBError
    from influxdb_client.client.write_api import SYNCHRONOUS

    with InfluxDBClient(url=auth_server.url, token=token, org="o") as client:
        write_api = client.write_api(write_options=SYNCHRONOUS)
        try:
            write_api.write(bucket="v2db", record="mem used=")
        except InfluxDBError as exc:
            assert exc.response.status == 400
            assert exc.message.startswith("write buffer error: line protocol parse failed")
        else:
            raise AssertionError("the bad line was accepted")
        finally:
            write_api.close()


def test_influxkit_http_client(auth_server: ServerThread, token: str) -> None:
    with influxkit.connect(auth_server.url, token=token, database="ik") as conn:
        conn.write("cpu,host=a usage=1.0 1700000000000000000")
        rows = conn.query_sql("SELECT host, usage FROM cpu")
        assert rows == [{"host": "a", "usage": 1.0}]
        table = conn.query_sql("SELECT * FROM cpu", format="arrow")
        assert table.num_rows == 1
        assert "ik" in conn.list_databases()
        try:
            conn.write("cpu,host=a usage=2.0\ncpu usage=\n")
        except influxkit.PartialWriteError as exc:
            assert [e.line_number for e in exc.line_errors] == [2]
        else:
            raise AssertionError("the bad line was accepted")

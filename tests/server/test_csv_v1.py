"""``query_influxql(format="csv")`` on InfluxDB 1.x: the text 1.6.7 answers for
``Accept: application/csv``, and the local ``v1`` engine writing the same text.

1.x's CSV is its own (``name,tags,time,<columns>``, times as epoch integers, Go's float
and quoting rules), not InfluxDB 3's; see :mod:`influxkit.clients.local.influxql.csv_v1`.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator

import pytest

import influxkit
import influxkit.aio
from influxkit.testing.influxd import InfluxdServer

pytestmark = pytest.mark.server

_names = itertools.count()
S = 1_000_000_000
LINES = "\n".join(
    [
        f"n,h=a x=1,y=2 {100 * S}",
        f"n,h=b x=3 {200 * S}",
        f"n,h=a,z=q y=5 {300 * S}",
        f"n x=1e21 {400 * S}",
        f"n x=0.1,y=-0.25 {500 * S}",
        f'n2 w=1.5,s="a,b\\"c",i=3i,b=true {150 * S}',
        f'esc,t\\ x=a\\ b\\,c\\=d,u="q,w=\\ lead v=1,s=" x",s2="\\\\.",s3="a\nb" {10 * S}',
    ]
)
QUERIES = [
    "SELECT * FROM n",
    "SELECT * FROM n, n2",
    "SELECT * FROM n GROUP BY *",
    "SELECT * FROM esc GROUP BY *",
    "SELECT * FROM esc",
    "SELECT * FROM n; SELECT * FROM nothere; SELECT v FROM esc",
    "SELECT mean(x) FROM n WHERE time >= 0 AND time < 600s GROUP BY time(100s)",
    "SELECT count(x) FROM n GROUP BY h",
    "SHOW MEASUREMENTS",
    "SHOW TAG KEYS",
    "SHOW FIELD KEYS",
    "SHOW RETENTION POLICIES",
    "SELECT * FROM nothere",
]


@pytest.fixture(scope="module")
def both(influxdb1: InfluxdServer) -> Iterator[dict[str, influxkit.Connection]]:
    """The same data in a fresh database of 1.6.7 and of the local v1 engine."""
    db = f"csv{next(_names)}_{uuid.uuid4().hex[:6]}"
    real = influxkit.connect(influxdb1.url, api_version="v1", database=db)
    local = influxkit.connect(client="local", profile="v1", database=db)
    try:
        real.create_database(db)
        for conn in (real, local):
            conn.write(LINES)
        yield {"influxd": real, "local": local}
    finally:
        real.delete_database(db)
        real.close()
        local.close()


@pytest.mark.parametrize("query", QUERIES)
def test_local_v1_writes_the_csv_1_6_7_answers(both, query):
    texts = {name: conn.query_influxql(query, format="csv") for name, conn in both.items()}
    assert type(texts["influxd"]) is str
    assert texts["local"] == texts["influxd"]


def test_the_text_is_1_x_csv(both):
    text = both["influxd"].query_influxql("SELECT * FROM n", format="csv")
    assert text == (
        "name,tags,time,h,x,y,z\n"
        "n,,100000000000,a,1,2,\n"
        "n,,200000000000,b,3,,\n"
        "n,,300000000000,a,,5,q\n"
        "n,,400000000000,,1000000000000000000000,,\n"
        "n,,500000000000,,0.1,-0.25,\n"
    )
    assert both["influxd"].query_influxql("SELECT * FROM nothere", format="csv") == ""


def test_1_x_leaves_statement_errors_out_of_csv(both):
    for conn in both.values():
        assert conn.query_influxql("SELECT * FROM m", database="no_such_db", format="csv") == ""
        with pytest.raises(influxkit.DatabaseNotFound, match="database not found"):
            conn.query_influxql("SELECT * FROM m", database="no_such_db")


def test_a_query_that_does_not_parse_is_refused_alike(both):
    seen = []
    for conn in both.values():
        with pytest.raises(influxkit.QueryError) as info:
            conn.query_influxql("SELECT * FROM", format="csv")
        seen.append((info.value.status, info.value.body))
    assert seen[0] == seen[1]
    assert seen[0][0] == 400 and seen[0][1].startswith('error\n"error parsing query: ')


def test_csv_with_a_retention_policy(both):
    for conn in both.values():
        text = conn.query_influxql("SELECT * FROM n2", format="csv", retention_policy="autogen")
        assert text.startswith("name,tags,time,b,i,s,w\nn2,,150000000000,true,3,")


def test_csv_through_the_asyncio_api(influxdb1, both):
    db = both["influxd"].config.database

    async def main() -> str:
        async with influxkit.aio.connect(influxdb1.url, api_version="v1", database=db) as conn:
            return await conn.query_influxql("SELECT * FROM n2", format="csv")

    assert asyncio.run(main()) == both["local"].query_influxql("SELECT * FROM n2", format="csv")

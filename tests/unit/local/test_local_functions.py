"""InfluxDB's own SQL functions on the local engine: selectors and gap filling.

Expected outputs for gap filling are those of InfluxDB's own query tests
(``influxdb_iox/tests/query_tests/cases/in/gapfill.sql.expected``), with ``count``
gaps as 0: current InfluxDB 3 fills them with the aggregate's default value.
"""

from __future__ import annotations

import pytest

from influxkit.errors import QueryError

S = 1_000_000_000
MIN = 60 * S
T0 = 957_528_000 * S  # 2000-05-05T12:00:00Z


def at(hh_mm: str) -> int:
    hours, minutes = hh_mm.split(":")
    return T0 + (int(hours) - 12) * 60 * MIN + int(minutes) * MIN


class TestSelectors:
    @pytest.fixture
    def m(self, engine):
        engine.write(
            'm,g=a f=3.5,i=7i,u=1u,s="m",b=false 30\n'
            'm,g=a f=1.5,i=2i,u=9u,s="z",b=true 10\n'
            "m,g=a f=9.0,i=2i 20\n"
            'm,g=b f=4.0,s="a" 40\n'
            "m,g=b i=5i 50\n"
        )
        return engine

    def test_first_and_last(self, m):
        rows = m.values(
            "SELECT g, selector_first(f, time)['value'], selector_first(f, time)['time'], "
            "selector_last(f, time)['value'], selector_last(f, time)['time'] "
            "FROM m GROUP BY g ORDER BY g"
        )
        assert rows == [("a", 1.5, 10, 3.5, 30), ("b", 4.0, 40, 4.0, 40)]

    def test_min_and_max_pick_the_earliest_time_of_a_tie(self, m):
        rows = m.values(
            "SELECT selector_min(i, time)['value'], selector_min(i, time)['time'], "
            "selector_max(i, time)['value'], selector_max(i, time)['time'] FROM m WHERE g = 'a'"
        )
        assert rows == [(2, 10, 7, 30)]

    @pytest.mark.parametrize(
        ("column", "kind", "expected"),
        [
            ("f", "selector_max", (9.0, 20)),
            ("i", "selector_last", (5, 50)),
            ("u", "selector_max", (9, 10)),
            ("s", "selector_min", ("a", 40)),
            ("s", "selector_first", ("z", 10)),
            ("b", "selector_max", (True, 10)),
            ("b", "selector_last", (False, 30)),
            ("g", "selector_last", ("b", 50)),
        ],
    )
    def test_every_value_type(self, m, column, kind, expected):
        rows = m.values(
            f"SELECT {kind}({column}, time)['value'], {kind}({column}, time)['time'] FROM m"
        )
        assert rows == [expected]

    def test_result_is_a_struct_named_as_on_the_server(self, m):
        import pyarrow as pa

        table = m.arrow("SELECT selector_max(f, time), selector_max(i, time) FROM m")
        assert table.schema.names == ["selector_max(m.f,m.time)", "selector_max(m.i,m.time)"]
        assert table.schema.field(0).type == pa.struct(
            [pa.field("value", pa.float64()), pa.field("time", pa.timestamp("ns"))]
        )
        assert table.schema.field(1).type.field("value").type == pa.int64()
        assert table.column(1).to_pylist()[0]["value"] == 7

    def test_nulls_are_skipped_and_no_value_is_null(self, m):
        rows = m.values(
            "SELECT g, selector_first(u, time)['value'], selector_max(u, time) IS NULL "
            "FROM m GROUP BY g ORDER BY g"
        )
        assert rows == [("a", 9, False), ("b", None, True)]

    def test_too_few_arguments(self, m):
        with pytest.raises(QueryError) as info:
            m.sql("SELECT selector_first(f) FROM m")
        assert info.value.status == 400
        assert "selector_first requires at least 2 arguments, got 1" in info.value.message

    def test_second_argument_must_be_a_timestamp(self, m):
        with pytest.raises(QueryError) as info:
            m.sql("SELECT selector_first(f, i) FROM m")
        assert info.value.status == 400
        assert "__influxkit" not in info.value.message


class TestGapfill:
    @pytest.fixture
    def cpu(self, engine):
        engine.write(
            f"cpu,region=a idle=70,user=23.2 {at('12:20')}\n"
            f"cpu,region=a user=21.0 {at('12:40')}\n"
            f"cpu,region=b user=25.2 {at('12:31')}\n"
            f"cpu,region=b idle=60,user=28.9 {at('12:39')}\n"
        )
        return engine

    BETWEEN = (
        "WHERE time BETWEEN timestamp '2000-05-05T12:00:00Z' AND timestamp '2000-05-05T12:59:00Z'"
    )

    def test_without_other_group_keys(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time) AS minute, count(cpu.user) "
            f"FROM cpu {self.BETWEEN} GROUP BY minute"
        )
        assert rows == [
            (at("12:00"), 0),
            (at("12:10"), 0),
            (at("12:20"), 1),
            (at("12:30"), 2),
            (at("12:40"), 1),
            (at("12:50"), 0),
        ]

    def test_with_a_group_key_nulls_fill_gaps(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time) AS minute, region, "
            f"avg(cpu.user) FROM cpu {self.BETWEEN} GROUP BY minute, region"
        )
        assert rows == [
            (at("12:00"), "a", None),
            (at("12:10"), "a", None),
            (at("12:20"), "a", 23.2),
            (at("12:30"), "a", None),
            (at("12:40"), "a", 21.0),
            (at("12:50"), "a", None),
            (at("12:00"), "b", None),
            (at("12:10"), "b", None),
            (at("12:20"), "b", None),
            (at("12:30"), "b", pytest.approx(27.05)),
            (at("12:40"), "b", None),
            (at("12:50"), "b", None),
        ]

    def test_origin(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time, timestamp '1970-01-01T00:00:07Z') "
            f"AS minute, region, count(cpu.user) FROM cpu {self.BETWEEN} "
            "GROUP BY minute, region"
        )
        assert [r[0] for r in rows[:7]] == [at("11:50") + 7 * S + k * 10 * MIN for k in range(7)]
        assert [r[2] for r in rows] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0]

    def test_locf(self, cpu):
        rows = cpu.values(
            "SELECT region, date_bin_gapfill(interval '5 minute', time) AS minute, "
            "locf(min(cpu.user)) FROM cpu WHERE time BETWEEN timestamp '2000-05-05T12:15:00Z' "
            "AND timestamp '2000-05-05T12:59:00Z' GROUP BY region, minute"
        )
        assert [r[2] for r in rows] == [
            None, 23.2, 23.2, 23.2, 23.2, 21.0, 21.0, 21.0, 21.0,
            None, None, None, 25.2, 28.9, 28.9, 28.9, 28.9, 28.9,
        ]  # fmt: skip
        assert rows[0][:2] == ("a", at("12:15"))

    def test_locf_treats_a_null_in_a_present_bin_as_missing(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '1 minute', time) AS minute, locf(min(cpu.idle)) "
            "FROM cpu WHERE time BETWEEN timestamp '2000-05-05T12:19:00Z' "
            "AND timestamp '2000-05-05T12:40:00Z' GROUP BY minute"
        )
        assert len(rows) == 22
        assert rows[0] == (at("12:19"), None)
        assert rows[12] == (at("12:31"), 70.0)  # region b's row there has a NULL idle
        assert rows[-2:] == [(at("12:39"), 60.0), (at("12:40"), 60.0)]

    def test_interpolate(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '4 minutes', time) AS four_minute, "
            'interpolate(min(cpu.idle)), interpolate(min(cpu."user")), count(*) FROM cpu '
            "WHERE time BETWEEN timestamp '2000-05-05T12:19:00Z' "
            "AND timestamp '2000-05-05T12:40:00Z' GROUP BY four_minute"
        )
        assert rows == [
            (at("12:16"), None, None, 0),
            (at("12:20"), 70.0, 23.2, 1),
            (at("12:24"), 67.5, pytest.approx(24.2), 0),
            (at("12:28"), 65.0, 25.2, 1),
            (at("12:32"), 62.5, pytest.approx(27.05), 0),
            (at("12:36"), 60.0, 28.9, 1),
            (at("12:40"), None, 21.0, 1),
        ]

    def test_interpolated_integers_truncate(self, engine):
        engine.write(f"m v=0i {T0}\nm v=10i {T0 + 3 * MIN}")
        rows = engine.values(
            "SELECT date_bin_gapfill(interval '1 minute', time) AS t, interpolate(max(v)) FROM m "
            "WHERE time >= timestamp '2000-05-05T12:00:00Z' "
            "AND time < timestamp '2000-05-05T12:04:00Z' GROUP BY t"
        )
        assert [r[1] for r in rows] == [0, 3, 6, 10]

    def test_column_names_are_the_servers(self, cpu):
        table = cpu.arrow(
            "SELECT region, date_bin_gapfill(interval '10 minute', time) AS minute, "
            f"locf(avg(cpu.user)), interpolate(max(cpu.user)) AS i FROM cpu {self.BETWEEN} "
            "GROUP BY region, minute"
        )
        assert table.schema.names == ["region", "minute", "locf(avg(cpu.user))", "i"]
        unaliased = cpu.arrow(
            "SELECT date_bin_gapfill(interval '10 minute', time), count(*) "
            f"FROM cpu {self.BETWEEN} GROUP BY 1"
        )
        assert unaliased.schema.names[0].startswith("date_bin_gapfill(")

    def test_order_by_and_limit_apply_after_filling(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time) AS minute, count(*) AS n "
            f"FROM cpu {self.BETWEEN} GROUP BY minute ORDER BY minute DESC LIMIT 2"
        )
        assert rows == [(at("12:50"), 0), (at("12:40"), 1)]

    def test_group_key_not_selected_still_splits_series(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '30 minute', time) AS t, count(user) "
            f"FROM cpu {self.BETWEEN} GROUP BY t, region"
        )
        assert rows == [(at("12:00"), 1), (at("12:30"), 1), (at("12:00"), 0), (at("12:30"), 2)]

    def test_exclusive_bounds_and_parameters(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time) AS t, count(*) FROM cpu "
            "WHERE region = $r AND time > $start AND time < $stop GROUP BY t",
            {"r": "b", "start": "2000-05-05T12:20:00Z", "stop": "2000-05-05T12:40:00Z"},
        )
        # > 12:20 starts in the 12:20 bin; < 12:40 ends in the 12:30 bin.
        assert rows == [(at("12:20"), 0), (at("12:30"), 2)]

    def test_no_rows_no_series(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '10 minute', time) AS t, count(*) FROM cpu "
            f"{self.BETWEEN} AND region = 'nowhere' GROUP BY t"
        )
        assert rows == []

    def test_bounds_from_now(self, engine):
        engine.write("m v=1")
        rows = engine.values(
            "SELECT date_bin_gapfill(interval '1 minute', time) AS t, count(v) FROM m "
            "WHERE time >= now() - interval '4 minutes' AND time <= now() GROUP BY t"
        )
        assert len(rows) in (5, 6)
        assert sum(r[1] for r in rows) == 1

    @pytest.mark.parametrize(
        ("where", "message"),
        [
            ("", "gap-filling query is missing both upper and lower time bounds"),
            (
                "WHERE time >= timestamp '2000-05-05T12:00:00Z'",
                "gap-filling query is missing upper time bound",
            ),
            (
                "WHERE time < timestamp '2000-05-05T13:00:00Z'",
                "gap-filling query is missing lower time bound",
            ),
            (
                "WHERE region = 'a' OR time > timestamp '2000-05-05T12:00:00Z'",
                "gap-filling query is missing both upper and lower time bounds",
            ),
        ],
    )
    def test_time_bounds_are_required(self, cpu, where, message):
        with pytest.raises(QueryError) as info:
            cpu.sql(
                "SELECT region, date_bin_gapfill('10 minute', time) AS minute, "
                f"locf(avg(cpu.user)) FROM cpu {where} GROUP BY region, minute"
            )
        assert info.value.status == 400
        assert info.value.message == f"Error during planning: {message}"

    def test_fill_functions_need_a_gap_filling_query(self, cpu):
        with pytest.raises(QueryError) as info:
            cpu.sql("SELECT locf(avg(user)) FROM cpu")
        assert info.value.message == (
            "Error during planning: locf may only be used in the SELECT list of a gap-filling query"
        )

    def test_date_bin_gapfill_must_be_grouped_by(self, cpu):
        with pytest.raises(QueryError) as info:
            cpu.sql(f"SELECT date_bin_gapfill(interval '1 minute', time) FROM cpu {self.BETWEEN}")
        assert info.value.message == (
            "Error during planning: date_bin_gapfill may only be used as a GROUP BY expression"
        )

    def test_interpolate_needs_numbers(self, engine):
        engine.write(f'm s="x" {T0}')
        with pytest.raises(QueryError) as info:
            engine.sql(
                "SELECT date_bin_gapfill(interval '1 minute', time) AS t, interpolate(max(s)) "
                f"FROM m {TestGapfill.BETWEEN} GROUP BY t"
            )
        assert info.value.status == 500
        assert "unsupported data type Utf8 for interpolation gap filling" in info.value.message

    def test_with_a_selector(self, cpu):
        rows = cpu.values(
            "SELECT date_bin_gapfill(interval '20 minute', time) AS t, "
            f"locf(selector_max(user, time))['value'] FROM cpu {self.BETWEEN} GROUP BY t"
        )
        assert rows == [(at("12:00"), None), (at("12:20"), 28.9), (at("12:40"), 21.0)]

    def test_streaming_a_gap_filling_query(self, cpu):
        rows = list(
            cpu.client.query_sql_stream(
                "SELECT date_bin_gapfill(interval '10 minute', time) AS minute, count(*) AS n "
                f"FROM cpu {self.BETWEEN} GROUP BY minute",
                database="db",
                params=None,
                format="rows",
            )
        )
        assert [r["n"] for r in rows] == [0, 0, 1, 2, 1, 0]

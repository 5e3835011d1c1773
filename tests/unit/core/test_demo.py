"""The README's main job runs and computes what it says."""

from __future__ import annotations

import influxkit
from influxkit import cli, demo


def test_demo_writes_and_queries_both_connections():
    lines: list[str] = []
    results = demo.run(points=1200, out=lines.append)
    assert lines[0].startswith("wrote 1200 points")
    prices, hosts = results.values()
    assert 1 <= len(prices) <= 6
    assert all(set(r) == {"bucket", "avg_price", "volume", "trades"} for r in prices)
    assert sum(r["trades"] for r in prices) <= 200  # NVDA is a third of 600 trades
    assert all(r["mean_usage"] > 40.0 for r in hosts)
    means = [r["mean_usage"] for r in hosts]
    assert means == sorted(means, reverse=True)
    assert "trading" not in influxkit.registry.names()  # the demo cleans up after itself


def test_cli_demo_exit_code(capsys):
    assert cli.main(["demo", "--points", "300"]) == 0
    assert "wrote 300 points" in capsys.readouterr().out
    assert cli.main(["no-such-command"]) == 2

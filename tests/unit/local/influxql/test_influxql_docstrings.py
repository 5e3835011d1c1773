"""The examples in the InfluxQL modules' docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "influxkit.clients.local.influxql.parser",
    "influxkit.clients.local.influxql.timeutil",
    "influxkit.clients.local.influxql.shape_v1",
    "influxkit.clients.local.influxql.v1_http",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

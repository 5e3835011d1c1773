"""The examples in the Flux modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "influxkit.clients.local.flux",
    "influxkit.clients.local.flux.annotated_csv",
    "influxkit.clients.local.flux.times",
    "influxkit.server.flux_endpoint",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0

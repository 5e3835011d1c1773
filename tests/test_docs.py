"""Every example in docs/ and the README runs (docs pages as doctests, README blocks as code)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import influxkit
from influxkit import registry

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
# Pages of links or of figures, with nothing to run.
NO_EXAMPLES = {"index.md", "performance.md"}
MODULES_WITH_EXAMPLES = [
    "influxkit.config",
    "influxkit.config_sources",
    "influxkit.connection",
    "influxkit.facade",
    "influxkit.lineprotocol.model",
    "influxkit.point",
    "influxkit.batching.retry",
    "influxkit.telemetry",
    "influxkit.groups",
    "influxkit.lineprotocol.schema",
    "influxkit.pinning",
]


@pytest.fixture(autouse=True)
def _clean_registry():
    yield
    for name in registry.names():
        influxkit.remove_connection(name)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_docs_page_examples(page):
    result = doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.failed == 0, f"{result.failed} example(s) failed in {page.name}"


@pytest.mark.parametrize("module", MODULES_WITH_EXAMPLES)
def test_docstring_examples(module):
    import importlib

    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_readme_quick_start_runs(capsys):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    quick_start = blocks[0]
    exec(compile(quick_start, "README.md", "exec"), {})
    assert "[{'host': 'a', 'usage': 0.5}]" in capsys.readouterr().out


def test_every_page_has_examples_or_is_an_index():
    for page in PAGES:
        text = page.read_text()
        assert ">>>" in text or page.name in NO_EXAMPLES, f"{page.name} shows no example"

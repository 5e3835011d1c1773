"""Every ```python block of README.md and docs/*.md runs in this suite, by one of three rules.

A block's shape decides its rule (``classify`` in ``tests/docs_blocks.py``):

* **doctest**: its first line starts with ``>>>``.  The page runs through
  ``doctest.testfile`` (``ELLIPSIS``): every example of the page, in order, in one
  namespace.
* **pytest code**: its first line names a file (``# myapp/trades.py``,
  ``# conftest.py``), or it defines a top-level ``test_`` function (it is then written
  as ``test_<page>_<line>.py``).  The page's pytest blocks are the files of a pytest
  project that ``pytester`` writes and runs in-process; it must pass, with at least one
  test per ``test_`` function and nothing failed, errored or skipped.  A
  ``# conftest.py`` block starts a new project: a conftest changes every test beside it.
* **plain**: any other block.  The page's plain blocks run in order in one namespace,
  as a reader pasting them into one interpreter would.  A line ``print(...)  # text``
  must print ``text``.

Plain blocks written for the reader's own InfluxDB 3 (those that use
``http://localhost:8181`` or ``INFLUX_TOKEN``) run against an ``influxkit serve`` that
the test starts on a free loopback port (``running_server(token=..., flight_port=0)``),
through these placeholders (``SERVER_URL``, ``TOKEN_VARIABLE``, ``APP_DIR``):

* ``http://localhost:8181`` (InfluxDB 3's own address) becomes that server's URL with
  ``?flight_port=N`` (a URL may carry connection options): InfluxDB 3 answers Arrow
  Flight on its HTTP port, ``influxkit serve`` on a port of its own;
* the ``INFLUX_TOKEN`` variable the blocks read is set to that server's token;
* ``/var/lib/myapp`` (where an application keeps its files) becomes a temporary
  directory.

Every HTTP connection the blocks leave open or registered must point at that server and
pass ``health()`` there (so a placeholder missed, or a token not sent, fails); the test
then closes every connection they left.

A python block that no rule runs fails ``test_every_python_block_is_run_by_a_rule``
(``uncovered``): a fence spelled ``py``/``pycon``/``python3`` (spell it ``python``), a
fence this reader cannot see (in a blockquote), plain code mixed with ``>>>``, text that
is not Python (a shell session belongs in ```console / ```bash), a pytest fixture in a
block that names no file, pytest files without a test.  Nothing is skipped.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import re
from pathlib import Path

import pytest

import influxkit
from docs_blocks import count_tests, pytest_file, pytest_projects, python_blocks, uncovered
from influxkit import registry

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
ALL_PAGES = [ROOT / "README.md", *PAGES]
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

SERVER_URL = "http://localhost:8181"
TOKEN_VARIABLE = "INFLUX_TOKEN"
APP_DIR = "/var/lib/myapp"
DOCS_TOKEN = "apiv3_docs-examples"

_PRINTED = re.compile(r"^\s*print\(.*\)\s*#\s*(?P<text>.+?)\s*$", re.M)


def _pages_with(kind: str) -> list[Path]:
    return [p for p in ALL_PAGES if any(k == kind for _, k in python_blocks(p))]


PLAIN_PAGES = _pages_with("plain")
PYTEST_PROJECTS = [(p, i) for p in ALL_PAGES for i in range(len(pytest_projects(p)))]


@pytest.fixture(autouse=True)
def _clean_registry():
    yield
    for name in registry.names():
        influxkit.remove_connection(name)


# -- the guard ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES, ids=[p.name for p in ALL_PAGES])
def test_every_python_block_is_run_by_a_rule(page):
    assert uncovered(page) == []


@pytest.mark.parametrize(
    ("markdown", "reason"),
    [
        ("```py\nx = 1\n```\n", "```py is not run: spell the fence ```python"),
        ("- a list\n\n  ```pycon\n  >>> 1\n  1\n  ```\n", "```pycon is not run"),
        ("```python\nx = 1\n>>> x\n1\n```\n", "mixes plain code and >>> examples"),
        ("```python\n>>>x = 1\n```\n", "doctest cannot read it"),
        ("```python\n$ influxkit serve --flight-port 8182\n```\n", "not Python (invalid syntax"),
        ("```python\n\n```\n", "an empty ```python block"),
        ("> ```python\n> x = 1\n> ```\n", "1 python fences, of which only 0 are blocks"),
        ("```python\n# myapp/app.py\nX = 1\n```\n", "pytest files with no test to run them"),
        (
            "```python\nimport pytest\n\n@pytest.fixture\ndef db():\n    return 1\n```\n",
            "a fixture without a test: name its file",
        ),
        (
            "```python\n# conftest.py\nX = 1\n```\n\n```python\nY = 2\n```\n",
            "pytest files with no test to run them",
        ),
        (
            "```python\n# test_a.py\ndef test_a(): pass\n```\n\n"
            "```python\n# test_a.py\ndef test_b(): pass\n```\n",
            "names a file twice",
        ),
    ],
    ids=[
        "py",
        "pycon-in-a-list",
        "mixed",
        "no-blank-after-prompt",
        "shell-session",
        "empty",
        "blockquote",
        "module-without-tests",
        "unnamed-fixture",
        "conftest-without-tests",
        "file-twice",
    ],
)
def test_the_guard_refuses_blocks_no_rule_runs(tmp_path, markdown, reason):
    page = tmp_path / "page.md"
    page.write_text(f"# A page\n\n{markdown}")
    problems = uncovered(page)
    assert len(problems) == 1, problems
    assert reason in problems[0]


def test_the_rules_tell_blocks_apart(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n>>> 1 + 1\n2\n\n```\n\n"
        "```python\nx = 1\n```\n\n"
        "```sh\n$ influxkit serve\n```\n\n"
        "- in a list:\n\n  ```python\n  def test_it():\n      assert True\n  ```\n\n"
        "```python\n# myapp/a.py\nA = 1\n```\n\n"
        "```python\n# conftest.py\nimport pytest\n```\n\n"
        "```python\n# test_b.py\ndef test_b():\n    pass\n```\n"
    )
    assert uncovered(page) == []
    assert [(b.line, kind) for b, kind in python_blocks(page)] == [
        (2, "doctest"),
        (8, "plain"),
        (18, "pytest"),
        (23, "pytest"),
        (28, "pytest"),
        (33, "pytest"),
    ]
    projects = pytest_projects(page)
    assert [[pytest_file(b) for b in p] for p in projects] == [
        ["test_page_18.py", "myapp/a.py"],
        ["conftest.py", "test_b.py"],
    ]
    assert python_blocks(page)[2][0].code == "def test_it():\n    assert True\n"


# -- doctest blocks ------------------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES, ids=[p.name for p in ALL_PAGES])
def test_docs_page_examples(page):
    result = doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.failed == 0, f"{result.failed} example(s) failed in {page.name}"


@pytest.mark.parametrize("module", MODULES_WITH_EXAMPLES)
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_page_has_examples_or_is_an_index():
    for page in PAGES:
        text = page.read_text()
        assert ">>>" in text or page.name in NO_EXAMPLES, f"{page.name} shows no example"


# -- plain blocks ------------------------------------------------------------------


def _substituted(code: str, server, tmp_path: Path) -> str:
    """``code`` with the placeholders of the module docstring replaced."""
    if server is not None:
        code = code.replace(SERVER_URL, f"{server.url}?flight_port={server.flight_port}")
    return code.replace(APP_DIR, str(tmp_path))


def _needs_server(code: str) -> bool:
    return SERVER_URL in code or TOKEN_VARIABLE in code


def _check_and_close(namespace: dict, before: set[str], server) -> None:
    """Every connection the blocks left must reach ``server``; close them all."""
    left = {
        id(v): v for v in namespace.values() if isinstance(v, influxkit.Connection) and not v.closed
    }
    added = [name for name in registry.names() if name not in before]
    left.update((id(c), c) for c in map(registry.get, added) if c is not None)
    try:
        for conn in left.values():
            if conn.config.client != "http":
                continue
            assert server is not None, f"{conn!r}: an HTTP connection, and no server"
            assert (conn.config.host, conn.config.port) == (server.host, server.port), conn
            assert conn.health()["status"] == "pass"
    finally:
        for name in added:
            influxkit.remove_connection(name)
        for conn in left.values():
            conn.close()


@pytest.mark.parametrize("page", PLAIN_PAGES, ids=[p.name for p in PLAIN_PAGES])
def test_plain_blocks_run(page, tmp_path, monkeypatch, capsys):
    from influxkit.server import running_server

    plain = [block for block, kind in python_blocks(page) if kind == "plain"]
    monkeypatch.delenv("INFLUXKIT_CLIENT", raising=False)  # the blocks say their client
    with contextlib.ExitStack() as stack:
        server = None
        if any(_needs_server(block.code) for block in plain):
            server = stack.enter_context(running_server(token=DOCS_TOKEN, flight_port=0))
            monkeypatch.setenv(TOKEN_VARIABLE, DOCS_TOKEN)
        namespace: dict = {"__name__": "__main__"}
        before = set(registry.names())
        try:
            for block in plain:
                code = _substituted(block.code, server, tmp_path)
                # Padded so that a traceback names the page's own line.
                source = "\n" * (block.line - 1) + code
                exec(compile(source, str(page.relative_to(ROOT)), "exec"), namespace)
                out = capsys.readouterr().out
                for expected in _PRINTED.findall(block.code):
                    assert expected in out, f"{block.where} printed {out!r}, not {expected!r}"
        finally:
            _check_and_close(namespace, before, server)


# -- pytest blocks -----------------------------------------------------------------


@pytest.fixture(scope="module")
def _imported_once() -> None:
    """Import what the inner runs use first (see tests/plugin/test_plugin.py).

    pytester drops the modules an in-process run imported; datafusion's native module
    cannot be imported a second time in one process.
    """
    for module in (
        "datafusion",
        "pyarrow",
        "pyarrow.flight",
        "hypothesis",
        "influxkit.clients.local.client",
        "influxkit.server.app",
        "influxkit.server.flight",
        "influxkit.server.run",
        "uvicorn",
        "httpx",
        "influxdb_client",
        "influxdb_client_3",
    ):
        importlib.import_module(module)
    influxkit.connect(client="local").close()


@pytest.mark.parametrize(
    ("page", "project"), PYTEST_PROJECTS, ids=[f"{p.name}-{i}" for p, i in PYTEST_PROJECTS]
)
def test_pytest_blocks_pass(page, project, pytester, _imported_once):
    files = pytest_projects(page)[project]
    for block in files:
        path = pytester.path / pytest_file(block)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(block.code)
    names = registry.names()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error")
    outcomes = result.parseoutcomes()
    tests = sum(count_tests(block) for block in files)
    assert result.ret == 0, result.stdout.str()
    assert set(outcomes) == {"passed"}, result.stdout.str()
    assert outcomes["passed"] >= tests > 0
    assert registry.names() == names

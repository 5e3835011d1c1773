"""Reading the ```python blocks of a Markdown page, and which rule runs each one.

The rules are stated in the docstring of ``tests/test_docs.py``, which runs the blocks;
this module only finds the blocks and tells them apart (:func:`classify`), so that the
runners and the guard against blocks no rule runs (:func:`uncovered`) agree.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Block",
    "Uncovered",
    "blocks",
    "classify",
    "pytest_file",
    "pytest_projects",
    "python_blocks",
    "count_tests",
    "uncovered",
]

_PYTHONISH = {"py", "py3", "python3", "pycon", "pyi", "ipython", "python"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
# Any fence naming a python-ish language, wherever it is: what the scanner must have read.
_ANY_PYTHON_FENCE = re.compile(r"(?:`{3,}|~{3,})[ \t]*(?:" + "|".join(_PYTHONISH) + r")\b")
_FILE_NAME = re.compile(r"^#\s*(?P<name>[\w.-]+(?:/[\w.-]+)*\.py)\s*$")


class Uncovered(Exception):
    """A ```python block that no rule runs; the message says why and what to do."""


@dataclass(frozen=True)
class Block:
    """One fenced block: its page, the page line of its first code line, language, code."""

    page: Path
    line: int
    lang: str
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"

    @property
    def file_name(self) -> str | None:
        """The file a pytest block names in its first line, if it names one."""
        first = self.code.lstrip("\n").split("\n", 1)[0]
        match = _FILE_NAME.match(first)
        return match["name"] if match else None


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page`` (indented ones too, their indent removed)."""
    found: list[Block] = []
    lines = page.read_text().split("\n")
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body, j = [], i + 1
        while j < len(lines) and not closing.match(lines[j]):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        info = opening["info"].strip()
        lang = info.split()[0].lower() if info else ""
        found.append(Block(page, i + 2, lang, "\n".join(body) + "\n"))
        i = j + 1
    return found


def _test_functions(tree: ast.Module) -> int:
    """How many tests pytest finds at least: ``test*`` functions, ``Test*`` methods."""
    count = 0
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            count += 1
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            count += sum(
                isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
                for n in node.body
            )
    return count


def classify(block: Block) -> str:
    """``"doctest"``, ``"pytest"`` or ``"plain"``; :class:`Uncovered` if no rule runs it."""
    if block.lang != "python":
        raise Uncovered(f"```{block.lang} is not run: spell the fence ```python")
    code_lines = [line for line in block.code.split("\n") if line.strip()]
    if not code_lines:
        raise Uncovered("an empty ```python block")
    prompts = [line for line in code_lines if line.lstrip().startswith(">>>")]
    if prompts:
        if not code_lines[0].lstrip().startswith(">>>"):
            raise Uncovered(
                "mixes plain code and >>> examples: make it all doctest or all plain code"
            )
        try:
            examples = doctest.DocTestParser().get_examples(block.code, block.where)
        except ValueError as exc:
            raise Uncovered(f"doctest cannot read it: {exc}") from None
        if len(examples) != len(prompts):
            raise Uncovered(f"doctest reads {len(examples)} of its {len(prompts)} >>> lines")
        return "doctest"
    try:
        tree = ast.parse(block.code)
    except SyntaxError as exc:
        raise Uncovered(
            f"not Python ({exc.msg}, line {exc.lineno}): a shell session or output belongs "
            "in ```console / ```bash / ```text"
        ) from None
    if block.file_name is not None or _test_functions(tree):
        return "pytest"
    if "@pytest.fixture" in block.code:
        raise Uncovered("a fixture without a test: name its file in its first line (# conftest.py)")
    return "plain"


def python_blocks(page: Path) -> list[tuple[Block, str]]:
    """The python blocks of ``page`` that a rule runs, with their rule."""
    covered = []
    for block in blocks(page):
        if block.lang not in _PYTHONISH:
            continue
        with contextlib.suppress(Uncovered):
            covered.append((block, classify(block)))
    return covered


def pytest_file(block: Block) -> str:
    """The path a pytest block is written to: the one it names, else ``test_<page>_<line>.py``."""
    stem = re.sub(r"\W", "_", block.page.stem)
    return block.file_name or f"test_{stem}_{block.line}.py"


def count_tests(block: Block) -> int:
    """How many tests pytest collects from the block at least (none unless a test file)."""
    name = Path(pytest_file(block)).name
    collected = name.startswith("test_") or name.endswith("_test.py")
    return _test_functions(ast.parse(block.code)) if collected else 0


def pytest_projects(page: Path) -> list[list[Block]]:
    """The page's pytest blocks, split into projects at each ``# conftest.py``."""
    projects: list[list[Block]] = [[]]
    for block, kind in python_blocks(page):
        if kind != "pytest":
            continue
        if pytest_file(block) == "conftest.py" and projects[-1]:
            projects.append([])
        projects[-1].append(block)
    return [project for project in projects if project]


def uncovered(page: Path) -> list[str]:
    """Why each python block of ``page`` that no rule runs is not run (empty: all run)."""
    problems = []
    python = [b for b in blocks(page) if b.lang in _PYTHONISH]
    for block in python:
        try:
            classify(block)
        except Uncovered as exc:
            problems.append(f"{block.where}: {exc}")
    fences = len(_ANY_PYTHON_FENCE.findall(page.read_text()))
    if fences != len(python):
        problems.append(
            f"{page.name}: {fences} python fences, of which only {len(python)} are blocks "
            "read here (a fence in a blockquote or after text on its line?)"
        )
    for project in pytest_projects(page):
        names = [pytest_file(b) for b in project]
        if len(set(names)) != len(names):
            problems.append(f"{project[0].where}: one pytest project names a file twice: {names}")
        if sum(count_tests(b) for b in project) == 0:
            problems.append(f"{project[0].where}: pytest files with no test to run them")
    return problems

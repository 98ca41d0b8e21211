"""Notebook hygiene: chapters are committed without outputs, named NN_<slug>.ipynb, with the
project kernel, and without the habits the style guide rules out."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT, SLUGS

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^\d\d_[a-z0-9-]+\.ipynb$")
FORBIDDEN = {
    "!pip install": re.compile(r"^\s*[!%]\s*pip\s+install", re.M),
    "an absolute path": re.compile(r"['\"](/home/|/Users/|/work/|/tmp/|[A-Z]:\\\\)"),
}


def _global_warning_filters(code: str) -> list[int]:
    """Lines of ``warnings.filterwarnings``/``simplefilter`` calls outside ``with warnings.catch_warnings()``."""
    found: list[int] = []

    def visit(node: ast.AST, scoped: bool) -> None:
        if isinstance(node, ast.With):
            scoped = scoped or any(isinstance(i.context_expr, ast.Call)
                                   and ast.unparse(i.context_expr.func).endswith("catch_warnings")
                                   for i in node.items)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"filterwarnings", "simplefilter"} and not scoped):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, scoped)

    visit(ast.parse(code), False)
    return found


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no chapter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    dirty = [
        i
        for i, c in enumerate(_cells(path))
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run `make strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_name_and_kernel(path: Path) -> None:
    assert NAME.match(path.name), f"{path.name}: chapters are named NN_<slug>.ipynb"
    slug = path.stem[3:]
    assert slug in SLUGS or path.stem.startswith("00_"), f"{path.name}: unknown slug {slug!r}"
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert meta.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_avoids_forbidden_habits(path: Path) -> None:
    code = "\n".join("".join(c["source"]) for c in _cells(path) if c["cell_type"] == "code")
    found = [what for what, rx in FORBIDDEN.items() if rx.search(code)]
    for cell in (c for c in _cells(path) if c["cell_type"] == "code"):
        src = re.sub(r"^\s*[!%].*$", "", "".join(cell["source"]), flags=re.M)  # magics are not Python
        if _global_warning_filters(src):
            found.append("a global warning filter")
    assert not found, f"{path.name} contains {', '.join(found)}"


def test_forbidden_patterns_catch_what_they_should() -> None:
    assert FORBIDDEN["!pip install"].search("!pip install jieba")
    assert _global_warning_filters('import warnings\nwarnings.filterwarnings("ignore")')
    assert _global_warning_filters('warnings.simplefilter("ignore", UserWarning)')
    assert not _global_warning_filters('with warnings.catch_warnings():\n    warnings.filterwarnings("ignore", message="x")')
    assert FORBIDDEN["an absolute path"].search("pd.read_csv('/home/me/data.csv')")
    assert not FORBIDDEN["an absolute path"].search("pd.read_csv('data/x.csv')")

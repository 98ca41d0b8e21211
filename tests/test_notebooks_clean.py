"""Notebook hygiene: chapters are committed without outputs, named NN_<slug>.ipynb, with the
project kernel, and without the habits the style guide rules out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT, SLUGS

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^\d\d_[a-z0-9-]+\.ipynb$")
FORBIDDEN = {
    "!pip install": re.compile(r"^\s*[!%]\s*pip\s+install", re.M),
    "a global warning filter": re.compile(r"warnings\.(filterwarnings|simplefilter)\(\s*['\"]ignore"),
    "an absolute path": re.compile(r"['\"](/home/|/Users/|/work/|/tmp/|[A-Z]:\\\\)"),
}


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
    assert not found, f"{path.name} contains {', '.join(found)}"


def test_forbidden_patterns_catch_what_they_should() -> None:
    assert FORBIDDEN["!pip install"].search("!pip install jieba")
    assert FORBIDDEN["a global warning filter"].search('warnings.filterwarnings("ignore")')
    assert FORBIDDEN["an absolute path"].search("pd.read_csv('/home/me/data.csv')")
    assert not FORBIDDEN["an absolute path"].search("pd.read_csv('data/x.csv')")

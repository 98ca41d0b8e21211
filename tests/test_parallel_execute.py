"""book/_ext/parallel_execute.py: notebooks executed in worker processes land in the jupyter cache
where myst-nb looks them up; a failing one is reported and not cached."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

from helpers.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location("parallel_execute",
                                               REPO_ROOT / "book/_ext/parallel_execute.py")
assert _spec is not None and _spec.loader is not None
pe = importlib.util.module_from_spec(_spec)
sys.modules["parallel_execute"] = pe  # dataclasses and the worker processes look it up by name
_spec.loader.exec_module(pe)


def _notebook(path: Path, code: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    return nbformat.read(path, as_version=4)


def test_two_notebooks_run_in_parallel_and_are_found_in_the_cache(tmp_path: Path) -> None:
    paths = [tmp_path / f"nb{i}.ipynb" for i in range(3)]
    nbs = [_notebook(paths[0], "import os\nprint(os.getcwd())"),
           _notebook(paths[1], "print(6 * 7)"),
           _notebook(paths[2], "raise RuntimeError('chapter broke')")]
    jobs = [pe.Job(p, nb, 120, False) for p, nb in zip(paths, nbs, strict=True)]
    outcome = pe.execute_into_cache(tmp_path / "cache", jobs, workers=2)

    assert outcome[paths[0]] is None and outcome[paths[1]] is None
    assert "chapter broke" in outcome[paths[2]]
    cache = get_cache(str(tmp_path / "cache"))
    for p in paths[:2]:
        record = cache.match_cache_notebook(nbformat.read(p, as_version=4))  # myst-nb's lookup
        assert record.data["execution_seconds"] > 0
    _, merged = cache.merge_match_into_notebook(nbformat.read(paths[1], as_version=4))
    assert merged.cells[0].outputs[0]["text"] == "42\n"
    _, merged = cache.merge_match_into_notebook(nbformat.read(paths[0], as_version=4))
    assert merged.cells[0].outputs[0]["text"].strip() == str(tmp_path)  # the notebook's folder
    with pytest.raises(KeyError):  # the failure is left to myst-nb, which reports it
        cache.match_cache_notebook(nbformat.read(paths[2], as_version=4))


def test_the_book_loads_the_extension() -> None:
    assert "parallel_execute: _ext" in (REPO_ROOT / "book" / "_config.yml").read_text()

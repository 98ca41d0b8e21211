"""The chapter template (``templates/chapter/``) executes top to bottom and writes its scorecard.

This is the "template executes in make test" check of the course layer: the notebook runs headless
(nbclient, quick mode) on the tiny template twin with ``AICHINA_BUILD_DIR`` pointing at a temporary
folder, and must write ``scorecards/template-paper.json`` there. The template's example tests are
run as well, so that the examples a new chapter copies stay correct.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.paths import REPO_ROOT
from helpers.report import SCORECARD_FIELDS

TEMPLATE = REPO_ROOT / "templates" / "chapter"
NOTEBOOK = TEMPLATE / "NN_template.ipynb"
SECTIONS = (  # the sections of CHAPTER.md, in order (the title is the notebook's first heading)
    "The twin banner", "Question and theory", "Data", "Index construction from raw inputs",
    "Baseline", "Robustness and endogeneity", "Mechanisms", "Heterogeneity", "Further analysis",
    "Beyond the paper", "Reading the paper critically", "Exercises", "References",
)


def _notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.mark.slow  # about 15 s: a kernel start and pyfixest's first call; make test runs it
def test_template_notebook_runs_and_writes_its_scorecard(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AICHINA_BUILD_DIR", str(tmp_path))
    monkeypatch.setenv("AICHINA_QUICK", "1")
    nb = _notebook()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(TEMPLATE)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    rows = json.loads((tmp_path / "scorecards" / "template-paper.json").read_text(encoding="utf-8"))
    assert len(rows) == 4  # DID in three columns and Size, as in published.yml
    assert all(set(SCORECARD_FIELDS) <= set(r) for r in rows)
    assert {r["effect"] for r in rows} == {0.05, 0.2}
    assert {r["class"] for r in rows} == {"calibrated", "untargeted"}
    assert all(r["R"] == 50 and 0 <= r["coverage"] <= 1 for r in rows)


def test_template_has_every_chapter_section_in_order() -> None:
    heads = [m.group(1).strip() for c in _notebook().cells if c.cell_type == "markdown"
             for m in re.finditer(r"^## (.+)$", c.source, flags=re.M)]
    positions = [heads.index(s) for s in SECTIONS]  # ValueError names a missing section
    assert positions == sorted(positions)


def test_template_is_committed_without_outputs_and_outside_the_book() -> None:
    nb = _notebook()
    assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells
                   if c.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "templates" not in (REPO_ROOT / "book" / "_toc.yml").read_text(encoding="utf-8")
    assert '"templates/*"' in (REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8")


def _example_tests():
    spec = importlib.util.spec_from_file_location("template_example_tests",
                                                  TEMPLATE / "test_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLES = _example_tests()


@pytest.fixture(scope="module")
def template_twin_full():
    return EXAMPLES.template_twin.build("full")


@pytest.mark.parametrize("name", ["test_twfe_recovers_the_true_effect",
                                  "test_pooled_ols_overstates_the_effect_as_the_docstring_says",
                                  "test_schema_accepts_the_twin_and_published_file_loads"])
def test_template_example_tests_with_the_twin(name: str, template_twin_full) -> None:
    getattr(EXAMPLES, name)(template_twin_full)


@pytest.mark.parametrize("name", ["test_twin_is_seeded_and_marked_simulated",
                                  "test_bad_scale_is_rejected"])
def test_template_example_tests_without_arguments(name: str) -> None:
    getattr(EXAMPLES, name)()


def test_template_twin_docstring_examples_hold() -> None:
    import doctest

    result = doctest.testmod(EXAMPLES.template_twin, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0, result


def test_template_twin_follows_the_honest_twin_contract(template_twin_full) -> None:
    tw, mod = template_twin_full, EXAMPLES.template_twin
    cal = mod.read_yaml("calibration.yml")
    assert cal["seed_rule"] and tw.meta["seed"] == cal["seed"]
    # redraw: replication r uses default_rng([seed, r]) alone, so chunks line up
    full = tw.redraw(6)["y"]
    assert (tw.redraw(2, start=4)["y"] == full[:, 4:]).all()
    # every declared spec has truth rows with an estimand and an effect for each published term
    pub = EXAMPLES.load_published(mod.SLUG, path=mod.HERE / "published.yml")
    for spec in tw.specs:
        t = tw.truth_for(spec.table, spec.column)
        assert set(t["estimand"]) == set(spec.terms) == set(t["effect"])
        terms = set(pub[(pub.table == spec.table) & (pub.column == spec.column)].term)
        assert set(spec.terms) == terms
    # the estimand of the redraw-averaged fit is the estimand in truth["rows"] (R = 200, 4 MC SEs)
    import numpy as np
    spec = tw.specs[2]
    from helpers.design import fit_many

    sims = fit_many(spec.data(tw), spec.formula, tw.redraw(200)["y"], vcov=spec.vcov)
    est = sims[sims.term == "DID"]["estimate"]
    target = tw.truth_for(spec.table, spec.column)["estimand"]["DID"]
    assert abs(est.mean() - target) < 4 * est.std() / np.sqrt(len(est))
    assert set(pub["class"]) == {"calibrated", "untargeted"}

"""Example tests for a new chapter's twin and data files.

Copy to ``tests/test_twin_<slug_with_underscores>.py`` and replace ``template_twin`` by
``helpers.twins.load_twin(SLUG, ...)`` and the template paths by ``data/<slug>/...``. The book's own
test ``tests/test_template.py`` runs these examples, so they stay correct.

Known answers first (the twin's truth), then properties, then bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyfixest as pf
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import template_twin

from helpers.report import load_published
from helpers.twins.loader import check_panel


@pytest.fixture(scope="module")
def twin():
    return template_twin.build("full")


def test_twfe_recovers_the_true_effect(twin) -> None:
    fit = pf.feols("y ~ DID + Size | firm_id+year", data=twin.panel, vcov={"CRV1": "firm_id"})
    tau, se = float(fit.coef()["DID"]), float(fit.se()["DID"])
    assert abs(tau - twin.truth["tau"]) < 3 * se


def test_pooled_ols_overstates_the_effect_as_the_docstring_says(twin) -> None:
    pooled = pf.feols("y ~ DID + Size | year", data=twin.panel)
    assert float(pooled.coef()["DID"]) > twin.truth["tau"] + 0.05


def test_twin_is_seeded_and_marked_simulated() -> None:
    a, b = template_twin.build("quick", seed=7), template_twin.build("quick", seed=7)
    assert a.panel.equals(b.panel)
    assert a.panel.attrs["simulated"] is True


def test_schema_accepts_the_twin_and_published_file_loads(twin) -> None:
    checked = check_panel(twin.panel, template_twin.read_yaml("schema.yml"), "twin")
    assert len(checked) == len(twin.panel)
    pub = load_published(template_twin.SLUG, path=template_twin.HERE / "published.yml")
    assert set(pub["term"]) == {"DID", "Size"}


def test_bad_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="scale must be"):
        template_twin.build("huge")

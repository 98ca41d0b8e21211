"""Chapter test for ai-new-quality-productivity: the baseline specification on the real-data fixture.

The notebook itself is executed by ``make test`` (nbmake, quick mode); this module checks that the
baseline formula and vcov in ``data/ai-new-quality-productivity/calibration.yml`` (the single place the
notebook reads them from) run on a file in the documented schema through ``load_panel``, and that on the
full twin the baseline covers the twin's estimand (spec 001 Table 3 col. 2: 0.539***, SE 0.090).
"""

from __future__ import annotations

import warnings

import numpy as np
import pyfixest as pf
import pytest

from helpers.paths import REPO_ROOT
from helpers.twins import load_panel, load_twin
from helpers.twins.loader import read_calibration

SLUG = "ai-new-quality-productivity"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / f"{SLUG}_sample.csv"


@pytest.fixture(scope="module")
def spec() -> tuple[str, dict]:
    cal = read_calibration(SLUG)
    return cal["baseline_formula"], dict(cal["baseline_vcov"])


def test_baseline_spec_is_the_papers(spec: tuple[str, dict]) -> None:
    formula, vcov = spec
    assert formula.startswith("NQP ~ lnAI + Size + Age + Lev + Mshare + INST")  # spec eq. (1), sec. 7 #6
    assert formula.endswith("| stkcd+year")  # no spaces in the FE (stack notes, pyfixest gotcha 1)
    assert vcov == {"CRV1": "industry"}  # industry-clustered SEs (spec sec. 5)


def test_baseline_runs_on_the_real_data_fixture(spec: tuple[str, dict]) -> None:
    formula, vcov = spec
    df = load_panel(SLUG, FIXTURE)
    assert df.attrs["simulated"] is False
    fit = pf.feols(formula, df, vcov=vcov)
    b, se = float(fit.coef()["lnAI"]), float(fit.se()["lnAI"])
    assert np.isfinite(b) and se > 0
    assert fit._N <= len(df)


def test_baseline_covers_the_twins_truth(spec: tuple[str, dict]) -> None:
    formula, vcov = spec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the "simulated data" warning
        tw = load_twin(SLUG)
    fit = pf.feols(formula, tw.panel, vcov=vcov)
    b, se = float(fit.coef()["lnAI"]), float(fit.se()["lnAI"])
    assert abs(b - tw.truth["rows"]["table3/col2/lnAI"]["estimand"]) < 3 * se  # the estimand, not the paper
    assert b / se > 2.58  # published class *** (Table 3 col. 2)


def test_missing_formula_column_fails(spec: tuple[str, dict]) -> None:
    formula, vcov = spec
    df = load_panel(SLUG, FIXTURE).drop(columns=["Mshare"])
    with pytest.raises(Exception, match="Mshare"):
        pf.feols(formula, df, vcov=vcov)

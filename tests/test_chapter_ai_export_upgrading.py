"""Chapter tests of ai-export-upgrading: the published numbers the chapter compares against, and the
real-data path of its baseline.

1. ``data/ai-export-upgrading/published.yml`` holds the 36 coefficients of Tables 1-8 of 柯明, 杨双至
   and 戴翔 (2023), 国际贸易问题 (8) (spec 003 sec. 9). The paper prints t statistics; the SEs are
   derived as coef / t, and the spec's derived z statistics of the subgroup differences and the
   mediated shares (spec sec. 9, Tables 5 and 6) follow from them.
2. The chapter's baseline specification (``baseline_formula`` / ``baseline_vcov`` in
   ``data/ai-export-upgrading/calibration.yml``) runs on the small real-data-format fixture
   ``tests/fixtures/ai-export-upgrading_sample.csv`` read through ``load_panel``; its coefficient is
   checked against linearmodels' ``PanelOLS`` with entity and time effects (independent software).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.paths import REPO_ROOT
from helpers.report import compare_table, load_published
from helpers.twins import load_panel
from helpers.twins.loader import read_calibration

SLUG = "ai-export-upgrading"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / f"{SLUG}_sample.csv"
CONTROLS = ["lnAge", "Finance", "FinConstraints", "lnCapIntensity", "HHI"]


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return load_published(SLUG)


@pytest.fixture(scope="module")
def fixture_panel() -> pd.DataFrame:
    return load_panel(SLUG, FIXTURE)


def _pub(published: pd.DataFrame, table: str, column: str, term: str = "Robot") -> pd.Series:
    sel = published[(published.table == table) & (published.column == column) & (published.term == term)]
    assert len(sel) == 1
    return sel.iloc[0]


# ---------------------------------------------------------------------------------------------
# known answers from the paper (spec 003 sec. 9)
# ---------------------------------------------------------------------------------------------
def test_published_has_the_36_coefficients_of_tables_1_to_8(published) -> None:
    assert len(published) == 36
    assert published.groupby("table").size().to_dict() == {
        "table1": 4, "table2": 6, "table3": 3, "table4": 2, "table5": 3, "table6": 7, "table7": 6,
        "table8": 5}
    # Table 1 col 4: 0.0058*** (t = 20.42), so the implied SE is 0.000284 (spec sec. 9)
    base = _pub(published, "table1", "col4")
    assert base["coef"] == 0.0058 and base["stars"] == "***"
    assert base["se"] == pytest.approx(0.000284, abs=5e-7)
    # Table 8 col 5: the Theil coefficient is negative and *** (t = -3.20)
    theil = _pub(published, "table8", "col5")
    assert theil["sign"] == "-" and theil["se"] == pytest.approx(0.007469, abs=5e-7)


def test_identical_robustness_columns_equal_the_baseline(published) -> None:
    # spec sec. 16 item 1: Table 2 cols 4 and 6 repeat Table 1 col 4 in every digit
    base = _pub(published, "table1", "col4")
    for col in ("col4", "col6"):
        row = _pub(published, "table2", col)
        assert (row["coef"], row["t"], row["N"], row["r2"]) == (base["coef"], base["t"], base["N"], base["r2"])


@pytest.mark.parametrize(("a", "b", "z"), [
    (("table5", "labor"), ("table5", "technology"), 10.06),   # spec Table 5 note
    (("table5", "labor"), ("table5", "capital"), 4.86),
    (("table5", "capital"), ("table5", "technology"), 3.90),
    (("table3", "east"), ("table3", "central"), 0.61),         # spec Table 3 note
    (("table3", "east"), ("table3", "west"), 0.34),
    (("table4", "nonsoe"), ("table4", "soe"), 1.72),           # spec Table 4 note
])
def test_subgroup_z_statistics_of_the_spec(published, a, b, z) -> None:
    # z = (b2 - b1) / sqrt(se1^2 + se2^2), the test the chapter applies to the twin's subgroups
    r1, r2 = _pub(published, *a), _pub(published, *b)
    assert (r2["coef"] - r1["coef"]) / np.hypot(r1["se"], r2["se"]) == pytest.approx(z, abs=0.01)


def test_mediated_shares_of_the_spec(published) -> None:
    # spec Table 6 note: 0.0079 x 0.0012 = 9.5e-6, 0.16 % of 0.0058; 0.1102 x 0.0007 = 1.2 % of 0.0064
    a_p, b_p = _pub(published, "table6", "col2")["coef"], _pub(published, "table6", "col3", "Profitability")["coef"]
    a_i, b_i = _pub(published, "table6", "col4")["coef"], _pub(published, "table6", "col5", "Innovation")["coef"]
    assert 100 * a_p * b_p / 0.0058 == pytest.approx(0.16, abs=0.005)
    assert 100 * a_i * b_i / _pub(published, "table6", "col5")["coef"] == pytest.approx(1.2, abs=0.05)


# ---------------------------------------------------------------------------------------------
# the chapter's baseline on the real-data fixture
# ---------------------------------------------------------------------------------------------
def test_baseline_formula_names_the_chapter_spec() -> None:
    cal = read_calibration(SLUG)
    lhs, rhs = cal["baseline_formula"].split("~")
    regressors, fe = rhs.split("|")
    assert lhs.strip() == "DVAR"
    assert [t.strip() for t in regressors.split("+")] == ["Robot", *CONTROLS]
    assert fe.strip() == "firm_id+year"  # no spaces (pyfixest gotcha 1)
    assert cal["baseline_vcov"] == {"CRV1": "firm_id"}


def test_baseline_runs_on_the_fixture_and_matches_linearmodels(fixture_panel) -> None:
    from linearmodels.panel import PanelOLS

    cal = read_calibration(SLUG)
    fit = pf.feols(cal["baseline_formula"], fixture_panel, vcov=cal["baseline_vcov"], fixef_rm="none")
    n_complete = int(fixture_panel[["DVAR", "Robot", *CONTROLS]].notna().all(axis=1).sum())
    assert fit._N == n_complete
    b, se = float(fit.coef()["Robot"]), float(fit.se()["Robot"])
    assert np.isfinite(b) and se > 0
    d = fixture_panel.dropna(subset=CONTROLS).assign(firm=lambda x: x["firm_id"].astype(str))
    ref = PanelOLS.from_formula(
        "DVAR ~ Robot + " + " + ".join(CONTROLS) + " + EntityEffects + TimeEffects",
        d.set_index(["firm", "year"])).fit()
    assert b == pytest.approx(float(ref.params["Robot"]), rel=1e-6)


def test_compare_table_reads_the_fixture_fit(fixture_panel, published) -> None:
    cal = read_calibration(SLUG)
    fit = pf.feols(cal["baseline_formula"], fixture_panel, vcov=cal["baseline_vcov"], fixef_rm="none")
    row = compare_table(published, fit, table="table1", column="col4").iloc[0]
    assert row["term"] == "Robot" and row["published_coef"] == 0.0058
    assert row["twin_coef"] == pytest.approx(float(fit.coef()["Robot"]))
    assert row["sign_agrees"] == (fit.coef()["Robot"] > 0)


def test_a_fixture_without_the_regressor_fails_loudly(tmp_path) -> None:
    broken = pd.read_csv(FIXTURE).drop(columns=["Robot"])
    path = tmp_path / "broken.csv"
    broken.to_csv(path, index=False)
    with pytest.raises(ValueError, match="Robot"):
        load_panel(SLUG, path)

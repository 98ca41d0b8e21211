"""Chapter test for ai-manufacturing-cities: the baseline on the real-data fixture, and the dynamic-panel
estimator the chapter uses (pyxtabond2) checked against published plm / xtabond2 results.

The notebook itself is executed by ``make test`` (nbmake, quick mode); this module does not run it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.twins import load_panel
from helpers.twins.loader import read_calibration

SLUG = "ai-manufacturing-cities"
FIXTURES = Path(__file__).parent / "fixtures"
CAL = read_calibration(SLUG)


def test_baseline_runs_on_the_real_data_fixture() -> None:
    df = load_panel(SLUG, FIXTURES / f"{SLUG}_sample.csv")
    assert df.attrs["simulated"] is False
    fit = pf.feols(CAL["baseline_formula"], df, vcov=CAL["baseline_vcov"])
    b, se = fit.coef()["ai_firm"], fit.se()["ai_firm"]
    assert np.isfinite(b) and se > 0
    assert fit._N == int(df[["ln_gdp", "ai_firm", "ln_pop", "ln_emp_unit", "ln_rd"]].notna().all(axis=1).sum())


def test_baseline_formula_is_the_papers_table1_col1() -> None:
    f = CAL["baseline_formula"].replace(" ", "")
    assert f == "ln_gdp~ai_firm+ln_pop+ln_emp_unit+ln_rd|city_id+year"
    assert CAL["baseline_vcov"] == {"CRV1": "city_id"}


# ---- pyxtabond2 on the Arellano-Bond (1991) employment data -----------------------------------------
# tests/fixtures/empluk.csv: the public Arellano-Bond UK company panel (140 firms, 1976-1984; R plm's
# `EmplUK`, Stata's `abdata`): firm, year, sector, emp, wage, capital, output (industry output).
def _abdata() -> tuple[pd.DataFrame, list[int]]:
    d = pd.read_csv(FIXTURES / "empluk.csv").sort_values(["firm", "year"]).reset_index(drop=True)
    g = d.groupby("firm")

    def lag(v: pd.Series, k: int) -> pd.Series:
        return v.groupby(d["firm"]).shift(k).where(g["year"].shift(k) == d["year"] - k)

    d["n"], d["w"], d["k"], d["ys"] = (np.log(d[c]) for c in ("emp", "wage", "capital", "output"))
    for v in ("n", "w", "k", "ys"):
        d[f"L1{v}"] = lag(d[v], 1)
    d["L2n"] = lag(d["n"], 2)
    years = sorted(d["year"].unique())
    for y in years:
        d[f"yr{y}"] = (d["year"] == y).astype(float)
    return d, years


def _fit(d: pd.DataFrame, x: list[str], gmm: list, iv: list, model: str) -> object:
    from pyxtabond2 import PyXtabond2

    return PyXtabond2(d, "firm", "year", "n", x, gmm=gmm, iv=iv, model_type=model, twostep=True, robust=True).fit()


def test_difference_gmm_matches_plm_arellano_bond_table4b() -> None:
    # plm tests/test_pgmm.Rout.save (ycroissant/plm): pgmm(log(emp) ~ lag(log(emp), 1:2) + lag(log(wage), 0:1)
    # + log(capital) + lag(log(output), 0:1) | lag(log(emp), 2:99), effect = "twoways", model = "twosteps"):
    # 0.474151 (0.185398, Windmeijer), Sargan(=Hansen) chisq(25) = 30.11247, AR(1) -1.53845, AR(2) -0.2796829.
    from pyxtabond2.specs import GMMStyle, IVStyle

    d, years = _abdata()
    yd = [f"yr{y}" for y in years[3:]]  # 1979-1984: one differenced dummy is collinear with the others
    x = ["L1n", "L2n", "w", "L1w", "k", "ys", "L1ys", *yd]
    r = _fit(d, x, [GMMStyle("n", lag=(2, None))], [IVStyle(["w", "L1w", "k", "ys", "L1ys", *yd])], "difference")
    b, se = np.ravel(r.beta), np.ravel(r.se)
    np.testing.assert_allclose(b[:3], [0.474151, -0.052967, -0.513205], atol=2e-6)
    np.testing.assert_allclose(se[:3], [0.185398, 0.051749, 0.145565], atol=2e-6)
    assert r.diag["hansen"][0] == pytest.approx(30.11247, abs=1e-4) and r.diag["df"] == 25
    assert r.diag["ar"][1][0] == pytest.approx(-1.53845, abs=1e-4)
    assert r.diag["ar"][2][0] == pytest.approx(-0.2796829, abs=1e-5)
    # same model with collapsed instruments (plm: collapse = TRUE): 0.853895 (0.562348), chisq(5) = 11.62681,
    # AR(1) -1.290551, AR(2) 0.4482577
    r = _fit(d, x, [GMMStyle("n", lag=(2, None), collapse=True)],
             [IVStyle(["w", "L1w", "k", "ys", "L1ys", *yd])], "difference")
    assert np.ravel(r.beta)[0] == pytest.approx(0.853895, abs=2e-6)
    assert np.ravel(r.se)[0] == pytest.approx(0.562348, abs=2e-6)
    assert r.diag["hansen"][0] == pytest.approx(11.62681, abs=1e-4)
    assert r.diag["ar"][2][0] == pytest.approx(0.4482577, abs=1e-5)


def test_system_gmm_matches_xtabond2_pydynpd_and_panelvar() -> None:
    # Two-step system GMM with Windmeijer SEs, `xtabond2 n L(1/2).n w k, gmm(n, lag(2 4)) gmm(w, lag(1 3))
    # iv(k) twostep robust`: pydynpd README and Benchmark/test_2.md (dazhwu/pydynpd) and R panelvar::pvargmm
    # on the same data report L1.n 0.9453810 (0.1429764), L2.n -0.0860069, w -0.4477795, k 0.1235808,
    # _cons 1.5630849 (0.4993484); Hansen chi2(46) = 96.44.
    from pyxtabond2.specs import GMMStyle, IVStyle

    d, _ = _abdata()
    r = _fit(d, ["L1n", "L2n", "w", "k"], [GMMStyle("n", lag=(2, 4)), GMMStyle("w", lag=(1, 3))],
             [IVStyle(["k"])], "system")
    b, se = np.ravel(r.beta), np.ravel(r.se)
    np.testing.assert_allclose(b, [0.9453810, -0.0860069, -0.4477795, 0.1235808, 1.5630849], atol=2e-6)
    np.testing.assert_allclose(se[[0, 4]], [0.1429764, 0.4993484], atol=2e-6)
    assert r.diag["hansen"][0] == pytest.approx(96.44, abs=0.01) and r.diag["df"] == 46


def test_pyxtabond2_rejects_a_bad_model_type() -> None:
    from pyxtabond2 import PyXtabond2

    d, _ = _abdata()
    with pytest.raises(ValueError, match="model_type"):
        PyXtabond2(d, "firm", "year", "n", ["L1n"], gmm_vars=["n"], model_type="levels")

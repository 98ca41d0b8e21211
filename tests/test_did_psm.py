"""Tests for helpers.did.psm (PSM-DID)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.did import PSMDiDResult, psm_did
from helpers.did.psm import _balance, _kernel, _nearest

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

"""Tests for helpers.did.event (TWFE event study and its figure)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.did import EventStudyResult, event_study, plot_event_study

YEARS = np.arange(2010, 2020)


def true_effect(rel: np.ndarray) -> np.ndarray:
    """Zero before adoption, 1.0 on impact, rising by 0.2 a year, flat from 4 years on."""
    return np.where(rel >= 0, 1.0 + 0.2 * np.clip(rel, 0, 4), 0.0)


def make_panel(n: int = 300, seed: int = 0, pretrend: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"firm": np.repeat(np.arange(n), len(YEARS)), "year": np.tile(YEARS, n)})
    df["g"] = np.repeat(rng.choice([2013.0, 2015.0, 2016.0, np.nan], n), len(YEARS))
    rel = (df["year"] - df["g"]).to_numpy()
    df["x"] = rng.normal(size=len(df))
    drift = pretrend * np.where(np.isfinite(rel) & (rel < 0), rel, 0.0)
    df["y"] = (
        np.repeat(rng.normal(size=n), len(YEARS))
        + np.tile(rng.normal(size=len(YEARS)), n)
        + true_effect(np.nan_to_num(rel, nan=-99))
        + 0.5 * df["x"]
        + drift
        + rng.normal(size=len(df))
    )
    df["cluster1"] = 1
    return df


# --- known answers --------------------------------------------------------------------------


def test_covers_true_dynamic_effects() -> None:
    res = event_study(make_panel(), "y", "firm", "year", "g", leads=3, lags=4, controls="x")
    t = res.table.set_index("rel_time")
    for k in range(-3, 5):
        truth = float(true_effect(np.array([k]))[0])
        assert abs(t.loc[k, "coef"] - truth) < 4 * max(t.loc[k, "se"], 1e-12), k
    assert t.loc[-1, "coef"] == 0.0 and t.loc[-1, "se"] == 0.0 and t.loc[-1, "is_base"]
    assert res.pretrend_pvalue > 0.001


def test_matches_direct_pyfixest_fit() -> None:
    df = make_panel(n=120, seed=1)
    res = event_study(df, "y", "firm", "year", "g", leads=2, lags=3, bin_endpoints=True)
    d = df.copy()
    rel = (d["year"] - d["g"]).clip(-2, 3)
    d["rr"] = rel.fillna(-1).astype(int)
    ref = pf.feols("y ~ i(rr, ref=-1) | firm+year", d, vcov={"CRV1": "firm"})
    for name, b in ref.coef().items():
        k = int(float(name.split("::")[1]))
        row = res.table.set_index("rel_time").loc[k]
        assert row["coef"] == pytest.approx(b, abs=1e-10)
        assert row["se"] == pytest.approx(ref.se()[name], abs=1e-10)


def test_pretrend_f_equals_wald_statistic_over_q() -> None:
    df = make_panel(n=150, seed=2)
    res = event_study(df, "y", "firm", "year", "g", leads=3, lags=2)
    names = [n for n in res.fit.coef().index if int(float(n.split("::")[1])) < 0]
    idx = [list(res.fit.coef().index).index(n) for n in names]
    r = np.zeros((len(idx), len(res.fit.coef())))
    r[np.arange(len(idx)), idx] = 1.0
    # pyfixest switches to chi2 when R is not the identity: statistic = Wald = q * F
    with pytest.warns(UserWarning, match="chi2"):
        wald = res.fit.wald_test(R=r)
    assert res.pretrend_f * len(idx) == pytest.approx(float(wald["statistic"]), rel=1e-8)
    assert res.pretrend_df == (2, 149)


def test_pretrend_detected_when_present() -> None:
    res = event_study(make_panel(seed=3, pretrend=0.4), "y", "firm", "year", "g", leads=3, lags=2)
    assert res.pretrend_pvalue < 0.001
    assert "F(2, 299)" in res.caption


def test_trimming_drops_rows_outside_window() -> None:
    df = make_panel(n=100, seed=4)
    binned = event_study(df, "y", "firm", "year", "g", leads=2, lags=2)
    trimmed = event_study(df, "y", "firm", "year", "g", leads=2, lags=2, bin_endpoints=False)
    assert trimmed.n_obs < binned.n_obs
    assert not trimmed.table["binned"].any()
    assert binned.table.loc[binned.table["rel_time"] == 2, "binned"].item()


def test_other_base_period() -> None:
    res = event_study(make_panel(n=100, seed=5), "y", "firm", "year", "g", base=-2)
    assert res.table.loc[res.table["is_base"], "rel_time"].item() == -2
    assert len(res.table) == 9


def test_plot_event_study() -> None:
    res = event_study(make_panel(n=100, seed=6), "y", "firm", "year", "g", leads=3, lags=3)
    fig, caption = plot_event_study(res)
    assert isinstance(res, EventStudyResult)
    ax = fig.axes[0]
    assert "pre-trend test" in ax.get_title()
    assert any(np.allclose(line.get_xdata(), -0.5) for line in ax.lines)
    assert "p =" in caption
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "≤-3"
    plt.close(fig)


# --- bad input ------------------------------------------------------------------------------


def test_rejects_missing_column() -> None:
    with pytest.raises(ValueError, match="'zz'.*missing"):
        event_study(make_panel(n=30), "zz", "firm", "year", "g")


def test_rejects_no_treated_units() -> None:
    with pytest.raises(ValueError, match="never varies"):
        event_study(make_panel(n=30).assign(g=np.nan), "y", "firm", "year", "g")


def test_rejects_single_cluster() -> None:
    with pytest.raises(ValueError, match="1 cluster"):
        event_study(make_panel(n=30), "y", "firm", "year", "g", cluster="cluster1")


def test_rejects_base_outside_window() -> None:
    with pytest.raises(ValueError, match="outside the window"):
        event_study(make_panel(n=30), "y", "firm", "year", "g", leads=2, base=-3)


def test_rejects_no_never_treated_without_binning() -> None:
    df = make_panel(n=30)
    df = df[df["g"].notna()]
    with pytest.raises(ValueError, match="no never-treated"):
        event_study(df, "y", "firm", "year", "g", bin_endpoints=False)


def test_rejects_cohort_varying_within_unit() -> None:
    df = make_panel(n=30)
    df.loc[0, "g"] = 2011.0
    with pytest.raises(ValueError, match="not constant within unit"):
        event_study(df, "y", "firm", "year", "g")

"""Tests for helpers.did.placebo (randomization inference by re-assigning adoption years)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.did import PlaceboResult, placebo_permutation
from helpers.did.placebo import placebo_permutation_refit

FORMULA = "y ~ did + x0 + x1 | firm+year"


def make_panel(
    n: int = 40,
    years: int = 7,
    effect: float = 0.0,
    seed: int = 0,
    drop: int = 0,
    cohorts: tuple[float, ...] = (2012.0, 2014.0, 2015.0, np.inf),
) -> pd.DataFrame:
    """Staggered panel; true DiD effect ``effect``; two controls correlated with treatment."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"firm": np.repeat(np.arange(n), years), "year": np.tile(np.arange(2010, 2010 + years), n)}
    )
    g = rng.choice(np.array(cohorts), n)
    df["did"] = (df["year"] >= np.repeat(g, years)).astype(float)
    alpha = np.repeat(rng.normal(size=n), years)
    for k in range(2):
        df[f"x{k}"] = 0.5 * alpha + 0.3 * df["did"] + rng.normal(size=len(df))
    df["w"] = rng.uniform(0.5, 2.0, len(df))
    df["y"] = alpha + effect * df["did"] + 0.5 * df["x0"] + rng.normal(size=len(df))
    if drop:
        df = df.drop(index=rng.choice(len(df), drop, replace=False)).reset_index(drop=True)
    return df


# --- known answers --------------------------------------------------------------------------


@pytest.mark.parametrize("drop", [0, 9])  # balanced (closed form) and unbalanced (MAP) paths
@pytest.mark.parametrize("shift_years", [False, True])
def test_identical_to_refit_loop_on_same_draws(drop: int, shift_years: bool) -> None:
    df = make_panel(drop=drop, effect=0.3)
    kw = dict(n_perm=19, seed=7, alpha=0.05, shift_years=shift_years)
    fast = placebo_permutation(df, FORMULA, "did", "firm", "year", **kw)
    slow = placebo_permutation_refit(df, FORMULA, "did", "firm", "year", **kw)
    np.testing.assert_allclose(fast.observed, slow.observed, atol=1e-8, rtol=0)
    np.testing.assert_allclose(fast.estimates, slow.estimates, atol=1e-8, rtol=0)
    assert fast.pvalue == slow.pvalue


def test_weighted_identical_to_refit_loop() -> None:
    df = make_panel(drop=5, effect=0.3, seed=3)
    kw = dict(n_perm=9, seed=2, alpha=0.1, weights="w")
    fast = placebo_permutation(df, FORMULA, "did", "firm", "year", **kw)
    slow = placebo_permutation_refit(df, FORMULA, "did", "firm", "year", **kw)
    np.testing.assert_allclose(fast.estimates, slow.estimates, atol=1e-8, rtol=0)


def test_observed_equals_pyfixest_coefficient() -> None:
    df = make_panel(effect=0.5, seed=4)
    res = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99)
    ref = pf.feols(FORMULA, df).coef()["did"]
    assert res.observed == pytest.approx(ref, abs=1e-10)


def test_pvalue_by_hand() -> None:
    # p = (1 + #{|b| >= |obs|}) / (1 + B), recomputed from the stored draws
    res = placebo_permutation(make_panel(effect=0.2), FORMULA, "did", "firm", "year", n_perm=99)
    by_hand = (1 + np.sum(np.abs(res.estimates) >= abs(res.observed))) / 100
    assert res.pvalue == pytest.approx(by_hand)
    assert 0 < res.pvalue <= 1


def test_large_true_effect_is_detected() -> None:
    res = placebo_permutation(
        make_panel(n=60, effect=1.0, seed=5), FORMULA, "did", "firm", "year", n_perm=199
    )
    assert res.pvalue == pytest.approx(1 / 200)
    assert abs(res.estimates.mean()) < 0.2  # placebo draws centre near zero


def test_no_effect_rejects_at_nominal_rate() -> None:
    # Under the null and exchangeable adoption, the permutation test is exact: over 300
    # independent panels the 10 % test must reject about 10 % of the time (binomial SD 1.7 pp).
    rejections = [
        placebo_permutation(
            make_panel(n=24, years=5, seed=1000 + r, cohorts=(2012.0, 2013.0, np.inf)),
            "y ~ did | firm+year",
            "did",
            "firm",
            "year",
            n_perm=39,
            seed=r,
            alpha=0.1,
        ).pvalue
        <= 0.10
        for r in range(300)
    ]
    rate = float(np.mean(rejections))
    assert 0.05 <= rate <= 0.16, rate


# --- properties -----------------------------------------------------------------------------


def test_same_seed_same_draws_and_different_seed_differs() -> None:
    df = make_panel()
    a = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99, seed=1)
    b = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99, seed=1)
    c = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99, seed=2)
    np.testing.assert_array_equal(a.estimates, b.estimates)
    assert not np.allclose(a.estimates, c.estimates)


def test_batch_size_does_not_change_results() -> None:
    df = make_panel(drop=4)
    a = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99, batch_size=7)
    b = placebo_permutation(df, FORMULA, "did", "firm", "year", n_perm=99, batch_size=500)
    np.testing.assert_allclose(a.estimates, b.estimates, atol=1e-12)


def test_result_object_and_plot() -> None:
    res = placebo_permutation(make_panel(effect=0.4), FORMULA, "did", "firm", "year", n_perm=99)
    assert isinstance(res, PlaceboResult)
    assert res.estimates.shape == (99,)
    assert list(res.summary.columns[:4]) == ["observed", "placebo_mean", "placebo_sd", "pvalue"]
    fig = res.plot()
    ax = fig.axes[0]
    assert any(np.allclose(line.get_xdata(), res.observed) for line in ax.lines)
    assert "p =" in ax.get_title()
    plt.close(fig)


# --- bad input ------------------------------------------------------------------------------


def test_rejects_missing_column() -> None:
    with pytest.raises(ValueError, match=r"'x9'.*missing"):
        placebo_permutation(make_panel(), "y ~ did + x9 | firm+year", "did", "firm", "year")


def test_rejects_treatment_not_in_formula() -> None:
    with pytest.raises(ValueError, match="does not appear"):
        placebo_permutation(make_panel(), "y ~ x0 | firm+year", "did", "firm", "year")


def test_rejects_treatment_that_never_varies() -> None:
    df = make_panel().assign(did=0.0)
    with pytest.raises(ValueError, match="never varies"):
        placebo_permutation(df, FORMULA, "did", "firm", "year")


def test_rejects_non_absorbing_treatment() -> None:
    df = make_panel()
    first_treated = df.index[df["did"] == 1][0]
    df.loc[first_treated + 1, "did"] = 0.0
    with pytest.raises(ValueError, match="not absorbing"):
        placebo_permutation(df, FORMULA, "did", "firm", "year")


def test_rejects_too_few_draws_for_alpha() -> None:
    with pytest.raises(ValueError, match=r"n_perm >= 99"):
        placebo_permutation(make_panel(), FORMULA, "did", "firm", "year", n_perm=50, alpha=0.01)


def test_rejects_non_plain_terms() -> None:
    with pytest.raises(ValueError, match="plain column name"):
        placebo_permutation(make_panel(), "y ~ did + np.log(w) | firm+year", "did", "firm", "year")

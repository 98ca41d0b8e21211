"""Tests for helpers.heterogeneity.subgroup_effects.

Known answers: simulated two-group panels with a known coefficient difference; the stacked
(SUEST-like) coefficients equal the split-sample pyfixest fits exactly (Weesie 1999); the fast
permutation path equals refitting pyfixest on the same permuted labels; then the no-difference
case rejects at about the nominal rate; then bad input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.heterogeneity import subgroup_effects

FORMULA = "y ~ d + x | firm+year"


def _sim(n_firms=200, n_years=6, delta=0.5, seed=0):
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(n_years), n_firms)
    grp = rng.integers(0, 2, n_firms)[firm]
    d = rng.normal(size=len(firm)) + rng.normal(size=n_firms)[firm]
    x = rng.normal(size=len(firm))
    y = ((1 + delta * grp) * d + 0.3 * x + rng.normal(size=n_firms)[firm] + 0.1 * year
         + rng.normal(size=len(firm)))
    return pd.DataFrame({"firm": firm, "year": year, "g": grp, "d": d, "x": x, "y": y})


@pytest.fixture(scope="module")
def sim():
    return _sim()


def test_known_difference_is_recovered_by_all_three_tests(sim):
    res = subgroup_effects(sim, FORMULA, "d", "g", cluster="firm", n_perm=500, seed=1)
    e = res.estimates.set_index("group")
    for g, truth in ((0, 1.0), (1, 1.5)):
        assert abs(e.loc[g, "coef"] - truth) < 3 * e.loc[g, "se"]
    t = res.tests.set_index("test")
    assert (t["p"] < 0.01).all()
    assert t["difference"].between(0.3, 0.7).all()


def test_stacked_model_reproduces_split_sample_fits(sim):
    pf = pytest.importorskip("pyfixest")
    res = subgroup_effects(sim, FORMULA, "d", "g", cluster="firm", n_perm=200)
    for g in (0, 1):
        fit = pf.feols(FORMULA, sim[sim.g == g], vcov={"CRV1": "firm"})
        row = res.estimates.set_index("group").loc[g]
        assert row["coef"] == pytest.approx(fit.coef()["d"], abs=1e-10)
        assert row["se"] == pytest.approx(fit.se()["d"], abs=1e-12)
    diff = res.estimates.coef.iloc[1] - res.estimates.coef.iloc[0]
    st = res.tests.set_index("test").loc["stacked (SUEST) Wald"]
    assert st["difference"] == pytest.approx(diff, abs=1e-8)
    # firms sit in one group only: the Wald statistic is about diff^2 / (se0^2 + se1^2)
    se2 = (res.estimates.se**2).sum()
    assert st["statistic"] == pytest.approx(diff**2 / se2, rel=0.05)


def test_fast_permutation_equals_refitting_pyfixest():
    pf = pytest.importorskip("pyfixest")
    df = _sim(n_firms=40, n_years=4, seed=2)
    res = subgroup_effects(df, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=9)
    rng = np.random.default_rng(9)  # same draws: firm-level labels permuted in factorize order
    codes = pd.factorize(df["firm"])[0]
    g_unit = np.zeros(codes.max() + 1)
    g_unit[codes] = df["g"].to_numpy(float)
    for r in range(3):
        g = rng.permutation(g_unit)[codes]
        b = [pf.feols(FORMULA, df[g == k]).coef()["d"] for k in (0, 1)]
        assert res.perm_diffs[r] == pytest.approx(b[1] - b[0], abs=1e-7)


def test_seeded_permutations_repeat(sim):
    a = subgroup_effects(sim, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=3)
    b = subgroup_effects(sim, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=3)
    np.testing.assert_array_equal(a.perm_diffs, b.perm_diffs)


def test_no_fixed_effects_formula_works():
    df = _sim(delta=0.0, seed=4)
    res = subgroup_effects(df, "y ~ d + x", "d", "g", n_perm=200)
    assert res.tests["p"].between(0, 1).all()
    assert len(res.perm_diffs) == 200


@pytest.mark.slow
def test_no_difference_rejects_at_about_the_nominal_rate():
    rej = []
    for s in range(80):
        df = _sim(n_firms=60, n_years=5, delta=0.0, seed=100 + s)
        res = subgroup_effects(df, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=s)
        rej.append((res.tests["p"] < 0.05).to_numpy())
    rate = np.mean(rej, axis=0)
    assert np.all((rate > 0.005) & (rate < 0.12)), rate


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"group": "nope"}, "missing from the data"),
        ({"group": "year"}, "exactly two values"),
        ({"treatment": "z"}, "not a regressor"),
        ({"n_perm": 100}, "too few"),
        ({"cluster": "one"}, "single cluster"),
        ({"formula": "y ~ d + i(year) | firm"}, "not a plain column name"),
    ],
)
def test_bad_input(sim, kwargs, match):
    args = {"formula": FORMULA, "treatment": "d", "group": "g", **kwargs}
    with pytest.raises(ValueError, match=match):
        subgroup_effects(sim.assign(one=1), **args)


def test_treatment_constant_in_a_group(sim):
    df = sim.copy()
    df.loc[df.g == 1, "d"] = 1.0
    with pytest.raises(ValueError, match="never varies in group"):
        subgroup_effects(df, FORMULA, "d", "g", n_perm=200)


def test_group_fe_interaction_equals_the_split_sample_difference():
    # year effects that differ by group: with common FE the interaction is not the split difference
    rng = np.random.default_rng(5)
    df = _sim(n_firms=150, n_years=6, delta=0.4, seed=5)
    df["y"] = df["y"] + 0.8 * df["g"] * df["year"] * rng.normal(1.0, 0.1)
    df["d"] = df["d"] + 0.5 * df["g"] * df["year"]  # treatment trends in one group only
    common = subgroup_effects(df, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=1)
    own = subgroup_effects(df, FORMULA, "d", "g", cluster="firm", n_perm=200, seed=1, group_fe=True)
    split = own.estimates.coef.iloc[1] - own.estimates.coef.iloc[0]
    t_own = own.tests.set_index("test")
    assert t_own.loc["interaction (Chow, group FE)", "difference"] == pytest.approx(split, abs=1e-8)
    t_common = common.tests.set_index("test")
    assert abs(t_common.loc["interaction (Chow)", "difference"] - split) > 1e-3  # the old default differs
    # split samples, stacked and permutation parts do not depend on the option
    np.testing.assert_allclose(common.estimates.coef, own.estimates.coef)
    np.testing.assert_array_equal(common.perm_diffs, own.perm_diffs)

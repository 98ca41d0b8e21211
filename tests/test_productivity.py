"""Tests for helpers.productivity (TFP by FE, LP and ACF).

Known answers come from data simulated with known elasticities (beta_l = 0.6, beta_k = 0.4; the design
follows the Monte Carlo of Ackerberg, Caves & Frazer 2015, Econometrica 83(6), section 5: labour chosen
at t - 1/2 with serially correlated firm wages, Leontief materials). Tolerances are about three Monte
Carlo standard deviations at 10,000 firm-years (checked over seeds 0-4 while writing the helper).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.productivity import simulate_production_panel, tfp


@pytest.fixture(scope="module")
def acf_panel() -> pd.DataFrame:
    return simulate_production_panel(1000, 10, design="acf", seed=0)


@pytest.fixture(scope="module")
def lp_panel() -> pd.DataFrame:
    return simulate_production_panel(1000, 10, design="lp", seed=0)


def test_acf_recovers_true_elasticities(acf_panel: pd.DataFrame) -> None:
    res = tfp(acf_panel, method="acf", in_logs=True)
    assert res.coef["beta_l"] == pytest.approx(0.6, abs=0.05)
    assert res.coef["beta_k"] == pytest.approx(0.4, abs=0.05)
    # OLS is biased up for labour in this design (labour responds to productivity)
    X = np.column_stack([np.ones(len(acf_panel)), acf_panel["l"], acf_panel["k"]])
    assert np.linalg.lstsq(X, acf_panel["y"], rcond=None)[0][1] > 0.8


def test_lp_works_in_lp_design_and_fails_in_acf_design(
    lp_panel: pd.DataFrame, acf_panel: pd.DataFrame
) -> None:
    res = tfp(lp_panel, method="lp", in_logs=True)
    assert res.coef["beta_l"] == pytest.approx(0.6, abs=0.05)
    assert res.coef["beta_k"] == pytest.approx(0.4, abs=0.05)
    # ACF's critique: with Leontief materials l is a function of (k, m), so LP's first stage finds ~0
    assert abs(tfp(acf_panel, method="lp", in_logs=True).coef["beta_l"]) < 0.1
    # ACF is consistent in the LP design too
    acf = tfp(lp_panel, method="acf", in_logs=True)
    assert acf.coef["beta_l"] == pytest.approx(0.6, abs=0.05)


def test_fe_recovers_elasticities_with_firm_effects() -> None:
    rng = np.random.default_rng(5)
    n_f, n_t = 400, 8
    firm = np.repeat(np.arange(n_f), n_t)
    year = np.tile(np.arange(2010, 2010 + n_t), n_f)
    alpha = rng.normal(0, 1, n_f)[firm]
    l = 0.8 * alpha + rng.normal(0, 1, len(firm))  # noqa: E741 - inputs correlated with the firm effect
    k = 0.5 * alpha + rng.normal(0, 1, len(firm))
    y = 0.6 * l + 0.4 * k + alpha + 0.05 * (year - 2010) + rng.normal(0, 0.1, len(firm))
    df = pd.DataFrame({"firm": firm, "year": year, "Y": np.exp(y), "K": np.exp(k), "L": np.exp(l)})
    res = tfp(df, method="fe", output="Y", capital="K", labor="L")
    assert res.coef["beta_l"] == pytest.approx(0.6, abs=0.01)
    assert res.coef["beta_k"] == pytest.approx(0.4, abs=0.01)
    # identity: TFP = ln Y - b_l ln L - b_k ln K, aligned with the input
    expected = y - res.coef["beta_l"] * l - res.coef["beta_k"] * k
    np.testing.assert_allclose(res.tfp.to_numpy(), expected)
    assert res.tfp.index.equals(df.index)


def test_tfp_identity_levels_equal_logs_and_seed_determinism(lp_panel: pd.DataFrame) -> None:
    small = lp_panel[lp_panel["firm"] < 300]
    levels = small.assign(
        y=np.exp(small["y"]), k=np.exp(small["k"]), l=np.exp(small["l"]), m=np.exp(small["m"])
    )
    a = tfp(small, method="acf", in_logs=True, seed=3)
    b = tfp(levels, method="acf", seed=3)
    pd.testing.assert_series_equal(a.coef, b.coef)
    np.testing.assert_allclose(
        a.tfp, small["y"] - a.coef["beta_l"] * small["l"] - a.coef["beta_k"] * small["k"]
    )
    assert a.n_obs_gmm == 300 * 9  # every firm-year but the first has its lag


def test_bad_input(lp_panel: pd.DataFrame) -> None:
    small = lp_panel[lp_panel["firm"] < 50]
    with pytest.raises(ValueError, match="zero or negative"):
        tfp(small, method="acf")  # logs can be negative: levels expected unless in_logs
    with pytest.raises(ValueError, match="missing from the data"):
        tfp(small.drop(columns="m"), method="acf", in_logs=True)
    with pytest.raises(ValueError, match="missing values"):
        tfp(
            small.assign(k=np.where(small.index == small.index[0], np.nan, small["k"])),
            in_logs=True,
        )
    with pytest.raises(ValueError, match="duplicated firm-years"):
        tfp(pd.concat([small, small]), in_logs=True)
    with pytest.raises(ValueError, match="method must be"):
        tfp(small, method="op", in_logs=True)
    with pytest.raises(ValueError, match="consecutive years"):
        tfp(small[small["year"] % 2 == 0], method="acf", in_logs=True)

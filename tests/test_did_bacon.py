"""Tests for helpers.did.bacon (Goodman-Bacon decomposition)."""

from __future__ import annotations

import causaldata
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.did import bacon_decomposition, plot_bacon
from helpers.did.bacon import BACON_TYPES


@pytest.fixture(scope="module")
def castle() -> pd.DataFrame:
    """Cheng-Hoekstra castle-doctrine panel as shipped in causaldata (50 states, 2000-2010)."""
    c = causaldata.castle.load_pandas().data
    return c.astype({"year": int, "sid": int, "post": float, "l_homicide": float})


def toy() -> pd.DataFrame:
    """Three units, t = 1..10; unit 2 treated from t = 5 (effect 2), unit 3 from t = 8 (effect 4)."""
    df = pd.DataFrame({"id": np.repeat([1, 2, 3], 10), "t": np.tile(np.arange(1, 11), 3)})
    df["D"] = (((df["id"] == 2) & (df["t"] >= 5)) | ((df["id"] == 3) & (df["t"] >= 8))).astype(int)
    df["Y"] = np.where(df["id"] == 2, 2.0, 4.0) * df["D"]
    return df


# --- known answers --------------------------------------------------------------------------


def test_toy_example_matches_stata_bacondecomp() -> None:
    # Stata `bacondecomp Y D, ddetail` on this panel prints: DiD estimate 2.909; Earlier T vs.
    # Later C weight 0.182, avg 2.000; Later T vs. Earlier C 0.136, 4.000; T vs. Never treated
    # 0.682, 2.933. Source: A. Naqvi, "DiD: Bacon decomposition",
    # https://asjadnaqvi.github.io/DiD/docs/code/06_02_bacon/ (Stata output reproduced there).
    dec = bacon_decomposition(toy(), "Y", "D", "id", "t")
    summary = dec.attrs["summary"].set_index("type")
    assert dec.attrs["twfe"] == pytest.approx(2.909, abs=5e-4)
    assert summary.loc["Earlier vs Later Treated", "weight"] == pytest.approx(0.182, abs=5e-4)
    assert summary.loc["Later vs Earlier Treated", "weight"] == pytest.approx(0.136, abs=5e-4)
    assert summary.loc["Treated vs Never Treated", "weight"] == pytest.approx(0.682, abs=5e-4)
    assert summary.loc["Earlier vs Later Treated", "avg_estimate"] == pytest.approx(2.0)
    assert summary.loc["Later vs Earlier Treated", "avg_estimate"] == pytest.approx(4.0)
    assert summary.loc["Treated vs Never Treated", "avg_estimate"] == pytest.approx(2.933, abs=5e-4)


def test_castle_matches_stata_bacondecomp(castle: pd.DataFrame) -> None:
    # Stata 18 `xtset sid year; bacondecomp l_homicide post` on the Mixtape castle.dta (the data
    # causaldata ships): TWFE 0.069398429, weight on "T vs. Never treated" 0.8988088336, 25
    # 2x2 comparisons. Source: brycewang-stanford/StatsPAI, tests/ castle-doctrine Stata-parity
    # test (constants STATA_BACON_TWFE, STATA_BACON_NEVER_TREATED_WEIGHT,
    # STATA_BACON_N_COMPARISONS). The TWFE also equals Stata `xtreg ..., fe` (0.069398429).
    dec = bacon_decomposition(castle, "l_homicide", "post", "sid", "year")
    assert len(dec) == 25
    assert dec.attrs["twfe"] == pytest.approx(0.069398429, abs=1e-6)
    never = dec.loc[dec["type"] == "Treated vs Never Treated", "weight"].sum()
    assert never == pytest.approx(0.8988088336, abs=1e-6)
    assert set(dec["type"]) == {
        "Earlier vs Later Treated",
        "Later vs Earlier Treated",
        "Treated vs Never Treated",
    }


# --- identities -----------------------------------------------------------------------------


def test_weighted_sum_equals_twfe_on_castle(castle: pd.DataFrame) -> None:
    dec = bacon_decomposition(castle, "l_homicide", "post", "sid", "year")
    twfe = pf.feols("l_homicide ~ post | sid+year", castle).coef()["post"]
    assert dec["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (dec["weight"] * dec["estimate"]).sum() == pytest.approx(twfe, abs=1e-8)
    assert (dec["weight"] >= 0).all()


def test_each_2x2_equals_twfe_on_its_subpanel(castle: pd.DataFrame) -> None:
    dec = bacon_decomposition(castle, "l_homicide", "post", "sid", "year")
    first = castle[castle["post"] == 1].groupby("sid")["year"].min()
    cohort = castle["sid"].map(first).fillna(np.inf)
    for row in dec.sample(6, random_state=0).itertuples():
        sub = castle[cohort.isin([row.treated, row.control])]
        if row.type == "Earlier vs Later Treated":
            sub = sub[sub["year"] < row.control]
        elif row.type == "Later vs Earlier Treated":
            sub = sub[sub["year"] >= row.control]
        b = pf.feols("l_homicide ~ post | sid+year", sub).coef()["post"]
        assert row.estimate == pytest.approx(b, abs=1e-8)


def test_already_treated_units_and_random_panel_identity() -> None:
    rng = np.random.default_rng(3)
    n, years = 60, np.arange(2000, 2012)
    df = pd.DataFrame({"u": np.repeat(np.arange(n), len(years)), "t": np.tile(years, n)})
    g = rng.choice([2000, 2003, 2005, 2008, 2100], n)  # 2000 = already treated, 2100 = never
    df["d"] = (df["t"] >= np.repeat(g, len(years))).astype(float)
    df["y"] = rng.normal(size=len(df)) + df["d"] * (1 + 0.1 * (df["t"] - 2000))
    dec = bacon_decomposition(df, "y", "d", "u", "t")
    twfe = pf.feols("y ~ d | u+t", df).coef()["d"]
    assert (dec["weight"] * dec["estimate"]).sum() == pytest.approx(twfe, abs=1e-8)
    assert set(dec["type"]) == set(BACON_TYPES)
    assert (dec.loc[dec["type"] == "Treated vs Already Treated", "control"] == -np.inf).all()


def test_homogeneous_constant_effect_every_2x2_recovers_it() -> None:
    # Without noise and with a constant effect, every 2x2 comparison equals the effect.
    df = pd.DataFrame({"u": np.repeat(np.arange(8), 6), "t": np.tile(np.arange(6), 8)})
    g = np.array([1, 1, 3, 3, 4, 99, 99, 99])
    df["d"] = (df["t"] >= np.repeat(g, 6)).astype(float)
    df["y"] = 0.5 * df["u"] + 0.2 * df["t"] + 1.5 * df["d"]
    dec = bacon_decomposition(df, "y", "d", "u", "t")
    np.testing.assert_allclose(dec["estimate"], 1.5, atol=1e-12)


def test_plot_bacon_returns_figure(castle: pd.DataFrame) -> None:
    fig = plot_bacon(bacon_decomposition(castle, "l_homicide", "post", "sid", "year"))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "weight"
    assert len(ax.collections) == 3  # one scatter per comparison type present
    plt.close(fig)


# --- bad input ------------------------------------------------------------------------------


def test_rejects_unbalanced_panel(castle: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        bacon_decomposition(castle.iloc[1:], "l_homicide", "post", "sid", "year")


def test_rejects_missing_column(castle: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'nope'.*missing"):
        bacon_decomposition(castle, "nope", "post", "sid", "year")


def test_rejects_treatment_that_never_varies(castle: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="never varies"):
        bacon_decomposition(castle.assign(post=0.0), "l_homicide", "post", "sid", "year")


def test_rejects_single_cohort_without_controls() -> None:
    df = toy()
    df = df[df["id"] != 1]  # drop the never-treated unit ...
    df = df.assign(D=(df["t"] >= 5).astype(int))  # ... and give both units the same timing
    with pytest.raises(ValueError, match="no 2x2 comparison"):
        bacon_decomposition(df, "Y", "D", "id", "t")


def test_rejects_non_binary_treatment(castle: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="0/1 dummy"):
        bacon_decomposition(
            castle.assign(post=castle["post"] * 2), "l_homicide", "post", "sid", "year"
        )

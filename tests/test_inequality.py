"""Tests for helpers.inequality: known answers first, then properties, then bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from libpysal import examples

from helpers.inequality import (
    DagumResult,
    TheilResult,
    dagum_gini,
    gini,
    kernel_density_by_year,
    theil,
)

MEXICO_YEARS = [f"pcgdp{d}" for d in range(1940, 2010, 10)]


@pytest.fixture(scope="module")
def mexico() -> pd.DataFrame:
    """Per-capita GDP of the 32 Mexican states, 1940-2000 (ships with libpysal, offline)."""
    return pd.read_csv(examples.get_path("mexico.csv"))


def _dagum_bruteforce(y: np.ndarray, g: np.ndarray) -> dict[str, float]:
    """Literal double-loop transcription of Dagum (1997), eqs. (2)-(4) and (8)-(11)."""
    labels = sorted(set(g))
    n, mu = len(y), y.mean()
    parts = {j: y[g == j] for j in labels}
    G = sum(abs(a - b) for a in y for b in y) / (2 * n * n * mu)
    p = {j: len(parts[j]) / n for j in labels}
    s = {j: len(parts[j]) * parts[j].mean() / (n * mu) for j in labels}
    Gjj = {
        j: sum(abs(a - b) for a in parts[j] for b in parts[j])
        / (2 * len(parts[j]) ** 2 * parts[j].mean())
        for j in labels
    }
    Gw = sum(Gjj[j] * p[j] * s[j] for j in labels)
    Gnb = Gt = 0.0
    for a_i, j in enumerate(labels):
        for h in labels[a_i + 1 :]:
            hi, lo = (j, h) if parts[j].mean() >= parts[h].mean() else (h, j)
            nj, nh = len(parts[hi]), len(parts[lo])
            Gjh = sum(abs(a - b) for a in parts[hi] for b in parts[lo]) / (
                nj * nh * (parts[hi].mean() + parts[lo].mean())
            )
            d = sum(max(a - b, 0) for a in parts[hi] for b in parts[lo]) / (nj * nh)
            pp = sum(max(b - a, 0) for a in parts[hi] for b in parts[lo]) / (nj * nh)
            D = (d - pp) / (d + pp)
            w = p[j] * s[h] + p[h] * s[j]
            Gnb += Gjh * w * D
            Gt += Gjh * w * (1 - D)
    return {"G": G, "Gw": Gw, "Gnb": Gnb, "Gt": Gt}


# ---------------------------------------------------------------------------------------------
# Gini
# ---------------------------------------------------------------------------------------------


def test_gini_hand_computed():
    # |differences| of (1, 2, 3, 4), both orders: 2 * (1+2+3+1+2+1) = 20; 2 n^2 mu = 80
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25, abs=1e-15)
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75, abs=1e-15)
    assert gini([5, 5, 5]) == 0.0
    assert isinstance(gini([1, 2]), float)


def test_gini_mexico_matches_pysal(mexico):
    # PySAL inequality test suite (inequality/tests/test_gini.py): Gini of pcgdp1940 over the
    # 32 Mexican states = 0.35372371173452849.
    assert gini(mexico["pcgdp1940"]) == pytest.approx(0.35372371173452849, abs=1e-12)


def test_gini_properties():
    rng = np.random.default_rng(0)
    x = rng.lognormal(size=1000)
    g = gini(x)
    assert gini(7.5 * x) == pytest.approx(g, rel=1e-12)  # scale invariance
    assert gini(rng.permutation(x)) == pytest.approx(g, rel=1e-12)
    assert gini(np.concatenate([x, x])) == pytest.approx(g, rel=1e-12)  # replication invariance
    assert gini(x + 10.0) < g  # adding a constant to everyone lowers inequality
    # brute force n^2 formula
    brute = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert g == pytest.approx(brute, rel=1e-12)


def test_gini_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        gini([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="negative"):
        gini([1.0, -2.0, 3.0])
    with pytest.raises(ValueError, match="all zeros"):
        gini([0.0, 0.0])
    with pytest.raises(ValueError, match="at least 2"):
        gini([1.0])


# ---------------------------------------------------------------------------------------------
# Theil
# ---------------------------------------------------------------------------------------------


def test_theil_hand_computed():
    # (1, 1, 3, 3): mu = 2, T = (2 * 0.5 ln 0.5 + 2 * 1.5 ln 1.5) / 4
    T = (np.log(0.5) + 3 * np.log(1.5)) / 4
    assert theil([1, 1, 3, 3]) == pytest.approx(T, rel=1e-14)
    res = theil([1, 1, 3, 3], groups=["a", "a", "b", "b"])
    assert isinstance(res, TheilResult)
    # groups are internally equal: all inequality is between (shares 1/4 and 3/4, pop 1/2 each)
    assert res.within == pytest.approx(0.0, abs=1e-15)
    assert res.between == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5), rel=1e-14)
    # PySAL test: y = (0,0,0,10,10,10) with the two halves as groups: T = bg = ln 2
    r = theil([0, 0, 0, 10, 10, 10], groups=[0, 0, 0, 1, 1, 1])
    assert r.T == pytest.approx(np.log(2), rel=1e-14)
    assert r.between == pytest.approx(np.log(2), rel=1e-14)


def test_theil_mexico_matches_pysal(mexico):
    # PySAL inequality docs/tests (inequality/theil.py, TheilD example): T, between (bg) and
    # within (wg) for the seven decades with the hanson98 regions.
    T_ref = [0.20894344, 0.15222451, 0.10472941, 0.10194725, 0.09560113, 0.10511256, 0.10660832]
    bg_ref = [0.0345889, 0.02816853, 0.05260921, 0.05931219, 0.03205257, 0.02963731, 0.03635872]
    wg_ref = [0.17435454, 0.12405598, 0.0521202, 0.04263506, 0.06354856, 0.07547525, 0.0702496]
    for col, T, bg, wg in zip(MEXICO_YEARS, T_ref, bg_ref, wg_ref, strict=True):
        assert theil(mexico[col]) == pytest.approx(T, abs=5e-9)
        res = theil(mexico[col], groups=mexico["hanson98"])
        assert res.between == pytest.approx(bg, abs=5e-9)
        assert res.within == pytest.approx(wg, abs=5e-9)


def test_theil_decomposition_identity_and_table():
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=3000)
    x[:5] = 0.0  # zeros are allowed
    g = rng.choice(["E", "C", "W", "NE"], size=x.size)
    res = theil(x, groups=g)
    assert res.within + res.between == pytest.approx(res.T, rel=1e-12)
    t = res.groups
    assert list(t.index) == ["C", "E", "NE", "W"]
    assert t["pop_share"].sum() == pytest.approx(1.0)
    assert t["income_share"].sum() == pytest.approx(1.0)
    assert res.contributions.sum() == pytest.approx(1.0)
    for lab in t.index:
        assert t.loc[lab, "theil"] == pytest.approx(theil(x[g == lab]), rel=1e-12)
    assert theil(5 * x) == pytest.approx(res.T, rel=1e-12)


def test_theil_bad_input():
    with pytest.raises(ValueError, match="negative"):
        theil([1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        theil([1.0, np.nan])
    with pytest.raises(ValueError, match="align"):
        theil([1.0, 2.0, 3.0], groups=["a", "b"])
    with pytest.raises(ValueError, match="fewer than 2"):
        theil([1.0, 2.0, 3.0], groups=["a", "a", "b"], min_group_size=2)
    with pytest.raises(ValueError, match="two distinct"):
        theil([1.0, 2.0], groups=["a", "a"])
    with pytest.raises(ValueError, match="missing label"):
        theil([1.0, 2.0, 3.0], groups=["a", None, "b"])


# ---------------------------------------------------------------------------------------------
# Dagum
# ---------------------------------------------------------------------------------------------


def test_dagum_hand_computed():
    # a = {1, 3}, b = {2, 6}; n = 4, mu = 3.
    # G = 2 * (2+1+5+1+3+4) / (2 * 16 * 3) = 1/3; G_aa = 4/16, G_bb = 8/32; G_ab = 10/24.
    # d_ba = (1 + 5 + 3)/4, p_ba = 1/4 -> D_ba = 0.8; p = (1/2, 1/2), s = (1/3, 2/3).
    # Gw = 1/4 * 1/2 * 1/3 + 1/4 * 1/2 * 2/3 = 1/8; pair weight p_a s_b + p_b s_a = 1/2;
    # Gnb = 5/12 * 1/2 * 0.8 = 1/6; Gt = 5/12 * 1/2 * 0.2 = 1/24.
    res = dagum_gini([1, 3, 2, 6], ["a", "a", "b", "b"])
    assert isinstance(res, DagumResult)
    assert res.G == pytest.approx(1 / 3, rel=1e-14)
    assert res.Gw == pytest.approx(1 / 8, rel=1e-14)
    assert res.Gnb == pytest.approx(1 / 6, rel=1e-14)
    assert res.Gt == pytest.approx(1 / 24, rel=1e-14)
    assert res.Gb == pytest.approx(1 / 6 + 1 / 24, rel=1e-14)
    np.testing.assert_allclose(res.within.to_numpy(), [0.25, 0.25], rtol=1e-14)
    assert res.between.loc["a", "b"] == pytest.approx(5 / 12, rel=1e-14)
    assert res.between.loc["b", "a"] == pytest.approx(5 / 12, rel=1e-14)
    assert res.D.loc["b", "a"] == pytest.approx(0.8, rel=1e-14)
    assert res.D.loc["a", "b"] == pytest.approx(-0.8, rel=1e-14)
    np.testing.assert_allclose(res.groups["income_share"], [1 / 3, 2 / 3])
    pairs = res.pairs()
    assert pairs.iloc[0]["j"] == "b" and pairs.iloc[0]["D_jh"] == pytest.approx(0.8)
    np.testing.assert_allclose(res.contributions.to_numpy(), [3 / 8, 1 / 2, 1 / 8], rtol=1e-13)
    assert list(res.summary().columns[:4]) == ["G", "Gw", "Gnb", "Gt"]


def test_dagum_matches_bruteforce_and_identity():
    rng = np.random.default_rng(2)
    y = np.round(rng.lognormal(size=90), 1)  # rounding creates ties across groups
    g = rng.choice(["E", "C", "W"], size=90, p=[0.5, 0.3, 0.2])
    res = dagum_gini(y, g)
    ref = _dagum_bruteforce(y, g)
    for key in ("G", "Gw", "Gnb", "Gt"):
        assert getattr(res, key) == pytest.approx(ref[key], rel=1e-11), key
    assert res.Gw + res.Gnb + res.Gt == pytest.approx(res.G, rel=1e-12)
    assert res.G == pytest.approx(gini(y), rel=1e-12)
    for lab in ("E", "C", "W"):
        assert res.within[lab] == pytest.approx(gini(y[g == lab]), rel=1e-12)


def test_dagum_limits():
    # identical groups: no net between-group inequality, everything between is transvariation
    same = dagum_gini([1, 2, 3, 1, 2, 3], ["a"] * 3 + ["b"] * 3)
    assert same.Gnb == pytest.approx(0.0, abs=1e-15)
    assert same.D.loc["a", "b"] == 0.0
    # non-overlapping groups: no transvariation, D = 1
    apart = dagum_gini([1, 2, 3, 10, 11, 12], ["a"] * 3 + ["b"] * 3)
    assert apart.Gt == pytest.approx(0.0, abs=1e-15)
    assert apart.D.loc["b", "a"] == pytest.approx(1.0)


def test_dagum_large_sample_runs_vectorized():
    rng = np.random.default_rng(3)
    y = rng.lognormal(size=20000)
    g = rng.integers(0, 8, size=y.size)
    res = dagum_gini(y, g)
    assert res.Gw + res.Gnb + res.Gt == pytest.approx(res.G, rel=1e-10)
    assert res.between.shape == (8, 8)


def test_dagum_bad_input():
    with pytest.raises(ValueError, match="fewer than 2"):
        dagum_gini([1.0, 2.0, 3.0], ["a", "a", "b"])
    with pytest.raises(ValueError, match="negative"):
        dagum_gini([1.0, -2.0, 3.0, 4.0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="NaN"):
        dagum_gini([1.0, np.nan, 3.0, 4.0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="align"):
        dagum_gini([1.0, 2.0, 3.0, 4.0], ["a", "a", "b"])
    with pytest.raises(ValueError, match="two distinct"):
        dagum_gini([1.0, 2.0], ["a", "a"])
    with pytest.raises(ValueError, match="only zero"):
        dagum_gini([0.0, 0.0, 3.0, 4.0], ["a", "a", "b", "b"])
    # a singleton group is accepted only when asked for
    res = dagum_gini([1.0, 2.0, 3.0], ["a", "a", "b"], min_group_size=1)
    assert res.within["b"] == 0.0


# ---------------------------------------------------------------------------------------------
# kernel densities by year
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    years = np.repeat([2010, 2015, 2020], 150)
    return pd.DataFrame({"y": rng.normal(loc=(years - 2010) / 5, size=years.size), "year": years})


def test_kernel_density_overlay_matches_scipy(panel):
    from matplotlib.figure import Figure
    from scipy.stats import gaussian_kde

    fig = kernel_density_by_year(panel, "y", "year", kind="overlay", grid=128)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    for line, t in zip(ax.lines, [2010, 2015, 2020], strict=True):
        xs, dens = line.get_xdata(), line.get_ydata()
        expected = gaussian_kde(panel.loc[panel["year"] == t, "y"])(xs)
        np.testing.assert_allclose(dens, expected, rtol=1e-12)
        assert 0.97 < np.trapezoid(dens, xs) < 1.0 + 1e-9
    # the means shift right over time: the density peaks move right
    peaks = [line.get_xdata()[np.argmax(line.get_ydata())] for line in ax.lines]
    assert peaks[0] < peaks[1] < peaks[2]


def test_kernel_density_ridge_and_3d(panel):
    ridge = kernel_density_by_year(panel, "y", "year", years=[2010, 2020], title="t")
    ax = ridge.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2010", "2020"]
    assert ax.get_title() == "t"
    three = kernel_density_by_year(panel, "y", "year", kind="3d")
    assert three.axes[0].name == "3d"
    assert len(three.axes[0].lines) == 3


def test_kernel_density_bad_input(panel):
    with pytest.raises(ValueError, match="missing"):
        kernel_density_by_year(panel, "z", "year")
    with pytest.raises(ValueError, match="kind"):
        kernel_density_by_year(panel, "y", "year", kind="violin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NaN"):
        kernel_density_by_year(panel.assign(y=np.nan), "y", "year")
    with pytest.raises(ValueError, match="do not occur"):
        kernel_density_by_year(panel, "y", "year", years=[1999])
    flat = pd.DataFrame({"y": [1.0, 1.0, 2.0, 3.0], "year": [1, 1, 2, 2]})
    with pytest.raises(ValueError, match="fewer than 2 distinct"):
        kernel_density_by_year(flat, "y", "year")

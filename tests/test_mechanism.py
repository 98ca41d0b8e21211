"""Tests for helpers.mechanism: channel_regressions and mediation.

Known answers: simulated data with known a, b, c' (indirect effect a*b); the exact OLS identity
c = c' + a*b (Baron and Kenny 1986); the regressions equal pyfixest fits. Then bad input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.mechanism import channel_regressions, mediation

A, B, C_DIRECT = 0.5, 0.8, 0.3


def _sim(n_firms=200, n_years=8, seed=0, a=A, b=B, cp=C_DIRECT):
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(n_firms), n_years)
    year = np.tile(np.arange(n_years), n_firms)
    mu = rng.normal(size=n_firms)[firm]
    x = rng.normal(size=len(firm))
    d = (rng.normal(size=len(firm)) + mu > 0).astype(float)
    m = a * d + 0.5 * x + mu + rng.normal(size=len(firm))
    y = cp * d + b * m + 0.2 * x + 2 * mu + 0.1 * year + rng.normal(size=len(firm))
    return pd.DataFrame({"firm": firm, "year": year, "x": x, "d": d, "m": m, "y": y})


@pytest.fixture(scope="module")
def sim():
    return _sim()


def test_mediation_recovers_known_paths_and_indirect_effect(sim):
    res = mediation(sim, "y", "d", "m", controls=["x"], fe="firm+year", cluster="firm",
                    n_boot=999, seed=1)
    p = res.paths.set_index("path")
    for path, truth in (("a", A), ("b", B), ("c'", C_DIRECT), ("c", C_DIRECT + A * B)):
        est, se = p.loc[path, "coef"], p.loc[path, "se"]
        assert abs(est - truth) < 3 * se, path
    e = res.effects.set_index(["effect", "method"])
    for method in ("Sobel", "bootstrap percentile"):
        lo, hi = e.loc[("indirect", method), ["ci_low", "ci_high"]]
        assert lo < A * B < hi, method
    share = A * B / (C_DIRECT + A * B)
    lo, hi = e.loc[("share_mediated", "bootstrap percentile"), ["ci_low", "ci_high"]]
    assert lo < share < hi
    # the bootstrap and Sobel standard errors agree in a large sample
    assert e.loc[("indirect", "bootstrap percentile"), "se"] == pytest.approx(
        e.loc[("indirect", "Sobel"), "se"], rel=0.3)


def test_total_equals_direct_plus_indirect_exactly(sim):
    res = mediation(sim, "y", "d", "m", controls=["x"], fe="firm+year", n_boot=200)
    p = res.paths.set_index("path")["coef"]
    assert p["c"] == pytest.approx(p["c'"] + p["a"] * p["b"], abs=1e-8)


def test_paths_equal_pyfixest_and_bootstrap_is_seeded(sim):
    pf = pytest.importorskip("pyfixest")
    res = mediation(sim, "y", "d", "m", fe="firm+year", cluster="firm", n_boot=300, seed=7)
    fit = pf.feols("y ~ d + m | firm+year", sim, vcov={"CRV1": "firm"})
    p = res.paths.set_index("path")
    assert p.loc["b", "coef"] == pytest.approx(fit.coef()["m"], abs=1e-10)
    assert p.loc["b", "se"] == pytest.approx(fit.se()["m"], abs=1e-10)
    again = mediation(sim, "y", "d", "m", fe="firm+year", cluster="firm", n_boot=300, seed=7)
    np.testing.assert_array_equal(res.boot, again.boot)
    other = mediation(sim, "y", "d", "m", fe="firm+year", cluster="firm", n_boot=300, seed=8)
    assert not np.array_equal(res.boot, other.boot)


def test_no_mediation_indirect_ci_covers_zero():
    df = _sim(a=0.0, seed=3)
    res = mediation(df, "y", "d", "m", controls=["x"], fe="firm+year", cluster="firm",
                    n_boot=400, seed=0)
    e = res.effects.set_index(["effect", "method"])
    lo, hi = e.loc[("indirect", "bootstrap percentile"), ["ci_low", "ci_high"]]
    assert lo < 0 < hi


def test_channel_regressions_match_pyfixest_and_truth(sim):
    pf = pytest.importorskip("pyfixest")
    tab = channel_regressions(sim, "d", ["m", "x"], fe="firm+year", cluster="firm")
    assert list(tab.channel) == ["m", "x"]
    fit = pf.feols("m ~ d | firm+year", sim, vcov={"CRV1": "firm"})
    row = tab.set_index("channel").loc["m"]
    assert row["coef"] == pytest.approx(fit.coef()["d"], abs=1e-10)
    assert row["p"] == pytest.approx(fit.pvalue()["d"], abs=1e-10)
    assert row["ci_low"] < A < row["ci_high"]
    assert set(tab.attrs["models"]) == {"m", "x"}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mediator": "nope"}, "missing from the data"),
        ({"mediator": "y"}, "three different columns"),
        ({"n_boot": 50}, "too few"),
        ({"cluster": "one"}, "single cluster"),
        ({"treatment": "const"}, "never varies"),
    ],
)
def test_mediation_bad_input(sim, kwargs, match):
    df = sim.assign(one=1, const=1.0)
    args = {"y": "y", "treatment": "d", "mediator": "m", **kwargs}
    with pytest.raises(ValueError, match=match):
        mediation(df, **args)


def test_channel_regressions_bad_input(sim):
    with pytest.raises(ValueError, match="channels is empty"):
        channel_regressions(sim, "d", [])
    with pytest.raises(ValueError, match="never varies"):
        channel_regressions(sim.assign(d=0.0), "d", ["m"])
    with pytest.raises(ValueError, match="missing from the data"):
        channel_regressions(sim, "d", ["zz"])


def test_mediation_with_singleton_firms(sim):
    # regression test: firms observed once are dropped by pyfixest; the residuals used by the
    # bootstrap must be computed on the same rows (this used to fail with a broadcasting error)
    extra = _sim(n_firms=30, n_years=1, seed=9).assign(firm=lambda f: f.firm + 10_000)
    data = pd.concat([sim, extra], ignore_index=True)
    with_single = mediation(data, "y", "d", "m", controls=["x"], fe="firm+year", cluster="firm",
                            n_boot=200, seed=1)
    without = mediation(sim, "y", "d", "m", controls=["x"], fe="firm+year", cluster="firm",
                        n_boot=200, seed=1)
    pd.testing.assert_frame_equal(with_single.paths, without.paths)

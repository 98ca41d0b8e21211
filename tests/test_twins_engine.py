"""Tests for helpers.twins.engine, geography and policies (known answers first)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.twins import engine as E
from helpers.twins import geography as G
from helpers.twins import policies as P


# ---- known answers --------------------------------------------------------------------------
def test_match_moments_hits_targets_exactly_without_bounds() -> None:
    # hand-computable: x = (1, 2, 3, 10) has mean 4, sd sqrt(12.5); y = 5 + 2 (x - 4)/sqrt(12.5)
    x = np.array([1.0, 2.0, 3.0, 10.0])
    y = E.match_moments(x, 5.0, 2.0)
    np.testing.assert_allclose(y, 5 + 2 * (x - 4) / np.sqrt(12.5), rtol=1e-12)


def test_match_moments_with_bounds_and_point_mass_hits_targets() -> None:
    z = np.random.default_rng(0).standard_normal(5000)
    m = E.Marginal(mean=1.2323, sd=1.5442, min=0.0, max=8.5524, zero_share=0.45)  # VCPE1, spec Table 2
    v = E.to_marginal(z, m)
    assert abs(v.mean() - 1.2323) < 1e-9 and abs(v.std() - 1.5442) < 1e-9
    assert v.min() == 0.0 and v.max() <= 8.5524
    assert abs((v == 0).mean() - 0.45) < 0.001


def test_to_marginal_is_monotone_so_ranks_survive() -> None:
    z = np.random.default_rng(1).standard_normal(1000)
    v = E.to_marginal(z, E.Marginal(1.35, 1.48, 0.16, 35.8, skew=0.8))
    assert (np.diff(v[np.argsort(z)]) >= 0).all()


def test_gaussian_copula_correlation_within_tolerance() -> None:
    c = np.array([[1, 0.6, -0.5], [0.6, 1, -0.5], [-0.5, -0.5, 1]])
    z = E.gaussian_copula(40_000, c, np.random.default_rng(2))
    np.testing.assert_allclose(np.corrcoef(z.T), c, atol=0.02)


def test_staggered_treatment_known_answer() -> None:
    panel = E.balanced_panel(["a", "b", "c"], range(2014, 2018), unit_col="city")
    d, g = E.staggered_treatment(panel.city, panel.year, {"a": 2015, "b": 2016})
    assert d.tolist() == [0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0]
    assert g.tolist() == [2015] * 4 + [2016] * 4 + [0] * 4
    rel = E.event_time(panel.year, g)
    assert rel[:4].tolist() == [-1, 0, 1, 2] and np.isnan(rel[8:]).all()


def test_dynamic_effect_and_groups() -> None:
    eff = E.dynamic_effect(np.array([-2, 0, 1, 2, 7, np.nan]), {0: 0.1, 1: 0.2, 2: 0.3})
    assert eff.tolist() == [0.0, 0.1, 0.2, 0.3, 0.3, 0.0]
    assert E.effect_by_group(np.array(["lo", "hi"]), {"lo": 1.0, "hi": 2.0}).tolist() == [1.0, 2.0]


def test_unbalanced_panel_expands_entry_exit() -> None:
    p = E.unbalanced_panel([2011, 2013], [2013, 2014], units=["x", "y"], unit_col="firm")
    assert p.firm.tolist() == ["x", "x", "x", "y", "y"]
    assert p.year.tolist() == [2011, 2012, 2013, 2013, 2014]


def test_measurement_error_attenuates_ols_by_the_reliability() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200_000)
    y = 2.0 * x + rng.standard_normal(x.size)
    xs = E.add_measurement_error(x, 0.75, rng)
    slope = np.cov(xs, y)[0, 1] / xs.var()
    assert abs(slope - 2.0 * 0.75) < 0.02


# ---- properties -----------------------------------------------------------------------------
def test_draw_panel_covariates_exact_moments_and_between_share() -> None:
    p = E.balanced_panel(300, range(2010, 2023))
    X = E.draw_panel_covariates(p.unit, p.year, {"g": E.Marginal(10.7448, 0.5934, 8.5762, 13.0557)},
                                np.random.default_rng(4), between_share=0.8)
    assert abs(X.g.mean() - 10.7448) < 1e-9 and abs(X.g.std(ddof=0) - 0.5934) < 1e-9
    share = X.g.groupby(p.unit).transform("mean").var() / X.g.var()
    assert 0.7 < share < 0.9


def test_draw_effects_constant_within_cells() -> None:
    ind = np.array([1, 1, 2, 2])
    yr = np.array([2010, 2011, 2010, 2010])
    e = E.draw_effects(ind, 1.0, np.random.default_rng(5), by=yr)
    assert e[2] == e[3] and e[0] != e[1]


def test_twin_marks_frames_and_hash_is_stable() -> None:
    t = E.Twin("x", pd.DataFrame({"a": [1.0]}), raw={"r": pd.DataFrame({"b": [1]})}, truth={"tau": 1})
    assert t.panel.attrs == {"simulated": True, "twin": "x"} and t.raw["r"].attrs["simulated"]
    assert E.hash_frame(t.panel) == E.hash_frame(pd.DataFrame({"a": [1.0]}))
    assert "truth['tau'] = 1" in t.describe()


def test_city_table_matches_cpca_and_283_sample() -> None:
    pd.testing.assert_frame_equal(G.city_table(), G.build_city_table_from_cpca(), check_dtype=False)
    s = G.select_cities(283)
    # spec 004 sec. 2: East 86, Central 80, West 83, Northeast 34
    assert s.region.value_counts().to_dict() == {"East": 86, "West": 83, "Central": 80, "Northeast": 34}
    assert "540100" not in set(s.adcode) and "520500" not in set(s.adcode)  # Lhasa, Bijie


def test_bigdata_zones_give_389_treated_city_years() -> None:
    # spec 004 sec. 2.1: 4 x 8 + 51 x 7 = 389 on the 283-city sample
    codes = G.select_cities(283).adcode.tolist()
    g = P.adoption_years(codes, "bigdata_zones")
    assert (g == 2015).sum() == 4 and (g == 2016).sum() == 51
    assert int(((2023 - g) * (g > 0)).sum()) == 389


def test_policy_lists_are_labelled() -> None:
    for key in P.POLICY_KEYS:
        pl = P.pilot_list(key)
        assert pl.status in ("official", "reconstructed") and pl.source
    assert P.pilot_list("smart_city").status == "reconstructed"
    assert P.pilot_list("industry_finance").status == "reconstructed"
    assert len(P.pilot_list("industry_finance").adoption) == 37


# ---- bad input ------------------------------------------------------------------------------
def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="non-constant"):
        E.match_moments(np.ones(5), 0.0, 1.0)
    with pytest.raises(ValueError, match="cannot reach"):
        E.match_moments(np.random.default_rng(0).standard_normal(100), 0.5, 5.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="min < mean < max"):
        E.Marginal(5.0, 1.0, 6.0, 9.0)
    with pytest.raises(ValueError, match="square"):
        E.gaussian_copula(10, np.ones((2, 3)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="exit before they enter"):
        E.unbalanced_panel([2012], [2011])
    with pytest.raises(ValueError, match="no effect given"):
        E.effect_by_group(np.array([3]), {1: 0.1})
    with pytest.raises(ValueError, match="unknown pilot list"):
        P.pilot_list("smart_cities")
    with pytest.raises(ValueError, match="n=400"):
        G.select_cities(400)
    with pytest.raises(ValueError, match="not found"):
        G.find_cities(["不存在市"])


# --------------------------------------------------------------------------------------------
# the honest-twin interface: Spec, Twin.truth_for, Twin.redraw
# --------------------------------------------------------------------------------------------
def _fake_builder(monkeypatch, with_start: bool):
    import sys
    import types

    mod = types.ModuleType("fake_twin_builder")

    def draw(n, seed, r):
        return np.random.default_rng([seed, r]).normal(size=n)

    if with_start:
        def redraw(twin, R, seed, start=0):
            return {"y": np.column_stack([draw(len(twin.panel), seed, r) for r in range(start, start + R)])}
    else:
        def redraw(twin, R, seed):
            return {"y": np.column_stack([draw(len(twin.panel), seed, r) for r in range(R)])}
    mod.redraw = redraw
    mod.SPECS = (E.Spec("t1/c1", "y ~ x", "iid", {"x": "x"}),)
    monkeypatch.setitem(sys.modules, "fake_twin_builder", mod)
    return E.Twin("x", pd.DataFrame({"y": [0.0] * 4, "x": [1.0, 2, 3, 4]}),
                  meta={"seed": 7, "builder": "fake_twin_builder"})


@pytest.mark.parametrize("with_start", [True, False])
def test_redraw_is_nested_chunked_and_checked(monkeypatch, with_start: bool) -> None:
    tw = _fake_builder(monkeypatch, with_start)
    full = tw.redraw(6)["y"]
    assert full.shape == (4, 6)
    np.testing.assert_array_equal(tw.redraw(2, start=3)["y"], full[:, 3:5])
    np.testing.assert_array_equal(tw.redraw(3)["y"], full[:, :3])
    assert not np.array_equal(tw.redraw(3, seed=8)["y"], full[:, :3])
    assert tw.specs[0].outcome == "y"
    with pytest.raises(ValueError, match="does not redraw"):
        tw.redraw(2, outcomes=["z"])
    with pytest.raises(ValueError, match="R >= 1"):
        tw.redraw(0)


def test_redraw_without_a_builder_function_says_so() -> None:
    tw = E.Twin("x", pd.DataFrame({"a": [1]}), meta={"builder": "helpers.twins.engine"})
    with pytest.raises(ValueError, match="does not implement redraw"):
        tw.redraw(1)


def test_truth_for_splits_estimand_and_effect() -> None:
    rows = {"t1/c1/x": {"estimand": 0.5, "effect": 0.2, "why": "spillovers"},
            "t1/c1/z": {"estimand": 1.0}, "t1/c2/x": {"estimand": 9.0}}
    out = E.Twin("x", pd.DataFrame({"a": [1]}), truth={"rows": rows}).truth_for("t1", "c1")
    assert out == {"estimand": {"x": 0.5, "z": 1.0}, "effect": {"x": 0.2},
                   "effect_note": {"x": "spillovers"}}


def test_spec_rejects_malformed_keys_and_formulas() -> None:
    with pytest.raises(ValueError, match="<table>/<column>"):
        E.Spec("table3", "y ~ x", "iid", {"x": "x"})
    with pytest.raises(ValueError, match="pyfixest formula"):
        E.Spec("t/c", "y x", "iid", {"x": "x"})
    with pytest.raises(ValueError, match="published terms"):
        E.Spec("t/c", "y ~ x", "iid", {})

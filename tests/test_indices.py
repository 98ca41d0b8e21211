"""Tests for helpers.indices: known answers first, then properties, then bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.indices import (
    COUPLING_GRADES,
    EntropyResult,
    ScatterDegreeResult,
    coupling_coordination,
    entropy_index,
    entropy_weights,
    scatter_degree_index,
    scatter_degree_weights,
)


def _textbook_entropy_weights(X: np.ndarray) -> np.ndarray:
    """Independent, loop-based textbook entropy method on raw data (p = x / sum x)."""
    n, m = X.shape
    d = []
    for j in range(m):
        col_sum = sum(X[k, j] for k in range(n))
        s = 0.0
        for k in range(n):
            p = X[k, j] / col_sum
            if p > 0:
                s += p * math.log(p)
        d.append(1.0 + s / math.log(n))
    total = sum(d)
    return np.array([dj / total for dj in d])


# ---------------------------------------------------------------------------------------------
# entropy: known answers
# ---------------------------------------------------------------------------------------------


def test_entropy_raw_hand_computed():
    # a = [1, 1, 2]: p = (1/4, 1/4, 1/2); e = (2 * 1/4 ln 4 + 1/2 ln 2) / ln 3
    # b = [1, 2, 3]: p = (1/6, 1/3, 1/2); e = (1/6 ln 6 + 1/3 ln 3 + 1/2 ln 2) / ln 3
    X = pd.DataFrame({"a": [1.0, 1.0, 2.0], "b": [1.0, 2.0, 3.0]})
    e_a = (0.5 * math.log(4) + 0.5 * math.log(2)) / math.log(3)
    e_b = (math.log(6) / 6 + math.log(3) / 3 + math.log(2) / 2) / math.log(3)
    assert e_a == pytest.approx(0.946395, abs=1e-6)
    assert e_b == pytest.approx(0.920620, abs=1e-6)
    res = entropy_weights(X, standardize=False, return_details=True)
    assert isinstance(res, EntropyResult)
    assert res.shift == 0.0
    np.testing.assert_allclose(res.entropy.to_numpy(), [e_a, e_b], rtol=1e-13)
    np.testing.assert_allclose(res.divergence.to_numpy(), [1 - e_a, 1 - e_b], rtol=1e-12)
    d = np.array([1 - e_a, 1 - e_b])
    np.testing.assert_allclose(res.weights.to_numpy(), d / d.sum(), rtol=1e-12)
    assert list(res.table().columns) == ["entropy", "divergence", "weight"]


def test_entropy_standardized_hand_computed_without_shift():
    # a = [0, 1, 2] -> x' = (0, 1/2, 1) -> p = (0, 1/3, 2/3)
    # e_a = (1/3 ln 3 + 2/3 ln 3/2) / ln 3 = 0.579380; cost c = [2, 1, 0] reverses to the same.
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "c": [2.0, 1.0, 0.0], "b": [0.0, 0.0, 5.0]})
    res = entropy_weights(X, directions={"c": "-"}, shift=0.0, return_details=True)
    e_a = (math.log(3) / 3 + 2 / 3 * math.log(1.5)) / math.log(3)
    assert e_a == pytest.approx(0.579380, abs=1e-6)
    # b -> x' = (0, 0, 1) -> p = (0, 0, 1) -> e = 0, d = 1
    np.testing.assert_allclose(res.entropy.to_numpy(), [e_a, e_a, 0.0], atol=1e-14)
    d = np.array([1 - e_a, 1 - e_a, 1.0])
    np.testing.assert_allclose(res.weights.to_numpy(), d / d.sum(), rtol=1e-12)
    np.testing.assert_allclose(res.standardized["c"].to_numpy(), [0.0, 0.5, 1.0])


def test_entropy_default_shift_matches_formula():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 7.0], "b": [3.0, 1.0, 4.0, 1.0]})
    res = entropy_weights(X, return_details=True)
    assert res.shift == 1e-4
    xs = (X - X.min()) / (X.max() - X.min()) + 1e-4
    p = xs / xs.sum()
    e = -(p * np.log(p)).sum() / np.log(4)
    np.testing.assert_allclose(res.entropy.to_numpy(), e.to_numpy(), rtol=1e-13)


def test_entropy_raw_equals_textbook_loop_implementation():
    rng = np.random.default_rng(1)
    X = rng.lognormal(size=(200, 5))
    X[3, 2] = 0.0  # a zero uses the 0 ln 0 = 0 convention
    w = entropy_weights(pd.DataFrame(X), standardize=False)
    np.testing.assert_allclose(w.to_numpy(), _textbook_entropy_weights(X), rtol=1e-11)


def test_entropy_index_hand_computed_and_scale():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "cost": [3.0, 2.0, 1.0]})
    s = entropy_index(X, directions={"cost": -1}, scale=100)
    np.testing.assert_allclose(s.to_numpy(), [0.0, 50.0, 100.0], atol=1e-12)
    assert s.name == "index"


def test_entropy_index_dimensions_add_up():
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.gamma(2.0, size=(50, 4)), columns=list("abcd"))
    out = entropy_index(
        X, directions={"d": "-"}, scale=100, dimensions={"A": ["a", "b"], "B": ["c", "d"]}
    )
    assert list(out.columns) == ["A", "B", "index"]
    np.testing.assert_allclose((out["A"] + out["B"]).to_numpy(), out["index"].to_numpy())
    w = entropy_weights(X, directions={"d": "-"})
    Z = (X - X.min()) / (X.max() - X.min())
    Z["d"] = (X["d"].max() - X["d"]) / (X["d"].max() - X["d"].min())
    np.testing.assert_allclose(out["index"].to_numpy(), 100 * (Z * w).sum(axis=1).to_numpy())


def test_entropy_index_with_given_weights():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0], "b": [2.0, 0.0, 1.0]})
    s = entropy_index(X, weights={"b": 0.75, "a": 0.25})
    np.testing.assert_allclose(s.to_numpy(), [0.75, 0.125, 0.625])


# ---------------------------------------------------------------------------------------------
# entropy: properties
# ---------------------------------------------------------------------------------------------


def test_entropy_weights_sum_to_one_and_are_invariant_to_rescaling():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.lognormal(size=(100, 4)), columns=list("abcd"))
    w = entropy_weights(X, directions={"b": "-"})
    assert w.sum() == pytest.approx(1.0, abs=1e-14)
    assert (w > 0).all()
    X2 = X.copy()
    X2["a"] = 1000.0 * X2["a"] + 7.0  # new units and origin
    X2["b"] = 0.01 * X2["b"]
    pd.testing.assert_series_equal(entropy_weights(X2, directions={"b": "-"}), w, rtol=1e-10)
    # the raw method is invariant to scale (not to shifts)
    w_raw = entropy_weights(X, standardize=False)
    X3 = X * np.array([3.0, 0.5, 10.0, 1.0])
    pd.testing.assert_series_equal(entropy_weights(X3, standardize=False), w_raw, rtol=1e-10)


def test_entropy_negative_direction_equals_reversed_column():
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    w_neg = entropy_weights(X, directions={"c": "-"})
    X_rev = X.assign(c=-X["c"])
    pd.testing.assert_series_equal(w_neg, entropy_weights(X_rev), rtol=1e-12)


def test_more_dispersed_indicator_gets_more_weight():
    # a skewed indicator (most units near the minimum) has lower entropy than a uniform one
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"uniform": rng.uniform(size=500), "skewed": rng.pareto(1.5, size=500)})
    w = entropy_weights(X)
    assert w["skewed"] > w["uniform"]


def test_pooled_and_per_year_standardization_give_different_trends():
    # every unit grows by 1 per year: the pooled index rises, the per-year index is flat
    rng = np.random.default_rng(6)
    years = np.repeat(np.arange(2010, 2015), 40)
    base = rng.uniform(size=(200, 2))
    panel = pd.DataFrame(base + (years - 2010)[:, None], columns=["a", "b"])
    panel["year"] = years
    pooled = entropy_index(panel[["a", "b"]])
    per_year = entropy_index(panel, by="year")
    pooled_means = pooled.groupby(years).mean()
    per_year_means = per_year.groupby(years).mean()
    assert pooled_means.is_monotonic_increasing
    assert pooled_means.iloc[-1] - pooled_means.iloc[0] > 0.5
    assert abs(per_year_means.iloc[-1] - per_year_means.iloc[0]) < 0.2
    # by as a Series gives the same as by as a column name
    pd.testing.assert_series_equal(entropy_index(panel[["a", "b"]], by=panel["year"]), per_year)
    # per-year: each year's minimum on every indicator is 0 and maximum 1
    res = entropy_weights(panel, by="year", return_details=True)
    assert (res.standardized.groupby(years).min() == 0).all().all()
    assert (res.standardized.groupby(years).max() == 1).all().all()


def test_large_shift_limit_is_variance_shares():
    # For shift >> x', e_j ~ 1 - Var(x'_j) / (2 ln n (mean + shift)^2), so the weights tend to
    # Var(x'_j) / sum Var(x'_j): a second-order expansion of p ln p around 1/n.
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"a": rng.uniform(size=100), "b": rng.pareto(2.0, size=100)})
    Z = (X - X.min()) / (X.max() - X.min())
    v = Z.var(ddof=0)
    np.testing.assert_allclose(
        entropy_weights(X, shift=1e4).to_numpy(), (v / v.sum()).to_numpy(), rtol=1e-3
    )
    # ... and the default small shift gives very different weights: the shift matters
    assert abs(entropy_weights(X)["a"] - v["a"] / v.sum()) > 0.3


# ---------------------------------------------------------------------------------------------
# entropy: bad input
# ---------------------------------------------------------------------------------------------


def test_entropy_bad_input():
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 7.0]})
    with pytest.raises(ValueError, match="constant"):
        entropy_weights(X.assign(b=1.0))
    with pytest.raises(ValueError, match="constant"):
        entropy_weights(X.assign(b=1.0), standardize=False)
    with pytest.raises(ValueError, match="missing values"):
        entropy_weights(X.assign(a=[1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="negative values"):
        entropy_weights(X.assign(a=[-1.0, 2.0, 3.0]), standardize=False)
    with pytest.raises(ValueError, match="not in the data"):
        entropy_weights(X, directions={"z": "-"})
    with pytest.raises(ValueError, match="not understood"):
        entropy_weights(X, directions={"a": "down"})
    with pytest.raises(ValueError, match="need standardize=True"):
        entropy_weights(X, directions={"a": "-"}, standardize=False)
    with pytest.raises(ValueError, match="shift"):
        entropy_weights(X, shift=-1.0)
    with pytest.raises(ValueError, match="not numeric"):
        entropy_weights(X.assign(c=["x", "y", "z"]))
    with pytest.raises(ValueError, match="not a column"):
        entropy_weights(X, by="year")
    with pytest.raises(ValueError, match="aligned|align"):
        entropy_weights(X, by=[1, 2])
    with pytest.raises(ValueError, match="constant"):
        entropy_weights(X, by=pd.Series([1, 1, 2], index=X.index))  # year 2 has one row
    with pytest.raises(ValueError, match="sum to 1"):
        entropy_index(X, weights={"a": 0.5, "b": 0.6})
    with pytest.raises(ValueError, match="match"):
        entropy_index(X, weights={"a": 1.0})
    with pytest.raises(ValueError, match="unknown indicator"):
        entropy_index(X, dimensions={"D": ["a", "zz"]})


# ---------------------------------------------------------------------------------------------
# scatter-degree method
# ---------------------------------------------------------------------------------------------


def _panel_from(cols: dict[str, list[float]], n_entity: int) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    frame = pd.DataFrame(cols)
    frame.insert(0, "year", np.repeat(np.arange(n // n_entity), n_entity))
    frame.insert(0, "city", np.tile(np.arange(n_entity), n // n_entity))
    return frame


def test_scatter_degree_hand_computed():
    # Two cities x two years. The columns have mean 0 and
    #   x1 = (1, 1, -1, -1), x2 = (1, 0, 0, -1), x3 = (1, -1, -1, 1):
    # corr(x1, x2) = 2 / sqrt(4 * 2) = 1/sqrt(2), x3 is uncorrelated with both. So
    # H = nN * R = 4 * [[1, r, 0], [r, 1, 0], [0, 0, 1]], lambda_max = 4 (1 + 1/sqrt 2) and the
    # leading eigenvector is (1, 1, 0)/sqrt 2: weights (1/2, 1/2, 0).
    panel = _panel_from({"x1": [1, 1, -1, -1], "x2": [1, 0, 0, -1], "x3": [1, -1, -1, 1]}, 2)
    res = scatter_degree_weights(panel, "city", "year", return_details=True)
    assert isinstance(res, ScatterDegreeResult)
    r = 1 / math.sqrt(2)
    np.testing.assert_allclose(
        res.H.to_numpy(), 4 * np.array([[1, r, 0], [r, 1, 0], [0, 0, 1]]), atol=1e-12
    )
    assert res.eigenvalue == pytest.approx(4 * (1 + r), rel=1e-12)
    np.testing.assert_allclose(res.weights.to_numpy(), [0.5, 0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(res.eigenvector.to_numpy(), [r, r, 0.0], atol=1e-12)
    assert not res.constrained


def test_scatter_degree_H_is_sum_over_years():
    rng = np.random.default_rng(8)
    n, T, m = 6, 4, 3
    X = rng.normal(size=(n * T, m)) @ np.array([[1, 0.5, 0.2], [0, 1, 0.3], [0, 0, 1]])
    panel = _panel_from({f"x{j}": X[:, j] for j in range(m)}, n)
    res = scatter_degree_weights(panel, "city", "year", return_details=True)
    Z = (X - X.mean(0)) / X.std(0)
    H = sum(Z[panel["year"] == t].T @ Z[panel["year"] == t] for t in range(T))
    np.testing.assert_allclose(res.H.to_numpy(), H, rtol=1e-12)
    # weights are the first principal-component loadings of the pooled correlation matrix
    vals, vecs = np.linalg.eigh(np.corrcoef(X.T))
    v = np.abs(vecs[:, -1])
    np.testing.assert_allclose(res.weights.to_numpy(), v / v.sum(), rtol=1e-10)


def test_scatter_degree_equicorrelated_gives_equal_weights():
    rng = np.random.default_rng(9)
    common = rng.normal(size=300)
    # three indicators with the same loading on a common factor and orthogonal noise
    noise = np.linalg.qr(rng.normal(size=(300, 4)))[0][:, 1:] * np.sqrt(300)
    noise -= noise.mean(0)
    X = {f"x{j}": common + noise[:, j] for j in range(3)}
    res = scatter_degree_weights(_panel_from(X, 30), "city", "year")
    assert res.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(res.to_numpy(), [1 / 3] * 3, atol=0.02)


def test_scatter_degree_weights_maximize_dispersion_and_are_scale_invariant():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(60, 4)) + rng.normal(size=(60, 1))
    panel = _panel_from({f"x{j}": X[:, j] for j in range(4)}, 12)
    res = scatter_degree_weights(panel, "city", "year", return_details=True)
    v = res.eigenvector.to_numpy()
    H = res.H.to_numpy()
    trials = rng.normal(size=(2000, 4))
    trials /= np.linalg.norm(trials, axis=1, keepdims=True)
    assert np.einsum("ij,jk,ik->i", trials, H, trials).max() <= v @ H @ v + 1e-9
    scaled = panel.assign(x0=panel["x0"] * 1e6, x3=panel["x3"] / 7 + 3)
    pd.testing.assert_series_equal(
        scatter_degree_weights(scaled, "city", "year"), res.weights, rtol=1e-10
    )
    flipped = panel.assign(x2=-panel["x2"])
    pd.testing.assert_series_equal(
        scatter_degree_weights(flipped, "city", "year", directions={"x2": "-"}),
        res.weights,
        rtol=1e-10,
    )


def test_scatter_degree_mixed_signs_solves_nonnegative_problem():
    rng = np.random.default_rng(11)
    f = rng.normal(size=200)
    X = np.column_stack(
        [
            f + 0.3 * rng.normal(size=200),
            f + 0.3 * rng.normal(size=200),
            -f + 0.3 * rng.normal(size=200),
        ]
    )
    panel = _panel_from({f"x{j}": X[:, j] for j in range(3)}, 20)
    res = scatter_degree_weights(panel, "city", "year", return_details=True)
    assert res.constrained
    w = res.eigenvector.to_numpy()
    assert (w >= 0).all() and np.linalg.norm(w) == pytest.approx(1.0)
    H = res.H.to_numpy()
    # brute force over the non-negative unit sphere (grid in spherical coordinates)
    th, ph = np.meshgrid(np.linspace(0, np.pi / 2, 301), np.linspace(0, np.pi / 2, 301))
    grid = np.column_stack(
        [(np.sin(th) * np.cos(ph)).ravel(), (np.sin(th) * np.sin(ph)).ravel(), np.cos(th).ravel()]
    )
    best = np.einsum("ij,jk,ik->i", grid, H, grid).max()
    assert w @ H @ w >= best - 1e-6


def test_scatter_degree_index_minmax_and_zscore():
    panel = _panel_from({"x1": [0.0, 1, 2, 3], "x2": [0.0, 2, 1, 3]}, 2)
    s = scatter_degree_index(panel, "city", "year")
    np.testing.assert_allclose(s["score"].to_numpy(), np.array([0, 0.5, 0.5, 1]) + 1e-4)
    assert list(s.columns) == ["city", "year", "score"]
    z = scatter_degree_index(panel, "city", "year", score="zscore")
    assert z["score"].mean() == pytest.approx(0.0, abs=1e-12)
    cost = panel.assign(x2=-panel["x2"])
    s_cost = scatter_degree_index(cost, "city", "year", directions={"x2": "-"})
    np.testing.assert_allclose(s_cost["score"].to_numpy(), s["score"].to_numpy())


def test_scatter_degree_bad_input():
    panel = _panel_from({"x1": [0.0, 1, 2, 3], "x2": [0.0, 2, 1, 3]}, 2)
    with pytest.raises(ValueError, match="missing"):
        scatter_degree_weights(panel, "city", "t")
    with pytest.raises(ValueError, match="duplicated"):
        scatter_degree_weights(pd.concat([panel, panel]), "city", "year")
    with pytest.raises(ValueError, match="constant"):
        scatter_degree_weights(panel.assign(x2=1.0), "city", "year")
    with pytest.raises(ValueError, match="missing values"):
        scatter_degree_weights(panel.assign(x2=[1.0, np.nan, 2, 3]), "city", "year")
    with pytest.raises(ValueError, match="at least 2"):
        scatter_degree_weights(panel, "city", "year", columns=["x1"])
    with pytest.raises(ValueError, match="score must be"):
        scatter_degree_index(panel, "city", "year", score="rank")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# coupling coordination
# ---------------------------------------------------------------------------------------------


def test_coupling_two_systems_hand_computed():
    out = coupling_coordination([0.2, 0.5], [0.2, 0.1])
    # row 1: equal -> C = 1, T = 0.2, D = sqrt(0.2)
    # row 2: C = 2 sqrt(0.05) / 0.6, T = 0.3, D = sqrt(C T)
    C2 = 2 * math.sqrt(0.05) / 0.6
    np.testing.assert_allclose(out["C"], [1.0, C2], rtol=1e-14)
    np.testing.assert_allclose(out["T"], [0.2, 0.3], rtol=1e-14)
    np.testing.assert_allclose(out["D"], [math.sqrt(0.2), math.sqrt(0.3 * C2)], rtol=1e-14)
    assert out["grade_zh"].tolist() == ["濒临失调", "濒临失调"]
    assert out["grade_en"].tolist() == ["Verge of imbalance"] * 2


def test_coupling_three_systems_hand_computed():
    # U = (0.1, 0.2, 0.4): geometric mean 0.008^(1/3) = 0.2, sum 0.7 -> C = 0.6 / 0.7
    out = coupling_coordination([0.1], [0.2], [0.4])
    assert out["C"].iloc[0] == pytest.approx(6 / 7, rel=1e-13)
    assert out["T"].iloc[0] == pytest.approx(0.7 / 3, rel=1e-13)
    assert out["D"].iloc[0] == pytest.approx(math.sqrt(0.2), rel=1e-13)
    w = coupling_coordination([0.1], [0.2], [0.4], weights=[0.5, 0.25, 0.25])
    assert w["T"].iloc[0] == pytest.approx(0.2, rel=1e-13)


def test_coupling_matches_spec_two_system_formula_and_bounds():
    rng = np.random.default_rng(12)
    u1 = pd.Series(rng.uniform(size=500), index=pd.RangeIndex(100, 600))
    u2 = pd.Series(rng.uniform(size=500), index=u1.index)
    out = coupling_coordination(u1, u2)
    assert out.index.equals(u1.index)
    C = 2 * np.sqrt(u1 * u2) / (u1 + u2)
    np.testing.assert_allclose(out["C"], C, rtol=1e-12)
    np.testing.assert_allclose(out["D"], np.sqrt(C * (0.5 * u1 + 0.5 * u2)), rtol=1e-12)
    assert out["D"].between(0, 1).all() and out["C"].between(0, 1).all()
    # with equal weights C * T is the geometric mean, so D = (U1 U2)^(1/4)
    np.testing.assert_allclose(out["D"], (u1 * u2) ** 0.25, rtol=1e-12)


def test_coupling_grades_at_boundaries():
    # D = sqrt(C T) with U1 = U2 = u gives C = 1 and D = sqrt(u)
    u = np.array([0.0, 0.0001, 0.01, 0.09, 0.25, 0.81, 1.0]) + np.array([1e-12, 0, 0, 0, 0, 0, 0])
    out = coupling_coordination(u, u)
    assert out["grade"].tolist() == [1, 1, 2, 4, 6, 10, 10]
    assert out["grade_zh"].tolist()[-1] == "优质协调"
    assert out["grade_zh"].tolist()[0] == "极度失调"
    assert len(COUPLING_GRADES) == 10
    # a zero subsystem gives C = 0 and D = 0
    z = coupling_coordination([0.0], [0.5])
    assert z["C"].iloc[0] == 0.0 and z["D"].iloc[0] == 0.0


def test_coupling_bad_input():
    with pytest.raises(ValueError, match="at least two"):
        coupling_coordination([0.1, 0.2])
    with pytest.raises(ValueError, match="different lengths"):
        coupling_coordination([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="NaN"):
        coupling_coordination([0.1, np.nan], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        coupling_coordination([0.1, 1.2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        coupling_coordination([0.1, -0.2], [0.1, 0.2])
    with pytest.raises(ValueError, match="0/0"):
        coupling_coordination([0.0, 0.2], [0.0, 0.2])
    with pytest.raises(ValueError, match="sum to 1"):
        coupling_coordination([0.1], [0.2], weights=[0.7, 0.7])
    with pytest.raises(ValueError, match="one per subsystem"):
        coupling_coordination([0.1], [0.2], weights=[1.0])
    with pytest.raises(ValueError, match="different index"):
        coupling_coordination(pd.Series([0.1], index=[1]), pd.Series([0.1], index=[2]))

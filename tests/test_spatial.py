"""Tests for helpers.spatial: known answers first, then agreement with esda/libpysal, then
properties and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from libpysal import examples
from libpysal import io as psio
from libpysal.graph import Graph
from libpysal.weights import KNN, lat2W

from helpers.spatial import (
    EARTH_RADIUS_KM,
    MoranResult,
    contiguity_weights,
    gravity_center,
    haversine_km,
    inverse_distance_weights,
    knn_weights,
    local_morans_i,
    morans_i,
)

PATH_W = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=float)


@pytest.fixture(scope="module")
def stl():
    """St Louis homicide rates 1988-93 with their contiguity weights (ship with libpysal)."""
    y = np.array(psio.open(examples.get_path("stl_hom.txt")).by_col["HR8893"])
    w = psio.open(examples.get_path("stl.gal")).read()
    return y, w


@pytest.fixture(scope="module")
def random_data():
    rng = np.random.default_rng(0)
    coords = rng.uniform(size=(120, 2))
    y = coords @ np.array([2.0, -1.0]) + rng.normal(scale=0.5, size=120)
    return coords, y


# ---------------------------------------------------------------------------------------------
# global Moran's I: known answers
# ---------------------------------------------------------------------------------------------


def test_morans_i_hand_computed_path():
    # y = 1..4 on a path, row-standardized: z = (-1.5, -.5, .5, 1.5), lag = (-.5, -.5, .5, .5),
    # z'Wz = 2, z'z = 5, S0 = n = 4 -> I = 0.4; E[I] = -1/3.
    res = morans_i([1, 2, 3, 4], PATH_W)
    assert isinstance(res, MoranResult)
    assert res.I == pytest.approx(0.4, abs=1e-15)
    assert res.EI == pytest.approx(-1 / 3)
    # binary: S0 = 6, Wz = (-.5, -1, 1, .5), z'Wz = .75 + .5 + .5 + .75 = 2.5 -> I = 4/6 * 2.5/5
    assert morans_i([1, 2, 3, 4], PATH_W, transformation="b").I == pytest.approx(
        4 / 6 * 2.5 / 5, abs=1e-15
    )


def test_morans_i_stl_published(stl):
    # esda test suite (esda/tests/test_moran.py::TestMoran::test_moran): St Louis HR8893 with
    # stl.gal, row-standardized: I = 0.24365582621771659, one-tailed p_norm = 1.3573931e-4.
    y, w = stl
    res = morans_i(y, w, two_sided=False)
    assert res.I == pytest.approx(0.24365582621771659, abs=1e-14)
    assert res.p_norm == pytest.approx(0.00013573931385468807, rel=1e-9)


def test_morans_i_sids_published():
    # esda test suite (test_sids): North Carolina SIDR74 with sids2.gal: I = 0.24772519320480135,
    # one-tailed p_norm = 5.7916539074498452e-05.
    y = np.array(psio.open(examples.get_path("sids2.dbf")).by_col("SIDR74"))
    w = psio.open(examples.get_path("sids2.gal")).read()
    res = morans_i(y, w, two_sided=False)
    assert res.I == pytest.approx(0.24772519320480135, abs=1e-14)
    assert res.p_norm == pytest.approx(5.7916539074498452e-05, rel=1e-9)


def test_morans_i_variances_lattice():
    # esda test suite (test_variance): y = 1..9 on a 3x3 rook lattice, binary weights:
    # VI_rand = 0.0596875, VI_norm = 0.053125.
    res = morans_i(np.arange(1, 10), lat2W(3, 3), transformation="b")
    assert res.VI_rand == pytest.approx(0.059687500000000004, rel=1e-12)
    assert res.VI_norm == pytest.approx(0.053125000000000006, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# global Moran's I: agreement with esda
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transformation", ["r", "b"])
def test_morans_i_matches_esda_for_every_input_type(random_data, transformation):
    from esda.moran import Moran

    coords, y = random_data
    W = knn_weights(coords, 5, metric="euclidean")
    w_lib = KNN.from_array(coords, k=5)
    ref = Moran(y, w_lib, transformation=transformation, permutations=0)
    from scipy import sparse

    for form in (W, sparse.csr_array(W), pd.DataFrame(W), w_lib, Graph.from_W(w_lib)):
        res = morans_i(y, form, transformation=transformation)
        for ours, theirs in (
            ("I", "I"),
            ("EI", "EI"),
            ("VI_norm", "VI_norm"),
            ("VI_rand", "VI_rand"),
            ("z_norm", "z_norm"),
            ("z_rand", "z_rand"),
            ("p_norm", "p_norm"),
            ("p_rand", "p_rand"),
        ):
            assert getattr(res, ours) == pytest.approx(getattr(ref, theirs), rel=1e-10), ours


def test_morans_i_inverse_distance_matches_esda(random_data):
    from esda.moran import Moran
    from libpysal.weights import full2W

    coords, y = random_data
    W = inverse_distance_weights(coords, metric="euclidean", power=2)
    res = morans_i(y, W)
    ref = Moran(y, full2W(W), permutations=0)
    assert res.I == pytest.approx(ref.I, rel=1e-11)
    assert res.VI_rand == pytest.approx(ref.VI_rand, rel=1e-10)


def test_morans_i_permutation_p_value(random_data):
    coords, y = random_data
    W = knn_weights(coords, 5, metric="euclidean")
    res = morans_i(y, W, permutations=199, seed=1)
    assert res.p_sim == pytest.approx(1 / 200)  # strong trend: no permutation beats it
    assert morans_i(y, W, permutations=199, seed=1).p_sim == res.p_sim
    rng = np.random.default_rng(2)
    noise = morans_i(rng.normal(size=120), W, permutations=199, seed=3)
    assert noise.p_sim > 0.01
    assert morans_i(y, W).p_sim is None
    assert list(res.summary().columns)[:2] == ["I", "EI"]


# ---------------------------------------------------------------------------------------------
# local Moran's I
# ---------------------------------------------------------------------------------------------


def test_local_morans_i_hand_computed_path():
    # z = (y - 2.5)/sd with sd = sqrt(1.25); lag (row-standardized) of z; I_i = (n-1) z_i lag_i / n
    out = local_morans_i(pd.Series([1, 2, 3, 4], index=list("abcd")), PATH_W, permutations=99)
    sd = math.sqrt(1.25)
    z = np.array([-1.5, -0.5, 0.5, 1.5]) / sd
    lag = np.array([-0.5, -0.5, 0.5, 0.5]) / sd
    np.testing.assert_allclose(out["Ii"], 3 * z * lag / 4, rtol=1e-14)
    assert list(out.index) == list("abcd")
    assert out["quadrant"].tolist() == ["LL", "LL", "HH", "HH"]


def _conditional_permutation_p(y: np.ndarray, W: np.ndarray, perms: int, seed: int) -> np.ndarray:
    """Plain loop version of Anselin's conditional permutation (independent draws per unit)."""
    rng = np.random.default_rng(seed)
    n = y.size
    z = (y - y.mean()) / y.std()
    Wr = W / W.sum(axis=1, keepdims=True)
    Ii = (n - 1) * z * (Wr @ z) / (z @ z)
    p = np.empty(n)
    for i in range(n):
        nbrs = np.flatnonzero(Wr[i])
        others = np.delete(np.arange(n), i)
        # each row: a random subset of nbrs.size other units, without replacement
        draws = others[rng.random((perms, n - 1)).argsort(axis=1)[:, : nbrs.size]]
        sims = (n - 1) * z[i] * (z[draws] @ Wr[i, nbrs]) / (z @ z)
        larger = int((sims >= Ii[i]).sum())
        p[i] = (min(larger, perms - larger) + 1) / (perms + 1)
    return p


def test_local_morans_i_matches_esda(stl):
    from esda.moran import Moran_Local

    y, w = stl
    ours = local_morans_i(y, w, permutations=4999, seed=7)
    # esda.Moran_Local (no permutations; its numba permutation engine takes a minute to
    # compile): local statistics and quadrants must agree to many digits.
    ref = Moran_Local(y, w, transformation="r", permutations=0)
    np.testing.assert_allclose(ours["Ii"], ref.Is, rtol=1e-12)
    quad = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
    assert ours["quadrant"].tolist() == [quad[q] for q in ref.q]
    # permutation p-values agree with an independent loop implementation up to Monte Carlo
    # error: the difference of two estimates has sd sqrt(2 p (1 - p) / P)
    p = _conditional_permutation_p(y, w.full()[0], perms=4999, seed=8)
    tol = 5 * np.sqrt(2 * p * (1 - p) / 4999) + 4e-4
    assert (np.abs(ours["p_sim"].to_numpy() - p) <= tol).all()
    # sum_i I_i = (n - 1) I for row-standardized weights
    assert ours["Ii"].sum() == pytest.approx((len(y) - 1) * morans_i(y, w).I, rel=1e-12)


def test_local_morans_i_reproducible_and_cluster_labels(random_data):
    coords, y = random_data
    W = knn_weights(coords, 6, metric="euclidean")
    a = local_morans_i(y, W, permutations=199, seed=11)
    b = local_morans_i(y, W, permutations=199, seed=11)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["quadrant"]) <= {"HH", "LH", "LL", "HL"}
    sig = a["p_sim"] < 0.05
    assert (a.loc[sig, "cluster"] == a.loc[sig, "quadrant"]).all()
    assert (a.loc[~sig, "cluster"] == "ns").all()
    assert a["p_sim"].between(1 / 200, 0.5 + 1e-12).all()
    # a strong north-west / south-east gradient has many significant HH and LL units
    assert (a["cluster"].isin(["HH", "LL"])).sum() > 20


# ---------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------


def test_haversine_known_distances():
    # one degree of longitude on the equator = R pi / 180; pole to equator = R pi / 2
    assert haversine_km(0, 0, 1, 0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-14)
    assert haversine_km(30, 90, 120, 0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 2, rel=1e-12)
    # Beijing (116.4074, 39.9042) - Shanghai (121.4737, 31.2304): about 1,068 km
    assert 1060 < haversine_km(116.4074, 39.9042, 121.4737, 31.2304) < 1075


def test_knn_weights_hand_and_libpysal(random_data):
    W = knn_weights([[0, 0], [1, 0], [3, 0], [7, 0]], k=2, metric="euclidean")
    # x = 3 is 2 from x = 1 and 3 from x = 0, nearer than x = 7 (4 away)
    expected = [[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0]]
    np.testing.assert_array_equal(W, expected)
    coords, _ = random_data
    ours = knn_weights(coords, 4, metric="euclidean")
    ref, _ = KNN.from_array(coords, k=4).full()
    np.testing.assert_array_equal(ours, ref)


def test_knn_haversine_differs_from_naive_degrees():
    # at 60 degrees north a degree of longitude is half as long as a degree of latitude:
    # the great-circle nearest neighbour of (0, 60) is (1.5, 60), not (0, 61).
    coords = [[0.0, 60.0], [1.5, 60.0], [0.0, 61.0]]
    assert knn_weights(coords, 1)[0].tolist() == [0.0, 1.0, 0.0]
    assert knn_weights(coords, 1, metric="euclidean")[0].tolist() == [0.0, 0.0, 1.0]


def test_inverse_distance_weights_hand():
    W = inverse_distance_weights([[0, 0], [3, 4], [6, 8]], metric="euclidean")
    np.testing.assert_allclose(W, [[0, 1 / 5, 1 / 10], [1 / 5, 0, 1 / 5], [1 / 10, 1 / 5, 0]])
    W2 = inverse_distance_weights(
        [[0, 0], [3, 4], [6, 8]], metric="euclidean", power=2, threshold=6
    )
    np.testing.assert_allclose(W2, [[0, 1 / 25, 0], [1 / 25, 0, 1 / 25], [0, 1 / 25, 0]])
    Wg = inverse_distance_weights([[0, 0], [1, 0]])
    assert Wg[0, 1] == pytest.approx(1 / (EARTH_RADIUS_KM * math.pi / 180))


def test_contiguity_weights_grid():
    import geopandas as gpd
    from shapely.geometry import box

    cells = gpd.GeoDataFrame(
        {"id": range(9)},
        geometry=[box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)],
        index=list("abcdefghi"),
    )
    rook = contiguity_weights(cells, rook=True)
    ref, _ = lat2W(3, 3, rook=True).full()
    np.testing.assert_array_equal(rook, ref)
    queen = contiguity_weights(cells)
    # queen: corners 3 neighbours, edges 5, centre 8
    assert queen.sum(axis=1).tolist() == [3, 5, 3, 5, 8, 5, 3, 5, 3]
    # a unit far away is an island with an all-zero row, which morans_i then refuses
    with_island = pd.concat(
        [cells, gpd.GeoDataFrame({"id": [9]}, geometry=[box(10, 10, 11, 11)], index=["j"])]
    )
    Wi = contiguity_weights(with_island)
    assert Wi[-1].sum() == 0
    with pytest.raises(ValueError, match="island"):
        morans_i(np.arange(10.0), Wi)


# ---------------------------------------------------------------------------------------------
# gravity centre and standard deviational ellipse
# ---------------------------------------------------------------------------------------------


def test_gravity_center_hand_computed():
    df = pd.DataFrame(
        {
            "x": [0.0, 2, 0, 2, 0, 2, 0, 2],
            "y": [0.0, 0, 1, 1, 0, 0, 4, 4],
            "w": [1.0, 1, 1, 1, 1, 1, 1, 3],
            "year": [1, 1, 1, 1, 2, 2, 2, 2],
        }
    )
    g = gravity_center(df, "x", "y", "w", time="year", lonlat=False)
    # year 1: centre (1, .5); cov = diag(1, .25) -> axes 1 and .5, major axis east-west
    assert g.loc[1, ["x", "y", "sigma_major", "sigma_minor", "rotation"]].tolist() == pytest.approx(
        [1.0, 0.5, 1.0, 0.5, 90.0]
    )
    # year 2: weights (1,1,1,3)/6 -> centre (8/6, 16/6)
    assert g.loc[2, "x"] == pytest.approx(8 / 6)
    assert g.loc[2, "y"] == pytest.approx(16 / 6)
    dx, dy = 8 / 6 - 1, 16 / 6 - 0.5
    assert g.loc[2, "distance"] == pytest.approx(math.hypot(dx, dy))
    assert g.loc[2, "bearing"] == pytest.approx(math.degrees(math.atan2(dx, dy)))
    assert g.loc[1, "distance"] == 0.0
    assert g.loc[1, "area"] == pytest.approx(math.pi * 0.5)
    # one period scaled by sqrt(2) (ArcGIS convention)
    s = gravity_center(df[df.year == 1], "x", "y", "w", lonlat=False, scale=math.sqrt(2))
    assert s["sigma_major"].iloc[0] == pytest.approx(math.sqrt(2))


def test_gravity_center_rotation_matches_yuill_formula():
    # the tan(theta) formula printed in the papers, with w^2 in every sum (weight_power=2)
    rng = np.random.default_rng(5)
    x = rng.normal(size=200)
    y = 0.6 * x + rng.normal(scale=0.4, size=200)
    w = rng.uniform(0.5, 2.0, size=200)
    df = pd.DataFrame({"x": x, "y": y, "w": w})
    g = gravity_center(df, "x", "y", "w", lonlat=False, weight_power=2).iloc[0]
    cx, cy = np.average(x, weights=w), np.average(y, weights=w)
    xt, yt = x - cx, y - cy
    A = np.sum(w**2 * xt**2) - np.sum(w**2 * yt**2)
    B = np.sum(w**2 * xt * yt)
    theta = math.atan((A + math.sqrt(A**2 + 4 * B**2)) / (2 * B))  # clockwise from north
    assert g["rotation"] == pytest.approx(math.degrees(theta) % 180, abs=1e-9)
    sx = math.sqrt(
        np.sum((w * xt * math.cos(theta) - w * yt * math.sin(theta)) ** 2) / np.sum(w**2)
    )
    sy = math.sqrt(
        np.sum((w * xt * math.sin(theta) + w * yt * math.cos(theta)) ** 2) / np.sum(w**2)
    )
    assert sorted([sx, sy]) == pytest.approx([g["sigma_minor"], g["sigma_major"]], rel=1e-10)


def test_gravity_center_lonlat_movement():
    # the whole distribution moves one degree east along the equator
    base = pd.DataFrame({"lon": [100.0, 101, 102], "lat": [-1.0, 0, 1], "w": [1.0, 1, 1]})
    df = pd.concat([base.assign(year=2010), base.assign(year=2011, lon=base["lon"] + 1)])
    g = gravity_center(df, "lon", "lat", "w", time="year")
    assert g.loc[2011, "distance"] == pytest.approx(EARTH_RADIUS_KM * math.pi / 180, rel=1e-12)
    assert g.loc[2011, "bearing"] == pytest.approx(90.0)
    # ellipse axes in km: points on a north-east diagonal
    assert g.loc[2010, "rotation"] == pytest.approx(45.0, abs=0.1)
    assert g.loc[2010, "sigma_minor"] == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_spatial_bad_input():
    y = np.array([1.0, 2, 3, 4])
    with pytest.raises(ValueError, match="same units"):
        morans_i(np.arange(5.0), PATH_W)
    with pytest.raises(ValueError, match="NaN"):
        morans_i([1.0, np.nan, 3, 4], PATH_W)
    with pytest.raises(ValueError, match="constant"):
        morans_i([1.0, 1, 1, 1], PATH_W)
    with pytest.raises(ValueError, match="diagonal"):
        morans_i(y, PATH_W + np.eye(4))
    with pytest.raises(ValueError, match="negative"):
        morans_i(y, -PATH_W)
    with pytest.raises(ValueError, match="square"):
        morans_i(y, PATH_W[:, :3])
    with pytest.raises(ValueError, match="transformation"):
        morans_i(y, PATH_W, transformation="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 99"):
        local_morans_i(y, PATH_W, permutations=10)
    with pytest.raises(ValueError, match="look"):
        knn_weights([[500000.0, 3000000.0], [500100.0, 3000000.0]], k=1)
    with pytest.raises(ValueError, match="k must"):
        knn_weights([[0, 0], [1, 1]], k=2)
    with pytest.raises(ValueError, match="identical coordinates"):
        inverse_distance_weights([[0, 0], [0, 0], [1, 1]], metric="euclidean")
    with pytest.raises(ValueError, match="metric"):
        knn_weights([[0, 0], [1, 1]], k=1, metric="manhattan")  # type: ignore[arg-type]
    df = pd.DataFrame({"x": [0.0, 1, 2], "y": [0.0, 1, 0], "w": [1.0, -1, 1]})
    with pytest.raises(ValueError, match="negative weights"):
        gravity_center(df, "x", "y", "w", lonlat=False)
    with pytest.raises(ValueError, match="missing"):
        gravity_center(df, "x", "y", "mass", lonlat=False)
    with pytest.raises(ValueError, match="sum to 0"):
        gravity_center(df.assign(w=0.0), "x", "y", "w", lonlat=False)
    with pytest.raises(ValueError, match="polygons"):
        import geopandas as gpd
        from shapely.geometry import Point

        contiguity_weights(gpd.GeoSeries([Point(0, 0), Point(1, 1)]))

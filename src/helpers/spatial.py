"""Spatial statistics: Moran's I (global and local), spatial weights, centre of gravity.

=============================  =============================================================
``morans_i``                   global Moran's I with moments under normality/randomization
``local_morans_i``             LISA: local I, conditional-permutation p-values, HH/LL/HL/LH
``knn_weights``                k-nearest-neighbour weights (great-circle or Euclidean)
``inverse_distance_weights``   inverse-distance weights, optional distance band
``contiguity_weights``         queen or rook contiguity from polygons (via libpysal)
``gravity_center``             weighted mean centre per period, its movement, and the
                               standard deviational ellipse
=============================  =============================================================

Weights are plain dense ``numpy`` arrays (n x n, zero diagonal, not standardized); the Moran
functions also accept scipy sparse matrices and libpysal ``W``/``Graph`` objects and
row-standardize by default.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse, stats

__all__ = [
    "EARTH_RADIUS_KM",
    "MoranResult",
    "contiguity_weights",
    "gravity_center",
    "haversine_km",
    "inverse_distance_weights",
    "knn_weights",
    "local_morans_i",
    "morans_i",
]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used for great-circle distances."""

PERMUTATION_CHUNK = 4_000_000
"""Upper bound on the simulated neighbour draws held in memory at once (local Moran)."""

QUADRANT_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


# ---------------------------------------------------------------------------------------------
# weights handling
# ---------------------------------------------------------------------------------------------


def _to_sparse(W: Any) -> sparse.csr_array:
    """Convert W (array, DataFrame, scipy sparse, libpysal W or Graph) to a float CSR array."""
    if hasattr(W, "sparse") and (hasattr(W, "neighbors") or hasattr(W, "adjacency")):
        M = W.sparse  # libpysal W (id_order) or Graph (unique_ids order)
    elif sparse.issparse(W):
        M = W
    elif isinstance(W, pd.DataFrame):
        M = W.to_numpy(dtype=float)
    else:
        M = np.asarray(W, dtype=float)
        if M.ndim != 2:
            raise ValueError(
                f"W must be a square n x n matrix (or a libpysal W/Graph); got shape {M.shape}."
            )
    return sparse.csr_array(M, dtype=float)


def _prepare_weights(W: Any, n: int, transformation: Literal["r", "b", "o"]) -> sparse.csr_array:
    M = _to_sparse(W)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"W must be square; got shape {M.shape}.")
    if M.shape[0] != n:
        raise ValueError(
            f"W is {M.shape[0]} x {M.shape[1]} but there are {n} values; the weights matrix "
            "must be built on the same units in the same order as the data."
        )
    M.eliminate_zeros()
    data = M.data
    if not np.isfinite(data).all():
        raise ValueError("W contains NaN or infinite weights.")
    if (data < 0).any():
        raise ValueError("W contains negative weights; spatial weights must be non-negative.")
    if np.any(M.diagonal() != 0):
        raise ValueError(
            "W has non-zero diagonal entries (a unit is its own neighbour); set the diagonal to 0."
        )
    if transformation == "b":
        M = M.copy()
        M.data[:] = 1.0
    elif transformation not in ("r", "o"):
        raise ValueError(
            f"transformation must be 'r' (row-standardized), 'b' (binary) or 'o' (as given); "
            f"got {transformation!r}."
        )
    row_sums = np.asarray(M.sum(axis=1)).ravel()
    islands = np.flatnonzero(row_sums == 0)
    if islands.size:
        raise ValueError(
            f"{islands.size} unit(s) have no neighbours (islands, e.g. positions "
            f"{islands[:5].tolist()}); Moran's I is not defined for them. Drop them, or use "
            "knn_weights so that every unit has neighbours."
        )
    if transformation == "r":
        M = sparse.csr_array(sparse.diags_array(1.0 / row_sums) @ M)
    return M


def _values(values: Any, name: str = "values") -> tuple[np.ndarray, pd.Index | None]:
    index = values.index if isinstance(values, pd.Series) else None
    y = np.asarray(values, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {y.shape}.")
    if y.size < 4:
        raise ValueError(f"{name} needs at least 4 observations; got {y.size}.")
    if not np.isfinite(y).all():
        raise ValueError(
            f"{name} contains {int((~np.isfinite(y)).sum())} NaN or infinite value(s); drop "
            "those units and rebuild the weights on the remaining ones."
        )
    if np.ptp(y) == 0:
        raise ValueError(f"{name} is constant; Moran's I is 0/0.")
    return y, index


# ---------------------------------------------------------------------------------------------
# global Moran's I
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoranResult:
    """Global Moran's I with its moments and tests.

    Attributes
    ----------
    I, EI : float
        The statistic and its expectation :math:`-1/(n-1)` under the null.
    VI_norm, VI_rand : float
        Variance under the normality and the randomization assumptions.
    z_norm, z_rand, p_norm, p_rand : float
        z-scores and p-values (two-sided unless ``two_sided=False``).
    n : int
        Number of units.
    p_sim : float or None
        Permutation p-value (folded, as in GeoDa/esda), ``None`` without permutations.
    """

    I: float  # noqa: E741
    EI: float
    VI_norm: float
    VI_rand: float
    z_norm: float
    z_rand: float
    p_norm: float
    p_rand: float
    n: int
    p_sim: float | None = None

    def summary(self) -> pd.DataFrame:
        """One-row table of the statistic, its moments and p-values."""
        return pd.DataFrame([{k: getattr(self, k) for k in self.__dataclass_fields__}])


def morans_i(
    values: Any,
    W: Any,
    *,
    transformation: Literal["r", "b", "o"] = "r",
    two_sided: bool = True,
    permutations: int = 0,
    seed: int | None = None,
) -> MoranResult:
    r"""Global Moran's I.

    Parameters
    ----------
    values : array-like
        One value per unit, in the order of the rows of ``W``; no NaN.
    W : array, DataFrame, scipy sparse matrix, libpysal ``W`` or ``Graph``
        Spatial weights, n x n, non-negative, zero diagonal, no unit without neighbours.
    transformation : {"r", "b", "o"}, default "r"
        Row-standardize (``"r"``), make binary (``"b"``) or use as given (``"o"``).
    two_sided : bool, default True
        Two-sided p-values (esda's default); otherwise one-sided in the direction of z.
    permutations : int, default 0
        If positive, also compute a permutation p-value with that many random relabellings.
    seed : int, optional
        Seed of ``np.random.default_rng`` for the permutations.

    Returns
    -------
    MoranResult

    Raises
    ------
    ValueError
        NaN values, a constant variable, fewer than 4 units, a weights matrix whose size does
        not match the data, negative weights, a non-zero diagonal, islands.

    Notes
    -----
    With :math:`z = y - \bar y`, :math:`S_0 = \sum_{ij}w_{ij}`,
    :math:`S_1 = \tfrac12\sum_{ij}(w_{ij}+w_{ji})^2`, :math:`S_2 = \sum_i(w_{i\cdot}+w_{\cdot i})^2`
    and kurtosis :math:`b_2 = n\sum z^4/(\sum z^2)^2`:

    .. math::

        I = \frac{n}{S_0}\frac{z^\top W z}{z^\top z},\quad E[I] = -\frac{1}{n-1},\quad
        V_N = \frac{n^2S_1 - nS_2 + 3S_0^2}{(n^2-1)S_0^2} - E[I]^2,

        V_R = \frac{n[(n^2-3n+3)S_1 - nS_2 + 3S_0^2] - b_2[(n^2-n)S_1 - 2nS_2 + 6S_0^2]}
              {(n-1)(n-2)(n-3)S_0^2} - E[I]^2.

    References
    ----------
    Moran (1950); Cliff & Ord (1981), *Spatial Processes*, ch. 2. Same statistic, moments and
    p-values as ``esda.Moran``.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> round(morans_i([1, 2, 3, 4], W).I, 6)
    0.4
    """
    y, _ = _values(values)
    n = y.size
    M = _prepare_weights(W, n, transformation)
    if permutations < 0:
        raise ValueError(f"permutations must be >= 0; got {permutations}.")
    z = y - y.mean()
    S0 = float(M.sum())
    Ms = M + M.T
    S1 = 0.5 * float((Ms.multiply(Ms)).sum())
    S2 = float(((np.asarray(M.sum(axis=1)).ravel() + np.asarray(M.sum(axis=0)).ravel()) ** 2).sum())
    zz = float(z @ z)
    I_stat = n / S0 * float(z @ (M @ z)) / zz
    EI = -1.0 / (n - 1)
    VI_norm = (n * n * S1 - n * S2 + 3 * S0**2) / ((n * n - 1) * S0**2) - EI**2
    b2 = n * float((z**4).sum()) / zz**2
    A = n * ((n * n - 3 * n + 3) * S1 - n * S2 + 3 * S0**2)
    B = b2 * ((n * n - n) * S1 - 2 * n * S2 + 6 * S0**2)
    VI_rand = (A - B) / ((n - 1) * (n - 2) * (n - 3) * S0**2) - EI**2
    z_norm = (I_stat - EI) / np.sqrt(VI_norm)
    z_rand = (I_stat - EI) / np.sqrt(VI_rand)
    factor = 2.0 if two_sided else 1.0
    p_norm = factor * float(stats.norm.sf(abs(z_norm)))
    p_rand = factor * float(stats.norm.sf(abs(z_rand)))
    p_sim = None
    if permutations:
        rng = np.random.default_rng(seed)
        Z = rng.permuted(np.tile(z, (permutations, 1)), axis=1)
        sims = n / S0 * np.einsum("pi,pi->p", Z, (M @ Z.T).T) / zz
        larger = int((sims >= I_stat).sum())
        larger = min(larger, permutations - larger)
        p_sim = (larger + 1.0) / (permutations + 1.0)
    return MoranResult(
        I=I_stat,
        EI=EI,
        VI_norm=float(VI_norm),
        VI_rand=float(VI_rand),
        z_norm=float(z_norm),
        z_rand=float(z_rand),
        p_norm=p_norm,
        p_rand=p_rand,
        n=n,
        p_sim=p_sim,
    )


# ---------------------------------------------------------------------------------------------
# local Moran's I
# ---------------------------------------------------------------------------------------------


def local_morans_i(
    values: Any,
    W: Any,
    *,
    transformation: Literal["r", "b", "o"] = "r",
    permutations: int = 999,
    seed: int | None = 12345,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Local Moran's I (LISA) with conditional-permutation p-values and quadrant labels.

    Parameters
    ----------
    values : array-like
        One value per unit, in the order of ``W``'s rows. A Series keeps its index.
    W : array, DataFrame, scipy sparse matrix, libpysal ``W`` or ``Graph``
        Spatial weights (see :func:`morans_i`).
    transformation : {"r", "b", "o"}, default "r"
        As in :func:`morans_i`.
    permutations : int, default 999
        Conditional permutations per unit (at least 99).
    seed : int, optional
        Seed of ``np.random.default_rng`` (default 12345, so results are reproducible).
    alpha : float, default 0.05
        Significance level for the ``cluster`` column.

    Returns
    -------
    pd.DataFrame
        One row per unit: ``Ii`` (local I), ``z`` (standardized value), ``lag`` (spatial lag
        of z), ``quadrant`` (``HH``, ``LH``, ``LL``, ``HL``), ``p_sim`` (folded permutation
        p-value) and ``cluster`` (the quadrant when ``p_sim < alpha``, else ``"ns"``).

    Raises
    ------
    ValueError
        As :func:`morans_i`; ``permutations < 99``; ``alpha`` outside (0, 1).

    Notes
    -----
    With :math:`z_i = (y_i - \bar y)/s` (population s.d.) and :math:`m_2 = \sum z^2/(n-1)`,

    .. math:: I_i = \frac{z_i}{m_2}\sum_j w_{ij}z_j,

    the definition of esda/GeoDa, so :math:`\sum_i I_i = (n-1)\,S_0\,I/n`. Quadrants: HH
    :math:`z_i>0, \text{lag}_i>0`; LH :math:`z_i\le 0, \text{lag}_i>0`; LL both
    :math:`\le 0`; HL :math:`z_i > 0, \text{lag}_i \le 0`. The conditional permutation keeps
    :math:`z_i` fixed and draws its :math:`k_i` neighbours at random from the other
    :math:`n-1` units; the p-value is folded, :math:`(\min(\#\{I^{sim}_i\ge I_i\},
    P - \#\{\cdot\}) + 1)/(P+1)`. As in esda, one set of random draws is shared by all units.
    These are pseudo p-values with many simultaneous tests; see Anselin (1995) on multiple
    comparisons (a Bonferroni or FDR cut-off is often advisable).

    References
    ----------
    Anselin, L. (1995), "Local indicators of spatial association - LISA", *Geographical
    Analysis* 27(2): 93-115. Same local statistics and quadrants as ``esda.Moran_Local``.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]])
    >>> local_morans_i([1, 2, 3, 4], W, permutations=99)["quadrant"].tolist()
    ['LL', 'LL', 'HH', 'HH']
    """
    y, index = _values(values)
    n = y.size
    M = _prepare_weights(W, n, transformation)
    if permutations < 99:
        raise ValueError(
            f"permutations must be at least 99 for a usable p-value; got {permutations}."
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    z = (y - y.mean()) / y.std()
    den = float(z @ z)
    lag = M @ z
    Ii = (n - 1) * z * lag / den
    quad = np.where(z > 0, np.where(lag > 0, 1, 4), np.where(lag > 0, 2, 3))

    # conditional permutation, vectorized over units in chunks
    rng = np.random.default_rng(seed)
    k = np.diff(M.indptr)
    kmax = int(k.max())
    rids = np.empty((permutations, kmax), dtype=np.int64)
    for p in range(permutations):
        rids[p] = rng.permutation(n - 1)[:kmax]
    wpad = np.zeros((n, kmax))
    for_rows = np.repeat(np.arange(n), k)
    pos = np.arange(M.indptr[-1]) - np.repeat(M.indptr[:-1], k)
    wpad[for_rows, pos] = M.data
    larger = np.empty(n, dtype=np.int64)
    chunk = max(1, PERMUTATION_CHUNK // (permutations * kmax))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        idx = rids[None, :, :] + (rids[None, :, :] >= rows[:, None, None])
        sim_lag = np.einsum("ipk,ik->ip", z[idx], wpad[rows])
        sims = (n - 1) * z[rows, None] * sim_lag / den
        larger[rows] = (sims >= Ii[rows, None]).sum(axis=1)
    larger = np.minimum(larger, permutations - larger)
    p_sim = (larger + 1.0) / (permutations + 1.0)
    labels = np.array([QUADRANT_LABELS[q] for q in quad])
    return pd.DataFrame(
        {
            "Ii": Ii,
            "z": z,
            "lag": lag,
            "quadrant": labels,
            "p_sim": p_sim,
            "cluster": np.where(p_sim < alpha, labels, "ns"),
        },
        index=index,
    )


# ---------------------------------------------------------------------------------------------
# weights from coordinates and polygons
# ---------------------------------------------------------------------------------------------


def _coords(coords: Any, metric: str) -> np.ndarray:
    if hasattr(coords, "geometry") and hasattr(coords, "crs"):
        geom = coords.geometry
        if not (geom.geom_type == "Point").all():
            raise ValueError(
                "coords is a GeoDataFrame with non-point geometries; pass "
                "gdf.geometry.centroid (in a projected CRS) or use contiguity_weights."
            )
        coords = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    xy = np.asarray(coords, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(
            f"coords must be an (n, 2) array of (x, y) or (lon, lat) pairs; got shape {xy.shape}."
        )
    if not np.isfinite(xy).all():
        raise ValueError("coords contain NaN or infinite values.")
    if metric == "haversine":
        if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
            raise ValueError(
                "coords are outside longitude [-180, 180] / latitude [-90, 90]; they look "
                "projected. Pass metric='euclidean' for projected coordinates, or (lon, lat) "
                "in degrees - note the order: longitude first."
            )
    elif metric != "euclidean":
        raise ValueError(f"metric must be 'haversine' or 'euclidean'; got {metric!r}.")
    return xy


def haversine_km(
    lon1: Any, lat1: Any, lon2: Any, lat2: Any, radius: float = EARTH_RADIUS_KM
) -> np.ndarray:
    r"""Great-circle distance in km between (lon, lat) points given in degrees (broadcasts).

    .. math:: d = 2R\arcsin\sqrt{\sin^2\tfrac{\Delta\varphi}{2} +
              \cos\varphi_1\cos\varphi_2\sin^2\tfrac{\Delta\lambda}{2}}

    Examples
    --------
    >>> round(float(haversine_km(0, 0, 1, 0)), 3)
    111.195
    """
    lam1, phi1, lam2, phi2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    h = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lam2 - lam1) / 2) ** 2
    )
    return 2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _distance_matrix(xy: np.ndarray, metric: str) -> np.ndarray:
    if metric == "haversine":
        return haversine_km(xy[:, None, 0], xy[:, None, 1], xy[None, :, 0], xy[None, :, 1])
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def knn_weights(
    coords: Any, k: int, *, metric: Literal["haversine", "euclidean"] = "haversine"
) -> np.ndarray:
    r"""Binary k-nearest-neighbour weights (row i has ones at its k nearest units).

    Parameters
    ----------
    coords : (n, 2) array-like or GeoDataFrame of points
        ``(lon, lat)`` in degrees for ``metric="haversine"``, projected ``(x, y)`` for
        ``"euclidean"``.
    k : int
        Number of neighbours, ``1 <= k < n``.
    metric : {"haversine", "euclidean"}, default "haversine"
        Great-circle distance on the sphere (km) or planar distance.

    Returns
    -------
    np.ndarray
        n x n binary matrix, zero diagonal, not symmetric in general. Ties at the k-th
        distance are broken by position.

    Raises
    ------
    ValueError
        Bad shape, NaN, ``k`` out of range, coordinates outside lon/lat ranges with haversine.

    Examples
    --------
    >>> knn_weights([[0, 0], [1, 0], [3, 0]], k=1, metric="euclidean").tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    xy = _coords(coords, metric)
    n = xy.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must satisfy 1 <= k < n = {n}; got {k}.")
    D = _distance_matrix(xy, metric)
    np.fill_diagonal(D, np.inf)
    nearest = np.argsort(D, axis=1, kind="stable")[:, :k]
    W = np.zeros((n, n))
    W[np.repeat(np.arange(n), k), nearest.ravel()] = 1.0
    return W


def inverse_distance_weights(
    coords: Any,
    *,
    power: float = 1.0,
    threshold: float | None = None,
    metric: Literal["haversine", "euclidean"] = "haversine",
) -> np.ndarray:
    r"""Inverse-distance weights :math:`w_{ij} = d_{ij}^{-\alpha}` (0 beyond ``threshold``).

    Parameters
    ----------
    coords : (n, 2) array-like or GeoDataFrame of points
        As in :func:`knn_weights`.
    power : float, default 1
        :math:`\alpha` (1 is inverse distance, 2 the "gravity" form).
    threshold : float, optional
        Distance band (km for haversine): pairs farther apart get weight 0.
    metric : {"haversine", "euclidean"}, default "haversine"

    Returns
    -------
    np.ndarray
        n x n symmetric matrix, zero diagonal, not standardized.

    Raises
    ------
    ValueError
        Two distinct units at distance 0 (duplicate coordinates), a non-positive power or
        threshold, bad coordinates.

    Examples
    --------
    >>> inverse_distance_weights([[0, 0], [2, 0], [4, 0]], metric="euclidean").tolist()
    [[0.0, 0.5, 0.25], [0.5, 0.0, 0.5], [0.25, 0.5, 0.0]]
    """
    xy = _coords(coords, metric)
    if power <= 0:
        raise ValueError(f"power must be positive; got {power}.")
    if threshold is not None and threshold <= 0:
        raise ValueError(f"threshold must be positive; got {threshold}.")
    D = _distance_matrix(xy, metric)
    off = ~np.eye(D.shape[0], dtype=bool)
    if (D[off] == 0).any():
        i, j = np.argwhere((D == 0) & off)[0]
        raise ValueError(
            f"units {i} and {j} have identical coordinates (distance 0), so 1/d is infinite; "
            "merge or jitter them."
        )
    with np.errstate(divide="ignore"):
        W = np.where(off, D ** (-power), 0.0)
    if threshold is not None:
        W[D > threshold] = 0.0
    return W


def contiguity_weights(geoms: Any, *, rook: bool = False) -> np.ndarray:
    """Binary queen (shared vertex) or rook (shared edge) contiguity from polygons.

    Parameters
    ----------
    geoms : GeoDataFrame or GeoSeries
        Polygons in the order of the data.
    rook : bool, default False
        Rook contiguity (shared edge) instead of queen (shared edge or vertex).

    Returns
    -------
    np.ndarray
        n x n symmetric binary matrix in the row order of ``geoms``. Units without a neighbour
        (islands such as Hainan or Taiwan) have an all-zero row: give them neighbours (e.g.
        combine with :func:`knn_weights`) before a row-standardized Moran's I.

    Raises
    ------
    ValueError
        Not a GeoDataFrame/GeoSeries, or non-polygon geometries.

    References
    ----------
    Built with ``libpysal.graph.Graph.build_contiguity``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(1, 1, 2, 2)])
    >>> contiguity_weights(g).astype(int).tolist()
    [[0, 1, 1], [1, 0, 1], [1, 1, 0]]
    >>> contiguity_weights(g, rook=True).astype(int).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    from libpysal.graph import Graph

    if not hasattr(geoms, "geometry") and not hasattr(geoms, "geom_type"):
        raise ValueError("geoms must be a GeoDataFrame or GeoSeries of polygons.")
    geom = geoms.geometry if hasattr(geoms, "geometry") else geoms
    types = set(geom.geom_type)
    if not types <= {"Polygon", "MultiPolygon"}:
        raise ValueError(f"contiguity needs polygons; got geometry types {sorted(types)}.")
    geom = geom.reset_index(drop=True)
    graph = Graph.build_contiguity(geom, rook=rook)
    A = graph.sparse.toarray()
    order = np.asarray(graph.unique_ids)
    W = np.zeros((len(geom), len(geom)))
    W[np.ix_(order, order)] = A
    np.fill_diagonal(W, 0.0)
    return (W > 0).astype(float)


# ---------------------------------------------------------------------------------------------
# centre of gravity and standard deviational ellipse
# ---------------------------------------------------------------------------------------------


def _bearing(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Angle clockwise from north (the +y axis), in degrees in [0, 360)."""
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def gravity_center(
    frame: pd.DataFrame,
    x: str,
    y: str,
    weight: str,
    *,
    time: str | None = None,
    lonlat: bool = True,
    scale: float = 1.0,
    weight_power: Literal[1, 2] = 1,
) -> pd.DataFrame:
    r"""Weighted centre of gravity per period, its movement, and the standard deviational ellipse.

    Parameters
    ----------
    frame : pd.DataFrame
        One row per unit (and period), with coordinates and the weight (output, AI firms ...).
    x, y : str
        Coordinate columns: longitude and latitude in degrees when ``lonlat=True``, projected
        coordinates otherwise.
    weight : str
        Non-negative weight column (not all 0 within a period).
    time : str, optional
        Period column; one row of output per period (sorted). Without it, one row.
    lonlat : bool, default True
        Coordinates are lon/lat: the movement is a great-circle distance in km and the ellipse
        axes are computed in km on a local equirectangular projection around each period's
        centre (adequate at the scale of China's provinces; for exact work pass projected
        coordinates with ``lonlat=False``).
    scale : float, default 1.0
        Multiplier of the axes (1 = one standard deviation; ArcGIS multiplies by
        :math:`\sqrt 2`).
    weight_power : {1, 2}, default 1
        1: weighted covariance :math:`\sum w_i d_id_i^\top/\sum w_i` (ArcGIS "Directional
        Distribution" with a weight field). 2: the form printed in much of the Chinese
        literature (e.g. Zhao & Zhao 2014), where the sums in :math:`\tan\theta` and
        :math:`\sigma_x, \sigma_y` use :math:`w_i^2`.

    Returns
    -------
    pd.DataFrame
        Indexed by period: ``x``, ``y`` (weighted centre), ``distance`` (movement since the
        previous period; km if ``lonlat``; NaN-free: 0 for the first period), ``bearing``
        (direction of that movement, degrees clockwise from north; 0 for the first period),
        ``sigma_major``, ``sigma_minor`` (axes of the ellipse, km if ``lonlat``),
        ``rotation`` (angle from north, clockwise, to the major axis, in [0, 180)),
        ``area`` (:math:`\pi\sigma_{major}\sigma_{minor}`), ``shape`` (minor/major ratio),
        ``n``.

    Raises
    ------
    ValueError
        Missing columns, NaN, negative weights, a period whose weights sum to 0, fewer than 3
        units in a period, lon/lat out of range.

    Notes
    -----
    Centre: :math:`\bar X = \sum_i w_ix_i/\sum_i w_i`, :math:`\bar Y` likewise. With deviations
    :math:`\tilde x_i, \tilde y_i` from the centre and :math:`v_i = w_i^{p}` (``weight_power``
    :math:`p`), the ellipse is the eigen-decomposition of
    :math:`\Sigma = \sum_i v_i (\tilde x_i, \tilde y_i)^\top(\tilde x_i, \tilde y_i)/\sum_i v_i`:
    :math:`\sigma_{major,minor} = \text{scale}\sqrt{\lambda_{1,2}}`. Its rotation equals
    Yuill's :math:`\tan\theta = \frac{A + \sqrt{A^2 + 4B^2}}{2B}` with
    :math:`A = \sum v_i\tilde x_i^2 - \sum v_i\tilde y_i^2`, :math:`B = \sum v_i\tilde x_i\tilde y_i`,
    which is the formula printed in the papers.

    References
    ----------
    Lefever (1926); Yuill (1971), "The standard deviational ellipse", *Geografiska Annaler B*
    53(1); Zhao Lu & Zhao Zuoquan (2014), 《地理研究》 33(5) (the Chinese form).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [0.0, 2, 0, 2], "y": [0.0, 0, 1, 1], "w": [1.0, 1, 1, 1]})
    >>> g = gravity_center(df, "x", "y", "w", lonlat=False)
    >>> g[["x", "y", "sigma_major", "sigma_minor", "rotation"]].round(3).values.tolist()
    [[1.0, 0.5, 1.0, 0.5, 90.0]]
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError("frame must be a DataFrame.")
    needed = [c for c in (x, y, weight, time) if c is not None]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"column(s) {missing} are missing from the frame.")
    if weight_power not in (1, 2):
        raise ValueError(f"weight_power must be 1 or 2; got {weight_power!r}.")
    if scale <= 0:
        raise ValueError(f"scale must be positive; got {scale}.")
    data = frame[needed].copy()
    if data[[x, y, weight]].isna().any().any():
        raise ValueError("coordinates or weights contain NaN; drop those rows first.")
    if (data[weight] < 0).any():
        raise ValueError(f"column {weight!r} has negative weights; weights must be >= 0.")
    if lonlat:
        _coords(data[[x, y]].to_numpy(), "haversine")
    key = data[time] if time is not None else pd.Series(0, index=data.index)
    rows: dict[Hashable, dict[str, float]] = {}
    for period, g in data.groupby(key, sort=True):
        w = g[weight].to_numpy(float)
        if w.sum() <= 0:
            raise ValueError(f"weights sum to 0 in period {period!r}; the centre is undefined.")
        if len(g) < 3:
            raise ValueError(f"period {period!r} has fewer than 3 units; no ellipse exists.")
        gx, gy = g[x].to_numpy(float), g[y].to_numpy(float)
        cx, cy = np.average(gx, weights=w), np.average(gy, weights=w)
        if lonlat:
            k = np.pi / 180 * EARTH_RADIUS_KM
            dx = (gx - cx) * k * np.cos(np.radians(cy))
            dy = (gy - cy) * k
        else:
            dx, dy = gx - cx, gy - cy
        v = w**weight_power
        cov = (
            np.array(
                [
                    [np.sum(v * dx * dx), np.sum(v * dx * dy)],
                    [np.sum(v * dx * dy), np.sum(v * dy * dy)],
                ]
            )
            / v.sum()
        )
        vals, vecs = np.linalg.eigh(cov)
        major = vecs[:, 1]
        rotation = float(_bearing(np.array(major[0]), np.array(major[1])) % 180.0)
        s_major = scale * float(np.sqrt(max(vals[1], 0.0)))
        s_minor = scale * float(np.sqrt(max(vals[0], 0.0)))
        rows[period] = {
            "x": float(cx),
            "y": float(cy),
            "sigma_major": s_major,
            "sigma_minor": s_minor,
            "rotation": rotation,
            "area": float(np.pi * s_major * s_minor),
            "shape": s_minor / s_major if s_major > 0 else 1.0,
            "n": float(len(g)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = time
    px, py = out["x"].to_numpy(), out["y"].to_numpy()
    dist = np.zeros(len(out))
    bearing = np.zeros(len(out))
    if len(out) > 1:
        if lonlat:
            dist[1:] = haversine_km(px[:-1], py[:-1], px[1:], py[1:])
            lam1, phi1, lam2, phi2 = (np.radians(a) for a in (px[:-1], py[:-1], px[1:], py[1:]))
            bearing[1:] = _bearing(
                np.sin(lam2 - lam1) * np.cos(phi2),
                np.cos(phi1) * np.sin(phi2) - np.sin(phi1) * np.cos(phi2) * np.cos(lam2 - lam1),
            )
        else:
            dist[1:] = np.hypot(np.diff(px), np.diff(py))
            bearing[1:] = _bearing(np.diff(px), np.diff(py))
    out.insert(2, "distance", dist)
    out.insert(3, "bearing", bearing)
    out["n"] = out["n"].astype(int)
    return out

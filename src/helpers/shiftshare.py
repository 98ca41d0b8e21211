r"""Shift-share (Bartik) designs: exposure, the shock-level regression and Rotemberg weights.

A shift-share variable combines region (or firm) shares :math:`s_{lk}\ge 0` of shocks
:math:`k` (industries) with the shocks :math:`g_k`: the **exposure**
:math:`z_l = \sum_k s_{lk} g_k`. With outcome :math:`y_l`, treatment :math:`x_l`, region controls
:math:`w_l` (a constant is always included) and region weights :math:`e_l`, the shift-share IV is
:math:`\hat\beta = \sum_l e_l z_l y^\perp_l / \sum_l e_l z_l x^\perp_l`, with :math:`\perp` the
residual after a weighted regression on the controls.

* :func:`exposure` -- :math:`z_l = \sum_k s_{lk} g_k`, shares and shocks aligned by name.
* :func:`shock_level` -- Borusyak, Hull and Jaravel (2022)'s transformation to the shock level:
  exposure weights :math:`s_k = \sum_l e_l s_{lk}` and exposure-weighted averages
  :math:`\bar y_k = \sum_l e_l s_{lk} y^\perp_l / s_k` (and :math:`\bar x_k`). The IV above
  equals :math:`\sum_k s_k g_k \bar y_k / \sum_k s_k g_k \bar x_k` exactly (a numerical
  identity), and with the sum of shares among the controls it equals the shock-level IV regression
  of :math:`\bar y_k` on :math:`\bar x_k` with a constant, instrumented by :math:`g_k`, weighted
  by :math:`s_k`.
* :func:`shock_iv` -- that shock-level regression in closed form; its heteroskedasticity-robust
  standard error is the exposure-robust standard error (equal to ``pyfixest.feols("y ~ 1 | x ~ g",
  weights="s", vcov="hetero")`` on the :func:`shock_level` frame).
* :func:`rotemberg_weights` -- Goldsmith-Pinkham, Sorkin and Swift (2020)'s decomposition
  :math:`\hat\beta = \sum_k \hat\alpha_k \hat\beta_k` into just-identified IVs that use one share
  :math:`s_{\cdot k}` as the instrument, :math:`\hat\alpha_k = s_k g_k \bar x_k / \sum_j s_j g_j
  \bar x_j` (summing to one) and :math:`\hat\beta_k = \bar y_k / \bar x_k`.
* :func:`effective_shocks` -- the inverse Herfindahl index of the exposure weights
  :math:`1/\sum_k (s_k/\sum_j s_j)^2`, the number of equally weighted shocks with the same
  concentration.

References
----------
Adão, R., Kolesár, M., and Morales, E. (2019). Shift-share designs: theory and inference.
*Quarterly Journal of Economics* 134(4), 1949-2010.
Borusyak, K., Hull, P., and Jaravel, X. (2022). Quasi-experimental shift-share research designs.
*Review of Economic Studies* 89(1), 181-213.
Goldsmith-Pinkham, P., Sorkin, I., and Swift, H. (2020). Bartik instruments: what, when, why, and
how. *American Economic Review* 110(8), 2586-2624.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ShockIV", "effective_shocks", "exposure", "rotemberg_weights", "shock_iv", "shock_level"]


def _shares(shares: Any, where: str) -> np.ndarray:
    if not isinstance(shares, pd.DataFrame):
        raise ValueError(f"{where}: shares must be a DataFrame (regions x shocks), got "
                         f"{type(shares).__name__}")
    if shares.shape[0] == 0 or shares.shape[1] == 0:
        raise ValueError(f"{where}: shares is empty ({shares.shape[0]} regions x {shares.shape[1]} shocks)")
    if shares.columns.has_duplicates:
        dup = shares.columns[shares.columns.duplicated()].unique().tolist()
        raise ValueError(f"{where}: shares has repeated shock columns {dup[:5]}")
    try:
        vals = shares.to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: shares must be numeric ({err})") from None
    if not np.isfinite(vals).all():
        bad = shares.columns[~np.isfinite(vals).all(axis=0)].tolist()
        raise ValueError(f"{where}: shares contain NaN or infinite values (shock columns {bad[:5]})")
    if (vals < 0).any():
        bad = shares.columns[(vals < 0).any(axis=0)].tolist()
        raise ValueError(f"{where}: shares must be non-negative; negative values in shock columns {bad[:5]}")
    return vals


def _shocks(shocks: Any, columns: pd.Index, where: str) -> np.ndarray:
    if not isinstance(shocks, pd.Series):
        raise ValueError(f"{where}: shocks must be a Series indexed by the share columns, got "
                         f"{type(shocks).__name__}")
    if shocks.index.has_duplicates:
        raise ValueError(f"{where}: shocks has repeated names {shocks.index[shocks.index.duplicated()].tolist()[:5]}")
    same = shocks.index.equals(columns)
    missing, extra = (columns[:0], columns[:0]) if same else (columns.difference(shocks.index),
                                                              shocks.index.difference(columns))
    if len(missing) or len(extra):
        raise ValueError(f"{where}: shocks do not align with the share columns: no shock for "
                         f"{missing.tolist()[:5]}, no share column for {extra.tolist()[:5]}")
    try:
        g = (shocks if same else shocks.reindex(columns)).to_numpy(dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: shocks must be numeric ({err})") from None
    if not np.isfinite(g).all():
        raise ValueError(f"{where}: shocks contain NaN or infinite values "
                         f"({columns[~np.isfinite(g)].tolist()[:5]})")
    return g


def _vector(v: Any, index: pd.Index, name: str, where: str) -> np.ndarray:
    if isinstance(v, pd.Series):
        if not v.index.equals(index):
            missing = index.difference(v.index)
            if len(missing) or v.index.has_duplicates or len(v) != len(index):
                raise ValueError(f"{where}: {name} is not indexed by the share rows (regions), e.g. "
                                 f"missing {missing.tolist()[:5]}")
            v = v.reindex(index)
    arr = np.asarray(v, dtype=float)
    if arr.ndim != 1 or len(arr) != len(index):
        raise ValueError(f"{where}: {name} must be one value per region ({len(index)}), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: {name} contains NaN or infinite values "
                         f"({int((~np.isfinite(arr)).sum())} regions)")
    return arr


def exposure(shares: pd.DataFrame, shocks: pd.Series) -> pd.Series:
    r"""The shift-share exposure :math:`z_l = \sum_k s_{lk} g_k`.

    Parameters
    ----------
    shares : pandas.DataFrame
        Regions x shocks, non-negative, no NaN. Rows need not sum to one (incomplete shares).
    shocks : pandas.Series
        One shock per share column, matched by name (order does not matter).

    Returns
    -------
    pandas.Series
        ``exposure``, indexed like ``shares``.

    Raises
    ------
    ValueError
        If the shocks and the share columns do not name the same shocks, a share is negative, or a
        value is NaN or infinite.

    Examples
    --------
    >>> S = pd.DataFrame({"cars": [0.5, 0.1], "toys": [0.2, 0.6]}, index=["A", "B"])
    >>> exposure(S, pd.Series({"toys": -1.0, "cars": 2.0})).round(12).tolist()
    [0.8, -0.4]
    """
    S = _shares(shares, "exposure")
    g = _shocks(shocks, shares.columns, "exposure")
    return pd.Series(S @ g, index=shares.index, name="exposure")


def effective_shocks(weights: Any) -> float:
    r"""Inverse Herfindahl index :math:`1/\sum_k (s_k/\sum_j s_j)^2` of exposure weights.

    Parameters
    ----------
    weights : array-like
        Non-negative exposure weights :math:`s_k` (e.g. the ``s`` column of :func:`shock_level`).

    Returns
    -------
    float
        Between 1 (one shock carries all the weight) and the number of shocks (equal weights).

    Examples
    --------
    >>> effective_shocks([1, 1, 1, 1])
    4.0
    >>> round(effective_shocks([0.7, 0.1, 0.1, 0.1]), 3)
    1.923
    """
    s = np.asarray(weights, dtype=float).ravel()
    if s.size == 0 or not np.isfinite(s).all() or (s < 0).any() or s.sum() <= 0:
        raise ValueError("effective_shocks: weights must be finite, non-negative and not all zero")
    p = s / s.sum()
    return float(1.0 / (p @ p))


def shock_level(
    shares: pd.DataFrame,
    y: Any,
    x: Any,
    *,
    controls: Any = None,
    weights: Any = None,
) -> pd.DataFrame:
    r"""Borusyak–Hull–Jaravel shock-level aggregates of a region-level shift-share design.

    ``y`` and ``x`` are residualized on a constant and ``controls`` (weighted least squares with
    ``weights``), then averaged within each shock with weights :math:`e_l s_{lk}`.

    Parameters
    ----------
    shares : pandas.DataFrame
        Regions x shocks, non-negative, no NaN.
    y, x : array-like or pandas.Series
        Region outcome and treatment (for a reduced form or OLS on the exposure, ``x`` is the
        exposure itself). A Series is aligned to the rows of ``shares``.
    controls : array-like or pandas.DataFrame, optional
        Region controls (one row per region). Include the sum of shares
        (``shares.sum(axis=1)``) when shares are incomplete.
    weights : array-like, optional
        Positive region weights :math:`e_l` (default: equal weights).

    Returns
    -------
    pandas.DataFrame
        Indexed by shock: ``s`` (exposure weight :math:`\sum_l e_l s_{lk}`), ``y`` and ``x``
        (exposure-weighted means of the residualized outcome and treatment).

    Raises
    ------
    ValueError
        On NaN, negative shares, misaligned inputs, non-positive weights, or a shock with zero
        total share (drop it: it carries no exposure).

    Examples
    --------
    >>> S = pd.DataFrame({"a": [1.0, 0.0, 0.5], "b": [0.0, 1.0, 0.5]})
    >>> shock_level(S, [1.0, 3.0, 2.0], [0.0, 1.0, 2.0]).round(3).to_numpy().tolist()
    [[1.5, -0.667, -0.333], [1.5, 0.667, 0.333]]
    """
    S = _shares(shares, "shock_level")
    rows, shocks = shares.index, shares.columns
    zero = shocks[S.sum(axis=0) == 0]
    if len(zero):
        raise ValueError(f"shock_level: shock(s) {zero.tolist()[:5]} have zero total share; drop them")
    yv = _vector(y, rows, "y", "shock_level")
    xv = _vector(x, rows, "x", "shock_level")
    n = len(S)
    e = np.ones(n) if weights is None else _vector(weights, rows, "weights", "shock_level")
    if (e <= 0).any():
        raise ValueError("shock_level: weights must be positive")
    W = np.ones((n, 1))
    if controls is not None:
        if isinstance(controls, pd.DataFrame | pd.Series):
            missing = rows.difference(controls.index)
            if len(missing) or controls.index.has_duplicates:
                raise ValueError(f"shock_level: controls are not indexed by the share rows (regions), "
                                 f"e.g. missing {missing.tolist()[:5]}")
            controls = controls.reindex(rows)
        try:
            C = np.asarray(controls, dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f"shock_level: controls must be numeric ({err})") from None
        C = C.reshape(n, -1) if C.ndim == 1 and len(C) == n else C
        if C.ndim != 2 or C.shape[0] != n:
            raise ValueError(f"shock_level: controls must have one row per region ({n}), got shape {C.shape}")
        if not np.isfinite(C).all():
            raise ValueError("shock_level: controls contain NaN or infinite values")
        W = np.column_stack([W, C])
    sw = np.sqrt(e)[:, None]
    V = np.column_stack([yv, xv])
    coef = np.linalg.lstsq(sw * W, sw * V, rcond=None)[0]
    perp = V - W @ coef
    eS = S * e[:, None]
    s = eS.sum(axis=0)
    means = (eS.T @ perp) / s[:, None]
    return pd.DataFrame({"s": s, "y": means[:, 0], "x": means[:, 1]}, index=shocks).rename_axis("shock")


@dataclass(frozen=True)
class ShockIV:
    """Result of :func:`shock_iv`: the estimate, its exposure-robust SE and the shock count."""

    estimate: float
    se: float
    n_shocks: int
    effective_shocks: float

    @property
    def tstat(self) -> float:
        return self.estimate / self.se


def shock_iv(frame: pd.DataFrame, shocks: pd.Series, *, constant: bool = True) -> ShockIV:
    r"""The shock-level IV of :math:`\bar y_k` on :math:`\bar x_k` with instrument :math:`g_k`.

    Weighted by :math:`s_k`, with a constant unless ``constant=False``. The standard error is
    heteroskedasticity-robust with pyfixest's ``hetero`` small-sample factor :math:`K/(K-p)`
    (``p`` = 2 with the constant), i.e. the exposure-robust SE of Borusyak, Hull and Jaravel (2022).

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of :func:`shock_level` (columns ``s``, ``y``, ``x``, indexed by shock).
    shocks : pandas.Series
        The shocks :math:`g_k`, matched to ``frame`` by name.
    constant : bool, default True
        Include a constant (reproduces the region-level IV when the sum of shares is a control).

    Returns
    -------
    ShockIV

    Examples
    --------
    >>> f = pd.DataFrame({"s": [1.0, 1.0, 2.0], "y": [1.0, -1.0, 0.5], "x": [2.0, -2.0, 1.0]},
    ...                  index=["a", "b", "c"])
    >>> res = shock_iv(f, pd.Series({"a": 1.0, "b": -1.0, "c": 0.5}))
    >>> round(res.estimate, 6), round(res.se, 6)
    (0.5, 0.0)
    """
    if not isinstance(frame, pd.DataFrame) or not {"s", "y", "x"} <= set(frame.columns):
        raise ValueError("shock_iv: frame must be the output of shock_level (columns s, y, x)")
    g = _shocks(shocks, frame.index, "shock_iv")
    s, yk, xk = frame[["s", "y", "x"]].to_numpy(dtype=float).T
    p = 2 if constant else 1
    if len(s) <= p:
        raise ValueError(f"shock_iv: need more than {p} shocks, got {len(s)}")
    gd = g - (s @ g) / s.sum() if constant else g
    den = float(np.sum(s * gd * xk))
    if den == 0:
        raise ValueError("shock_iv: the instrument is orthogonal to the treatment at the shock level")
    b = float(np.sum(s * gd * yk)) / den
    u = yk - b * xk
    if constant:
        u = u - (s @ u) / s.sum()
    K = len(s)
    se = float(np.sqrt(np.sum((s * gd * u) ** 2) * K / (K - p)) / abs(den))
    return ShockIV(estimate=b, se=se, n_shocks=K, effective_shocks=effective_shocks(s))


def rotemberg_weights(
    shares: pd.DataFrame,
    shocks: pd.Series,
    y: Any,
    x: Any,
    *,
    controls: Any = None,
    weights: Any = None,
) -> pd.DataFrame:
    r"""Goldsmith-Pinkham–Sorkin–Swift Rotemberg weights of a shift-share IV.

    The IV with instrument :math:`z_l=\sum_k s_{lk}g_k` is
    :math:`\hat\beta = \sum_k \hat\alpha_k \hat\beta_k` with :math:`\hat\beta_k` the just-identified
    IV that uses the share :math:`s_{\cdot k}` alone as instrument and
    :math:`\hat\alpha_k = g_k\, s_{\cdot k}' \tilde x / z'\tilde x` (summing to one; :math:`\tilde x`
    the treatment after the controls). Weights can be negative.

    Parameters
    ----------
    shares, shocks, y, x, controls, weights
        As in :func:`shock_level` and :func:`exposure`.

    Returns
    -------
    pandas.DataFrame
        Indexed by shock: ``alpha`` (Rotemberg weight), ``beta`` (just-identified estimate; NaN
        where :math:`\bar x_k = 0`), ``g`` (shock) and ``s`` (exposure weight).

    Examples
    --------
    >>> S = pd.DataFrame({"a": [1.0, 0.0, 0.5, 0.2], "b": [0.0, 1.0, 0.5, 0.8]})
    >>> g = pd.Series({"a": 1.0, "b": -0.5})
    >>> z = exposure(S, g)
    >>> rw = rotemberg_weights(S, g, [1.0, 0.0, 2.0, 0.5], z)
    >>> round(float(rw["alpha"].sum()), 12)
    1.0
    """
    frame = shock_level(shares, y, x, controls=controls, weights=weights)
    g = _shocks(shocks, frame.index, "rotemberg_weights")
    num = frame["s"].to_numpy() * g * frame["x"].to_numpy()
    if num.sum() == 0:
        raise ValueError("rotemberg_weights: the exposure is orthogonal to the treatment (no first stage)")
    xk = frame["x"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(xk != 0, frame["y"].to_numpy() / np.where(xk != 0, xk, 1.0), np.nan)
    return pd.DataFrame({"alpha": num / num.sum(), "beta": beta, "g": g, "s": frame["s"].to_numpy()},
                        index=frame.index)

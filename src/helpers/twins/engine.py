r"""Building blocks for calibrated simulated panels ("twins").

Each block is small, vectorized (no Python loops over rows) and takes its randomness from a
``numpy.random.Generator`` made by ``np.random.default_rng(seed)``. A twin builder chains them:

1. a panel skeleton: :func:`balanced_panel` (cities x years) or :func:`draw_entry_exit` +
   :func:`unbalanced_panel` (firms with IPO entry and exit);
2. covariates whose marginals match a paper's descriptive statistics: :class:`Marginal`,
   :func:`gaussian_copula`, :func:`to_marginal`, :func:`match_moments`, and
   :func:`draw_panel_covariates` (between/within split, trends, copula correlation, exact moments);
3. effects: :func:`draw_effects` (unit, year, industry-year shocks for clustered errors);
4. policies: :func:`staggered_treatment` (unit -> adoption year), :func:`event_time`;
5. outcome pieces with known truth: :func:`dynamic_effect`, :func:`effect_by_group`,
   :func:`add_measurement_error`;
6. the result: :class:`Twin`, :func:`mark_simulated`, :func:`hash_frame`.

Rules every twin follows (the honest-twin contract, enforced by ``tests/test_twins_honest.py``)
------------------------------------------------------------------------------------------------
1. **Calibrate in population, draw honestly.** A parameter may be set from a published number so
   that the *estimand* of a published specification on the twin equals the published value (e.g. a
   slope, a residual variance that gives the published R-squared). Every random term stays a random
   draw: no projection of noise on regressors, no adjustment of outcomes, counts or samples toward a
   published estimate, standard error or star class, and no search over seeds or draws.
2. **One seed per chapter, fixed by a rule.** ``calibration.yml`` holds the seed and states the rule
   that fixed it (the same constant for every chapter is fine); it is never chosen by looking at
   results. Seeds of sub-draws are derived from it (``np.random.default_rng([seed, k])``).
3. **Two truths per compared row.** ``Twin.truth["rows"]`` maps ``"<table>/<column>/<term>"`` to
   ``{"estimand": ..., "effect": ..., "why": ...}``: the *estimand* is what the published
   specification converges to on the twin (computed from the noise-free outcome or in closed form);
   the *effect* is the causal parameter of the twin's model, given where it differs, with a one-line
   reason for the gap (spillovers in the regressor, a mismeasured index, a weak instrument, ...).
   :meth:`Twin.truth_for` hands both to :func:`helpers.report.compare_table`.
4. **Replications for design analysis.** The builder module defines
   ``redraw(twin, R, seed) -> dict[str, numpy.ndarray]``: ``R`` new draws of every random term
   downstream of the design (outcome shocks; treatment assignment only where the paper's design
   treats it as random), holding the design and covariates fixed, returned as ``n x R`` outcome
   columns aligned with ``twin.panel`` (or with the raw frame named in ``SPECS``). Replication ``r``
   uses ``numpy.random.default_rng([seed, r])`` alone, so the first 50 columns of ``R=500`` equal
   ``R=50``. :meth:`Twin.redraw` calls it; :mod:`helpers.design` fits and diagnoses the draws.
5. **Declared baselines.** The module's ``SPECS`` (a tuple of :class:`Spec`, the paper's baseline
   first) lists the published OLS / fixed-effects specifications that the chapter scores with
   :func:`helpers.design.fit_many`; the honest-twin tests re-estimate them at other seeds and over
   redraws. ``COVERAGE_EXCEPTIONS`` (``"<table>/<column>/<term>" -> reason``) names rows whose 95 %
   intervals need not cover the estimand at 95 % over redraws, with the reason (for example, firm
   effects held fixed in the redraws while the SEs allow for them).

Example
-------
>>> rng = np.random.default_rng(0)
>>> panel = balanced_panel(["a", "b", "c"], range(2010, 2013), unit_col="city")
>>> d, first = staggered_treatment(panel["city"], panel["year"], {"a": 2011})
>>> d.tolist()
[0, 1, 1, 0, 0, 0, 0, 0, 0]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Marginal",
    "Spec",
    "Twin",
    "add_measurement_error",
    "balanced_panel",
    "draw_effects",
    "draw_entry_exit",
    "draw_panel_covariates",
    "dynamic_effect",
    "effect_by_group",
    "event_time",
    "gaussian_copula",
    "hash_frame",
    "mark_simulated",
    "match_moments",
    "nearest_correlation",
    "staggered_treatment",
    "to_marginal",
    "unbalanced_panel",
    "winsorize",
]

MAX_ITER = 200
TOL = 1e-12


# --------------------------------------------------------------------------------------------
# panel skeletons
# --------------------------------------------------------------------------------------------
def balanced_panel(
    units: Sequence[Any] | pd.Index | int,
    years: Iterable[int],
    *,
    unit_col: str = "unit",
    year_col: str = "year",
) -> pd.DataFrame:
    """Return a balanced unit x year skeleton, sorted by unit then year.

    Parameters
    ----------
    units : sequence or int
        Unit identifiers, or a count ``n`` (identifiers ``0..n-1``).
    years : iterable of int
        The years (e.g. ``range(2010, 2023)``).
    unit_col, year_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        ``len(units) * len(years)`` rows with the two key columns (year as int64).

    Raises
    ------
    ValueError
        If there are no units or years, or unit identifiers repeat.

    Examples
    --------
    >>> balanced_panel(2, [2020, 2021]).to_dict("list")
    {'unit': [0, 0, 1, 1], 'year': [2020, 2021, 2020, 2021]}
    """
    u = np.arange(units) if isinstance(units, (int, np.integer)) else np.asarray(list(units))
    y = np.asarray(list(years), dtype=np.int64)
    if u.size == 0 or y.size == 0:
        raise ValueError("balanced_panel needs at least one unit and one year")
    if pd.Index(u).has_duplicates:
        raise ValueError("unit identifiers repeat; pass each unit once")
    return pd.DataFrame({unit_col: np.repeat(u, y.size), year_col: np.tile(y, u.size)})


def draw_entry_exit(
    n_units: int,
    years: Sequence[int],
    rng: np.random.Generator,
    *,
    share_at_start: float = 0.6,
    exit_hazard: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw entry (e.g. IPO) and exit years for an unbalanced firm panel.

    A share ``share_at_start`` of units is present in the first year; the others enter uniformly over
    the remaining years. Each year after entry a unit exits with probability ``exit_hazard``
    (geometric durations); the exit year is the last year observed.

    Parameters
    ----------
    n_units : int
        Number of units.
    years : sequence of int
        Consecutive panel years.
    rng : numpy.random.Generator
        Source of randomness.
    share_at_start : float
        Share of units already present in the first year, in [0, 1].
    exit_hazard : float
        Annual exit probability, in [0, 1).

    Returns
    -------
    (entry, exit) : tuple of int arrays
        First and last year observed, ``entry <= exit``.

    Raises
    ------
    ValueError
        If shares are outside their ranges or ``years`` is empty.

    Examples
    --------
    >>> e, x = draw_entry_exit(5, range(2011, 2024), np.random.default_rng(1))
    >>> bool((e <= x).all())
    True
    """
    y = np.asarray(list(years), dtype=np.int64)
    if y.size == 0 or n_units < 1:
        raise ValueError("draw_entry_exit needs at least one year and one unit")
    if not (0 <= share_at_start <= 1) or not (0 <= exit_hazard < 1):
        raise ValueError("share_at_start must be in [0, 1] and exit_hazard in [0, 1)")
    at_start = rng.random(n_units) < share_at_start
    later = y[rng.integers(1, max(y.size, 2), n_units).clip(max=y.size - 1)]
    entry = np.where(at_start, y[0], later)
    if exit_hazard > 0:
        duration = rng.geometric(exit_hazard, n_units) - 1
    else:
        duration = np.full(n_units, y.size)
    exit_ = np.minimum(entry + duration, y[-1])
    return entry.astype(np.int64), exit_.astype(np.int64)


def unbalanced_panel(
    entry: Sequence[int] | np.ndarray,
    exit: Sequence[int] | np.ndarray,
    units: Sequence[Any] | None = None,
    *,
    unit_col: str = "unit",
    year_col: str = "year",
) -> pd.DataFrame:
    """Expand entry/exit years into an unbalanced unit x year skeleton (vectorized).

    Parameters
    ----------
    entry, exit : array-like of int
        First and last year of each unit (inclusive).
    units : sequence, optional
        Identifiers; default ``0..n-1``.
    unit_col, year_col : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        One row per unit-year with ``entry_year`` and ``exit_year`` columns.

    Raises
    ------
    ValueError
        If lengths differ or some ``exit < entry``.

    Examples
    --------
    >>> unbalanced_panel([2010, 2011], [2011, 2011]).year.tolist()
    [2010, 2011, 2011]
    """
    e = np.asarray(entry, dtype=np.int64)
    x = np.asarray(exit, dtype=np.int64)
    ids = np.arange(e.size) if units is None else np.asarray(list(units))
    if not (e.shape == x.shape == ids.shape):
        raise ValueError(f"entry, exit and units differ in length: {e.size}, {x.size}, {ids.size}")
    if (x < e).any():
        raise ValueError(f"{int((x < e).sum())} units exit before they enter; fix exit >= entry")
    n = x - e + 1
    rep = np.repeat(np.arange(e.size), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return pd.DataFrame({unit_col: ids[rep], year_col: e[rep] + offset,
                         "entry_year": e[rep], "exit_year": x[rep]})


# --------------------------------------------------------------------------------------------
# marginals and correlations
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Marginal:
    r"""Target marginal distribution of one variable, as a paper's descriptive table reports it.

    Attributes
    ----------
    mean, sd : float
        Target mean and standard deviation (hit exactly by :func:`to_marginal`).
    min, max : float, optional
        Bounds; values beyond are clipped (like 1 %/99 % winsorizing, leaving small point masses
        at the bounds). ``None`` = unbounded.
    skew : float
        Shape of the latent transform: 0 = normal; ``s > 0`` = right-skewed lognormal-type
        :math:`\exp(s z)`; ``s < 0`` = left-skewed :math:`-\exp(-s z)` (s is the log-scale SD).
    zero_share : float
        Share of observations set exactly to ``min`` (a point mass, e.g. ln(1+VC) = 0), taken from
        the lowest latent scores.
    """

    mean: float
    sd: float
    min: float | None = None
    max: float | None = None
    skew: float = 0.0
    zero_share: float = 0.0

    def __post_init__(self) -> None:
        if not self.sd > 0:
            raise ValueError(f"Marginal sd must be positive, got {self.sd}")
        if self.min is not None and self.max is not None and not self.min < self.mean < self.max:
            raise ValueError(f"Marginal needs min < mean < max, got {self.min}, {self.mean}, {self.max}")
        if not 0 <= self.zero_share < 1:
            raise ValueError(f"zero_share must be in [0, 1), got {self.zero_share}")
        if self.zero_share > 0 and self.min is None:
            raise ValueError("zero_share > 0 needs a min (the value of the point mass)")


def match_moments(
    x: np.ndarray,
    mean: float,
    sd: float,
    lo: float | None = None,
    hi: float | None = None,
    *,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    r"""Affinely rescale ``x`` (then clip to ``[lo, hi]``) so that mean and SD equal the targets.

    Finds :math:`a, b>0` with :math:`y = \mathrm{clip}(a + b x, lo, hi)` such that
    :math:`\bar y = \text{mean}` and :math:`\mathrm{sd}(y) = \text{sd}` (population SD, ``ddof=0``),
    by fixed-point iteration on the affine map; entries flagged ``fixed`` keep the value ``lo``
    (a point mass). Ranks are preserved, so a copula's rank correlation survives. Without bounds
    the result is exact in one step; with bounds it converges to ~1e-12 when the targets are
    attainable.

    Parameters
    ----------
    x : numpy.ndarray
        Latent values (1-D, finite, not constant).
    mean, sd : float
        Targets.
    lo, hi : float, optional
        Clipping bounds.
    fixed : numpy.ndarray of bool, optional
        Entries set to ``lo`` and excluded from the affine map.

    Returns
    -------
    numpy.ndarray
        The transformed values.

    Raises
    ------
    ValueError
        If ``x`` is constant or not finite, ``sd <= 0``, or the targets cannot be reached within
        the bounds (e.g. an SD larger than the bounds allow).

    Examples
    --------
    >>> y = match_moments(np.array([1.0, 2.0, 3.0, 10.0]), 5.0, 2.0)
    >>> round(float(y.mean()), 10), round(float(y.std()), 10)
    (5.0, 2.0)
    """
    x = np.asarray(x, dtype=float)
    if not np.isfinite(x).all() or x.ndim != 1:
        raise ValueError("match_moments needs a finite 1-D array")
    if not sd > 0:
        raise ValueError(f"target sd must be positive, got {sd}")
    fx = np.zeros(x.size, bool) if fixed is None else np.asarray(fixed, bool)
    free = ~fx
    if fx.any() and lo is None:
        raise ValueError("fixed entries need a lower bound lo (the value of the point mass)")
    xf = x[free]
    if xf.size < 2 or np.ptp(xf) == 0:
        raise ValueError("match_moments needs a non-constant input")
    z = (xf - xf.mean()) / xf.std()
    y = np.empty_like(x)
    if fx.any():
        y[fx] = lo
    a, b = mean, sd
    lo_ = -np.inf if lo is None else lo
    hi_ = np.inf if hi is None else hi
    for _ in range(MAX_ITER):
        y[free] = np.clip(a + b * z, lo_, hi_)
        m, s = y.mean(), y.std()
        if abs(m - mean) < TOL * max(1, abs(mean)) and abs(s - sd) < TOL * max(1, sd):
            return y
        inner = (y[free] > lo_) & (y[free] < hi_)
        if not inner.any():
            break
        b *= sd / s
        a += (mean - m) / max(inner.mean() * free.mean(), 1e-3)
    y[free] = np.clip(a + b * z, lo_, hi_)
    if abs(y.mean() - mean) > 1e-6 * max(1, abs(mean)) or abs(y.std() - sd) > 1e-6 * max(1, sd):
        raise ValueError(
            f"cannot reach mean {mean} and sd {sd} within bounds [{lo}, {hi}] "
            f"(got {y.mean():.6g}, {y.std():.6g}); widen the bounds or change the latent shape"
        )
    return y


def to_marginal(z: np.ndarray, marginal: Marginal) -> np.ndarray:
    r"""Map standard-normal scores ``z`` to a variable with the target :class:`Marginal`.

    Steps: latent shape :math:`g(z)` (identity, :math:`e^{sz}` or :math:`-e^{-sz}`), the lowest
    ``zero_share`` of scores become the point mass at ``min``, then :func:`match_moments` on the
    rest. Monotone in ``z``.

    Parameters
    ----------
    z : numpy.ndarray
        Standard-normal scores (e.g. a column of :func:`gaussian_copula`).
    marginal : Marginal
        Targets.

    Returns
    -------
    numpy.ndarray
        Values with exactly the target mean and SD, inside ``[min, max]``.

    Examples
    --------
    >>> z = np.random.default_rng(0).standard_normal(10_000)
    >>> v = to_marginal(z, Marginal(mean=1.35, sd=1.48, min=0.16, max=35.8, skew=0.9))
    >>> round(float(v.mean()), 6), round(float(v.std()), 6), bool(v.min() >= 0.16)
    (1.35, 1.48, True)
    """
    z = np.asarray(z, dtype=float)
    s = marginal.skew
    latent = z if s == 0 else (np.exp(s * z) if s > 0 else -np.exp(s * z))
    fixed = None
    if marginal.zero_share > 0:
        fixed = z <= np.quantile(z, marginal.zero_share)
    return match_moments(latent, marginal.mean, marginal.sd, marginal.min, marginal.max, fixed=fixed)


def nearest_correlation(corr: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Return the nearest valid correlation matrix (eigenvalue clipping, unit diagonal).

    Parameters
    ----------
    corr : numpy.ndarray
        Symmetric matrix with unit diagonal (possibly not positive definite).
    eps : float
        Smallest eigenvalue kept.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> c = nearest_correlation(np.array([[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]]))
    >>> bool(np.linalg.eigvalsh(c).min() > 0)
    True
    """
    c = np.asarray(corr, dtype=float)
    c = (c + c.T) / 2
    w, v = np.linalg.eigh(c)
    c = (v * np.clip(w, eps, None)) @ v.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def gaussian_copula(n: int, corr: np.ndarray | pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    r"""Draw ``n`` rows of standard-normal scores with correlation ``corr``.

    :math:`Z = E L^\top` with :math:`E` i.i.d. N(0,1) and :math:`LL^\top` the Cholesky factor of the
    (nearest valid) correlation matrix. Feed the columns to :func:`to_marginal`; monotone marginal
    maps keep the rank correlations (a Gaussian copula).

    Parameters
    ----------
    n : int
        Number of rows.
    corr : array-like (k x k)
        Target correlation of the normal scores.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, k)

    Raises
    ------
    ValueError
        If ``corr`` is not square, not symmetric, or its diagonal is not 1.

    Examples
    --------
    >>> z = gaussian_copula(50_000, np.array([[1, .6], [.6, 1]]), np.random.default_rng(0))
    >>> round(float(np.corrcoef(z.T)[0, 1]), 2)
    0.6
    """
    c = np.asarray(corr, dtype=float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"corr must be a square matrix, got shape {c.shape}")
    if not np.allclose(c, c.T) or not np.allclose(np.diag(c), 1):
        raise ValueError("corr must be symmetric with a unit diagonal")
    chol = np.linalg.cholesky(nearest_correlation(c))
    return rng.standard_normal((n, c.shape[0])) @ chol.T


def draw_effects(
    codes: np.ndarray | pd.Series,
    sd: float,
    rng: np.random.Generator,
    *,
    by: np.ndarray | pd.Series | None = None,
) -> np.ndarray:
    """Draw one N(0, sd^2) effect per level of ``codes`` (or of ``codes`` x ``by``), broadcast to rows.

    Use it for unit effects (``codes=unit``), year effects (``codes=year``), and industry-year
    shocks (``codes=industry, by=year``): a shared shock within industry-year cells makes errors
    correlated within clusters, so clustered SEs exceed robust ones as in the papers.

    Parameters
    ----------
    codes : array-like
        Group labels per row.
    sd : float
        Standard deviation of the effects (>= 0).
    rng : numpy.random.Generator
    by : array-like, optional
        Second label; effects are drawn per (codes, by) cell.

    Returns
    -------
    numpy.ndarray
        One value per row; equal within a group.

    Examples
    --------
    >>> e = draw_effects(np.array(["a", "a", "b"]), 1.0, np.random.default_rng(0))
    >>> bool(e[0] == e[1] != e[2])
    True
    """
    if sd < 0:
        raise ValueError(f"sd must be >= 0, got {sd}")
    keys = [np.asarray(codes)] if by is None else [np.asarray(codes), np.asarray(by)]
    idx = pd.MultiIndex.from_arrays(keys).factorize()[0] if by is not None else pd.factorize(keys[0])[0]
    return rng.normal(0.0, sd, idx.max() + 1)[idx]


def draw_panel_covariates(
    unit: np.ndarray | pd.Series,
    year: np.ndarray | pd.Series,
    marginals: Mapping[str, Marginal],
    rng: np.random.Generator,
    *,
    corr: np.ndarray | pd.DataFrame | None = None,
    between_share: float | Mapping[str, float] = 0.7,
    trend: Mapping[str, np.ndarray | float] | None = None,
    unit_scores: np.ndarray | None = None,
) -> pd.DataFrame:
    r"""Draw panel covariates with a between/within split, trends, correlation and exact moments.

    For each variable k the latent score is

    .. math:: z_{itk} = \sqrt{\rho_k}\, u_{ik} + \sqrt{1-\rho_k}\, e_{itk} + \text{trend}_k(t),

    with unit scores :math:`u_i` and idiosyncratic scores :math:`e_{it}` each drawn from the same
    Gaussian copula ``corr``, :math:`\rho_k` = ``between_share`` (share of the latent variance
    between units), and ``trend`` a per-row (or per-year via ``year``) shift in latent SD units.
    Then :func:`to_marginal` maps each column to its :class:`Marginal`, so mean and SD are exact.

    Parameters
    ----------
    unit, year : array-like
        Keys per row.
    marginals : mapping of str to Marginal
        Target marginal per variable (column order = order of the mapping).
    rng : numpy.random.Generator
    corr : array-like (k x k), optional
        Latent correlation (default identity), ordered like ``marginals``.
    between_share : float or mapping
        :math:`\rho_k` in [0, 1], one for all or per variable.
    trend : mapping of str to float or array, optional
        Latent shift per variable: a float = slope per year (in latent SD units, centred on the
        mean year); an array = one value per row.
    unit_scores : numpy.ndarray, optional
        Pre-drawn unit scores (n_units x k, in the order of ``pd.factorize(unit)``), e.g. to make a
        covariate correlated with a unit effect used elsewhere.

    Returns
    -------
    pandas.DataFrame
        One column per variable, same row order as ``unit``.

    Raises
    ------
    ValueError
        If lengths differ, a share is outside [0, 1], or ``corr`` has the wrong size.

    Examples
    --------
    >>> p = balanced_panel(100, range(2010, 2015))
    >>> X = draw_panel_covariates(p.unit, p.year, {"g": Marginal(10.7, 0.6)}, np.random.default_rng(0))
    >>> round(float(X.g.mean()), 6), round(float(X.g.std(ddof=0)), 6)
    (10.7, 0.6)
    """
    names = list(marginals)
    k = len(names)
    u_codes, _ = pd.factorize(np.asarray(unit))
    yr = np.asarray(year, dtype=float)
    if u_codes.size != yr.size:
        raise ValueError(f"unit and year differ in length: {u_codes.size} vs {yr.size}")
    c = np.eye(k) if corr is None else np.asarray(corr, dtype=float)
    if c.shape != (k, k):
        raise ValueError(f"corr must be {k}x{k} (one row per marginal), got {c.shape}")
    rho = np.array([between_share.get(n, 0.7) if isinstance(between_share, Mapping) else between_share
                    for n in names], dtype=float)
    if ((rho < 0) | (rho > 1)).any():
        raise ValueError(f"between_share must be in [0, 1], got {rho}")
    n_units = u_codes.max() + 1
    u = gaussian_copula(n_units, c, rng) if unit_scores is None else np.asarray(unit_scores, float)
    if u.shape != (n_units, k):
        raise ValueError(f"unit_scores must have shape {(n_units, k)}, got {u.shape}")
    e = gaussian_copula(yr.size, c, rng)
    z = np.sqrt(rho) * u[u_codes] + np.sqrt(1 - rho) * e
    out = {}
    for j, name in enumerate(names):
        zj = z[:, j]
        if trend and name in trend:
            t = trend[name]
            zj = zj + (t * (yr - yr.mean()) if np.isscalar(t) else np.asarray(t, dtype=float))
        out[name] = to_marginal(zj, marginals[name])
    return pd.DataFrame(out)


def winsorize(x: np.ndarray | pd.Series, lower: float = 0.01, upper: float = 0.99) -> np.ndarray:
    """Clip ``x`` at its ``lower`` and ``upper`` quantiles (1 %/99 % by default).

    Parameters
    ----------
    x : array-like
        Values (NaNs are kept as NaN).
    lower, upper : float
        Quantiles, ``0 <= lower < upper <= 1``.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> winsorize(np.arange(101.0), 0.01, 0.99)[[0, 100]].tolist()
    [1.0, 99.0]
    """
    if not 0 <= lower < upper <= 1:
        raise ValueError(f"need 0 <= lower < upper <= 1, got {lower}, {upper}")
    a = np.asarray(x, dtype=float)
    lo, hi = np.nanquantile(a, [lower, upper])
    return np.clip(a, lo, hi)


# --------------------------------------------------------------------------------------------
# policies and effects
# --------------------------------------------------------------------------------------------
def staggered_treatment(
    unit: np.ndarray | pd.Series,
    year: np.ndarray | pd.Series,
    adoption: Mapping[Any, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Treatment dummy and first-treatment year from a unit -> adoption-year mapping.

    :math:`D_{it} = 1[t \\ge g_i]`; units missing from ``adoption`` (or mapped to 0) are never treated.

    Parameters
    ----------
    unit, year : array-like
        Keys per row.
    adoption : mapping
        Unit -> first treated year.

    Returns
    -------
    (d, first_year) : tuple of numpy arrays
        ``d`` int 0/1 per row; ``first_year`` per row (0 = never treated; the csdid convention).

    Examples
    --------
    >>> d, g = staggered_treatment(np.array([1, 1, 2]), np.array([2015, 2016, 2016]), {1: 2016})
    >>> d.tolist(), g.tolist()
    ([0, 1, 0], [2016, 2016, 0])
    """
    u = pd.Series(np.asarray(unit))
    g = u.map(dict(adoption)).fillna(0).to_numpy(dtype=np.int64)
    y = np.asarray(year, dtype=np.int64)
    if g.size != y.size:
        raise ValueError(f"unit and year differ in length: {g.size} vs {y.size}")
    d = ((g > 0) & (y >= g)).astype(np.int64)
    return d, g


def event_time(year: np.ndarray | pd.Series, first_year: np.ndarray | pd.Series) -> np.ndarray:
    """Years since adoption (``year - first_year``); NaN for never-treated rows (first_year 0).

    Examples
    --------
    >>> event_time(np.array([2014, 2016, 2016]), np.array([2016, 2016, 0])).tolist()
    [-2.0, 0.0, nan]
    """
    y = np.asarray(year, dtype=float)
    g = np.asarray(first_year, dtype=float)
    return np.where(g > 0, y - g, np.nan)


def dynamic_effect(
    rel_time: np.ndarray,
    effects: Mapping[int, float],
    *,
    after: float | None = None,
) -> np.ndarray:
    """Treatment effect per row from a map event time -> effect (0 before adoption and for NaN).

    Parameters
    ----------
    rel_time : numpy.ndarray
        Event time from :func:`event_time` (NaN = never treated).
    effects : mapping of int to float
        Effect at event times 0, 1, ...; event times beyond the largest key get ``after``.
    after : float, optional
        Effect for event times above ``max(effects)``; default: the last value.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> dynamic_effect(np.array([-1, 0, 1, 5, np.nan]), {0: 0.1, 1: 0.2}).tolist()
    [0.0, 0.1, 0.2, 0.2, 0.0]
    """
    r = np.asarray(rel_time, dtype=float)
    keys = np.array(sorted(effects))
    vals = np.array([effects[k] for k in keys], dtype=float)
    last = vals[-1] if after is None else after
    out = np.zeros(r.size)
    ok = np.isfinite(r) & (r >= 0)
    ri = np.where(ok, r, -1).astype(int)
    pos = np.searchsorted(keys, ri)
    hit = ok & (pos < keys.size) & (keys[np.minimum(pos, keys.size - 1)] == ri)
    out[hit] = vals[pos[hit]]
    out[ok & (ri > keys.max())] = last
    return out


def effect_by_group(group: np.ndarray | pd.Series, effects: Mapping[Any, float]) -> np.ndarray:
    """Per-row effect from a group -> effect map (heterogeneous effects by subgroup).

    Raises
    ------
    ValueError
        If a group value has no effect in the map.

    Examples
    --------
    >>> effect_by_group(np.array([0, 1, 1]), {0: 0.015, 1: 0.035}).tolist()
    [0.015, 0.035, 0.035]
    """
    s = pd.Series(np.asarray(group))
    out = s.map(dict(effects))
    if out.isna().any():
        raise ValueError(f"no effect given for groups {sorted(set(s[out.isna()]))}; add them to effects")
    return out.to_numpy(dtype=float)


def add_measurement_error(
    x: np.ndarray, reliability: float, rng: np.random.Generator
) -> np.ndarray:
    r"""Observed regressor with classical measurement error: :math:`x^* = x + e`.

    :math:`\mathrm{Var}(e) = \mathrm{Var}(x)(1-\lambda)/\lambda` with reliability
    :math:`\lambda = \mathrm{Var}(x)/\mathrm{Var}(x^*)`, so OLS on :math:`x^*` is attenuated by
    :math:`\lambda` (before controls) and an instrument uncorrelated with :math:`e` recovers the
    truth: the reason a paper's IV can exceed its OLS.

    Parameters
    ----------
    x : numpy.ndarray
        True regressor.
    reliability : float
        :math:`\lambda \in (0, 1]`.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(200_000)
    >>> xs = add_measurement_error(x, 0.8, np.random.default_rng(1))
    >>> round(float(np.var(x) / np.var(xs)), 2)
    0.8
    """
    if not 0 < reliability <= 1:
        raise ValueError(f"reliability must be in (0, 1], got {reliability}")
    x = np.asarray(x, dtype=float)
    sd_e = np.sqrt(x.var() * (1 - reliability) / reliability)
    return x + rng.normal(0.0, sd_e, x.size)


# --------------------------------------------------------------------------------------------
# the result object
# --------------------------------------------------------------------------------------------
def mark_simulated(df: pd.DataFrame, slug: str) -> pd.DataFrame:
    """Set ``df.attrs["simulated"] = True`` and ``df.attrs["twin"] = slug`` (in place) and return df.

    Examples
    --------
    >>> mark_simulated(pd.DataFrame({"a": [1]}), "x").attrs
    {'simulated': True, 'twin': 'x'}
    """
    df.attrs["simulated"] = True
    df.attrs["twin"] = slug
    return df


def hash_frame(df: pd.DataFrame) -> str:
    """SHA-256 of a frame's contents and column names (``pd.util.hash_pandas_object``).

    Examples
    --------
    >>> hash_frame(pd.DataFrame({"a": [1, 2]})) == hash_frame(pd.DataFrame({"a": [1, 2]}))
    True
    """
    h = hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    h.update("|".join(map(str, df.columns)).encode())
    return h.hexdigest()


ROW_CLASSES: tuple[str, ...] = ("target", "calibrated", "untargeted")
"""Classes of compared rows: ``target`` (a calibration target reproduced by construction, shown but
never scored), ``calibrated`` (a coefficient whose estimand was set from the published value) and
``untargeted`` (a published number the twin was not calibrated to)."""


@dataclass(frozen=True)
class Spec:
    """A published OLS / fixed-effects specification that a twin declares for design analysis.

    Attributes
    ----------
    key : str
        ``"<table>/<column>"`` of ``published.yml``.
    formula : str
        pyfixest formula on the twin's frame, e.g. ``"NQP ~ lnAI + Size | firm + year"``.
    vcov : str or dict
        The paper's standard errors: ``"iid"``, ``"hetero"`` or ``{"CRV1": "<column>"}``.
    terms : dict of str to str
        Published term -> term name in the fit (``{"lnAI": "lnAI"}``).
    frame : str
        ``"panel"`` or the name of a ``twin.raw`` frame the formula runs on.
    sample : str, optional
        A ``DataFrame.query`` string selecting the estimation sample (``None``: all rows).

    Examples
    --------
    >>> s = Spec("table3/col1", "y ~ x | unit + year", "hetero", {"x": "x"})
    >>> s.outcome, s.table, s.column
    ('y', 'table3', 'col1')
    """

    key: str
    formula: str
    vcov: str | dict[str, str]
    terms: Mapping[str, str]
    frame: str = "panel"
    sample: str | None = None

    def __post_init__(self) -> None:
        if self.key.count("/") != 1:
            raise ValueError(f"Spec.key must be '<table>/<column>', got {self.key!r}")
        if "~" not in self.formula:
            raise ValueError(f"Spec.formula must be a pyfixest formula 'y ~ x | fe', got {self.formula!r}")
        if not self.terms:
            raise ValueError(f"Spec {self.key}: give the published terms it estimates in `terms`")

    @property
    def outcome(self) -> str:
        """The left-hand-side column (the one :meth:`Twin.redraw` replaces)."""
        return self.formula.split("~", 1)[0].strip()

    @property
    def table(self) -> str:
        """The published table key."""
        return self.key.split("/")[0]

    @property
    def column(self) -> str:
        """The published column key."""
        return self.key.split("/")[1]

    def data(self, twin: Twin) -> pd.DataFrame:
        """The estimation frame of this spec on ``twin`` (the sample applied, index kept)."""
        frame = twin.panel if self.frame == "panel" else twin.raw[self.frame]
        return frame if self.sample is None else frame.query(self.sample)


@dataclass
class Twin:
    """A simulated twin of one paper's data.

    Attributes
    ----------
    slug : str
        The paper's slug (``helpers.paths.SLUGS``).
    panel : pandas.DataFrame
        The analysis panel (what the paper's regressions use).
    raw : dict of str to DataFrame
        Raw inputs from which the chapter builds indices (indicator matrices, text, patents, ...).
    truth : dict
        True parameters of the data-generating process, each documented in ``truth["doc"]``.
    meta : dict
        ``seed``, ``scale``, ``sources`` (spec tables used), ``calibration`` (path) and notes.
    """

    slug: str
    panel: pd.DataFrame
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)
    truth: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mark_simulated(self.panel, self.slug)
        for frame in self.raw.values():
            mark_simulated(frame, self.slug)

    def describe(self) -> str:
        """One-paragraph plain-text summary: sizes, seed, scale and the true parameters.

        Examples
        --------
        >>> Twin("x", pd.DataFrame({"a": [1]}), truth={"tau": 0.1}).describe().splitlines()[0]
        'Simulated twin x (scale=?, seed=?): panel 1 rows x 1 columns'
        """
        lines = [f"Simulated twin {self.slug} (scale={self.meta.get('scale', '?')}, "
                 f"seed={self.meta.get('seed', '?')}): panel {len(self.panel):,} rows x "
                 f"{self.panel.shape[1]} columns"]
        for name, frame in self.raw.items():
            lines.append(f"  raw[{name!r}]: {len(frame):,} rows x {frame.shape[1]} columns")
        for key, val in self.truth.items():
            if key != "doc" and np.isscalar(val):
                lines.append(f"  truth[{key!r}] = {val}")
        lines.append("These are simulated data calibrated to the paper; they are not findings about "
                     "China.")
        return "\n".join(lines)

    def truth_for(self, table: str, column: str) -> dict[str, dict[str, Any]]:
        """Estimand, effect and the reason they differ for every term of one published column.

        Returns ``{"estimand": {term: x}, "effect": {term: y}, "effect_note": {term: why}}``, ready
        for ``compare_table(..., **twin.truth_for(table, column))``; terms without an entry in
        ``truth["rows"]`` are left out (their truth columns stay empty).

        Examples
        --------
        >>> tw = Twin("x", pd.DataFrame({"a": [1]}),
        ...           truth={"rows": {"t1/c1/x": {"estimand": 0.5, "effect": 0.2, "why": "spillover"}}})
        >>> tw.truth_for("t1", "c1")["effect"]
        {'x': 0.2}
        """
        rows = self.truth.get("rows", {})
        prefix = f"{table}/{column}/"
        out: dict[str, dict[str, Any]] = {"estimand": {}, "effect": {}, "effect_note": {}}
        for key, val in rows.items():
            if not key.startswith(prefix):
                continue
            term = key[len(prefix):]
            if val.get("estimand") is not None:
                out["estimand"][term] = float(val["estimand"])
            if val.get("effect") is not None:
                out["effect"][term] = float(val["effect"])
            if val.get("why"):
                out["effect_note"][term] = str(val["why"])
        return out

    def redraw(self, R: int, seed: int | None = None, *, start: int = 0,
               outcomes: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """``R`` replications of the twin's random terms, holding the design fixed.

        Calls the builder module's ``redraw(twin, R, seed)`` (rule 4 in this module's docstring).

        Parameters
        ----------
        R : int
            Number of replications (>= 1).
        seed : int, optional
            Default: the twin's own seed (``meta["seed"]``). Replication ``r`` uses
            ``numpy.random.default_rng([seed, r])``.
        start : int, default 0
            Index of the first replication: ``redraw(50, start=100)`` returns replications
            100-149, the same columns as ``redraw(150)[:, 100:]`` (for large panels, in chunks).
        outcomes : sequence of str, optional
            Only these outcome columns (a builder that accepts ``outcomes`` skips the others).

        Returns
        -------
        dict of str to numpy.ndarray
            Outcome column name -> ``n x R`` array aligned with the frame it replaces.

        Raises
        ------
        ValueError
            If ``R < 1`` or ``start < 0``, an outcome is not redrawn by the twin, or the twin's
            builder does not implement ``redraw``.
        """
        import inspect

        if int(R) < 1 or int(start) < 0:
            raise ValueError(f"redraw needs R >= 1 and start >= 0, got R={R}, start={start}")
        seed = int(self.meta.get("seed", 0) if seed is None else seed)
        fn = getattr(self._builder(), "redraw", None)
        if fn is None:
            raise ValueError(f"the {self.slug} twin does not implement redraw(twin, R, seed) yet")
        params = inspect.signature(fn).parameters
        kw: dict[str, Any] = {}
        if "outcomes" in params and outcomes is not None:
            kw["outcomes"] = list(outcomes)
        if "start" in params:
            out = fn(self, int(R), seed, start=int(start), **kw)
        else:  # a builder without chunking: draw the first start + R and keep the last R
            out = fn(self, int(start) + int(R), seed, **kw)
            out = {k: v[:, int(start):] for k, v in out.items()}
        if outcomes is not None:
            absent = [o for o in outcomes if o not in out]
            if absent:
                raise ValueError(f"{self.slug}.redraw does not redraw {absent}; it redraws {sorted(out)}")
            out = {k: out[k] for k in outcomes}
        for name, arr in out.items():
            if not isinstance(arr, np.ndarray) or arr.ndim != 2 or arr.shape[1] != int(R):
                raise ValueError(f"{self.slug}.redraw returned {name!r} with shape "
                                 f"{getattr(arr, 'shape', None)}; expected (n, {R})")
        return out

    @property
    def specs(self) -> tuple[Spec, ...]:
        """The builder module's declared baseline specifications (``SPECS``; empty if none)."""
        return tuple(getattr(self._builder(), "SPECS", ()))

    def _builder(self) -> Any:
        """The module that built this twin: ``meta["builder"]`` (a module name), else
        ``helpers.twins.<slug with underscores>``."""
        import importlib

        return importlib.import_module(
            self.meta.get("builder") or f"helpers.twins.{self.slug.replace('-', '_')}")


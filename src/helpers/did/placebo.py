r"""Placebo (randomization-inference) test for a DiD: re-assign adoption years across units.

Chinese DiD papers routinely report a "placebo test" (安慰剂检验): the units' adoption years are
shuffled at random across units 500 or 1,000 times, the DiD is re-estimated on every fake
treatment, and the kernel density of the fake coefficients is plotted with the real estimate
marked. If the real estimate lies far in the tail, the effect is unlikely to be an artefact of
the panel's structure. :func:`placebo_permutation` does this exactly, and fast.

Speed comes from the Frisch--Waugh--Lovell theorem. For the TWFE regression
:math:`y_{it} = \beta d_{it} + x_{it}'\gamma + \alpha_i + \lambda_t + \varepsilon_{it}`,

.. math::

    \hat\beta = \frac{\tilde e_d' W \tilde e_y}{\tilde e_d' W \tilde e_d},\qquad
    \tilde e_v = M_{\tilde X}\, M_{FE}\, v,

where :math:`M_{FE}` sweeps out the fixed effects (alternating projections, pyfixest's Rust
``demean``) and :math:`M_{\tilde X}` residualizes on the demeaned controls. ``y`` and the
controls are demeaned **once**; for each batch of permuted treatments only the treatment
columns are demeaned (one call for a whole matrix of columns) and residualized, and
:math:`\hat\beta` is a ratio of two column sums. The numbers equal those of a loop that refits
``pf.feols`` for every draw (to the demeaning tolerance; the tests check 1e-8), at a small
fraction of the cost (``benchmarks/bench_placebo.py``).

References: Fisher (1935), *The Design of Experiments*, ch. II; MacKinnon and Webb (2020),
"Randomization inference for difference-in-differences with few treated clusters", *Journal of
Econometrics* 218(2): 435--450 (re-assigning treatment across units in a DiD); Phipson and Smyth
(2010), *Stat. Appl. Genet. Mol. Biol.* 9(1) (the +1 in the permutation p-value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.did._inputs import (
    adoption_times,
    require_columns,
    require_dataframe,
    require_numeric,
)

__all__ = ["PlaceboResult", "placebo_permutation", "placebo_permutation_refit"]

DEMEAN_TOL = 1e-10
"""Convergence tolerance of the alternating-projections demeaning (pyfixest's default is 1e-6)."""
DEMEAN_MAXITER = 100_000
BATCH_SIZE = 250
"""Permuted treatment columns demeaned per call (memory: rows x BATCH_SIZE x 8 bytes)."""
DEGENERATE_TOL = 1e-12
"""A draw whose residualized treatment has (relative) variance below this is collinear."""

_WHERE = "placebo_permutation"


@dataclass
class PlaceboResult:
    """Result of :func:`placebo_permutation`.

    Attributes
    ----------
    observed : float
        The DiD coefficient on the real treatment.
    estimates : numpy.ndarray
        The ``n_perm`` placebo coefficients (``NaN`` for a draw whose fake treatment is
        collinear with the fixed effects; these are excluded from the p-value and counted in
        ``n_degenerate``).
    pvalue : float
        Two-sided permutation p-value :math:`(1 + \\#\\{|b| \\ge |\\hat\\beta|\\})/(1 + B)`.
    pvalue_left, pvalue_right : float
        One-sided versions (``b <= observed`` and ``b >= observed``).
    n_perm : int
        Number of draws requested.
    n_degenerate : int
        Number of draws that were collinear with the fixed effects.
    seed : int
        Seed of ``numpy.random.default_rng`` used for the draws.
    treatment : str
        Name of the treatment dummy.
    shift_years : bool
        Whether the adoption years were also drawn at random.
    """

    observed: float
    estimates: np.ndarray
    pvalue: float
    pvalue_left: float
    pvalue_right: float
    n_perm: int
    n_degenerate: int
    seed: int
    treatment: str
    shift_years: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        """One-row table: observed estimate, mean and SD of the placebo draws, p-values."""
        est = self.estimates[np.isfinite(self.estimates)]
        return pd.DataFrame(
            {
                "observed": [self.observed],
                "placebo_mean": [float(est.mean())],
                "placebo_sd": [float(est.std(ddof=1))],
                "pvalue": [self.pvalue],
                "pvalue_left": [self.pvalue_left],
                "pvalue_right": [self.pvalue_right],
                "n_perm": [self.n_perm],
                "n_degenerate": [self.n_degenerate],
            },
            index=[self.treatment],
        )

    def plot(
        self,
        ax: object | None = None,
        *,
        title: str | None = None,
        xlabel: str = "placebo DiD coefficient",
        show_hist: bool = True,
    ) -> Figure:
        """Kernel density of the placebo coefficients with the real estimate marked.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new 6.4 x 4 in figure is created when omitted.
        title : str, optional
            Axes title; by default states the number of draws and the p-value.
        xlabel : str
            Label of the horizontal axis.
        show_hist : bool
            Draw a light density-normalized histogram under the KDE.

        Returns
        -------
        matplotlib.figure.Figure
            The figure that holds the axes.
        """
        import matplotlib.pyplot as plt
        from scipy.stats import gaussian_kde

        est = self.estimates[np.isfinite(self.estimates)]
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 4.0))
        else:
            fig = ax.figure
        lo = min(est.min(), self.observed)
        hi = max(est.max(), self.observed)
        pad = 0.05 * (hi - lo if hi > lo else 1.0)
        grid = np.linspace(lo - pad, hi + pad, 400)
        if show_hist:
            ax.hist(est, bins=40, density=True, alpha=0.25, color="C0", label="placebo draws")
        if est.std() > 0:
            ax.plot(grid, gaussian_kde(est)(grid), color="C0", lw=2, label="kernel density")
        ax.axvline(
            self.observed, color="C3", lw=2, ls="--", label=f"real estimate = {self.observed:.4g}"
        )
        ax.axvline(0.0, color="0.5", lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.set_title(
            title
            if title is not None
            else f"{self.n_perm} random re-assignments; two-sided p = {self.pvalue:.3f}"
        )
        ax.legend(frameon=False, fontsize="small")
        return fig


# ----------------------------------------------------------------------------------------------
# formula and design
# ----------------------------------------------------------------------------------------------


def _parse_formula(formula: str, treatment: str) -> tuple[str, list[str], list[str]]:
    """Split ``"y ~ d + x1 + x2 | fe1+fe2"`` into (y, controls, fixed effects)."""
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise ValueError(
            f"{_WHERE}: `formula` must be a pyfixest formula 'y ~ d + controls | unit+time', "
            f"got {formula!r}"
        )
    lhs, rhs = formula.split("~")
    parts = rhs.split("|")
    if len(parts) > 2:
        raise ValueError(f"{_WHERE}: IV formulas (a second '|') are not supported; got {formula!r}")
    y = lhs.strip()
    terms = [t.strip() for t in parts[0].split("+") if t.strip()]
    fes = [f.strip() for f in parts[1].split("+") if f.strip()] if len(parts) == 2 else []
    for term in [y, *terms, *fes]:
        if not term.replace("_", "a").replace(".", "a").isalnum():
            raise ValueError(
                f"{_WHERE}: term {term!r} in {formula!r} is not a plain column name; the fast "
                "path needs plain columns: create transformed variables (logs, interactions, "
                "i() dummies) as columns first"
            )
    if treatment not in terms:
        raise ValueError(
            f"{_WHERE}: the treatment {treatment!r} does not appear on the right-hand side of "
            f"{formula!r}; pass the name of the DiD dummy as `treatment`"
        )
    controls = [t for t in terms if t != treatment and t not in {"1", "0"}]
    return y, controls, fes


@dataclass
class _Design:
    """The partialled-out pieces of the regression, computed once."""

    ey: np.ndarray  # residualized outcome
    xt: np.ndarray  # demeaned controls (n x k), possibly with 0 columns
    xtx_inv_xtw: np.ndarray | None  # (k x n) = (X'WX)^{-1} X'W, to residualize
    flist: np.ndarray
    w: np.ndarray
    t: np.ndarray  # time of each row (float)
    unit_code: np.ndarray  # unit index of each row
    units: np.ndarray  # unit labels, index = code
    adoption: np.ndarray  # adoption time per unit code (inf = never)
    times: np.ndarray  # sorted distinct periods
    d: np.ndarray  # real treatment
    tcode: np.ndarray  # index of each row's period in ``times``
    balanced: bool  # closed-form path: balanced panel, unit+time FE, no weights
    ry: np.ndarray | None = None  # (units x T+1) reverse cumulative sums of the residualized y
    rx: np.ndarray | None = None  # (k x units x T+1) reverse cumulative sums of demeaned X
    s_inv: np.ndarray | None = None  # (X'X)^{-1} of the demeaned controls


def _demean(x: np.ndarray, flist: np.ndarray, w: np.ndarray) -> np.ndarray:
    from pyfixest.estimation import demean

    if flist.shape[1] == 0:
        return x - np.average(x, axis=0, weights=w)
    out, converged = demean(
        np.ascontiguousarray(x, dtype=np.float64), flist, w, tol=DEMEAN_TOL, maxiter=DEMEAN_MAXITER
    )
    if not converged:
        raise ValueError(
            f"{_WHERE}: the fixed-effects demeaning did not converge in {DEMEAN_MAXITER} "
            "iterations; check for fixed effects that are (nearly) collinear"
        )
    return out


def _build_design(
    data: pd.DataFrame,
    formula: str,
    treatment: str,
    unit: str,
    time: str,
    weights: str | None,
) -> _Design:
    require_dataframe(data, _WHERE)
    y, controls, fes = _parse_formula(formula, treatment)
    needed = list(dict.fromkeys([y, treatment, *controls, *fes, unit, time]))
    if weights is not None:
        needed.append(weights)
    require_columns(data, needed, _WHERE)
    require_numeric(data, [y, treatment, *controls, time] + ([weights] if weights else []), _WHERE)
    df = data[needed].dropna()
    if len(df) < len(data) and len(df) == 0:
        raise ValueError(f"{_WHERE}: every row has a missing value in {needed}")
    adoption = adoption_times(df, treatment, unit, time, _WHERE)
    if not np.isfinite(adoption.to_numpy()).any():
        raise ValueError(f"{_WHERE}: no unit is ever treated by {treatment!r}")
    codes, units = pd.factorize(df[unit], sort=True)
    adopt_arr = adoption.reindex(units).to_numpy(dtype=float)
    if len(units) < 3:
        raise ValueError(f"{_WHERE}: {len(units)} units; re-assigning adoption needs at least 3")
    w = (
        df[weights].to_numpy(dtype=np.float64)
        if weights is not None
        else np.ones(len(df), dtype=np.float64)
    )
    if (w < 0).any():
        raise ValueError(f"{_WHERE}: the weights {weights!r} have negative values")
    flist = (
        np.column_stack([pd.factorize(df[f])[0] for f in fes]).astype(np.uint64)
        if fes
        else np.zeros((len(df), 0), dtype=np.uint64)
    )
    t = df[time].to_numpy(dtype=float)
    times = np.unique(t)
    tcode = np.searchsorted(times, t)
    n_units, n_times = len(units), len(times)
    balanced = (
        weights is None and sorted(fes) == sorted([unit, time]) and len(df) == n_units * n_times
    )
    yx = df[[y, *controls]].to_numpy(dtype=np.float64)
    if balanced:
        yx_t = _within_balanced(yx, codes, tcode, n_units, n_times)
    else:
        yx_t = _demean(yx, flist, w)
    yt, xt = yx_t[:, 0], yx_t[:, 1:]
    s_inv = None
    if xt.shape[1] > 0:
        xtw = xt.T * w
        xtx = xtw @ xt
        if np.linalg.cond(xtx) > 1e12:
            raise ValueError(
                f"{_WHERE}: the controls {controls} are collinear with each other or with the "
                "fixed effects; drop the redundant ones"
            )
        s_inv = np.linalg.inv(xtx)
        xtx_inv_xtw = s_inv @ xtw
        ey = yt - xt @ (xtx_inv_xtw @ yt)
    else:
        xtx_inv_xtw = None
        ey = yt
    design = _Design(
        ey=ey,
        xt=xt,
        xtx_inv_xtw=xtx_inv_xtw,
        flist=flist,
        w=w,
        t=t,
        unit_code=codes,
        units=np.asarray(units),
        adoption=adopt_arr,
        times=times,
        d=df[treatment].to_numpy(dtype=float),
        tcode=tcode,
        balanced=balanced,
        s_inv=s_inv,
    )
    if balanced:
        design.ry = _reverse_cumsum(ey[:, None], codes, tcode, n_units, n_times)[0]
        design.rx = _reverse_cumsum(xt, codes, tcode, n_units, n_times)
    return design


def _within_balanced(
    x: np.ndarray, codes: np.ndarray, tcode: np.ndarray, n_units: int, n_times: int
) -> np.ndarray:
    """Exact two-way within transform of a balanced panel: x - mean_i - mean_t + mean."""
    out = np.empty_like(x)
    for j in range(x.shape[1]):
        grid = np.zeros((n_units, n_times))
        grid[codes, tcode] = x[:, j]
        within = grid - grid.mean(1, keepdims=True) - grid.mean(0, keepdims=True) + grid.mean()
        out[:, j] = within[codes, tcode]
    return out


def _reverse_cumsum(
    x: np.ndarray, codes: np.ndarray, tcode: np.ndarray, n_units: int, n_times: int
) -> np.ndarray:
    """(k x units x T+1) array R with R[j, i, g] = sum over periods tau >= g of x[j, i, tau]."""
    k = x.shape[1]
    grid = np.zeros((k, n_units, n_times + 1))
    grid[:, codes, tcode] = x.T
    return np.ascontiguousarray(np.flip(np.cumsum(np.flip(grid, axis=2), axis=2), axis=2))


def _betas_balanced(design: _Design, gidx: np.ndarray) -> np.ndarray:
    """Closed-form FWL coefficients for a balanced panel with unit and time effects.

    ``gidx`` is (B x units): the index in ``times`` of each unit's adoption period (``T`` =
    never). With :math:`n_i = T - g_i` treated periods and :math:`m_t` treated units in period
    ``t``, the two-way within transform gives
    :math:`d'M d = \\sum n_i - \\sum n_i^2/T - \\sum_t m_t^2/N + (\\sum n_i)^2/(NT)`, and
    :math:`d'\tilde e_y`, :math:`\tilde X'd` are sums of reverse cumulative sums.
    """
    n_units = design.ry.shape[0]
    n_times = design.ry.shape[1] - 1
    b = gidx.shape[0]
    rows = np.arange(n_units)
    num = design.ry[rows, gidx].sum(axis=1)  # d'ey
    n_i = (n_times - gidx).astype(np.float64)
    counts = np.bincount(
        (gidx + (n_times + 1) * np.arange(b)[:, None]).ravel(), minlength=b * (n_times + 1)
    ).reshape(b, n_times + 1)
    m_t = np.cumsum(counts, axis=1)[:, :n_times].astype(np.float64)
    total = n_i.sum(axis=1)
    quad = (
        total
        - (n_i**2).sum(axis=1) / n_times
        - (m_t**2).sum(axis=1) / n_units
        + total**2 / (n_units * n_times)
    )
    den = quad
    if design.rx is not None and design.rx.shape[0] > 0:
        a = design.rx[:, rows, gidx].sum(axis=2)  # (k x B) = X'd
        den = quad - np.einsum("kb,kl,lb->b", a, design.s_inv, a)
    beta = np.full(b, np.nan)
    ok = den > DEGENERATE_TOL * np.maximum(total, 1.0)
    beta[ok] = num[ok] / den[ok]
    return beta


def _betas(design: _Design, dmat: np.ndarray) -> np.ndarray:
    r"""FWL coefficients for a matrix of treatment columns (n x B), general (MAP) path.

    With :math:`\tilde d = M_{FE} d`, :math:`a = \tilde X'W\tilde d` and
    :math:`S = \tilde X'W\tilde X`:
    :math:`\hat\beta = \tilde d'W\tilde e_y / (\tilde d'W\tilde d - a'S^{-1}a)`, because
    :math:`\tilde e_y` is already orthogonal to :math:`\tilde X`. (Products are written as
    ``(B x n) @ (n x k)``, which OpenBLAS runs far faster than ``(k x n) @ (n x B)`` here.)
    """
    dt = _demean(dmat, design.flist, design.w)
    dtt = dt.T
    num = dtt @ (design.ey * design.w)
    den = np.einsum("ij,ij,i->j", dt, dt, design.w, optimize=True)
    if design.s_inv is not None:
        a = dtt @ (design.xt * design.w[:, None])  # (B x k)
        den = den - np.einsum("bk,kl,bl->b", a, design.s_inv, a)
    scale = dmat.T @ design.w  # d'Wd for a 0/1 dummy
    beta = np.full(dmat.shape[1], np.nan)
    ok = den > DEGENERATE_TOL * np.maximum(scale, 1.0)
    beta[ok] = num[ok] / den[ok]
    return beta


def _draw_adoptions(
    adoption: np.ndarray, times: np.ndarray, n_perm: int, seed: int, shift_years: bool
) -> np.ndarray:
    """(n_perm x n_units) matrix of placebo adoption times (inf = never treated)."""
    rng = np.random.default_rng(seed)
    n = len(adoption)
    draws = np.empty((n_perm, n))
    candidates = times[1:] if len(times) > 1 else times
    for b in range(n_perm):
        g = adoption[rng.permutation(n)]
        if shift_years:
            treated = np.isfinite(g)
            g[treated] = rng.choice(candidates, size=int(treated.sum()))
        draws[b] = g
    return draws


def _check_precision(n_perm: int, alpha: float) -> None:
    if not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise ValueError(f"{_WHERE}: n_perm must be a positive integer, got {n_perm!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"{_WHERE}: alpha must lie in (0, 1), got {alpha!r}")
    needed = math.ceil(1.0 / alpha - 1.0 - 1e-9)
    if n_perm < needed:
        raise ValueError(
            f"{_WHERE}: n_perm={n_perm} draws cannot resolve p-values at alpha={alpha}: the "
            f"smallest attainable p-value is 1/(n_perm+1) = {1 / (n_perm + 1):.4f}; use "
            f"n_perm >= {needed} (1/alpha - 1), e.g. the customary 500 or 1000"
        )


def _pvalues(observed: float, estimates: np.ndarray) -> tuple[float, float, float]:
    est = estimates[np.isfinite(estimates)]
    b = len(est)
    slack = 1e-12 * max(1.0, abs(observed))
    two = (1 + int((np.abs(est) >= abs(observed) - slack).sum())) / (1 + b)
    left = (1 + int((est <= observed + slack).sum())) / (1 + b)
    right = (1 + int((est >= observed - slack).sum())) / (1 + b)
    return two, left, right


# ----------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------


def placebo_permutation(
    data: pd.DataFrame,
    formula: str,
    treatment: str,
    unit: str,
    time: str,
    n_perm: int = 1000,
    seed: int = 0,
    *,
    shift_years: bool = False,
    weights: str | None = None,
    alpha: float = 0.01,
    batch_size: int = BATCH_SIZE,
) -> PlaceboResult:
    r"""Permutation (placebo) test of a DiD coefficient by re-assigning adoption years.

    Each unit's adoption year is read off the absorbing 0/1 dummy ``treatment`` (never-treated
    units have none). In each of ``n_perm`` draws the vector of adoption years is permuted
    across units -- so the number of treated units and the distribution of adoption years are
    kept -- the fake dummy :math:`\tilde d_{it} = 1\{t \ge g_{\pi(i)}\}` is built, and the DiD
    coefficient of ``formula`` is re-estimated on it by Frisch--Waugh--Lovell (see the module
    docstring). With ``shift_years=True`` the pseudo-treated units also get adoption years drawn
    uniformly from the panel's periods (all but the first), the "random units and random
    policy time" variant.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    formula : str
        pyfixest formula of the DiD, ``"y ~ d + x1 + x2 | unit+time"``; right-hand-side terms
        and fixed effects must be plain column names (create logs or interactions first).
    treatment : str
        Name of the DiD dummy in ``formula`` (0/1, absorbing).
    unit, time : str
        Panel identifiers; ``time`` must be numeric (years).
    n_perm : int, default 1000
        Number of random re-assignments.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``; the same seed gives the same draws.
    shift_years : bool, default False
        Also draw the pseudo-treated units' adoption years at random.
    weights : str, optional
        Column of regression weights (as pyfixest ``weights=``).
    alpha : float, default 0.01
        Smallest significance level the p-value must be able to resolve; ``n_perm`` must be at
        least :math:`1/\alpha - 1` (the smallest attainable p-value is :math:`1/(B+1)`).
    batch_size : int, default 250
        Number of permuted treatment columns demeaned per call.

    Returns
    -------
    PlaceboResult
        ``.observed``, ``.estimates`` (array), ``.pvalue`` (two-sided), ``.summary``,
        ``.plot()``.

    Raises
    ------
    ValueError
        If a column is missing, the formula is not of the supported form, the treatment is not
        an absorbing 0/1 dummy or never varies, or ``n_perm`` is too small for ``alpha``.

    Notes
    -----
    Two-sided p-value :math:`p = (1 + \#\{b: |\hat\beta_b| \ge |\hat\beta|\})/(1 + B)` (Phipson
    and Smyth 2010, *Stat. Appl. Genet. Mol. Biol.* 9(1), eq. 2), which is exact under the
    sharp null that adoption years are exchangeable across units. A draw whose fake dummy is
    collinear with the fixed effects (e.g. every pseudo-treated unit adopts in the first
    period) has no coefficient; it is stored as ``NaN`` and left out of the p-value.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"firm": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> adopt = np.repeat(np.where(np.arange(40) < 15, 2013, np.inf), 6)
    >>> df["did"] = (df["year"] >= adopt).astype(float)
    >>> df["y"] = rng.normal(size=len(df)) + 1.0 * df["did"]
    >>> res = placebo_permutation(df, "y ~ did | firm+year", "did", "firm", "year", n_perm=199)
    >>> res.pvalue < 0.01
    True
    """
    _check_precision(n_perm, alpha)
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"{_WHERE}: batch_size must be a positive integer, got {batch_size!r}")
    design = _build_design(data, formula, treatment, unit, time, weights)
    if design.balanced:
        real_g = np.searchsorted(design.times, design.adoption, side="left").astype(np.intp)
        observed = float(_betas_balanced(design, real_g[None, :])[0])
    else:
        observed = float(_betas(design, design.d[:, None])[0])
    if not np.isfinite(observed):
        raise ValueError(
            f"{_WHERE}: the treatment {treatment!r} is collinear with the fixed effects; "
            "it has no within variation to estimate"
        )
    draws = _draw_adoptions(design.adoption, design.times, n_perm, seed, shift_years)
    # adoption period as an index into the sorted periods (len(times) = never within the panel)
    gidx = np.searchsorted(design.times, draws, side="left").astype(np.intp)
    gsmall = gidx.astype(np.int16) if len(design.times) < 32_000 else gidx
    tsmall = design.tcode.astype(gsmall.dtype)
    estimates = np.empty(n_perm)
    for start in range(0, n_perm, batch_size):
        g = gidx[start : start + batch_size]  # (b x units)
        if design.balanced:
            estimates[start : start + batch_size] = _betas_balanced(design, g)
        else:
            gs = gsmall[start : start + batch_size]
            dmat = (tsmall[:, None] >= gs.T[design.unit_code]).astype(np.float64)
            estimates[start : start + batch_size] = _betas(design, dmat)
    n_bad = int((~np.isfinite(estimates)).sum())
    if n_bad > n_perm // 2:
        raise ValueError(
            f"{_WHERE}: {n_bad} of {n_perm} placebo treatments are collinear with the fixed "
            "effects; the panel has too little timing variation for this test"
        )
    two, left, right = _pvalues(observed, estimates)
    return PlaceboResult(
        observed=observed,
        estimates=estimates,
        pvalue=two,
        pvalue_left=left,
        pvalue_right=right,
        n_perm=n_perm,
        n_degenerate=n_bad,
        seed=seed,
        treatment=treatment,
        shift_years=shift_years,
    )


def placebo_permutation_refit(
    data: pd.DataFrame,
    formula: str,
    treatment: str,
    unit: str,
    time: str,
    n_perm: int = 1000,
    seed: int = 0,
    *,
    shift_years: bool = False,
    weights: str | None = None,
    alpha: float = 0.01,
    fixef_tol: float = DEMEAN_TOL,
) -> PlaceboResult:
    """Slow reference implementation: refit ``pf.feols`` on every placebo draw.

    Same draws, same p-value as :func:`placebo_permutation` (used by the tests and by
    ``benchmarks/bench_placebo.py`` to show the two agree and how much faster the FWL path is).
    Parameters, returns and errors as in :func:`placebo_permutation`; ``fixef_tol`` is passed
    to ``pf.feols``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"firm": np.repeat(np.arange(10), 4), "year": np.tile(np.arange(4), 10)})
    >>> df["did"] = ((df["firm"] < 4) & (df["year"] >= 2)).astype(float)
    >>> df["y"] = np.random.default_rng(0).normal(size=40)
    >>> placebo_permutation_refit(df, "y ~ did | firm+year", "did", "firm", "year", n_perm=99).n_perm
    99
    """
    import pyfixest as pf

    _check_precision(n_perm, alpha)
    design = _build_design(data, formula, treatment, unit, time, weights)
    y, controls, fes = _parse_formula(formula, treatment)
    cols = list(dict.fromkeys([y, treatment, *controls, *fes, unit, time]))
    if weights is not None:
        cols.append(weights)
    df = data[cols].dropna().copy()
    df[treatment] = df[treatment].astype(float)
    codes = pd.Index(design.units).get_indexer(df[unit])
    t = df[time].to_numpy(dtype=float)

    def fit(frame: pd.DataFrame) -> float:
        m = pf.feols(
            formula,
            frame,
            weights=weights,
            demeaner=pf.MapDemeaner(fixef_tol=fixef_tol),
            vcov="iid",
        )
        coef = m.coef()
        return float(coef[treatment]) if treatment in coef.index else float("nan")

    observed = fit(df)
    draws = _draw_adoptions(design.adoption, design.times, n_perm, seed, shift_years)
    estimates = np.empty(n_perm)
    for b in range(n_perm):
        df[treatment] = (t >= draws[b][codes]).astype(float)
        estimates[b] = fit(df)
    two, left, right = _pvalues(observed, estimates)
    return PlaceboResult(
        observed=observed,
        estimates=estimates,
        pvalue=two,
        pvalue_left=left,
        pvalue_right=right,
        n_perm=n_perm,
        n_degenerate=int((~np.isfinite(estimates)).sum()),
        seed=seed,
        treatment=treatment,
        shift_years=shift_years,
    )

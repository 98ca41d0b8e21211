"""Inequality measures: Gini, Theil with its decomposition, Dagum's Gini decomposition, and the
kernel-density-by-year figure of the regional-disparity papers.

=============================  =============================================================
``gini``                       Gini coefficient (mean absolute difference / twice the mean)
``theil``                      Theil T, and with groups its within/between decomposition
``dagum_gini``                 Dagum (1997) decomposition G = Gw + Gnb + Gt, with G_jj, G_jh, D_jh
``kernel_density_by_year``     ridge, overlaid or 3-D kernel densities by year (a Figure)
=============================  =============================================================

All sums over pairs of observations use sorting and cumulative sums, O(n log n), never an
n x n matrix, so tens of thousands of observations are fine.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "DagumResult",
    "TheilResult",
    "dagum_gini",
    "gini",
    "kernel_density_by_year",
    "theil",
]

DENSITY_GRID = 256
"""Number of grid points at which each kernel density is evaluated."""


# ---------------------------------------------------------------------------------------------
# validation and pair sums
# ---------------------------------------------------------------------------------------------


def _values(x: Any, name: str = "x", allow_zero_total: bool = False) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        arr = arr.ravel() if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {np.shape(x)}.")
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 observations; got {arr.size}.")
    if np.isnan(arr).any():
        raise ValueError(
            f"{name} contains {int(np.isnan(arr).sum())} NaN value(s); drop them first "
            "(inequality indices are not defined with missing values)."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains infinite values.")
    if (arr < 0).any():
        raise ValueError(
            f"{name} has {int((arr < 0).sum())} negative value(s) (min {arr.min():.4g}); these "
            "indices need non-negative values (income, output, counts). Use levels, not logs "
            "or growth rates."
        )
    if not allow_zero_total and arr.sum() <= 0:
        raise ValueError(f"{name} is all zeros; inequality is undefined (the mean is 0).")
    return arr


def _groups(groups: Any, n: int, min_size: int) -> tuple[np.ndarray, pd.Index]:
    """Return integer group codes and the sorted group labels."""
    g = pd.Series(
        np.asarray(groups, dtype=object) if not isinstance(groups, pd.Series) else groups.to_numpy()
    )
    if len(g) != n:
        raise ValueError(f"groups has {len(g)} entries but the values have {n}; align them.")
    if g.isna().any():
        raise ValueError(f"groups has {int(g.isna().sum())} missing label(s).")
    codes, labels = pd.factorize(g, sort=True)
    if len(labels) < 2:
        raise ValueError("groups must contain at least two distinct groups for a decomposition.")
    sizes = np.bincount(codes, minlength=len(labels))
    small = [labels[i] for i in np.flatnonzero(sizes < min_size)]
    if small:
        raise ValueError(
            f"group(s) {small} have fewer than {min_size} member(s); a within-group inequality "
            "is not meaningful there. Merge them into a neighbouring group or drop them."
        )
    return codes, pd.Index(labels)


def _pair_sums(a: np.ndarray, b_sorted: np.ndarray, b_cum: np.ndarray) -> tuple[float, float]:
    """Return (sum_i sum_r (a_i - b_r)^+, sum_i sum_r (b_r - a_i)^+) in O((n_a + n_b) log n_b).

    ``b_cum`` is ``concatenate([[0], cumsum(b_sorted)])``.
    """
    nb = b_sorted.size
    k = np.searchsorted(b_sorted, a, side="right")  # number of b_r <= a_i
    below = b_cum[k]
    total = b_cum[-1]
    pos = float(np.sum(a * k - below))
    neg = float(np.sum((total - below) - a * (nb - k)))
    return pos, neg


def _abs_diff_sum(x: np.ndarray) -> float:
    """sum_i sum_j |x_i - x_j| (both orders) via the sorted formula 2 sum_i (2i - n - 1) x_(i)."""
    s = np.sort(x)
    n = s.size
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum((2 * i - n - 1) * s))


# ---------------------------------------------------------------------------------------------
# Gini
# ---------------------------------------------------------------------------------------------


def gini(x: Any) -> float:
    r"""Gini coefficient of non-negative values.

    Parameters
    ----------
    x : array-like
        One-dimensional non-negative values (zeros allowed), at least 2, no NaN.

    Returns
    -------
    float
        :math:`G = \frac{\sum_i\sum_j |x_i - x_j|}{2 n^2 \mu}` in :math:`[0, 1 - 1/n]`.

    Raises
    ------
    ValueError
        NaN, negative values, all zeros, fewer than 2 values.

    Notes
    -----
    The population form (denominator :math:`n^2`), the same as PySAL's ``inequality.Gini`` and
    the overall :math:`G` of :func:`dagum_gini`. Computed from the sorted values,
    :math:`G = \sum_i (2i - n - 1)x_{(i)} / (n \sum_i x_i)`.

    References
    ----------
    Gini (1912); Dagum (1997), eq. (1). PySAL ``inequality`` reports 0.35372371173452849 for
    the 1940 per-capita GDP of the 32 Mexican states (``libpysal`` example ``mexico``).

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 1])
    0.75
    """
    arr = _values(x)
    n = arr.size
    return float(_abs_diff_sum(arr) / (2.0 * n * n * arr.mean()))


# ---------------------------------------------------------------------------------------------
# Theil
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TheilResult:
    """Theil T and its exact within/between decomposition.

    Attributes
    ----------
    T : float
        Total Theil index.
    within : float
        :math:`\\sum_g s_g T_g` (income-share weighted within-group Theil).
    between : float
        :math:`\\sum_g s_g \\ln(s_g / p_g)`.
    groups : pd.DataFrame
        One row per group: ``n``, ``pop_share`` (:math:`p_g`), ``income_share`` (:math:`s_g`),
        ``mean``, ``theil`` (:math:`T_g`), ``within_contribution`` (:math:`s_gT_g`) and
        ``between_contribution`` (:math:`s_g\\ln(s_g/p_g)`).
    """

    T: float
    within: float
    between: float
    groups: pd.DataFrame

    @property
    def contributions(self) -> pd.Series:
        """Shares of the total explained by the within and between parts (sum to 1)."""
        return pd.Series({"within": self.within / self.T, "between": self.between / self.T})


def _theil_total(x: np.ndarray) -> float:
    r = x / x.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return float(terms.mean())


def theil(
    x: Any,
    groups: Any | None = None,
    *,
    min_group_size: int = 1,
) -> float | TheilResult:
    r"""Theil T index, optionally decomposed into within- and between-group parts.

    Parameters
    ----------
    x : array-like
        Non-negative values (zeros allowed; :math:`0\ln 0 = 0`), no NaN.
    groups : array-like, optional
        Group label of every value (region, industry). When given, the decomposition is
        returned.
    min_group_size : int, default 1
        Raise if a group has fewer members. A one-member group is mathematically fine
        (:math:`T_g = 0`) but contributes no within-group inequality; set 2 to refuse it (the
        export paper drops single-firm cells, spec ``ai-export-upgrading`` A16).

    Returns
    -------
    float or TheilResult
        The total :math:`T` without groups; with groups a :class:`TheilResult`.

    Raises
    ------
    ValueError
        NaN, negative values, all zeros, misaligned groups, a group smaller than
        ``min_group_size``. (A group whose values are all 0 is accepted: its share is 0, so it
        adds 0 to both parts, and its :math:`T_g`, 0/0, is reported as 0.)

    Notes
    -----
    .. math::

        T = \frac{1}{n}\sum_i \frac{x_i}{\mu}\ln\frac{x_i}{\mu}
          = \underbrace{\sum_g s_g T_g}_{\text{within}}
          + \underbrace{\sum_g s_g \ln\frac{s_g}{p_g}}_{\text{between}},

    with :math:`s_g` the group's share of the total, :math:`p_g = n_g/n` its population share
    and :math:`T_g` the Theil index inside the group. The identity is exact.

    References
    ----------
    Theil (1967), *Economics and Information Theory*; Shorrocks (1980), Econometrica 48(3).
    PySAL ``inequality.theil.TheilD`` on the ``mexico`` example reproduces these numbers.

    Examples
    --------
    >>> round(theil([1, 1, 1, 1]), 12)
    0.0
    >>> res = theil([1, 1, 3, 3], groups=["a", "a", "b", "b"])
    >>> round(res.within, 12), round(res.between, 6)
    (0.0, 0.130812)
    """
    arr = _values(x)
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1; got {min_group_size}.")
    total = _theil_total(arr)
    if groups is None:
        return total
    codes, labels = _groups(groups, arr.size, min_group_size)
    k = len(labels)
    n_g = np.bincount(codes, minlength=k).astype(float)
    tot_g = np.bincount(codes, weights=arr, minlength=k)
    p = n_g / arr.size
    s = tot_g / arr.sum()
    mu_g = tot_g / n_g
    # A group of zeros has income share 0: its within and between terms are 0 (the limit of
    # s ln s), and its T_g (0/0) is reported as 0.
    safe_mu = np.where(mu_g > 0, mu_g, 1.0)
    r = arr / safe_mu[codes]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
        between_c = np.where(s > 0, s * np.log(np.where(s > 0, s, 1.0) / p), 0.0)
    T_g = np.bincount(codes, weights=terms, minlength=k) / n_g
    within_c = s * T_g
    table = pd.DataFrame(
        {
            "n": n_g.astype(int),
            "pop_share": p,
            "income_share": s,
            "mean": mu_g,
            "theil": T_g,
            "within_contribution": within_c,
            "between_contribution": between_c,
        },
        index=labels.rename("group"),
    )
    return TheilResult(
        T=total, within=float(within_c.sum()), between=float(between_c.sum()), groups=table
    )


# ---------------------------------------------------------------------------------------------
# Dagum Gini decomposition
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagumResult:
    """Dagum (1997) decomposition of the Gini coefficient by subgroups.

    Attributes
    ----------
    G : float
        Overall Gini.
    Gw : float
        Within-group part :math:`\\sum_j G_{jj} p_j s_j`.
    Gnb : float
        Net between-group part :math:`\\sum_{j<h} G_{jh}(p_j s_h + p_h s_j) |D_{jh}|`.
    Gt : float
        Transvariation (overlap) part :math:`\\sum_{j<h} G_{jh}(p_j s_h + p_h s_j)(1-|D_{jh}|)`.
    within : pd.Series
        :math:`G_{jj}` per group.
    between : pd.DataFrame
        :math:`G_{jh}` (symmetric; the diagonal holds :math:`G_{jj}`).
    D : pd.DataFrame
        Relative economic affluence :math:`D_{jh} = (d_{jh} - p_{jh})/(d_{jh} + p_{jh})`:
        positive when row group :math:`j` is richer than column group :math:`h`,
        antisymmetric, 0 on the diagonal.
    groups : pd.DataFrame
        ``n``, ``mean``, ``pop_share`` :math:`p_j`, ``income_share`` :math:`s_j` per group.
    """

    G: float
    Gw: float
    Gnb: float
    Gt: float
    within: pd.Series
    between: pd.DataFrame
    D: pd.DataFrame
    groups: pd.DataFrame

    @property
    def Gb(self) -> float:
        """Gross between-group part :math:`G_{nb} + G_t`."""
        return self.Gnb + self.Gt

    @property
    def contributions(self) -> pd.Series:
        """Shares of G from Gw, Gnb and Gt (sum to 1), as the papers' contribution rates."""
        return pd.Series({"Gw": self.Gw, "Gnb": self.Gnb, "Gt": self.Gt}) / self.G

    def summary(self) -> pd.DataFrame:
        """One-row table: G, Gw, Gnb, Gt and their contribution rates."""
        c = self.contributions
        return pd.DataFrame(
            {
                "G": [self.G],
                "Gw": [self.Gw],
                "Gnb": [self.Gnb],
                "Gt": [self.Gt],
                "share_Gw": [c["Gw"]],
                "share_Gnb": [c["Gnb"]],
                "share_Gt": [c["Gt"]],
            }
        )

    def pairs(self) -> pd.DataFrame:
        """Long table of group pairs j < h: G_jh, D_jh (richer group first)."""
        labels = list(self.between.index)
        rows = []
        for a in range(len(labels)):
            for b in range(a + 1, len(labels)):
                j, h = labels[a], labels[b]
                if self.D.loc[j, h] < 0:
                    j, h = h, j
                rows.append(
                    {"j": j, "h": h, "G_jh": self.between.loc[j, h], "D_jh": self.D.loc[j, h]}
                )
        return pd.DataFrame(rows)


def dagum_gini(
    values: Any,
    groups: Any,
    *,
    min_group_size: int = 2,
) -> DagumResult:
    r"""Dagum's Gini decomposition into within, net-between and transvariation parts.

    Parameters
    ----------
    values : array-like
        Non-negative values (zeros allowed), no NaN.
    groups : array-like
        Group label per value (e.g. the four regions East/Central/West/Northeast).
    min_group_size : int, default 2
        Smallest allowed group. A one-member group has :math:`G_{jj} = 0` by construction,
        which would be reported as "no inequality" rather than "no information", so it is
        refused by default.

    Returns
    -------
    DagumResult
        ``G, Gw, Gnb, Gt`` (with ``G = Gw + Gnb + Gt`` exactly), the within-group Ginis
        :math:`G_{jj}`, the between-group matrix :math:`G_{jh}`, the affluence matrix
        :math:`D_{jh}` and group statistics.

    Raises
    ------
    ValueError
        NaN, negative values, all zeros, misaligned groups, fewer than two groups, a group
        smaller than ``min_group_size``.

    Notes
    -----
    With :math:`k` groups of sizes :math:`n_j`, means :math:`\mu_j`, :math:`p_j = n_j/n`,
    :math:`s_j = n_j\mu_j/(n\mu)`:

    .. math::

        G = \frac{\sum_j\sum_h\sum_i\sum_r |y_{ji} - y_{hr}|}{2n^2\mu},\quad
        G_{jj} = \frac{\sum_i\sum_r |y_{ji} - y_{jr}|}{2n_j^2\mu_j},\quad
        G_{jh} = \frac{\sum_i\sum_r |y_{ji} - y_{hr}|}{n_jn_h(\mu_j+\mu_h)},

        d_{jh} = \frac{1}{n_jn_h}\sum_i\sum_r (y_{ji} - y_{hr})^+,\quad
        p_{jh} = \frac{1}{n_jn_h}\sum_i\sum_r (y_{hr} - y_{ji})^+,\quad
        D_{jh} = \frac{d_{jh} - p_{jh}}{d_{jh} + p_{jh}},

        G_w = \sum_j G_{jj}p_js_j,\quad
        G_{nb} = \sum_{j<h} G_{jh}(p_js_h + p_hs_j)|D_{jh}|,\quad
        G_t = \sum_{j<h} G_{jh}(p_js_h + p_hs_j)(1 - |D_{jh}|).

    Dagum orders the groups by their means so that :math:`D_{jh}\ge 0`; taking
    :math:`|D_{jh}|` is the same thing for any order. Because :math:`d_{jh} - p_{jh} =
    \mu_j - \mu_h`, :math:`|D_{jh}| = |\mu_j - \mu_h|/E|y_j - y_h|`. The pair sums use sorted
    values and cumulative sums (no :math:`n\times n` matrix), looping only over group pairs.

    References
    ----------
    Dagum, C. (1997), "A new approach to the decomposition of the Gini income inequality
    ratio", *Empirical Economics* 22(4): 515-531, eqs. (2)-(4), (8)-(11).

    Examples
    --------
    >>> res = dagum_gini([1, 2, 3, 4], ["a", "a", "b", "b"])
    >>> round(res.G, 6), round(res.Gw + res.Gnb + res.Gt, 6)
    (0.25, 0.25)
    >>> round(float(res.D.loc["b", "a"]), 6)
    1.0
    """
    y = _values(values, name="values")
    if min_group_size < 1:
        raise ValueError(f"min_group_size must be at least 1; got {min_group_size}.")
    codes, labels = _groups(groups, y.size, min_group_size)
    k = len(labels)
    n = y.size
    mu = y.mean()
    parts = [y[codes == j] for j in range(k)]
    n_j = np.array([p.size for p in parts], dtype=float)
    mu_j = np.array([p.mean() for p in parts])
    if (mu_j <= 0).any():
        bad = [labels[i] for i in np.flatnonzero(mu_j <= 0)]
        raise ValueError(f"group(s) {bad} have only zero values; G_jj is 0/0. Drop them.")
    p_j = n_j / n
    s_j = n_j * mu_j / (n * mu)
    sorted_parts = [np.sort(p) for p in parts]
    cums = [np.concatenate([[0.0], np.cumsum(p)]) for p in sorted_parts]

    Gmat = np.zeros((k, k))
    Dmat = np.zeros((k, k))
    for j in range(k):
        Gmat[j, j] = _abs_diff_sum(parts[j]) / (2.0 * n_j[j] ** 2 * mu_j[j])
        for h in range(j + 1, k):
            pos, neg = _pair_sums(parts[j], sorted_parts[h], cums[h])
            Gmat[j, h] = Gmat[h, j] = (pos + neg) / (n_j[j] * n_j[h] * (mu_j[j] + mu_j[h]))
            d_jh = (pos - neg) / (pos + neg) if pos + neg > 0 else 0.0
            Dmat[j, h], Dmat[h, j] = d_jh, -d_jh

    G = _abs_diff_sum(y) / (2.0 * n * n * mu)
    Gw = float(np.sum(np.diag(Gmat) * p_j * s_j))
    iu = np.triu_indices(k, 1)
    weight = (p_j[:, None] * s_j[None, :] + p_j[None, :] * s_j[:, None])[iu]
    absD = np.abs(Dmat[iu])
    Gnb = float(np.sum(Gmat[iu] * weight * absD))
    Gt = float(np.sum(Gmat[iu] * weight * (1.0 - absD)))
    names = labels.rename("group")
    return DagumResult(
        G=float(G),
        Gw=Gw,
        Gnb=Gnb,
        Gt=Gt,
        within=pd.Series(np.diag(Gmat).copy(), index=names, name="G_jj"),
        between=pd.DataFrame(Gmat, index=names, columns=names),
        D=pd.DataFrame(Dmat, index=names, columns=names),
        groups=pd.DataFrame(
            {"n": n_j.astype(int), "mean": mu_j, "pop_share": p_j, "income_share": s_j},
            index=names,
        ),
    )


# ---------------------------------------------------------------------------------------------
# kernel densities by year
# ---------------------------------------------------------------------------------------------


def kernel_density_by_year(
    frame: pd.DataFrame,
    value: str,
    year: str,
    *,
    years: Sequence[Hashable] | None = None,
    kind: Literal["ridge", "overlay", "3d"] = "ridge",
    bw_method: str | float | None = None,
    grid: int = DENSITY_GRID,
    overlap: float = 1.5,
    xlabel: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    r"""Kernel densities of ``value`` by ``year``: the distribution-dynamics figure.

    Parameters
    ----------
    frame : pd.DataFrame
        Long data with a value column and a year column.
    value, year : str
        Column names.
    years : sequence, optional
        Years to draw (default: all, sorted). Choose a few (e.g. every third year) for a
        readable ridge plot.
    kind : {"ridge", "overlay", "3d"}, default "ridge"
        ``"ridge"``: one filled density per year, stacked vertically; ``"overlay"``: all
        densities on one axis; ``"3d"``: the value x year x density surface of lines that
        Chinese regional papers print.
    bw_method : str or float, optional
        Bandwidth rule passed to :class:`scipy.stats.gaussian_kde` (default Scott's rule).
    grid : int, default 256
        Number of evaluation points, shared by all years (common x-range).
    overlap : float, default 1.5
        Ridge height relative to the spacing of the baselines (``kind="ridge"`` only).
    xlabel, title : str, optional
        Axis label (default: ``value``) and title.
    figsize : tuple, optional
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (not shown; return it from the notebook cell or ``glue`` it).

    Raises
    ------
    ValueError
        Missing columns, NaN in the value column, an unknown ``kind``, a year with fewer than
        2 distinct values (no density can be estimated).

    Notes
    -----
    Gaussian kernel density :math:`\hat f(x) = \frac{1}{nh}\sum_i K((x - x_i)/h)`, with
    :math:`h` by Scott's rule unless ``bw_method`` is given; each year is estimated
    separately, evaluated on a common grid so that shifts in location and spread are
    comparable across years.

    References
    ----------
    Silverman (1986), *Density Estimation for Statistics and Data Analysis*.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"y": rng.normal(size=300), "year": np.repeat([2010, 2015, 2020], 100)})
    >>> fig = kernel_density_by_year(df, "y", "year")
    >>> len(fig.axes)
    1
    """
    from matplotlib.figure import Figure
    from scipy.stats import gaussian_kde

    if not isinstance(frame, pd.DataFrame):
        raise ValueError("frame must be a DataFrame with the value and year columns.")
    for col in (value, year):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} is missing from the frame.")
    if kind not in ("ridge", "overlay", "3d"):
        raise ValueError(f"kind must be 'ridge', 'overlay' or '3d'; got {kind!r}.")
    vals = pd.to_numeric(frame[value], errors="raise").astype(float)
    if vals.isna().any():
        raise ValueError(f"column {value!r} has {int(vals.isna().sum())} NaN value(s); drop them.")
    available = sorted(frame[year].dropna().unique())
    if years is None:
        years = available
    missing = [t for t in years if t not in set(available)]
    if missing:
        raise ValueError(f"year(s) {missing} do not occur in column {year!r}.")
    if grid < 10:
        raise ValueError(f"grid must be at least 10 points; got {grid}.")
    data = {t: vals[frame[year] == t].to_numpy() for t in years}
    flat = [t for t, v in data.items() if np.unique(v).size < 2]
    if flat:
        raise ValueError(f"year(s) {flat} have fewer than 2 distinct values; no density exists.")
    lo = min(v.min() for v in data.values())
    hi = max(v.max() for v in data.values())
    pad = 0.1 * (hi - lo)
    xs = np.linspace(lo - pad, hi + pad, grid)
    dens = {t: gaussian_kde(v, bw_method=bw_method)(xs) for t, v in data.items()}

    fig = Figure(figsize=figsize or ((7, 1.0 + 0.55 * len(years)) if kind == "ridge" else (7, 4.5)))
    xlabel = xlabel or value
    colors = _year_colors(len(years))
    if kind == "3d":
        ax = fig.add_subplot(projection="3d")
        for c, t in zip(colors, years, strict=True):
            ax.plot(xs, np.full_like(xs, float(_as_number(t, years))), dens[t], color=c)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(str(year))
        ax.set_zlabel("density")
    elif kind == "overlay":
        ax = fig.add_subplot()
        for c, t in zip(colors, years, strict=True):
            ax.plot(xs, dens[t], color=c, label=str(t))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.legend(title=str(year), frameon=False, fontsize="small")
    else:
        ax = fig.add_subplot()
        top = max(d.max() for d in dens.values())
        step = 1.0
        scale = overlap * step / top
        for i, (c, t) in enumerate(zip(colors, years, strict=True)):
            base = (len(years) - 1 - i) * step
            ax.fill_between(xs, base, base + dens[t] * scale, color=c, alpha=0.7, lw=0)
            ax.plot(xs, base + dens[t] * scale, color="black", lw=0.6)
        ax.set_yticks([(len(years) - 1 - i) * step for i in range(len(years))])
        ax.set_yticklabels([str(t) for t in years])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(str(year))
        for side in ("right", "top", "left"):
            ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _year_colors(k: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.1, 0.9, k)]


def _as_number(t: Hashable, years: Sequence[Hashable]) -> float:
    try:
        return float(t)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float(list(years).index(t))

r"""Event-study (dynamic DiD) regressions and the event-study figure.

The TWFE event study regresses the outcome on relative-time dummies around adoption,

.. math::

    y_{it} = \sum_{k \ne b} \beta_k \, 1\{t - G_i = k\} + x_{it}'\gamma + \alpha_i + \lambda_t
             + \varepsilon_{it},

with :math:`G_i` the unit's adoption period, :math:`b` the base (reference) period (default
:math:`-1`), end points binned (:math:`k \le -L` and :math:`k \ge K` pooled into one dummy each)
and never-treated units recoded to the base period (they carry no relative-time dummy; this is
pyfixest's ``i(rel, ref=b)`` with the never-treated trick, because a list of references fails).
Standard errors are clustered by unit by default. The pre-trend test is the joint Wald test of
the lead coefficients, :math:`H_0: \beta_k = 0` for all :math:`k < 0, k \ne b`, reported as
:math:`F = \hat\beta_{pre}'\hat V_{pre}^{-1}\hat\beta_{pre}/q` with :math:`(q, G-1)` degrees of
freedom under clustering (as Stata's ``test`` after ``reghdfe``), :math:`(q, N-k)` otherwise.

Caveat: with staggered adoption and heterogeneous effects the TWFE lead/lag coefficients are
contaminated by other periods' effects (Sun and Abraham 2021, *Journal of Econometrics* 225(2):
175--199); :func:`helpers.did.staggered_did` gives the heterogeneity-robust versions.

References: Jacobson, LaLonde and Sullivan (1993, *AER* 83(4): 685--709) for the event-study
design; Schmidheiny and Siegloch (2023, *Journal of Applied Econometrics* 38(5): 695--713) on
binning the end points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from helpers.did._inputs import (
    as_list,
    require_columns,
    require_dataframe,
    require_multiple_clusters,
    require_numeric,
)

__all__ = ["EventStudyResult", "event_study", "plot_event_study"]

REL_COL = "rel_time"
_WHERE = "event_study"


@dataclass
class EventStudyResult:
    """Result of :func:`event_study`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per relative period: ``rel_time``, ``coef``, ``se``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``is_base`` (the base period is included with coefficient 0 and SE 0),
        ``binned`` (True for pooled end points).
    fit : pyfixest Feols
        The fitted model.
    base : int
        Base (reference) period.
    pretrend_f, pretrend_pvalue : float
        Joint F-test that all lead coefficients are zero (``nan`` if there are no leads).
    pretrend_df : tuple[int, int]
        Numerator and denominator degrees of freedom of the F-test.
    n_obs : int
        Observations used.
    alpha : float
        1 - confidence level of the intervals.
    """

    table: pd.DataFrame
    fit: object
    base: int
    pretrend_f: float
    pretrend_pvalue: float
    pretrend_df: tuple[int, int]
    n_obs: int
    alpha: float = 0.05

    @property
    def caption(self) -> str:
        """Caption text with the pre-trend test, for the figure or the prose."""
        level = round(100 * (1 - self.alpha))
        base = (
            f"Points are TWFE event-study coefficients relative to period {self.base} "
            f"(normalized to 0); bars are {level}% confidence intervals."
        )
        if np.isnan(self.pretrend_f):
            return base + " No lead coefficients, so no pre-trend test."
        q, d2 = self.pretrend_df
        return (
            base + f" Joint test that all {q} pre-period coefficients are zero: "
            f"F({q}, {d2}) = {self.pretrend_f:.2f}, p = {self.pretrend_pvalue:.3f}."
        )


def _cohort_per_row(data: pd.DataFrame, cohort: str, unit: str) -> np.ndarray:
    g = data[cohort].astype(float)
    g = g.where(~(g.isna() | (g == 0) | np.isinf(g)), np.inf)
    varies = g.groupby(data[unit]).nunique() > 1
    if varies.any():
        raise ValueError(
            f"{_WHERE}: the adoption column {cohort!r} is not constant within unit for "
            f"{list(varies[varies].index[:5])}; it must hold each unit's adoption period "
            "(NaN, 0 or inf for never-treated units)"
        )
    return g.to_numpy()


def event_study(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    leads: int = 4,
    lags: int = 4,
    base: int = -1,
    bin_endpoints: bool = True,
    controls: str | list[str] | None = None,
    fixed_effects: str | None = None,
    cluster: str | None = "__unit__",
    weights: str | None = None,
    alpha: float = 0.05,
) -> EventStudyResult:
    r"""TWFE event study: leads and lags around adoption with clustered standard errors.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    y : str
        Outcome column.
    unit, time : str
        Panel identifiers; ``time`` numeric (years).
    cohort : str
        Each unit's adoption period (constant within unit); ``NaN``, ``0`` or ``inf`` for
        never-treated units.
    leads, lags : int, default 4
        Window :math:`[-\text{leads}, \text{lags}]` of relative periods with their own dummy.
    base : int, default -1
        Reference period (its coefficient is normalized to 0); must lie inside the window.
    bin_endpoints : bool, default True
        Pool all periods before ``-leads`` into the ``-leads`` dummy and all periods after
        ``lags`` into the ``lags`` dummy. If False, observations of treated units outside the
        window are dropped (and never-treated units are required for identification).
    controls : str or list of str, optional
        Time-varying control columns.
    fixed_effects : str, optional
        pyfixest FE part, default ``"unit+time"`` (written without spaces).
    cluster : str or None, default the unit column
        Cluster variable for CRV1 standard errors; ``None`` gives heteroskedasticity-robust
        (HC1) standard errors.
    weights : str, optional
        Regression weights column.
    alpha : float, default 0.05
        1 - confidence level of the intervals.

    Returns
    -------
    EventStudyResult
        ``.table`` (tidy: rel_time, coef, se, ci_low, ci_high, pvalue, is_base, binned),
        ``.pretrend_f``, ``.pretrend_pvalue``, ``.caption``, ``.fit``.

    Raises
    ------
    ValueError
        For a missing column, an adoption column that varies within unit, no treated units, a
        base period outside the window, a cluster variable with one cluster, or no
        never-treated units when ``bin_endpoints=False``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"firm": np.repeat(np.arange(60), 8), "year": np.tile(np.arange(2010, 2018), 60)})
    >>> df["g"] = np.repeat(rng.choice([2013, 2015, np.nan], 60), 8)
    >>> df["y"] = rng.normal(size=len(df)) + 1.0 * (df["year"] >= df["g"])
    >>> res = event_study(df, "y", "firm", "year", "g", leads=3, lags=2)
    >>> res.table.loc[res.table.rel_time == -1, "coef"].item()
    0.0
    """
    import pyfixest as pf

    require_dataframe(data, _WHERE)
    ctrl = as_list(controls)
    cluster = unit if cluster == "__unit__" else cluster
    needed = [y, unit, time, cohort, *ctrl]
    needed += [c for c in (cluster, weights) if c is not None]
    require_columns(data, list(dict.fromkeys(needed)), _WHERE)
    require_numeric(data, [y, time, cohort, *ctrl], _WHERE)
    if leads < 1 or lags < 0:
        raise ValueError(f"{_WHERE}: need leads >= 1 and lags >= 0, got {leads}, {lags}")
    if not -leads <= base <= lags:
        raise ValueError(
            f"{_WHERE}: the base period {base} lies outside the window [-{leads}, {lags}]; "
            "choose base inside it (usually -1)"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"{_WHERE}: alpha must lie in (0, 1), got {alpha}")
    df = data[list(dict.fromkeys(needed))].dropna(subset=[y, unit, time, *ctrl]).copy()
    g = _cohort_per_row(df, cohort, unit)
    treated = np.isfinite(g)
    if not treated.any():
        raise ValueError(
            f"{_WHERE}: no unit has an adoption period in {cohort!r}: the treatment never "
            "varies, so there is no event to study"
        )
    never_any = (~treated).any()
    if not never_any and not bin_endpoints:
        raise ValueError(
            f"{_WHERE}: no never-treated units and bin_endpoints=False: with only treated units "
            "the relative-time dummies, unit and time effects are collinear; bin the end "
            "points (bin_endpoints=True) or add never-treated units"
        )
    if cluster is not None:
        require_multiple_clusters(df, cluster, _WHERE)
    rel = df[time].to_numpy(dtype=float) - g
    binned_low = treated & (rel < -leads)
    binned_high = treated & (rel > lags)
    if bin_endpoints:
        rel = np.clip(rel, -leads, lags)
    else:
        keep = ~(binned_low | binned_high)
        df, rel, treated = df.loc[keep], rel[keep], treated[keep]
    rel = np.where(treated, rel, base)
    df[REL_COL] = rel.astype(int)

    fe = fixed_effects if fixed_effects is not None else f"{unit}+{time}"
    fe = fe.replace(" ", "")
    rhs = " + ".join([f"i({REL_COL}, ref={base})", *ctrl])
    formula = f"{y} ~ {rhs} | {fe}"
    vcov: object = {"CRV1": cluster} if cluster is not None else "hetero"
    fit = pf.feols(formula, df, vcov=vcov, weights=weights)

    coef, se, pv = fit.coef(), fit.se(), fit.pvalue()
    names = [n for n in coef.index if n.startswith(f"{REL_COL}::")]
    ks = [int(float(n.split("::")[1])) for n in names]
    crit = stats.norm.ppf(1 - alpha / 2)
    df_t = None
    if cluster is not None:
        df_t = int(df[cluster].nunique()) - 1
        crit = stats.t.ppf(1 - alpha / 2, df_t)
    table = pd.DataFrame(
        {
            "rel_time": ks,
            "coef": coef[names].to_numpy(),
            "se": se[names].to_numpy(),
            "pvalue": pv[names].to_numpy(),
        }
    )
    table = pd.concat(
        [table, pd.DataFrame({"rel_time": [base], "coef": [0.0], "se": [0.0], "pvalue": [np.nan]})],
        ignore_index=True,
    )
    table["ci_low"] = table["coef"] - crit * table["se"]
    table["ci_high"] = table["coef"] + crit * table["se"]
    table["is_base"] = table["rel_time"] == base
    table["binned"] = bin_endpoints & (
        ((table["rel_time"] == -leads) & bool(binned_low.any()))
        | ((table["rel_time"] == lags) & bool(binned_high.any()))
    )
    table = table.sort_values("rel_time", ignore_index=True)[
        ["rel_time", "coef", "se", "ci_low", "ci_high", "pvalue", "is_base", "binned"]
    ]

    # joint pre-trend F-test on the leads
    lead_names = [n for n, k in zip(names, ks, strict=True) if k < 0]
    f_stat, f_p, q = float("nan"), float("nan"), len(lead_names)
    d2 = df_t if df_t is not None else int(fit._N - len(coef))
    if q:
        idx = [list(coef.index).index(n) for n in lead_names]
        b = coef.to_numpy()[idx]
        v = np.asarray(fit._vcov)[np.ix_(idx, idx)]
        f_stat = float(b @ np.linalg.solve(v, b) / q)
        f_p = float(stats.f.sf(f_stat, q, d2))
    return EventStudyResult(
        table=table,
        fit=fit,
        base=base,
        pretrend_f=f_stat,
        pretrend_pvalue=f_p,
        pretrend_df=(q, d2),
        n_obs=int(fit._N),
        alpha=alpha,
    )


def plot_event_study(
    result: EventStudyResult,
    ax: object | None = None,
    *,
    title: str | None = None,
    xlabel: str = "periods relative to adoption",
    ylabel: str = "coefficient",
) -> tuple[Figure, str]:
    """The event-study figure: points, confidence intervals, base period marked.

    Parameters
    ----------
    result : EventStudyResult
        Output of :func:`event_study`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.
    title : str, optional
        Axes title; by default the pre-trend F-test.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    (matplotlib.figure.Figure, str)
        The figure (points with CIs, the base period as a hollow marker, a dashed vertical line
        at -0.5 and a horizontal line at zero) and its caption text, which states the pre-trend
        F-test (use it with ``myst_nb.glue`` or as the figure caption).

    Raises
    ------
    ValueError
        If ``result`` is not an :class:`EventStudyResult`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"firm": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(6), 40)})
    >>> df["g"] = np.repeat(np.where(np.arange(40) < 20, 3, np.nan), 6)
    >>> df["y"] = np.random.default_rng(1).normal(size=len(df))
    >>> fig, caption = plot_event_study(event_study(df, "y", "firm", "year", "g", leads=2, lags=2))
    >>> "F(" in caption
    True
    """
    import matplotlib.pyplot as plt

    if not isinstance(result, EventStudyResult):
        raise ValueError(
            f"plot_event_study: expected an EventStudyResult from event_study(), "
            f"got {type(result).__name__}"
        )
    t = result.table
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    est = t[~t["is_base"]]
    ax.errorbar(
        est["rel_time"],
        est["coef"],
        yerr=[est["coef"] - est["ci_low"], est["ci_high"] - est["coef"]],
        fmt="o",
        color="C0",
        capsize=3,
        label=f"estimate, {round(100 * (1 - result.alpha))}% CI",
    )
    b = t[t["is_base"]]
    ax.plot(
        b["rel_time"],
        b["coef"],
        "o",
        mfc="none",
        mec="C3",
        ms=8,
        label=f"base period ({result.base})",
    )
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.axvline(-0.5, color="0.5", lw=0.8, ls="--")
    ax.set_xticks(t["rel_time"].to_numpy())
    labels = []
    for k, binned in zip(t["rel_time"], t["binned"], strict=True):
        labels.append((f"≤{k}" if k < 0 else f"≥{k}") if binned else str(k))
    ax.set_xticklabels(labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is None and not np.isnan(result.pretrend_f):
        q, d2 = result.pretrend_df
        title = f"pre-trend test: F({q}, {d2}) = {result.pretrend_f:.2f}, p = {result.pretrend_pvalue:.3f}"
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(frameon=False, fontsize="small")
    return fig, result.caption

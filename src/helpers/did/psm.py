r"""PSM-DID: propensity-score matching, balance diagnostics and the DiD on the matched sample.

Chinese DiD papers often re-estimate the DiD after propensity-score matching (倾向得分匹配) to
show that the effect does not come from treated and control units that differ on observables.
The recipe, as run by Stata ``psmatch2`` + ``pstest`` in those papers:

1. a logit of the treated-group indicator on covariates, pooled over all unit-years or year by
   year (逐年匹配), gives the propensity score :math:`\hat p`;
2. every treated observation is matched to controls: 1:1 nearest neighbour on :math:`\hat p`
   within a caliper (with or without replacement), or Epanechnikov-kernel matching with
   bandwidth :math:`h`, weights :math:`K((\hat p_j-\hat p_i)/h)`,
   :math:`K(u)=\tfrac34(1-u^2)1\{|u|<1\}`, normalized to sum to one per treated observation;
3. the balance table reports, per covariate, the standardized mean difference
   :math:`SMD = 100(\bar x_T-\bar x_C)/\sqrt{(s^2_T+s^2_C)/2}` before and after matching (the
   denominator uses the *unmatched* variances both times, as ``pstest``'s "%bias") and the
   variance ratio :math:`s^2_T/s^2_C`;
4. the DiD is re-estimated with pyfixest on the matched observations, with the matching
   weights (a control matched twice counts twice; kernel weights for kernel matching).

Matching is at the level of the rows (unit-years). Without replacement, treated observations
are matched in descending order of :math:`\hat p` (MatchIt's ``m.order = "largest"``).

With ``by="year"``, ``replace=False`` and ``caliper=None`` each period's logit and matching are
R ``MatchIt``'s default ``matchit(..., method = "nearest", distance = "glm")``:
``tests/test_did_psm.py`` reproduces the means and variance ratios of MatchIt 4.7.1's balance
tables for its ``lalonde`` example to the four printed decimals. MatchIt's "Std. Mean Diff."
divides by the treated group's SD; the %bias here divides by the pooled SD, as ``pstest``.

References: Rosenbaum and Rubin (1983, *Biometrika* 70(1): 41--55); Heckman, Ichimura and Todd
(1997, *Review of Economic Studies* 64(4): 605--654) for kernel-matching DiD; Leuven and
Sianesi (2003), ``psmatch2`` (Stata module, SSC S432001) for the %bias balance table; Ho, Imai,
King and Stuart (2011, *Journal of Statistical Software* 42(8)) for MatchIt's conventions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.did._inputs import (
    as_list,
    require_columns,
    require_dataframe,
    require_multiple_clusters,
    require_numeric,
)

__all__ = ["PSMDiDResult", "psm_did"]

WEIGHT_COL = "_psm_weight"
PSCORE_COL = "_pscore"
SMD_THRESHOLD = 10.0
"""|%bias| below which a covariate is usually called balanced (Rosenbaum and Rubin 1985)."""
_WHERE = "psm_did"


@dataclass
class PSMDiDResult:
    """Result of :func:`psm_did`.

    Attributes
    ----------
    coef, se, pvalue : float
        DiD coefficient on the matched sample, its (clustered) SE and p-value.
    fit : pyfixest Feols
        The DiD regression on the matched sample.
    balance : pandas.DataFrame
        Per covariate (and the propensity score): treated mean, control mean before and after,
        %bias (SMD x 100) before and after, its reduction, variance ratios before and after.
    matched : pandas.DataFrame
        The matched rows with the matching weight (``_psm_weight``) and score (``_pscore``).
    pscore : pandas.Series
        Propensity score of every input row used (index of the input data).
    n_treated, n_treated_matched, n_controls_used : int
        Treated observations, those matched (on support), distinct control observations used.
    method : str
        Description of the matching.
    """

    coef: float
    se: float
    pvalue: float
    fit: object
    balance: pd.DataFrame
    matched: pd.DataFrame
    pscore: pd.Series
    n_treated: int
    n_treated_matched: int
    n_controls_used: int
    method: str

    def plot_balance(self, ax: object | None = None, *, title: str | None = None) -> Figure:
        """Dot plot of |%bias| before and after matching per covariate.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when omitted.
        title : str, optional
            Axes title.

        Returns
        -------
        matplotlib.figure.Figure
            Hollow markers before, filled after, a dashed line at 10 %.
        """
        import matplotlib.pyplot as plt

        b = self.balance
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 0.6 + 0.4 * len(b)))
        else:
            fig = ax.figure
        pos = np.arange(len(b))[::-1]
        ax.scatter(
            b["bias_before"].abs(),
            pos,
            marker="o",
            facecolors="none",
            edgecolors="C3",
            label="before matching",
        )
        ax.scatter(b["bias_after"].abs(), pos, marker="o", color="C0", label="after matching")
        ax.axvline(SMD_THRESHOLD, color="0.5", ls="--", lw=0.8)
        ax.set_yticks(pos)
        ax.set_yticklabels(b.index)
        ax.set_xlabel("|standardized mean difference| (%)")
        ax.set_title(title if title is not None else self.method, fontsize="medium")
        ax.legend(frameon=False, fontsize="small")
        return fig


def _logit_pscore(x: np.ndarray, d: np.ndarray, where: str) -> np.ndarray:
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationError

    if d.min() == d.max():
        raise ValueError(f"{where}: only {'treated' if d[0] else 'control'} observations")
    xc = sm.add_constant(x, has_constant="add")
    try:
        res = sm.Logit(d, xc).fit(disp=0, maxiter=200)
    except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
        raise ValueError(
            f"{where}: the logit cannot be estimated ({exc}); drop covariates that perfectly "
            "predict treatment or are collinear"
        ) from None
    p = np.asarray(res.predict(xc))
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{where}: the logit produced non-finite propensity scores")
    return p


def _nearest(
    p_t: np.ndarray, p_c: np.ndarray, caliper: float | None, replace: bool
) -> tuple[np.ndarray, np.ndarray]:
    """1:1 nearest-neighbour matching; returns (matched control index or -1 per treated,
    control usage counts)."""
    match = np.full(len(p_t), -1)
    counts = np.zeros(len(p_c))
    if replace:
        order = np.argsort(p_c, kind="stable")
        ps = p_c[order]
        pos = np.searchsorted(ps, p_t)
        left = np.clip(pos - 1, 0, len(ps) - 1)
        right = np.clip(pos, 0, len(ps) - 1)
        pick = np.where(np.abs(ps[left] - p_t) <= np.abs(ps[right] - p_t), left, right)
        dist = np.abs(ps[pick] - p_t)
        ok = dist <= caliper if caliper is not None else np.ones(len(p_t), bool)
        match[ok] = order[pick[ok]]
        np.add.at(counts, match[ok], 1.0)
        return match, counts
    available = np.ones(len(p_c), bool)
    for i in np.argsort(-p_t, kind="stable"):  # largest score first (MatchIt m.order="largest")
        if not available.any():
            break
        dist = np.where(available, np.abs(p_c - p_t[i]), np.inf)
        j = int(np.argmin(dist))
        if caliper is None or dist[j] <= caliper:
            match[i] = j
            available[j] = False
            counts[j] = 1.0
    return match, counts


def _kernel(p_t: np.ndarray, p_c: np.ndarray, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """Epanechnikov kernel matching; returns (treated on support, control weights)."""
    u = (p_c[None, :] - p_t[:, None]) / bandwidth
    k = np.where(np.abs(u) < 1, 0.75 * (1 - u**2), 0.0)
    tot = k.sum(axis=1)
    on = tot > 0
    w = (k[on] / tot[on, None]).sum(axis=0)
    return on, w


def _balance(
    x: pd.DataFrame, d: np.ndarray, w_after: np.ndarray, treated_after: np.ndarray
) -> pd.DataFrame:
    rows = {}
    for col in x.columns:
        v = x[col].to_numpy(dtype=float)
        vt, vc = v[d == 1], v[d == 0]
        var_t, var_c = vt.var(ddof=1), vc.var(ddof=1)
        sd = np.sqrt((var_t + var_c) / 2)
        wt = treated_after[d == 1].astype(float)
        wc = w_after[d == 0]
        mt_a = np.average(vt, weights=wt) if wt.sum() > 0 else np.nan
        mc_a = np.average(vc, weights=wc) if wc.sum() > 0 else np.nan
        var_t_a = np.average((vt - mt_a) ** 2, weights=wt) if wt.sum() > 0 else np.nan
        var_c_a = np.average((vc - mc_a) ** 2, weights=wc) if wc.sum() > 0 else np.nan
        before = 100 * (vt.mean() - vc.mean()) / sd if sd > 0 else 0.0
        after = 100 * (mt_a - mc_a) / sd if sd > 0 else 0.0
        rows[col] = {
            "mean_treated": vt.mean(),
            "mean_control_before": vc.mean(),
            "mean_treated_after": mt_a,
            "mean_control_after": mc_a,
            "bias_before": before,
            "bias_after": after,
            "bias_reduction": 100 * (1 - abs(after) / abs(before)) if before != 0 else np.nan,
            "var_ratio_before": var_t / var_c if var_c > 0 else np.nan,
            "var_ratio_after": var_t_a / var_c_a if var_c_a and var_c_a > 0 else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def psm_did(
    data: pd.DataFrame,
    y: str,
    treatment: str,
    unit: str,
    time: str,
    covariates: str | list[str],
    *,
    group: str | None = None,
    method: str = "nearest",
    replace: bool = True,
    caliper: float | None = 0.05,
    bandwidth: float = 0.06,
    by: str = "pooled",
    controls: str | list[str] | None = None,
    fixed_effects: str | None = None,
    cluster: str | None = "__unit__",
) -> PSMDiDResult:
    r"""Propensity-score matching followed by the DiD on the matched sample (PSM-DID).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period.
    y : str
        Outcome.
    treatment : str
        The DiD dummy (treated group x post) used in the DiD regression.
    unit, time : str
        Panel identifiers.
    covariates : str or list of str
        Matching covariates (logit regressors), usually the paper's controls.
    group : str, optional
        Treated-group indicator (0/1, constant within unit) that is matched on; default: units
        ever treated by ``treatment``.
    method : {"nearest", "kernel"}, default "nearest"
        1:1 nearest neighbour with caliper, or Epanechnikov kernel matching.
    replace : bool, default True
        Nearest neighbour with replacement (``psmatch2`` default) or without.
    caliper : float or None, default 0.05
        Maximum propensity-score distance for nearest-neighbour matching (score units, as
        ``psmatch2 caliper()``); ``None`` for no caliper.
    bandwidth : float, default 0.06
        Kernel bandwidth (``psmatch2``'s default 0.06).
    by : {"pooled", "year"}, default "pooled"
        One logit and matching on all unit-years, or separately period by period.
    controls : str or list of str, optional
        Controls in the DiD regression (default: the covariates).
    fixed_effects : str, optional
        pyfixest FE part of the DiD, default ``"unit+time"``.
    cluster : str or None, default the unit column
        Cluster variable for the DiD's CRV1 standard errors (``None``: HC1).

    Returns
    -------
    PSMDiDResult
        ``.coef``, ``.se``, ``.pvalue``, ``.fit``, ``.balance``, ``.matched``, ``.pscore``,
        ``.plot_balance()``.

    Raises
    ------
    ValueError
        For a missing column, a treatment or group that never varies, a group that varies
        within unit, an unknown method or ``by``, a non-positive caliper or bandwidth, a
        cluster variable with one cluster, a logit that cannot be estimated, or no treated
        observation matched.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n, T = 200, 6
    >>> df = pd.DataFrame({"firm": np.repeat(np.arange(n), T), "year": np.tile(np.arange(T), n)})
    >>> x = rng.normal(size=n); g = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    >>> df["x"] = np.repeat(x, T) + rng.normal(0, 0.1, n * T)
    >>> df["did"] = np.repeat(g, T) * (df["year"] >= 3)
    >>> df["y"] = df["did"] + rng.normal(size=n * T)
    >>> res = psm_did(df, "y", "did", "firm", "year", "x")
    >>> bool(abs(res.coef - 1) < 4 * res.se)
    True
    """
    import pyfixest as pf

    require_dataframe(data, _WHERE)
    covs = as_list(covariates)
    ctrl = covs if controls is None else as_list(controls)
    if not covs:
        raise ValueError(f"{_WHERE}: give at least one matching covariate")
    cluster = unit if cluster == "__unit__" else cluster
    if method not in {"nearest", "kernel"}:
        raise ValueError(f"{_WHERE}: method must be 'nearest' or 'kernel', got {method!r}")
    if by not in {"pooled", "year"}:
        raise ValueError(f"{_WHERE}: by must be 'pooled' or 'year', got {by!r}")
    if caliper is not None and caliper <= 0:
        raise ValueError(f"{_WHERE}: caliper must be positive or None, got {caliper}")
    if bandwidth <= 0:
        raise ValueError(f"{_WHERE}: bandwidth must be positive, got {bandwidth}")
    needed = [y, treatment, unit, time, *covs, *ctrl]
    needed += [c for c in (group, cluster) if c is not None]
    needed = list(dict.fromkeys(needed))
    require_columns(data, needed, _WHERE)
    require_numeric(data, [y, treatment, *covs, *ctrl], _WHERE)
    df = data[needed].dropna().copy()
    if df[treatment].nunique() < 2:
        raise ValueError(
            f"{_WHERE}: the treatment {treatment!r} never varies; a DiD needs treated and "
            "untreated observations"
        )
    if group is None:
        gr = df.groupby(unit)[treatment].transform("max").to_numpy(dtype=float)
    else:
        if (df.groupby(unit)[group].nunique() > 1).any():
            raise ValueError(f"{_WHERE}: the group indicator {group!r} varies within unit")
        gr = df[group].to_numpy(dtype=float)
    if not set(np.unique(gr)) == {0.0, 1.0}:
        raise ValueError(
            f"{_WHERE}: the treated-group indicator must take both values 0 and 1 (found "
            f"{sorted(set(np.unique(gr)))}); there are no never-treated control units to match"
        )
    if cluster is not None:
        require_multiple_clusters(df, cluster, _WHERE)

    x = df[covs].to_numpy(dtype=float)
    pscore = np.empty(len(df))
    weight = np.zeros(len(df))
    periods = [None] if by == "pooled" else sorted(df[time].unique())
    for per in periods:
        rows = np.ones(len(df), bool) if per is None else (df[time] == per).to_numpy()
        where = f"{_WHERE} (period {per})" if per is not None else _WHERE
        p = _logit_pscore(x[rows], gr[rows], where)
        pscore[rows] = p
        idx = np.flatnonzero(rows)
        it, ic = idx[gr[rows] == 1], idx[gr[rows] == 0]
        if method == "nearest":
            match, counts = _nearest(p[gr[rows] == 1], p[gr[rows] == 0], caliper, replace)
            weight[it[match >= 0]] = 1.0
            weight[ic] = counts
        else:
            on, wc = _kernel(p[gr[rows] == 1], p[gr[rows] == 0], bandwidth)
            weight[it[on]] = 1.0
            weight[ic] = wc
    n_t = int((gr == 1).sum())
    n_tm = int(((gr == 1) & (weight > 0)).sum())
    if n_tm == 0:
        raise ValueError(
            f"{_WHERE}: no treated observation found a control within caliper={caliper} / "
            f"bandwidth={bandwidth}; widen it or check the covariates' overlap"
        )
    bal = _balance(
        pd.concat([df[covs], pd.Series(pscore, index=df.index, name="pscore")], axis=1),
        gr,
        weight,
        weight > 0,
    )
    df[WEIGHT_COL] = weight
    df[PSCORE_COL] = pscore
    matched = df[weight > 0].copy()
    fe = (fixed_effects if fixed_effects is not None else f"{unit}+{time}").replace(" ", "")
    rhs = " + ".join([treatment, *ctrl])
    vcov: object = {"CRV1": cluster} if cluster is not None else "hetero"
    if cluster is not None:
        require_multiple_clusters(matched, cluster, _WHERE)
    with warnings.catch_warnings():
        # pyfixest warns "N singleton fixed effect(s) dropped": expected in a matched sample,
        # where many units keep only some of their years; singletons do not affect the DiD.
        warnings.filterwarnings("ignore", message=".*singleton fixed effect", category=UserWarning)
        fit = pf.feols(f"{y} ~ {rhs} | {fe}", matched, vcov=vcov, weights=WEIGHT_COL)
    if treatment not in fit.coef().index:
        raise ValueError(
            f"{_WHERE}: the treatment {treatment!r} dropped out of the matched-sample DiD "
            "(collinear with the fixed effects); the matched sample has no within variation"
        )
    desc = (
        f"1:1 nearest neighbour {'with' if replace else 'without'} replacement, caliper {caliper}"
        if method == "nearest"
        else f"Epanechnikov kernel, bandwidth {bandwidth}"
    )
    desc += ", pooled logit" if by == "pooled" else ", year-by-year logit"
    return PSMDiDResult(
        coef=float(fit.coef()[treatment]),
        se=float(fit.se()[treatment]),
        pvalue=float(fit.pvalue()[treatment]),
        fit=fit,
        balance=bal,
        matched=matched,
        pscore=pd.Series(pscore, index=df.index, name="pscore"),
        n_treated=n_t,
        n_treated_matched=n_tm,
        n_controls_used=int(((gr == 0) & (weight > 0)).sum()),
        method=desc,
    )

"""Staggered difference-in-differences: four estimators side by side.

With staggered adoption the two-way fixed-effects (TWFE) DiD coefficient is a weighted average of
all 2x2 comparisons, including "forbidden" ones that use already-treated units as controls, so it
is biased when effects change over time (Goodman-Bacon 2021). The heterogeneity-robust estimators
below avoid those comparisons; :func:`staggered_did` runs them on the same panel so that a chapter
can show in one table and one figure whether the choice matters.

============================  ===================================================================
estimator                     implementation
============================  ===================================================================
TWFE                          ``pyfixest.feols`` with unit and time FE (static and event study)
Callaway-Sant'Anna            ``csdid`` 0.4.3 (a port of R ``did`` 2.x), never-treated and
                              not-yet-treated controls; simple, group and dynamic aggregations;
                              analytic influence-function SEs (R ``did`` with ``bstrap=FALSE``)
Sun-Abraham (IW)              cohort x relative-time saturated ``pyfixest.feols`` with
                              never-treated controls, aggregated with cohort-share weights
Imputation (Gardner/BJS)      two-stage DiD (Gardner 2022; point estimates identical to
                              Borusyak-Jaravel-Spiess 2024) with the GMM cluster variance,
                              computed with sparse matrices; same numbers as ``pyfixest.did2s``
                              (itself tested against R ``did2s``) but about 20x faster
============================  ===================================================================

Coding of the cohort (first treated period) column: never-treated units may be coded ``0``,
``NaN`` or ``inf`` (all three are accepted). Cohorts after the last sample period are treated as
never-treated within the sample (as R ``did`` does); units treated in or before the first sample
period have no untreated period and are dropped (also as R ``did`` does). Both are reported in
``StaggeredResult.notes``.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
*Journal of Econometrics* 225(2), 200-230.
Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.
Gardner, J. (2022). Two-stage differences in differences. arXiv:2207.05943.
Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and
efficient estimation. *Review of Economic Studies* 91(6), 3253-3285.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from scipy.sparse.linalg import splu

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ESTIMATORS", "StaggeredResult", "staggered_did"]

ESTIMATORS: tuple[str, ...] = ("twfe", "cs_never", "cs_notyet", "sun_abraham", "imputation")
"""Keys accepted by ``staggered_did(estimators=...)``, in the order of the summary table."""

LABELS: dict[str, str] = {
    "twfe": "TWFE",
    "cs_never": "Callaway-Sant'Anna (never-treated)",
    "cs_notyet": "Callaway-Sant'Anna (not-yet-treated)",
    "sun_abraham": "Sun-Abraham (IW)",
    "imputation": "Imputation (Gardner/BJS)",
}
REF_REL = -1
"""Reference relative period of the regression-based event studies (the year before adoption)."""


@dataclass
class StaggeredResult:
    """Result of :func:`staggered_did`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per estimator and aggregation: ``estimator``, ``aggregation``, ``estimate``,
        ``se``, ``ci_low``, ``ci_high``, ``n`` (unit-period observations used).
    event_study : pandas.DataFrame
        Long frame ``estimator`` x ``rel_time`` with ``estimate``, ``se``, ``ci_low``, ``ci_high``
        and ``is_reference`` (the normalised period of the regression event studies, estimate 0
        and no standard error by construction).
    notes : list of str
        What was recoded or dropped before estimation.
    models : dict
        The underlying fitted objects (pyfixest fits, csdid objects), for inspection.
    """

    summary: pd.DataFrame
    event_study: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    models: dict = field(default_factory=dict)
    alpha: float = 0.05

    def plot(self, estimators: list[str] | None = None, window: tuple[int, int] | None = None,
             ax=None) -> Figure:
        """Draw the event studies of all estimators in one figure (points and CIs, dodged).

        Parameters
        ----------
        estimators : list of str, optional
            Labels (values of ``event_study.estimator``) to draw; all by default.
        window : (int, int), optional
            Relative periods to show, inclusive.
        ax : matplotlib Axes, optional
            Draw into this axes instead of a new figure.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        es = self.event_study
        labels = list(dict.fromkeys(es["estimator"])) if estimators is None else estimators
        if window is not None:
            es = es[es["rel_time"].between(window[0], window[1])]
        if ax is None:
            fig, ax = plt.subplots(figsize=(8, 4.5))
        else:
            fig = ax.figure
        width = 0.8 / max(len(labels), 1)
        for k, lab in enumerate(labels):
            d = es[es["estimator"] == lab]
            x = d["rel_time"].to_numpy(float) + (k - (len(labels) - 1) / 2) * width
            yerr = np.vstack([d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]])
            ax.errorbar(x, d["estimate"], yerr=np.nan_to_num(yerr), fmt="o", ms=3.5,
                        capsize=2, lw=1, label=lab)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(REF_REL + 0.5, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("periods relative to adoption")
        ax.set_ylabel("effect estimate")
        level = round(100 * (1 - self.alpha))
        ax.set_title(f"Event study by estimator ({level}% confidence intervals)")
        ax.legend(fontsize=8, frameon=False)
        return fig


def staggered_did(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    cluster: str | None = None,
    estimators: tuple[str, ...] | list[str] = ESTIMATORS,
    alpha: float = 0.05,
) -> StaggeredResult:
    r"""Estimate a staggered-adoption DiD with TWFE, Callaway-Sant'Anna, Sun-Abraham and imputation.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per unit and period (balanced for Callaway-Sant'Anna; ``csdid``
        keeps only units observed in every period, as R ``did`` does).
    y : str
        Outcome column.
    unit, time : str
        Unit identifier and integer period (e.g. year) columns.
    cohort : str
        First treated period of the unit (constant within unit). Never-treated: ``0``, ``NaN`` or
        ``inf``.
    cluster : str, optional
        Cluster variable for all standard errors; defaults to ``unit``. Must be constant within
        unit for Callaway-Sant'Anna.
    estimators : sequence of str
        Any of :data:`ESTIMATORS`: ``"twfe"``, ``"cs_never"``, ``"cs_notyet"``,
        ``"sun_abraham"``, ``"imputation"``.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    StaggeredResult
        ``.summary`` (estimator x aggregation), ``.event_study`` (estimator x relative time),
        ``.plot()``.

    Raises
    ------
    ValueError
        Missing column; non-integer periods; cohort not constant within unit; no unit ever
        treated inside the sample; no never-treated units for ``cs_never`` / ``sun_abraham``;
        no not-yet-treated comparisons for ``cs_notyet``; a cluster variable with one cluster;
        an unknown estimator key.

    Notes
    -----
    Let :math:`G_i` be unit *i*'s cohort and :math:`C` the never-treated units. Callaway and
    Sant'Anna's group-time effect (no covariates, varying base period) is

    .. math:: ATT(g,t) = E[Y_t - Y_{g-1} \mid G=g] - E[Y_t - Y_{g-1} \mid C],

    aggregated to the *simple* (weights :math:`\propto` cohort size over post cells), *group*
    and *dynamic* (by :math:`e=t-g`) parameters; with not-yet-treated controls :math:`C` is
    replaced by units with :math:`G>t`. Sun and Abraham estimate
    :math:`Y_{it}=\alpha_i+\lambda_t+\sum_{g}\sum_{e\ne-1}\delta_{g,e}1\{G_i=g,t-g=e\}+u_{it}` and
    average :math:`\delta_{g,e}` over cohorts with weights :math:`\Pr(G=g \mid e)`. The imputation
    estimator fits :math:`\alpha_i+\lambda_t` on untreated observations only, imputes
    :math:`\hat Y_{it}(0)` and regresses :math:`Y_{it}-\hat Y_{it}(0)` on the treatment (or
    relative-time) indicators (Gardner 2022, eq. 4; BJS 2024, Theorem 2). The summary row for
    TWFE, Sun-Abraham and imputation is the average effect over treated observations; the
    ``"dynamic"`` overall row of Callaway-Sant'Anna averages the event-time effects
    :math:`e\ge0`.

    References
    ----------
    Callaway and Sant'Anna (2021), J. Econometrics 225(2), 200-230, eqs. 2.5 and 3.x;
    Sun and Abraham (2021), J. Econometrics 225(2), 175-199, section 4;
    Gardner (2022), arXiv:2207.05943, section 3; Borusyak, Jaravel and Spiess (2024), RES.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(rng.choice([4, 6, 0], 90), 8)
    >>> df = pd.DataFrame({"i": np.repeat(range(90), 8), "t": np.tile(range(1, 9), 90), "g": g})
    >>> df["y"] = ((df.g > 0) & (df.t >= df.g)) * 1.0 + rng.normal(size=len(df))
    >>> res = staggered_did(df, "y", "i", "t", "g", estimators=("twfe", "cs_never"))
    >>> list(res.summary.estimator.unique())
    ['TWFE', "Callaway-Sant'Anna (never-treated)"]
    """
    est = _check_estimators(estimators)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    cluster = unit if cluster is None else cluster
    df, notes = _prepare(data, y, unit, time, cohort, cluster)
    _check_controls(df, est)
    z = stats.norm.ppf(1 - alpha / 2)

    rows: list[dict] = []
    es_parts: list[pd.DataFrame] = []
    models: dict = {}
    if "twfe" in est:
        r, e, m = _twfe(df, y, unit, time, cluster, z)
        rows += r
        es_parts.append(e)
        models["twfe"] = m
    for key, cg in (("cs_never", "nevertreated"), ("cs_notyet", "notyettreated")):
        if key in est:
            r, e, m = _callaway_santanna(df, y, unit, time, cluster, cg, LABELS[key], alpha, z)
            rows += r
            es_parts.append(e)
            models[key] = m
    if "sun_abraham" in est:
        r, e, m = _sun_abraham(df, y, unit, time, cluster, z)
        rows += r
        es_parts.append(e)
        models["sun_abraham"] = m
    if "imputation" in est:
        r, e, m = _imputation(df, y, unit, time, cluster, z, notes)
        rows += r
        es_parts.append(e)
        models["imputation"] = m

    summary = pd.DataFrame(rows, columns=["estimator", "aggregation", "estimate", "se",
                                          "ci_low", "ci_high", "n"])
    event = pd.concat(es_parts, ignore_index=True)
    event = event[["estimator", "rel_time", "estimate", "se", "ci_low", "ci_high",
                   "is_reference"]]
    return StaggeredResult(summary=summary, event_study=event, notes=notes, models=models,
                           alpha=alpha)


# ---------------------------------------------------------------------------------------------
# input checks and preparation
# ---------------------------------------------------------------------------------------------
def _check_estimators(estimators) -> tuple[str, ...]:
    if isinstance(estimators, str):
        estimators = (estimators,)
    est = tuple(estimators)
    bad = [e for e in est if e not in ESTIMATORS]
    if bad or not est:
        raise ValueError(f"unknown estimator key(s) {bad}; choose from {list(ESTIMATORS)}")
    return est


def _prepare(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str,
             cluster: str) -> tuple[pd.DataFrame, list[str]]:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame (long panel, one row per unit-period)")
    cols = list(dict.fromkeys([y, unit, time, cohort, cluster]))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} missing from the data; available: "
                         f"{list(data.columns)[:20]}")
    df = data[cols].copy()
    if df[[y, unit, time]].isna().any().any():
        raise ValueError(f"missing values in {y!r}, {unit!r} or {time!r}; drop those rows first")
    tvals = pd.to_numeric(df[time], errors="coerce")
    if tvals.isna().any() or not np.allclose(tvals, np.round(tvals)):
        raise ValueError(f"time column {time!r} must hold integer periods (e.g. years)")
    df[time] = tvals.round().astype(np.int64)  # pyfixest's DiD code rejects int16 years
    if df.duplicated([unit, time]).any():
        raise ValueError(f"duplicate ({unit}, {time}) rows; the panel needs one row per "
                         "unit and period")
    g = pd.to_numeric(df[cohort], errors="coerce").astype(float)
    g = g.where(np.isfinite(g) & (g != 0), np.inf)  # never treated: 0, NaN or inf
    if g.groupby(df[unit]).nunique(dropna=False).gt(1).any():
        raise ValueError(f"cohort column {cohort!r} varies within unit; it must be the unit's "
                         "first treated period (constant over time)")
    notes: list[str] = []
    tmin, tmax = int(df[time].min()), int(df[time].max())
    late = np.isfinite(g) & (g > tmax)
    if late.any():
        notes.append(f"{df.loc[late, unit].nunique()} units adopt after the last period "
                     f"({tmax}) and are treated as never-treated")
        g[late] = np.inf
    # A treated unit first observed in or after its adoption period (treated in the sample's
    # first period, or entering an unbalanced panel after adopting) has no untreated period: its
    # unit effect is not identified, so it is dropped, as R `did` drops first-period adopters.
    first_seen = df.groupby(unit)[time].transform("min")
    early = np.isfinite(g) & (g <= first_seen)
    if early.any():
        notes.append(f"{df.loc[early, unit].nunique()} treated units have no untreated period "
                     f"(first observed in or after their adoption period; sample starts {tmin}) "
                     "and are dropped")
        df, g = df[~early], g[~early]
    if not np.isfinite(g).any():
        raise ValueError(f"no unit is treated inside the sample: cohort {cohort!r} never falls "
                         f"between {tmin + 1} and {tmax}; the treatment never varies")
    if df[cluster].nunique() < 2:
        raise ValueError(f"cluster variable {cluster!r} has a single cluster; cluster at a "
                         "level with at least two (ideally 30+) groups")
    df = df.rename(columns={y: "_y", unit: "_unit", time: "_time"})
    df["_cl"] = df["_unit"] if cluster == unit else df[cluster]
    df["_g"] = g.to_numpy()
    df["_g0"] = np.where(np.isfinite(df["_g"]), df["_g"], 0).astype(np.int64)
    df["_treat"] = (df["_time"] >= df["_g"]).astype(float)
    df["_rel"] = np.where(np.isfinite(df["_g"]), df["_time"] - df["_g0"], REF_REL)
    df["_rel"] = df["_rel"].astype(np.int64)
    df["_uid"] = pd.factorize(df["_unit"])[0]
    df = df.reset_index(drop=True)
    # keep the user's names available for messages
    df.attrs["names"] = {"y": y, "unit": unit, "time": time, "cohort": cohort,
                         "cluster": cluster}
    return df, notes


def _check_controls(df: pd.DataFrame, est: tuple[str, ...]) -> None:
    never = ~np.isfinite(df["_g"])
    names = df.attrs["names"]
    if ("cs_never" in est or "sun_abraham" in est) and not never.any():
        raise ValueError(
            f"no never-treated units (cohort {names['cohort']!r} is 0/NaN/inf for none), but "
            "'cs_never' and 'sun_abraham' need them; drop these keys from `estimators` "
            "(use 'cs_notyet' and 'imputation')")
    if "cs_notyet" in est:
        # a not-yet-treated comparison exists if in some post period t>=g a unit has G>t
        gs = np.unique(df.loc[np.isfinite(df["_g"]), "_g"])
        later = never.any() or len(gs) > 1
        if not later:
            raise ValueError(
                "no not-yet-treated comparisons: all treated units adopt in the same period "
                "and there are no never-treated units; drop 'cs_notyet' from `estimators`")


# ---------------------------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------------------------
def _row(label: str, agg: str, est: float, se: float, z: float, n: int) -> dict:
    return {"estimator": label, "aggregation": agg, "estimate": float(est), "se": float(se),
            "ci_low": float(est - z * se), "ci_high": float(est + z * se), "n": int(n)}


def _es_frame(label: str, rel, est, se, z: float, ref: bool) -> pd.DataFrame:
    out = pd.DataFrame({"estimator": label, "rel_time": np.asarray(rel, dtype=np.int64),
                        "estimate": np.asarray(est, float), "se": np.asarray(se, float)})
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["is_reference"] = False
    if ref:
        refrow = pd.DataFrame({"estimator": [label], "rel_time": [REF_REL], "estimate": [0.0],
                               "se": [np.nan], "ci_low": [0.0], "ci_high": [0.0],
                               "is_reference": [True]})
        out = pd.concat([out, refrow], ignore_index=True)
    return out.sort_values("rel_time", kind="stable").reset_index(drop=True)


def _rel_from_names(names) -> np.ndarray:
    return np.array([int(float(str(n).split("::")[-1])) for n in names], dtype=np.int64)


def _twfe(df, y, unit, time, cluster, z):
    import pyfixest as pf

    label = LABELS["twfe"]
    vc = {"CRV1": "_cl"}
    fit = pf.feols("_y ~ _treat | _unit+_time", data=df, vcov=vc)
    b, s = fit.coef()["_treat"], fit.se()["_treat"]
    rows = [_row(label, "overall", b, s, z, fit._N)]
    fit_es = pf.feols(f"_y ~ i(_rel, ref={REF_REL}) | _unit+_time", data=df, vcov=vc)
    co, se = fit_es.coef(), fit_es.se()
    es = _es_frame(label, _rel_from_names(co.index), co.values, se.values, z, ref=True)
    return rows, es, {"static": fit, "event": fit_es}


def _callaway_santanna(df, y, unit, time, cluster, control, label, alpha, z):
    from csdid.att_gt import ATTgt

    d = df[["_y", "_uid", "_time", "_g0", "_cl"]].copy()
    clustervar = None if df.attrs["names"]["cluster"] == df.attrs["names"]["unit"] else "_cl"
    if clustervar is not None and d.groupby("_uid")["_cl"].nunique().gt(1).any():
        raise ValueError("the cluster variable varies within unit; Callaway-Sant'Anna needs a "
                         "cluster level at or above the unit")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), warnings.catch_warnings():
        # csdid prints its tables and warns about dropped small groups; the result carries all
        warnings.simplefilter("ignore", UserWarning)
        att = ATTgt(yname="_y", tname="_time", idname="_uid", gname="_g0", data=d,
                    control_group=control, clustervar=clustervar, alp=alpha)
        att.fit(est_method="dr", base_period="varying", bstrap=False)
        aggs = {k: att.aggte(k, bstrap=False, alp=alpha).atte
                for k in ("simple", "group", "dynamic")}
    n = int(att.dp["n"]) * len(att.dp["tlist"])
    rows = [_row(label, k, a["overall_att"], a["overall_se"], z, n) for k, a in aggs.items()]
    dyn = aggs["dynamic"]
    es = _es_frame(label, dyn["egt"], dyn["att_egt"], np.asarray(dyn["se_egt"]).ravel(), z,
                   ref=False)
    return rows, es, {"att_gt": att, **aggs}


def _sun_abraham(df, y, unit, time, cluster, z):
    import pyfixest as pf

    label = LABELS["sun_abraham"]
    treated = np.isfinite(df["_g"]).to_numpy()
    cellkey = np.where(treated & (df["_rel"].to_numpy() != REF_REL),
                       df["_g0"].astype(str) + "_" + df["_rel"].astype(str), "ref")
    codes, uniques = pd.factorize(pd.Series(cellkey), sort=True)
    ref_code = int(np.flatnonzero(uniques == "ref")[0])
    d = df[["_y", "_unit", "_time", "_cl"]].copy()
    d["_cell"] = codes
    fit = pf.feols(f"_y ~ i(_cell, ref={ref_code}) | _unit+_time", data=d, vcov={"CRV1": "_cl"})
    coef = fit.coef()
    V = pd.DataFrame(fit._vcov, index=coef.index, columns=coef.index)
    code_of = np.array([int(float(str(n).split("::")[-1])) for n in coef.index])
    keys = uniques[code_of]
    g_of = np.array([int(k.split("_")[0]) for k in keys])
    e_of = np.array([int(k.split("_")[1]) for k in keys])
    # cell sizes: number of treated observations in each (cohort, rel) cell
    cnt = pd.Series(cellkey).value_counts()
    n_cell = cnt.reindex(keys).to_numpy(float)
    b = coef.to_numpy()
    rels, est, ses = [], [], []
    for e in np.unique(e_of):
        m = e_of == e
        w = np.zeros(len(b))
        w[m] = n_cell[m] / n_cell[m].sum()  # cohort shares among units observed at e
        rels.append(e)
        est.append(w @ b)
        ses.append(np.sqrt(w @ V.to_numpy() @ w))
    post = e_of >= 0
    w = np.where(post, n_cell, 0.0)
    w /= w.sum()
    overall = w @ b
    se_overall = np.sqrt(w @ V.to_numpy() @ w)
    rows = [_row(label, "overall", overall, se_overall, z, fit._N)]
    es = _es_frame(label, rels, est, ses, z, ref=True)
    return rows, es, {"saturated": fit, "cells": pd.DataFrame({"cohort": g_of, "rel": e_of,
                                                                "n": n_cell, "coef": b})}


def _imputation(df, y, unit, time, cluster, z, notes):
    label = LABELS["imputation"]
    d = df
    untreated = d["_treat"].to_numpy() == 0
    # periods with no untreated observation cannot be imputed
    ok_t = d.loc[untreated, "_time"].unique()
    keep = d["_time"].isin(ok_t).to_numpy()
    if not keep.all():
        lost = sorted(set(d["_time"]) - set(ok_t))
        notes.append(f"imputation: periods {lost} have no untreated unit and are dropped")
        d = d[keep].reset_index(drop=True)
        untreated = d["_treat"].to_numpy() == 0
    treat = d["_treat"].to_numpy()
    x_static = treat.reshape(-1, 1)
    rel = d["_rel"].to_numpy()
    is_tr = np.isfinite(d["_g"]).to_numpy()
    rel_vals = np.unique(rel[is_tr & (rel != REF_REL)])
    x_dyn = ((rel[:, None] == rel_vals[None, :]) & is_tr[:, None]).astype(float)
    b0, se0, fit_info = _two_stage(d, untreated, x_static)
    b1, se1, _ = _two_stage(d, untreated, x_dyn)
    rows = [_row(label, "overall", b0[0], se0[0], z, len(d))]
    es = _es_frame(label, rel_vals, b1, se1, z, ref=True)
    return rows, es, fit_info


def _two_stage(d: pd.DataFrame, untreated: np.ndarray, x2: np.ndarray):
    """Gardner two-stage DiD with the GMM cluster-robust variance (sparse first stage).

    Stage 1: OLS of y on unit and time dummies over untreated rows. Stage 2: OLS of the stage-1
    residual on ``x2`` over all rows (no intercept). Variance (Gardner 2022, section 3; Butts
    and Gardner 2022, did2s): :math:`(X_2'X_2)^{-1}\\sum_c W_cW_c'(X_2'X_2)^{-1}` with
    :math:`W_c = X_{2c}'e_{2c} - X_2'X_1(X_{10}'X_{10})^{-1}X_{10c}'e_{1c}`, with
    no small-sample factor, as in R ``did2s`` and ``pyfixest.did2s``.
    """
    n = len(d)
    u = d["_uid"].to_numpy()
    tcodes = pd.factorize(d["_time"], sort=True)[0]
    n_u, n_t = u.max() + 1, tcodes.max() + 1
    # X1: unit dummies and time dummies (first period dropped), sparse
    rows = np.concatenate([np.arange(n), np.flatnonzero(tcodes > 0)])
    cols = np.concatenate([u, n_u + tcodes[tcodes > 0] - 1])
    X1 = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n_u + n_t - 1))
    w0 = untreated.astype(float)
    X10 = sp.diags(w0) @ X1
    A = (X10.T @ X10).tocsc()
    lu = splu(A)
    yv = d["_y"].to_numpy(float)
    gamma = lu.solve(np.asarray(X10.T @ yv).ravel())
    e1_all = yv - X1 @ gamma  # y minus imputed Y(0), all rows
    e1 = e1_all * w0  # first-stage residual, untreated rows only
    XtX2 = x2.T @ x2
    if np.linalg.matrix_rank(XtX2) < x2.shape[1]:
        raise ValueError("imputation: the treatment indicators are collinear; check the cohorts")
    beta = np.linalg.solve(XtX2, x2.T @ e1_all)
    e2 = e1_all - x2 @ beta
    # B = (X10'X10)^{-1} X1'X2, shape (p1, k)
    B = lu.solve(np.asarray(X1.T @ x2))
    B = B.reshape(X1.shape[1], -1)
    corr = np.asarray(X1 @ B) * e1[:, None]  # row contributions of the first-stage term
    contrib = x2 * e2[:, None] - corr
    cl = pd.factorize(d["_cl"])[0]
    G = cl.max() + 1
    S = np.zeros((G, x2.shape[1]))
    np.add.at(S, cl, contrib)
    bread = np.linalg.inv(XtX2)
    V = bread @ (S.T @ S) @ bread
    return beta, np.sqrt(np.diag(V)), {"beta": beta, "vcov": V, "n_clusters": G}

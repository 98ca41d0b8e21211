r"""Double/debiased machine learning for panels: PLR with fixed effects, and staggered DiD.

:func:`dml_plr` estimates the partially linear model

.. math:: \tilde Y_{it} = \theta \tilde D_{it} + g(\tilde X_{it}) + \varepsilon_{it}, \qquad
          \tilde D_{it} = m(\tilde X_{it}) + v_{it},

where the tilde is the within transform (unit and/or time means removed with pyfixest's
alternating-projections demeaning), so that fixed effects are partialled out before the learners
see the data (a dense dummy matrix of thousands of firms would be infeasible). Cross-fitting
(Chernozhukov et al. 2018) splits the sample by cluster when ``cluster`` is given (doubleml's
cluster data), and standard errors are cluster-robust. With a linear learner and no
regularisation bite this reproduces the TWFE regression.

:func:`dml_staggered` wraps doubleml's ``DoubleMLDIDMulti`` (Callaway-Sant'Anna group-time
effects with doubly robust ML nuisance estimates) and its aggregations.

doubleml draws its sample splits from NumPy's global random state; both functions seed it from
``seed`` and restore the caller's state afterwards, so results repeat exactly.

References
----------
Chernozhukov, V., Chetverikov, D., Demirer, M., Duflo, E., Hansen, C., Newey, W. and Robins, J.
(2018). Double/debiased machine learning for treatment and structural parameters.
*Econometrics Journal* 21(1), C1-C68.
Bach, P., Chernozhukov, V., Kurz, M. S. and Spindler, M. (2022). DoubleML - an object-oriented
implementation of double machine learning in Python. *JMLR* 23(53), 1-6.
Chang, N.-C. (2020). Double/debiased machine learning for difference-in-differences models.
*Econometrics Journal* 23(2), 177-191.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["DMLResult", "dml_plr", "dml_staggered"]

LEARNERS: tuple[str, ...] = ("lasso", "rf", "gbm", "ols")
N_JOBS = 2
"""Parallel jobs for random forests and cross-fitting (the book's machines have 2 cores)."""


@dataclass
class DMLResult:
    """Result of :func:`dml_plr` / :func:`dml_staggered`.

    Attributes
    ----------
    summary : pandas.DataFrame
        Tidy rows with ``coef``, ``se``, ``t``, ``p``, ``ci_low``, ``ci_high``, ``learner``,
        ``n_folds``, ``n_rep``, ``n`` (and ``term`` / ``aggregation`` for DiD).
    model : object
        The fitted doubleml object.
    """

    summary: pd.DataFrame
    model: object


def _doubleml():
    # doubleml imports optuna, whose tqdm.auto warns "IProgress not found" inside Jupyter when
    # ipywidgets is absent: a cosmetic warning, silenced for this import only
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import doubleml

    return doubleml


@contextlib.contextmanager
def _seeded(seed: int):
    # doubleml draws sample splits from NumPy's legacy global state: seed it, then restore
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _learners(learner: str, seed: int, classifier: bool = False, params: dict | None = None):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import (
        LassoCV,
        LinearRegression,
        LogisticRegression,
        LogisticRegressionCV,
    )

    if learner == "ols":
        reg, clf = LinearRegression(), LogisticRegression(max_iter=1000)
    elif learner == "lasso":
        reg = LassoCV(cv=5, random_state=seed, max_iter=5000)
        clf = LogisticRegressionCV(cv=5, max_iter=2000, random_state=seed)
    elif learner == "rf":
        # every feature is a split candidate (scikit-learn's regression default): with "sqrt" a
        # forest on a few controls often cannot split on the confounder, and the nuisance bias
        # passes into theta (issue 25: 0.90 against a truth of 0.5 in the DML primer's design)
        kw = {"n_estimators": 100, "min_samples_leaf": 5, "max_features": 1.0,
              "n_jobs": N_JOBS, "random_state": seed}
        reg, clf = RandomForestRegressor(**kw), RandomForestClassifier(**kw)
    elif learner == "gbm":
        kw = {"max_iter": 100, "learning_rate": 0.1, "max_leaf_nodes": 15,
              "early_stopping": False, "random_state": seed}
        reg, clf = HistGradientBoostingRegressor(**kw), HistGradientBoostingClassifier(**kw)
    else:
        raise ValueError(f"learner must be one of {list(LEARNERS)}, got {learner!r}")
    est = clf if classifier else reg
    if params:
        try:
            est.set_params(**params)
        except ValueError as err:
            raise ValueError(f"learner_params {sorted(params)} do not fit the {learner!r} learner "
                             f"({type(est).__name__}): {err}") from None
    return est


def _check(data, cols, cluster, keep_na=()):
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} missing from the data")
    cols = list(dict.fromkeys(cols))
    df = data[cols].dropna(subset=[c for c in cols if c not in keep_na]).reset_index(drop=True)
    if cluster is not None and df[cluster].nunique() < 2:
        raise ValueError(f"cluster variable {cluster!r} has a single cluster; cluster at a level "
                         "with at least two (ideally 30+) groups")
    return df


def dml_plr(
    data: pd.DataFrame,
    y: str,
    treatment: str | list[str],
    controls: list[str],
    unit: str,
    time: str | None = None,
    learner: str = "lasso",
    n_folds: int = 5,
    n_rep: int = 1,
    seed: int = 0,
    fe: str | None = "unit+time",
    cluster: str | None = "unit",
    alpha: float = 0.05,
    learner_params: dict | None = None,
) -> DMLResult:
    r"""DoubleML partially linear regression with fixed effects partialled out by demeaning.

    Parameters
    ----------
    data : pandas.DataFrame
    y : str
    treatment : str or list of str
        One treatment, or several (e.g. a policy dummy and its interaction with a moderator);
        with several, doubleml fits one PLR per treatment with the other treatments among the
        covariates of its nuisance functions, and ``.summary`` has one row per treatment.
    controls : list of str
        Covariates given to the learners (after the within transform). At least one.
    unit : str
        Unit identifier.
    time : str, optional
        Period column; required for ``fe="unit+time"`` and ``fe="time"``.
    learner : {"lasso", "rf", "gbm", "ols"}
        LassoCV (5 inner folds, 100 penalties); random forest (100 trees,
        ``min_samples_leaf=5``, every feature a split candidate, ``n_jobs=2``); histogram
        gradient boosting (100 iterations);
        plain least squares (``LinearRegression``: the linear limit of the model, fastest).
        Used for both nuisances.
    n_folds, n_rep : int
        Cross-fitting folds and repetitions.
    seed : int
        Seeds the learners and doubleml's sample splitting (NumPy global state, restored).
    fe : {"unit+time", "unit", "time", None}
        Fixed effects removed by the within transform before learning.
    cluster : str or None
        ``"unit"`` (default) clusters the folds and SEs by ``unit``; any other column name
        clusters by that column; ``None`` gives heteroskedasticity-robust SEs.
    alpha : float
        1 - confidence level.
    learner_params : dict, optional
        Parameters set on both scikit-learn learners (``set_params``), e.g.
        ``{"cv": 3, "alphas": 20}`` for a LassoCV about four times faster than the default, or
        ``{"n_estimators": 50}`` for a smaller forest.

    Returns
    -------
    DMLResult
        ``.summary`` one row per treatment (term, coef, se, t, p, ci_low, ci_high, learner,
        n_folds, n_rep, fe, n) and ``.model`` (the fitted ``doubleml.DoubleMLPLR``).

    Raises
    ------
    ValueError
        Missing column, no controls, a treatment that never varies (also after demeaning),
        a treatment repeated or among the controls, unknown learner or ``fe``, learner
        parameters the learner does not have, one cluster, ``n_folds < 2``.

    References
    ----------
    Chernozhukov et al. (2018), Econometrics Journal 21(1), C1-C68, section 4 (PLR,
    partialling-out score, eq. 4.4).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"f": np.repeat(range(50), 4), "t": np.tile(range(4), 50),
    ...                    "x": rng.normal(size=200)})
    >>> df["d"] = df.x + rng.normal(size=200); df["y"] = 0.5 * df.d + df.x + rng.normal(size=200)
    >>> res = dml_plr(df, "y", "d", ["x"], unit="f", time="t")
    >>> round(res.summary.coef.item(), 1)
    0.5
    >>> round(dml_plr(df, "y", "d", ["x"], unit="f", time="t", learner="ols").summary.coef.item(), 1)
    0.5
    """
    dml = _doubleml()
    from pyfixest.estimation import demean

    if isinstance(controls, str):
        controls = [controls]
    treatments = [treatment] if isinstance(treatment, str) else list(treatment)
    if not treatments:
        raise ValueError("treatment is empty; pass a column name or a list of column names")
    if len(set(treatments)) < len(treatments):
        raise ValueError(f"treatment {treatments} repeats a column; list each treatment once")
    if not controls:
        raise ValueError("controls is empty; DoubleML needs at least one covariate for the "
                         "learners")
    both = sorted(set(treatments) & set(controls))
    if both:
        raise ValueError(f"{both} is both a treatment and a control; drop it from controls")
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {list(LEARNERS)}, got {learner!r}")
    if fe not in ("unit+time", "unit", "time", None):
        raise ValueError(f"fe must be 'unit+time', 'unit', 'time' or None, got {fe!r}")
    if fe in ("unit+time", "time") and time is None:
        raise ValueError(f"fe={fe!r} needs the `time` column; pass time=... or fe='unit'")
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    ml_l = _learners(learner, seed, params=learner_params)
    ml_m = _learners(learner, seed, params=learner_params)
    cl = unit if cluster == "unit" else cluster
    cols = [y, *treatments, *controls, unit] + ([time] if time else []) + ([cl] if cl else [])
    df = _check(data, cols, cl)
    for d in treatments:
        if df[d].nunique() < 2:
            raise ValueError(f"treatment {d!r} never varies; nothing to estimate")
    vars_ = [y, *treatments, *controls]
    Z = df[vars_].to_numpy(np.float64)
    if fe is not None:
        fe_cols = {"unit+time": [unit, time], "unit": [unit], "time": [time]}[fe]
        fl = np.column_stack([pd.factorize(df[c])[0] for c in fe_cols]).astype(np.uint64)
        Z, converged = demean(Z, fl, np.ones(len(df)), tol=1e-10)
        if not converged:
            raise ValueError("the within transform did not converge; check the fixed effects")
    dm = pd.DataFrame(Z, columns=vars_)
    for d in treatments:
        if np.allclose(dm[d].to_numpy(), 0, atol=1e-10):
            raise ValueError(f"treatment {d!r} has no variation left after removing the "
                             f"{fe} fixed effects")
    d_cols = treatments[0] if len(treatments) == 1 else treatments
    if cl is not None:
        dm["_cluster"] = pd.factorize(df[cl])[0]
        data_obj = dml.DoubleMLData(dm, y_col=y, d_cols=d_cols, x_cols=controls,
                                    cluster_cols="_cluster")
    else:
        data_obj = dml.DoubleMLData(dm, y_col=y, d_cols=d_cols, x_cols=controls)
    with _seeded(seed):
        model = dml.DoubleMLPLR(data_obj, ml_l=ml_l, ml_m=ml_m, n_folds=n_folds, n_rep=n_rep)
        model.fit()
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for k, d in enumerate(treatments):
        coef, se = float(model.coef[k]), float(model.se[k])
        rows.append({
            "term": d, "coef": coef, "se": se, "t": coef / se,
            "p": float(2 * stats.norm.sf(abs(coef / se))), "ci_low": coef - z * se,
            "ci_high": coef + z * se, "learner": learner, "n_folds": n_folds, "n_rep": n_rep,
            "fe": fe or "none", "n": len(df)})
    return DMLResult(summary=pd.DataFrame(rows), model=model)


def dml_staggered(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    cohort: str,
    controls: list[str] | None = None,
    learner: str = "linear",
    control_group: str = "never_treated",
    n_folds: int = 5,
    seed: int = 0,
    alpha: float = 0.05,
) -> DMLResult:
    r"""Staggered DiD with ML nuisances: doubleml ``DoubleMLDIDMulti`` and its aggregations.

    Estimates the Callaway-Sant'Anna group-time effects :math:`ATT(g,t)` with the doubly robust
    score of Sant'Anna and Zhao (2020) and cross-fitted outcome and propensity models, then
    aggregates them (``"group"``, ``"time"``, ``"eventstudy"``).

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced long panel.
    y, unit, time : str
    cohort : str
        First treated period; never-treated coded ``0``, ``NaN`` or ``inf`` (recoded to
        ``np.inf`` as doubleml requires).
    controls : list of str, optional
        Covariates (time-invariant or pre-treatment). When empty a constant is used, since
        doubleml needs at least one column.
    learner : {"linear", "lasso", "rf", "gbm"}
        ``"linear"``: OLS outcome model and logit propensity (reproduces the doubly robust
        Callaway-Sant'Anna estimator up to cross-fitting).
    control_group : {"never_treated", "not_yet_treated"}
    n_folds : int
    seed : int
        Seeds doubleml's sample splitting (NumPy global state, restored) and the learners.
    alpha : float

    Returns
    -------
    DMLResult
        ``.summary`` rows ``aggregation`` ("overall" from each aggregation, and ``"eventstudy"``
        rows by event time in ``term``), with coef, se, t, p, ci_low, ci_high, learner,
        n_folds; ``.model`` the fitted ``DoubleMLDIDMulti``.

    Raises
    ------
    ValueError
        Missing column, no treated unit, no never-treated units with
        ``control_group="never_treated"``, unknown learner or control group.

    References
    ----------
    Callaway and Sant'Anna (2021); Chang (2020); doubleml user guide, "DiD for panel data
    with multiple periods".

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> g = np.repeat(rng.choice([3, 5, 0], 200), 6)
    >>> df = pd.DataFrame({"i": np.repeat(range(200), 6), "t": np.tile(range(1, 7), 200), "g": g})
    >>> df["y"] = ((df.g > 0) & (df.t >= df.g)) * 1.0 + rng.normal(size=len(df))
    >>> res = dml_staggered(df, "y", "i", "t", "g", n_folds=2)
    >>> "eventstudy" in set(res.summary.aggregation)
    True
    """
    dml = _doubleml()
    from doubleml.did import DoubleMLDIDMulti
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if control_group not in ("never_treated", "not_yet_treated"):
        raise ValueError("control_group must be 'never_treated' or 'not_yet_treated', got "
                         f"{control_group!r}")
    if learner not in ("linear", *LEARNERS):
        raise ValueError(f"learner must be 'linear' or one of {list(LEARNERS)}, got {learner!r}")
    controls = list(controls or [])
    df = _check(data, [y, unit, time, cohort, *controls], None, keep_na=(cohort,))
    g = pd.to_numeric(df[cohort], errors="coerce").astype(float)
    g = g.where(np.isfinite(g) & (g != 0), np.inf)
    tmax = df[time].max()
    g[g > tmax] = np.inf
    if not np.isfinite(g).any():
        raise ValueError(f"no unit is ever treated in the sample ({cohort!r}); the treatment "
                         "never varies")
    if control_group == "never_treated" and np.isfinite(g).all():
        raise ValueError("no never-treated units; use control_group='not_yet_treated'")
    d = df[[y, unit, time, *controls]].copy()
    d[time] = d[time].astype(np.int64)
    d["_g"] = g.to_numpy()
    if not controls:
        d["_const"] = 1.0
        controls = ["_const"]
    pdata = dml.DoubleMLPanelData(d, y_col=y, d_cols="_g", id_col=unit, t_col=time,
                                  x_cols=controls)
    if learner == "linear":
        ml_g, ml_m = LinearRegression(), LogisticRegression(max_iter=1000)
    else:
        ml_g, ml_m = _learners(learner, seed), _learners(learner, seed, classifier=True)
    with _seeded(seed):
        model = DoubleMLDIDMulti(pdata, ml_g=ml_g, ml_m=ml_m, control_group=control_group,
                                 gt_combinations="standard", n_folds=n_folds)
        model.fit()
    rows = []
    z = stats.norm.ppf(1 - alpha / 2)
    for agg in ("group", "time", "eventstudy"):
        a = model.aggregate(agg)
        o = a.overall_aggregated_framework
        rows.append(("overall", agg, float(o.thetas[0]), float(o.ses[0])))
        if agg == "eventstudy":
            fr = a.aggregated_frameworks
            names = list(a.aggregation_names)
            for k, nm in enumerate(names):
                rows.append((str(nm), agg, float(fr.thetas[k]), float(fr.ses[k])))
    out = pd.DataFrame(rows, columns=["term", "aggregation", "coef", "se"])
    out["t"] = out.coef / out.se
    out["p"] = 2 * stats.norm.sf(np.abs(out.t))
    out["ci_low"] = out.coef - z * out.se
    out["ci_high"] = out.coef + z * out.se
    out["learner"] = learner
    out["n_folds"] = n_folds
    out["n"] = len(d)
    return DMLResult(summary=out, model=model)

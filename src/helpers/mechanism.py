r"""Mechanism tests: "policy -> channel" regressions and the three-equation mediation triangle.

Identification caveats (read before using :func:`mediation`)
------------------------------------------------------------
* The three-step method (Baron and Kenny 1986) identifies the indirect effect :math:`a\,b` only
  under **sequential ignorability** (Imai, Keele and Yamamoto 2010): the treatment is as good as
  random given the controls *and* the mediator is as good as random given treatment and
  controls. A DiD or IV design makes the treatment exogenous but says nothing about the
  mediator; any confounder of mediator and outcome biases :math:`b`, :math:`c'` and the
  "mediated share".
* 江艇 (2022), 《因果推断经验研究中的中介效应分析》, 《中国工业经济》 2022(5): 100-120, argues that
  Chinese empirical papers should in general *not* run the third step (outcome on treatment and
  mediator); instead show the causal effect of the policy on the channel (step 2, here
  :func:`channel_regressions`) where the channel's effect on the outcome is evident from theory
  or prior literature. :func:`mediation` is provided to reproduce papers that report the
  triangle, with Sobel and bootstrap inference, not as an endorsement of it.
* With OLS on one sample and the same controls the decomposition is exact:
  :math:`c = c' + a\,b` (total = direct + indirect).

References
----------
Baron, R. M. and Kenny, D. A. (1986). J. Personality and Social Psychology 51(6), 1173-1182.
Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
models. *Sociological Methodology* 13, 290-312.
Imai, K., Keele, L. and Yamamoto, T. (2010). Identification, inference and sensitivity analysis
for causal mediation effects. *Statistical Science* 25(1), 51-71.
江艇 (2022). 因果推断经验研究中的中介效应分析. 《中国工业经济》 (5), 100-120.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["MediationResult", "channel_regressions", "mediation"]

MIN_TAIL_DRAWS = 5
"""A percentile interval needs at least this many bootstrap draws in each tail."""


def _rhs(terms: list[str]) -> str:
    return " + ".join(terms) if terms else "1"


def _formula(lhs: str, terms: list[str], fe: str | None) -> str:
    f = f"{lhs} ~ {_rhs(terms)}"
    return f"{f} | {fe.replace(' ', '')}" if fe else f


def _vcov(cluster: str | None):
    return {"CRV1": cluster} if cluster else "hetero"


def _drop_singletons(df: pd.DataFrame, fe: str | None) -> pd.DataFrame:
    """Drop observations that are alone in a fixed-effect group, repeatedly until none is.

    pyfixest drops such singletons when it fits, so without this step the three equations and the
    partialled-out residuals of :func:`mediation` would not line up row by row.
    """
    if not fe:
        return df
    groups = [part.replace(" ", "").split("^") for part in fe.split("+") if part.strip()]
    while True:
        keep = np.ones(len(df), dtype=bool)
        for cols in groups:
            keep &= df.groupby(cols)[cols[0]].transform("size").to_numpy() > 1
        if keep.all():
            return df
        df = df.loc[keep]


def _fe_columns(fe: str | None) -> list[str]:
    if not fe:
        return []
    out: list[str] = []
    for part in fe.replace(" ", "").split("+"):
        out += [p for p in part.split("^") if p]
    return out


def _check_frame(data, cols: list[str], cluster: str | None) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame")
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} missing from the data; check the spelling or "
                         "merge them in first")
    df = data[list(dict.fromkeys(cols))].dropna().reset_index(drop=True)
    if df.empty:
        raise ValueError("no complete rows left after dropping missing values")
    if cluster and df[cluster].nunique() < 2:
        raise ValueError(f"cluster variable {cluster!r} has a single cluster; cluster at a level "
                         "with at least two (ideally 30+) groups, or pass cluster=None")
    return df


def _check_varies(df: pd.DataFrame, col: str, role: str) -> None:
    if df[col].nunique() < 2:
        raise ValueError(f"{role} {col!r} never varies in the estimation sample; nothing to "
                         "estimate")


def channel_regressions(
    data: pd.DataFrame,
    policy: str,
    channels: list[str],
    controls: list[str] | None = None,
    fe: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    r"""Regress each channel (mechanism variable) on the policy: one pyfixest model per channel.

    .. math:: M_{k,it} = a_k D_{it} + X_{it}'\gamma_k + \mu_i + \lambda_t + e_{k,it}

    This is the "policy -> channel" step that 江艇 (2022) recommends in place of the three-step
    mediation test (see the module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
    policy : str
        Treatment (e.g. the DiD dummy).
    channels : list of str
        Mechanism variables, one regression each.
    controls : list of str, optional
    fe : str, optional
        pyfixest fixed effects, written without spaces, e.g. ``"firm+year"``.
    cluster : str, optional
        Cluster variable (CRV1); heteroskedasticity-robust SEs when ``None``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per channel: ``channel``, ``coef``, ``se``, ``t``, ``p``, ``ci_low``,
        ``ci_high``, ``n``. The fitted models are in ``.attrs["models"]`` (dict by channel).

    Raises
    ------
    ValueError
        Missing column, empty ``channels``, a policy that never varies, one cluster.

    References
    ----------
    江艇 (2022), 《中国工业经济》 (5), 100-120, section 4.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"d": rng.integers(0, 2, 200).astype(float)})
    >>> df["m"] = 0.5 * df.d + rng.normal(size=200)
    >>> channel_regressions(df, "d", ["m"])["coef"].round(1).tolist()
    [0.5]
    """
    import pyfixest as pf

    if isinstance(channels, str):
        channels = [channels]
    if not channels:
        raise ValueError("channels is empty; pass a list of mechanism variables")
    controls = list(controls or [])
    rows, models = [], {}
    z = stats.norm.ppf(1 - alpha / 2)
    for ch in channels:
        cols = [ch, policy, *controls, *_fe_columns(fe)] + ([cluster] if cluster else [])
        df = _check_frame(data, cols, cluster)
        _check_varies(df, policy, "policy")
        fit = pf.feols(_formula(ch, [policy, *controls], fe), data=df, vcov=_vcov(cluster))
        b, s = float(fit.coef()[policy]), float(fit.se()[policy])
        p = float(fit.pvalue()[policy])
        crit = stats.t.ppf(1 - alpha / 2, fit._df_t) if np.isfinite(fit._df_t) else z
        rows.append({"channel": ch, "coef": b, "se": s, "t": b / s, "p": p,
                     "ci_low": b - crit * s, "ci_high": b + crit * s, "n": int(fit._N)})
        models[ch] = fit
    out = pd.DataFrame(rows)
    out.attrs["models"] = models
    return out


@dataclass
class MediationResult:
    """Result of :func:`mediation`.

    Attributes
    ----------
    paths : pandas.DataFrame
        ``path`` (c, a, b, c'), ``equation``, ``coef``, ``se``, ``p``.
    effects : pandas.DataFrame
        ``effect`` (total, direct, indirect, share_mediated), ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``p``, ``method``.
    boot : numpy.ndarray
        Bootstrap draws, columns (indirect a*b, mediated share).
    models : dict
        The three pyfixest fits, keyed ``"total"``, ``"mediator"``, ``"outcome"``.
    """

    paths: pd.DataFrame
    effects: pd.DataFrame
    boot: np.ndarray
    models: dict = field(default_factory=dict)


def mediation(
    data: pd.DataFrame,
    y: str,
    treatment: str,
    mediator: str,
    controls: list[str] | None = None,
    fe: str | None = None,
    cluster: str | None = None,
    n_boot: int = 999,
    seed: int = 0,
    alpha: float = 0.05,
) -> MediationResult:
    r"""Three-equation mediation (Baron-Kenny) with Sobel and cluster-bootstrap inference.

    .. math::
        Y &= c\,D + X'\beta_1 + FE + e_1 \\
        M &= a\,D + X'\beta_2 + FE + e_2 \\
        Y &= c'\,D + b\,M + X'\beta_3 + FE + e_3

    Indirect effect :math:`a\,b`, direct effect :math:`c'`, total :math:`c = c' + a b`, mediated
    share :math:`a b / c`. Sobel (1982): :math:`se(ab)=\sqrt{b^2 se_a^2 + a^2 se_b^2}`. The
    bootstrap resamples clusters (or rows when ``cluster=None``) with replacement and
    recomputes :math:`a`, :math:`b` and :math:`c` from the treatment, mediator and outcome after
    the fixed effects and controls have been partialled out once on the full sample
    (Frisch-Waugh-Lovell); the percentile interval is reported. Holding the partialled-out
    nuisance part fixed keeps 999 draws to a fraction of a second; it ignores the sampling
    noise of the fixed effects, which is small relative to that of :math:`a` and :math:`b` when
    groups are large. Read the identification caveats in the module docstring.

    Parameters
    ----------
    data : pandas.DataFrame
    y, treatment, mediator : str
    controls : list of str, optional
    fe : str, optional
        pyfixest fixed effects without spaces, e.g. ``"firm+year"``.
    cluster : str, optional
        Cluster variable for the SEs and the bootstrap; heteroskedasticity-robust otherwise.
    n_boot : int
        Bootstrap draws; at least ``MIN_TAIL_DRAWS * 2 / alpha`` (200 at 5 %).
    seed : int
        Seed of ``numpy.random.default_rng``.
    alpha : float
        1 - confidence level.

    Returns
    -------
    MediationResult

    Raises
    ------
    ValueError
        Missing column, a treatment or mediator that never varies, the mediator equal to the
        outcome or treatment, one cluster, too few bootstrap draws.

    References
    ----------
    Baron and Kenny (1986); Sobel (1982); 江艇 (2022) 《中国工业经济》 (5): 100-120.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> d = rng.normal(size=500); m = 0.5 * d + rng.normal(size=500)
    >>> df = pd.DataFrame({"d": d, "m": m, "y": 0.3 * d + 0.8 * m + rng.normal(size=500)})
    >>> res = mediation(df, "y", "d", "m", n_boot=200, seed=0)
    >>> round(float(res.effects.query("method == 'Sobel'")["estimate"].iloc[0]), 1)
    0.4
    """
    import pyfixest as pf

    if len({y, treatment, mediator}) < 3:
        raise ValueError("y, treatment and mediator must be three different columns")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    need = int(np.ceil(MIN_TAIL_DRAWS * 2 / alpha))
    if n_boot < need:
        raise ValueError(f"n_boot={n_boot} is too few for a {1 - alpha:.0%} percentile interval; "
                         f"use at least {need} draws ({MIN_TAIL_DRAWS} in each tail)")
    controls = list(controls or [])
    cols = [y, treatment, mediator, *controls, *_fe_columns(fe)] + ([cluster] if cluster else [])
    df = _drop_singletons(_check_frame(data, cols, cluster), fe)
    _check_varies(df, treatment, "treatment")
    _check_varies(df, mediator, "mediator")
    vc = _vcov(cluster)
    m_total = pf.feols(_formula(y, [treatment, *controls], fe), data=df, vcov=vc)
    m_med = pf.feols(_formula(mediator, [treatment, *controls], fe), data=df, vcov=vc)
    m_out = pf.feols(_formula(y, [treatment, mediator, *controls], fe), data=df, vcov=vc)
    c, se_c, p_c = (float(m_total.coef()[treatment]), float(m_total.se()[treatment]),
                    float(m_total.pvalue()[treatment]))
    a, se_a, p_a = (float(m_med.coef()[treatment]), float(m_med.se()[treatment]),
                    float(m_med.pvalue()[treatment]))
    b, se_b, p_b = (float(m_out.coef()[mediator]), float(m_out.se()[mediator]),
                    float(m_out.pvalue()[mediator]))
    cp, se_cp, p_cp = (float(m_out.coef()[treatment]), float(m_out.se()[treatment]),
                       float(m_out.pvalue()[treatment]))
    paths = pd.DataFrame({
        "path": ["c", "a", "b", "c'"],
        "equation": [f"{y} ~ {treatment}", f"{mediator} ~ {treatment}",
                     f"{y} ~ {mediator}", f"{y} ~ {treatment}"],
        "coef": [c, a, b, cp], "se": [se_c, se_a, se_b, se_cp], "p": [p_c, p_a, p_b, p_cp]})

    # FWL: partial FE and controls out of y, D, M once
    resid = {}
    for v in (y, treatment, mediator):
        r = pf.feols(_formula(v, controls, fe), data=df).resid() if (controls or fe) else \
            (df[v] - df[v].mean()).to_numpy()
        resid[v] = np.asarray(r, dtype=float)
    R = np.column_stack([resid[y], resid[treatment], resid[mediator]])
    ids = pd.factorize(df[cluster])[0] if cluster else np.arange(len(df))
    boot = _cluster_bootstrap(R, ids, n_boot, seed)

    z = stats.norm.ppf(1 - alpha / 2)
    ab = a * b
    se_sobel = float(np.sqrt(b**2 * se_a**2 + a**2 * se_b**2))
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    tail = min(np.sum(boot[:, 0] <= 0), np.sum(boot[:, 0] >= 0))
    p_boot = float(min(1.0, 2 * (1 + tail) / (n_boot + 1)))
    share = ab / c if c != 0 else np.nan
    effects = pd.DataFrame([
        {"effect": "total", "estimate": c, "se": se_c, "ci_low": c - z * se_c,
         "ci_high": c + z * se_c, "p": p_c, "method": "regression"},
        {"effect": "direct", "estimate": cp, "se": se_cp, "ci_low": cp - z * se_cp,
         "ci_high": cp + z * se_cp, "p": p_cp, "method": "regression"},
        {"effect": "indirect", "estimate": ab, "se": se_sobel, "ci_low": ab - z * se_sobel,
         "ci_high": ab + z * se_sobel, "p": float(2 * stats.norm.sf(abs(ab) / se_sobel)),
         "method": "Sobel"},
        {"effect": "indirect", "estimate": ab, "se": float(np.std(boot[:, 0], ddof=1)),
         "ci_low": float(lo[0]), "ci_high": float(hi[0]), "p": p_boot,
         "method": "bootstrap percentile"},
        {"effect": "share_mediated", "estimate": share, "se": float(np.std(boot[:, 1], ddof=1)),
         "ci_low": float(lo[1]), "ci_high": float(hi[1]), "p": np.nan,
         "method": "bootstrap percentile"},
    ])
    return MediationResult(paths=paths, effects=effects, boot=boot,
                           models={"total": m_total, "mediator": m_med, "outcome": m_out})


def _cluster_bootstrap(R: np.ndarray, ids: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Draws of (a*b, a*b/c) from cluster-resampled cross-products of partialled (y, d, m)."""
    rng = np.random.default_rng(seed)
    n_cl = ids.max() + 1
    # per-cluster cross-product matrices of (y, d, m): 3x3 each
    outer = np.einsum("ni,nj->nij", R, R)
    S = np.zeros((n_cl, 3, 3))
    np.add.at(S, ids, outer)
    draws = rng.integers(0, n_cl, size=(n_boot, n_cl))
    counts = np.zeros((n_boot, n_cl))
    np.add.at(counts, (np.repeat(np.arange(n_boot), n_cl), draws.ravel()), 1.0)
    M = np.einsum("bk,kij->bij", counts, S)  # bootstrap cross-product matrices
    syy, syd, sym = M[:, 0, 0], M[:, 0, 1], M[:, 0, 2]
    sdd, sdm, smm = M[:, 1, 1], M[:, 1, 2], M[:, 2, 2]
    del syy
    a = sdm / sdd
    c = syd / sdd
    det = sdd * smm - sdm**2
    b = (sdd * sym - sdm * syd) / det
    ab = a * b
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(c != 0, ab / c, np.nan)
    return np.column_stack([ab, share])

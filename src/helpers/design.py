r"""Design analysis of a reconstructed study: many replications, one design, diagnosands.

A simulated twin fixes the paper's design (sample, regressors, fixed effects, clusters) and
redraws only its random terms: ``Twin.redraw(R, seed)`` returns ``n x R`` replacement outcome
columns. This module estimates the paper's regression on every column and summarises how often
the design reproduces the published result, in the spirit of DeclareDesign's diagnosands.

* :func:`fit_many` -- OLS with 0-3 fixed effects on all ``R`` outcome columns at once, equal to
  a ``pyfixest.feols`` refit loop (same sample, small-sample corrections and p-values) but built
  once: the fixed-effect projection is factored once and applied to the ``n x R`` block.
  :func:`prepare_many` splits it: prepare once, then ``.fit`` chunk after chunk (with ``index=``,
  several designs on subsamples read one panel-wide block).
* :func:`iv_many` -- 2SLS (pyfixest's ``y ~ w | fe | x ~ z``) on all ``R`` outcome columns at
  once: given the design the 2SLS coefficient is linear in the outcome, so one projection serves
  every replication.
* :func:`refit_many` -- the replication loop for estimators without a fast path (GMM, DML,
  Callaway-Sant'Anna, PSM), run through joblib on the available cores.
* :func:`agreement` -- per replication and term, the verdicts of :mod:`helpers.report`
  (sign, star class, magnitude tolerance) against the published row.
* :func:`diagnose` -- per term: bias, SD, RMSE, mean SE, power, coverage, type-S rate and
  exaggeration ratio (Gelman and Carlin 2014), and the probabilities that a replication agrees
  with the published sign, stars and magnitude, each with its Monte Carlo standard error.
* :func:`diagnose_statistic` -- the same for a statistic without a standard error (a minimum,
  a growth rate of means): its spread and the probabilities of the published sign and size.

Typical use, with a twin that redraws its outcome and the paper's published rows::

    sims = fit_many(twin_data, "Y ~ lnAI + Size | firm+year", twin.redraw(1_000, seed),
                    vcov={"CRV1": "city"})
    table = diagnose(sims, truth, published=compare_table_rows)   # one row per term
    shares = agreement(sims, published=compare_table_rows)        # one row per replication/term

Monte Carlo standard errors (Morris, White and Crowther 2019, table 6), with :math:`R`
replications, :math:`\hat\theta_r` the estimates and :math:`\theta` the estimand: mean and bias
:math:`s/\sqrt R`; SD :math:`s/\sqrt{2(R-1)}`; MSE
:math:`\sqrt{\sum_r((\hat\theta_r-\theta)^2-\mathrm{MSE})^2/(R(R-1))}` and RMSE by the delta
method, MSE's MC SE over :math:`2\,\mathrm{RMSE}`; shares :math:`\sqrt{p(1-p)/m}` with :math:`m`
the number of replications the share is taken over; means (mean SE, exaggeration) the SD of the
averaged quantity over :math:`\sqrt m`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from helpers.report import _published_row, agreement_flags

__all__ = ["ManyDesign", "agreement", "diagnose", "diagnose_statistic", "fit_many", "iv_many",
           "prepare_iv_many", "prepare_many",
           "refit_many"]

_CHUNK_CELLS = 2_000_000
"""Outcome columns are processed in chunks of about this many cells (n x columns)."""
_SUMS_CELLS = 40_000_000
"""Largest block of per-level sums (levels x columns) the fast path holds at once."""
_MAX_DENSE_LEVELS = 3_000
"""Largest number of levels of the smaller fixed effects for the exact (Schur) projection;
above it the outcome block is demeaned by pyfixest's alternating projections (tol 1e-12)."""
_VCOV_NAMES = ("iid", "hetero", "HC1")
_KERNEL_MIN_ROWS = 100_000
"""Designs with at least this many rows (and no alternating-projection fallback) are fitted by the
compiled loops of :mod:`helpers._kernels` (numba): two passes over the outcome block, no ``N x R``
temporary and no GIL, five to ten times faster than the sparse products at the export chapter's
476,000 rows (``benchmarks/bench_design.py``). Smaller designs keep the sparse path, so they never
pay numba's import and first compilation."""


# --------------------------------------------------------------------------------------------
# fit_many
# --------------------------------------------------------------------------------------------


class _FixedEffects:
    """Exact projector :math:`M_D` onto the orthogonal complement of the fixed-effect dummies.

    The fixed effect with most levels is swept out by group means (:math:`M_1`); the others
    (dummies :math:`D_r`) by the Schur complement :math:`A = D_r' M_1 D_r` (pseudo-inverted once):
    :math:`M_D y = M_1 y - M_1 D_r A^{+} D_r' M_1 y`.
    """

    def __init__(self, codes: Sequence[np.ndarray]) -> None:
        codes = [np.unique(c, return_inverse=True)[1].astype(np.int64) for c in codes]
        codes.sort(key=lambda c: -(int(c.max()) + 1))
        self.n = len(codes[0])
        self.levels = [int(c.max()) + 1 for c in codes]
        g1 = codes[0]
        self.g1 = g1
        self.count1 = np.bincount(g1, minlength=self.levels[0]).astype(float)
        self.S1 = sp.csr_matrix(
            (np.ones(self.n), (g1, np.arange(self.n))), shape=(self.levels[0], self.n)
        )
        self.rest = codes[1:]
        self.mode = "sweep"
        if self.rest:
            n_rest = sum(self.levels[1:])
            self.codes = codes
            if n_rest > _MAX_DENSE_LEVELS:
                self.mode = "map"
                return
            self.mode = "schur"
            offsets = np.cumsum([0, *self.levels[1:-1]])
            cols = np.concatenate([c + o for c, o in zip(self.rest, offsets, strict=True)])
            rows = np.tile(np.arange(self.n), len(self.rest))
            self.Dr = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.n, n_rest))
            self.rest_cols = cols  # column of D_r per (fixed effect, row), stacked
            self.DrT = self.Dr.T.tocsr()
            self.S1Dr = (self.S1 @ self.Dr).tocsr()  # G1 x L_r: counts of level pairs
            self.S1Dr_scaled = sp.diags(1 / self.count1) @ self.S1Dr
            DrDr = self.DrT @ self.Dr
            A = (DrDr - self.S1Dr.T @ self.S1Dr_scaled).toarray()
            w, V = np.linalg.eigh((A + A.T) / 2)
            # rank by the scale of D_r'D_r (level counts): a fixed effect nested in the largest
            # one gives A = 0 up to rounding, which must not be inverted
            keep = w > float(DrDr.diagonal().max()) * max(A.shape) * 1e-12
            self.Apinv = (V[:, keep] / w[keep]) @ V[:, keep].T

    def coefficients(self, sums1: np.ndarray, sums_rest: np.ndarray) -> np.ndarray:
        """Fixed-effect coefficients of the outcome columns from their level sums.

        The regressors are already projected (orthogonal to every dummy), so the normal equations give
        ``D'D a = D'y``: group means of the largest fixed effect (``sums1``, its levels x R) and a Schur
        complement onto the others (``sums_rest``, their levels x R). Returns the coefficients stacked
        in the same level order (largest fixed effect first).
        """
        a1 = sums1 / self.count1[:, None]
        if self.mode != "schur":
            return a1
        ar = self.Apinv @ (sums_rest - self.S1Dr.T @ a1)
        return np.vstack([a1 - self.S1Dr_scaled @ ar, ar])

    def _sweep(self, Y: np.ndarray) -> np.ndarray:
        means = (self.S1 @ Y) / self.count1[:, None]
        return Y - means[self.g1]

    def apply(self, Y: np.ndarray) -> np.ndarray:
        """:math:`M_D Y` for an ``n x m`` block."""
        if self.mode == "map":
            from pyfixest.core.demean import demean

            flist = np.column_stack(self.codes).astype(np.uint64)
            out, ok = demean(
                np.ascontiguousarray(Y, dtype=np.float64), flist, np.ones(self.n), 1e-12, 100_000
            )
            if not ok:
                raise RuntimeError(
                    "fit_many: demeaning by alternating projections did not converge"
                )
            return out
        out = self._sweep(Y)
        if self.mode == "schur":
            out -= self._sweep(self.Dr @ (self.Apinv @ (self.DrT @ out)))
        return out


def _parse_formula(formula: str) -> str:
    if not isinstance(formula, str):
        raise ValueError(f"fit_many: formula must be a string, got {type(formula).__name__}")
    parts = formula.split("|")
    if len(parts) > 2:
        raise ValueError(
            "fit_many: instrumental-variable formulas (a second '|') have no fast path; use "
            "refit_many with pyfixest.feols"
        )
    if formula.count("~") != 1:
        raise ValueError(
            f"fit_many: formula must look like 'Y ~ x1 + x2 | fe1+fe2', got {formula!r}"
        )
    lhs, rhs = (s.strip() for s in parts[0].split("~"))
    if not lhs.isidentifier():
        raise ValueError(
            f"fit_many: the left-hand side must be one placeholder name (it is replaced by each "
            f"outcome column), got {lhs!r}"
        )
    return lhs


def _check_nan_pattern(Y: np.ndarray) -> None:
    """Every column must miss the same rows and hold no infinite value (one pass over Y)."""
    odd = np.flatnonzero(~np.isfinite(Y.sum(axis=1)))  # rows with a NaN or inf somewhere
    if odd.size == 0:
        return
    sub = Y[odd]
    if np.isinf(sub).any():
        raise ValueError("fit_many: outcomes contain infinite values")
    miss = np.isnan(sub)
    bad = np.flatnonzero((miss != miss[:, :1]).any(axis=0))
    if bad.size:
        raise ValueError(
            f"fit_many: the NaN pattern of outcome column(s) {bad[:5].tolist()} differs from "
            "column 0; every replication must miss the same rows (the design is fixed)"
        )


def _check_vcov(vcov: Any, data: pd.DataFrame) -> str | dict[str, str]:
    if vcov is None:
        return "iid"  # pyfixest 0.60's default, with or without fixed effects
    if isinstance(vcov, str):
        if vcov not in _VCOV_NAMES:
            raise ValueError(
                f"fit_many: vcov must be 'iid', 'hetero' (or 'HC1') or {{'CRV1': column}}, got "
                f"{vcov!r}"
            )
        return vcov
    if isinstance(vcov, Mapping) and len(vcov) == 1 and "CRV1" in vcov:
        col = vcov["CRV1"]
        if not isinstance(col, str) or "+" in col or "^" in col:
            raise ValueError(
                f"fit_many: {{'CRV1': column}} takes one cluster column name, got {col!r} "
                "(multiway clustering has no fast path; use refit_many)"
            )
        if col.strip() not in data.columns:
            raise ValueError(f"fit_many: the cluster column {col!r} is not in data")
        return {"CRV1": col.strip()}
    raise ValueError(
        f"fit_many: vcov must be 'iid', 'hetero' (or 'HC1') or {{'CRV1': column}}, got {vcov!r}"
    )


def _score_rows(k: int, G: int, cl: np.ndarray) -> np.ndarray:
    """Row of the stacked (coefficient, cluster) score matrix for each (coefficient, row)."""
    return np.add.outer(np.arange(k) * G, cl).ravel()


@dataclass
class _FastPlan:
    """The outcome-independent pieces of :func:`_fast_path`, built once per design."""

    N: int
    k: int
    G: int
    G1: int
    M: Any
    C: np.ndarray | None
    BD1: Any
    BDr: Any
    D: Any
    XX: np.ndarray | None


def _fast_plan(
    ntot: int,
    rows: np.ndarray,
    Xt: np.ndarray,
    proj: _FixedEffects | None,
    vtype: str,
    cl: np.ndarray | None,
    Xs: np.ndarray | None = None,
) -> _FastPlan:
    """Build the sparse operators of :func:`_fast_path` (they depend on the design only).

    ``Xs`` is the matrix of the estimating equations (see :func:`_explicit`): ``Xt`` for OLS, the
    first-stage fitted regressors for 2SLS. Score sums use ``Xs``, residuals ``Xt``.
    """
    N, k = Xt.shape
    Xs = Xt if Xs is None else Xs
    if vtype == "CRV1":
        G = int(cl.max()) + 1
        srow = _score_rows(k, G, cl)
    else:
        G = 1
        srow = np.repeat(np.arange(k), N)
    mats = [sp.csr_matrix((Xs.T.ravel(), (srow, np.tile(rows, k))), shape=(k * G, ntot))]
    G1 = 0
    if proj is not None:
        G1 = proj.levels[0]
        n_fe_rest = len(proj.rest)
        mats.append(sp.csr_matrix((np.ones(N), (proj.g1, rows)), shape=(G1, ntot)))
        if proj.mode == "schur":
            mats.append(
                sp.csr_matrix(
                    (np.ones(N * n_fe_rest), (proj.rest_cols, np.tile(rows, n_fe_rest))),
                    shape=(proj.Dr.shape[1], ntot),
                )
            )
    M = sp.vstack(mats, format="csr")
    C = BD1 = BDr = D = XX = None
    if vtype == "CRV1":
        # C: per cluster Xs_g'X_g stacked (k*G x k)
        C = np.zeros((k * G, k))
        for b in range(k):
            C[:, b] = np.bincount(
                srow, weights=np.tile(Xt[:, b], k) * Xs.T.ravel(), minlength=k * G
            )
        if proj is not None:
            BD1 = sp.csr_matrix((Xs.T.ravel(), (srow, np.tile(proj.g1, k))), shape=(k * G, G1))
            if proj.mode == "schur":
                n_fe_rest = len(proj.rest)
                BDr = sp.csr_matrix(
                    (
                        np.tile(Xs.T.ravel(), n_fe_rest),
                        (
                            np.tile(srow, n_fe_rest),
                            np.repeat(proj.rest_cols.reshape(n_fe_rest, N), k, axis=0).ravel(),
                        ),
                    ),
                    shape=(k * G, proj.Dr.shape[1]),
                )
    else:
        if proj is not None:
            D = (proj.S1.T.tocsr() if proj.mode != "schur"
                 else sp.hstack([proj.S1.T, proj.Dr], format="csr"))
        if vtype == "hetero":
            XX = np.einsum("ia,ib->iab", Xs, Xs).reshape(N, k * k)
    return _FastPlan(N=N, k=k, G=G, G1=G1, M=M, C=C, BD1=BD1, BDr=BDr, D=D, XX=XX)


def _fast_path(
    Yall: np.ndarray,
    rows: np.ndarray,
    Xt: np.ndarray,
    bread: np.ndarray,
    proj: _FixedEffects | None,
    vtype: str,
    plan: _FastPlan,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Coefficients and variances (before the small-sample factor) from one sparse pass.

    One stacked sparse product with the outcome block gives :math:`\tilde X' y` (per cluster
    for CRV1: :math:`B y` with :math:`B_{(a,g),i} = \tilde x_{ia}1[i\in g]`), the group sums
    :math:`S_1 y` of the largest fixed effect and :math:`D_r' y` of the others. From them the
    fixed-effect coefficients :math:`a_1, a_r` of the normal equations follow (Schur complement),
    so :math:`M_D y = y - D_1 a_1 - D_r a_r`. CRV1 needs no residuals: the cluster score is
    :math:`s_{ga} = (By)_{ga} - (B D_1 a_1)_{ga} - (B D_r a_r)_{ga} - (X_g'X_g\beta)_a`. iid and
    hetero form the residuals :math:`y - D a - \tilde X\beta` chunk by chunk. The operators come
    from :func:`_fast_plan`, built once per design.
    """
    N, k, G, G1 = plan.N, plan.k, plan.G, plan.G1
    R = Yall.shape[1]
    P = plan.M @ np.ascontiguousarray(Yall)
    By = P[: k * G]
    beta = bread @ By.reshape(k, G, R).sum(axis=1)
    fe_coef = None
    if proj is not None:
        fe_coef = proj.coefficients(P[k * G : k * G + G1], P[k * G + G1 :])
    if vtype == "CRV1":
        scores = By - plan.C @ beta
        if proj is not None:
            scores -= plan.BD1 @ fe_coef[:G1]
            if proj.mode == "schur":
                scores -= plan.BDr @ fe_coef[G1:]
        s = np.ascontiguousarray(scores.reshape(k, G, R).transpose(2, 0, 1))  # R x k x G
        meat = s @ s.transpose(0, 2, 1)                                     # batched BLAS: R x k x k
        return beta, np.einsum("ab,rbc,ca->ar", bread, meat, bread)
    # iid / hetero: residuals chunk by chunk
    var = np.empty((k, R))
    step = max(1, _CHUNK_CELLS // max(N, 1))
    for start in range(0, R, step):
        sl = slice(start, start + step)
        E = Yall[rows, sl] - Xt @ beta[:, sl]
        if proj is not None:
            E -= plan.D @ fe_coef[:, sl]
        if vtype == "iid":
            var[:, sl] = np.diag(bread)[:, None] * (np.einsum("ir,ir->r", E, E) / (N - 1))
        else:
            meat = ((E * E).T @ plan.XX).reshape(-1, k, k)
            var[:, sl] = np.einsum("ab,rbc,ca->ar", bread, meat, bread)
    return beta, var


def _explicit(
    Yall: np.ndarray,
    rows: np.ndarray,
    Xt: np.ndarray,
    bread: np.ndarray,
    proj: _FixedEffects | None,
    vtype: str,
    cl: np.ndarray | None,
    Xs: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Coefficients and variances (before the small-sample factor) from explicit residuals.

    ``Xs`` is the matrix of the estimating equations, :math:`\hat\beta = (X_s'\tilde X)^{-1}X_s'\tilde y`
    with scores :math:`x_{s,i}u_i`: ``Xt`` itself for OLS, the first-stage fitted regressors
    :math:`P_Z\tilde X` for 2SLS (``bread`` is then :math:`(X_s'\tilde X)^{-1}`).
    """
    N, k = Xt.shape
    R = Yall.shape[1]
    Xs = Xt if Xs is None else Xs
    if vtype == "CRV1":
        G = int(cl.max()) + 1
        B = sp.csr_matrix(
            (Xs.T.ravel(), (_score_rows(k, G, cl), np.tile(np.arange(N), k))), shape=(k * G, N)
        )
    elif vtype == "hetero":
        XX = np.einsum("ia,ib->iab", Xs, Xs).reshape(N, k * k)
    beta = np.empty((k, R))
    var = np.empty((k, R))
    step = max(1, _CHUNK_CELLS // max(N, 1))
    for start in range(0, R, step):
        Y = Yall[rows, start : start + step]
        Yt = proj.apply(Y) if proj is not None else Y
        b = bread @ (Xs.T @ Yt)
        E = Yt - Xt @ b
        if vtype == "iid":
            v = np.diag(bread)[:, None] * (np.einsum("ir,ir->r", E, E) / (N - 1))[None, :]
        else:
            if vtype == "hetero":
                meat = ((E * E).T @ XX).reshape(-1, k, k)
            else:
                scores = (B @ E).reshape(k, G, -1)
                meat = np.einsum("agr,bgr->rab", scores, scores)
            v = np.einsum("ab,rbc,ca->ar", bread, meat, bread)
        beta[:, start : start + step] = b
        var[:, start : start + step] = v
    return beta, var


def fit_many(
    data: pd.DataFrame,
    formula: str,
    outcomes: np.ndarray,
    *,
    vcov: str | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    r"""Fit one OLS design (0-3 fixed effects) to many outcome columns at once.

    Equivalent to ``pf.feols(formula, data.assign(Y=outcomes[:, r]), vcov=vcov)`` for every
    column ``r`` (``Y`` the formula's left-hand side), with pyfixest's defaults: singletons
    dropped (``fixef_rm="singleton"``), rows with a missing value in a regressor, fixed effect,
    cluster or the outcome dropped, small-sample factor ``(N-1)/(N-k)`` (``N/(N-k)`` for
    ``hetero``) with ``k`` counting the fixed effects not nested in the cluster
    (``ssc(k_fixef="nonnested")``) and ``G/(G-1)`` for clusters, t p-values with ``N-k`` (iid,
    hetero) or ``G-1`` (CRV1) degrees of freedom.

    Parameters
    ----------
    data : pandas.DataFrame
        The design: regressors, fixed effects and cluster column (``n`` rows). A column named
        like the formula's left-hand side, if any, is ignored.
    formula : str
        pyfixest syntax ``"Y ~ x1 + x2 | fe1+fe2"`` (0 to 3 fixed effects; without ``|`` the model
        has an intercept). ``Y`` is a placeholder for each outcome column.
    outcomes : numpy.ndarray
        ``n x R`` outcome columns, rows aligned with ``data``. Missing outcomes (NaN) must sit in
        the same rows in every column.
    vcov : {"iid", "hetero", "HC1"} or {"CRV1": column}, optional
        Variance estimator; default ``"iid"`` (pyfixest 0.60's default, also with fixed
        effects).

    Returns
    -------
    pandas.DataFrame
        ``R x k`` rows: ``replication`` (0..R-1), ``term``, ``estimate``, ``se``, ``tstat``,
        ``pvalue`` and ``df`` (the t degrees of freedom). ``attrs`` holds ``nobs``, ``vcov``
        and ``formula``.

    Raises
    ------
    ValueError
        For a malformed formula, an IV formula, ``outcomes`` that is not a finite-or-NaN
        ``n x R`` array, NaN patterns that differ across columns, an unknown ``vcov`` or a cluster
        column that is not in ``data``, or a model without coefficients.

    Notes
    -----
    The sample, the coefficient list (after pyfixest's collinearity check) and the small-sample
    factors come from one ``pf.feols`` fit on the first column. The rest is exact linear algebra
    on the whole block: :math:`\hat\beta = (\tilde X'\tilde X)^{-1}\tilde X'Y` with
    :math:`\tilde X = M_D X`. One sparse product with the block gives :math:`\tilde X'Y` (per
    cluster for CRV1) and the group sums of every fixed effect; the fixed-effect coefficients of
    all columns follow from a Schur complement onto the smaller fixed effects, factored once.
    CRV1 scores come from these sums without forming residuals; iid and hetero form the
    residuals chunk by chunk. Designs of 100,000 rows or more (``_KERNEL_MIN_ROWS``) do the same
    algebra in two compiled passes over the block (:mod:`helpers._kernels`): the sums, then each
    row's residual and the meat, with no ``n x R`` temporary; they release the GIL, so chunks of
    replications can be fitted in parallel threads. When the smaller fixed effects have more than
    3,000 levels the block is demeaned by pyfixest's alternating projections (tolerance 1e-12). pyfixest demeans by alternating
    projections to ``fixef_tol=1e-6`` by default, so with fixed effects the two agree to that
    solver's accuracy (relative differences of 1e-10 to 3e-8 in SEs in the tests, up to 2e-7 in
    p-values); against pyfixest with ``demeaner=pf.MapDemeaner(fixef_tol=1e-12)`` they agree to
    about 1e-12.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=200), "g": np.repeat(np.arange(20), 10)})
    >>> Y = 0.5 * df[["x"]].to_numpy() + rng.normal(size=(200, 3))
    >>> res = fit_many(df, "Y ~ x | g", Y, vcov={"CRV1": "g"})
    >>> res[["replication", "term"]].values.tolist()
    [[0, 'x'], [1, 'x'], [2, 'x']]
    >>> import pyfixest as pf
    >>> fit = pf.feols("Y ~ x | g", df.assign(Y=Y[:, 2]), vcov={"CRV1": "g"})
    >>> bool(np.isclose(res["se"].iloc[2], fit.se()["x"], rtol=1e-8))
    True
    """
    Yall = _outcome_block(outcomes, len(data))
    design = prepare_many(data.assign(**{_parse_formula(formula): Yall[:, 0]}), formula, vcov=vcov)
    return design.fit(Yall)


def _outcome_block(outcomes: Any, n: int) -> np.ndarray:
    """Check an n x R outcome block (shape, dtype, one NaN pattern) and return it as float64."""
    Yall = np.asarray(outcomes)
    if Yall.ndim == 1:
        raise ValueError(
            "fit_many: outcomes must be a 2-D array n x R (one column per replication); got a 1-D "
            "array (use outcomes[:, None] for one replication)"
        )
    if Yall.ndim != 2 or Yall.shape[1] == 0:
        raise ValueError(f"fit_many: outcomes must be a 2-D array n x R, got shape {Yall.shape}")
    if Yall.shape[0] != n:
        raise ValueError(
            f"fit_many: outcomes has {Yall.shape[0]} rows but data has {n}; rows must be aligned"
        )
    if not np.issubdtype(Yall.dtype, np.number):
        raise ValueError(f"fit_many: outcomes must be numeric, got dtype {Yall.dtype}")
    Yall = Yall.astype(np.float64, copy=False)
    _check_nan_pattern(Yall)
    return Yall


@dataclass
class ManyDesign:
    """One OLS design, prepared once, that :meth:`fit` applies to any number of outcome blocks.

    Made by :func:`prepare_many`; :func:`fit_many` is ``prepare_many(...).fit(Y)``. Preparing costs
    one pyfixest fit; each :meth:`fit` costs only sparse products over the block, so a design
    analysis that draws its replications in chunks prepares once per specification.
    """

    formula: str
    vcov: Any
    n_data: int
    y_missing: np.ndarray
    rows: np.ndarray
    names: list[str]
    Xt: np.ndarray
    bread: np.ndarray
    proj: Any
    vtype: str
    cl: np.ndarray | None
    ssc: float
    df_t: float
    plan: _FastPlan | None = None
    Xs: np.ndarray | None = None
    """2SLS only: the first-stage fitted regressors (:func:`prepare_iv_many`); None for OLS."""
    kernel: _KernelPlan | None = None
    """Large designs: the inputs of the compiled loops (:data:`_KERNEL_MIN_ROWS`); None otherwise."""

    def fit(self, outcomes: Any, *, first_replication: int = 0, index: Any = None) -> pd.DataFrame:
        """Estimates, SEs and p-values for every column of ``outcomes`` (n x R, aligned with data).

        ``first_replication`` numbers the columns (``first_replication``, ...), for chunks.
        Outcome values must be missing exactly where the prepared data's outcome was missing.
        ``index`` (optional) gives, for each row of the prepared data, its row in ``outcomes``
        (which may then have any number of rows, e.g. a twin's whole panel): several designs on
        subsamples of one panel then share one outcome block without copying it.
        """
        if index is None:
            Yall = _outcome_block(outcomes, self.n_data)
            index = np.arange(self.n_data)
        else:
            index = np.asarray(index)
            if index.shape != (self.n_data,) or not np.issubdtype(index.dtype, np.integer):
                raise ValueError(
                    f"fit_many: index must be {self.n_data} integer row positions (one per row of the "
                    f"prepared data), got shape {index.shape} and dtype {index.dtype}"
                )
            Yall = np.asarray(outcomes)
            Yall = _outcome_block(Yall, len(Yall) if Yall.ndim else 0)  # any number of rows
            if index.size and (index.min() < 0 or index.max() >= Yall.shape[0]):
                raise ValueError(
                    f"fit_many: index points outside the {Yall.shape[0]} rows of outcomes "
                    f"(range {int(index.min())}..{int(index.max())})"
                )
            if self.kernel is None:  # the sparse path works on the aligned block
                Yall, index = Yall[index], np.arange(self.n_data)
        miss = np.isnan(Yall[index, 0])
        if not np.array_equal(miss, self.y_missing):
            raise ValueError(
                f"fit_many: the outcomes miss {int(miss.sum())} rows, the prepared design's outcome "
                f"missed {int(self.y_missing.sum())}; prepare the design with an outcome that is "
                "missing in the same rows"
            )
        R, k = Yall.shape[1], len(self.names)
        proj, cl = self.proj, self.cl
        if self.kernel is not None:
            beta, var = _kernel_fit(self, Yall, index[self.rows])
        elif proj is None or proj.mode != "map":
            if self.plan is None:
                self.plan = _fast_plan(self.n_data, self.rows, self.Xt, proj, self.vtype, cl, self.Xs)
            # bound the sums block (one row per cluster x coefficient and per fixed-effect level)
            n_sums = k * (int(cl.max()) + 1 if cl is not None else 1)
            n_sums += sum(proj.levels) if proj is not None else 0
            step = max(1, _SUMS_CELLS // n_sums)
            beta, var = np.empty((k, R)), np.empty((k, R))
            for start in range(0, R, step):
                sl = slice(start, start + step)
                beta[:, sl], var[:, sl] = _fast_path(Yall[:, sl], self.rows, self.Xt, self.bread,
                                                     proj, self.vtype, self.plan)
        else:
            beta, var = _explicit(Yall, self.rows, self.Xt, self.bread, proj, self.vtype, cl, self.Xs)
        var *= self.ssc
        se = np.sqrt(var)
        tstat = beta / se
        pvalue = 2 * (1 - stats.t.cdf(np.abs(tstat), self.df_t))  # pyfixest's expression
        out = pd.DataFrame(
            {
                "replication": np.repeat(np.arange(first_replication, first_replication + R), k),
                "term": np.tile(np.array(self.names, dtype=object), R),
                "estimate": beta.T.ravel(),
                "se": se.T.ravel(),
                "tstat": tstat.T.ravel(),
                "pvalue": pvalue.T.ravel(),
                "df": self.df_t,
            }
        )
        out.attrs.update({"nobs": len(self.rows), "vcov": self.vcov, "formula": self.formula})
        return out


@dataclass
class _KernelPlan:
    """Inputs of the compiled loops that depend on the design only (built once per design)."""

    fe: np.ndarray
    """N x (number of fixed effects): each row's level, stacked over the fixed effects."""
    n_levels: int
    order: np.ndarray
    """Rows in the order the meat visits them: cluster by cluster for CRV1, else as they come."""
    cluster: np.ndarray
    vcode: int


def _kernel_plan(proj: _FixedEffects | None, cl: np.ndarray | None, n: int, vtype: str) -> _KernelPlan:
    """The fixed-effect levels (stacked) and the visiting order of :mod:`helpers._kernels`."""
    from helpers import _kernels

    if proj is None:
        fe, n_levels = np.zeros((n, 0), dtype=np.int64), 0
    else:
        codes = [proj.g1, *proj.rest]
        offsets = np.cumsum([0, *proj.levels[:-1]])
        fe = np.ascontiguousarray(np.column_stack(codes) + offsets, dtype=np.int64)
        n_levels = int(sum(proj.levels))
    if vtype == "CRV1":
        cluster = np.ascontiguousarray(cl, dtype=np.int64)
        order = np.argsort(cluster, kind="stable").astype(np.int64)
    else:
        cluster, order = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    vcode = {"iid": _kernels.IID, "hetero": _kernels.HETERO, "CRV1": _kernels.CRV1}[vtype]
    return _KernelPlan(fe=fe, n_levels=n_levels, order=order, cluster=cluster, vcode=vcode)


def _kernel_fit(d: ManyDesign, Yall: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Coefficients and variances (before the small-sample factor) by the compiled loops.

    First pass: :math:`X_s'y` and the level sums :math:`D'y`; from them :math:`\hat\beta` and the
    fixed-effect coefficients (as in :func:`_fast_path`); second pass: residuals and meat.
    ``index`` maps each sample row to its row of ``Yall``.
    """
    from helpers import _kernels

    K = d.kernel
    proj = d.proj
    k, R = len(d.names), Yall.shape[1]
    Xt = np.ascontiguousarray(d.Xt)
    Xs = Xt if d.Xs is None else np.ascontiguousarray(d.Xs)
    index = np.ascontiguousarray(index, dtype=np.int64)
    beta, var = np.empty((k, R)), np.empty((k, R))
    step = max(1, _SUMS_CELLS // (K.n_levels + k))
    for start in range(0, R, step):
        sl = slice(start, start + step)
        Y = np.ascontiguousarray(Yall[:, sl])
        r = Y.shape[1]
        XsY, FS = np.zeros((k, r)), np.zeros((K.n_levels, r))
        _kernels.block_sums(Y, index, Xs, K.fe, XsY, FS)  # fit() checked: the sample rows are finite
        b = d.bread @ XsY
        FC = np.zeros((0, r)) if proj is None else proj.coefficients(FS[:proj.levels[0]], FS[proj.levels[0]:])
        meat = np.zeros((k, k, r))
        _kernels.block_meat(Y, index, Xt, Xs, K.fe, np.ascontiguousarray(FC), np.ascontiguousarray(b),
                            K.order, K.cluster, K.vcode, meat)
        beta[:, sl] = b
        if K.vcode == _kernels.IID:
            var[:, sl] = np.diag(d.bread)[:, None] * (meat[0, 0] / (len(index) - 1))[None, :]
        else:
            var[:, sl] = np.einsum("ab,bcr,ca->ar", d.bread, meat, d.bread)
    return beta, var


def _reference_fit(data: pd.DataFrame, formula: str, vcov: Any, parse: Any, who: str,
                   prepare: str) -> tuple[np.ndarray, str | dict[str, str], pd.DataFrame, Any]:
    """Checks and pyfixest's own fit that :func:`prepare_many` and :func:`prepare_iv_many` start from.

    Returns the outcome block, the checked vcov, the data with a fresh index and the fit; errors name
    ``who`` (``fit_many`` or ``iv_many``) and ``prepare`` (``prepare_many`` or ``prepare_iv_many``).
    """
    import pyfixest as pf

    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}")
    lhs = parse(formula)
    if lhs not in data.columns:
        raise ValueError(f"{prepare}: data has no outcome column {lhs!r} (the formula's left side)")
    y0 = _outcome_block(data[[lhs]].to_numpy(dtype=float), len(data))
    vc = _check_vcov(vcov, data)
    template = data.reset_index(drop=True)
    try:
        fit0 = pf.feols(formula, template, vcov=vc)
    except Exception as err:  # pyfixest's own message names the problem
        raise ValueError(f"{who}: pyfixest could not fit {formula!r}: {err}") from err
    return y0, vc, template, fit0


def _attach_kernel(design: ManyDesign) -> None:
    """Large designs fit by the compiled loops (:data:`_KERNEL_MIN_ROWS`); the alternating-projection
    fallback (too many levels for the exact projection) keeps its own path."""
    if len(design.rows) >= _KERNEL_MIN_ROWS and (design.proj is None or design.proj.mode != "map"):
        design.kernel = _kernel_plan(design.proj, design.cl, len(design.rows), design.vtype)


def prepare_many(data: pd.DataFrame, formula: str, *, vcov: str | Mapping[str, str] | None = None
                 ) -> ManyDesign:
    """Prepare the design of :func:`fit_many` once; ``.fit(Y)`` then fits outcome blocks.

    ``data`` must hold the formula's outcome column: its missing rows (with those of the regressors,
    fixed effects and clusters, and pyfixest's singletons) define the sample, and its values are
    fitted once by pyfixest to check the fast path.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"x": rng.normal(size=100), "g": np.repeat(np.arange(10), 10)})
    >>> df["y"] = df["x"] + rng.normal(size=100)
    >>> d = prepare_many(df, "y ~ x | g", vcov={"CRV1": "g"})
    >>> Y = rng.normal(size=(100, 4))
    >>> a = d.fit(Y[:, :2]); b = d.fit(Y[:, 2:], first_replication=2)
    >>> bool(np.allclose(pd.concat([a, b])["estimate"], fit_many(df, "y ~ x | g", Y, vcov={"CRV1": "g"})["estimate"]))
    True
    """
    y0, vc, template, fit0 = _reference_fit(data, formula, vcov, _parse_formula, "fit_many",
                                              "prepare_many")
    if fit0._X_is_empty or fit0._k == 0:
        raise ValueError(f"fit_many: {formula!r} has no coefficients to estimate")
    rows = np.asarray(fit0._Y_untransformed.index, dtype=np.int64)
    names = [str(c) for c in fit0._coefnames]
    X = np.asarray(fit0._X, dtype=np.float64)  # pyfixest-demeaned; M_D of it is exact
    if fit0._has_fixef:
        fe_codes = fit0._fe.to_numpy()
        proj: _FixedEffects | None = _FixedEffects(
            [fe_codes[:, j] for j in range(fe_codes.shape[1])]
        )
        Xt = proj.apply(X)
    else:
        proj = None
        Xt = X
    bread = np.linalg.inv(Xt.T @ Xt)
    vtype = "CRV1" if isinstance(vc, dict) else ("hetero" if vc in ("hetero", "HC1") else "iid")
    cl = pd.factorize(template[vc["CRV1"]].to_numpy()[rows])[0] if vtype == "CRV1" else None
    design = ManyDesign(
        formula=formula, vcov=vc, n_data=len(data), y_missing=np.isnan(y0[:, 0]), rows=rows,
        names=names, Xt=Xt, bread=bread, proj=proj, vtype=vtype, cl=cl,
        ssc=float(np.asarray(fit0._ssc).ravel()[0]), df_t=float(fit0._df_t),
    )
    _attach_kernel(design)
    # guard against a change in pyfixest internals: the fast path must reproduce pyfixest's own fit
    ref = fit0.coef().to_numpy()
    got = design.fit(y0)["estimate"].to_numpy()
    if not np.allclose(got, ref, rtol=1e-6, atol=1e-6 * float(np.abs(ref).max() + 1)):
        raise RuntimeError(
            "fit_many: the fast path disagrees with pyfixest on the prepared outcome; please report this"
        )
    return design


def _parse_iv_formula(formula: str) -> str:
    """The outcome name of ``"Y ~ w | fe | x ~ z"`` (or ``"Y ~ w | x ~ z"``); errors for other shapes."""
    if not isinstance(formula, str):
        raise ValueError(f"iv_many: formula must be a string, got {type(formula).__name__}")
    parts = formula.split("|")
    if len(parts) not in (2, 3) or parts[-1].count("~") != 1 or parts[0].count("~") != 1:
        raise ValueError(
            "iv_many: formula must be pyfixest's 2SLS syntax 'Y ~ w1 + w2 | fe1+fe2 | x ~ z1 + z2' "
            f"(or 'Y ~ w | x ~ z' without fixed effects), got {formula!r}"
        )
    lhs = parts[0].split("~")[0].strip()
    if not lhs.isidentifier():
        raise ValueError(f"iv_many: the left-hand side must be one placeholder name, got {lhs!r}")
    return lhs


def prepare_iv_many(data: pd.DataFrame, formula: str, *, vcov: str | Mapping[str, str] | None = None
                    ) -> ManyDesign:
    r"""Prepare a 2SLS design once; ``.fit(Y)`` then gives the 2SLS of every outcome column.

    Given the sample, the regressors and the instruments, the 2SLS coefficient
    :math:`\hat\beta = (\hat X'\tilde X)^{-1}\hat X'\tilde y` (:math:`\tilde{\cdot}` = fixed
    effects projected out, :math:`\hat X = P_{\tilde Z}\tilde X`) is linear in the outcome, so the
    first stage is computed once. Standard errors are pyfixest's for ``Feiv``:
    :math:`(\hat X'\tilde X)^{-1} M (\hat X'\tilde X)^{-1}` with meat from the scores
    :math:`\hat x_i u_i` (summed by cluster for CRV1), :math:`u = \tilde y - \tilde X\hat\beta`,
    times pyfixest's small-sample factor. ``data`` must hold the outcome column; its missing rows
    and pyfixest's sample rules (singletons dropped) define the sample, and one ``pf.feols`` fit on
    it supplies the sample, the coefficient names, the small-sample factor and the degrees of
    freedom, and checks the result (coefficients and SEs).

    Parameters
    ----------
    data : pandas.DataFrame
        Outcome, regressors, instruments, fixed effects and cluster column.
    formula : str
        ``"Y ~ w1 + w2 | fe1+fe2 | x ~ z1 + z2"`` or ``"Y ~ w | x ~ z"`` (pyfixest syntax).
    vcov : {"iid", "hetero", "HC1"} or {"CRV1": column}, optional
        Default ``"iid"`` (pyfixest's default).

    Returns
    -------
    ManyDesign
        Its :meth:`ManyDesign.fit` returns the frame of :func:`fit_many` (``replication``,
        ``term``, ``estimate``, ``se``, ``tstat``, ``pvalue``, ``df``).

    Raises
    ------
    ValueError
        For a formula that is not a 2SLS formula, a missing outcome column, an unknown ``vcov``, or
        a design pyfixest cannot fit.
    RuntimeError
        If the prepared design does not reproduce pyfixest's fit of the prepared outcome.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> n = 400
    >>> df = pd.DataFrame({"z": rng.normal(size=n), "g": np.repeat(np.arange(40), 10)})
    >>> v = rng.normal(size=n)
    >>> df["x"] = df["z"] + v
    >>> df["y"] = 0.5 * df["x"] + v + rng.normal(size=n)       # x is endogenous
    >>> d = prepare_iv_many(df, "y ~ 1 | g | x ~ z", vcov={"CRV1": "g"})
    >>> res = d.fit(df[["y"]].to_numpy())
    >>> import pyfixest as pf
    >>> fit = pf.feols("y ~ 1 | g | x ~ z", df, vcov={"CRV1": "g"})
    >>> bool(np.isclose(res["estimate"].iloc[0], fit.coef()["x"], rtol=1e-8))
    True
    >>> bool(np.isclose(res["se"].iloc[0], fit.se()["x"], rtol=1e-8))
    True
    """
    y0, vc, template, fit0 = _reference_fit(data, formula, vcov, _parse_iv_formula, "iv_many",
                                              "prepare_iv_many")
    rows = np.asarray(fit0._Y_untransformed.index, dtype=np.int64)
    names = [str(c) for c in fit0._coefnames]
    X = np.asarray(fit0._X, dtype=np.float64)
    Z = np.asarray(fit0._Z, dtype=np.float64)
    proj: _FixedEffects | None = None
    if fit0._has_fixef:
        fe_codes = fit0._fe.to_numpy()
        proj = _FixedEffects([fe_codes[:, j] for j in range(fe_codes.shape[1])])
        X, Z = proj.apply(X), proj.apply(Z)  # exact M_D of pyfixest's demeaned matrices
    Xh = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]  # first stage: P_Z X
    bread = np.linalg.inv(Xh.T @ X)
    vtype = "CRV1" if isinstance(vc, dict) else ("hetero" if vc in ("hetero", "HC1") else "iid")
    cl = pd.factorize(template[vc["CRV1"]].to_numpy()[rows])[0] if vtype == "CRV1" else None
    design = ManyDesign(
        formula=formula, vcov=vc, n_data=len(data), y_missing=np.isnan(y0[:, 0]), rows=rows,
        names=names, Xt=X, bread=bread, proj=proj, vtype=vtype, cl=cl,
        ssc=float(np.asarray(fit0._ssc).ravel()[0]), df_t=float(fit0._df_t), Xs=Xh,
    )
    _attach_kernel(design)
    got = design.fit(y0)
    ref_b, ref_se = fit0.coef().to_numpy(), fit0.se().to_numpy()
    scale = float(np.abs(ref_b).max() + 1)
    if not (np.allclose(got["estimate"], ref_b, rtol=1e-6, atol=1e-6 * scale)
            and np.allclose(got["se"], ref_se, rtol=1e-5, atol=1e-9 * scale)):
        raise RuntimeError(
            "iv_many: the prepared 2SLS disagrees with pyfixest on the prepared outcome; please report this"
        )
    return design


def iv_many(
    data: pd.DataFrame,
    formula: str,
    outcomes: np.ndarray,
    *,
    vcov: str | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """2SLS of one design on many outcome columns at once (the IV counterpart of :func:`fit_many`).

    Equivalent to ``pf.feols(formula, data.assign(Y=outcomes[:, r]), vcov=vcov)`` for every column
    ``r`` (same sample, SEs, small-sample factor and t degrees of freedom); see
    :func:`prepare_iv_many` for the algebra. For chunks of replications, prepare once with
    :func:`prepare_iv_many` and call ``.fit`` on each chunk.

    Parameters
    ----------
    data : pandas.DataFrame
        Regressors, instruments, fixed effects and cluster column (``n`` rows).
    formula : str
        ``"Y ~ w | fe1+fe2 | x ~ z"`` (pyfixest syntax); ``Y`` is a placeholder for each column.
    outcomes : numpy.ndarray
        ``n x R`` outcome columns, rows aligned with ``data``, missing in the same rows.
    vcov : {"iid", "hetero", "HC1"} or {"CRV1": column}, optional
        Default ``"iid"``.

    Returns
    -------
    pandas.DataFrame
        ``replication``, ``term``, ``estimate``, ``se``, ``tstat``, ``pvalue``, ``df``.

    Raises
    ------
    ValueError
        As :func:`prepare_iv_many`, and for an outcome block that is not ``n x R`` or whose NaN
        pattern differs across columns.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> n = 600
    >>> df = pd.DataFrame({"z": rng.normal(size=n), "w": rng.normal(size=n)})
    >>> v = rng.normal(size=n)
    >>> df["x"] = df["z"] + 0.5 * df["w"] + v
    >>> Y = (0.5 * df["x"] + df["w"] + v).to_numpy()[:, None] + rng.normal(size=(n, 3))
    >>> res = iv_many(df, "Y ~ w | x ~ z", Y, vcov="hetero")
    >>> res.loc[res["term"] == "x", "replication"].tolist()
    [0, 1, 2]
    """
    Yall = _outcome_block(outcomes, len(data))
    lhs = _parse_iv_formula(formula)
    return prepare_iv_many(data.assign(**{lhs: Yall[:, 0]}), formula, vcov=vcov).fit(Yall)


# --------------------------------------------------------------------------------------------
# refit_many
# --------------------------------------------------------------------------------------------


def _as_long(res: Any, r: int) -> pd.DataFrame:
    """Normalize one replication's estimates to replication/term/estimate/se/pvalue rows."""
    where = f"refit_many: fn({r})"
    if isinstance(res, pd.DataFrame):
        f = res.rename(
            columns={
                "Estimate": "estimate",
                "Std. Error": "se",
                "Pr(>|t|)": "pvalue",
                "coef": "estimate",
                "Coefficient": "term",
            }
        )
        if "term" not in f.columns:
            f = f.rename_axis("term").reset_index()
        missing = [c for c in ("estimate", "se", "pvalue") if c not in f.columns]
        if missing:
            raise ValueError(
                f"{where} returned a DataFrame without column(s) {missing}; give term, estimate, "
                "se, pvalue"
            )
        f = f[["term", "estimate", "se", "pvalue"]]
    elif hasattr(res, "coef") and hasattr(res, "se") and hasattr(res, "pvalue"):
        f = (
            pd.DataFrame({"estimate": res.coef(), "se": res.se(), "pvalue": res.pvalue()})
            .rename_axis("term")
            .reset_index()
        )
    elif isinstance(res, Mapping):
        recs = []
        for term, v in res.items():
            if not isinstance(v, Sequence) or len(v) != 3:
                raise ValueError(f"{where}[{term!r}] must be (estimate, se, pvalue), got {v!r}")
            recs.append((term, *(float(x) for x in v)))
        f = pd.DataFrame(recs, columns=["term", "estimate", "se", "pvalue"])
    else:
        raise ValueError(
            f"{where} must return a DataFrame (term, estimate, se, pvalue), a mapping "
            f"term -> (estimate, se, pvalue) or a pyfixest fit; got {type(res).__name__}"
        )
    if f.empty:
        raise ValueError(f"{where} returned no estimates")
    f = f.astype({"estimate": float, "se": float, "pvalue": float})
    f["term"] = f["term"].astype(str)
    f.insert(0, "replication", r)
    return f


def _one(fn: Callable[[int], Any], r: int) -> pd.DataFrame:
    return _as_long(fn(r), r)


def refit_many(
    fn: Callable[[int], Any],
    R: int,
    *,
    n_jobs: int = -1,
    backend: str | None = None,
) -> pd.DataFrame:
    """Run an estimator on replications ``0..R-1`` in parallel and stack the estimates.

    For designs without a fast path (GMM, DML, IV, Callaway-Sant'Anna, PSM): ``fn(r)`` builds
    replication ``r`` (e.g. from ``np.random.default_rng([seed, r])`` or column ``r`` of
    ``Twin.redraw``) and returns its estimates. Replications are independent, so the result does
    not depend on ``n_jobs`` or the backend.

    Parameters
    ----------
    fn : callable
        ``fn(r) -> DataFrame | Mapping | pyfixest fit``: a frame with ``term``, ``estimate``,
        ``se``, ``pvalue`` (pyfixest ``tidy()`` names are accepted), a mapping
        ``{term: (estimate, se, pvalue)}`` or a fitted model with ``coef()``, ``se()`` and
        ``pvalue()``. Must be picklable for process backends (closures are fine with loky).
    R : int
        Number of replications.
    n_jobs : int, default -1
        joblib workers (-1: all cores; 1: a plain loop in this process).
    backend : str, optional
        joblib backend (default loky processes). On a cluster, run the same call inside
        ``with joblib.parallel_backend("dask"):`` (after creating a ``dask.distributed.Client``)
        or ``"ray"`` (after ``ray.util.joblib.register_ray()``) and leave ``backend=None``: the
        replications go to the cluster unchanged.

    Returns
    -------
    pandas.DataFrame
        ``replication``, ``term``, ``estimate``, ``se``, ``pvalue``, sorted by replication.

    Raises
    ------
    ValueError
        If ``R`` is not a positive integer, ``fn`` is not callable, or ``fn`` returns something
        that is not one of the forms above.

    Examples
    --------
    >>> def ols_mean(r):
    ...     y = np.random.default_rng([7, r]).normal(1.0, 1.0, 100)
    ...     se = y.std(ddof=1) / 10
    ...     return {"mean": (y.mean(), se, 2 * stats.norm.sf(abs(y.mean() / se)))}
    >>> refit_many(ols_mean, 3, n_jobs=1)[["replication", "term"]].values.tolist()
    [[0, 'mean'], [1, 'mean'], [2, 'mean']]
    """
    from joblib import Parallel, delayed

    if not callable(fn):
        raise ValueError(f"refit_many: fn must be callable, got {type(fn).__name__}")
    if isinstance(R, bool) or not isinstance(R, int | np.integer) or R < 1:
        raise ValueError(f"refit_many: R must be a positive integer, got {R!r}")
    if n_jobs == 1 and backend is None:
        parts = [_one(fn, r) for r in range(int(R))]
    else:
        parts = Parallel(n_jobs=n_jobs, backend=backend)(
            delayed(_one)(fn, r) for r in range(int(R))
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# agreement and diagnose
# --------------------------------------------------------------------------------------------


def _key_list(key: str | Sequence[str]) -> list[str]:
    keys = [key] if isinstance(key, str) else list(key)
    if not keys:
        raise ValueError("key must name at least one column, e.g. ('term',)")
    return keys


def _check_sims(sims: Any, keys: list[str], where: str) -> pd.DataFrame:
    if not isinstance(sims, pd.DataFrame):
        raise ValueError(f"{where}: sims must be a DataFrame (fit_many / refit_many output)")
    need = [*keys, "estimate", "se", "pvalue"]
    missing = [c for c in need if c not in sims.columns]
    if missing:
        raise ValueError(f"{where}: sims lacks column(s) {missing}")
    vals = sims[["estimate", "se", "pvalue"]].to_numpy(dtype=float)
    bad = ~np.isfinite(vals).all(axis=1)
    if bad.any():
        reps = sims.loc[bad, "replication"].unique()[:5].tolist() if "replication" in sims else []
        raise ValueError(
            f"{where}: {int(bad.sum())} row(s) of sims have a non-finite estimate, se or pvalue "
            f"(replications {reps}); drop failed replications explicitly if that is intended"
        )
    return sims


def _group_key(keys: list[str], value: Any) -> Any:
    return value if len(keys) > 1 else (value[0] if isinstance(value, tuple) else value)


def _groups(sims: pd.DataFrame, keys: list[str]) -> dict[Any, pd.DataFrame]:
    """Group frames keyed by the key value (a scalar for one key column, else a tuple)."""
    return {_group_key(keys, g): f for g, f in sims.groupby(keys, sort=False)}


def _published_table(published: Any, keys: list[str], where: str) -> pd.DataFrame:
    """Published rows indexed by key with coef, se, stars, sign (report's normalization)."""
    if isinstance(published, pd.DataFrame):
        f = published
        if "published_sign" in f.columns:  # compare_table output
            f = f.rename(
                columns={
                    "published_coef": "coef",
                    "published_se": "se",
                    "published_stars": "stars",
                    "published_sign": "sign",
                }
            )
        need = [*keys, "coef", "se", "stars", "sign"]
        missing = [c for c in need if c not in f.columns]
        if missing:
            raise ValueError(
                f"{where}: published lacks column(s) {missing}; pass load_published() or "
                "compare_table() output, or a mapping term -> {coef, se, stars, sign}"
            )
        f = f[need]
        if f.duplicated(keys).any():
            raise ValueError(
                f"{where}: published holds several rows per {keys} (several tables/columns?); "
                "select one table and column first"
            )

        def clean(v: Any) -> Any:
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else v

        recs = {
            _group_key(keys, tuple(r[keys])): {
                "coef": clean(r["coef"]),
                "se": clean(r["se"]),
                "stars": clean(r["stars"]),
                "sign": clean(r["sign"]),
            }
            for _, r in f.iterrows()
        }
    elif isinstance(published, Mapping):
        recs = {}
        for term, entry in published.items():
            e = _published_row(entry, f"{where}: published[{term!r}]")
            recs[term] = {c: e[c] for c in ("coef", "se", "stars", "sign")}
    else:
        raise ValueError(
            f"{where}: published must be a mapping term -> {{coef, se, stars, sign}} or a "
            f"load_published() / compare_table() DataFrame, got {type(published).__name__}"
        )
    return pd.DataFrame.from_dict(recs, orient="index")


def agreement(
    sims: pd.DataFrame,
    published: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
    *,
    key: str | Sequence[str] = ("term",),
) -> pd.DataFrame:
    """Per replication and published term: does the replication agree with the paper?

    The verdicts are those of :func:`helpers.report.compare_table` (one shared rule,
    :func:`helpers.report.agreement_flags`): ``sign_agrees``, ``stars_agree`` (star class of the
    replication's p-value equals the published one; NA when no stars are published) and
    ``within_tolerance`` (:math:`|b - b_{pub}| \\le \\max(0.25|b_{pub}|, SE_{pub})`; NA for a
    direction-only row).

    Parameters
    ----------
    sims : pandas.DataFrame
        :func:`fit_many` or :func:`refit_many` output (``key`` columns, ``estimate``, ``se``,
        ``pvalue``, usually ``replication``).
    published : mapping or DataFrame
        ``{term: {coef, se, stars, sign}}`` (the ``published.yml`` fields, also ``t`` and
        ``pvalue``), or the frame of :func:`helpers.report.load_published` (one table and
        column) or :func:`helpers.report.compare_table`.
    key : str or sequence of str, default ("term",)
        Columns identifying a published row.

    Returns
    -------
    pandas.DataFrame
        The sims rows of the published terms with ``sign_agrees`` (bool), ``stars_agree`` and
        ``within_tolerance`` (nullable boolean) and ``agrees`` (every applicable check passes).

    Raises
    ------
    ValueError
        If ``sims`` lacks columns or has non-finite values, ``published`` is malformed, or a
        published term is not in ``sims``.

    Examples
    --------
    >>> sims = pd.DataFrame({"replication": [0, 1], "term": "x", "estimate": [0.11, -0.02],
    ...                      "se": 0.02, "pvalue": [0.001, 0.4]})
    >>> a = agreement(sims, {"x": {"coef": 0.10, "se": 0.02, "stars": "***"}})
    >>> a[["sign_agrees", "stars_agree", "within_tolerance", "agrees"]].values.tolist()
    [[True, True, True, True], [False, False, False, False]]
    """
    keys = _key_list(key)
    sims = _check_sims(sims, keys, "agreement")
    pub = _published_table(published, keys, "agreement")
    present = _groups(sims, keys)
    absent = [t for t in pub.index if t not in present]
    if absent:
        raise ValueError(
            f"agreement: published term(s) {absent} are not in sims; available "
            f"{sorted(map(str, present))[:10]}"
        )
    parts = []
    for t, row in pub.iterrows():
        s = present[t].copy()
        pub_row = {c: None if pd.isna(v) else v for c, v in row.items()}
        fl = agreement_flags(
            s["estimate"].to_numpy(),
            s["pvalue"].to_numpy(),
            coef=pub_row["coef"],
            se=pub_row["se"],
            stars=pub_row["stars"],
            sign=pub_row["sign"],
        )
        n = len(s)
        s["sign_agrees"] = fl["sign_agrees"]
        for c in ("stars_agree", "within_tolerance"):
            s[c] = pd.array([pd.NA] * n if fl[c] is None else fl[c], dtype="boolean")
        checks = [fl[c] for c in ("sign_agrees", "stars_agree", "within_tolerance")]
        s["agrees"] = np.logical_and.reduce([c for c in checks if c is not None])
        parts.append(s)
    return pd.concat(parts, ignore_index=True)


def _share(x: np.ndarray) -> tuple[float, float]:
    m = len(x)
    if m == 0:
        return np.nan, np.nan
    p = float(np.mean(x))
    return p, float(np.sqrt(p * (1 - p) / m))


def _mean(x: np.ndarray) -> tuple[float, float]:
    m = len(x)
    if m == 0:
        return np.nan, np.nan
    return float(np.mean(x)), (float(np.std(x, ddof=1) / np.sqrt(m)) if m > 1 else np.nan)


def diagnose(
    sims: pd.DataFrame,
    estimand: Mapping[Any, float] | float,
    published: Mapping[str, Mapping[str, Any]] | pd.DataFrame | None = None,
    *,
    alpha: float = 0.05,
    key: str | Sequence[str] = ("term",),
) -> pd.DataFrame:
    r"""Diagnosands of a design over its replications, with Monte Carlo standard errors.

    Parameters
    ----------
    sims : pandas.DataFrame
        :func:`fit_many` or :func:`refit_many` output: ``key`` columns, ``estimate``, ``se``,
        ``pvalue`` and optionally ``df`` (t degrees of freedom for the coverage intervals).
    estimand : mapping or float
        True value per term (per ``key`` value; a tuple for several key columns); a single float
        when ``sims`` holds one term.
    published : mapping or DataFrame, optional
        The published rows (see :func:`agreement`); adds ``p_sign``, ``p_stars``, ``p_size`` and
        ``p_agree`` (share of replications passing every applicable check).
    alpha : float, default 0.05
        Significance level for power, type-S, exaggeration and the ``1 - alpha`` coverage.
    key : str or sequence of str, default ("term",)
        Columns defining a group.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``R``, ``estimand``, ``mean_estimate``, ``bias``, ``sd_estimate``,
        ``rmse``, ``mean_se``, ``power`` (share with ``p < alpha``), ``coverage`` (share of
        intervals ``estimate ± q·se`` covering the estimand, ``q`` the normal or, with a ``df``
        column, the t quantile), ``type_s`` (share of significant replications with the sign
        opposite to the estimand; NaN when none is significant or the estimand is 0),
        ``exaggeration`` (mean of :math:`|b|/|\theta|` over significant replications), each
        followed by ``<name>_mcse``; with ``published`` also ``p_sign``, ``p_stars``, ``p_size``,
        ``p_agree`` and their MC SEs (NaN where a check does not apply or the term is not
        published).

    Raises
    ------
    ValueError
        If ``sims`` lacks columns or has non-finite values, a term has no estimand, ``alpha`` is
        not in (0, 1), or ``published`` is malformed or names a term absent from ``sims``.

    Examples
    --------
    >>> sims = pd.DataFrame({"term": "x", "estimate": [0.8, 1.2, 1.0, 0.6],
    ...                      "se": [0.3, 0.3, 0.3, 0.1], "pvalue": [0.01, 0.001, 0.002, 0.5]})
    >>> d = diagnose(sims, {"x": 1.0}).iloc[0]
    >>> round(float(d.bias), 4), float(d.power), float(d.coverage), float(d.coverage_mcse)
    (-0.1, 0.75, 0.75, 0.21650635094610965)
    """
    keys = _key_list(key)
    sims = _check_sims(sims, keys, "diagnose")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ValueError(f"diagnose: alpha must be in (0, 1), got {alpha!r}")
    groups = _groups(sims, keys)
    gkeys = list(groups)
    if isinstance(estimand, Mapping):
        missing = [g for g in gkeys if g not in estimand]
        if missing:
            raise ValueError(
                f"diagnose: no estimand for term(s) {missing}; give one per term, or filter sims "
                "to the terms of interest"
            )
        truth = {g: float(estimand[g]) for g in gkeys}
    elif isinstance(estimand, int | float) and not isinstance(estimand, bool):
        if len(gkeys) != 1:
            raise ValueError(
                f"diagnose: a single estimand was given but sims holds {len(gkeys)} terms "
                f"{gkeys[:5]}; pass a mapping term -> value"
            )
        truth = {gkeys[0]: float(estimand)}
    else:
        raise ValueError(
            f"diagnose: estimand must be a mapping term -> value or a number, got {estimand!r}"
        )
    bad = {g: v for g, v in truth.items() if not np.isfinite(v)}
    if bad:
        raise ValueError(f"diagnose: the estimand must be a finite number, got {bad}")
    agree = None
    if published is not None:
        agree = agreement(sims, published, key=keys)
        agree_groups = _groups(agree, keys)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for g, f in groups.items():
        th = truth[g]
        b = f["estimate"].to_numpy(float)
        s = f["se"].to_numpy(float)
        p = f["pvalue"].to_numpy(float)
        R = len(b)
        q = stats.t.ppf(1 - alpha / 2, f["df"].to_numpy(float)) if "df" in f else z
        sd = float(np.std(b, ddof=1)) if R > 1 else np.nan
        err2 = (b - th) ** 2
        mse = float(np.mean(err2))
        rmse = float(np.sqrt(mse))
        mse_mcse = float(np.sqrt(np.sum((err2 - mse) ** 2) / (R * (R - 1)))) if R > 1 else np.nan
        sig = p < alpha
        if th != 0:
            type_s = _share(np.sign(b[sig]) != np.sign(th))
            exag = _mean(np.abs(b[sig]) / abs(th))
        else:
            type_s = exag = (np.nan, np.nan)
        row: dict[str, Any] = dict(zip(keys, g if len(keys) > 1 else (g,), strict=True))
        row.update(
            {
                "R": R,
                "estimand": th,
                "mean_estimate": float(np.mean(b)),
                "mean_estimate_mcse": sd / np.sqrt(R),
                "bias": float(np.mean(b)) - th,
                "bias_mcse": sd / np.sqrt(R),
                "sd_estimate": sd,
                "sd_estimate_mcse": sd / np.sqrt(2 * (R - 1)) if R > 1 else np.nan,
                "rmse": rmse,
                "rmse_mcse": mse_mcse / (2 * rmse) if rmse > 0 else np.nan,
            }
        )
        for name, (v, m) in (
            ("mean_se", _mean(s)),
            ("power", _share(sig)),
            ("coverage", _share(np.abs(b - th) <= q * s)),
            ("type_s", type_s),
            ("exaggeration", exag),
        ):
            row[name], row[f"{name}_mcse"] = v, m
        if agree is not None:
            a = agree_groups.get(g)
            for name, col in (
                ("p_sign", "sign_agrees"),
                ("p_stars", "stars_agree"),
                ("p_size", "within_tolerance"),
                ("p_agree", "agrees"),
            ):
                vals = None if a is None else a[col]
                if vals is None or vals.isna().all():
                    row[name], row[f"{name}_mcse"] = np.nan, np.nan
                else:
                    row[name], row[f"{name}_mcse"] = _share(vals.to_numpy(dtype=bool))
        rows.append(row)
    return pd.DataFrame(rows)


def diagnose_statistic(
    values: pd.DataFrame,
    published: Mapping[str, Mapping[str, Any]] | pd.DataFrame,
    *,
    estimand: Mapping[Any, float] | None = None,
    key: str | Sequence[str] = ("term",),
) -> pd.DataFrame:
    r"""Diagnosands of a statistic without a standard error (descriptive rows) over replications.

    A minimum, a maximum or a growth rate of means has no SE and no p-value, so there is no
    power, coverage or star class; what the redraws do give is the spread of the statistic and
    how often it reproduces the published sign and size. The verdicts are those of
    :func:`helpers.report.agreement_flags` (size: :math:`|b - b_{pub}| \le 0.25|b_{pub}|`
    when no SE is published), with Monte Carlo SEs as in :func:`diagnose`.

    Parameters
    ----------
    values : pandas.DataFrame
        One row per replication and group: the ``key`` columns and ``estimate`` (the statistic
        computed on that replication), usually also ``replication``.
    published : mapping or DataFrame
        The published rows, as for :func:`agreement`. Rows with published stars are refused (a
        statistic without a p-value cannot be checked against them; use :func:`diagnose`).
    estimand : mapping, optional
        True value per group; adds ``bias`` and ``rmse`` (NaN for groups without one).
    key : str or sequence of str, default ("term",)
        Columns defining a group.

    Returns
    -------
    pandas.DataFrame
        One row per published group: ``R``, ``estimand``, ``mean_estimate``, ``sd_estimate``,
        ``bias``, ``rmse``, ``p_sign``, ``p_stars`` (always NaN), ``p_size`` (NaN for a
        direction-only row) and ``p_agree``, each but ``R`` and ``estimand`` followed by
        ``<name>_mcse``.

    Raises
    ------
    ValueError
        If ``values`` lacks columns or holds a non-finite estimate, ``published`` is malformed,
        names a group absent from ``values`` or publishes stars.

    Examples
    --------
    >>> vals = pd.DataFrame({"term": "FI_min", "estimate": [0.09, 0.11, 0.06, 0.10]})
    >>> d = diagnose_statistic(vals, {"FI_min": {"coef": 0.1024}}).iloc[0]
    >>> int(d.R), float(d.p_sign), float(d.p_size), round(float(d.p_size_mcse), 4)
    (4, 1.0, 0.75, 0.2165)
    """
    keys = _key_list(key)
    if not isinstance(values, pd.DataFrame):
        raise ValueError("diagnose_statistic: values must be a DataFrame (key columns, estimate)")
    missing = [c for c in (*keys, "estimate") if c not in values.columns]
    if missing:
        raise ValueError(f"diagnose_statistic: values lacks column(s) {missing}")
    est = values["estimate"].to_numpy(dtype=float)
    if not np.isfinite(est).all():
        raise ValueError(
            f"diagnose_statistic: {int((~np.isfinite(est)).sum())} estimate(s) are not finite"
        )
    pub = _published_table(published, keys, "diagnose_statistic")
    starred = [g for g, s in pub["stars"].items() if s is not None and not pd.isna(s)]
    if starred:
        raise ValueError(
            f"diagnose_statistic: published row(s) {starred} carry stars, which need a p-value; "
            "use diagnose() with estimates, SEs and p-values"
        )
    groups = _groups(values, keys)
    absent = [g for g in pub.index if g not in groups]
    if absent:
        raise ValueError(
            f"diagnose_statistic: published group(s) {absent} are not in values; available "
            f"{sorted(map(str, groups))[:10]}"
        )
    truth = dict(estimand or {})
    rows = []
    for g, prow in pub.iterrows():
        b = groups[g]["estimate"].to_numpy(dtype=float)
        R = len(b)
        p = {c: None if v is None or pd.isna(v) else v for c, v in prow.items()}
        fl = agreement_flags(b, np.full(R, np.nan), coef=p["coef"], se=p["se"], stars=None,
                             sign=p["sign"])
        sd = float(np.std(b, ddof=1)) if R > 1 else np.nan
        th = float(truth[g]) if g in truth and truth[g] is not None else np.nan
        err2 = (b - th) ** 2
        mse = float(np.mean(err2))
        rmse = float(np.sqrt(mse))
        mse_mcse = float(np.sqrt(np.sum((err2 - mse) ** 2) / (R * (R - 1)))) if R > 1 else np.nan
        row: dict[str, Any] = dict(zip(keys, g if len(keys) > 1 else (g,), strict=True))
        row.update({
            "R": R, "estimand": th,
            "mean_estimate": float(np.mean(b)), "mean_estimate_mcse": sd / np.sqrt(R),
            "sd_estimate": sd,
            "sd_estimate_mcse": sd / np.sqrt(2 * (R - 1)) if R > 1 else np.nan,
            "bias": float(np.mean(b)) - th, "bias_mcse": sd / np.sqrt(R),
            "rmse": rmse, "rmse_mcse": mse_mcse / (2 * rmse) if rmse > 0 else np.nan,
            "p_stars": np.nan, "p_stars_mcse": np.nan,
        })
        checks = [fl["sign_agrees"]] + ([] if fl["within_tolerance"] is None
                                         else [fl["within_tolerance"]])
        row["p_sign"], row["p_sign_mcse"] = _share(fl["sign_agrees"])
        if fl["within_tolerance"] is None:
            row["p_size"], row["p_size_mcse"] = np.nan, np.nan
        else:
            row["p_size"], row["p_size_mcse"] = _share(fl["within_tolerance"])
        row["p_agree"], row["p_agree_mcse"] = _share(np.logical_and.reduce(checks))
        rows.append(row)
    return pd.DataFrame(rows)

r"""Honest sensitivity of event-study effects to violations of parallel trends (Rambachan-Roth).

An event study estimates :math:`\beta = (\beta_{pre}', \beta_{post}')'` with
:math:`\beta_{pre}` the coefficients of the periods :math:`t=-T_{pre},\dots,-1` before the
reference period :math:`t=0` (normalised to zero) and :math:`\beta_{post}` those of the periods
:math:`t=1,\dots,T_{post}` after it. Rambachan and Roth (2023, *Review of Economic Studies* 90(5):
2555--2591) write :math:`\beta = \tau + \delta` with :math:`\tau_{pre}=0` (no anticipation) and
:math:`\delta` the difference in trends, and bound :math:`\delta` instead of assuming it is zero:

* relative magnitudes :math:`\Delta^{RM}(\bar M)`: every post-period change
  :math:`|\delta_{t+1}-\delta_t|`, :math:`t\ge 0`, is at most :math:`\bar M` times the largest
  pre-period change :math:`\max_{s<0}|\delta_{s+1}-\delta_s|`;
* smoothness :math:`\Delta^{SD}(M)`: every second difference
  :math:`|(\delta_{t+1}-\delta_t)-(\delta_t-\delta_{t-1})|` is at most :math:`M` (``M = 0`` is
  an exactly linear difference in trends).

The target is :math:`\theta = l'\tau_{post}`. What this module implements:

* :func:`identified_set_sd`, :func:`identified_set_rm` -- the identified set of :math:`\theta`
  when :math:`\beta` is known (a linear programme for :math:`\Delta^{SD}`, solved with
  ``scipy.optimize.linprog``; a closed form for :math:`\Delta^{RM}`).
* :func:`flci_sd` -- the optimal fixed-length confidence interval (FLCI) for :math:`\Delta^{SD}(M)`
  of Rambachan and Roth (section 4.1, after Armstrong and Kolesar 2018): the affine estimator
  :math:`l'\hat\beta_{post}+w'\hat\beta_{pre}` whose interval
  :math:`\pm\,\sigma_w\,cv_\alpha(\bar b_w/\sigma_w)` is shortest, :math:`\bar b_w` its worst-case
  bias over :math:`\Delta^{SD}(M)` and :math:`cv_\alpha(b)` the :math:`1-\alpha` quantile of
  :math:`|N(b,1)|`. The convex problem is solved exactly (SLSQP) rather than on R's grid of
  standard deviations; the published R numbers are matched to about 1e-3 (the test).
* :func:`bonferroni_ci_rm` and :func:`projection_ci_rm` -- two conservative confidence intervals
  for :math:`\Delta^{RM}(\bar M)`. The Bonferroni interval adds :math:`\bar M\kappa_l U` to a
  :math:`1-\alpha_1` interval for :math:`l'\beta_{post}`, with :math:`U` a :math:`1-\alpha_2`
  upper confidence bound on the largest pre-period change (:math:`\alpha_1+\alpha_2=\alpha`); the
  projection interval is the union of the identified sets over a Wald ellipsoid for
  :math:`(l'\beta_{post}, \beta_{pre})`. Both are valid and wider than R ``HonestDiD``'s default
  for :math:`\Delta^{RM}` (the conditional-least-favourable hybrid test of Andrews, Roth and
  Pakes 2023), which is **not** implemented here.
* :func:`sensitivity` and :func:`breakdown_value` -- a table of intervals over a grid of
  :math:`M` (or :math:`\bar M`) and the largest :math:`M` at which the interval excludes zero.

Not implemented: the conditional and hybrid (ARP) confidence sets, sign and monotonicity
restrictions, and the combined restrictions (:math:`\Delta^{SDRM}` and others).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "FLCIResult",
    "bonferroni_ci_rm",
    "breakdown_value",
    "flci_sd",
    "identified_set_rm",
    "identified_set_sd",
    "projection_ci_rm",
    "sensitivity",
]

_ArrayLike = Sequence[float] | np.ndarray


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _check_beta(betahat: _ArrayLike, num_pre: int, where: str) -> tuple[np.ndarray, int, int]:
    b = np.asarray(betahat, dtype=float)
    if b.ndim != 1 or b.size < 2:
        raise ValueError(f"{where}: `betahat` must be a 1-D vector of at least two event-study "
                         f"coefficients (pre then post), got shape {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError(f"{where}: `betahat` has non-finite values")
    if isinstance(num_pre, bool) or not isinstance(num_pre, int | np.integer):
        raise ValueError(f"{where}: `num_pre` must be an integer, got {num_pre!r}")
    if not 1 <= num_pre < b.size:
        raise ValueError(f"{where}: `num_pre` must be between 1 and len(betahat) - 1 = {b.size - 1} "
                         f"(at least one pre- and one post-period coefficient), got {num_pre}")
    return b, int(num_pre), b.size - int(num_pre)


def _check_sigma(sigma: _ArrayLike, k: int, where: str) -> np.ndarray:
    s = np.asarray(sigma, dtype=float)
    if s.shape != (k, k):
        raise ValueError(f"{where}: `sigma` must be the {k} x {k} covariance matrix of `betahat`, "
                         f"got shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"{where}: `sigma` has non-finite values")
    scale = float(np.abs(s).max()) or 1.0
    if not np.allclose(s, s.T, atol=1e-10 * scale, rtol=1e-8):
        raise ValueError(f"{where}: `sigma` is not symmetric")
    if np.linalg.eigvalsh((s + s.T) / 2).min() < -1e-10 * scale:
        raise ValueError(f"{where}: `sigma` is not positive semi-definite")
    return (s + s.T) / 2


def _check_l(l_vec: _ArrayLike | None, num_post: int, where: str) -> np.ndarray:
    if l_vec is None:
        return np.eye(num_post)[0]
    lv = np.asarray(l_vec, dtype=float).ravel()
    if lv.size != num_post:
        raise ValueError(f"{where}: `l_vec` must have one weight per post-period coefficient "
                         f"({num_post}), got {lv.size}")
    if not np.isfinite(lv).all() or not lv.any():
        raise ValueError(f"{where}: `l_vec` must be finite and not all zero")
    return lv


def _check_m(m: float, name: str, where: str) -> float:
    if isinstance(m, bool) or not isinstance(m, int | float | np.integer | np.floating):
        raise ValueError(f"{where}: `{name}` must be a number, got {m!r}")
    if not np.isfinite(m) or m < 0:
        raise ValueError(f"{where}: `{name}` must be finite and non-negative, got {m!r}")
    return float(m)


def _check_alpha(alpha: float, where: str) -> float:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ValueError(f"{where}: `alpha` must be in (0, 1), got {alpha!r}")
    return float(alpha)


# --------------------------------------------------------------------------------------------
# identified sets
# --------------------------------------------------------------------------------------------


def _second_differences(num_pre: int, num_post: int) -> np.ndarray:
    """Operator on the full path (delta_pre, delta_0 = 0, delta_post) giving its second differences."""
    n = num_pre + 1 + num_post
    A = np.zeros((n - 2, n))
    for r in range(n - 2):
        A[r, r:r + 3] = (1.0, -2.0, 1.0)
    return A


def identified_set_sd(betahat: _ArrayLike, num_pre: int, m: float,
                      l_vec: _ArrayLike | None = None) -> tuple[float, float]:
    r"""Identified set of :math:`\theta = l'\tau_{post}` under :math:`\Delta^{SD}(M)`, with
    :math:`\beta` known.

    Since :math:`\delta_{pre} = \beta_{pre}` and :math:`\theta = l'\beta_{post} - l'\delta_{post}`,
    the bounds are :math:`l'\beta_{post}` minus the largest and smallest :math:`l'\delta_{post}`
    over post-period paths whose second differences (with :math:`\delta_0 = 0` and the known
    pre-period path) are at most :math:`M` in absolute value: two linear programmes.

    Parameters
    ----------
    betahat : array_like
        Event-study coefficients, the ``num_pre`` pre-period ones first (reference period
        omitted), then the post-period ones.
    num_pre : int
        Number of pre-period coefficients.
    m : float
        The bound :math:`M \ge 0` on the change in slope between consecutive periods.
    l_vec : array_like, optional
        Weights of the target on the post-period effects; default the first post period.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        For malformed input, a negative ``m``, or when the pre-period coefficients themselves
        violate :math:`\Delta^{SD}(M)` (the identified set is empty; the message gives the
        smallest :math:`M` they are consistent with).

    Examples
    --------
    With :math:`M=0` the set is the point given by extrapolating the line through
    :math:`(-1, \beta_{-1})` and :math:`(0, 0)`: :math:`\beta_1 + \beta_{-1}`.

    >>> identified_set_sd([-0.2, -0.1, 0.5], num_pre=2, m=0.0)
    (0.4, 0.4)
    >>> lo, hi = identified_set_sd([-0.2, -0.1, 0.5, 0.7], num_pre=2, m=0.05, l_vec=[0, 1])
    >>> round(lo, 6), round(hi, 6)  # 0.7 - 2 * 0.1 -/+ 3 M
    (0.35, 0.65)
    """
    where = "identified_set_sd"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    m = _check_m(m, "m", where)
    lv = _check_l(l_vec, npost, where)
    A = _second_differences(npre, npost)
    fixed = np.concatenate([b[:npre], [0.0]])
    Af, Ax = A[:, :npre + 1], A[:, npre + 1:]
    offset = Af @ fixed
    pre_only = ~Ax.any(axis=1)
    worst_pre = float(np.abs(offset[pre_only]).max()) if pre_only.any() else 0.0
    tol = 1e-9 * max(1.0, float(np.abs(b).max()))
    if worst_pre > m + tol:
        raise ValueError(f"{where}: the pre-period coefficients have a second difference of "
                         f"{worst_pre:.6g} > M = {m:.6g}, so Delta^SD(M) is empty given them; "
                         f"use M >= {worst_pre:.6g}")
    Ax, offset = Ax[~pre_only], offset[~pre_only]
    A_ub = np.vstack([Ax, -Ax])
    b_ub = np.concatenate([m - offset, m + offset])
    ends = []
    for sign in (1.0, -1.0):  # min l'delta_post, then max
        res = optimize.linprog(sign * lv, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * npost,
                               method="highs")
        if res.status != 0:  # pragma: no cover - the programme is feasible and bounded
            raise RuntimeError(f"{where}: linear programme failed: {res.message}")
        ends.append(sign * res.fun)
    base = float(lv @ b[npre:])
    lo, hi = base - ends[1], base - ends[0]
    return float(np.round(lo, 12)), float(np.round(hi, 12))


def _rm_kappa(lv: np.ndarray) -> float:
    """max l'delta_post over paths with delta_0 = 0 and every change in [-1, 1]."""
    return float(np.abs(np.cumsum(lv[::-1])[::-1]).sum())


def identified_set_rm(betahat: _ArrayLike, num_pre: int, mbar: float,
                      l_vec: _ArrayLike | None = None) -> tuple[float, float]:
    r"""Identified set of :math:`\theta = l'\tau_{post}` under :math:`\Delta^{RM}(\bar M)`, with
    :math:`\beta` known.

    With the pre-period path known, its largest change is
    :math:`M^* = \max_{s<0}|\beta_{s+1}-\beta_s|` (with :math:`\beta_0 = 0`), and every post-period
    change may be up to :math:`\bar M M^*`. The set is
    :math:`l'\beta_{post} \pm \bar M M^* \sum_{u=1}^{T_{post}}|\sum_{t\ge u} l_t|`.

    Parameters
    ----------
    betahat, num_pre, l_vec
        As in :func:`identified_set_sd`.
    mbar : float
        The bound :math:`\bar M \ge 0` relative to the largest pre-period change.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        For malformed input or a negative ``mbar``.

    Examples
    --------
    :math:`\bar M = 0` gives the point estimate; here :math:`M^* = 0.1` and :math:`\bar M = 1`
    widens the first post period's effect by 0.1 on each side.

    >>> identified_set_rm([-0.2, -0.1, 0.5], num_pre=2, mbar=0.0)
    (0.5, 0.5)
    >>> identified_set_rm([-0.2, -0.1, 0.5], num_pre=2, mbar=1.0)
    (0.4, 0.6)
    """
    where = "identified_set_rm"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    mbar = _check_m(mbar, "mbar", where)
    lv = _check_l(l_vec, npost, where)
    m_star = float(np.abs(np.diff(np.concatenate([b[:npre], [0.0]]))).max())
    half = mbar * m_star * _rm_kappa(lv)
    base = float(lv @ b[npre:])
    return float(np.round(base - half, 12)), float(np.round(base + half, 12))


# --------------------------------------------------------------------------------------------
# confidence intervals
# --------------------------------------------------------------------------------------------


def _cv_folded(bias: float, alpha: float) -> float:
    """1 - alpha quantile of |N(bias, 1)|."""
    if bias < 1e-10:
        return float(stats.norm.ppf(1 - alpha / 2))
    if bias > 8:  # the lower tail Phi(-c - b) < 1e-15: c = b + z_{1-alpha}
        return float(bias + stats.norm.ppf(1 - alpha))
    return float(np.sqrt(stats.ncx2.ppf(1 - alpha, 1, bias ** 2)))


def _sd_basis(npre: int, npost: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""delta_t = s t + G[t] d, with s = delta_0 - delta_{-1} and d the second differences
    at k = -npre+1, ..., npost-1 (delta_0 = 0). Returns (times, G, ks)."""
    times = np.concatenate([np.arange(-npre, 0), np.arange(1, npost + 1)]).astype(float)
    ks = np.arange(-npre + 1, npost)
    G = np.zeros((times.size, ks.size))
    for i, t in enumerate(times):
        for j, k in enumerate(ks):
            if t >= 1 and 0 <= k <= t - 1:
                G[i, j] = t - k
            elif t <= -1 and t + 1 <= k <= -1:
                G[i, j] = k - t
    return times, G, ks


@dataclass(frozen=True)
class FLCIResult:
    """The optimal fixed-length confidence interval of :func:`flci_sd`.

    ``weights`` are the estimator's weights on all coefficients (pre then post; the post ones
    equal ``l_vec``); ``max_bias`` is its worst-case bias over :math:`\\Delta^{SD}(M)` and ``sd``
    its standard deviation.
    """

    lb: float
    ub: float
    estimate: float
    half_length: float
    max_bias: float
    sd: float
    weights: np.ndarray


def flci_sd(betahat: _ArrayLike, sigma: _ArrayLike, num_pre: int, m: float,
            l_vec: _ArrayLike | None = None, alpha: float = 0.05) -> FLCIResult:
    r"""Optimal fixed-length confidence interval for :math:`l'\tau_{post}` under
    :math:`\Delta^{SD}(M)` (Rambachan and Roth 2023, section 4.1).

    Among estimators :math:`\hat\theta_w = l'\hat\beta_{post} + w'\hat\beta_{pre}` whose bias is
    bounded on :math:`\Delta^{SD}(M)` (they must be unbiased when the difference in trends is
    linear), choose :math:`w` to minimise the half-length
    :math:`\sigma_w\,cv_\alpha(\bar b_w/\sigma_w)`, where :math:`\bar b_w = M\lVert c(w)\rVert_1` is
    the worst-case bias (linear in the second differences of :math:`\delta`) and
    :math:`cv_\alpha(b)` the :math:`1-\alpha` quantile of :math:`|N(b,1)|`. The problem is convex;
    it is solved with SLSQP from two starts (the minimum-variance unbiased estimator under a linear
    trend, and the extrapolation from the last pre-period only).

    Parameters
    ----------
    betahat : array_like
        Event-study coefficients, pre-period ones first (reference period omitted).
    sigma : array_like
        Their covariance matrix.
    num_pre : int
        Number of pre-period coefficients.
    m : float
        The smoothness bound :math:`M \ge 0`.
    l_vec : array_like, optional
        Weights of the target on the post-period effects; default the first post period.
    alpha : float, default 0.05
        One minus the coverage.

    Returns
    -------
    FLCIResult

    Raises
    ------
    ValueError
        For malformed input (vector lengths, a non-symmetric or indefinite ``sigma``), a negative
        ``m`` or ``alpha`` outside (0, 1).

    Examples
    --------
    With one pre-period and :math:`M = 0` the estimator is :math:`\beta_1 + \beta_{-1}` with the
    usual normal interval:

    >>> r = flci_sd([0.1, 0.5], [[0.01, 0.0], [0.0, 0.01]], num_pre=1, m=0.0)
    >>> round(r.estimate, 6), round(r.half_length, 6), round(float(1.959964 * np.sqrt(0.02)), 6)
    (0.6, 0.277181, 0.277181)
    """
    where = "flci_sd"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    S = _check_sigma(sigma, b.size, where)
    m = _check_m(m, "m", where)
    lv = _check_l(l_vec, npost, where)
    alpha = _check_alpha(alpha, where)
    # work in units of the typical standard error: the problem is scale invariant
    scale = float(np.sqrt(np.mean(np.diag(S)))) or 1.0
    Sn, mn = S / scale ** 2, m / scale
    times, G, _ = _sd_basis(npre, npost)
    t_pre, t_post = times[:npre], times[npre:]
    G_pre, G_post = G[:npre], G[npre:]
    a, rhs = t_pre, -float(lv @ t_post)  # unbiased under a linear trend: a'w = rhs
    c0 = G_post.T @ lv  # c(w) = c0 + G_pre' w
    K = c0.size
    Spp, Spq = Sn[:npre, :npre], Sn[:npre, npre:]

    def sd(w: np.ndarray) -> float:
        v = np.concatenate([w, lv])
        return float(np.sqrt(max(v @ Sn @ v, 1e-300)))

    # minimum-variance estimator under an exact linear trend (M = 0): closed form
    P = np.linalg.pinv(Spp)
    u0 = -P @ Spq @ lv
    mu = (rhs - a @ u0) / (a @ P @ a)
    w_gls = u0 + mu * P @ a
    w_last = np.zeros(npre)
    w_last[-1] = -rhs  # t_pre[-1] = -1
    if mn == 0.0:
        w = w_gls
    else:
        def half(z: np.ndarray) -> float:
            s = sd(z[:npre])
            return s * _cv_folded(mn * float(z[npre:].sum()) / s, alpha)

        cons = [
            {"type": "eq", "fun": lambda z: np.array([a @ z[:npre] - rhs]),
             "jac": lambda z: np.concatenate([a, np.zeros(K)])[None, :]},
            {"type": "ineq", "fun": lambda z: z[npre:] - (c0 + G_pre.T @ z[:npre]),
             "jac": lambda z: np.hstack([-G_pre.T, np.eye(K)])},
            {"type": "ineq", "fun": lambda z: z[npre:] + (c0 + G_pre.T @ z[:npre]),
             "jac": lambda z: np.hstack([G_pre.T, np.eye(K)])},
        ]
        best = None
        for w0 in (w_gls, w_last):
            z0 = np.concatenate([w0, np.abs(c0 + G_pre.T @ w0) + 1e-9])
            res = optimize.minimize(half, z0, method="SLSQP", constraints=cons,
                                    options={"ftol": 1e-12, "maxiter": 500})
            z = res.x if res.success else z0  # any w meeting the equality gives a valid interval
            if best is None or half(z) < half(best):
                best = z
        w = best[:npre]
    # meet the equality exactly: otherwise a linear trend of any slope would bias the estimator
    w = w + a * (rhs - a @ w) / (a @ a)
    s = sd(w) * scale
    max_bias = m * float(np.abs(c0 + G_pre.T @ w).sum())
    h = s * _cv_folded(max_bias / s if s > 0 else 0.0, alpha)
    weights = np.concatenate([w, lv])
    est = float(weights @ b)
    return FLCIResult(lb=est - h, ub=est + h, estimate=est, half_length=h, max_bias=max_bias,
                      sd=s, weights=weights)


def bonferroni_ci_rm(betahat: _ArrayLike, sigma: _ArrayLike, num_pre: int, mbar: float,
                     l_vec: _ArrayLike | None = None, alpha: float = 0.05,
                     alpha_pre: float | None = None) -> tuple[float, float]:
    r"""Conservative (Bonferroni) confidence interval for :math:`l'\tau_{post}` under
    :math:`\Delta^{RM}(\bar M)`.

    The identified set is :math:`l'\beta_{post} \pm \bar M\kappa_l M^*` (:func:`identified_set_rm`),
    with :math:`M^* = \max_s |a_s'\beta_{pre}|` the largest pre-period change. With
    :math:`U = \max_s\big(|a_s'\hat\beta_{pre}| + z_{1-\alpha_2/(2T_{pre})}\,\mathrm{se}(a_s'\hat\beta_{pre})\big)`,
    :math:`P(M^* > U) \le \alpha_2`, and the interval
    :math:`l'\hat\beta_{post} \pm \big(z_{1-\alpha_1/2}\,\mathrm{se}(l'\hat\beta_{post}) + \bar M\kappa_l U\big)`
    misses :math:`\theta` with probability at most :math:`\alpha_1 + \alpha_2 = \alpha` whenever
    :math:`\delta \in \Delta^{RM}(\bar M)`.

    Parameters
    ----------
    betahat, sigma, num_pre, l_vec, alpha
        As in :func:`flci_sd`.
    mbar : float
        The bound :math:`\bar M \ge 0`.
    alpha_pre : float, optional
        :math:`\alpha_2`, the part of ``alpha`` spent on the bound :math:`U`; default ``alpha / 5``.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        For malformed input, a negative ``mbar``, or ``alpha_pre`` not in (0, ``alpha``).

    Examples
    --------
    With :math:`\bar M = 0` it is the usual interval at level :math:`1 - (\alpha - \alpha_2)`:

    >>> lo, hi = bonferroni_ci_rm([0.1, 0.5], [[0.01, 0.0], [0.0, 0.01]], num_pre=1, mbar=0.0)
    >>> round(hi - 0.5, 4), round(float(0.1 * stats.norm.ppf(1 - 0.04 / 2)), 4)
    (0.2054, 0.2054)
    """
    where = "bonferroni_ci_rm"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    S = _check_sigma(sigma, b.size, where)
    mbar = _check_m(mbar, "mbar", where)
    lv = _check_l(l_vec, npost, where)
    alpha = _check_alpha(alpha, where)
    a2 = alpha / 5 if alpha_pre is None else alpha_pre
    if not (isinstance(a2, int | float) and 0 < a2 < alpha):
        raise ValueError(f"{where}: `alpha_pre` must be in (0, alpha = {alpha}), got {alpha_pre!r}")
    est = float(lv @ b[npre:])
    se = float(np.sqrt(max(lv @ S[npre:, npre:] @ lv, 0.0)))
    A = np.zeros((npre, b.size))  # pre-period changes beta_{s+1} - beta_s, with beta_0 = 0
    for s in range(npre):
        A[s, s] = -1.0
        if s + 1 < npre:
            A[s, s + 1] = 1.0
    ch = A @ b
    ch_se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", A, S, A), 0.0))
    upper = float(np.max(np.abs(ch) + stats.norm.ppf(1 - a2 / (2 * npre)) * ch_se))
    half = float(stats.norm.ppf(1 - (alpha - a2) / 2)) * se + mbar * _rm_kappa(lv) * upper
    return est - half, est + half


def projection_ci_rm(betahat: _ArrayLike, sigma: _ArrayLike, num_pre: int, mbar: float,
                     l_vec: _ArrayLike | None = None, alpha: float = 0.05) -> tuple[float, float]:
    r"""Conservative confidence interval for :math:`l'\tau_{post}` under :math:`\Delta^{RM}(\bar M)`.

    The identified set (:func:`identified_set_rm`) depends on :math:`\beta` only through
    :math:`\gamma = (l'\beta_{post}, \beta_{pre}')'`. The interval is the union of the identified
    sets over the Wald ellipsoid
    :math:`\{\gamma: (\hat\gamma-\gamma)'\Sigma_\gamma^{-1}(\hat\gamma-\gamma)\le\chi^2_{T_{pre}+1,1-\alpha}\}`,
    which contains the true :math:`\gamma` with probability :math:`1-\alpha`; so it covers
    :math:`\theta` with at least that probability whenever :math:`\delta\in\Delta^{RM}(\bar M)`.
    Each end is an extremum of a linear function over the ellipsoid, in closed form. It is wider
    than R ``HonestDiD``'s conditional-least-favourable hybrid interval, which is not implemented.

    Parameters
    ----------
    betahat, sigma, num_pre, l_vec, alpha
        As in :func:`flci_sd`.
    mbar : float
        The bound :math:`\bar M \ge 0`.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        For malformed input, a negative ``mbar`` or ``alpha`` outside (0, 1).

    Examples
    --------
    With :math:`\bar M = 0` and one pre-period the interval is
    :math:`l'\hat\beta_{post} \pm \sqrt{\chi^2_{2,0.95}}\,\mathrm{se}`, wider than the usual one:

    >>> lo, hi = projection_ci_rm([0.1, 0.5], [[0.01, 0.0], [0.0, 0.01]], num_pre=1, mbar=0.0)
    >>> round(lo, 4), round(hi, 4), round(float(0.1 * np.sqrt(stats.chi2.ppf(0.95, 2))), 4)
    (0.2552, 0.7448, 0.2448)
    """
    where = "projection_ci_rm"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    S = _check_sigma(sigma, b.size, where)
    mbar = _check_m(mbar, "mbar", where)
    lv = _check_l(l_vec, npost, where)
    alpha = _check_alpha(alpha, where)
    # gamma = T beta, T = [[0, l'], [I, 0]]
    T = np.zeros((npre + 1, b.size))
    T[0, npre:] = lv
    T[1:, :npre] = np.eye(npre)
    g, Sg = T @ b, T @ S @ T.T
    radius = float(np.sqrt(stats.chi2.ppf(1 - alpha, npre + 1)))
    # pre-period changes a_s' beta_pre, including delta_0 - delta_{-1} = -beta_{-1}
    D = np.zeros((npre, npre + 1))
    for s in range(npre):
        if s + 1 < npre:
            D[s, 1 + s], D[s, 2 + s] = -1.0, 1.0
        else:
            D[s, 1 + s] = -1.0
    k = mbar * _rm_kappa(lv)
    e0 = np.eye(npre + 1)[0]
    upper, lower = -np.inf, np.inf
    for row in D:
        for sign in (1.0, -1.0):
            c = e0 + sign * k * row
            spread = radius * float(np.sqrt(max(c @ Sg @ c, 0.0)))
            upper = max(upper, float(c @ g) + spread)
            c = e0 - sign * k * row
            spread = radius * float(np.sqrt(max(c @ Sg @ c, 0.0)))
            lower = min(lower, float(c @ g) - spread)
    return lower, upper


# --------------------------------------------------------------------------------------------
# sensitivity table and breakdown value
# --------------------------------------------------------------------------------------------

_METHODS = {"SD": ("FLCI",), "RM": ("bonferroni", "projection")}


def _interval(b: np.ndarray, S: np.ndarray, npre: int, m: float, method: str,
              lv: np.ndarray, alpha: float) -> tuple[float, float]:
    if method == "FLCI":
        r = flci_sd(b, S, npre, m, lv, alpha)
        return r.lb, r.ub
    if method == "bonferroni":
        return bonferroni_ci_rm(b, S, npre, m, lv, alpha)
    return projection_ci_rm(b, S, npre, m, lv, alpha)


def _check_method(restriction: str, method: str | None, where: str) -> str:
    if restriction not in _METHODS:
        raise ValueError(f"{where}: `restriction` must be 'SD' (smoothness) or 'RM' (relative "
                         f"magnitudes), got {restriction!r}")
    if method is None:
        return _METHODS[restriction][0]
    if method not in _METHODS[restriction]:
        raise ValueError(f"{where}: `method` for restriction {restriction!r} must be one of "
                         f"{_METHODS[restriction]}, got {method!r}")
    return method


def sensitivity(betahat: _ArrayLike, sigma: _ArrayLike, num_pre: int, ms: _ArrayLike, *,
                restriction: str = "SD", method: str | None = None,
                l_vec: _ArrayLike | None = None, alpha: float = 0.05) -> pd.DataFrame:
    r"""Robust confidence intervals over a grid of bounds, with the original interval first.

    Parameters
    ----------
    betahat, sigma, num_pre, l_vec, alpha
        As in :func:`flci_sd`.
    ms : array_like
        Values of :math:`M` (``restriction="SD"``) or :math:`\bar M` (``"RM"``), each >= 0.
    restriction : {"SD", "RM"}, default "SD"
        Smoothness or relative magnitudes.
    method : str, optional
        ``"FLCI"`` for ``SD``; ``"bonferroni"`` (default) or ``"projection"`` for ``RM``.

    Returns
    -------
    pandas.DataFrame
        Columns ``M``, ``lb``, ``ub``, ``method`` (``original`` or the method) and
        ``excludes_zero``; the first row is the usual interval for :math:`l'\hat\beta_{post}`
        (``M`` NaN).

    Raises
    ------
    ValueError
        For malformed input, an unknown ``restriction`` or a negative bound.

    Examples
    --------
    >>> t = sensitivity([0.1, 0.5], np.eye(2) * 0.01, 1, [0.0, 3.0], restriction="RM")
    >>> t["method"].tolist(), t["excludes_zero"].tolist()
    (['original', 'bonferroni', 'bonferroni'], [True, True, False])
    """
    where = "sensitivity"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    S = _check_sigma(sigma, b.size, where)
    lv = _check_l(l_vec, npost, where)
    alpha = _check_alpha(alpha, where)
    method = _check_method(restriction, method, where)
    grid = [_check_m(m, "ms", where) for m in np.atleast_1d(np.asarray(ms, dtype=float))]
    est = float(lv @ b[npre:])
    se = float(np.sqrt(lv @ S[npre:, npre:] @ lv))
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = [{"M": np.nan, "lb": est - z * se, "ub": est + z * se, "method": "original"}]
    for m in grid:
        lo, hi = _interval(b, S, npre, m, method, lv, alpha)
        rows.append({"M": m, "lb": lo, "ub": hi, "method": method})
    out = pd.DataFrame(rows)
    out["excludes_zero"] = (out["lb"] > 0) | (out["ub"] < 0)
    return out


def breakdown_value(betahat: _ArrayLike, sigma: _ArrayLike, num_pre: int, *,
                    restriction: str = "RM", method: str | None = None,
                    l_vec: _ArrayLike | None = None, alpha: float = 0.05,
                    tol: float = 1e-4) -> float:
    r"""Largest bound :math:`M` (or :math:`\bar M`) at which the robust interval excludes zero.

    Found by doubling and bisection, assuming that once the interval contains zero it does so for
    every larger bound (true for the intervals for :math:`\Delta^{RM}`, which only widen; the
    FLCI's half-length grows with :math:`M` but its centre may move). Returns ``0.0`` when the
    interval at bound zero already contains zero.

    Parameters
    ----------
    betahat, sigma, num_pre, l_vec, alpha
        As in :func:`flci_sd`.
    restriction : {"RM", "SD"}, default "RM"
        Relative magnitudes or smoothness.
    method : str, optional
        As in :func:`sensitivity`.
    tol : float, default 1e-4
        Absolute tolerance of the bisection.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For malformed input, an unknown ``restriction`` or a non-positive ``tol``.

    Examples
    --------
    >>> S = np.eye(3) * 0.0004
    >>> bd = breakdown_value([-0.02, -0.01, 0.2], S, 2, restriction="RM", method="projection")
    >>> lo, _ = projection_ci_rm([-0.02, -0.01, 0.2], S, 2, bd)
    >>> bool(abs(lo) < 1e-3), round(bd, 1)
    (True, 2.1)
    """
    where = "breakdown_value"
    b, npre, npost = _check_beta(betahat, num_pre, where)
    S = _check_sigma(sigma, b.size, where)
    lv = _check_l(l_vec, npost, where)
    alpha = _check_alpha(alpha, where)
    method = _check_method(restriction, method, where)
    if not (isinstance(tol, int | float) and tol > 0):
        raise ValueError(f"{where}: `tol` must be positive, got {tol!r}")

    def significant(m: float) -> bool:
        lo, hi = _interval(b, S, npre, m, method, lv, alpha)
        return lo > 0 or hi < 0

    if not significant(0.0):
        return 0.0
    lo, hi = 0.0, 1.0
    while significant(hi):
        lo, hi = hi, 2 * hi
        if hi > 1e8:
            raise ValueError(f"{where}: the interval excludes zero at every bound up to 1e8; "
                             "check that the pre-period coefficients are not all zero")
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if significant(mid) else (lo, mid)
    return lo

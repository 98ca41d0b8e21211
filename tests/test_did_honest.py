"""Tests for helpers.did.honest (Rambachan-Roth honest DiD sensitivity).

Known answers: closed-form identified sets, an independent linear programme for Delta-RM, the limit
of the FLCI as the sampling variance vanishes, coverage by simulation, and R ``HonestDiD``'s output
on its Benzarti-Carloni example (``BCdata_EventStudy``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from helpers.did import (
    bonferroni_ci_rm,
    breakdown_value,
    flci_sd,
    identified_set_rm,
    identified_set_sd,
    projection_ci_rm,
    sensitivity,
)
from helpers.did.honest import _sd_basis

# R HonestDiD's BCdata_EventStudy (Benzarti and Carloni 2019, French VAT cut for restaurants):
# four pre- and four post-period coefficients and their covariance, to the 10 digits recorded
# with R's output in the test fixtures of HonestDiD.jl (eohne/HonestDiD.jl, test/reference.jl,
# "auto-generated reference values from the R HonestDiD package").
BC_BETA = np.array([0.006696351804, 0.02934503369, -0.006472972222, 0.0730149895,
                    0.1959611177, 0.3120639026, 0.2395415455, 0.1260425001])
BC_SIGMA = np.array([
    [0.0008428358124, 0.0004768686777, 0.0002618051076, 0.0002354220342,
     0.0001676371467, 0.0001128707663, 1.992816215e-05, -0.0001368265366],
    [0.0004768686777, 0.0006425420288, 0.0003987425007, 0.0002435515198,
     0.0002201960306, 0.0001804591157, 3.84376508e-05, -2.960421989e-05],
    [0.0002618051076, 0.0003987425007, 0.0005229949602, 0.000211768609,
     0.0001840722252, 0.000145852784, 7.005197403e-05, 5.952994979e-05],
    [0.0002354220342, 0.0002435515198, 0.000211768609, 0.0003089595411,
     0.0001197866077, 0.0001334081317, 0.0001016335009, 0.0001079051726],
    [0.0001676371467, 0.0002201960306, 0.0001840722252, 0.0001197866077,
     0.000359970436, 0.0002478818642, 0.0001749579242, 0.0001654256921],
    [0.0001128707663, 0.0001804591157, 0.000145852784, 0.0001334081317,
     0.0002478818642, 0.0004263949813, 0.0002171437809, 0.0002892747871],
    [1.992816215e-05, 3.84376508e-05, 7.005197403e-05, 0.0001016335009,
     0.0001749579242, 0.0002171437809, 0.0004886697861, 0.0003805322049],
    [-0.0001368265366, -2.960421989e-05, 5.952994979e-05, 0.0001079051726,
     0.0001654256921, 0.0002892747871, 0.0003805322049, 0.000761739444],
])
# R: createSensitivityResults(..., method = "FLCI", Mvec = c(0, 0.1, 0.2)) for the first post period
R_FLCI = [(0.0, 0.131411316, 0.2161696482), (0.1, 0.1194440001, 0.4185082143),
          (0.2, 0.01944400015, 0.5185082143)]
R_ORIGINAL = (0.15877494280765, 0.233147292681241)  # constructOriginalCS


# ------------------------------------------------------------------------------ R's numbers


@pytest.mark.parametrize(("m", "lb", "ub"), R_FLCI)
def test_flci_matches_r_honestdid_on_benzarti_carloni(m: float, lb: float, ub: float) -> None:
    # R finds the FLCI on a grid of standard deviations and takes the folded-normal quantile
    # from 1e6 simulated draws; the exact optimum here differs by about 5e-5
    r = flci_sd(BC_BETA, BC_SIGMA, 4, m)
    assert r.lb == pytest.approx(lb, abs=2e-4)
    assert r.ub == pytest.approx(ub, abs=2e-4)


def test_flci_weights_at_m_01_are_rs() -> None:
    # R's optimal vector at M = 0.1 (findOptimalFLCI$optimalVec): beta_1 + beta_{-1}
    r = flci_sd(BC_BETA, BC_SIGMA, 4, 0.1)
    np.testing.assert_allclose(r.weights, [0, 0, 0, 1, 1, 0, 0, 0], atol=1e-5)


def test_original_interval_matches_r() -> None:
    t = sensitivity(BC_BETA, BC_SIGMA, 4, [0.0])
    assert t.loc[0, "method"] == "original"
    assert (t.loc[0, "lb"], t.loc[0, "ub"]) == pytest.approx(R_ORIGINAL, abs=1e-8)


# ------------------------------------------------------------------------------ identified sets


def test_sd_identified_set_with_m0_is_the_linear_extrapolation() -> None:
    b = np.array([-0.3, -0.2, -0.1, 0.5, 0.8, 0.9])  # an exact linear pre-trend of 0.1 a period
    for j, t in enumerate((1, 2, 3)):
        lo, hi = identified_set_sd(b, 3, 0.0, l_vec=np.eye(3)[j])
        assert lo == pytest.approx(b[3 + j] - 0.1 * t, abs=1e-10)
        assert hi == pytest.approx(lo, abs=1e-10)


@pytest.mark.parametrize("l_vec", [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3], [1, -1, 0.5]])
def test_sd_identified_set_closed_form(l_vec: list[float]) -> None:
    # delta_t = slope t + sum_{k<t} (t - k) d_k, |d_k| <= M: half-length M sum_k |sum_t l_t (t - k)|
    b = np.array([0.02, 0.0, -0.01, 0.3, 0.4, 0.45])
    lv, m = np.asarray(l_vec, float), 0.04
    slope = 0.0 - b[2]
    centre = lv @ b[3:] - lv @ (slope * np.arange(1, 4))
    half = m * sum(abs(sum(lv[t - 1] * (t - k) for t in range(k + 1, 4))) for k in range(3))
    lo, hi = identified_set_sd(b, 3, m, l_vec=lv)
    assert (lo, hi) == pytest.approx((centre - half, centre + half), abs=1e-9)


def test_sd_identified_set_is_empty_when_pre_periods_violate_m() -> None:
    with pytest.raises(ValueError, match=r"second difference of 0\.4 > M = 0\.1.*M >= 0\.4"):
        identified_set_sd([0.0, 0.2, 0.0, 0.5], 3, 0.1)


def test_rm_identified_set_with_mbar0_is_the_estimate() -> None:
    assert identified_set_rm(BC_BETA, 4, 0.0) == pytest.approx((BC_BETA[4], BC_BETA[4]), abs=1e-12)
    lv = [0.25] * 4
    assert identified_set_rm(BC_BETA, 4, 0.0, lv) == pytest.approx((BC_BETA[4:].mean(),) * 2, abs=1e-12)


@pytest.mark.parametrize("l_vec", [[1, 0, 0, 0], [0, 0, 1, 0], [0.25] * 4, [1, -2, 0, 1]])
@pytest.mark.parametrize("mbar", [0.5, 1.0, 2.0])
def test_rm_identified_set_matches_a_linear_programme(l_vec: list[float], mbar: float) -> None:
    lv = np.asarray(l_vec, float)
    pre = np.concatenate([BC_BETA[:4], [0.0]])
    bound = mbar * np.abs(np.diff(pre)).max()
    # |delta_{t+1} - delta_t| <= bound for t = 0..3, delta_0 = 0: D x in [-bound, bound]
    D = np.eye(4) - np.eye(4, k=-1)
    A_ub, b_ub = np.vstack([D, -D]), np.full(8, bound)
    lo_d = optimize.linprog(lv, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * 4).fun
    hi_d = -optimize.linprog(-lv, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * 4).fun
    base = lv @ BC_BETA[4:]
    assert identified_set_rm(BC_BETA, 4, mbar, lv) == pytest.approx((base - hi_d, base - lo_d), abs=1e-9)


def test_sd_basis_reconstructs_any_path() -> None:
    rng = np.random.default_rng(1)
    times, G, ks = _sd_basis(3, 4)
    full = np.concatenate([rng.normal(size=3), [0.0], rng.normal(size=4)])
    d = full[2:] - 2 * full[1:-1] + full[:-2]
    slope = full[3] - full[2]
    np.testing.assert_allclose(slope * times + G @ d, np.delete(full, 3), atol=1e-12)
    assert ks.tolist() == [-2, -1, 0, 1, 2, 3]


# ------------------------------------------------------------------------------ intervals


@pytest.mark.parametrize("m", [0.0, 0.05])
def test_flci_ignores_a_linear_trend(m: float) -> None:
    # adding c * t to every coefficient (a linear difference in trends) leaves the estimate unchanged
    t = np.array([-4, -3, -2, -1, 1, 2, 3, 4], float)
    for lv in ([1, 0, 0, 0], [0.25] * 4):
        r0 = flci_sd(BC_BETA, BC_SIGMA, 4, m, lv)
        r1 = flci_sd(BC_BETA + 0.37 * t, BC_SIGMA, 4, m, lv)
        assert r1.estimate == pytest.approx(r0.estimate, abs=1e-10)
        assert r1.half_length == pytest.approx(r0.half_length, rel=1e-8)


def test_flci_tends_to_the_identified_set_as_the_variance_vanishes() -> None:
    b = np.array([-0.03, -0.02, -0.01, 0.2, 0.25])  # linear pre-trend: consistent with every M
    for m in (0.0, 0.01, 0.05):
        r = flci_sd(b, np.eye(5) * 1e-14, 3, m, l_vec=[0.5, 0.5])
        lo, hi = identified_set_sd(b, 3, m, l_vec=[0.5, 0.5])
        assert (r.lb, r.ub) == pytest.approx((lo, hi), abs=1e-5)


def test_bonferroni_interval_is_the_identified_set_widened() -> None:
    lv = np.array([0.25] * 4)
    se = np.sqrt(lv @ BC_SIGMA[4:, 4:] @ lv)
    ch = np.diff(np.concatenate([BC_BETA[:4], [0.0]]))
    A = np.diff(np.vstack([np.eye(8)[:4], np.zeros(8)]), axis=0)  # the changes as rows of weights
    ch_se = np.sqrt(np.diag(A @ BC_SIGMA @ A.T))
    upper = np.max(np.abs(ch) + stats.norm.ppf(1 - 0.01 / 8) * ch_se)
    for mbar in (0.0, 1.0, 2.0):
        lo, hi = bonferroni_ci_rm(BC_BETA, BC_SIGMA, 4, mbar, l_vec=lv)
        half = stats.norm.ppf(1 - 0.02) * se + mbar * 2.5 * upper  # kappa = 1 + .75 + .5 + .25
        assert (lo, hi) == pytest.approx((lv @ BC_BETA[4:] - half, lv @ BC_BETA[4:] + half), abs=1e-12)
        ilo, ihi = identified_set_rm(BC_BETA, 4, mbar, l_vec=lv)
        assert lo < ilo <= ihi < hi
    # neither conservative interval contains the other in general; at M-bar = 0 Bonferroni's is shorter
    assert np.diff(bonferroni_ci_rm(BC_BETA, BC_SIGMA, 4, 0.0)) < np.diff(projection_ci_rm(BC_BETA, BC_SIGMA, 4, 0.0))


def test_projection_interval_contains_the_identified_set_and_the_original_one() -> None:
    for mbar in (0.0, 0.5, 1.0, 2.0):
        lo, hi = projection_ci_rm(BC_BETA, BC_SIGMA, 4, mbar)
        ilo, ihi = identified_set_rm(BC_BETA, 4, mbar)
        assert lo < ilo <= ihi < hi
    lo, hi = projection_ci_rm(BC_BETA, BC_SIGMA, 4, 0.0)
    assert lo < R_ORIGINAL[0] and hi > R_ORIGINAL[1]


def _draws(delta: np.ndarray, tau: np.ndarray, sigma: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.multivariate_normal(np.concatenate([delta[:3], tau + delta[3:]]), sigma, size=n)


def test_flci_and_projection_cover_the_truth_under_their_restrictions() -> None:
    # a linear difference in trends (in Delta^SD(0) and Delta^RM(1)); 400 draws of beta-hat
    sigma = 0.01 * (0.5 * np.eye(6) + 0.5)
    delta = 0.15 * np.array([-3, -2, -1, 1, 2, 3], float)
    tau = np.array([0.2, 0.2, 0.2])
    B = _draws(delta, tau, sigma, 400, seed=3)
    flci = np.mean([(lambda r: r.lb <= 0.2 <= r.ub)(flci_sd(b, sigma, 3, 0.0)) for b in B])
    proj = np.mean([(lambda c: c[0] <= 0.2 <= c[1])(projection_ci_rm(b, sigma, 3, 1.0)) for b in B])
    bonf = np.mean([(lambda c: c[0] <= 0.2 <= c[1])(bonferroni_ci_rm(b, sigma, 3, 1.0)) for b in B])
    naive = np.mean(np.abs(B[:, 3] - 0.2) <= 1.96 * 0.1)
    mcse = np.sqrt(0.05 * 0.95 / 400)
    assert abs(flci - 0.95) < 3 * mcse, flci  # exact: the FLCI with M = 0 is unbiased here
    assert proj >= 0.95 - 3 * mcse, proj  # conservative
    assert bonf >= 0.95 - 3 * mcse, bonf
    assert naive < 0.85, naive  # the usual interval ignores the trend's bias of 0.15


def test_breakdown_value_is_where_the_interval_reaches_zero() -> None:
    for method, ci in (("projection", projection_ci_rm), ("bonferroni", bonferroni_ci_rm)):
        bd = breakdown_value(BC_BETA, BC_SIGMA, 4, restriction="RM", method=method, tol=1e-6)
        assert ci(BC_BETA, BC_SIGMA, 4, bd)[0] > 0 > ci(BC_BETA, BC_SIGMA, 4, bd + 1e-5)[0], method
    bd_sd = breakdown_value(BC_BETA, BC_SIGMA, 4, restriction="SD", tol=1e-5)
    assert flci_sd(BC_BETA, BC_SIGMA, 4, bd_sd).lb > 0 > flci_sd(BC_BETA, BC_SIGMA, 4, bd_sd + 1e-4).lb
    # not significant even without a violation: 0
    assert breakdown_value([0.01, 0.0], np.eye(2), 1) == 0.0


def test_sensitivity_table() -> None:
    t = sensitivity(BC_BETA, BC_SIGMA, 4, [0.0, 0.1, 0.2])
    assert t["method"].tolist() == ["original", "FLCI", "FLCI", "FLCI"]
    np.testing.assert_allclose(t[["lb", "ub"]].to_numpy()[1:], [r[1:] for r in R_FLCI], atol=2e-4)
    assert t["excludes_zero"].all()


def test_critical_value_is_the_folded_normal_quantile() -> None:
    from helpers.did.honest import _cv_folded
    for b in (0.0, 0.5, 3.0):
        c = _cv_folded(b, 0.05)
        assert stats.norm.cdf(c - b) - stats.norm.cdf(-c - b) == pytest.approx(0.95, abs=1e-9)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: identified_set_sd([0.1, 0.2], 1, -0.1), "`m` must be finite and non-negative"),
        (lambda: identified_set_rm([0.1, 0.2], 1, float("nan")), "`mbar` must be finite"),
        (lambda: identified_set_rm([0.1, 0.2], 2, 1.0), "`num_pre` must be between 1 and"),
        (lambda: identified_set_rm([0.1, 0.2], 1.5, 1.0), "`num_pre` must be an integer"),
        (lambda: identified_set_rm([0.1], 1, 1.0), "at least two event-study coefficients"),
        (lambda: identified_set_rm([0.1, 0.2, 0.3], 1, 1.0, l_vec=[1]), "one weight per post-period"),
        (lambda: identified_set_rm([0.1, 0.2, 0.3], 1, 1.0, l_vec=[0, 0]), "not all zero"),
        (lambda: flci_sd([0.1, 0.2], np.eye(3), 1, 0.1), "2 x 2 covariance matrix"),
        (lambda: flci_sd([0.1, 0.2], [[1, 0.5], [0.4, 1]], 1, 0.1), "not symmetric"),
        (lambda: flci_sd([0.1, 0.2], [[1, 2], [2, 1]], 1, 0.1), "not positive semi-definite"),
        (lambda: flci_sd([0.1, 0.2], np.eye(2), 1, 0.1, alpha=1.5), "`alpha` must be in"),
        (lambda: projection_ci_rm([0.1, np.inf], np.eye(2), 1, 0.1), "non-finite"),
        (lambda: sensitivity([0.1, 0.2], np.eye(2), 1, [0.1], restriction="X"), "'SD'.*'RM'"),
        (lambda: sensitivity([0.1, 0.2], np.eye(2), 1, [0.1, -1.0]), "`ms` must be finite and non-neg"),
        (lambda: breakdown_value([0.1, 0.2], np.eye(2), 1, tol=0), "`tol` must be positive"),
        (lambda: breakdown_value([0.1, 0.2], np.eye(2), 1, method="FLCI"), "must be one of"),
        (lambda: bonferroni_ci_rm([0.1, 0.2], np.eye(2), 1, 1.0, alpha_pre=0.05), "`alpha_pre` must be in"),
    ],
)
def test_bad_input_is_named(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()

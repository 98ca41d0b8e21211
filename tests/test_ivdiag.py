"""Tests for helpers.ivdiag.first_stage_f.

Known answers: under the iid variance the effective F equals the textbook F of the excluded
instruments (Montiel Olea and Pflueger 2013, sec. 3), which equals pyfixest's Wald test; with one
instrument the effective F equals the robust Wald F; clustered errors with a cluster-level
instrument give a robust F far below the non-robust one; bad input fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.ivdiag import first_stage_f


def _sim(seed: int = 0, n_cl: int = 40, per: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cl = np.repeat(np.arange(n_cl), per)
    z1 = rng.normal(size=n_cl)[cl] + 0.3 * rng.normal(size=cl.size)  # mostly cluster-level
    z2 = rng.normal(size=cl.size)
    x = rng.normal(size=cl.size)
    d = 0.2 * z1 + 0.1 * z2 + 0.5 * x + rng.normal(size=n_cl)[cl] + rng.normal(size=cl.size)
    return pd.DataFrame({"d": d, "z1": z1, "z2": z2, "x": x, "cl": cl, "fe": np.tile(np.arange(per), n_cl)})


def test_effective_f_equals_the_textbook_f_under_iid() -> None:
    df = _sim()
    out = first_stage_f(df, "d ~ z1 + z2 + x | fe", ["z1", "z2"], vcov="iid")
    assert out["F_eff"] == pytest.approx(out["F_nonrobust"], rel=1e-10)
    assert out["F_robust"] == pytest.approx(out["F_nonrobust"], rel=1e-12)
    fit = pf.feols("d ~ z1 + z2 + x | fe", df, vcov="iid")
    R = np.zeros((2, 3))
    R[0, 0] = R[1, 1] = 1.0
    wald = float(fit.wald_test(R=R, distribution="chi2")["statistic"]) / 2
    assert out["F_nonrobust"] == pytest.approx(wald, rel=1e-8)
    assert out["k"] == 2 and out["stock_yogo_10"] == 19.93


def test_one_instrument_effective_equals_robust_and_clusters_shrink_it() -> None:
    df = _sim(seed=1)
    out = first_stage_f(df, "d ~ z1 + x | fe", ["z1"], vcov={"CRV1": "cl"})
    assert out["F_eff"] == pytest.approx(out["F_robust"], rel=1e-10)
    assert out["F_robust"] < 0.5 * out["F_nonrobust"]  # a cluster-level instrument, correlated errors


def test_bad_input() -> None:
    df = _sim()
    with pytest.raises(ValueError, match="not regressors"):
        first_stage_f(df, "d ~ z1 + x", ["z3"])
    with pytest.raises(ValueError, match="not an IV formula"):
        first_stage_f(df, "y ~ x | fe | d ~ z1", ["z1"])

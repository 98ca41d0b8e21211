"""Acceptance tests of the bigdata-innovation-fusion twin (spec 004).

Targets: spec 004 Table 2 (descriptive statistics), sec. 2.1 (389 treated city-years), Figure 1
(national FI 0.2083 in 2010, 0.2736 in 2022), Table 6 sample sizes (1,872 and 1,612).
"""

from __future__ import annotations

import warnings

import numpy as np
import pyfixest as pf
import pytest

from helpers.twins import available_twins, load_twin, twin_banner
from helpers.twins import bigdata_innovation_fusion as B
from helpers.twins.engine import Twin, hash_frame
from helpers.twins.loader import read_calibration

SLUG = "bigdata-innovation-fusion"


@pytest.fixture(scope="module")
def twin() -> Twin:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the "simulated" warning is tested below
        return load_twin(SLUG)


def test_sizes_and_treatment(twin: Twin) -> None:
    p = twin.panel
    assert len(p) == 3679 and p.city_id.nunique() == 283 and p.year.nunique() == 13
    assert int(p.Bigdata.sum()) == 389
    assert p.Bigdata.mean() == pytest.approx(0.1057, abs=5e-5)
    assert int(p.sample_diggre.sum()) == 1872 and int(p.sample_digine.sum()) == 1612


def test_descriptive_targets_within_5_percent(twin: Twin) -> None:
    targets = read_calibration(SLUG)["targets"]
    for var, t in targets.items():
        x = twin.panel[var]
        assert x.mean() == pytest.approx(t["mean"], rel=0.05), var
        assert x.std() == pytest.approx(t["sd"], rel=0.05), var


def test_fi_path_and_regions(twin: Twin) -> None:
    path = twin.panel.groupby("year").FI.mean()
    assert path[2010] == pytest.approx(0.2083, abs=1e-4) and path[2022] == pytest.approx(0.2736, abs=1e-4)
    reg = twin.panel.groupby("region").FI.mean()
    assert reg["East"] > reg["Central"] > max(reg["West"], reg["Northeast"])


def test_fi_is_the_reference_construction_of_the_raw_indicators(twin: Twin) -> None:
    ind = twin.raw["indicators"]
    assert ind.shape == (3679, 2 + 22)
    out = B.reference_construction(ind)
    np.testing.assert_allclose(out["FI"].to_numpy(), twin.panel["FI"].to_numpy(), atol=1e-10)
    assert twin.truth["index_backout_max_abs_error"] < 1e-8
    w = out.attrs["weights"]
    assert abs(sum(v for k, v in w.items() if B.INDICATORS[k][0] == "Y1") - 1) < 1e-12


def test_indices_helper_agrees_when_available(twin: Twin) -> None:
    indices = pytest.importorskip("helpers.indices")
    if not hasattr(indices, "coupling_coordination"):
        pytest.skip("helpers.indices.coupling_coordination not written yet")
    out = B.reference_construction(twin.raw["indicators"])
    cc = indices.coupling_coordination(out["Y1"], out["Y2"])
    np.testing.assert_allclose(np.asarray(cc["D"]), out["FI"].to_numpy(), atol=1e-10)


def test_total_att_is_the_calibrated_effect(twin: Twin) -> None:
    # tau_FI (Table 3 col. 6) is set in population as the total ATT over the 389 treated city-years
    assert twin.truth["att_FI_realized"] == pytest.approx(0.0269, abs=1e-12)
    d = twin.meta["design"]
    assert d["te_row"][twin.panel["Bigdata"].to_numpy() == 0].max() == 0


def test_estimand_is_the_spec_on_the_noise_free_outcome(twin: Twin) -> None:
    # known answer: with no outcome noise the TWFE of Table 3 col. 6 returns the stored estimand,
    # which is close to the calibrated total ATT (it weights the heterogeneous effects by the
    # residual variance of Bigdata)
    free = B._noise_free(twin.panel, twin.meta["design"])
    spec = next(s for s in B.SPECS if s.key == "table3/col6")
    b = pf.feols(spec.formula, free, vcov="hetero").coef()["Bigdata"]
    est = twin.truth["rows"]["table3/col6/Bigdata"]["estimand"]
    assert b == pytest.approx(est, abs=1e-9)
    assert abs(est - twin.truth["tau_FI"]) < 0.05 * twin.truth["tau_FI"]
    for m, g in twin.truth["gamma"].items():  # mediators: close to gamma (levels of a skewed transform)
        assert abs(twin.truth["rows"][f"table4/{m}/Bigdata"]["estimand"] - g) < 0.15 * g, m


def test_iv_estimands_are_the_mean_of_2sls_over_redraws(twin: Twin) -> None:
    # known answer: with the design (Bigdata, instruments, controls) fixed, 2SLS is linear in FI, so
    # its mean over redraws of the outcome shocks is the 2SLS on the noise-free FI (the estimand)
    p = twin.panel.copy()
    for c in B.CONTROLS:
        p[f"{c}2"] = p[c] ** 2
    net_lag = p.groupby("year")["netizens_national"].first().shift(1)
    p["net_lag"] = p["year"].map(net_lag) / 1e8
    keep = p["net_lag"].notna().to_numpy()
    ivd = p[keep].reset_index(drop=True)
    draws = twin.redraw(30, seed=7)["FI"][keep]
    for key, inst in (("iv_relief", "relief"), ("iv_phones", "phones1984")):
        d = ivd.assign(Z=ivd[inst] * ivd["net_lag"])
        b = np.array([pf.feols(f"FI ~ {B._X2} | city_id + year | Bigdata ~ Z", d.assign(FI=draws[:, r]))
                      .coef()["Bigdata"] for r in range(draws.shape[1])])
        est = twin.truth["rows"][f"robustness/{key}/Bigdata"]["estimand"]
        assert abs(b.mean() - est) < 4 * b.std(ddof=1) / np.sqrt(len(b)), key
    assert twin.truth["rows"]["robustness/predetermined/Bigdata"]["estimand"] > 0


def test_noise_free_mediators_are_the_mean_of_redraws(twin: Twin) -> None:
    draws = twin.redraw(400, seed=99)
    free = B._noise_free(twin.panel, twin.meta["design"])
    for m in ("FI", *B.MEDIATORS):
        gap = draws[m].mean(axis=1) - free[m].to_numpy()
        mcse = draws[m].std(axis=1) / np.sqrt(400)
        assert np.mean(np.abs(gap) < 3 * mcse + 1e-12) > 0.99, m


def test_redraw_reproduces_the_draw_map(twin: Twin) -> None:
    # the panel's mediators are the fixed marginal map of their latent draw plus gamma * Bigdata
    d = twin.meta["design"]
    for m in B.MEDIATORS:
        assert set(d["med_map"][m]) == {"skew", "A", "B", "zq", "lo", "hi"}
    r = twin.redraw(2, seed=5)
    assert r["VCPE1"].min() >= 0 and (r["VCPE1"] == 0).mean() > 0.3  # the point mass survives


def test_no_noise_is_projected_out() -> None:
    # the forcing device of the old twin (noise orthogonalised against the policy regressors) is gone
    import inspect

    src = inspect.getsource(B)
    assert "_chance_coefs" not in src and "orthogonalize_noise" not in src
    assert "orthogonalize_noise" not in read_calibration(SLUG)["noise"]


def test_heterogeneity_truth_is_larger_in_high_groups(twin: Twin) -> None:
    for h, groups in twin.truth["tau_by_group"].items():
        assert groups[1] > groups[0] > 0, h
        row = twin.truth["rows"][f"table5/{h}/Bigdata"]
        assert row["effect"] == pytest.approx(groups[0])  # total effect, mediated path included
    assert (twin.panel.groupby("province").Elec.nunique() == 1).all()  # Elec is province-level


def test_same_seed_same_frames_other_seed_differs() -> None:
    a, b, c = B.build("quick", seed=7), B.build("quick", seed=7), B.build("quick", seed=8)
    assert hash_frame(a.panel) == hash_frame(b.panel)
    assert hash_frame(a.raw["indicators"]) == hash_frame(b.raw["indicators"])
    assert hash_frame(a.panel) != hash_frame(c.panel)


def test_load_twin_warns_and_marks_frames() -> None:
    with pytest.warns(UserWarning, match="simulated"):
        t = load_twin(SLUG, scale="quick")
    assert t.panel.attrs["simulated"] is True and t.panel.attrs["twin"] == SLUG
    assert all(f.attrs["simulated"] for f in t.raw.values())
    assert t.panel.city_id.nunique() == 60 and t.meta["scale"] == "quick"
    assert "not findings about China" in twin_banner(t) and "seed" in twin_banner(t)
    assert "Simulated twin" in t.describe()


def test_unknown_and_unimplemented_slugs(monkeypatch: pytest.MonkeyPatch) -> None:
    import helpers.twins as twins

    assert SLUG in available_twins()
    with pytest.raises(ValueError, match="unknown paper slug 'bigdata'.*twins available"):
        load_twin("bigdata")
    # a registered slug whose builder module does not exist (yet) is not available
    monkeypatch.setitem(twins.REGISTRY, "ai-export-upgrading", "no_such_builder")
    assert "ai-export-upgrading" not in available_twins()
    with pytest.raises(ValueError, match="not implemented yet; twins available: .*bigdata-innovation-fusion"):
        load_twin("ai-export-upgrading")
    with pytest.raises(ValueError, match="scale must be one of"):
        load_twin(SLUG, scale="tiny")

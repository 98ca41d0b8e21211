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


def test_twfe_recovers_the_true_effect_within_2_se(twin: Twin) -> None:
    fit = pf.feols("FI ~ Bigdata + Gdp + Pas + Fin + Env + Ope | city_id+year", twin.panel,
                   vcov={"CRV1": "city_id"})
    b, se = fit.coef()["Bigdata"], fit.se()["Bigdata"]
    assert abs(b - twin.truth["tau_FI"]) < 2 * se
    assert twin.truth["att_FI_realized"] == pytest.approx(0.0269, abs=1e-12)


def test_mechanisms_recover_gamma_within_2_se(twin: Twin) -> None:
    for m, g in twin.truth["gamma"].items():
        fit = pf.feols(f"{m} ~ Bigdata + Gdp + Pas + Fin + Env + Ope | city_id+year", twin.panel,
                       vcov={"CRV1": "city_id"})
        assert abs(fit.coef()["Bigdata"] - g) < 2.5 * fit.se()["Bigdata"], m


def test_mediator_noise_is_orthogonal_to_bigdata_in_the_table4_specification(twin: Twin) -> None:
    # calibration: the noise has no chance correlation with Bigdata, so TWFE with the controls, their
    # squares and city and year effects returns gamma exactly; the city trends only widen the SEs
    p = twin.panel.assign(**{f"{c}2": twin.panel[c] ** 2 for c in ("Gdp", "Pas", "Fin", "Env", "Ope")})
    rhs = "Bigdata + Gdp + Pas + Fin + Env + Ope + Gdp2 + Pas2 + Fin2 + Env2 + Ope2 | city_id+year"
    for m, g in twin.truth["gamma"].items():
        fit = pf.feols(f"{m} ~ {rhs}", p, vcov={"CRV1": "city_id"})
        assert fit.coef()["Bigdata"] == pytest.approx(g, abs=1e-8 * max(1.0, abs(g) * 100)), m
        if m != "Talen":  # published t between 1.96 and 2.58 (Table 4): the twin's SE lands there too
            assert 1.96 < g / fit.se()["Bigdata"] < 2.58, m


def test_heterogeneity_truth_is_larger_in_high_groups(twin: Twin) -> None:
    for h, groups in twin.truth["tau_by_group"].items():
        assert groups[1] > groups[0] > 0, h
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

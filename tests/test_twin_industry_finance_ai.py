"""Acceptance tests of the industry-finance-ai twin (spec 000; only the paper's abstract is public).

Targets: spec 000 sec. 2 (2011-2023, 3,800-4,500 firms, 30,000-36,000 firm-years), sec. 6 (35-40 % of
firm-years in pilot cities; AI mean 0.8-1.2 and SD about 1.1; ATT 0.10-0.15; effect 1.5-2x in the
subgroups) and the typical A-share control moments recorded in data/industry-finance-ai/calibration.yml.
Known truth: the twin's potential outcomes (``twin.truth``).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.paths import REPO_ROOT
from helpers.twins import industry_finance_ai as M
from helpers.twins import load_panel, load_twin
from helpers.twins.engine import Twin, hash_frame
from helpers.twins.loader import read_calibration
from helpers.twins.policies import pilot_list

SLUG = "industry-finance-ai"
CTRL = " + ".join(c for c in M.CONTROLS if c != "Dual")  # Dual is firm-constant (absorbed)
FIXTURE = REPO_ROOT / "tests" / "fixtures" / f"{SLUG}_sample.csv"


@pytest.fixture(scope="module")
def twin() -> Twin:
    return M.build("full")


@pytest.fixture(scope="module")
def quick() -> Twin:
    return M.build("quick")


def _fit(formula: str, data: pd.DataFrame) -> pf.Feols:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyfixest: singleton FE dropped (IPO-year firms)
        return pf.feols(formula, data, vcov={"CRV1": "city_id"})


# ---- known answers: sizes, treatment, calibration targets --------------------------------------
def test_sizes_and_treatment(twin: Twin) -> None:
    cal = read_calibration(SLUG)
    p = twin.panel
    assert len(p) == cal["panel"]["n_obs"] == 35500
    assert p.firm_id.nunique() == 4000 and (p.year.min(), p.year.max()) == (2011, 2023)
    assert not p.duplicated(["firm_id", "year"]).any()
    assert 0.35 <= p.Treat.mean() <= 0.40  # spec sec. 6
    first = pilot_list("industry_finance")
    assert first.status == "reconstructed" and len(first.adoption) == 37
    assert set(p.loc[p.Treat == 1, "city_id"]) <= set(first.adoption)
    assert (p.DID == p.Treat * (p.year >= 2016)).all()
    assert set(p.cohort.unique()) == {0, 2016, 2021}
    assert (p.DID_stag == ((p.cohort > 0) & (p.year >= p.cohort))).all()
    assert M.second_batch().status == "reconstructed"


def test_descriptive_targets(twin: Twin) -> None:
    targets = read_calibration(SLUG)["targets"]
    for var, t in targets.items():
        x = twin.panel[var]
        if "sd" not in t:  # a share
            assert abs(x.mean() - t["mean"]) < 0.02, var
            continue
        assert x.mean() == pytest.approx(t["mean"], rel=0.05), var
        assert x.std() == pytest.approx(t["sd"], rel=0.05), var
    ai = twin.panel.AI
    assert 0.2 < (ai == 0).mean() < 0.5  # zero-inflated
    path = twin.panel.groupby("year").AI.mean()
    assert path[2023] - path[2022] > path[2015] - path[2014] > 0  # rising, and again in 2023


def test_quick_is_small_and_same_design(quick: Twin) -> None:
    assert len(quick.panel) == read_calibration(SLUG)["panel"]["n_obs_quick"]
    assert quick.panel.firm_id.nunique() == 300 and quick.meta["scale"] == "quick"
    assert quick.panel.AI.mean() == pytest.approx(1.0, rel=0.05)


# ---- the raw inputs rebuild the constructed indices through the helpers ------------------------
def test_template_word_counts_match_jieba() -> None:
    from helpers.text import keyword_frequency

    sents = [f for f, _ in M.FILLERS] + [M.NEG_TEMPLATE[0].format(t) for t in M.AI_TERMS]
    words = [w for _, w in M.FILLERS] + [M.NEG_TEMPLATE[1]] * len(M.AI_TERMS)
    for tmpl, w in M.AI_TEMPLATES:
        sents += [tmpl.format(t) for t in M.AI_TERMS]
        words += [w] * len(M.AI_TERMS)
    sents += [M.DATA_TEMPLATE.format(t) for t in M.DATA_TERMS]
    words += [M.DATA_WORDS[t] for t in M.DATA_TERMS]
    out = keyword_frequency(sents, "ai", by="total")
    assert out["n_words"].tolist() == words


def test_text_measures_rebuild(quick: Twin) -> None:
    from helpers.text import keyword_frequency

    texts = quick.raw["texts"]
    p = quick.panel
    assert (texts[["firm_id", "year"]].to_numpy() == p[["firm_id", "year"]].to_numpy()).all()
    ai = keyword_frequency(texts["mdna_text"], "ai", by="total")
    np.testing.assert_array_equal(ai["count"].to_numpy(), p["AI_count"].to_numpy())
    np.testing.assert_allclose(ai["ln1p_count"].to_numpy(), p["AI"].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(ai["freq_per_10k"].to_numpy(), p["AI_freq"].to_numpy(), rtol=1e-12)
    da = keyword_frequency(texts["mdna_text"], "data_assets", by="total")
    np.testing.assert_allclose(da["ln1p_count"].to_numpy(), p["DataAsset"].to_numpy(), atol=1e-12)
    # a few negated mentions (dropped only with exclude_negated=True) and traditional characters
    neg = keyword_frequency(texts["mdna_text"], "ai", by="total", exclude_negated=True)
    dropped = (ai["count"] - neg["count"]).to_numpy()
    assert set(np.unique(dropped)) == {0, 1} and 0.01 < dropped.mean() < 0.06
    assert texts["mdna_text"].str.contains("應用|數據|機器|學習").mean() > 0.005


def test_misallocation_financing_and_digital_index_rebuild(quick: Twin) -> None:
    from helpers.indices import entropy_index
    from helpers.misallocation import distortions

    p = quick.panel
    fi = quick.raw["firm_inputs"]
    d = distortions(fi, capital="capital", labor="labour", output="output")
    np.testing.assert_allclose(d["tau_K"].abs().to_numpy(), p["Misalloc_K"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(d["tau_L"].abs().to_numpy(), p["Misalloc_L"].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(M.ai_financing(quick.raw["financing"]).to_numpy(), p["AIFin"].to_numpy())
    cd = quick.raw["city_digital"]
    idx = cd[["city_id", "year"]].assign(DigiIndex=entropy_index(cd[list(M.DIGITAL_COLS)]).to_numpy())
    merged = p[["city_id", "year", "DigiIndex"]].merge(idx, on=["city_id", "year"], suffixes=("", "_r"))
    np.testing.assert_allclose(merged["DigiIndex"], merged["DigiIndex_r"], atol=1e-12)


# ---- the truth: estimands, effects, redraws (known answers) --------------------------------------
def test_truth_rows_cover_every_published_row(twin: Twin) -> None:
    from helpers.report import load_published

    pub = load_published(SLUG)
    keys = {f"{t}/{c}/{k}" for t, c, k in pub[["table", "column", "term"]].itertuples(index=False)}
    assert set(twin.truth["rows"]) == keys
    # every published column is an OLS/FE spec (fit_many) or a declared other row, never both
    specs = {s.key for s in M.SPECS}
    assert specs | set(M.OTHER_ROWS) == {k.rsplit("/", 1)[0] for k in keys} and not specs & set(M.OTHER_ROWS)
    assert 0.10 <= twin.truth["att_first_batch"] <= 0.15  # spec sec. 6 (calibrated in population)


def test_estimand_is_the_spec_on_the_expected_outcome(twin: Twin) -> None:
    # the estimand row is exactly the published specification fitted to E[outcome | design]
    exp = twin.meta["expected"]
    for spec in M.SPECS:
        data = spec.data(twin).assign(**{spec.outcome: exp.loc[spec.data(twin).index, spec.outcome]})
        b = _fit(spec.formula, data).coef()
        for pub, term in spec.terms.items():
            assert twin.truth["rows"][f"{spec.key}/{pub}"]["estimand"] == pytest.approx(b[term], abs=1e-9)


def test_robustness_estimands_are_the_mean_of_redraws(quick: Twin) -> None:
    # rows outside SPECS (OTHER_ROWS): the estimand is the estimator on E[AI | design], which is the
    # mean of its estimates over redraws because each estimator is linear in the outcome
    from helpers.design import fit_many
    from helpers.did import psm_did
    from helpers.did.psm import WEIGHT_COL

    p, rows = quick.panel, quick.truth["rows"]
    R = 200
    ys = M.redraw(quick, R, seed=7, outcomes=("AI",))["AI"]
    keep = M.robustness_sample(p, "drop_zones").to_numpy()
    assert 0 < keep.sum() < len(p)  # the AI-zone and big-data cities are dropped
    with warnings.catch_warnings(action="ignore", category=UserWarning):  # singleton firms dropped
        sims = fit_many(p[keep], M.ROBUSTNESS_FE["drop_zones"], ys[keep], vcov={"CRV1": "city_id"})
    b = sims.loc[sims["term"] == "DID", "estimate"].to_numpy()
    est = rows["table_robustness/drop_zones/DID"]["estimand"]
    assert abs(b.mean() - est) < 4 * b.std(ddof=1) / np.sqrt(R)
    # PSM-DID: the matching uses the controls only, so the matched sample is the same in every redraw
    ctrl = [c for c in M.CONTROLS if c != "Dual"]
    ps = psm_did(p, "AI", "DID", "firm_id", "year", ctrl, group="Treat", cluster="city_id")
    pos = p.index.get_indexer(ps.matched.index)
    fml = f"AI ~ DID + {' + '.join(ctrl)} | firm_id+year"
    with warnings.catch_warnings(action="ignore", category=UserWarning):  # singleton firms dropped
        bp = np.array([float(pf.feols(fml, ps.matched.assign(AI=ys[pos, r]), weights=WEIGHT_COL).coef()["DID"])
                       for r in range(40)])
    est = rows["table_robustness/psm/DID"]["estimand"]
    assert abs(bp.mean() - est) < 4 * bp.std(ddof=1) / np.sqrt(len(bp))
    # the staggered robust estimators target the balanced sample's ATT
    assert rows["table_staggered/col2/DID_stag"]["effect"] == quick.truth["att_staggered_balanced"]


def test_expected_outcomes_are_the_mean_of_redraws(quick: Twin) -> None:
    # exact expectations (rounding integrated out, Gauss-Hermite over the shocks) vs 400 redraws
    R = 400
    draws = M.redraw(quick, R, seed=99)
    exp = quick.meta["expected"]
    for o, arr in draws.items():
        mc = arr.mean(axis=0)  # one panel mean per replication
        z = (mc.mean() - exp[o].mean()) / (mc.std(ddof=1) / np.sqrt(R))
        assert abs(z) < 4, (o, z)
    count = np.expm1(draws["AI"]).mean(axis=0)
    assert abs(count.mean() - exp["AI_count"].mean()) < 4 * count.std(ddof=1) / np.sqrt(R)


def test_redraw_reproduces_the_build_formulas(quick: Twin) -> None:
    # the vectorized wedge equals helpers.misallocation on the same inputs
    from helpers.misallocation import distortions

    fi = quick.raw["firm_inputs"]
    g = np.log(fi["capital"] / (0.35 * fi["output"])).to_numpy()
    cell = pd.MultiIndex.from_arrays([fi["industry"], fi["year"]]).factorize()[0]
    d = distortions(fi, capital="capital", labor="labour", output="output")
    np.testing.assert_allclose(M._abs_tau(fi["output"].to_numpy(), g, cell), d["tau_K"].abs(), rtol=1e-9)
    with pytest.raises(ValueError, match="unknown outcome"):
        M.redraw(quick, 2, seed=1, outcomes=("GDP",))


def test_estimands_and_effects_have_the_abstract_directions(twin: Twin) -> None:
    rows = twin.truth["rows"]
    for key, sign in (("table_mechanism/col1/DID", 1), ("table_mechanism/col2/DID", -1),
                      ("table_mechanism/col3/DID", -1), ("table_mechanism/col4/DID", 1),
                      ("table_baseline/col2/DID", 1), ("table_staggered/col1/DID_stag", 1)):
        assert np.sign(rows[key]["estimand"]) == sign and np.sign(rows[key]["effect"]) == sign, key
    for h, g in twin.truth["tau_by_group"].items():
        assert 1.5 <= g[1] / g[0] <= 3.5, h  # spec sec. 6: 1.5-2x (up to 3x with correlated dummies)
        assert rows[f"table_heterogeneity/{h.lower()}/DID:{h}"]["effect"] > 0, h
    # forbidden comparisons: the staggered TWFE estimand falls short of the staggered ATT
    st = rows["table_staggered/col1/DID_stag"]
    assert st["estimand"] < 0.8 * st["effect"]
    # the wedges' DiD estimand misses the treated firms' effect (control wedges move too)
    mk = rows["table_mechanism/col2/DID"]
    assert abs(mk["estimand"] - mk["effect"]) > 0.1 * abs(mk["effect"])


def test_staggered_robust_estimators_target_the_att(twin: Twin) -> None:
    from helpers.did import staggered_did

    p = twin.panel
    q = p[(p.cohort == 0) | (p.entry_year < p.cohort)]  # firms with a pre-period
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = staggered_did(q, "AI", "firm_id", "year", "cohort", cluster="city_id",
                            estimators=("twfe", "sun_abraham", "imputation"))
    s = res.summary.set_index("estimator")
    truth = twin.truth["att_staggered"]
    for est in ("Sun-Abraham (IW)", "Imputation (Gardner/BJS)"):
        assert abs(s.loc[est, "estimate"] - truth) < 3 * s.loc[est, "se"], est
    assert min(twin.truth["event_path"]) == 0 and twin.truth["pre_effects"] == 0.0
    ev = twin.truth["event_path_first_batch"]
    assert all(ev[k + 1] > ev[k] for k in range(7))  # dynamic: builds up


# ---- determinism, banners, the real-data path ---------------------------------------------------
def test_same_seed_same_frames_other_seed_differs() -> None:
    a, b, c = M.build("quick", seed=7), M.build("quick", seed=7), M.build("quick", seed=8)
    for name in ("texts", "firm_inputs", "financing", "city_digital"):
        assert hash_frame(a.raw[name]) == hash_frame(b.raw[name]), name
    assert hash_frame(a.panel) == hash_frame(b.panel)
    assert hash_frame(a.panel) != hash_frame(c.panel)


def test_load_twin_warns_and_marks_frames() -> None:
    with pytest.warns(UserWarning, match="simulated"):
        t = load_twin(SLUG, scale="quick")
    assert t.panel.attrs["simulated"] is True and t.panel.attrs["twin"] == SLUG
    assert all(f.attrs["simulated"] for f in t.raw.values())
    assert "Simulated twin" in t.describe()
    assert set(t.truth["doc"]) <= set(t.truth)


def test_fixture_loads_and_runs_the_baseline() -> None:
    df = load_panel(SLUG, FIXTURE)
    assert df.attrs["simulated"] is False and df["year"].dtype.name == "int64"
    fit = _fit(f"AI ~ DID + {CTRL} | firm_id+year", df)
    assert np.isfinite(fit.coef()["DID"])


def test_broken_fixture_fails(tmp_path: Path) -> None:
    df = pd.read_csv(FIXTURE, dtype=str)
    bad = df.drop(columns=["AI"])
    bad.loc[0, "DID"] = "2"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing column 'AI'.*\n.*DID"):
        load_panel(SLUG, path)
    dup = tmp_path / "dup.csv"
    shutil.copy(FIXTURE, dup)
    pd.concat([df, df.head(1)]).to_csv(dup, index=False)
    with pytest.raises(ValueError, match="duplicate"):
        load_panel(SLUG, dup)


def test_published_directions() -> None:
    from helpers.report import load_published

    pub = load_published(SLUG)
    assert len(pub) == 21 and pub["coef"].isna().all() and pub["stars"].isna().all()
    row = pub.set_index(["table", "column", "term"])
    assert row.loc[("table_baseline", "col2", "DID"), "sign"] == "+"
    assert row.loc[("table_mechanism", "col2", "DID"), "sign"] == "-"  # misallocation falls
    assert row.loc[("table_heterogeneity", "lowinst", "DID:LowInst"), "sign"] == "+"


# ---- bad input ----------------------------------------------------------------------------------
def test_bad_input() -> None:
    f = pd.DataFrame({"ai_bank_loans": [1.0], "gov_special_funds": [0.0]})
    with pytest.raises(ValueError, match="lacks column"):
        M.ai_financing(f)
    with pytest.raises(ValueError, match="non-negative"):
        M.ai_financing(f.assign(ai_subsidies=[-1.0]))
    with pytest.raises(ValueError, match="after 2016"):
        M.second_batch(10, 2015)
    with pytest.raises(ValueError, match="scale must be"):
        M.build("paper")

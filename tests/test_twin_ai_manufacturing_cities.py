"""Acceptance tests of the ai-manufacturing-cities twin (spec 002).

Targets: spec 002 sec. 2.2 (every table's N), sec. 4.1 (2020 spatial facts: Shenzhen 643, CR1 0.22,
CR5 0.415, size classes 192 / 124 / 46 / 4 / 1 over 367 units), sec. 4.2 (covariate moments, the spec's
defaults), Tables 1-6 (published coefficients, data/ai-manufacturing-cities/published.yml).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.twins import ai_manufacturing_cities as M
from helpers.twins import load_panel, load_twin
from helpers.twins.engine import Twin, hash_frame
from helpers.twins.loader import read_calibration

SLUG = "ai-manufacturing-cities"
FIXTURE = Path(__file__).parent / "fixtures" / f"{SLUG}_sample.csv"
CTRL = "ln_pop + ln_emp_unit + ln_rd"


@pytest.fixture(scope="module")
def twin() -> Twin:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the "simulated" warning is tested below
        return load_twin(SLUG)


@pytest.fixture(scope="module")
def quick() -> Twin:
    return M.build("quick")


def _n(df: pd.DataFrame, cols: list[str]) -> int:
    return int(df[cols].notna().all(axis=1).sum())


# ---- known answers: sample sizes and the 2020 spatial facts ------------------------------------
def test_every_published_n_exactly(twin: Twin) -> None:
    p = twin.panel
    assert len(p) == 291 * 11 and p.city_id.nunique() == 291
    b = p[p.sample_base == 1]
    # spec sec. 2.2 / Tables 1-4
    assert [_n(b, ["ln_gdp", x, "ln_rd"]) for x in M.MEASURES] == [2858, 2253, 2030]
    assert [_n(b, ["ln_sec_emp", x, "ln_rd"]) for x in M.MEASURES] == [2598, 2048, 1845]
    assert [_n(b, ["ln_mfg_emp", x, "ln_rd"]) for x in M.MEASURES] == [2596, 2048, 1845]
    assert _n(b, ["ln_gdppc", "ai_firm", "ln_rd"]) == 2852
    assert _n(b, ["ln_gdp", "ai_firm", "ln_rd", *M.EXTRA_CONTROLS]) == 1785
    # Tables 5-6
    assert int(p.sample_es_firm.sum()) == 2618 and int(p.sample_es_app.sum()) == 2903
    n_grant = _n(p[p.sample_es_app == 1], ["ln_grant_es"])
    assert abs(n_grant - 1498) <= 0.03 * 1498


def test_2020_spatial_facts_from_the_firm_records(twin: Twin) -> None:
    units = twin.raw["units"]
    assert len(units) == 367
    alive = M.count_ai_firms(twin.raw["firms"], years=(2020,)).set_index("city_id")["alive"]
    stock = units.city_id.map(alive).fillna(0).to_numpy()
    assert stock.sum() == 2923 and stock.max() == 643
    top = units.assign(s=stock).nlargest(5, "s")
    assert top.city_name.tolist() == ["深圳市", "苏州市", "广州市", "东莞市", "上海市"]
    assert stock.max() / stock.sum() == pytest.approx(0.22, abs=0.001)
    assert np.sort(stock)[-5:].sum() / stock.sum() == pytest.approx(0.415, abs=0.001)
    classes = M.size_class(stock).value_counts()
    assert classes.to_dict() == {"0": 192, "1-9": 124, "10-99": 46, "100-200": 4, ">200": 1}
    # zero units concentrate in the West and Northeast (spec sec. 4.1)
    zero_share = units.assign(z=stock == 0).groupby("region").z.mean()
    assert zero_share["West"] > zero_share["East"] and zero_share["Northeast"] > zero_share["East"]
    # non-industrial AI firms are in the records and must be filtered out
    assert (~twin.raw["firms"].section.isin(list(M.INDUSTRY_SECTIONS))).sum() > 1000


def test_national_entries_accelerate_after_2016(twin: Twin) -> None:
    nat = M.count_ai_firms(twin.raw["firms"]).groupby("year").entry.sum()
    pre = np.log(nat.loc[2015] / nat.loc[2011]) / 4
    post = np.log(nat.loc[2019] / nat.loc[2016]) / 3
    assert post > pre > 0


def test_descriptive_targets_within_5_percent(twin: Twin) -> None:
    tg = read_calibration(SLUG)["targets"]
    b = twin.panel[twin.panel.sample_base == 1]
    for v in ("ln_gdp", "ln_gdppc", "ln_sec_out", "ln_sec_emp", "ln_mfg_emp", *M.CONTROLS):
        assert b[v].mean() == pytest.approx(tg[v]["mean"], rel=0.05), v
        assert b[v].std() == pytest.approx(tg[v]["sd"], rel=0.05), v
    assert twin.panel.treat.mean() == pytest.approx(0.5, abs=0.02)


# ---- the raw inputs rebuild the panel through the helpers ---------------------------------------
def test_reference_construction_rebuilds_the_panel(quick: Twin) -> None:
    out = M.reference_construction(quick.raw).set_index(["city_id", "year"])
    p = quick.panel.set_index(["city_id", "year"])
    out = out.loc[p.index]
    for c in ("ai_firm", "ln_ai_app", "ln_ai_grant", "ai_firm_altw", "ln1p_entry", "ln1p_exit", "ln_net",
              "ln1p_app_es", "ln_grant_es"):
        np.testing.assert_allclose(out[c].to_numpy(), p[c].to_numpy(), atol=1e-10, err_msg=c)


def test_is_ai_patent_separates_ai_from_decoys(quick: Twin) -> None:
    from helpers.patents import is_ai_patent

    pat = quick.raw["patents"]
    flag = is_ai_patent(pat.drop_duplicates(["ipc_codes", "title"]), scheme="cities", text_cols="title")
    assert 0 < flag.mean() < 1  # non-AI inventions are in the records
    counts = M.count_ai_patents(pat).groupby("year")[["ai_app", "ai_grant"]].sum()
    panel = quick.panel.groupby("year")[["ai_app", "ai_grant"]].sum()
    np.testing.assert_array_equal(counts.loc[panel.index].to_numpy(), panel.to_numpy())


# ---- truth and recovery ---------------------------------------------------------------------------
def test_baseline_twfe_recovers_the_true_effect_within_2_se(twin: Twin) -> None:
    b = twin.panel[twin.panel.sample_base == 1]
    fit = pf.feols(f"ln_gdp ~ ai_firm + {CTRL} | city_id+year", b, vcov={"CRV1": "city_id"})
    est, se = fit.coef()["ai_firm"], fit.se()["ai_firm"]
    assert twin.truth["beta_gdp_firm"] == pytest.approx(0.125, abs=1e-9)
    assert abs(est - twin.truth["beta_gdp_firm"]) < 2 * se
    assert 0.005 < se < 0.02  # published SE 0.01


def test_truth_matches_the_published_slopes_and_paths(twin: Twin) -> None:
    slopes = read_calibration(SLUG)["truth"]["slopes"]
    for y, row in slopes.items():
        for x, v in row.items():
            assert twin.truth["slopes"][y][x] == pytest.approx(v, abs=1e-8), (y, x)
    assert twin.truth["gdp_per_capita_slope"] == pytest.approx(0.052, abs=0.005)
    assert twin.truth["firm_slope_by_income"][1] > twin.truth["firm_slope_by_income"][0] > 0
    for dv in ("ln1p_entry", "ln1p_exit", "ln1p_app_es", "ln_grant_es"):
        for k, v in twin.truth["es_paths"][dv].items():
            if k != 4:
                assert twin.truth["es_att"][dv][k] == pytest.approx(v, abs=0.01), (dv, k)


def test_same_seed_same_frames_other_seed_differs() -> None:
    a, b, c = M.build("quick", seed=7), M.build("quick", seed=7), M.build("quick", seed=8)
    assert hash_frame(a.panel) == hash_frame(b.panel)
    assert hash_frame(a.raw["firms"]) == hash_frame(b.raw["firms"])
    assert hash_frame(a.raw["patents"]) == hash_frame(b.raw["patents"])
    assert hash_frame(a.panel) != hash_frame(c.panel)


def test_load_twin_warns_and_marks_frames() -> None:
    with pytest.warns(UserWarning, match="simulated"):
        t = load_twin(SLUG, scale="quick")
    assert t.panel.attrs["simulated"] is True and t.panel.attrs["twin"] == SLUG
    assert all(f.attrs["simulated"] for f in t.raw.values())
    assert t.panel.city_id.nunique() == 60 and len(t.panel) == 660 and t.meta["scale"] == "quick"


# ---- published numbers --------------------------------------------------------------------------
def test_published_yml_has_every_table_and_hand_checked_numbers() -> None:
    from helpers.report import load_published

    pub = load_published(SLUG)
    assert len(pub) == 56 and sorted(pub.table.unique()) == [f"table{i}" for i in range(1, 7)]

    def row(t: str, c: str, term: str) -> pd.Series:
        return pub[(pub.table == t) & (pub.column == c) & (pub.term == term)].iloc[0]

    # spec 002 sec. 5, typed by hand: Table 1 follows the printed table (A1: apps 0.033, grants 0.019)
    assert row("table1", "col2", "ln_ai_app").coef == 0.033 and row("table1", "col2", "ln_ai_app").N == 2253
    assert row("table1", "col3", "ln_ai_grant").coef == 0.019
    assert row("table3", "col4", "ai_firm").stars == "**" and row("table3", "col4", "ai_firm").se == 0.03
    assert row("table4", "col4", "ai_firm").coef == 0.559
    assert row("table5", "col2", "after3").coef == 0.233 and row("table5", "col3", "after3").se == 0.073
    assert row("table6", "col1", "before2").stars == "*" and row("table6", "col2", "before5").se == 0.039


# ---- real-data path and bad input -----------------------------------------------------------------
def test_fixture_loads_and_a_broken_copy_fails(tmp_path: Path) -> None:
    df = load_panel(SLUG, FIXTURE)
    assert len(df) == 220 and df.attrs["simulated"] is False
    fit = pf.feols(f"ln_gdp ~ ai_firm + {CTRL} | city_id+year", df, vcov={"CRV1": "city_id"})
    assert np.isfinite(fit.coef()["ai_firm"])
    raw = pd.read_csv(FIXTURE, dtype=str)
    bad = raw.drop(columns=["ai_firm"])
    bad.loc[0, "ln_gdp"] = "1,234"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(ValueError, match="missing column 'ai_firm'.*|ln_gdp"):
        load_panel(SLUG, path)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        M.constant_share(np.ones(2), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="non-negative"):
        M.size_class(np.array([-1, 2]))
    with pytest.raises(ValueError, match="lacks columns"):
        M.count_ai_firms(pd.DataFrame({"city_id": ["a"]}))
    with pytest.raises(ValueError, match="firm_transform"):
        M.reference_construction({}, firm_transform="sqrt")
    with pytest.raises(ValueError, match="growth rates"):
        M.growth_weighted(np.ones(1), pd.DataFrame({"city_id": ["a"], "year": [2020], "g": [-1.0]}))
    with pytest.raises(ValueError, match="scale"):
        M.build("huge")


def test_constant_share_and_growth_weight_by_hand() -> None:
    # Eq. (2): 2020 stock 20, base 400 -> 500 from t to 2020: M_t = 20 * 400 / 500 = 16
    assert M.constant_share(np.array([20.0]), np.array([400.0]), np.array([500.0]))[0] == pytest.approx(16.0)
    g = pd.DataFrame({"city_id": ["a", "a", "b"], "year": [2019, 2020, 2020], "g": [0.25, 0.0, 0.5]})
    # a: 2019 value = 10 / (1 + 0.0) = 10 (only 2020's growth lies after 2019); b: 2020 value = stock
    np.testing.assert_allclose(M.growth_weighted(np.array([10.0, 10.0, 7.0]), g), [10.0, 10.0, 7.0])


def test_event_study_reproduces_the_published_star_classes(twin: Twin) -> None:
    # spec 002 Tables 5-6 (robust SE, reference k = -1): build() tunes control cities' counts so that
    # the chapter's specification lands every coefficient in the published sign and star class
    from helpers.report import compare_table, load_published

    pub = load_published(SLUG)
    terms = {"before5": -5, "before4": -4, "before3": -3, "before2": -2, "current": 0, "after1": 1,
             "after2": 2, "after3": 3}
    agree = 0
    for tab, col, dv, smp in [("table5", "col1", "ln1p_entry", "sample_es_firm"),
                              ("table5", "col2", "ln1p_exit", "sample_es_firm"),
                              ("table5", "col3", "ln_net", "sample_es_firm"),
                              ("table6", "col1", "ln1p_app_es", "sample_es_app"),
                              ("table6", "col2", "ln_grant_es", "sample_es_app")]:
        d = twin.panel[twin.panel[smp] == 1]
        with warnings.catch_warnings(action="ignore", category=UserWarning):  # singleton cities dropped
            fit = pf.feols(f"{dv} ~ i(rel_year, treat, ref=-1) + {CTRL} | city_id+year", d, vcov="hetero")
        tidy = fit.tidy()
        est = {name: tuple(tidy.loc[f"rel_year::{k}:treat", ["Estimate", "Std. Error", "Pr(>|t|)"]])
               for name, k in terms.items()}
        ct = compare_table(pub, est, table=tab, column=col)
        agree += int((ct.sign_agrees & ct.stars_agree).sum())
    assert agree >= 38
    # the truth is untouched by the tuning: only control cities move
    assert twin.truth["es_att"]["ln1p_exit"][3] == pytest.approx(0.233, abs=0.01)

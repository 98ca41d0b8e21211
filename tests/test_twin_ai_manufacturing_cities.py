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
    # positive-grant city-years are a draw of the honest twin (not a target): plausible, not exact
    n_grant = _n(p[p.sample_es_app == 1], ["ln_grant_es"])
    assert 1200 < n_grant < 1900


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
def test_estimands_equal_the_published_slopes_and_estimates_scatter_around_them(twin: Twin) -> None:
    # calibrated in population: the paper's specification on the noise-free outcome gives the published slope
    slopes = read_calibration(SLUG)["truth"]["slopes"]
    for y, row in slopes.items():
        for x, v in row.items():
            assert twin.truth["slopes"][y][x] == pytest.approx(v, abs=1e-8), (y, x)
    b = twin.panel[twin.panel.sample_base == 1]
    fit = pf.feols(f"ln_gdp ~ ai_firm + {CTRL} | city_id+year", b, vcov={"CRV1": "city_id"})
    est, se = fit.coef()["ai_firm"], fit.se()["ai_firm"]
    assert abs(est - 0.125) < 4 * se and abs(est - 0.125) > 1e-6  # a draw, not the published number
    assert 0.005 < se < 0.04


def test_gdp_responds_to_the_actual_stock_not_the_imputed_one(twin: Twin) -> None:
    cal = read_calibration(SLUG)["truth"]
    beta = cal["ai_stock_effect"]["ln_gdp"] + 5 * cal["extra_loading"] * cal["extra_effect"]
    assert twin.truth["effect"]["ln_gdp"] == pytest.approx(beta, abs=1e-12)
    row = twin.truth["rows"]["table1/col1/ai_firm"]
    assert row["estimand"] == pytest.approx(0.125, abs=1e-8) and row["effect"] == pytest.approx(beta)
    # the actual stock differs from the constant-share imputation before 2020 and equals it in 2020
    p = twin.panel
    imputed = np.expm1(p["ai_firm"])
    assert np.allclose(imputed[p.year == 2020], p.loc[p.year == 2020, "ai_alive"])
    assert (np.abs(imputed - p["ai_alive"])[p.year < 2020] > 0.5).mean() > 0.3
    assert p["ln1p_ai_alive"].equals(np.log1p(p["ai_alive"].astype(float)))


def test_patent_accounting_identities(twin: Twin) -> None:
    from helpers.patents import is_ai_patent

    pat = twin.raw["patents"]
    pat = pat[pat.applicant_section.isin(list(M.INDUSTRY_SECTIONS)) & pat.patent_type.eq("invention")]
    text = pat[["ipc_codes", "title"]].astype(str)
    uniq = text.drop_duplicates()
    flag = pd.Series(is_ai_patent(uniq, scheme="cities", text_cols="title").to_numpy(),
                     index=pd.MultiIndex.from_frame(uniq))
    ai = pat[flag.reindex(pd.MultiIndex.from_frame(text)).to_numpy()]
    g = ai[ai.grant_year.notna()]
    lag = (g.grant_year - g.app_year).astype(int)
    assert lag.between(1, 4).all()  # a grant follows its own application by 1-4 years
    # per city: grants up to year t never exceed applications filed up to t - 1 (all filing years)
    apps = ai.groupby(["city_id", "app_year"], observed=True).size().unstack(fill_value=0)
    grants = g.groupby(["city_id", "grant_year"], observed=True).size().unstack(fill_value=0)
    years = range(2006, 2021)
    apps, grants = apps.reindex(columns=years, fill_value=0), grants.reindex(index=apps.index, columns=years,
                                                                             fill_value=0)
    assert (grants.cumsum(axis=1).iloc[:, 1:].to_numpy() <= apps.cumsum(axis=1).iloc[:, :-1].to_numpy()).all()
    # AI inventions are part of all inventions of industrial firms, city-year by city-year
    p = twin.panel
    assert (p.ai_app <= p.pat_app_inv_total).all() and (p.ai_grant <= p.pat_grant_inv_total).all()
    nat = p[p.year == 2020][["ai_app", "ai_grant"]].sum()
    assert nat.ai_grant < nat.ai_app


def test_event_study_truth_separates_pre_period_gaps_from_effects(twin: Twin) -> None:
    from helpers.report import load_published

    pub = load_published(SLUG)
    rows = twin.truth["rows"]
    for tab, col in (("table5", "col1"), ("table5", "col2"), ("table6", "col1"), ("table6", "col2")):
        for term in M.ES_TERMS:
            r = rows[f"{tab}/{col}/{term}"]
            b = pub[(pub.table == tab) & (pub.column == col) & (pub.term == term)].coef.iloc[0]
            mc = twin.truth["es_mc_error"][f"{tab}/{col}"][term]
            tol = 0.03 if np.isfinite(mc) else 0.02  # calibrated on 40 auxiliary draws
            assert r["estimand"] == pytest.approx(b, abs=tol), (tab, col, term)
            if term.startswith("before"):
                assert r["effect"] == 0.0
    assert rows["table6/col1/before5"]["estimand"] > 0.08 and rows["table6/col1/before5"]["effect"] == 0.0


def test_redraw_keeps_the_design_and_moves_the_outcomes(quick: Twin) -> None:
    d = M.redraw(quick, 3, seed=9)
    p = quick.panel
    assert set(d) >= {"ln_gdp", "ln_sec_out", "ln_sec_emp", "ln_mfg_emp", "ln_gdppc", "ln1p_entry", "ln_grant_es"}
    for name, arr in d.items():
        assert arr.shape == (len(p), 3), name
        assert np.array_equal(np.isnan(arr[:, 0]), np.isnan(arr[:, 1])) or name in ("ln_net", "ln_grant_es")
    # the noise-free part is kept: draws differ from the twin by noise of the right size
    diff = d["ln_gdp"][:, 0] - p["ln_gdp"].to_numpy()
    assert 0.02 < np.nanstd(diff) < 0.2


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

"""Chapter tests of bigdata-innovation-fusion: published numbers and the real-data path.

1. ``data/bigdata-innovation-fusion/published.yml`` loads with :func:`helpers.report.load_published`
   and holds the paper's numbers as printed (spec 004 sec. 4 Table 2, sec. 5 Tables 3-6, sec. 6
   Figure 1; Pang, Li, Liu and Guo 2025, *Economic Review*).
2. The chapter's baseline specification (``baseline_formula`` / ``baseline_vcov`` in
   ``data/bigdata-innovation-fusion/calibration.yml``) runs on the small real-data-format fixture
   ``tests/fixtures/bigdata-innovation-fusion_sample.csv`` read through ``load_panel``, as pyfixest
   TWFE and as the DML partially linear model of Table 3 col. 6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.dml import dml_plr
from helpers.paths import REPO_ROOT
from helpers.report import compare_table, load_published
from helpers.twins import load_panel
from helpers.twins.loader import read_calibration

SLUG = "bigdata-innovation-fusion"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / f"{SLUG}_sample.csv"


@pytest.fixture(scope="module")
def published():
    return load_published(SLUG)


def _pick(pub, table: str, column: str, term: str):
    row = pub[(pub.table == table) & (pub.column == column) & (pub.term == term)]
    assert len(row) == 1, (table, column, term)
    return row.iloc[0]


def test_published_headline_and_tables(published) -> None:
    # spec 004 sec. 5, Table 3 col. 6: 0.0269 (0.0036)***
    r = _pick(published, "table3", "col6", "Bigdata")
    assert (r.coef, r.se, r.stars, r.N) == (0.0269, 0.0036, "***", 3679)
    # Table 3: columns (1)/(4) and (2)/(5) are printed identical
    assert _pick(published, "table3", "col1", "Bigdata").coef == _pick(published, "table3", "col4", "Bigdata").coef
    # Table 4 col. 3 (VCPE2): 0.2282 (0.1163)**, the borderline 5 % case
    r = _pick(published, "table4", "VCPE2", "Bigdata")
    assert (r.coef, r.se, r.stars) == (0.2282, 0.1163, "**")
    # Table 5 col. 3 (Gove): interaction 0.0249 (0.0072)***
    assert _pick(published, "table5", "Gove", "Bigdata_x_H").coef == 0.0249
    # Table 6: N = 1,872 (Diggre) and 1,612 (Digine)
    assert _pick(published, "table6", "col2", "Diggre").N == 1872
    assert _pick(published, "table6", "col6", "Digine").coef == 0.0191


def test_published_descriptives_and_figure(published) -> None:
    # spec 004 sec. 4 Table 2 and sec. 6 Figure 1
    assert _pick(published, "table2", "mean", "FI").coef == 0.2346
    assert _pick(published, "table2", "max", "Entre").coef == 35.8194
    assert _pick(published, "figure1", "level", "national_2022").coef == 0.2736
    # growth convention (end/start)^(1/13) - 1 reproduces the printed 2.12 %
    g = _pick(published, "figure1", "growth_pct", "national").coef
    assert round(100 * ((0.2736 / 0.2083) ** (1 / 13) - 1), 2) == g


def test_published_counts_and_robustness_signs(published) -> None:
    coefs = published[published.table.isin(["table3", "table4", "table5", "table6"])]
    assert len(coefs) == 24 and (coefs.sign == "+").all()
    rob = published[published.table == "robustness"]
    assert len(rob) == 12 and rob.coef.isna().all() and (rob.sign == "+").all()
    assert len(published[published.table == "table2"]) == 44


def test_compare_table_flags_a_wrong_sign(published) -> None:
    ct = compare_table(published, {"Bigdata": (-0.02, 0.003)}, table="table3", column="col6")
    assert ct.loc[0, "verdict"] == "differs" and not ct.loc[0, "sign_agrees"]


def test_baseline_on_real_data_fixture() -> None:
    cal = read_calibration(SLUG)
    df = load_panel(SLUG, FIXTURE)
    assert df.attrs["simulated"] is False and len(df) == 260
    fit = pf.feols(cal["baseline_formula"], data=df, vcov=cal["baseline_vcov"])
    b = float(fit.coef()["Bigdata"])
    assert np.isfinite(b) and float(fit.se()["Bigdata"]) > 0
    # the DML of Table 3 col. 6 with the formula's outcome, treatment and controls
    lhs, rhs = cal["baseline_formula"].split("|")[0].split("~")
    terms = [t.strip() for t in rhs.split("+")]
    treat, controls = terms[0], terms[1:]
    for c in controls:
        df[f"{c}2"] = df[c] ** 2
    res = dml_plr(df, lhs.strip(), treat, controls + [f"{c}2" for c in controls], unit="city_id",
                  time="year", learner="lasso", seed=1)
    s = res.summary.iloc[0]
    assert s["n"] == 260 and s["se"] > 0
    # with lasso nuisances on within-transformed data DML is close to the TWFE coefficient
    assert abs(s["coef"] - b) < 3 * float(fit.se()["Bigdata"])


def test_load_panel_rejects_a_missing_column(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    pd.read_csv(FIXTURE).drop(columns=["FI"]).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="FI"):
        load_panel(SLUG, bad)


def test_row_classes_follow_the_twin(published) -> None:
    # calibrated: the twin sets tau_FI (Table 3 col. 6) and gamma (Table 4) from these numbers;
    # target: Table 2 and Figure 1 levels are drawn to the paper; everything else is untargeted
    cls = published.set_index(["table", "column", "term"])["class"]
    assert cls.loc[("table3", "col6", "Bigdata")] == "calibrated"
    assert (cls.loc["table4"] == "calibrated").all()
    assert (cls.loc[("table3", "col1", "Bigdata")] == "untargeted")
    assert (cls.loc["table5"] == "untargeted").all() and (cls.loc["table6"] == "untargeted").all()
    assert cls.loc[("table2", "mean", "FI")] == "target" and cls.loc[("table2", "max", "FI")] == "untargeted"


@pytest.mark.slow
def test_chapter_runs_on_the_real_data_fixture(tmp_path, monkeypatch) -> None:
    # the whole chapter on a file in the documented schema without its companion raw files: sections
    # that need them (the 22 indicators, the instruments) are skipped, and no scorecard is written
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(REPO_ROOT / "notebooks" / "01_bigdata-innovation-fusion.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = f"DATA = {str(FIXTURE)!r}\nRAW_FILES = None"  # no companion raw files
    monkeypatch.setenv("AICHINA_QUICK", "1")
    monkeypatch.setenv("AICHINA_BUILD_DIR", str(tmp_path))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT / "notebooks")}}).execute()
    assert not (tmp_path / "scorecards").exists()
    names = {o.metadata["scrapbook"]["name"] for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", []) if "scrapbook" in o.get("metadata", {})}
    assert "twfe_b" in names and "fi_gap" not in names and "F_iv_relief" not in names


@pytest.mark.slow
def test_the_cities_file_fills_the_city_columns_a_panel_leaves_out(tmp_path, monkeypatch) -> None:
    # a panel with the required columns only, plus the companion cities file: the sections that need
    # the province, the pilot years and the special cities run (their numbers are glued) on the same
    # values as with a full panel; only Table 5's splits (not in the cities file) are skipped
    import nbformat
    from nbclient import NotebookClient

    from helpers.twins import SKIP_TITLE
    from helpers.twins.loader import read_schema

    optional = [c for c, sp in read_schema(SLUG)["columns"].items() if not sp["required"]]
    user = tmp_path / "panel.csv"
    pd.read_csv(FIXTURE, dtype=str).drop(columns=optional).to_csv(user, index=False)
    cities = REPO_ROOT / "tests" / "fixtures" / f"{SLUG}_companions" / "cities.csv"
    nb = nbformat.read(REPO_ROOT / "notebooks" / "01_bigdata-innovation-fusion.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = f"DATA = {str(user)!r}\nRAW_FILES = {{'cities': {str(cities)!r}}}"
    monkeypatch.setenv("AICHINA_QUICK", "1")
    monkeypatch.setenv("AICHINA_BUILD_DIR", str(tmp_path))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT / "notebooks")}}).execute()
    glued = {o.metadata["scrapbook"]["name"]: o.data.get("application/papermill.record/text/plain")
             for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", []) if "scrapbook" in o.get("metadata", {})}
    assert {"se_ratio_prov", "n_special", "n_py_ident", "n_diggre", "syn_Digine", "es_p", "ri_p_shown"} <= set(glued)
    notes = [o.data["text/markdown"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
             if SKIP_TITLE in o.get("data", {}).get("text/markdown", "")]
    assert [n for n in notes if "`Elec`" in n] and not [n for n in notes if "province" in n or "bd_year" in n]
    full = pd.read_csv(FIXTURE)
    assert int(glued["n_special"]) == full.loc[full["special_city"], "city_id"].nunique()
    assert int(glued["n_diggre"]) > 0

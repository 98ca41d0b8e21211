"""Tests for helpers.report (published-vs-twin tables, verdicts, scorecards)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from helpers.report import (
    SCORECARD_FIELDS,
    compare_table,
    load_published,
    read_scorecards,
    stars_from_pvalue,
    style_compare_table,
    write_scorecard,
)

FIXTURE = Path(__file__).parent / "fixtures" / "published_example.yml"
SLUG = "ai-new-quality-productivity"


@pytest.fixture
def published() -> pd.DataFrame:
    return load_published(SLUG, path=FIXTURE)


# --- known answers --------------------------------------------------------------------------


def test_stars_convention() -> None:
    # *** p<0.01, ** p<0.05, * p<0.1 (boundaries are not significant at that level)
    assert [stars_from_pvalue(p) for p in (0.0099, 0.01, 0.0499, 0.05, 0.0999, 0.1, 0.5)] == [
        "***",
        "**",
        "**",
        "*",
        "*",
        "",
        "",
    ]
    assert stars_from_pvalue(None) is None


def test_load_published_schema(published: pd.DataFrame) -> None:
    assert len(published) == 6
    row = published.set_index(["table", "column", "term"]).loc[("table3", "col1", "Size")]
    assert row["se"] == pytest.approx(0.21 / 4.2)  # SE derived from the t statistic
    assert row["stars"] == "***" and row["sign"] == "+"
    lev = published.set_index(["table", "column", "term"]).loc[("table3", "col1", "Lev")]
    assert pd.isna(lev["se"]) and lev["stars"] == "**" and lev["sign"] == "-"
    c2 = published.set_index(["table", "column", "term"]).loc[("table3", "col2", "lnAI")]
    assert c2["stars"] == "**"  # from pvalue 0.03
    d = published.set_index(["table", "column", "term"]).loc[("table5", "main", "AIFin")]
    assert pd.isna(d["coef"]) and d["sign"] == "-" and pd.isna(d["stars"])
    assert published.attrs["paper"]["citation"].startswith("Example")


def test_verdicts_by_hand(published: pd.DataFrame) -> None:
    twin = {
        "lnAI": (0.0160, 0.0040, 0.0001),  # |diff| .0037 <= max(.25*.0123=.0031, se .0045): ok
        "Size": (0.30, 0.05, 0.03),  # |diff| .09 > max(.0525, .05): size differs; ** vs ***
        "Lev": (0.01, 0.02, 0.6),  # wrong sign, no stars
    }
    out = compare_table(published, twin, table="table3", column="col1", truth={"lnAI": 0.015})
    v = out.set_index("term")
    assert v.loc["lnAI", ["sign_agrees", "stars_agree", "within_tolerance"]].tolist() == [
        True,
        True,
        True,
    ]
    assert v.loc["lnAI", "verdict"] == "agrees" and v.loc["lnAI", "truth"] == 0.015
    assert v.loc["Size", ["sign_agrees", "stars_agree", "within_tolerance"]].tolist() == [
        True,
        False,
        False,
    ]
    assert v.loc["Lev", "sign_agrees"] is False or not v.loc["Lev", "sign_agrees"]
    assert v.loc["Lev", "twin_stars"] == "" and v.loc["Lev", "verdict"] == "differs"
    assert np.isnan(v.loc["Size", "truth"]) or v.loc["Size", "truth"] is None


def test_tolerance_is_max_of_25pct_and_one_se() -> None:
    pub = pd.DataFrame(
        {
            "table": ["t", "t"],
            "column": ["c", "c"],
            "term": ["a", "b"],
            "coef": [1.0, 1.0],
            "se": [0.1, 0.5],
            "stars": ["***", "*"],
            "sign": ["+", "+"],
        }
    )
    out = compare_table(pub, {"a": (1.26, 0.1), "b": (1.45, 0.5)}).set_index("term")
    assert not out.loc["a", "within_tolerance"]  # 0.26 > max(0.25, 0.1)
    assert out.loc["b", "within_tolerance"]  # 0.45 <= max(0.25, 0.5)


def test_direction_only_checks_sign_and_stars(published: pd.DataFrame) -> None:
    out = compare_table(published, {"DID": (0.12, 0.03), "AIFin": (-0.2, 0.5)}, table="table5")
    v = out.set_index("term")
    assert v.loc["DID", "within_tolerance"] is None
    assert v.loc["DID", "sign_agrees"] and v.loc["DID", "stars_agree"]
    assert v.loc["DID", "verdict"] == "agrees"
    assert v.loc["AIFin", "stars_agree"] is None and v.loc["AIFin", "verdict"] == "agrees"


def test_accepts_pyfixest_fit_and_tidy_frame() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=200), "g": np.repeat(np.arange(20), 10)})
    df["y"] = 0.5 * df["x"] + rng.normal(size=200)
    fit = pf.feols("y ~ x | g", df, vcov={"CRV1": "g"})
    pub = pd.DataFrame(
        {"table": ["t"], "column": ["c"], "term": ["x"], "coef": [0.5], "se": [0.07]}
    ).assign(stars="***", sign="+")
    a = compare_table(pub, fit)
    b = compare_table(pub, fit.tidy())
    assert a.loc[0, "twin_coef"] == pytest.approx(fit.coef()["x"])
    assert a.loc[0, "twin_se"] == pytest.approx(b.loc[0, "twin_se"])
    assert a.loc[0, "twin_pvalue"] == pytest.approx(fit.pvalue()["x"])


def test_term_map(published: pd.DataFrame) -> None:
    out = compare_table(
        published,
        {"ai_log": (0.0123, 0.004)},
        table="table3",
        column="col2",
        term_map={"lnAI": "ai_log"},
    )
    assert out.loc[0, "term"] == "lnAI" and out.loc[0, "within_tolerance"]


def test_html_is_theme_neutral(published: pd.DataFrame) -> None:
    out = compare_table(published, {"DID": (0.12, 0.03), "AIFin": (0.2, 0.5)}, table="table5")
    html = style_compare_table(out, caption="Table 5").to_html()
    assert "var(--pst-color-text-base" in html
    assert "background: transparent" in html
    assert "#fff" not in html.lower() and "white" not in html.lower()
    assert "✗" in html and "Table 5" in html


def test_long_term_names_may_break_after_underscores(published: pd.DataFrame) -> None:
    out = compare_table(published, {"DID": (0.12, 0.03), "AIFin": (0.2, 0.5)}, table="table5")
    out["term"] = ["lnAI_x_overseacountry", "AIFin"]
    html = style_compare_table(out).to_html()
    assert "lnAI_<wbr>x_<wbr>overseacountry" in html


def test_auto_digits_give_each_row_three_significant_digits(published: pd.DataFrame) -> None:
    out = compare_table(published, {"DID": (0.1234, 0.0321), "AIFin": (0.0000123, 0.0000040)},
                        table="table5")
    shown = style_compare_table(out, digits="auto").data.set_index("Term")
    # DID: 0.1234 needs 3 decimals; AIFin (published as a sign only) is set by the twin's
    # 1.23e-5, which would need 7 and is capped at 6
    assert shown.loc["DID", "Twin"].startswith("0.123") and "(0.032)" in shown.loc["DID", "Twin"]
    assert shown.loc["AIFin", "Twin"].startswith("0.000012") and "(0.000004)" in shown.loc[
        "AIFin", "Twin"]
    assert style_compare_table(out).data.set_index("Term").loc["DID", "Twin"].startswith("0.1234")


@pytest.mark.parametrize("bad", [-1, 2.5, "four", True])
def test_digits_must_be_a_count_or_auto(published: pd.DataFrame, bad: object) -> None:
    out = compare_table(published, {"DID": (0.1, 0.03), "AIFin": (0.2, 0.5)}, table="table5")
    with pytest.raises(ValueError, match="digits must be"):
        style_compare_table(out, digits=bad)  # type: ignore[arg-type]


# --- scorecards -----------------------------------------------------------------------------


def test_scorecard_roundtrip_and_replace_by_table(published: pd.DataFrame, tmp_path: Path) -> None:
    t3 = compare_table(published, {"lnAI": (0.01, 0.004, 0.01)}, table="table3", column="col2")
    t5 = compare_table(published, {"DID": (0.1, 0.03), "AIFin": (-1, 2)}, table="table5")
    file = write_scorecard(SLUG, t3, build_dir=tmp_path)
    write_scorecard(SLUG, t5, build_dir=tmp_path)
    rows = json.loads(file.read_text())
    assert len(rows) == 3 and all(set(SCORECARD_FIELDS) <= set(r) for r in rows)
    # rewriting table3 replaces its rows, keeps table5's
    write_scorecard(SLUG, t3.assign(twin_coef=0.02), build_dir=tmp_path)
    rows = json.loads(file.read_text())
    assert len(rows) == 3
    assert [r["twin_coef"] for r in rows if r["table"] == "table3"] == [0.02]
    assert next(r for r in rows if r["term"] == "DID")["within_tolerance"] is None
    write_scorecard("industry-finance-ai", t5, build_dir=tmp_path)
    all_rows = read_scorecards(build_dir=tmp_path)
    assert all_rows.columns[0] == "slug"
    assert sorted(all_rows["slug"].unique()) == [
        "ai-new-quality-productivity",
        "industry-finance-ai",
    ]
    assert len(all_rows) == 5


def test_read_scorecards_empty(tmp_path: Path) -> None:
    out = read_scorecards(build_dir=tmp_path)
    assert out.empty and "within_tolerance" in out.columns


# --- bad input ------------------------------------------------------------------------------


def test_load_published_missing_file() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_published(SLUG, path=FIXTURE.with_name("nope.yml"))


def test_load_published_unknown_slug() -> None:
    with pytest.raises(ValueError, match="unknown paper slug"):
        load_published("no-such-paper")


def test_load_published_bad_entry(tmp_path: Path) -> None:
    bad = tmp_path / "p.yml"
    bad.write_text("tables: {t: {columns: {c: {coefs: {x: {stars: '**'}}}}}}")
    with pytest.raises(ValueError, match="only the direction"):
        load_published(SLUG, path=bad)
    bad.write_text("tables: {t: {columns: {c: {coefs: {x: {coef: 1, stars: '****'}}}}}}")
    with pytest.raises(ValueError, match="stars must be"):
        load_published(SLUG, path=bad)


def test_compare_table_ambiguous_or_missing(published: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="pass table= and column="):
        compare_table(published, {"lnAI": (0.1, 0.1)})
    with pytest.raises(ValueError, match="twin estimates have no term"):
        compare_table(published, {"other": (0.1, 0.1)}, table="table3", column="col2")
    with pytest.raises(ValueError, match="not in the published table"):
        compare_table(published, {}, table="table3", column="col2", terms=["zzz"])
    with pytest.raises(ValueError, match="must be a pyfixest fit"):
        compare_table(published, [1, 2], table="table3", column="col2")


def test_write_scorecard_rejects_incomplete_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lacks field"):
        write_scorecard(SLUG, [{"table": "t", "term": "x"}], build_dir=tmp_path)
    with pytest.raises(ValueError, match="no rows"):
        write_scorecard(SLUG, [], build_dir=tmp_path)


def test_twin_as_a_dataframe_with_coef_se_pvalue_columns(published: pd.DataFrame) -> None:
    # regression test: such a frame has .coef/.se/.pvalue attributes and was taken for a fit
    twin = pd.DataFrame(
        {"coef": [0.0160, 0.30, 0.01], "se": [0.0040, 0.05, 0.02], "pvalue": [0.0001, 0.03, 0.6]},
        index=["lnAI", "Size", "Lev"],
    )
    as_dict = {k: tuple(v) for k, v in twin.iterrows()}
    a = compare_table(published, twin, table="table3", column="col1")
    b = compare_table(published, as_dict, table="table3", column="col1")
    pd.testing.assert_frame_equal(a, b)


def test_style_compare_table_probabilities_columns() -> None:
    """Descriptive and direction-only rows show the design probabilities they have."""
    pub = pd.DataFrame({"table": ["t", "t"], "column": ["c", "c"], "term": ["lo", "dir"],
                        "coef": [0.1, None], "se": [None, None], "stars": [None, None],
                        "sign": ["+", "+"]})
    ct = compare_table(pub, {"lo": (0.09, np.nan, np.nan), "dir": (0.5, 0.1, 0.01)})
    ct = ct.assign(p_sign=[0.98, 1.0], p_stars=[np.nan, np.nan], p_size=[0.424, np.nan])
    assert "P(sign)" not in style_compare_table(ct).data  # default: no stars, no probabilities
    shown = style_compare_table(ct, probabilities=("sign", "size")).data.set_index("Term")
    assert shown.loc["lo", "P(sign)"] == "98%" and shown.loc["lo", "P(size)"] == "42%"
    assert shown.loc["dir", "P(size)"] == ""
    with pytest.raises(ValueError, match="probabilities"):
        style_compare_table(ct, probabilities=("power",))


def test_estimate_column_is_headed_by_whose_data() -> None:
    """The estimate column says "Twin" on the twin and "Your data" after a real-data banner."""
    from helpers.report import set_estimate_label
    from helpers.twins import twin_banner

    pub = pd.DataFrame({"table": ["t"], "column": ["c"], "term": ["x"], "coef": [0.1],
                        "se": [0.02], "stars": ["***"], "sign": ["+"]})
    ct = compare_table(pub, {"x": (0.1, 0.02)})
    try:
        twin_banner("bigdata-innovation-fusion", data="cities.csv")
        assert list(style_compare_table(ct).data.columns[:3]) == ["Term", "Published", "Your data"]
        twin_banner("bigdata-innovation-fusion")
        assert "Twin" in style_compare_table(ct).data.columns
        assert "Mine" in style_compare_table(ct, estimate_label="Mine").data.columns
        for bad in ("", "Published"):
            with pytest.raises(ValueError, match="estimate_label"):
                style_compare_table(ct, estimate_label=bad)
        with pytest.raises(ValueError, match="non-empty"):
            set_estimate_label("  ")
    finally:
        set_estimate_label("Twin")


def test_footer_shows_n_and_r2_of_every_column() -> None:
    """One column: N and R² rows; several columns: one 'N · R² (column)' row each."""
    pub = pd.DataFrame({"table": ["t", "t"], "column": ["c1", "c2"], "term": ["x", "x"],
                        "coef": [0.1, 0.2], "se": [0.02, 0.05], "stars": ["***", "***"],
                        "sign": ["+", "+"], "N": [2858, 1498], "r2": [0.981, np.nan]})
    one = compare_table(pub, {"x": (0.1, 0.02)}, table="t", column="c1")
    one = one.assign(twin_N=2860, twin_r2=0.95)
    shown = style_compare_table(one).data.set_index("Term")
    assert shown.loc["N", "Published"] == "2,858" and shown.loc["N", "Twin"] == "2,860"
    assert shown.loc["R²", "Published"] == "0.981" and shown.loc["R²", "Twin"] == "0.950"
    two = pd.concat([one, compare_table(pub, {"x": (0.2, 0.05)}, table="t", column="c2")
                     .assign(twin_N=1500, twin_r2=np.nan)], ignore_index=True)
    shown = style_compare_table(two).data.set_index("Term")
    assert shown.loc["N · R² (c1)", "Published"] == "2,858 · 0.981"
    assert shown.loc["N · R² (c2)", "Published"] == "1,498"  # no published R²
    assert shown.loc["N · R² (c2)", "Twin"] == "1,500"
    assert "N" not in shown.index

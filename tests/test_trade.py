"""Tests for helpers.trade (export DVAR in DuckDB).

The fixture is small enough to compute by hand; every expected number is derived in the comments from
the formula in spec ai-export-upgrading eq. (2)/(2') (Kee & Tang 2016; Upward, Wang & Zheng 2013).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.trade import bec_intermediate, dvar

# HS 851712 = telephones (exports), 854231 = integrated circuits (BEC 42, intermediate),
# 847130 = portable computers (BEC 41, capital good: not an intermediate import).
ROWS = [
    # firm, name, year, hs6, regime, flow, value
    (1, "甲电子制造有限公司", 2005, "851712", "ordinary", "export", 60.0),
    (1, "甲电子制造有限公司", 2005, "851712", "processing", "export", 40.0),
    (1, "甲电子制造有限公司", 2005, "854231", "processing", "import", 20.0),
    (1, "甲电子制造有限公司", 2005, "854231", "ordinary", "import", 10.0),
    (1, "甲电子制造有限公司", 2005, "847130", "ordinary", "import", 30.0),
    (2, "乙进出口贸易公司", 2005, "854231", "ordinary", "import", 30.0),
    (2, "乙进出口贸易公司", 2005, "851712", "ordinary", "export", 500.0),
    (3, "丙加工厂", 2005, "851712", "ordinary", "export", 10.0),
    (3, "丙加工厂", 2005, "854231", "processing", "import", 50.0),
    (4, "丁纺织厂", 2005, "620342", "ordinary", "export", 80.0),
]
ACCOUNTS = pd.DataFrame(
    {
        "firm_id": [1, 3, 4],
        "year": [2005, 2005, 2005],
        "sales": [160.0, 100.0, 100.0],
        "intermediate_inputs": [120.0, 60.0, 0.0],
        "net_fixed_assets": [50.0, 10.0, 0.0],
    }
)


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        ROWS, columns=["firm_id", "firm_name", "year", "hs6", "regime", "flow", "value"]
    )


def _firm(out: pd.DataFrame, firm: int) -> pd.Series:
    return out.set_index("firm_id").loc[firm]


# ---------------------------------------------------------------------------------------------
# known answers (firm 1)
#   X = 100, X^o = 60, D = sales - X = 60, M^T = 120, NFA = 50.
#   Processing imports 20 (nobody else imports 854231 under processing: m = 0).
#   Ordinary intermediate imports 10 (the computer, BEC 41, is not an intermediate);
#   the intermediary (firm 2) imports 30 of 854231 ordinary, so m = 30 / 40 = 0.75 and the
#   actual ordinary intermediate imports are 10 / (1 - 0.75) = 40.
# ---------------------------------------------------------------------------------------------


def test_kee_tang_basic(tx: pd.DataFrame) -> None:
    # F = 20 + 60 * 10 / (60 + 60) = 25 -> DVAR = 1 - 25/100
    out = dvar(tx, ACCOUNTS, variant="kee_tang_basic")
    assert _firm(out, 1)["dvar"] == pytest.approx(0.75)
    assert _firm(out, 1)["M_ordinary_intermediate"] == pytest.approx(10.0)


def test_default_variant_with_intermediaries(tx: pd.DataFrame) -> None:
    # F = 20 + 60 * 40 / 120 = 40; export share s_X = 100 / 160 = 0.625; domestic inputs
    # 120 - 20 - 40 = 60; FVA = 40 + 0.625 * (0.05 * 60 + 0.0417 * 50) = 40 + 0.625 * 5.085 = 43.178125
    out = dvar(tx, ACCOUNTS)
    row = _firm(out, 1)
    assert row["M_ordinary_intermediate"] == pytest.approx(40.0)
    assert row["export_share"] == pytest.approx(0.625)
    assert row["FVA"] == pytest.approx(43.178125)
    assert row["dvar"] == pytest.approx(1 - 0.43178125)
    assert out.attrs["n_intermediaries"] == 1
    assert 2 not in set(out["firm_id"])  # the intermediary itself is dropped


def test_unallocated_variant_charges_everything_to_exports(tx: pd.DataFrame) -> None:
    # spec eq. (2') as written: FVA = 40 + 0.05 (120 - 40) + 0.0417 * 50 = 46.085
    row = _firm(dvar(tx, ACCOUNTS, variant="unallocated"), 1)
    assert row["FVA"] == pytest.approx(46.085)
    # the two coincide for a pure exporter with no ordinary imports: firm 3 (X = 10, sales 100, so
    # D = 90) is not one; a pure exporter is: sales = X, so s_X = 1 and M^dom = M^T - F
    acc = ACCOUNTS.assign(sales=[160.0, 10.0, 80.0])
    both = [_firm(dvar(tx, acc, variant=v), 4)["dvar"] for v in ("default", "unallocated")]
    assert both[0] == pytest.approx(both[1])


def test_default_domestic_inputs_floored(tx: pd.DataFrame) -> None:
    # firm 3: M^T = 60 but actual processing imports 50 and nothing ordinary: M^dom = 10 >= 0;
    # with M^T = 30 the imported intermediates exceed the inputs: M^dom floored at 0 and counted
    acc = ACCOUNTS.assign(intermediate_inputs=[120.0, 30.0, 0.0])
    out = dvar(tx, acc, out_of_range="keep")
    row = _firm(out, 3)
    # X = 10, D = 90, s_X = 0.1: FVA = 50 + 0.1 * (0 + 0.0417 * 10) = 50.0417
    assert row["FVA"] == pytest.approx(50.0417)
    assert out.attrs["n_negative_domestic_inputs"] == 1


def test_as_printed_variant(tx: pd.DataFrame) -> None:
    # FVA = 40 - 0.05 (120 - 40) - 0.0417 * 50 = 33.915
    out = dvar(tx, ACCOUNTS, variant="as_printed")
    assert _firm(out, 1)["dvar"] == pytest.approx(1 - 0.33915)


def test_default_without_intermediary_adjustment(tx: pd.DataFrame) -> None:
    # F = 25; domestic inputs 120 - 20 - 10 = 90; FVA = 25 + 0.625 (0.05 * 90 + 2.085) = 29.115625
    out = dvar(tx, ACCOUNTS, adjust_intermediaries=False)
    assert _firm(out, 1)["dvar"] == pytest.approx(1 - 0.29115625)


def test_out_of_range_drop_clip_keep(tx: pd.DataFrame) -> None:
    # firm 3: X = 10, processing imports 50 -> F = 50, DVAR far below 0
    # firm 4: pure exporter with no inputs and no capital -> DVAR = 1 exactly (kept: the range is (0, 1])
    dropped = dvar(tx, ACCOUNTS)
    assert set(dropped["firm_id"]) == {1, 4}
    assert _firm(dropped, 4)["dvar"] == 1.0
    assert dropped.attrs["n_out_of_range"] == 1
    assert _firm(dvar(tx, ACCOUNTS, out_of_range="clip"), 3)["dvar"] == 0.0
    kept = dvar(tx, ACCOUNTS, out_of_range="keep", variant="kee_tang_basic")
    assert _firm(kept, 3)["dvar"] == pytest.approx(1 - 50 / 10)


def test_negative_domestic_sales_are_floored(tx: pd.DataFrame) -> None:
    acc = ACCOUNTS.assign(sales=[50.0, 100.0, 100.0])  # firm 1 sells less than it exports
    out = dvar(tx, acc, variant="kee_tang_basic")
    # D = 0 -> F = 20 + 60 * 10 / 60 = 30
    assert _firm(out, 1)["dvar"] == pytest.approx(0.70)
    assert out.attrs["n_negative_domestic_sales"] == 1


# ---------------------------------------------------------------------------------------------
# properties and identities
# ---------------------------------------------------------------------------------------------


def test_parquet_glob_matches_dataframe(tx: pd.DataFrame, tmp_path) -> None:
    tx.iloc[:5].to_parquet(tmp_path / "a.parquet")
    tx.iloc[5:].to_parquet(tmp_path / "b.parquet")
    from_files = dvar(str(tmp_path / "*.parquet"), ACCOUNTS, memory_limit="256MB", threads=1)
    pd.testing.assert_frame_equal(from_files, dvar(tx, ACCOUNTS), check_dtype=False)


def test_default_with_zero_coefficients_equals_basic_without_intermediaries(
    tx: pd.DataFrame,
) -> None:
    a = dvar(tx, ACCOUNTS, domestic_content=0.0, capital_coef=0.0, adjust_intermediaries=False)
    b = dvar(tx, ACCOUNTS, variant="kee_tang_basic")
    np.testing.assert_allclose(a["dvar"], b["dvar"])


def test_currency_scaling_is_neutral(tx: pd.DataFrame) -> None:
    # customs in USD, accounts in thousand RMB: fx = rate / 1000 per year; DVAR is a ratio and must not move
    usd = tx.assign(value=tx["value"] * 1000 / 8.28)
    out = dvar(usd, ACCOUNTS, fx={2005: 8.28 / 1000})
    np.testing.assert_allclose(out["dvar"], dvar(tx, ACCOUNTS)["dvar"])


def test_intermediary_flag_column_equals_name_rule(tx: pd.DataFrame) -> None:
    flagged = tx.assign(is_trader=tx["firm_name"].str.contains("进出口")).drop(columns="firm_name")
    a = dvar(flagged, ACCOUNTS, name_col=None, intermediary_col="is_trader")
    pd.testing.assert_frame_equal(a, dvar(tx, ACCOUNTS))


def test_integer_hs_codes_keep_leading_zero(tx: pd.DataFrame) -> None:
    # 010290 (live bovine animals, chapter 01, BEC 111) read as the integer 10290 must map to chapter 01
    extra = pd.DataFrame(
        [(1, "甲电子制造有限公司", 2005, 10290, "ordinary", "import", 12.0)], columns=tx.columns
    )
    both = pd.concat([tx.assign(hs6=tx["hs6"].astype(int)), extra], ignore_index=True)
    out = dvar(both, ACCOUNTS, variant="kee_tang_basic")
    # ordinary intermediates 10 + 12 = 22 -> F = 20 + 60 * 22 / 120 = 31
    assert _firm(out, 1)["dvar"] == pytest.approx(0.69)


def test_bec_mapping_rules_and_custom_table() -> None:
    flags = bec_intermediate(["120190", "870323", "870899", "854231", "847130", "270900"])
    # soybeans 111, cars 51, car parts 53, ICs 42, computers 41, crude oil 31
    assert flags["bec"].tolist() == ["111", "51", "53", "42", "41", "31"]
    assert flags["is_intermediate"].tolist() == [True, False, True, True, False, True]
    custom = bec_intermediate(["847130"], pd.DataFrame({"hs6": ["847130"], "bec": ["42"]}))
    assert custom["is_intermediate"].tolist() == [True]


def test_intermediate_flag_column(tx: pd.DataFrame) -> None:
    flagged = tx.assign(is_int=tx["hs6"].eq("854231")).drop(columns="hs6")
    out = dvar(flagged, ACCOUNTS, variant="kee_tang_basic", intermediate_col="is_int")
    assert _firm(out, 1)["dvar"] == pytest.approx(0.75)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_bad_input(tx: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        dvar(tx.drop(columns="regime"), ACCOUNTS)
    with pytest.raises(ValueError, match="negative values"):
        dvar(tx.assign(value=-tx["value"]), ACCOUNTS)
    with pytest.raises(ValueError, match="missing or non-finite"):
        dvar(tx.assign(value=np.where(tx.index == 0, np.nan, tx["value"])), ACCOUNTS)
    with pytest.raises(ValueError, match="neither an import nor an export"):
        dvar(tx.assign(flow="transit"), ACCOUNTS)
    with pytest.raises(ValueError, match="match no HS->BEC rule"):
        dvar(tx.assign(hs6="770000"), ACCOUNTS)
    with pytest.raises(ValueError, match="duplicated firm-years"):
        dvar(tx, pd.concat([ACCOUNTS, ACCOUNTS]))
    with pytest.raises(ValueError, match="negative values"):
        dvar(tx, ACCOUNTS.assign(sales=-1.0))
    with pytest.raises(ValueError, match="missing or non-numeric"):
        dvar(tx, ACCOUNTS.assign(net_fixed_assets=np.nan))
    with pytest.raises(ValueError, match="variant must be"):
        dvar(tx, ACCOUNTS, variant="printed")
    with pytest.raises(ValueError, match="name_col"):
        dvar(tx, ACCOUNTS, name_col=None)
    with pytest.raises(ValueError, match="does not exist"):
        dvar("/nonexistent/file.parquet", ACCOUNTS)
    with pytest.raises(ValueError, match="fx table"):
        dvar(tx, ACCOUNTS, fx={2006: 8.0})
    with pytest.raises(ValueError, match="domestic_content"):
        dvar(tx, ACCOUNTS, domestic_content=1.5)

"""Tests for helpers.twins.load_panel and the schema checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.paths import REPO_ROOT
from helpers.twins import load_panel
from helpers.twins.loader import read_schema

SLUG = "bigdata-innovation-fusion"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "bigdata-innovation-fusion_sample.csv"


@pytest.fixture()
def sample() -> pd.DataFrame:
    return pd.read_csv(FIXTURE, dtype=str)


def _write(df: pd.DataFrame, tmp_path: Path, name: str = "panel.csv") -> Path:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_valid_fixture_is_accepted_and_typed() -> None:
    df = load_panel(SLUG, FIXTURE)
    assert df.attrs["simulated"] is False
    assert df.shape == (260, 24) and df.city_id.nunique() == 20
    assert df.year.dtype == "int64" and df.FI.dtype == "float64" and df.region.dtype == "category"
    assert df.bd_year.isna().sum() > 0  # never-treated cities keep an empty first year


def test_never_writes_the_users_file(tmp_path: Path) -> None:
    path = tmp_path / "copy.csv"
    shutil.copy(FIXTURE, path)
    before = path.read_bytes(), path.stat().st_mtime_ns
    load_panel(SLUG, path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_parquet_and_stata_are_read(tmp_path: Path) -> None:
    df = load_panel(SLUG, FIXTURE)
    df.to_parquet(tmp_path / "p.parquet")
    assert len(load_panel(SLUG, tmp_path / "p.parquet")) == 260
    plain = df.astype({"region": str, "bd_year": "float64", "special_city": int})
    plain.to_stata(tmp_path / "p.dta", write_index=False, version=118)
    assert load_panel(SLUG, tmp_path / "p.dta").FI.sum() == pytest.approx(df.FI.sum())


def test_missing_column_is_named(sample: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing column 'Talen'.*add it, or rename"):
        load_panel(SLUG, _write(sample.drop(columns="Talen"), tmp_path))


def test_duplicate_keys_with_examples(sample: pd.DataFrame, tmp_path: Path) -> None:
    bad = pd.concat([sample, sample.iloc[[0]]])
    with pytest.raises(ValueError, match=r"duplicate panel keys \['city_id', 'year'\].*city_id=110000, year=2010"):
        load_panel(SLUG, _write(bad, tmp_path))


def test_text_in_a_numeric_column_shows_bad_values(sample: pd.DataFrame, tmp_path: Path) -> None:
    sample.loc[3, "Gdp"] = "10,5 万元"
    with pytest.raises(ValueError, match=r"column 'Gdp' must be float but 1 value\(s\).*'10,5 万元'"):
        load_panel(SLUG, _write(sample, tmp_path))


def test_out_of_range_values_are_counted(sample: pd.DataFrame, tmp_path: Path) -> None:
    sample.loc[:1, "FI"] = "23.4"   # a percentage where a share belongs
    with pytest.raises(ValueError, match=r"column 'FI': 2 value\(s\) above the maximum 1"):
        load_panel(SLUG, _write(sample, tmp_path))


def test_all_problems_in_one_error(sample: pd.DataFrame, tmp_path: Path) -> None:
    bad = sample.drop(columns="Env")
    bad.loc[0, "Bigdata"] = "2"
    bad.loc[1, "region"] = "North"
    with pytest.raises(ValueError, match=r"3 problem\(s\)") as err:
        load_panel(SLUG, _write(bad, tmp_path))
    msg = str(err.value)
    assert "'Env'" in msg and "'Bigdata'" in msg and "'North'" in msg


def test_wrong_file_type_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "panel.txt").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"file type '.txt' is not supported.*CSV"):
        load_panel(SLUG, tmp_path / "panel.txt")
    with pytest.raises(ValueError, match="file not found"):
        load_panel(SLUG, tmp_path / "nope.csv")


def test_excel_without_openpyxl_names_the_package(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        (tmp_path / "p.xlsx").write_bytes(b"PK")
        with pytest.raises(ValueError, match="openpyxl"):
            load_panel(SLUG, tmp_path / "p.xlsx")
    else:
        pytest.skip("openpyxl is installed; the missing-package message cannot be triggered")


def test_schema_is_well_formed_and_unknown_slug_rejected() -> None:
    sch = read_schema(SLUG)
    assert sch["keys"] == ["city_id", "year"] and sch["columns"]["FI"]["max"] == 1
    with pytest.raises(ValueError, match="unknown paper slug"):
        load_panel("bigdata", FIXTURE)

"""Tests for helpers.twins.load_panel and the schema checks.

Every file is written into ``tmp_path`` by the test itself from the fixtures of two schemas: the
city panel of bigdata-innovation-fusion (6-digit city codes, Chinese city names) and the firm panel
of ai-new-quality-productivity (stock codes with leading zeros, e.g. ``000815``).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.paths import REPO_ROOT, SLUGS
from helpers.twins import load_panel
from helpers.twins.loader import check_panel, read_schema, sniff_csv

SLUG = "bigdata-innovation-fusion"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "bigdata-innovation-fusion_sample.csv"
FIRMS = "ai-new-quality-productivity"
FIRM_FIXTURE = REPO_ROOT / "tests" / "fixtures" / f"{FIRMS}_sample.csv"


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


def test_excel_without_openpyxl_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pd.read_csv(FIXTURE, dtype=str).to_excel(tmp_path / "p.xlsx", index=False)
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now raises ImportError
    with pytest.raises(ValueError, match=r"needs the package 'openpyxl'.*pip install openpyxl"):
        load_panel(SLUG, tmp_path / "p.xlsx")


def test_schema_is_well_formed_and_unknown_slug_rejected() -> None:
    sch = read_schema(SLUG)
    assert sch["keys"] == ["city_id", "year"] and sch["columns"]["FI"]["max"] == 1
    with pytest.raises(ValueError, match="unknown paper slug"):
        load_panel("bigdata", FIXTURE)


# =================================================================================================
# formats and encodings
# =================================================================================================
@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return load_panel(SLUG, FIXTURE)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_bytes(df: pd.DataFrame, encoding: str = "utf-8", sep: str = ",") -> bytes:
    return df.to_csv(index=False, sep=sep).encode(encoding)


def _stata_frame(ref: pd.DataFrame) -> pd.DataFrame:
    return ref.astype({"region": str, "bd_year": "float64", "special_city": int})


WRITERS: dict[str, tuple[str, Callable[[pd.DataFrame, pd.DataFrame, Path], None]]] = {
    "utf8": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw))),
    "utf8-bom": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, "utf-8-sig"))),
    "gbk": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, "gbk"))),
    "gb18030": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, "gb18030"))),
    "utf16-tab": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, "utf-16", "\t"))),
    "tab": ("p.tsv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, sep="\t"))),
    "semicolon": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, sep=";"))),
    "pipe-gbk": ("p.csv", lambda raw, ref, p: p.write_bytes(_csv_bytes(raw, "gbk", "|"))),
    "xlsx-text": ("p.xlsx", lambda raw, ref, p: raw.to_excel(p, index=False)),
    "xlsx-typed": ("p.xlsx", lambda raw, ref, p: ref.to_excel(p, index=False)),
    "parquet": ("p.parquet", lambda raw, ref, p: ref.to_parquet(p)),
    "parquet-index": ("p.parquet", lambda raw, ref, p: ref.set_index(["city_id", "year"]).to_parquet(p)),
    "stata": ("p.dta", lambda raw, ref, p: _stata_frame(ref).to_stata(p, write_index=False, version=118)),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_format_and_encoding_reads_the_same_panel(kind: str, reference: pd.DataFrame,
                                                        tmp_path: Path) -> None:
    name, write = WRITERS[kind]
    path = tmp_path / name
    write(pd.read_csv(FIXTURE, dtype=str), reference, path)
    before = _sha(path)
    df = load_panel(SLUG, path)
    assert _sha(path) == before  # the user's file is never written
    assert df.shape == reference.shape and list(df.columns) == list(reference.columns)
    assert df.city_id.tolist() == reference.city_id.tolist()
    assert df.city_name.tolist() == reference.city_name.tolist()  # Chinese text survives the encoding
    assert df.year.dtype == "int64" and df.region.dtype == "category"
    np.testing.assert_allclose(df.FI.to_numpy(), reference.FI.to_numpy(), rtol=1e-12)
    assert df.bd_year.isna().sum() == reference.bd_year.isna().sum()


@pytest.mark.parametrize(("encoding", "sep", "expected"), [
    ("utf-8", ",", ("utf-8", ",")), ("utf-8-sig", ";", ("utf-8-sig", ";")),
    ("gbk", "\t", ("gb18030", "\t")), ("gb18030", "|", ("gb18030", "|")),
])
def test_sniff_detects_encoding_and_delimiter(encoding: str, sep: str, expected: tuple[str, str],
                                              tmp_path: Path) -> None:
    df = pd.DataFrame({"证券代码": ["000001", "600000"], "年度": [2020, 2021], "城市": ["深圳市", "上海市"]})
    (tmp_path / "f.csv").write_bytes(_csv_bytes(df, encoding, sep))
    assert sniff_csv(tmp_path / "f.csv") == expected


def test_gbk_file_is_read_without_being_told(tmp_path: Path) -> None:
    raw = pd.read_csv(FIXTURE, dtype=str)
    (tmp_path / "gbk.csv").write_bytes(_csv_bytes(raw, "gbk"))
    df = load_panel(SLUG, tmp_path / "gbk.csv")
    assert df.attrs["read"] == {"encoding": "gb18030", "delimiter": "comma"}
    assert df.city_name.iloc[0] == "北京市"


# =================================================================================================
# codes: leading zeros, float-coded IDs, Stata value labels
# =================================================================================================
@pytest.mark.parametrize("kind", ["utf8", "gbk", "xlsx-text", "parquet"])
def test_stock_codes_keep_their_leading_zeros(kind: str, tmp_path: Path) -> None:
    raw = pd.read_csv(FIRM_FIXTURE, dtype=str)
    assert raw.stkcd.iloc[0] == "000815"
    path = tmp_path / WRITERS[kind][0]
    WRITERS[kind][1](raw, load_panel(FIRMS, FIRM_FIXTURE), path)
    df = load_panel(FIRMS, path)
    assert df.stkcd.iloc[0] == "000815" and df.stkcd.str.len().eq(6).all()
    assert df.attrs["notes"] == []


@pytest.mark.parametrize("kind", ["csv", "parquet", "stata", "xlsx"])
def test_codes_stored_as_numbers_get_their_zeros_back_with_a_warning(kind: str, tmp_path: Path) -> None:
    df = load_panel(FIRMS, FIRM_FIXTURE)
    numeric = df.assign(stkcd=df.stkcd.astype(int), region=df.region.astype(str))
    path = tmp_path / f"n.{ {'stata': 'dta'}.get(kind, kind) }"
    if kind == "csv":
        numeric.to_csv(path, index=False)
    elif kind == "parquet":
        numeric.to_parquet(path)
    elif kind == "xlsx":
        numeric.to_excel(path, index=False)
    else:
        numeric.select_dtypes(exclude="string").join(numeric[["industry", "province", "city", "region"]].astype(str)
                                                     ).to_stata(path, write_index=False, version=118)
    n_short = int((df.stkcd.str[0] == "0").sum())
    with pytest.warns(UserWarning, match=rf"column 'stkcd': {n_short} code\(s\) had fewer than 6 digits"):
        out = load_panel(FIRMS, path)
    assert out.stkcd.tolist() == df.stkcd.tolist()
    assert len(out.attrs["notes"]) == 1


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_float_coded_ids_are_recognised(kind: str, tmp_path: Path) -> None:
    ref = load_panel(SLUG, FIXTURE)
    floats = ref.assign(city_id=ref.city_id.astype(float))  # 110000.0, as a float column writes it
    path = tmp_path / f"f.{kind}"
    floats.to_csv(path, index=False) if kind == "csv" else floats.to_parquet(path)
    if kind == "csv":
        assert "110000.0" in path.read_text(encoding="utf-8")
    out = load_panel(SLUG, path)
    assert out.city_id.iloc[0] == "110000" and out.city_id.tolist() == ref.city_id.tolist()


def test_stata_value_labels_become_values_of_text_columns_only(tmp_path: Path) -> None:
    ref = load_panel(FIRMS, FIRM_FIXTURE)
    codes = {"Central": 1, "East": 2, "West": 3}
    frame = ref.assign(region=ref.region.astype(str).map(codes).astype("int8")).astype(
        {c: str for c in ["stkcd", "industry", "province", "city"]})
    frame = frame.astype({c: "float64" for c in frame.columns if str(frame[c].dtype) == "Int64"})
    path = tmp_path / "labels.dta"
    frame.to_stata(path, write_index=False, version=118, value_labels={
        "region": {v: k for k, v in codes.items()}, "soe": {0: "private", 1: "state"}})
    out = load_panel(FIRMS, path)
    assert out.region.astype(str).tolist() == ref.region.astype(str).tolist()  # labels, not 1/2/3
    assert out.soe.dtype == "int64" and out.soe.tolist() == ref.soe.tolist()  # int column: codes kept
    assert out.attrs["value_labels"]["soe"] == {0: "private", 1: "state"}
    assert out.attrs["read"]["labels_applied"] == ["region"]


# =================================================================================================
# rename= and source-field suggestions
# =================================================================================================
def test_source_field_is_suggested_and_rename_fixes_it(tmp_path: Path) -> None:
    raw = pd.read_csv(FIRM_FIXTURE, dtype=str).rename(columns={"stkcd": "Stkcd", "year": "年度",
                                                               "industry": "Nnindcd"})
    path = tmp_path / "csmar.csv"
    path.write_bytes(_csv_bytes(raw, "gbk"))
    with pytest.raises(ValueError, match=r"3 problem\(s\)") as err:
        load_panel(FIRMS, path)
    msg = str(err.value)
    assert "missing column 'stkcd' (6-digit stock code (keep leading zeros)): your file has 'Stkcd': " \
           "pass rename={'Stkcd': 'stkcd'}" in msg
    assert "your file has '年度': pass rename={'年度': 'year'}" in msg
    assert "all renames at once: rename={'Stkcd': 'stkcd', '年度': 'year', 'Nnindcd': 'industry'}" in msg
    df = load_panel(FIRMS, path, rename={"Stkcd": "stkcd", "年度": "year", "Nnindcd": "industry"})
    assert df.stkcd.iloc[0] == "000815" and df.year.dtype == "int64"


def test_same_name_in_other_case_is_suggested(tmp_path: Path) -> None:
    raw = pd.read_csv(FIRM_FIXTURE, dtype=str).rename(columns={"NQP": "nqp"})
    raw.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(ValueError, match=r"missing column 'NQP'.*your file has 'nqp': pass rename=\{'nqp': 'NQP'\}"):
        load_panel(FIRMS, tmp_path / "c.csv")


def test_every_schema_lists_source_fields_for_its_keys() -> None:
    for slug in SLUGS:
        sch = read_schema(slug)
        for key in sch["keys"]:
            assert sch["columns"][key]["source_fields"], (slug, key)


def test_missing_markers_can_be_declared_missing(tmp_path: Path) -> None:
    raw = pd.read_csv(FIXTURE, dtype=str)
    raw.loc[3, "VCPE1"] = "--"
    raw.to_csv(tmp_path / "w.csv", index=False)
    with pytest.raises(ValueError, match=r"'VCPE1' must be float.*row 5: '--'.*na_values=\['--'\]"):
        load_panel(SLUG, tmp_path / "w.csv")
    raw.loc[3, "VCPE1"] = "1.5"
    raw.loc[3, "bd_year"] = "--"
    raw.to_csv(tmp_path / "w.csv", index=False)
    assert load_panel(SLUG, tmp_path / "w.csv", na_values=["--"]).bd_year.isna().sum() > 0


# =================================================================================================
# one message for every problem, missing values included
# =================================================================================================
def test_type_error_and_missing_value_in_the_same_column_are_both_reported(tmp_path: Path) -> None:
    raw = pd.read_csv(FIXTURE, dtype=str)
    raw.loc[2, "Gdp"] = "abc"
    raw.loc[5, "Gdp"] = ""
    raw.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ValueError, match=r"2 problem\(s\)") as err:
        load_panel(SLUG, tmp_path / "b.csv")
    msg = str(err.value)
    assert "column 'Gdp' must be float but 1 value(s) are not (e.g. row 4: 'abc')" in msg
    assert "column 'Gdp' has 1 missing value(s) (row 7) but may not be empty" in msg


def test_many_problems_one_message_with_counts_rows_and_values(tmp_path: Path) -> None:
    raw = pd.read_csv(FIXTURE, dtype=str).drop(columns="Env")
    raw.loc[[0, 1], "Bigdata"] = "2"
    raw.loc[4, "FI"] = "23.4"
    raw.loc[6, "Talen"] = ""
    raw.loc[7, "Talen"] = "n/a?"
    raw.loc[8, "city_id"] = "110000.5"
    raw = pd.concat([raw, raw.iloc[[10]]])
    raw.to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(ValueError) as err:
        load_panel(SLUG, tmp_path / "m.csv")
    msg = str(err.value)
    assert msg.startswith("m.csv does not match the schema (7 problem(s)):")
    for part in ["missing column 'Env'",
                 "column 'Bigdata': 2 value(s) not in [0, 1] (e.g. row 2: 2.0; row 3: 2.0)",
                 "column 'FI': 1 value(s) above the maximum 1 (e.g. row 6: 23.4)",
                 "column 'Talen' must be float but 1 value(s) are not (e.g. row 9: 'n/a?')",
                 "column 'Talen' has 1 missing value(s) (row 8)",
                 "column 'city_id' holds codes, but 1 value(s) are not whole numbers (row 10: '110000.5')",
                 "duplicate panel keys ['city_id', 'year']: 2 rows share a key",
                 "the header is row 1"]:
        assert part in msg, part


# =================================================================================================
# 30+ bad inputs: each error names the problem
# =================================================================================================
def _raw() -> pd.DataFrame:
    return pd.read_csv(FIXTURE, dtype=str)


def _firm_raw() -> pd.DataFrame:
    return pd.read_csv(FIRM_FIXTURE, dtype=str)


def _edit(col: str, row: int, value: str, frame: Callable[[], pd.DataFrame] = _raw) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        df = frame()
        df.loc[row, col] = value
        df.to_csv(folder / "bad.csv", index=False)
        return folder / "bad.csv"
    return write


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name
    return write


def _frame(fn: Callable[[pd.DataFrame], pd.DataFrame], name: str = "bad.csv",
           frame: Callable[[], pd.DataFrame] = _raw) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        df = fn(frame())
        path = folder / name
        if name.endswith(".xlsx"):
            df.to_excel(path, index=False)
        else:
            df.to_csv(path, index=False)
        return path
    return write


def _ragged(folder: Path) -> Path:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines[4] += ",extra"
    (folder / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "bad.csv"


HEADER = ",".join(_raw().columns) + "\n"
BAD_INPUTS: list[tuple[str, Callable[[Path], Path], dict, str]] = [
    ("empty-csv", _bytes("bad.csv", b""), {}, r"'bad.csv' is empty \(0 bytes\)"),
    ("empty-xlsx", _bytes("bad.xlsx", b""), {}, r"'bad.xlsx' is empty \(0 bytes\)"),
    ("blank-lines", _bytes("bad.csv", b"\n  \n\n"), {}, r"holds no data: it has only blank lines"),
    ("header-only-csv", _bytes("bad.csv", HEADER.encode()), {}, r"has a header \(24 columns: city_id, .*\) but no data rows"),
    ("header-only-gbk", _bytes("bad.csv", HEADER.encode("gbk")), {}, r"but no data rows"),
    ("header-only-xlsx", _frame(lambda d: d.iloc[:0], "bad.xlsx"), {}, r"has a header \(24 columns.* but no data rows"),
    ("undecodable", _bytes("bad.csv", b"city_id,year\n\xff\xfe\xff,2010\n"), {}, r"neither UTF-8 nor GBK/GB18030"),
    ("txt-type", _bytes("bad.txt", b"a,b\n1,2\n"), {}, r"file type '.txt' is not supported"),
    ("old-xls", _bytes("bad.xls", b"\xd0\xcf\x11\xe0"), {}, r"'.xls' is not supported \(old Excel format"),
    ("corrupt-xlsx", _bytes("bad.xlsx", b"PK\x03\x04broken"), {}, r"cannot read 'bad.xlsx' as an Excel workbook"),
    ("csv-named-xlsx", _bytes("bad.xlsx", HEADER.encode()), {}, r"as an Excel workbook.*CSV renamed to .xlsx"),
    ("corrupt-parquet", _bytes("bad.parquet", b"PAR1broken"), {}, r"cannot read 'bad.parquet' as a Parquet file"),
    ("corrupt-dta", _bytes("bad.dta", b"not stata"), {}, r"cannot read 'bad.dta' as a Stata file"),
    ("ragged-row", _ragged, {}, r"row 5 has 25 fields but the header has 24"),
    ("ragged-first-row", _bytes("bad.csv", b"a,b\n1,2,3\n"), {}, r"more fields than the header"),
    ("unknown-sheet", _frame(lambda d: d, "bad.xlsx"), {"sheet": "Data"}, r"has no sheet 'Data'; its sheets: \['Sheet1'\]"),
    ("missing-column", _frame(lambda d: d.drop(columns="Talen")), {}, r"missing column 'Talen': add it, or rename"),
    ("source-field", _frame(lambda d: d.rename(columns={"city_id": "行政区划代码"})), {},
     r"missing column 'city_id'.*your file has '行政区划代码': pass rename=\{'行政区划代码': 'city_id'\}"),
    ("rename-unknown", _frame(lambda d: d), {"rename": {"Stkcd": "city_id"}}, r"rename: your file has no column 'Stkcd'"),
    ("rename-collision", _frame(lambda d: d.assign(code=d.city_id)), {"rename": {"code": "city_id"}},
     r"rename: 'code' -> 'city_id', but the file already has a column 'city_id'"),
    ("rename-twice", _frame(lambda d: d.assign(a=d.FI, b=d.FI).drop(columns="FI")), {"rename": {"a": "FI", "b": "FI"}},
     r"several columns are renamed to 'FI'"),
    ("duplicate-header", _frame(lambda d: d.set_axis([*d.columns[:-1], "FI"], axis=1)), {},
     r"column 'FI' appears 2 times in the header \(columns 6, 24\)"),
    ("text-in-float", _edit("Gdp", 3, "10,5 万元"), {}, r"column 'Gdp' must be float but 1 value\(s\) are not \(e.g. row 5: '10,5 万元'\)"),
    ("missing-value", _edit("FI", 2, ""), {}, r"column 'FI' has 1 missing value\(s\) \(row 4\) but may not be empty"),
    ("missing-key", _edit("year", 0, ""), {}, r"column 'year' has 1 missing value\(s\) \(row 2\)"),
    ("above-max", _edit("FI", 0, "23.4"), {}, r"column 'FI': 1 value\(s\) above the maximum 1 \(e.g. row 2: 23.4\)"),
    ("below-min", _edit("Gdp", 1, "-3"), {}, r"column 'Gdp': 1 value\(s\) below the minimum 5 \(e.g. row 3: -3.0\)"),
    ("not-in-set", _edit("region", 1, "North"), {}, r"column 'region': 1 value\(s\) not in \['Central', 'East', 'Northeast', 'West'\] \(e.g. row 3: 'North'\)"),
    ("int-with-decimals", _edit("year", 1, "2010.5"), {}, r"column 'year' must be int but 1 value\(s\).*row 3: 2010.5\).*not whole numbers"),
    ("bool-bad", _edit("special_city", 1, "maybe"), {}, r"column 'special_city' must be bool but 1 value\(s\).*'maybe'"),
    ("infinite", _edit("Pas", 1, "inf"), {}, r"column 'Pas': 1 value\(s\) are infinite \(row 3\)"),
    ("float-id-fraction", _edit("city_id", 3, "110000.5"), {}, r"column 'city_id' holds codes, but 1 value\(s\) are not whole numbers \(row 5: '110000.5'\)"),
    ("id-scientific", _edit("city_id", 0, "1.1e+05"), {}, r"column 'city_id' holds codes, but 1 value\(s\) are in scientific notation \(row 2: '1.1e\+05'\)"),
    ("code-too-long", _edit("city_id", 0, "1100001"), {}, r"column 'city_id': 1 code\(s\) have more than 6 digits \(row 2: '1100001'\)"),
    ("code-not-digits", _edit("city_id", 0, "BJ0001"), {}, r"column 'city_id': 1 value\(s\) are not 6-digit codes \(row 2: 'BJ0001'\)"),
    ("wind-stock-code", _edit("stkcd", 0, "000815.SZ", _firm_raw), {}, r"'stkcd'.*not 6-digit codes \(row 2: '000815.SZ'\).*exchange.*str\[:6\]"),
    ("duplicate-keys", _frame(lambda d: pd.concat([d, d.iloc[[0]]])), {}, r"duplicate panel keys \['city_id', 'year'\]: 2 rows share a key \(e.g. city_id=110000, year=2010; rows 2, 262\)"),
    ("date-as-year", _edit("year", 0, "2010-12-31"), {}, r"'year' must be int.*'2010-12-31'.*these are dates.*Accper"),
    ("wind-missing-marker", _edit("Gdp", 0, "--"), {}, r"'Gdp' must be float.*'--'.*na_values=\['--'\]"),
    ("percent", _edit("Talen", 0, "3.5%"), {}, r"'Talen' must be float.*'3.5%'.*remove the % sign"),
    ("thousands", _edit("Entre", 0, "1,234.5"), {}, r"'Entre' must be float.*'1,234.5'.*thousands separators"),
    ("csmar-label-rows", _frame(lambda d: pd.concat([d.iloc[:0], pd.DataFrame([d.columns.str.upper()], columns=d.columns), d])), {},
     r"hint: only the first data rows are affected in \d+ columns: are rows 2 extra header rows"),
    ("wind-footer", _frame(lambda d: pd.concat([d, pd.DataFrame([["数据来源：Wind"]], columns=d.columns[:1])])), {},
     r"hint: only the last rows are affected.*footer"),
]


def test_at_least_thirty_bad_inputs() -> None:
    assert len(BAD_INPUTS) >= 30


@pytest.mark.parametrize(("write", "kwargs", "pattern"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_a_message_naming_the_problem(write: Callable[[Path], Path], kwargs: dict,
                                                     pattern: str, tmp_path: Path) -> None:
    path = write(tmp_path)
    before = _sha(path)
    slug = FIRMS if "stkcd" in pattern else SLUG
    with pytest.raises(ValueError, match=pattern):
        load_panel(slug, path, **kwargs)
    assert _sha(path) == before


def test_check_panel_on_a_frame_warns_about_padded_codes() -> None:
    sch = {"keys": ["id"], "columns": {"id": {"dtype": "str", "width": 6}}}
    with pytest.warns(UserWarning, match=r"1 code\(s\) had fewer than 6 digits"):
        out = check_panel(pd.DataFrame({"id": [1, 600000]}), sch)
    assert out.id.tolist() == ["000001", "600000"]


def test_malformed_schema_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import helpers.twins.loader as loader

    (tmp_path / SLUG).mkdir()
    (tmp_path / SLUG / "schema.yml").write_text(
        "keys: [id]\ncolumns:\n  id: {dtype: str, width: 6, colour: red}\n  x: {dtype: float, width: 3}\n"
        "companions:\n  raw: {columns: [id]}\n", encoding="utf-8")
    monkeypatch.setattr(loader, "slug_dir", lambda slug: tmp_path / slug)
    with pytest.raises(ValueError, match=r"(?s)unknown field\(s\) \['colour'\].*'x': width needs dtype str"
                                         r".*companion 'raw': needs 'columns' and 'builds'"):
        loader.read_schema(SLUG)


def test_bool_column_stored_as_numbers_must_be_zero_or_one(tmp_path: Path) -> None:
    ref = load_panel(SLUG, FIXTURE)
    ints = ref.assign(special_city=ref.special_city.astype(int))
    ints.loc[2, "special_city"] = 2
    ints.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match=r"'special_city' must be bool \(0/1/true/false\) but 1 value\(s\) "
                                         r"are not \(e.g. row 3: 2.0\)"):
        load_panel(SLUG, tmp_path / "b.parquet")
    ints.loc[2, "special_city"] = 1
    ints.to_parquet(tmp_path / "b.parquet")
    assert load_panel(SLUG, tmp_path / "b.parquet").special_city.dtype == bool


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_companions_document_the_twins_raw_tables(slug: str) -> None:
    """Each companion file of schema.yml is a table of twin.raw, and its columns are that table's."""
    import warnings

    from helpers.twins import load_twin

    with warnings.catch_warnings(action="ignore", category=UserWarning):  # the "simulated" warning
        raw = load_twin(slug, scale="quick").raw
    for name, spec in read_schema(slug)["companions"].items():
        assert name in raw, (slug, name)
        table = raw[name]
        have = [str(c) for c in table.columns] + [n for n in table.index.names if n is not None]
        assert set(map(str, spec["columns"])) <= set(have), (slug, name, set(spec["columns"]) - set(have))


def test_gbk_text_past_the_first_mebibyte_is_still_detected(tmp_path: Path) -> None:
    """The encoding is guessed from the first MiB; GBK bytes after it make the reader decode it all."""
    raw = pd.read_csv(FIXTURE, dtype=str)
    ascii_part = [raw.assign(city_name="x", province="y",
                             city_id=(raw.city_id.astype(int) + i).astype(str).str.zfill(6)) for i in range(1, 60)]
    big = pd.concat([*ascii_part, raw], ignore_index=True)  # the Chinese names come last
    path = tmp_path / "late.csv"
    path.write_bytes(_csv_bytes(big, "gbk"))
    assert path.read_bytes()[: 1 << 20].isascii() and path.stat().st_size > 1 << 20
    df = load_panel(SLUG, path)
    assert df.attrs["read"]["encoding"] == "gb18030" and df.city_name.iloc[-1] == raw.city_name.iloc[-1]


# ---------------------------------------------------------------------------------------------------
# companion raw files
# ---------------------------------------------------------------------------------------------------
COMP_DIR = REPO_ROOT / "tests" / "fixtures" / "industry-finance-ai_companions"
COMP_NAMES = ("texts", "firm_inputs", "financing", "city_digital", "cities")


def test_companions_are_read_with_their_keys(tmp_path: Path) -> None:
    from helpers.twins import load_companions

    files = {n: tmp_path / f"{n}.csv" for n in COMP_NAMES}
    for n, p in files.items():
        shutil.copy2(COMP_DIR / f"{n}.csv", p)
    before = {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in files.items()}
    raw = load_companions("industry-finance-ai", files)
    assert set(raw) == set(COMP_NAMES)
    panel = load_panel("industry-finance-ai", REPO_ROOT / "tests/fixtures/industry-finance-ai_sample.csv")
    # one text per firm-year of the fixture, keyed like the panel (codes as text, years as int)
    keys = raw["texts"][["firm_id", "year"]].sort_values(["firm_id", "year"]).reset_index(drop=True)
    expect = panel[["firm_id", "year"]].sort_values(["firm_id", "year"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(keys.astype({"firm_id": str}), expect.astype({"firm_id": str}))
    assert raw["cities"]["city_id"].str.fullmatch(r"\d{6}").all()
    assert raw["city_digital"]["year"].dtype == np.int64
    assert raw["texts"].attrs["companion"] == "texts"
    assert {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in files.items()} == before
    assert load_companions("industry-finance-ai", None) == {} == load_companions("industry-finance-ai", {})


def test_companion_problems_are_named_in_one_error(tmp_path: Path) -> None:
    from helpers.twins import load_companions

    fin = pd.read_csv(COMP_DIR / "financing.csv", dtype={"firm_id": str}).drop(columns=["ai_subsidies"])
    fin.to_csv(tmp_path / "fin.csv", index=False)
    cd = pd.read_csv(COMP_DIR / "city_digital.csv", dtype={"city_id": str})
    pd.concat([cd, cd.head(2)]).to_csv(tmp_path / "cd.csv", index=False)
    with pytest.raises(ValueError) as err:
        load_companions("industry-finance-ai", {"financing": tmp_path / "fin.csv",
                                                "city_digital": tmp_path / "cd.csv",
                                                "texts": tmp_path / "nope.csv"})
    msg = str(err.value)
    assert "3 problem(s)" in msg
    assert "financing (fin.csv): missing column(s) 'ai_subsidies'" in msg
    assert "city_digital (cd.csv): 4 rows share their key (city_id + year" in msg
    assert "texts: file not found" in msg
    with pytest.raises(ValueError, match="no companion file 'text'; its companions: texts"):
        load_companions("industry-finance-ai", {"text": tmp_path / "fin.csv"})
    with pytest.raises(ValueError, match="must be a dict"):
        load_companions("industry-finance-ai", [tmp_path / "fin.csv"])


EXPORT_COMP = REPO_ROOT / "tests" / "fixtures" / "ai-export-upgrading_companions"


def test_companion_keys_come_from_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A companion's own ``keys``: customs rows repeat their firm-year (``keys: []``); robot stocks are
    one row per industry x year, an industry code being a whole number outside the panel's columns."""
    from helpers.twins import load_companions

    files = {n: EXPORT_COMP / f"{n}.csv" for n in ("transactions", "robots")}
    raw = load_companions("ai-export-upgrading", files)
    assert raw["transactions"].duplicated(["firm_id", "year"]).any()  # repeated keys are no error
    assert raw["robots"]["ifr_ind14"].dtype == np.int64
    assert len(raw["robots"]) == 14 * 13
    rob = pd.read_csv(files["robots"])
    pd.concat([rob, rob.head(1)]).to_csv(tmp_path / "dup.csv", index=False)
    rob.assign(ifr_ind14=rob["ifr_ind14"] + 0.5).to_csv(tmp_path / "half.csv", index=False)
    with pytest.raises(ValueError, match=r"robots \(dup.csv\): 2 rows share their key \(ifr_ind14 \+ year; rows 2, 184"):
        load_companions("ai-export-upgrading", {"robots": tmp_path / "dup.csv"})
    with pytest.raises(ValueError, match=r"robots \(half.csv\): column 'ifr_ind14' must hold whole numbers"):
        load_companions("ai-export-upgrading", {"robots": tmp_path / "half.csv"})

    import helpers.twins.loader as loader

    (tmp_path / SLUG).mkdir()
    (tmp_path / SLUG / "schema.yml").write_text(
        "keys: [id]\ncolumns:\n  id: {dtype: str}\n"
        "companions:\n  raw: {columns: [id, x], builds: y, keys: [id, z]}\n", encoding="utf-8")
    monkeypatch.setattr(loader, "slug_dir", lambda slug: tmp_path / slug)
    with pytest.raises(ValueError, match=r"companion 'raw': keys must be a list of its columns"):
        loader.read_schema(SLUG)


def test_a_companion_with_its_own_key_allows_many_rows_per_firm(tmp_path: Path) -> None:
    """Patents: many rows per firm and year, one per patent_id (the companion's `keys` in the schema)."""
    from helpers.twins import load_companions

    src = REPO_ROOT / "tests" / "fixtures" / "ai-new-quality-productivity_companions" / "patents.csv"
    pat = pd.read_csv(src, dtype={"stkcd": str})
    assert pat.duplicated(["stkcd", "app_year"]).any()  # the case: a firm files several patents a year
    pat.assign(stkcd=pat["stkcd"].astype(int)).to_csv(tmp_path / "pat.csv", index=False)  # codes as numbers
    with pytest.warns(UserWarning, match="got their leading zeros back"):
        raw = load_companions("ai-new-quality-productivity", {"patents": tmp_path / "pat.csv"})
    assert len(raw["patents"]) == len(pat) and raw["patents"]["stkcd"].str.fullmatch(r"\d{6}").all()
    pd.concat([pat, pat.head(3)]).to_csv(tmp_path / "dup.csv", index=False)
    with pytest.raises(ValueError, match=r"patents \(dup.csv\): 6 rows share their key \(patent_id;"):
        load_companions("ai-new-quality-productivity", {"patents": tmp_path / "dup.csv"})
    pat.assign(patent_id=pat["patent_id"].where(pat.index != 4)).to_csv(tmp_path / "gap.csv", index=False)
    with pytest.raises(ValueError, match=r"column 'patent_id' has 1 missing cell\(s\)"):
        load_companions("ai-new-quality-productivity", {"patents": tmp_path / "gap.csv"})


def test_companion_columns_get_the_panel_schemas_types(tmp_path: Path) -> None:
    """A cities file's text "False" is False and a wrong value is named, as in load_panel."""
    from helpers.twins import load_companions

    src = REPO_ROOT / "tests/fixtures/bigdata-innovation-fusion_companions/cities.csv"
    cities = pd.read_csv(src, dtype=str)
    cities["special_city"] = np.where(np.arange(len(cities)) % 2 == 0, "True", "False")
    good = tmp_path / "cities.csv"
    cities.to_csv(good, index=False)
    raw = load_companions("bigdata-innovation-fusion", {"cities": good})["cities"]
    assert raw["special_city"].dtype == bool
    assert raw["special_city"].tolist() == [i % 2 == 0 for i in range(len(cities))]
    cities.loc[3, "special_city"] = "maybe"
    bad = tmp_path / "bad.csv"
    cities.to_csv(bad, index=False)
    with pytest.raises(ValueError, match=r"(?s)cities \(bad.csv\).*special_city.*must be bool"):
        load_companions("bigdata-innovation-fusion", {"cities": bad})

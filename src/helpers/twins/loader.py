"""The real-data path: read a user's file and check it against ``data/<slug>/schema.yml``.

Schema format (documented for users in ``data/README.md``)::

    slug: bigdata-innovation-fusion
    keys: [city_id, year]            # panel keys; each combination must be unique
    columns:
      city_id: {dtype: str, description: "6-digit adcode"}
      year:    {dtype: int, min: 2010, max: 2022}
      FI:      {dtype: float, min: 0, max: 1}
      Bigdata: {dtype: int, values: [0, 1]}
      region:  {dtype: category, values: [East, Central, West, Northeast]}
      VCPE1:   {dtype: float, min: 0, required: false, nullable: true}

Per column: ``dtype`` one of ``int``, ``float``, ``str``, ``category``, ``bool``; optional ``min`` and
``max`` (inclusive), ``values`` (allowed set), ``required`` (default true), ``nullable`` (default
false), ``description`` and ``unit`` (documentation only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers.paths import slug_dir

__all__ = ["DTYPES", "check_panel", "load_panel", "read_calibration", "read_schema"]

DTYPES = ("int", "float", "str", "category", "bool")
READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".dta": "stata", ".xlsx": "excel"}
MAX_EXAMPLES = 5


def read_calibration(slug: str) -> dict[str, Any]:
    """Read ``data/<slug>/calibration.yml`` (targets and true parameters of the twin).

    Raises
    ------
    ValueError
        If the slug is unknown or the file is missing.

    Examples
    --------
    >>> read_calibration("bigdata-innovation-fusion")["panel"]["n_obs"]
    3679
    """
    path = slug_dir(slug) / "calibration.yml"
    if not path.is_file():
        raise ValueError(f"{path} does not exist; the twin for {slug!r} has no calibration file yet")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_schema(slug: str) -> dict[str, Any]:
    """Read and validate ``data/<slug>/schema.yml``.

    Returns
    -------
    dict
        With ``keys`` (list) and ``columns`` (name -> spec with defaults filled in).

    Raises
    ------
    ValueError
        If the file is missing or a column spec is malformed (unknown dtype, min > max).

    Examples
    --------
    >>> read_schema("bigdata-innovation-fusion")["keys"]
    ['city_id', 'year']
    """
    path = slug_dir(slug) / "schema.yml"
    if not path.is_file():
        raise ValueError(f"{path} does not exist; write the schema for {slug!r} (format in data/README.md)")
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    cols = schema.get("columns") or {}
    problems = []
    for name, spec in cols.items():
        spec.setdefault("required", True)
        spec.setdefault("nullable", False)
        if spec.get("dtype") not in DTYPES:
            problems.append(f"column {name!r}: dtype {spec.get('dtype')!r} is not one of {DTYPES}")
        if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
            problems.append(f"column {name!r}: min {spec['min']} > max {spec['max']}")
    for key in schema.get("keys", []):
        if key not in cols:
            problems.append(f"key {key!r} is not described under columns")
    if problems:
        raise ValueError(f"{path} is malformed:\n- " + "\n- ".join(problems))
    schema["columns"] = cols
    schema.setdefault("keys", [])
    return schema


def _read(path: Path) -> pd.DataFrame:
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(
            f"cannot read {path.name!r}: file type {path.suffix or '(none)'!r} is not supported; "
            "save the data as CSV (.csv), Parquet (.parquet), Stata (.dta) or Excel (.xlsx)"
        )
    if kind == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=True, encoding="utf-8-sig")
    if kind == "parquet":
        return pd.read_parquet(path)
    if kind == "stata":
        return pd.read_stata(path, convert_categoricals=False)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise ValueError(
            f"reading {path.name!r} needs the package 'openpyxl', which is not installed; install it "
            "(pip install openpyxl) or save the sheet as CSV"
        ) from None
    return pd.read_excel(path, dtype=str)


def _examples(values: pd.Series) -> str:
    ex = pd.unique(values.astype(str))[:MAX_EXAMPLES]
    return ", ".join(repr(v) for v in ex)


def _coerce(s: pd.Series, dtype: str) -> tuple[pd.Series, pd.Series]:
    """Return (converted series, mask of non-missing values that failed to convert)."""
    present = s.notna() & ~(s.astype(str).str.strip().isin(["", "nan", "NaN", "NA", "<NA>"]))
    if dtype in ("int", "float", "bool"):
        if dtype == "bool" and not pd.api.types.is_numeric_dtype(s):
            mapped = s.astype(str).str.strip().str.lower().map(
                {"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0})
            num = pd.to_numeric(mapped, errors="coerce")
        else:
            num = pd.to_numeric(s.where(present), errors="coerce")
        bad = present & num.isna()
        if dtype in ("int", "bool"):
            frac = num.notna() & (num != np.round(num))
            bad = bad | frac
        num = num.where(present)
        if dtype == "int" and not bad.any():
            num = num.astype("Int64") if num.isna().any() else num.astype("int64")
        if dtype == "bool" and not bad.any():
            bad = bad | (num.notna() & ~num.isin([0, 1]))
            if not bad.any():
                num = num.astype("boolean") if num.isna().any() else num.astype(bool)
        return num, bad
    out = s.where(present).astype("string").str.strip()
    if dtype == "category":
        out = out.astype("category")
    return out, pd.Series(False, index=s.index)


def check_panel(df: pd.DataFrame, schema: dict[str, Any], source: str = "the data") -> pd.DataFrame:
    """Check and convert a frame against a schema; raise ONE ValueError listing every problem.

    Parameters
    ----------
    df : pandas.DataFrame
        The user's data (not modified).
    schema : dict
        From :func:`read_schema`.
    source : str
        Name used in messages (the file name).

    Returns
    -------
    pandas.DataFrame
        A converted copy: schema columns first (in schema order), then any extra columns.

    Raises
    ------
    ValueError
        Listing missing columns, non-numeric values in numeric columns (with examples), values
        outside the allowed range or set (with counts), missing values in non-nullable columns,
        and duplicate panel keys (with examples), each with how to fix it.

    Examples
    --------
    >>> sch = {"keys": ["id"], "columns": {"id": {"dtype": "int", "required": True, "nullable": False}}}
    >>> check_panel(pd.DataFrame({"id": ["1", "2"]}), sch)["id"].tolist()
    [1, 2]
    """
    cols = schema["columns"]
    problems: list[str] = []
    out = df.copy()
    out.columns = [str(c).strip() for c in out.columns]
    missing = [c for c, sp in cols.items() if sp.get("required", True) and c not in out.columns]
    for c in missing:
        desc = cols[c].get("description", "")
        problems.append(f"missing column {c!r}{f' ({desc})' if desc else ''}: add it, or rename your "
                        f"column to {c!r}")
    for name, sp in cols.items():
        if name not in out.columns:
            continue
        conv, bad = _coerce(out[name], sp["dtype"])
        if bad.any():
            problems.append(
                f"column {name!r} must be {sp['dtype']} but {int(bad.sum())} value(s) are not "
                f"(e.g. {_examples(out.loc[bad, name])}): clean them (remove units, thousands "
                "separators or text) or leave the cell empty if missing")
            continue
        out[name] = conv
        if conv.isna().any() and not sp.get("nullable", False):
            problems.append(f"column {name!r} has {int(conv.isna().sum())} missing value(s) but may not "
                            "be empty: fill them (e.g. interpolate within unit) or drop those rows")
        vals = conv.dropna()
        if "min" in sp and len(vals) and (low := vals < sp["min"]).any():
            problems.append(f"column {name!r}: {int(low.sum())} value(s) below the minimum {sp['min']} "
                            f"(e.g. {_examples(vals[low])}): check the unit/scale of the column")
        if "max" in sp and len(vals) and (high := vals > sp["max"]).any():
            problems.append(f"column {name!r}: {int(high.sum())} value(s) above the maximum {sp['max']} "
                            f"(e.g. {_examples(vals[high])}): check the unit/scale of the column")
        if "values" in sp and len(vals):
            allowed = set(sp["values"])
            off = ~vals.isin(list(allowed))
            if off.any():
                problems.append(f"column {name!r}: {int(off.sum())} value(s) not in {sorted(allowed, key=str)}"
                                f" (e.g. {_examples(vals[off])}): recode them")
    keys = [k for k in schema.get("keys", []) if k in out.columns]
    if keys and len(keys) == len(schema.get("keys", [])):
        dup = out.duplicated(subset=keys, keep=False)
        if dup.any():
            ex = out.loc[dup, keys].drop_duplicates().head(MAX_EXAMPLES)
            ex_s = "; ".join(", ".join(f"{k}={r[k]}" for k in keys) for _, r in ex.iterrows())
            problems.append(f"duplicate panel keys {keys}: {int(dup.sum())} rows share a key (e.g. {ex_s}); "
                            "keep one row per key (aggregate or drop duplicates)")
    if problems:
        raise ValueError(f"{source} does not match the schema ({len(problems)} problem(s)):\n- "
                         + "\n- ".join(problems))
    ordered = [c for c in cols if c in out.columns] + [c for c in out.columns if c not in cols]
    return out[ordered]


def load_panel(slug: str, path: str | Path) -> pd.DataFrame:
    """Read a real-data panel (CSV, Parquet, Stata .dta or Excel .xlsx) and check it against the schema.

    The file is only read, never written. Columns are converted to the schema's types.

    Parameters
    ----------
    slug : str
        The paper (one of ``helpers.paths.SLUGS``); the schema is ``data/<slug>/schema.yml``.
    path : str or Path
        The data file.

    Returns
    -------
    pandas.DataFrame
        The checked frame with ``attrs["simulated"] = False`` and ``attrs["source"]`` = the path.

    Raises
    ------
    ValueError
        Unknown slug, missing file, unsupported file type (or openpyxl missing for .xlsx), or any
        schema violation: one error lists every problem with its fix.

    Examples
    --------
    >>> from helpers.paths import REPO_ROOT
    >>> df = load_panel("bigdata-innovation-fusion",
    ...                 REPO_ROOT / "tests/fixtures/bigdata-innovation-fusion_sample.csv")
    >>> df.attrs["simulated"], df["year"].dtype.name
    (False, 'int64')
    """
    schema = read_schema(slug)
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"file not found: {p}; check the path")
    df = check_panel(_read(p), schema, source=p.name)
    df.attrs["simulated"] = False
    df.attrs["source"] = str(p)
    df.attrs["slug"] = slug
    return df

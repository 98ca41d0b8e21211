"""The real-data path: read a user's file and check it against ``data/<slug>/schema.yml``.

Schema format (documented for users in ``data/README.md``)::

    slug: bigdata-innovation-fusion
    keys: [city_id, year]            # panel keys; each combination must be unique
    columns:
      city_id: {dtype: str, width: 6, description: "6-digit adcode", source_fields: [行政区划代码]}
      year:    {dtype: int, min: 2010, max: 2022, source_fields: [年份, Year]}
      FI:      {dtype: float, min: 0, max: 1}
      Bigdata: {dtype: int, values: [0, 1]}
      region:  {dtype: category, values: [East, Central, West, Northeast]}
      VCPE1:   {dtype: float, min: 0, required: false, nullable: true}
    companions:                      # raw files the chapter builds its indices from (documentation)
      indicators:
        description: "the 22 raw indicators of Table 1, one row per city-year"
        columns: [city_id, year, st_firms, ...]
        builds: "FI (coupling-coordination degree)"
        keys: [city_id, year]        # optional: the columns that identify a row (default: the
                                     # panel keys and coded ID columns among its columns; [] for
                                     # tables with repeated keys, such as customs transactions)

Per column: ``dtype`` one of ``int``, ``float``, ``str``, ``category``, ``bool``; optional ``min`` and
``max`` (inclusive), ``values`` (allowed set), ``required`` (default true), ``nullable`` (default
false), ``width`` (a code column of that many digits: shorter numeric codes get their leading zeros
back), ``source_fields`` (field names of the usual databases, suggested as a rename when the column
is missing), ``description`` and ``unit`` (documentation only).

How a file is read (:func:`load_panel`)
---------------------------------------
* **CSV** (``.csv``, ``.tsv``): the encoding is detected (UTF-8, UTF-8 with BOM, UTF-16 with BOM,
  else GBK/GB18030, the usual encoding of CSMAR and Wind exports) and so is the delimiter (comma,
  tab, semicolon or pipe). Text columns of the schema (IDs, codes, names) and columns outside the
  schema are read as text, so ``000001`` stays ``000001``; numeric columns are parsed by pyarrow.
* **Excel** (``.xlsx``, ``.xlsm``, through ``openpyxl``): the first sheet, or ``sheet=``.
* **Stata** (``.dta``): value labels are applied to the schema's ``str`` and ``category`` columns
  (a ``region`` stored as 1/2/3 with labels East/Central/West is read as the labels); numeric
  schema columns and columns outside the schema keep their codes. The labels are in
  ``df.attrs["value_labels"]``.
* **Parquet** (``.parquet``, ``.pq``): as stored; a named index is turned back into columns.

ID columns (the text columns among the keys, and every column with a ``width``) accept codes stored
as numbers: ``110000.0`` is read as ``110000``; ``110000.5`` or ``1.1e+05`` is an error naming the
rows. A code shorter than ``width`` digits (``1`` for the stock ``000001``, after a spreadsheet
dropped the zeros) is padded back and a ``UserWarning`` says how many were padded.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers.paths import slug_dir

__all__ = ["DTYPES", "check_panel", "load_companions", "load_panel", "read_calibration", "read_schema",
           "sniff_csv"]

DTYPES = ("int", "float", "str", "category", "bool")
READERS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".dta": "stata",
           ".xlsx": "excel", ".xlsm": "excel"}
DELIMITERS = (",", "\t", ";", "|")
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
MAX_EXAMPLES = 5
MISSING_TOKENS = ("", "nan", "NaN", "NA", "<NA>", "N/A", "n/a", "#N/A", "NULL", "null", "None")
"""Cells read as missing in any format (CSV also uses pandas' default list, which contains these)."""
NA_VALUES = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
             "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
"""Cells of a CSV read as missing: pandas' default list (``keep_default_na``), for both parsers."""
MISSING_MARKERS = ("--", "-", "—", "——", "n.a.", "N.A.", ".", "#DIV/0!", "#VALUE!")
"""Not read as missing, but named in the hint when they show up as bad values (Wind writes ``--``)."""
COLUMN_KEYS = {"dtype", "min", "max", "values", "required", "nullable", "width", "source_fields",
               "description", "unit"}
_CHUNK = 1 << 24
_HEAD = 1 << 20
_TEXT_TYPES = ("str", "category", "bool")


# -------------------------------------------------------------------------------------------------
# schema and calibration files
# -------------------------------------------------------------------------------------------------
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
        With ``keys`` (list), ``columns`` (name -> spec with defaults filled in: ``required``,
        ``nullable``, ``source_fields``) and ``companions`` (name -> spec, possibly empty).

    Raises
    ------
    ValueError
        If the file is missing or malformed (unknown dtype or field, min > max, a key without a
        column, a ``width`` on a non-text column, a companion without columns).

    Examples
    --------
    >>> read_schema("bigdata-innovation-fusion")["keys"]
    ['city_id', 'year']
    >>> "Stkcd" in read_schema("ai-new-quality-productivity")["columns"]["stkcd"]["source_fields"]
    True
    """
    path = slug_dir(slug) / "schema.yml"
    if not path.is_file():
        raise ValueError(f"{path} does not exist; write the schema for {slug!r} (format in data/README.md)")
    schema = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = validate_schema(schema)
    if problems:
        raise ValueError(f"{path} is malformed:\n- " + "\n- ".join(problems))
    return schema


def validate_schema(schema: dict[str, Any]) -> list[str]:
    """Fill in defaults of a schema dict in place and return its problems (empty list: valid).

    Examples
    --------
    >>> validate_schema({"keys": ["id"], "columns": {"id": {"dtype": "text"}}})
    ["column 'id': dtype 'text' is not one of ('int', 'float', 'str', 'category', 'bool')"]
    """
    cols = schema.get("columns") or {}
    problems = []
    for name, spec in cols.items():
        spec.setdefault("required", True)
        spec.setdefault("nullable", False)
        spec.setdefault("source_fields", [])
        if spec.get("dtype") not in DTYPES:
            problems.append(f"column {name!r}: dtype {spec.get('dtype')!r} is not one of {DTYPES}")
        if unknown := sorted(set(spec) - COLUMN_KEYS):
            problems.append(f"column {name!r}: unknown field(s) {unknown}; allowed: {sorted(COLUMN_KEYS)}")
        if "min" in spec and "max" in spec and spec["min"] > spec["max"]:
            problems.append(f"column {name!r}: min {spec['min']} > max {spec['max']}")
        if "width" in spec and (spec.get("dtype") != "str" or not isinstance(spec["width"], int)):
            problems.append(f"column {name!r}: width needs dtype str and an integer width")
        if not isinstance(spec["source_fields"], list):
            problems.append(f"column {name!r}: source_fields must be a list of field names")
    for key in schema.get("keys", []):
        if key not in cols:
            problems.append(f"key {key!r} is not described under columns")
    companions = schema.get("companions") or {}
    for name, spec in companions.items():
        if not isinstance(spec, dict) or not spec.get("columns") or not spec.get("builds"):
            problems.append(f"companion {name!r}: needs 'columns' and 'builds' (what the chapter makes of it)")
        elif "keys" in spec and (not isinstance(spec["keys"], list)
                                 or not set(spec["keys"]) <= set(spec["columns"])):
            problems.append(f"companion {name!r}: keys must be a list of its columns")
    schema["columns"] = cols
    schema["companions"] = companions
    schema.setdefault("keys", [])
    return problems


# -------------------------------------------------------------------------------------------------
# reading files
# -------------------------------------------------------------------------------------------------
def _detect_encoding(path: Path, full: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030 (a superset of GBK), by decoding.

    Only the first MiB is decoded unless ``full``: the reader itself rejects bytes that do not
    decode later in the file, and :func:`_read_csv` then decodes the whole file to choose again.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    failure = ""
    for enc in ("utf-8", "gb18030"):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(_HEAD if not full else _CHUNK):
                    if not (chunk.isascii() and dec.getstate()[0] == b""):  # ASCII needs no decoding
                        dec.decode(chunk)
                    if not full:
                        break
                dec.decode(b"", final=full)
            return enc
        except UnicodeDecodeError as err:
            failure = failure or f"byte {err.object[err.start:err.start + 1]!r}"
    raise ValueError(
        f"cannot read {path.name!r}: it is neither UTF-8 nor GBK/GB18030 text (first undecodable "
        f"{failure}); open it in Excel or WPS and save it as 'CSV UTF-8', or save it as .xlsx")


def _head_text(path: Path, encoding: str, n_bytes: int = 1 << 16) -> str:
    with path.open("rb") as fh:
        raw = fh.read(n_bytes)
    text = raw.decode(encoding, errors="ignore")
    if len(raw) == n_bytes and "\n" in text:
        text = text[: text.rfind("\n")]  # drop a line cut in the middle
    return text


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header into the most fields, consistently over the next lines."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    if not lines:
        return ","
    best, best_n = ",", 1
    for d in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d)]
        n = counts[0]
        agree = sum(c == n for c in counts) / len(counts)
        if n > best_n and agree >= 0.8:
            best, best_n = d, n
    return best


def sniff_csv(path: str | Path) -> tuple[str, str]:
    """Return the ``(encoding, delimiter)`` that :func:`load_panel` uses for a delimited text file.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "gbk.csv"
    >>> _ = p.write_bytes("证券代码;年度\\n000001;2020\\n".encode("gbk"))
    >>> sniff_csv(p)
    ('gb18030', ';')
    """
    p = Path(path)
    enc = _detect_encoding(p)
    return enc, _sniff_delimiter(_head_text(p, enc))


def _csv_header(text: str, sep: str) -> list[str]:
    for row in csv.reader(io.StringIO(text), delimiter=sep):
        if any(c.strip() for c in row):
            return row
    return []


def _read_csv(path: Path, as_text: Callable[[str], bool],
              na_values: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    enc = _detect_encoding(path)
    head = _head_text(path, enc)
    if not head.strip():
        raise ValueError(f"{path.name!r} holds no data: it has only blank lines; export the panel again")
    sep = _sniff_delimiter(head)
    header = _csv_header(head, sep)
    info: dict[str, Any] = {"encoding": enc, "delimiter": DELIMITER_NAMES[sep]}
    names = [h.strip().lstrip("\ufeff") for h in header]
    dups = pd.Series(names)[pd.Series(names).duplicated(keep=False) & (pd.Series(names) != "")]
    info["problems"] = [
        f"column {n!r} appears {len(g)} times in the header (columns {', '.join(str(i + 1) for i in g.index)}): "
        "keep one" for n, g in dups.groupby(dups, sort=False)]
    # text for the schema's text columns and for columns outside the schema; numbers parsed natively
    dtype = {h: "str" for h, n in zip(header, names, strict=True) if as_text(n)}
    kw: dict[str, Any] = dict(sep=sep, encoding=enc, dtype=dtype, keep_default_na=True,
                              na_values=list(na_values) or None)
    if len(set(header)) == len(header):
        try:
            return _read_csv_arrow(path, enc, sep, set(dtype), na_values), info
        except Exception:  # quoted line breaks, ragged rows, bytes past the first MiB in another
            pass           # encoding: decode the whole file, then let the C parser decide and explain
    full = _detect_encoding(path, full=True)
    if full != enc:
        enc = kw["encoding"] = info["encoding"] = full
        if len(set(header)) == len(header):
            try:
                return _read_csv_arrow(path, enc, sep, set(dtype), na_values), info
            except Exception:
                pass
    try:
        with warnings.catch_warnings():  # a ragged first row would otherwise lose data with a warning
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, engine="c", low_memory=False, index_col=False, **kw)
        return df, info
    except pd.errors.ParserWarning:
        raise ValueError(f"cannot parse {path.name!r} as a delimited text file: the first data rows have "
                         f"more fields than the header ({DELIMITER_NAMES[sep]}-delimited): a "
                         f"{DELIMITER_NAMES[sep]} inside a value? put such values in double quotes"
                         ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path.name!r} holds no data: it has no header row") from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as err:
        msg = str(err).strip().splitlines()[-1]
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            msg = (f"row {m.group(2)} has {m.group(3)} fields but the header has {m.group(1)} "
                   f"({DELIMITER_NAMES[sep]}-delimited): a {DELIMITER_NAMES[sep]} inside a value? "
                   "put such values in double quotes, or remove the stray delimiter")
        raise ValueError(f"cannot parse {path.name!r} as a delimited text file: {msg}") from None


def _read_csv_arrow(path: Path, enc: str, sep: str, text: set[str],
                    na_values: Sequence[str]) -> pd.DataFrame:
    """pyarrow's multithreaded CSV reader: ``text`` columns as strings, the others inferred."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    nulls = sorted(set(NA_VALUES) | set(na_values))
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=enc.replace("utf-8-sig", "utf8")),
        parse_options=pacsv.ParseOptions(delimiter=sep),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in text}, null_values=nulls,
            strings_can_be_null=True, timestamp_parsers=[]),
    )
    if any(pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in table.schema.types):
        raise UnicodeError("a column is not valid text in the detected encoding")
    return table.to_pandas()


def _read_excel(path: Path, sheet: str | int, as_text: Callable[[str], bool]) -> tuple[pd.DataFrame, dict]:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise ValueError(
            f"reading {path.name!r} needs the package 'openpyxl', which is not installed; install it "
            "(pip install openpyxl) or save the sheet as CSV"
        ) from None
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as err:
        raise ValueError(
            f"cannot read {path.name!r} as an Excel workbook ({type(err).__name__}: {err}); is it an "
            "old .xls or a CSV renamed to .xlsx? open it in Excel or WPS and save it as .xlsx or CSV"
        ) from None
    with book:
        if isinstance(sheet, str) and sheet not in book.sheet_names or (
                isinstance(sheet, int) and not 0 <= sheet < len(book.sheet_names)):
            raise ValueError(f"{path.name!r} has no sheet {sheet!r}; its sheets: {book.sheet_names}")
        header = book.parse(sheet_name=sheet, nrows=0).columns
        # text columns as text: pandas would otherwise turn the text cell '000815' into 815
        df = book.parse(sheet_name=sheet, dtype={c: str for c in header if as_text(str(c).strip())})
    name = sheet if isinstance(sheet, str) else book.sheet_names[sheet]
    return df, {"sheet": name}


def _read_stata(path: Path, use_labels: Callable[[str], bool]) -> tuple[pd.DataFrame, dict]:
    from pandas.io.stata import StataReader

    try:
        with StataReader(path) as reader:
            df = reader.read(convert_categoricals=False)
            sets = reader.value_labels()
            # which label set each variable uses (pandas keeps it privately; else assume set = name)
            lbllist = getattr(reader, "_lbllist", None) or list(df.columns)
    except Exception as err:
        raise ValueError(f"cannot read {path.name!r} as a Stata file ({type(err).__name__}: {err}); "
                         "save it again from Stata with `save`, or export it as CSV") from None
    labels = {c: sets[lab] for c, lab in zip(df.columns, lbllist, strict=False) if lab in sets}
    applied = []
    for col, mapping in labels.items():
        if use_labels(col.strip()):  # a labelled str/category column: the labels are its values
            codes = df[col]
            named = codes.map({float(k): v for k, v in mapping.items()})
            df[col] = named.where(named.notna(), codes.map(lambda v: v if pd.isna(v) else _num_text(v)))
            applied.append(col)
    info = {"value_labels": {c: {int(k): v for k, v in m.items()} for c, m in labels.items()},
            "labels_applied": applied}
    return df, info


def _num_text(v: Any) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _read_parquet(path: Path) -> tuple[pd.DataFrame, dict]:
    try:
        df = pd.read_parquet(path)
    except Exception as err:
        raise ValueError(f"cannot read {path.name!r} as a Parquet file ({type(err).__name__}: {err}); "
                         "write it again (df.to_parquet) or export it as CSV") from None
    if any(n is not None for n in df.index.names):  # keys saved as the index come back as columns
        df = df.reset_index()
    return df, {}


# -------------------------------------------------------------------------------------------------
# checking
# -------------------------------------------------------------------------------------------------
def _rows(mask: pd.Series | np.ndarray, first_row: int) -> list[int]:
    pos = np.flatnonzero(np.asarray(mask))[:MAX_EXAMPLES]
    return [int(p) + first_row for p in pos]


def _show(v: Any) -> str:
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v)


def _examples(values: pd.Series, mask: pd.Series, first_row: int) -> str:
    pos = np.flatnonzero(np.asarray(mask))[:MAX_EXAMPLES]
    return "; ".join(f"row {int(p) + first_row}: {_show(values.iloc[p])}" for p in pos)


def _row_list(mask: pd.Series, first_row: int) -> str:
    rows = _rows(mask, first_row)
    more = ", ..." if int(np.asarray(mask).sum()) > len(rows) else ""
    return ("row " if len(rows) == 1 else "rows ") + ", ".join(map(str, rows)) + more


def _text(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(stripped text with missing cells as NA, mask of present cells). Numbers become their text."""
    if pd.api.types.is_float_dtype(s):
        whole = s.notna() & np.isfinite(s.to_numpy(dtype=float, na_value=np.nan)) & (s == np.round(s))
        txt = s.astype(object).where(~whole, s.where(whole).astype("Int64").astype(object))
        txt = txt.where(s.notna()).astype("string")
    elif pd.api.types.is_bool_dtype(s):
        txt = s.astype("string").str.lower()
    else:
        txt = s.astype("string")
    txt = txt.str.strip()
    present = txt.notna()
    short = present & (txt.str.len() <= max(map(len, MISSING_TOKENS))).fillna(False).astype(bool)
    if short.any():  # compare only the short strings with the missing-cell tokens (fast on codes)
        present &= ~(short & txt.where(short).isin(MISSING_TOKENS))
    return txt.where(present), present


def _numeric(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(float values, mask present, mask present-but-not-a-number)."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        num = s.astype("float64")
        present = num.notna()
        return num, present, pd.Series(False, index=s.index)
    if pd.api.types.is_bool_dtype(s):
        num = s.astype("float64")
        return num, num.notna(), pd.Series(False, index=s.index)
    txt, present = _text(s)
    num = pd.to_numeric(txt, errors="coerce").astype("float64")
    return num, present, present & num.isna()


_BOOL_TEXT = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "1.0": 1.0, "0.0": 0.0}


def _hint_for(bad: pd.Series, dtype: str) -> str:
    vals = bad.dropna().astype(str)
    if vals.isin(MISSING_MARKERS).any():
        return ("values such as '--' mark missing data in Wind/CSMAR exports: leave those cells empty, "
                "or pass na_values=['--'] to load_panel")
    if dtype == "int" and vals.str.match(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}").any():
        return ("these are dates (CSMAR's Accper is a period-end date): keep the year only, "
                "e.g. df['year'] = pd.to_datetime(df['Accper']).dt.year")
    if vals.str.endswith("%").any():
        return "remove the % sign (and divide by 100 if the schema wants a share)"
    if vals.str.contains(r"\d,\d{3}", regex=True).any():
        return "remove the thousands separators"
    if dtype == "int" and pd.to_numeric(vals, errors="coerce").notna().all():
        return "they are not whole numbers: round them or fix the column"
    return "clean them (remove units, thousands separators or text) or leave the cell empty if missing"


def _isin(values: pd.Series, allowed: list[Any]) -> pd.Series:
    """``values.isin(allowed)``; for numbers and a short list by comparisons (faster than hashing)."""
    if pd.api.types.is_float_dtype(values) and len(allowed) <= 16 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in allowed):
        arr = values.to_numpy(dtype=float, na_value=np.nan)
        hit = np.zeros(len(arr), dtype=bool)
        for v in allowed:
            hit |= arr == v
        return pd.Series(hit, index=values.index)
    return values.isin(allowed)


def _check_id(name: str, sp: dict[str, Any], s: pd.Series, first_row: int,
              problems: list[str], notes: list[str]) -> pd.Series:
    """Text of an ID column: float codes made whole, short codes padded to ``width``, bad ones named."""
    txt, present = _text(s)
    width = sp.get("width")
    clean = txt.str.fullmatch(rf"\d{{{width}}}" if width else r"[^.eE]*").fillna(False).astype(bool)
    if not (present & ~clean).any():  # the usual case: every code is already clean
        return txt
    dec = txt.str.fullmatch(r"[+-]?\d+\.0*").fillna(False).astype(bool)
    txt = txt.where(~dec, txt.str.replace(r"\.0*$", "", regex=True))
    frac = txt.str.fullmatch(r"[+-]?\d*\.\d+").fillna(False).astype(bool)
    sci = txt.str.fullmatch(r"[+-]?\d+(\.\d+)?[eE][+-]?\d+").fillna(False).astype(bool)
    if frac.any():
        problems.append(f"column {name!r} holds codes, but {int(frac.sum())} value(s) are not whole "
                        f"numbers ({_examples(txt, frac, first_row)}): a code cannot have decimals; "
                        "fix those rows")
    if sci.any():
        problems.append(f"column {name!r} holds codes, but {int(sci.sum())} value(s) are in scientific "
                        f"notation ({_examples(txt, sci, first_row)}): the spreadsheet rounded the "
                        "codes; format the column as text before exporting")
    if width:
        digits = txt.str.fullmatch(r"\d+").fillna(False).astype(bool)
        short = digits & (txt.str.len() < width)
        if short.any():
            ex = "; ".join(f"{v!r} -> {v.zfill(width)!r}" for v in txt[short].unique()[:3])
            notes.append(f"column {name!r}: {int(short.sum())} code(s) had fewer than {width} digits "
                         f"and got their leading zeros back ({ex}); the file stored them as numbers")
            txt = txt.where(~short, txt.str.zfill(width))
        long_ = digits & (txt.str.len() > width)
        other = present & ~digits & ~frac & ~sci
        if long_.any():
            problems.append(f"column {name!r}: {int(long_.sum())} code(s) have more than {width} digits "
                            f"({_examples(txt, long_, first_row)}): expected {width}-digit codes")
        if other.any():
            wind = txt[other].str.fullmatch(r"\d{6}\.[A-Za-z]{2}").fillna(False).any()
            fix = ("Wind writes stock codes with the exchange, e.g. '000001.SZ': keep the first six "
                   "characters (df[col].str[:6]) and check the frame with check_panel"
                   if wind else f"expected {width}-digit codes")
            problems.append(f"column {name!r}: {int(other.sum())} value(s) are not {width}-digit codes "
                            f"({_examples(txt, other, first_row)}): {fix}")
    return txt


def _check(df: pd.DataFrame, schema: dict[str, Any], source: str, first_row: int = 1,
           problems: list[str] | None = None, hints: list[str] | None = None,
           notes: list[str] | None = None) -> pd.DataFrame:
    cols = schema["columns"]
    problems = list(problems or [])
    hints = list(hints or [])
    notes = notes if notes is not None else []
    out = df.reset_index(drop=True)
    out.columns = [str(c).strip() for c in out.columns]
    present_cols = set(out.columns)
    lower = {c.lower(): c for c in out.columns}
    suggest: dict[str, str] = {}
    for c, sp in cols.items():
        if not sp.get("required", True) or c in present_cols:
            continue
        desc = sp.get("description", "")
        msg = f"missing column {c!r}{f' ({desc})' if desc else ''}: "
        found = [lower[f.lower()] for f in sp.get("source_fields", []) if f.lower() in lower]
        if not found and c.lower() in lower:  # the same name in other case: STKCD for stkcd
            found = [lower[c.lower()]]
        if found:
            suggest[found[0]] = c
            msg += f"your file has {found[0]!r}: pass rename={{{found[0]!r}: {c!r}}}"
        else:
            msg += f"add it, or rename your column to {c!r}"
        problems.append(msg)
    if len(suggest) > 1:
        hints.append(f"all renames at once: rename={suggest!r}")
    keys = list(schema.get("keys", []))
    id_cols = {c for c, sp in cols.items() if sp.get("dtype") == "str" and (c in keys or sp.get("width"))}
    bad_rows = np.zeros(len(out), dtype=bool)
    bad_cols: set[str] = set()
    for name, sp in cols.items():
        if name not in present_cols:
            continue
        s, dtype = out[name], sp["dtype"]
        missing = None
        if dtype in ("int", "float", "bool"):
            if dtype == "bool" and not pd.api.types.is_numeric_dtype(s):
                txt, present = _text(s)
                num = txt.str.lower().map(_BOOL_TEXT).astype("float64")
                bad = present & num.isna()
            else:
                num, present, bad = _numeric(s)
            inf = present & ~bad & np.isinf(num)
            if dtype in ("int", "bool"):
                bad = bad | (present & ~inf & num.notna() & (num != np.round(num)))
            if bad.any():
                shown = s.astype("string") if not pd.api.types.is_numeric_dtype(s) else s
                problems.append(
                    f"column {name!r} must be {dtype} but {int(bad.sum())} value(s) are not "
                    f"(e.g. {_examples(shown, bad, first_row)}): {_hint_for(shown[bad], dtype)}")
            if inf.any():
                problems.append(f"column {name!r}: {int(inf.sum())} value(s) are infinite "
                                f"({_row_list(inf, first_row)}): a division by zero upstream? leave "
                                "them empty or fix them")
            ok = present & ~bad & ~inf
            missing = ~present
            vals = num[ok]
            if dtype == "bool" and (off := ok & ~num.isin([0, 1])).any():
                problems.append(f"column {name!r} must be bool (0/1/true/false) but {int(off.sum())} "
                                f"value(s) are not (e.g. {_examples(num, off, first_row)}): recode them")
            if (bad | inf).any():
                bad_rows |= np.asarray(bad | inf)
                bad_cols.add(name)
            conv = num.where(ok)
            if not (bad.any() or inf.any()):
                if dtype == "int":
                    conv = conv.astype("Int64") if conv.isna().any() else conv.astype("int64")
                elif dtype == "bool" and vals.isin([0, 1]).all():
                    conv = conv.astype("boolean") if conv.isna().any() else conv.astype(bool)
            out[name] = conv
            rng_vals, rng_mask = num, ok
        else:
            if name in id_cols:
                txt = _check_id(name, sp, s, first_row, problems, notes)
            else:
                txt, _ = _text(s)
            missing = txt.isna()
            out[name] = txt.astype("category") if dtype == "category" else txt
            rng_vals, rng_mask = txt, ~missing
        if missing.any() and not sp.get("nullable", False):
            bad_rows |= np.asarray(missing)
            bad_cols.add(name)
            problems.append(f"column {name!r} has {int(missing.sum())} missing value(s) "
                            f"({_row_list(missing, first_row)}) but may not be empty: fill them "
                            "(e.g. interpolate within unit) or drop those rows")
        if dtype == "bool":
            continue
        for bound, op, word in (("min", np.less, "below the minimum"), ("max", np.greater, "above the maximum")):
            if bound in sp and rng_mask.any():
                hit = rng_mask & op(rng_vals.where(rng_mask, sp[bound]), sp[bound])
                if hit.any():
                    problems.append(
                        f"column {name!r}: {int(hit.sum())} value(s) {word} {sp[bound]} "
                        f"(e.g. {_examples(rng_vals, hit, first_row)}): check the unit/scale of the column")
        if "values" in sp and rng_mask.any():
            allowed = list(sp["values"])
            off = rng_mask & ~_isin(rng_vals, allowed)
            if off.any():
                problems.append(f"column {name!r}: {int(off.sum())} value(s) not in "
                                f"{sorted(allowed, key=str)} (e.g. {_examples(rng_vals, off, first_row)}): "
                                "recode them")
    have_keys = [k for k in keys if k in out.columns]
    if keys and len(have_keys) == len(keys):
        complete = out[keys].notna().all(axis=1)
        dup = out[keys].duplicated(keep=False) & complete
        if dup.any():
            ex = out.loc[dup, keys].drop_duplicates().head(MAX_EXAMPLES)
            ex_s = "; ".join(", ".join(f"{k}={r[k]}" for k in keys) for _, r in ex.iterrows())
            problems.append(f"duplicate panel keys {keys}: {int(dup.sum())} rows share a key (e.g. {ex_s}; "
                            f"{_row_list(dup, first_row)}); keep one row per key (aggregate or drop "
                            "duplicates)")
    if problems:
        n = len(out)
        flagged = np.flatnonzero(bad_rows)
        many = len(bad_cols) >= 3 and len(flagged) > 0
        if many and flagged.max() < min(3, n - 1):
            rows = ", ".join(str(first_row + int(r)) for r in flagged)
            hints.append(f"only the first data rows are affected in {len(bad_cols)} columns: are rows "
                         f"{rows} extra header rows (CSMAR puts Chinese labels and units under the "
                         "field names)? delete them")
        elif many and flagged.min() >= max(n - 3, 1):
            hints.append("only the last rows are affected: is it a footer (Wind ends its exports with "
                         "'数据来源：Wind')? delete it")
        where = ("rows are numbered as in the file: the header is row 1" if first_row == 2 else
                 "rows are numbered from 1, the first observation")
        raise ValueError(f"{source} does not match the schema ({len(problems)} problem(s)):\n- "
                         + "\n- ".join(problems) + "".join(f"\nhint: {h}" for h in hints)
                         + f"\n({where})")
    ordered = [c for c in cols if c in out.columns] + [c for c in out.columns if c not in cols]
    return out[ordered]


def check_panel(df: pd.DataFrame, schema: dict[str, Any], source: str = "the data") -> pd.DataFrame:
    """Check and convert a frame against a schema; raise ONE ValueError listing every problem.

    Parameters
    ----------
    df : pandas.DataFrame
        The user's data (not modified).
    schema : dict
        From :func:`read_schema` (or a dict in the same format).
    source : str
        Name used in messages (the file name).

    Returns
    -------
    pandas.DataFrame
        A converted copy: schema columns first (in schema order), then any extra columns. Text
        columns have pandas' ``string`` dtype, ``int`` columns ``int64`` (``Int64`` with missing
        cells), ``category`` columns ``category``.

    Raises
    ------
    ValueError
        Listing missing columns (with a rename suggestion when a known source field is present),
        values that are not of the column's type, infinite values, malformed codes, values outside
        the allowed range or set, missing values in non-nullable columns (also in a column that has
        type errors too) and duplicate panel keys; each with its count, example rows and values,
        and how to fix it.

    Examples
    --------
    >>> sch = {"keys": ["id"], "columns": {"id": {"dtype": "int", "required": True, "nullable": False}}}
    >>> check_panel(pd.DataFrame({"id": ["1", "2"]}), sch)["id"].tolist()
    [1, 2]
    """
    schema = dict(schema)
    schema["columns"] = {k: dict(v) for k, v in (schema.get("columns") or {}).items()}
    validate_schema(schema)
    notes: list[str] = []
    out = _check(df, schema, source, notes=notes)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    return out


def _prepare(df: pd.DataFrame, rename: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Strip column names, drop empty unnamed columns, apply ``rename``; return problems found."""
    problems = []
    df = df.copy(deep=False)
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    unnamed = [c for c in df.columns if (c == "" or c.startswith("Unnamed: ")) and df[c].isna().all()]
    df = df.drop(columns=unnamed)
    counts = pd.Series(df.columns).value_counts()
    for c in counts[counts > 1].index:
        problems.append(f"column {c!r} appears {int(counts[c])} times in the header: keep one")
    if any(counts > 1):
        df = df.loc[:, ~pd.Index(df.columns).duplicated()]
    apply: dict[str, str] = {}
    for old, new in rename.items():
        if old not in df.columns:
            problems.append(f"rename: your file has no column {old!r} (its columns: "
                            f"{', '.join(map(repr, list(df.columns)[:15]))})")
        elif new in df.columns and new not in rename:
            problems.append(f"rename: {old!r} -> {new!r}, but the file already has a column {new!r}: "
                            "drop one of them")
        elif new in apply.values():
            problems.append(f"rename: several columns are renamed to {new!r}")
        else:
            apply[old] = new
    return df.rename(columns=apply), problems


def load_panel(slug: str, path: str | Path, *, rename: Mapping[str, str] | None = None,
               na_values: Sequence[str] = (), sheet: str | int = 0) -> pd.DataFrame:
    """Read a real-data panel (CSV, Excel .xlsx, Stata .dta or Parquet) and check it against the schema.

    The file is only read, never written. Encoding (UTF-8, UTF-8 with BOM, GBK/GB18030) and
    delimiter (comma, tab, semicolon, pipe) of a CSV are detected. Columns are converted to the
    schema's types; ID and code columns stay text with their leading zeros (module docstring).

    Parameters
    ----------
    slug : str
        The paper (one of ``helpers.paths.SLUGS``); the schema is ``data/<slug>/schema.yml``.
    path : str or Path
        The data file.
    rename : mapping, optional
        Your column names -> the schema's, applied before the check, e.g.
        ``{"Stkcd": "stkcd", "年度": "year"}`` for a CSMAR export. When a required column is missing
        and the file has one of its typical source fields (``source_fields`` in the schema), the
        error message spells out the ``rename=`` to pass.
    na_values : sequence of str, optional
        Extra cell values to read as missing (CSV), e.g. ``["--"]`` for Wind exports. Empty cells,
        ``NA``, ``NaN``, ``NULL``, ``N/A`` and ``#N/A`` are always missing.
    sheet : str or int, default 0
        The Excel sheet (name or position).

    Returns
    -------
    pandas.DataFrame
        The checked frame with ``attrs["simulated"] = False``, ``attrs["source"]`` (the path),
        ``attrs["slug"]``, ``attrs["read"]`` (encoding and delimiter, sheet, or Stata value labels)
        ``attrs["notes"]`` (codes whose leading zeros were restored, also issued as a warning) and,
        for Stata files, ``attrs["value_labels"]`` (column -> {code: label}).

    Raises
    ------
    ValueError
        Unknown slug, missing, empty (0 bytes) or header-only file, undecodable text, unparsable
        rows, unsupported file type (or openpyxl missing for .xlsx), or any schema violation: one
        error lists every problem with its count, example rows and values, and its fix.

    Examples
    --------
    >>> from helpers.paths import REPO_ROOT
    >>> df = load_panel("bigdata-innovation-fusion",
    ...                 REPO_ROOT / "tests/fixtures/bigdata-innovation-fusion_sample.csv")
    >>> df.attrs["simulated"], df["year"].dtype.name, df["city_id"].iloc[0]
    (False, 'int64', '110000')
    """
    schema = read_schema(slug)
    rename = dict(rename or {})
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"file not found: {p}; check the path")
    kind = READERS.get(p.suffix.lower())
    if kind is None:
        extra = (" (old Excel format: open it in Excel or WPS and save it as .xlsx or CSV)"
                 if p.suffix.lower() == ".xls" else "")
        raise ValueError(
            f"cannot read {p.name!r}: file type {p.suffix or '(none)'!r} is not supported{extra}; "
            "save the data as CSV (.csv), Parquet (.parquet), Stata (.dta) or Excel (.xlsx)"
        )
    if p.stat().st_size == 0:
        raise ValueError(f"{p.name!r} is empty (0 bytes): export the panel again")
    cols = schema["columns"]
    text_cols = {c for c, sp in cols.items() if sp["dtype"] in _TEXT_TYPES}

    def as_text(name: str) -> bool:
        """Read as text: the schema's text columns and every column outside the schema."""
        new = rename.get(name, name)
        return new in text_cols or new not in cols

    if kind == "csv":
        df, info = _read_csv(p, as_text, na_values)
    elif kind == "excel":
        df, info = _read_excel(p, sheet, as_text)
    elif kind == "stata":
        labelled = {c for c, sp in cols.items() if sp["dtype"] in ("str", "category")}
        df, info = _read_stata(p, lambda name: rename.get(name, name) in labelled)
    else:
        df, info = _read_parquet(p)
    if df.shape[1] == 0 or (df.empty and all(str(c).startswith("Unnamed: ") for c in df.columns)):
        raise ValueError(f"{p.name!r} holds no data: no header row and no rows")
    if df.empty:
        raise ValueError(f"{p.name!r} has a header ({df.shape[1]} columns: "
                         f"{', '.join(map(str, list(df.columns)[:8]))}{', ...' if df.shape[1] > 8 else ''}) "
                         "but no data rows: export the data again")
    df, problems = _prepare(df, rename)
    problems = info.pop("problems", []) + problems
    notes: list[str] = []
    first_row = 2 if kind in ("csv", "excel") else 1
    out = _check(df, schema, p.name, first_row=first_row, problems=problems, notes=notes)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    out.attrs.update(simulated=False, source=str(p), slug=slug, read=info, notes=notes)
    if "value_labels" in info:
        out.attrs["value_labels"] = info["value_labels"]
    return out




def load_companions(slug: str, files: Mapping[str, str | Path] | None, *,
                    na_values: Sequence[str] = ()) -> dict[str, pd.DataFrame]:
    """Read the reader's companion raw files (``companions`` in ``data/<slug>/schema.yml``).

    A chapter rebuilds its indices (text measures, wedges, entropy indices) from raw tables. On the
    twin they come with the twin (``twin.raw``); on real data the reader passes the files by name.
    Each file is read like a panel (CSV with its encoding and delimiter detected, .xlsx, .dta,
    Parquet), only read, never written. The companion's columns listed in the schema must be there;
    ID columns with a ``width`` in the schema (stock and city codes) are read as text and padded as
    in :func:`load_panel`, and every other column the panel schema describes gets its type and
    checks (a ``bool`` column's "False" is False; missing cells are allowed); the companion's key
    columns (its ``keys`` in the schema, by default the schema's keys and ID columns among its
    columns) must be complete and unique; a key column that
    the panel schema does not describe (an industry code) must hold whole numbers. ``keys: []``
    checks none (customs transactions repeat their firm-year). Coded ID columns outside the keys
    (the stock code of a patent file keyed by ``patent_id``) are padded all the same.

    Parameters
    ----------
    slug : str
        The paper; the companions are listed in ``data/<slug>/schema.yml``.
    files : mapping of str to path, or None
        Companion name -> file, e.g. ``{"texts": "mdna.parquet", "financing": "fin.csv"}``. ``None``
        or an empty mapping: no companion files (returns ``{}``).
    na_values : sequence of str, optional
        Extra cell values to read as missing (CSV), as in :func:`load_panel`.

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per given companion, with ``attrs["source"]`` (the path) and
        ``attrs["companion"]`` (its name). Extra columns are kept.

    Raises
    ------
    ValueError
        ``files`` is not a mapping, names a companion the schema does not list, or a file is
        missing, empty, unreadable, lacks columns the companion needs (named), or has missing,
        malformed or duplicate keys. One error lists every problem.

    Examples
    --------
    >>> load_companions("industry-finance-ai", None)
    {}
    >>> load_companions("industry-finance-ai", {"text": "mdna.csv"})
    Traceback (most recent call last):
    ...
    ValueError: industry-finance-ai has no companion file 'text'; its companions: texts, firm_inputs, financing, city_digital, cities
    """
    if files is None:
        return {}
    if not isinstance(files, Mapping):
        raise ValueError(f"companion files must be a dict of name -> path, e.g. {{'texts': 'mdna.csv'}}; "
                         f"got {type(files).__name__}")
    schema = read_schema(slug)
    comps = schema["companions"]
    cols = schema["columns"]
    unknown = [n for n in files if n not in comps]
    if unknown:
        raise ValueError(f"{slug} has no companion file {', '.join(map(repr, unknown))}; its companions: "
                         f"{', '.join(comps) or '(none)'}")
    text_cols = {c for c, sp in cols.items() if sp["dtype"] in _TEXT_TYPES}
    out: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for name, path in files.items():
        p = Path(path)
        need = list(comps[name]["columns"])
        if not p.is_file():
            problems.append(f"{name}: file not found: {p}")
            continue
        kind = READERS.get(p.suffix.lower())
        if kind is None:
            problems.append(f"{name}: {p.name!r} is not a supported file type ({p.suffix or '(none)'}); "
                            "save it as CSV, Parquet, Stata or Excel (.xlsx)")
            continue
        if p.stat().st_size == 0:
            problems.append(f"{name}: {p.name!r} is empty (0 bytes)")
            continue
        try:
            if kind == "csv":
                df, _ = _read_csv(p, lambda c: c in text_cols, na_values)
            elif kind == "excel":
                df, _ = _read_excel(p, 0, lambda c: c in text_cols)
            elif kind == "stata":
                df, _ = _read_stata(p, lambda c: c in text_cols)
            else:
                df, _ = _read_parquet(p)
        except ValueError as err:
            problems.append(f"{name}: {err}")
            continue
        df, found = _prepare(df, {})
        problems += [f"{name} ({p.name}): {f}" for f in found]
        missing = [c for c in need if c not in df.columns]
        if missing:
            problems.append(f"{name} ({p.name}): missing column(s) {', '.join(map(repr, missing))}; the "
                            f"companion needs {', '.join(need)} ({comps[name].get('description', '')})")
            continue
        if df.empty:
            problems.append(f"{name} ({p.name}): no data rows")
            continue
        first_row = 2 if kind in ("csv", "excel") else 1
        own = comps[name].get("keys")
        keys = (list(own) if own is not None
                else [c for c in need if c in schema["keys"] or "width" in cols.get(c, {})])
        notes: list[str] = []
        for c in keys:
            sp = cols.get(c, {"dtype": "int"})  # a key of the companion alone: an industry or row code
            if sp["dtype"] in _TEXT_TYPES:
                df[c] = _check_id(c, sp, df[c], first_row, problems, notes)
            else:
                num, present, bad = _numeric(df[c])
                if bad.any() or (present & (num != np.round(num))).any():
                    problems.append(f"{name} ({p.name}): column {c!r} must hold whole numbers "
                                    f"({_examples(df[c], bad | (present & (num != np.round(num))), first_row)})")
                    continue
                df[c] = num.astype("Int64")
            gone = df[c].isna()
            if gone.any():
                problems.append(f"{name} ({p.name}): column {c!r} has {int(gone.sum())} missing cell(s) "
                                f"({_row_list(gone, first_row)}); every row needs its key")
        for c in need:  # coded IDs outside the keys (a patent's stock code) are padded all the same
            if c not in keys and "width" in cols.get(c, {}):
                df[c] = _check_id(c, cols[c], df[c], first_row, problems, notes)
        # columns the panel schema describes get its types and checks ("False" is False, a province a
        # category), as in load_panel; missing cells are allowed in a companion
        typed = {c: {**cols[c], "required": False, "nullable": True} for c in df.columns
                 if c in cols and c not in keys and "width" not in cols[c]}
        if typed and not any(f"{name} ({p.name})" in q for q in problems):
            try:
                conv = _check(df[list(typed)], {"keys": [], "columns": typed}, f"{name} ({p.name})",
                              first_row, notes=notes)
            except ValueError as err:
                problems.append(str(err))
                continue
            for c in typed:
                df[c] = conv[c].set_axis(df.index)
        for note in notes:
            warnings.warn(f"{name} ({p.name}): {note}", UserWarning, stacklevel=2)
        if keys and not any(f"{name} ({p.name})" in q for q in problems):
            dup = df.duplicated(keys, keep=False)
            if dup.any():
                problems.append(f"{name} ({p.name}): {int(dup.sum())} rows share their key "
                                f"({' + '.join(keys)}; {_row_list(dup, first_row)}): keep one row per key")
            df = df.astype({c: "int64" for c in keys if cols.get(c, {"dtype": "int"})["dtype"] == "int"})
        df.attrs.update(source=str(p), companion=name)
        out[name] = df
    if problems:
        raise ValueError(f"the companion files of {slug} have {len(problems)} problem(s):\n- "
                         + "\n- ".join(problems))
    return out

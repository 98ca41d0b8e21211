"""AI patents picked out by IPC codes and title/abstract keywords (vectorized).

Two default schemes ship in ``src/helpers/resources/`` (``ai_ipc_codes.csv`` and
``ai_patent_keywords.csv``, each citing its source):

* ``"nqp"`` — spec ai-new-quality-productivity, Appendix B.3: a **core** IPC set that is AI on its own
  (G06N, G06F 40/, G06V, G10L 15/, B25J 9/16, ...) and an **extended** set (G06T 7/, G06Q, G06F 16/,
  ...) that counts only when an AI keyword is also in the title or abstract. Default logic ``"tiered"``.
* ``"cities"`` — spec ai-manufacturing-cities §3.6: one IPC list, AI if a code **or** a keyword matches.
  Default logic ``"or"``.

IPC codes are read in the spellings found in patent databases: ``"G06N 3/08"``, ``"G06N3/08"``,
``"g06n0003080000"`` (the 14-character DOCDB form), ``"G06N 3/08 (2006.01)"`` (edition suffix), and
several codes in one cell separated by ``;``, ``,``, ``|``, ``；``, ``，`` or line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "LOGICS",
    "SCHEMES",
    "is_ai_patent",
    "load_ipc_rules",
    "load_patent_keywords",
    "parse_ipc",
]

SCHEMES: dict[str, str] = {"nqp": "tiered", "cities": "or"}
"""Shipped schemes and their default logic."""

LOGICS = ("tiered", "or", "and", "codes", "keywords")

_SPLIT = r"[;,|；，、\n]+"
_EDITION = r"\s*\([^)]*\)"
_CODE = re.compile(
    r"^(?P<sub>[A-H]\d{2}[A-Z])\s*"
    r"(?:(?P<mg>\d{1,4})\s*/\s*(?P<sg>\d{1,6})|(?P<mg14>\d{4})(?P<sg14>\d{6})|(?P<mgonly>\d{1,4})\s*/?)?$"
)
_RULE = re.compile(
    r"^(?P<sub>[A-H]\d{2}[A-Z])\s*(?:(?P<mg>\d{1,4})\s*/\s*(?P<lo>\d{0,6})"
    r"(?:\s*[-–~]\s*(?:(?P<mg2>\d{1,4})\s*/\s*)?(?P<hi>\d{1,6}))?)?$"
)


@dataclass(frozen=True)
class _Rule:
    subclass: str
    main_group: int | None
    lo: str | None  # subgroup lower bound, right-padded with 0 to 6 digits
    hi: str | None  # subgroup upper bound, right-padded with 9 (so children are included)


def _parse_rule(code: str) -> _Rule:
    m = _RULE.match(code.strip().upper())
    if m is None:
        raise ValueError(
            f"cannot read the IPC rule {code!r}; write a subclass ('G06N'), a main group ('G06F 40/'), "
            "a subgroup ('B25J 9/16') or a range ('G05B 13/02-13/04')"
        )
    if m["mg"] is None:
        return _Rule(m["sub"], None, None, None)
    if m["mg2"] is not None and int(m["mg2"]) != int(m["mg"]):
        raise ValueError(f"IPC rule {code!r} spans two main groups; split it into two rules")
    lo = m["lo"] or ""
    if not lo:
        return _Rule(m["sub"], int(m["mg"]), None, None)
    hi = m["hi"] or lo
    return _Rule(m["sub"], int(m["mg"]), lo.ljust(6, "0"), hi.ljust(6, "9"))


def load_ipc_rules(scheme: str = "nqp") -> pd.DataFrame:
    """Return the shipped IPC rules of a scheme (columns ``tier``, ``code``, ``note``).

    Parameters
    ----------
    scheme : {"nqp", "cities"}
        Which spec's list.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        For an unknown scheme.

    Examples
    --------
    >>> load_ipc_rules("nqp").query("tier == 'core'")["code"].iloc[0]
    'G06N'
    """
    _check_scheme(scheme)
    frame = _read_resource("ai_ipc_codes.csv")
    return frame.loc[frame["scheme"] == scheme, ["tier", "code", "note"]].reset_index(drop=True)


def load_patent_keywords(scheme: str = "nqp", english: bool = True) -> list[str]:
    """Return the shipped AI patent keywords of a scheme (plus the English list when ``english``).

    Examples
    --------
    >>> "神经网络" in load_patent_keywords("nqp")
    True
    """
    _check_scheme(scheme)
    frame = _read_resource("ai_patent_keywords.csv")
    keep = {scheme, "en"} if english else {scheme}
    return frame.loc[frame["scheme"].isin(keep), "keyword"].tolist()


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; shipped schemes are {sorted(SCHEMES)}")


def _read_resource(name: str) -> pd.DataFrame:
    with resources.as_file(resources.files("helpers") / "resources" / name) as path:
        return pd.read_csv(path, comment="#", dtype=str)


def parse_ipc(codes: pd.Series, errors: str = "raise") -> pd.DataFrame:
    """Split and parse IPC code cells into one row per code.

    Parameters
    ----------
    codes : pandas.Series
        Cells holding one or more IPC codes (NaN = no code).
    errors : {"raise", "ignore"}, default "raise"
        What to do with a code that cannot be read: raise, or drop it.

    Returns
    -------
    pandas.DataFrame
        Columns ``row`` (position of the cell in ``codes``), ``code`` (the cleaned text),
        ``subclass`` (``"G06N"``), ``main_group`` (float, NaN if absent) and ``subgroup`` (6 digits,
        right-padded with zeros, ``""`` if absent): ``"G06N 3/08"`` → ``G06N``, 3, ``"080000"``.

    Raises
    ------
    ValueError
        For an unreadable code when ``errors="raise"``.

    Examples
    --------
    >>> parse_ipc(pd.Series(["G06N 3/08; g06n0003080000"]))[["subclass", "main_group", "subgroup"]].values.tolist()
    [['G06N', 3.0, '080000'], ['G06N', 3.0, '080000']]
    """
    if errors not in {"raise", "ignore"}:
        raise ValueError(f"errors must be 'raise' or 'ignore'; got {errors!r}")
    cells = pd.Series(codes.to_numpy(), index=np.arange(len(codes)), dtype=object)
    text = cells.dropna().astype(str).str.normalize("NFKC").str.upper()
    text = text.str.replace(_EDITION, "", regex=True)
    long = text.str.split(_SPLIT, regex=True).explode().str.strip()
    long = long[long.notna() & long.ne("")]
    parts = long.str.extract(_CODE)
    bad = parts["sub"].isna()
    if bad.any() and errors == "raise":
        examples = long[bad].unique()[:5].tolist()
        raise ValueError(
            f"{int(bad.sum())} IPC codes cannot be read, e.g. {examples}; expected forms like 'G06N 3/08', "
            "'G06N3/08' or 'G06N0003080000'. Clean them, or pass errors='ignore' to drop them"
        )
    parts, long = parts[~bad], long[~bad]
    main = parts["mg"].fillna(parts["mg14"]).fillna(parts["mgonly"]).astype(float)
    sub = parts["sg"].fillna(parts["sg14"]).fillna("").str.ljust(6, "0")
    sub = sub.where(parts["sg"].notna() | parts["sg14"].notna(), "")
    return pd.DataFrame(
        {
            "row": long.index.to_numpy(),
            "code": long.to_numpy(),
            "subclass": parts["sub"].to_numpy(),
            "main_group": main.to_numpy(),
            "subgroup": sub.to_numpy(),
        }
    )


def _match_rules(parsed: pd.DataFrame, rules: Iterable[_Rule], n: int) -> np.ndarray:
    """Boolean array of length ``n``: does any code of row i match any rule?"""
    hit = np.zeros(len(parsed), dtype=bool)
    sub = parsed["subclass"].to_numpy()
    main = parsed["main_group"].to_numpy()
    sg = parsed["subgroup"].to_numpy().astype(str)
    for rule in rules:
        mask = sub == rule.subclass
        if rule.main_group is not None:
            mask &= main == rule.main_group
        if rule.lo is not None:
            mask &= (sg != "") & (sg >= rule.lo) & (sg <= rule.hi)
        hit |= mask
    out = np.zeros(n, dtype=bool)
    out[parsed["row"].to_numpy()[hit]] = True
    return out


def _keyword_hits(frame: pd.DataFrame, columns: list[str], keywords: list[str]) -> np.ndarray:
    from helpers.text import _normalize_many

    joined = frame[columns[0]].fillna("").astype(str)
    for col in columns[1:]:
        joined = joined + " " + frame[col].fillna("").astype(str)
    normalized = pd.Series(_normalize_many(joined, "t2s"), index=joined.index)
    folded = [k for k in (_fold(k) for k in keywords) if k]
    pattern = "|".join(re.escape(k) for k in sorted(set(folded), key=len, reverse=True))
    return normalized.str.contains(pattern, regex=True).to_numpy(dtype=bool)


def _fold(keyword: str) -> str:
    from helpers.text import normalize_text

    return normalize_text(keyword.strip())


def is_ai_patent(
    frame: pd.DataFrame,
    *,
    ipc_col: str = "ipc_codes",
    text_cols: str | list[str] | None = ("title", "abstract"),  # type: ignore[assignment]
    scheme: str = "nqp",
    logic: str | None = None,
    codes: Iterable[str] | None = None,
    extended_codes: Iterable[str] | None = None,
    keywords: Iterable[str] | None = None,
    errors: str = "raise",
    return_components: bool = False,
) -> pd.Series | pd.DataFrame:
    r"""Flag AI patents from IPC codes and title/abstract keywords.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per patent.
    ipc_col : str, default "ipc_codes"
        Column with the IPC codes (one or several per cell; NaN = none).
    text_cols : str or list of str or None, default ("title", "abstract")
        Columns searched for keywords (NaN = empty). ``None`` when only codes are used.
    scheme : {"nqp", "cities"}, default "nqp"
        The shipped default code and keyword lists (see the module docstring).
    logic : {"tiered", "or", "and", "codes", "keywords"}, optional
        How codes and keywords combine; defaults to the scheme's own (``SCHEMES``):

        * ``"tiered"``: core code **or** (extended code **and** keyword);
        * ``"or"``: core code **or** keyword;
        * ``"and"``: (core **or** extended code) **and** keyword;
        * ``"codes"``: core code only; ``"keywords"``: keyword only.
    codes, extended_codes : iterable of str, optional
        Replace the scheme's core / extended IPC rules (e.g. ``["G06N", "G06F 40/", "B25J 9/16",
        "G05B 13/02-13/04"]``).
    keywords : iterable of str, optional
        Replace the scheme's keywords (Chinese and English; case-insensitive; traditional characters
        are simplified first).
    errors : {"raise", "ignore"}, default "raise"
        Unreadable IPC codes raise, or are dropped.
    return_components : bool, default False
        Return a frame with ``ipc_core``, ``ipc_extended``, ``keyword`` and ``ai`` instead of the flag.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Boolean flag ``ai`` aligned with ``frame.index`` (or the components frame).

    Raises
    ------
    ValueError
        For a missing column, an unknown scheme or logic, an unreadable code or rule, or keyword
        logic without ``text_cols``.

    Notes
    -----
    A rule matches a code when the subclass is equal and, if given, the main group is equal and the
    subgroup lies in the rule's range *including its children*: ``B25J 9/16`` matches 9/16, 9/161 and
    9/1697, not 9/20; ``G05B 13/02-13/04`` matches 13/02 to 13/048. Subgroups compare as decimal
    fractions (``9/16`` < ``9/161`` < ``9/17``), which is how the IPC orders them.

    References
    ----------
    WIPO (2019), *WIPO Technology Trends 2019: Artificial Intelligence*, data-collection annex;
    spec ai-new-quality-productivity Appendix B.3; spec ai-manufacturing-cities §3.6.

    Examples
    --------
    >>> df = pd.DataFrame({"ipc_codes": ["G06N 3/08", "G06Q 10/06", "G06Q 10/06", "A01B 1/00"],
    ...                    "title": ["一种装置", "基于深度学习的调度方法", "一种调度方法", "犁"],
    ...                    "abstract": [None, None, None, None]})
    >>> is_ai_patent(df).tolist()
    [True, True, False, False]
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError("frame must be a pandas DataFrame with one row per patent")
    _check_scheme(scheme)
    logic = SCHEMES[scheme] if logic is None else logic
    if logic not in LOGICS:
        raise ValueError(f"logic must be one of {LOGICS}; got {logic!r}")
    cols = [text_cols] if isinstance(text_cols, str) else list(text_cols or [])
    needs_codes = logic != "keywords"
    needs_text = logic != "codes"
    required = ([ipc_col] if needs_codes else []) + (cols if needs_text else [])
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"columns {missing} are missing from the patent frame (it has {list(frame.columns)}); "
            "pass ipc_col= / text_cols= with your column names"
        )
    if needs_text and not cols:
        raise ValueError(
            f"logic={logic!r} uses keywords, so text_cols must name the title/abstract columns"
        )

    n = len(frame)
    shipped = load_ipc_rules(scheme)
    core_codes = (
        list(codes)
        if codes is not None
        else shipped.loc[shipped["tier"] == "core", "code"].tolist()
    )
    ext_codes = (
        list(extended_codes)
        if extended_codes is not None
        else shipped.loc[shipped["tier"] == "extended", "code"].tolist()
    )
    if needs_codes:
        parsed = parse_ipc(frame[ipc_col], errors=errors)
        core = _match_rules(parsed, [_parse_rule(c) for c in core_codes], n)
        extended = _match_rules(parsed, [_parse_rule(c) for c in ext_codes], n)
    else:
        core = extended = np.zeros(n, dtype=bool)
    if needs_text:
        words = list(keywords) if keywords is not None else load_patent_keywords(scheme)
        if not words or any(not isinstance(w, str) or not w.strip() for w in words):
            raise ValueError("keywords must be a non-empty list of non-empty strings")
        kw = _keyword_hits(frame, cols, words)
    else:
        kw = np.zeros(n, dtype=bool)

    if logic == "tiered":
        ai = core | (extended & kw)
    elif logic == "or":
        ai = core | kw
    elif logic == "and":
        ai = (core | extended) & kw
    elif logic == "codes":
        ai = core
    else:
        ai = kw
    if return_components:
        return pd.DataFrame(
            {"ipc_core": core, "ipc_extended": extended, "keyword": kw, "ai": ai}, index=frame.index
        )
    return pd.Series(ai, index=frame.index, name="ai")

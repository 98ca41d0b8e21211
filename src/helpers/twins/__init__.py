"""Simulated twins of the five papers' data, and the real-data loader.

Public interface
----------------
``load_twin(slug, scale="full", seed=None)``  build a paper's twin (:class:`Twin`); warns "simulated"
``load_panel(slug, path)``                    read and check a real-data file against
                                              ``data/<slug>/schema.yml``
``Twin``                                      the result: ``panel``, ``raw``, ``truth``, ``meta``, ``describe()``
``twin_banner(slug_or_twin)``                 the admonition each chapter shows (Markdown string;
                                              ``twin_banner(..., display=True)`` returns an IPython object)
``available_twins()``                         slugs with a registered builder

Submodules: :mod:`~helpers.twins.engine` (building blocks), :mod:`~helpers.twins.geography` (real
cities), :mod:`~helpers.twins.policies` (pilot lists), :mod:`~helpers.twins.loader`.

Adding a twin
-------------
Write ``src/helpers/twins/<slug_with_underscores>.py`` with a function
``build(scale: str = "full", seed: int | None = None) -> Twin`` (read the default seed from
``data/<slug>/calibration.yml`` with :func:`helpers.twins.loader.read_calibration`). Every slug in
``helpers.paths.SLUGS`` maps to its module name in ``REGISTRY``; a twin is *available* as soon as its
module exists, and ``load_twin`` imports the module on first use. A sixth paper adds its slug to
``SLUGS`` and one line to ``REGISTRY``.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from typing import Any

from helpers.paths import SLUGS
from helpers.twins.engine import Twin
from helpers.twins.loader import load_panel

__all__ = ["REGISTRY", "SCALES", "Twin", "available_twins", "load_panel", "load_twin", "twin_banner"]

REGISTRY: dict[str, str] = {
    "bigdata-innovation-fusion": "bigdata_innovation_fusion",
    "ai-new-quality-productivity": "ai_new_quality_productivity",
    "ai-export-upgrading": "ai_export_upgrading",
    "ai-manufacturing-cities": "ai_manufacturing_cities",
    "industry-finance-ai": "industry_finance_ai",
}
"""slug -> builder module inside ``helpers.twins`` (one line per twin)."""

SCALES = ("full", "quick", "paper")

BANNER_TEXT = ("Simulated twin: these numbers come from simulated data calibrated to the paper; "
               "they are not findings about China.")


def available_twins() -> list[str]:
    """Slugs whose twin is implemented.

    Examples
    --------
    >>> "bigdata-innovation-fusion" in available_twins()
    True
    """
    return sorted(
        slug
        for slug, module in REGISTRY.items()
        if importlib.util.find_spec(f"{__name__}.{module}") is not None
    )


def load_twin(slug: str, scale: str = "full", seed: int | None = None) -> Twin:
    """Build the simulated twin of one paper's data.

    Parameters
    ----------
    slug : str
        One of ``helpers.paths.SLUGS`` with a registered builder (:func:`available_twins`).
    scale : {"full", "quick", "paper"}
        ``"full"``: the paper's size; ``"quick"``: a small version for tests and quick mode
        (``helpers.paths.is_quick()``); ``"paper"``: only for twins that define it.
    seed : int, optional
        Default: the ``seed`` in ``data/<slug>/calibration.yml``.

    Returns
    -------
    Twin
        Frames carry ``attrs["simulated"] = True`` and ``attrs["twin"] = slug``.

    Warns
    -----
    UserWarning
        Always: the data are simulated.

    Raises
    ------
    ValueError
        Unknown slug, twin not implemented yet (lists the available ones), or unknown scale.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     tw = load_twin("bigdata-innovation-fusion", scale="quick")
    >>> tw.panel.attrs["simulated"]
    True
    """
    if slug not in SLUGS:
        raise ValueError(f"unknown paper slug {slug!r}; known slugs: {', '.join(SLUGS)}; "
                         f"twins available: {', '.join(available_twins())}")
    if slug not in available_twins():
        raise ValueError(f"the twin for {slug!r} is not implemented yet; twins available: "
                         f"{', '.join(available_twins())}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    module = importlib.import_module(f"{__name__}.{REGISTRY[slug]}")
    twin: Twin = module.build(scale=scale, seed=seed)
    warnings.warn(f"{slug}: these data are simulated (a twin calibrated to the paper, scale={scale}, "
                  f"seed={twin.meta.get('seed')}); they are not real data about China.",
                  UserWarning, stacklevel=2)
    return twin


def twin_banner(twin_or_slug: Twin | str, *, display: bool = False) -> Any:
    """The admonition every chapter shows at the top.

    Parameters
    ----------
    twin_or_slug : Twin or str
        The twin (its seed and scale are shown) or just the slug.
    display : bool
        If True, return an ``IPython.display.Markdown`` object (renders in Jupyter Book as an
        admonition); otherwise the Markdown string.

    Returns
    -------
    str or IPython.display.Markdown

    Examples
    --------
    >>> "not findings about China" in twin_banner("bigdata-innovation-fusion")
    True
    """
    if isinstance(twin_or_slug, Twin):
        slug = twin_or_slug.slug
        detail = (f" (twin `{slug}`, scale `{twin_or_slug.meta.get('scale')}`, "
                  f"seed `{twin_or_slug.meta.get('seed')}`)")
    elif isinstance(twin_or_slug, str):
        slug, detail = twin_or_slug, f" (twin `{twin_or_slug}`)"
    else:
        raise ValueError(f"twin_banner needs a Twin or a slug string, got {type(twin_or_slug).__name__}")
    text = f":::{{admonition}} Simulated data\n:class: warning\n{BANNER_TEXT}{detail}\n:::\n"
    if display:
        from IPython.display import Markdown

        return Markdown(text)
    return text

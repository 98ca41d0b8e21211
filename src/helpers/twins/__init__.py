"""Simulated twins of the five papers' data, and the real-data loader.

Public interface
----------------
``load_twin(slug, scale="full", seed=None)``  build a paper's twin (:class:`Twin`); warns "simulated"
``load_panel(slug, path, rename=None)``       read and check a real-data file (CSV, .xlsx, .dta, .parquet) against
                                              ``data/<slug>/schema.yml``
``load_companions(slug, files)``               read the reader's companion raw files (``companions`` in the schema)
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

import hashlib
import importlib
import importlib.util
import json
import os
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.paths import DATA_DIR, GENERATED_DIR, SLUGS, is_quick
from helpers.twins.engine import Twin
from helpers.twins.loader import load_companions, load_panel

__all__ = [
    "CACHE_DIR",
    "REGISTRY",
    "SCALES",
    "Twin",
    "available_twins",
    "build_all",
    "load_companions",
    "load_panel",
    "load_twin",
    "skip_note",
    "twin_banner",
]

REGISTRY: dict[str, str] = {
    "bigdata-innovation-fusion": "bigdata_innovation_fusion",
    "ai-new-quality-productivity": "ai_new_quality_productivity",
    "ai-export-upgrading": "ai_export_upgrading",
    "ai-manufacturing-cities": "ai_manufacturing_cities",
    "industry-finance-ai": "industry_finance_ai",
}
"""slug -> builder module inside ``helpers.twins`` (one line per twin)."""

SCALES = ("full", "quick", "paper")

CACHE_DIR: Path = GENERATED_DIR
"""Where ``make data`` (:func:`build_all`) and :func:`load_twin` keep built twins (git-ignored)."""

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
        Default: ``$AICHINA_SEED`` when set (to build a chapter at another seed), else the
        ``seed`` in ``data/<slug>/calibration.yml``.

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
    if seed is None and os.environ.get("AICHINA_SEED", "").strip():
        try:
            seed = int(os.environ["AICHINA_SEED"])
        except ValueError:
            raise ValueError(f"AICHINA_SEED must be an integer, got {os.environ['AICHINA_SEED']!r}") from None
    twin = _cached_build(slug, scale, seed)
    warnings.warn(f"{slug}: these data are simulated (a twin calibrated to the paper, scale={scale}, "
                  f"seed={twin.meta.get('seed')}); they are not real data about China.",
                  UserWarning, stacklevel=2)
    return twin


def twin_banner(twin_or_slug: Twin | str, *, display: bool = False,
                data: str | os.PathLike[str] = "twin") -> Any:
    """The admonition every chapter shows at the top: simulated twin, or the reader's own file.

    Parameters
    ----------
    twin_or_slug : Twin or str
        The twin (its seed and scale are shown) or just the slug.
    display : bool
        If True, return an ``IPython.display.Markdown`` object (renders in Jupyter Book as an
        admonition); otherwise the Markdown string.
    data : str or path, default "twin"
        The chapter's ``DATA`` parameter. Anything but ``"twin"`` is a reader's file: the banner then
        names the file and says that the estimates are the file's, that no truth or design analysis
        is shown, and that sections needing raw inputs the file lacks are skipped. The call also
        sets the header of the compare tables' estimate column (``helpers.report.set_estimate_label``):
        "Twin" on the twin, "Your data" on a file.

    Returns
    -------
    str or IPython.display.Markdown

    Examples
    --------
    >>> "not findings about China" in twin_banner("bigdata-innovation-fusion")
    True
    >>> print(twin_banner("bigdata-innovation-fusion", data="cities.csv"))
    :::{admonition} Your data: cities.csv
    :class: note
    Every estimate below is computed from `cities.csv` (paper `bigdata-innovation-fusion`); compare tables head its column "Your data". No truth and no design analysis is shown: they exist only for the simulated twin. The prose was written for the twin: its computed numbers are your file's, but its explanations (why the twin differs from the paper) are about the simulation, not your data. Sections that need raw inputs your file does not hold say so and are skipped.
    :::
    <BLANKLINE>
    >>> _ = twin_banner("bigdata-innovation-fusion")  # compare tables headed "Twin" again
    """
    from helpers.report import set_estimate_label

    if str(data) != "twin":
        slug = twin_or_slug.slug if isinstance(twin_or_slug, Twin) else str(twin_or_slug)
        name = Path(data).name
        set_estimate_label("Your data")
        text = (f":::{{admonition}} Your data: {name}\n:class: note\n"
                f"Every estimate below is computed from `{name}` (paper `{slug}`); compare tables head "
                "its column \"Your data\". No truth and no design analysis is shown: they exist only "
                "for the simulated twin. The prose was written for the twin: its computed numbers are "
                "your file's, but its explanations (why the twin differs from the paper) are about the "
                "simulation, not your data. Sections that need raw inputs your file does not hold say "
                "so and are skipped.\n:::\n")
        if display:
            from IPython.display import Markdown

            return Markdown(text)
        return text
    if isinstance(twin_or_slug, Twin):
        slug = twin_or_slug.slug
        detail = (f" (twin `{slug}`, scale `{twin_or_slug.meta.get('scale')}`, "
                  f"seed `{twin_or_slug.meta.get('seed')}`)")
    elif isinstance(twin_or_slug, str):
        slug, detail = twin_or_slug, f" (twin `{twin_or_slug}`)"
    else:
        raise ValueError(f"twin_banner needs a Twin or a slug string, got {type(twin_or_slug).__name__}")
    set_estimate_label("Twin")
    text = f":::{{admonition}} Simulated data\n:class: warning\n{BANNER_TEXT}{detail}\n:::\n"
    if display:
        from IPython.display import Markdown

        return Markdown(text)
    return text


SKIP_TITLE = "Skipped on your data"


def skip_note(section: str, needs: str, *, display: bool = True) -> Any:
    """The visible note a chapter shows where a section cannot run on the reader's file.

    Parameters
    ----------
    section : str
        What is skipped, e.g. ``"Building the AI-mention index from annual reports"``.
    needs : str
        The raw input the section needs and the file lacks, e.g. ``"the MD&A texts"``.
    display : bool, default True
        Return an ``IPython.display.Markdown`` object (an admonition on the site and in
        JupyterLab); otherwise the Markdown string.

    Returns
    -------
    str or IPython.display.Markdown

    Raises
    ------
    ValueError
        If ``section`` or ``needs`` is empty.

    Examples
    --------
    >>> print(skip_note("The entropy index", "the four city indicators", display=False))
    :::{admonition} Skipped on your data
    :class: warning
    The entropy index needs the four city indicators, which your file does not hold: it is skipped here (the simulated twin has them, so the book's own build runs it).
    :::
    <BLANKLINE>
    """
    if not str(section).strip() or not str(needs).strip():
        raise ValueError("skip_note needs the section that is skipped and the input it needs")
    text = (f":::{{admonition}} {SKIP_TITLE}\n:class: warning\n{section} needs {needs}, which your "
            "file does not hold: it is skipped here (the simulated twin has them, so the book's own "
            "build runs it).\n:::\n")
    if display:
        from IPython.display import Markdown

        return Markdown(text)
    return text


def _cache_file(slug: str, scale: str, seed: int | None) -> Path:
    """Cache path whose name hashes everything the twin depends on.

    The key covers every module of the helpers package (a twin builder may import any of them: the
    engine, geography, policies, index or measurement helpers), every file in ``data/<slug>/``
    (calibration, auxiliary tables), the scale, the seed and the pandas version, so that a change to
    any of them builds the twin again instead of reading a stale file.
    """
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for file in sorted(package.rglob("*.py")):
        h.update(file.relative_to(package).as_posix().encode())
        h.update(file.read_bytes())
    folder = DATA_DIR / slug
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        if file.is_file():
            h.update(file.name.encode())
            h.update(file.read_bytes())
    h.update(f"{scale}|{seed}|{pd.__version__}".encode())
    return CACHE_DIR / slug / scale / f"twin-{h.hexdigest()[:16]}.pkl"


def _cached_build(slug: str, scale: str, seed: int | None) -> Twin:
    """Read the twin from the cache if it is there and current, else build it and cache it.

    The cache only saves time: a missing, stale or unreadable cache file means the twin is built
    again in memory, with identical numbers. Set ``AICHINA_NO_CACHE=1`` to bypass it.
    """
    use_cache = os.environ.get("AICHINA_NO_CACHE", "0") != "1"
    path = _cache_file(slug, scale, seed)
    if use_cache and path.is_file():
        try:
            with path.open("rb") as fh:
                cached = pickle.load(fh)  # our own cache file, written below
            if isinstance(cached, Twin) and cached.slug == slug:
                return cached
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            pass
    module = importlib.import_module(f"{__name__}.{REGISTRY[slug]}")
    twin: Twin = module.build(scale=scale, seed=seed)
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(twin, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        except OSError:
            pass  # a read-only checkout still works, without the cache
    return twin


def build_all(scale: str | None = None) -> Iterator[str]:
    """Build every available twin, cache it, and write its frames as Parquet for inspection.

    Parameters
    ----------
    scale : {"full", "quick"}, optional
        Default: ``"quick"`` in quick mode (``AICHINA_QUICK=1``), else ``"full"``.

    Yields
    ------
    str
        One line per twin: rows, build or cache time, and where its files are.

    Notes
    -----
    Files go to ``data/_generated/<slug>/<scale>/``: ``panel.parquet``, ``raw-<name>.parquet`` and
    ``manifest.json`` (seed, scale, row counts and the content hash of each frame). The chapters read
    the cached twin through :func:`load_twin`.
    """
    import time

    from helpers.twins.engine import hash_frame

    scale = scale or ("quick" if is_quick() else "full")
    for slug in available_twins():
        start = time.perf_counter()
        with warnings.catch_warnings():
            # load_twin always says the data are simulated; here that is the point of the step
            warnings.simplefilter("ignore", UserWarning)
            twin = load_twin(slug, scale=scale)
        out = CACHE_DIR / slug / scale
        out.mkdir(parents=True, exist_ok=True)
        frames = {"panel": twin.panel, **{f"raw-{k}": v for k, v in twin.raw.items()}}
        manifest: dict[str, Any] = {"slug": slug, "scale": scale, "seed": twin.meta.get("seed"),
                                    "simulated": True, "frames": {}}
        for name, frame in frames.items():
            if not isinstance(frame, pd.DataFrame):
                continue
            frame.to_parquet(out / f"{name}.parquet", index=False)
            manifest["frames"][name] = {"rows": len(frame), "sha256": hash_frame(frame)}
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        yield (f"{slug:30s} {scale:5s} {len(twin.panel):>9,d} rows  "
               f"{time.perf_counter() - start:5.1f} s  -> {os.path.relpath(out, DATA_DIR.parent)}")

"""Where the repository's folders are, in a checkout and in an installed package.

In a checkout (``make venv`` installs the helpers in editable mode from ``src/``) the repository root
is two levels above this file: the paper files are in ``data/<slug>/``, the generated twins in
``data/_generated/`` and the build folder is ``_build/``.

Installed from a wheel (a chapter downloaded from the site and run on Colab, Binder or a reader's
machine: its first cell installs the package), there is no checkout. The wheel carries the paper
files as ``helpers/_data/<slug>/`` (``pyproject.toml`` maps ``data/`` to that package), generated
twins go to a user cache folder (``$XDG_CACHE_HOME/ai-china-executable-papers``, by default
``~/.cache/...``) and the build folder (scorecards) is ``_build/`` under the current folder.

``AICHINA_ROOT`` names a checkout to use instead; ``AICHINA_BUILD_DIR`` overrides the build folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DATA_DIR", "GENERATED_DIR", "INSTALLED", "QUICK_ENV", "REPO_ROOT", "SLUGS", "book_chapters",
    "build_dir", "is_quick", "slug_dir",
]

QUICK_ENV = "AICHINA_QUICK"
"""Environment variable: when set to ``1`` the chapters run on small twins (tests, previews)."""

_SOURCE_ROOT = Path(__file__).resolve().parents[2]
INSTALLED: bool = "AICHINA_ROOT" not in os.environ and not (_SOURCE_ROOT / "pyproject.toml").is_file()
"""True when the helpers run from an installed wheel, not from a checkout of the book."""

if INSTALLED:
    REPO_ROOT: Path = Path.cwd()
    DATA_DIR: Path = Path(__file__).resolve().parent / "_data"
    GENERATED_DIR: Path = Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    ) / "ai-china-executable-papers"
else:
    REPO_ROOT = Path(os.environ.get("AICHINA_ROOT", _SOURCE_ROOT))
    DATA_DIR = REPO_ROOT / "data"
    GENERATED_DIR = DATA_DIR / "_generated"
"""``DATA_DIR`` holds ``<slug>/`` with each paper's files; ``GENERATED_DIR`` the generated twins."""

SLUGS: tuple[str, ...] = (
    "bigdata-innovation-fusion",
    "ai-new-quality-productivity",
    "ai-export-upgrading",
    "ai-manufacturing-cities",
    "industry-finance-ai",
)


def is_quick() -> bool:
    """Return True when quick mode is on (``AICHINA_QUICK=1``).

    Examples
    --------
    >>> import os
    >>> os.environ.pop("AICHINA_QUICK", None) and None
    >>> is_quick()
    False
    """
    return os.environ.get(QUICK_ENV, "0").strip().lower() in {"1", "true", "yes"}


def build_dir() -> Path:
    """Return the build folder for scorecards and caches, read from the environment now.

    ``AICHINA_BUILD_DIR`` when set; otherwise ``_build/quick`` in quick mode and ``_build`` in full
    mode, so that a quick run never overwrites the scorecards of the full book.

    Examples
    --------
    >>> import os
    >>> saved = {k: os.environ.pop(k, None) for k in ("AICHINA_BUILD_DIR", "AICHINA_QUICK")}
    >>> os.environ["AICHINA_QUICK"] = "1"
    >>> build_dir().relative_to(REPO_ROOT).as_posix()
    '_build/quick'
    >>> os.environ["AICHINA_QUICK"] = "0"
    >>> build_dir().relative_to(REPO_ROOT).as_posix()
    '_build'
    >>> for k, v in saved.items():
    ...     _ = os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    """
    env = os.environ.get("AICHINA_BUILD_DIR")
    if env:
        return Path(env)
    return REPO_ROOT / "_build" / "quick" if is_quick() else REPO_ROOT / "_build"



def book_chapters(root: Path | None = None) -> list[Path]:
    """Return the chapter notebooks listed in the book's table of contents, in book order.

    The chapters are the files of the ``Chapters`` part of ``book/_toc.yml`` (the warm-up and the
    course pages are other parts), so adding a paper means adding one line to the table of
    contents; tests and pages that walk the chapters call this instead of counting them.

    Parameters
    ----------
    root : Path, optional
        Repository root (default :data:`REPO_ROOT`).

    Returns
    -------
    list of pathlib.Path
        ``<root>/notebooks/NN_<slug>.ipynb`` for every chapter in the table of contents.

    Raises
    ------
    ValueError
        If the table of contents has no ``Chapters`` part, or lists a chapter whose notebook does
        not exist.

    Examples
    --------
    >>> [p.stem for p in book_chapters()][:2]
    ['01_bigdata-innovation-fusion', '02_ai-new-quality-productivity']
    """
    import yaml

    root = Path(root) if root is not None else REPO_ROOT
    toc = yaml.safe_load((root / "book" / "_toc.yml").read_text(encoding="utf-8"))
    parts = [p for p in toc.get("parts", []) if str(p.get("caption", "")).lower() == "chapters"]
    if not parts:
        raise ValueError(f"{root / 'book' / '_toc.yml'} has no part with caption 'Chapters'")
    files = [root / f"{c['file']}.ipynb" for c in parts[0].get("chapters", [])]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise ValueError(f"book/_toc.yml lists chapters without a notebook: {missing}")
    return files


def slug_dir(slug: str) -> Path:
    """Return ``data/<slug>/`` for one of the five papers, with a clear error for a typo.

    Examples
    --------
    >>> slug_dir("industry-finance-ai").name
    'industry-finance-ai'
    """
    if slug not in SLUGS:
        raise ValueError(f"unknown paper slug {slug!r}; expected one of: {', '.join(SLUGS)}")
    return DATA_DIR / slug

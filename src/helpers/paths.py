"""Where the repository's folders are.

The helpers are installed in editable mode from ``src/``, so the repository root is two levels
above this file. ``AICHINA_ROOT`` overrides it (for example when the package is installed from a
wheel and the data folder lives elsewhere); ``AICHINA_BUILD_DIR`` overrides the build folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BUILD_DIR", "DATA_DIR", "QUICK_ENV", "REPO_ROOT", "SLUGS", "is_quick", "slug_dir"]

QUICK_ENV = "AICHINA_QUICK"
"""Environment variable: when set to ``1`` the chapters run on small twins (tests, previews)."""

REPO_ROOT: Path = Path(os.environ.get("AICHINA_ROOT", Path(__file__).resolve().parents[2]))
DATA_DIR: Path = REPO_ROOT / "data"
BUILD_DIR: Path = Path(os.environ.get("AICHINA_BUILD_DIR", REPO_ROOT / "_build"))
"""Build outputs (scorecards, caches). ``AICHINA_BUILD_DIR`` overrides it: the quick-mode test build
writes to ``_build/quick`` so that it never overwrites the full build's scorecards."""

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

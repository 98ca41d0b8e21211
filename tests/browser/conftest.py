"""Skip the browser and PDF checks, with a clear message, where Chromium is not installed.

A student's machine may lack Debian's Chromium (installing it needs root), so ``make test`` must
still run there: the checks marked ``browser`` are skipped and the summary says why and how to
install it. In CI (``CI=true``, as GitHub Actions sets it) nothing is skipped: a missing browser
fails the run, so the published site is always checked in a real browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from . import sitecheck


def in_ci() -> bool:
    """True on a CI runner (``CI`` set to ``true`` or ``1``): the checks never skip there."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing_tools() -> list[str]:
    """What the browser and PDF checks need but this machine lacks."""
    missing = [] if Path(sitecheck.CHROMIUM).is_file() else [f"Chromium ({sitecheck.CHROMIUM})"]
    if shutil.which("pdftotext") is None:
        missing.append("pdftotext (poppler-utils)")
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = missing_tools()
    if not missing or in_ci():
        return
    skip = pytest.mark.skip(reason=(
        f"{' and '.join(missing)} not installed: the browser and PDF checks are skipped on this "
        "machine (install them with `sudo make browser-deps`, or set CHROMIUM to a browser; CI "
        "always runs them)"))
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)

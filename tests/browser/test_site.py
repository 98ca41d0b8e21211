"""Real-browser check of the built site (headless Chromium through Playwright).

Run by ``make browser`` after ``make book-quick``; ``SITE_DIR`` names the built site. The first test
proves that the checker fails where it should, on pages made to be broken.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT, build_dir

from . import sitecheck

pytestmark = pytest.mark.browser

SITE = Path(os.environ.get("SITE_DIR", build_dir() / "html"))
if not SITE.is_absolute():
    SITE = REPO_ROOT / SITE
SCREENSHOTS = REPO_ROOT / "_build" / "screenshots"

# A navigation button that opens its panel, so that synthetic pages pass the phone check.
NAV_OK = (
    '<button class="primary-toggle" onclick="document.getElementById(\'pst-primary-sidebar\')'
    '.style.display=\'block\'">menu</button>'
    '<div id="pst-primary-sidebar" style="display:none;position:fixed;left:0;top:0;width:300px;'
    'height:600px;background:#fff">navigation</div>'
)
# What a chapter page needs besides its content: the launch, repository and download buttons.
BUTTONS = (
    '<a href="https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/x.ipynb">Binder</a>'
    '<a href="https://colab.research.google.com/github/o/r/blob/main/x.ipynb">Colab</a>'
    '<a href="https://github.com/o/r">repository</a>'
)
FIGURE = '<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" alt="one pixel">'
NOTEBOOK_WITH_OUTPUTS = {"cells": [{"cell_type": "code", "source": "1", "outputs": [
    {"output_type": "execute_result", "data": {"text/plain": "1"}}]}]}
NOTEBOOK_WITHOUT_OUTPUTS = {"cells": [{"cell_type": "code", "source": "1", "outputs": []}]}

BROKEN_PAGES = {
    "broken-image.html": ('<p>An image:</p><img src="missing.png" alt="missing">', "broken image"),
    # a 1-pixel image stretched to 300 px: fewer than 1.5 image pixels per CSS pixel
    "soft-image.html": (FIGURE.replace("<img ", '<img style="width: 300px" '), "soft image"),
    "unrendered-math.html": ('<div class="math">\\[ y = x \\]</div>', "unrendered math"),
    "error-cell.html": (
        '<div class="output traceback"><pre>ZeroDivisionError</pre></div>',
        "error output cell",
    ),
    "notebooks/01_missing-table.html": ("<p>No table here.</p>", "missing table"),
    "raw-role.html": ("<p>The estimate is {eval}`f\"{beta:.4f}\"`.</p>", "unrendered role"),
    # the dark-mode bug of the compare tables: text the colour of its background
    "low-contrast.html": (
        '<table><tr><td style="color: rgb(206, 214, 221)">0.539***</td></tr></table>',
        "low contrast (light theme)",
    ),
    "low-contrast-dark.html": (
        "<style>html[data-theme=dark] body { background: rgb(18, 18, 18); }"
        " td { color: rgb(34, 40, 50); }</style><table><tr><td>0.539***</td></tr></table>",
        "low contrast (dark theme)",
    ),
    "notebooks/02_wide-table.html": (
        f'<article class="bd-article" style="width: 600px">{BUTTONS}{FIGURE}'
        '<table style="width: 1000px"><tr><td>verdict</td></tr></table></article>',
        "table wider than its column",
    ),
    "notebooks/05_print-wide.html": (
        f"<style>@media print {{ table {{ width: 1000px; }} }}</style>{BUTTONS}{FIGURE}"
        '<a href="../_sources/notebooks/05_clean.ipynb">.ipynb</a>'
        "<table><tr><td>verdict</td></tr></table>",
        "table cut off in print",
    ),
    "javascript-error.html": ("<script>throw new Error('boom');</script>", "JavaScript error"),
    "notebooks/03_no-buttons.html": (f"{FIGURE}<table><tr><td>1</td></tr></table>", "missing button"),
    "notebooks/04_no-outputs.html": (
        f'{BUTTONS}<a href="../_sources/notebooks/04_no-outputs.ipynb">.ipynb</a>{FIGURE}'
        "<table><tr><td>1</td></tr></table>",
        "downloaded notebook has no outputs",
    ),
    # the phone bug: the menu button is there but nothing opens
    "dead-navigation.html": (
        '<button class="primary-toggle">menu</button>'
        '<div id="pst-primary-sidebar" style="display:none">navigation</div>',
        "phone: the navigation button does not open its panel",
    ),
}
NO_NAV = {"dead-navigation.html"}


def _page(name: str, body: str) -> str:
    nav = "" if name in NO_NAV else NAV_OK
    return f"<html><head><title>{name}</title></head><body>{nav}<main>{body}</main></body></html>"


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken-site")
    (root / "index.html").write_text(_page("index", "index"))
    for name, (body, _) in BROKEN_PAGES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(name, body))
    sources = root / "_sources" / "notebooks"
    sources.mkdir(parents=True)
    (sources / "04_no-outputs.ipynb").write_text(json.dumps(NOTEBOOK_WITHOUT_OUTPUTS))
    (sources / "05_clean.ipynb").write_text(json.dumps(NOTEBOOK_WITH_OUTPUTS))
    return root


def test_checker_fails_on_broken_pages(broken_site: Path) -> None:
    reports = {r.page: r for r in sitecheck.check_pages(broken_site, pages=list(BROKEN_PAGES))}
    for name, (_, problem) in BROKEN_PAGES.items():
        assert not reports[name].ok, f"{name} passed the check"
        assert any(p.startswith(problem) for p in reports[name].problems), reports[name].problems


def test_checker_passes_a_clean_page(broken_site: Path) -> None:
    (broken_site / "clean.html").write_text(_page("clean", "<table><tr><td>1</td></tr></table>"))
    chapter = (
        f'<article class="bd-article" style="width: 700px">{BUTTONS}'
        f'<a href="../_sources/notebooks/05_clean.ipynb">.ipynb</a>{FIGURE}'
        "<table><tr><td>0.539***</td><td>agrees</td></tr></table></article>"
    )
    (broken_site / "notebooks" / "05_clean.html").write_text(_page("chapter", chapter))
    reports = sitecheck.check_pages(broken_site, pages=["clean.html", "notebooks/05_clean.html"])
    for report in reports:
        assert report.ok, (report.page, report.problems)


def test_every_page_of_the_built_site() -> None:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book-quick` (or `make book`) first")
    pages = sitecheck.list_pages(SITE)
    assert any(p.startswith("notebooks/") for p in pages), "the site has no chapter page"
    reports = sitecheck.check_pages(SITE, pages=pages, screenshot_dir=SCREENSHOTS)
    problems = [f"{r.page}: {p}" for r in reports for p in r.problems]
    assert not problems, "\n".join(problems)
    for r in reports:
        assert all(s.is_file() and s.stat().st_size > 0 for s in r.screenshots), r.page
    # light and dark, desktop and phone, for every page
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 4 * len(pages)

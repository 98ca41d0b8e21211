"""Real-browser check of the built site (headless Chromium through Playwright).

Run by ``make browser`` after ``make book-quick``; ``SITE_DIR`` names the built site. The first test
proves that the checker fails where it should, on pages made to be broken.
"""

from __future__ import annotations

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

BROKEN_PAGES = {
    "broken-image.html": ('<p>An image:</p><img src="missing.png" alt="missing">', "broken image"),
    "unrendered-math.html": ('<div class="math">\\[ y = x \\]</div>', "unrendered math"),
    "error-cell.html": (
        '<div class="output traceback"><pre>ZeroDivisionError</pre></div>',
        "error output cell",
    ),
    "notebooks/01_missing-table.html": ("<p>No table here.</p>", "missing table"),
}


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken-site")
    (root / "index.html").write_text("<html><body><main>index</main></body></html>")
    for name, (body, _) in BROKEN_PAGES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"<html><head><title>{name}</title></head><body><main>{body}</main></body></html>")
    return root


def test_checker_fails_on_broken_pages(broken_site: Path) -> None:
    reports = {r.page: r for r in sitecheck.check_pages(broken_site, pages=list(BROKEN_PAGES))}
    for name, (_, problem) in BROKEN_PAGES.items():
        assert not reports[name].ok, f"{name} passed the check"
        assert any(p.startswith(problem) for p in reports[name].problems), reports[name].problems


def test_checker_passes_a_clean_page(broken_site: Path) -> None:
    (broken_site / "clean.html").write_text(
        "<html><body><main><table><tr><td>1</td></tr></table></main></body></html>"
    )
    [report] = sitecheck.check_pages(broken_site, pages=["clean.html"])
    assert report.ok, report.problems


def test_every_page_of_the_built_site() -> None:
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make book-quick` (or `make book`) first")
    pages = sitecheck.list_pages(SITE)
    assert any(p.startswith("notebooks/") for p in pages), "the site has no chapter page"
    reports = sitecheck.check_pages(SITE, pages=pages, screenshot_dir=SCREENSHOTS)
    problems = {r.page: r.problems for r in reports if not r.ok}
    assert not problems, problems
    for r in reports:
        assert all(s.is_file() and s.stat().st_size > 0 for s in r.screenshots), r.page
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 2 * len(pages)

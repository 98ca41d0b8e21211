"""Check the built HTML book in a real browser (headless Chromium driven by Playwright).

For every page the check loads the page from a local HTTP server, waits until MathJax has typeset it,
and fails on

* a broken image (an ``<img>`` that did not load),
* an unrendered math block (a Sphinx ``.math`` node without a MathJax container, or a MathJax error),
* an error output cell (a traceback in a notebook's output),
* a missing table or figure on a chapter page (every chapter shows at least one of each),
* a request the page made that failed (a missing script, stylesheet or font).

It saves a full-page screenshot of each page, in the light and the dark theme, under
``_build/screenshots/``. Run it as a script::

    python tests/browser/sitecheck.py _build/html

Chromium is Debian's ``/usr/bin/chromium`` (``make browser-deps`` installs it); Playwright's own
browser download is never used, so the check runs offline.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
CHAPTER_PATTERN = re.compile(r"^notebooks/\d\d_.+\.html$")

PAGE_PROBE = """
() => {
  const main = document.querySelector('main') || document.body;
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0))
                       .map(i => i.getAttribute('src'));
  const mathNodes = [...main.querySelectorAll('.math')];
  const unrendered = mathNodes.filter(n => !n.querySelector('mjx-container'))
                              .map(n => n.textContent.trim().slice(0, 80));
  const mathErrors = [...main.querySelectorAll('mjx-merror')].map(n => n.textContent.slice(0, 80));
  const tracebacks = [...main.querySelectorAll('.output.traceback, .output.error')]
                     .map(n => n.textContent.trim().slice(0, 200));
  return {
    broken, unrendered, mathErrors, tracebacks,
    tables: main.querySelectorAll('table').length,
    figures: main.querySelectorAll('img').length,
    title: document.title,
  };
}
"""


@dataclass
class PageReport:
    """What the browser saw on one page."""

    page: str
    problems: list[str] = field(default_factory=list)
    tables: int = 0
    figures: int = 0
    screenshots: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free loopback port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def list_pages(site: Path) -> list[str]:
    """Return the site's content pages relative to ``site``, landing page first."""
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"no index.html in {site}: build the book first (make book)")
    pages = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(site).parts)
        and p.name not in SKIP_PAGES
    )
    # index.html at the root only redirects to the landing page; check the landing page itself.
    return [p for p in pages if p != "index.html"] or ["index.html"]


def check_pages(
    site: Path,
    pages: list[str] | None = None,
    screenshot_dir: Path | None = None,
    require_tables: bool | None = None,
    timeout_ms: int = 60_000,
) -> list[PageReport]:
    """Open each page in headless Chromium and report its problems.

    Parameters
    ----------
    site
        Folder of the built HTML site (``_build/html``).
    pages
        Pages to check, relative to ``site``; all content pages by default.
    screenshot_dir
        Where to save ``<page>.png`` and ``<page>-dark.png``; no screenshots if None.
    require_tables
        Demand at least one table and one figure on every page (True), on none (False), or on
        chapter pages only (None, the default).
    timeout_ms
        How long to wait for a page and for MathJax.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(
            f"Chromium is not installed at {CHROMIUM}: run `make browser-deps` "
            "(apt-get install chromium) or set CHROMIUM to the browser's path"
        )
    pages = pages if pages is not None else list_pages(site)
    reports: list[PageReport] = []
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for page_path in pages:
                reports.append(
                    _check_one(browser, base, page_path, screenshot_dir, require_tables, timeout_ms)
                )
        finally:
            browser.close()
    return reports


def _check_one(browser, base, page_path, screenshot_dir, require_tables, timeout_ms) -> PageReport:
    report = PageReport(page=page_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None,
    )
    page.goto(base + page_path, wait_until="load", timeout=timeout_ms)
    # MathJax is loaded with `defer`, so it exists by the load event; wait until it has typeset.
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " { await MathJax.startup.promise; } }"
    )
    probe = page.evaluate(PAGE_PROBE)
    report.tables, report.figures = probe["tables"], probe["figures"]
    for src in probe["broken"]:
        report.problems.append(f"broken image: {src}")
    for text in probe["unrendered"]:
        report.problems.append(f"unrendered math: {text}")
    for text in probe["mathErrors"]:
        report.problems.append(f"MathJax error: {text}")
    for text in probe["tracebacks"]:
        report.problems.append(f"error output cell: {text}")
    for item in failed:
        report.problems.append(f"failed request: {item}")
    wants = bool(CHAPTER_PATTERN.match(page_path)) if require_tables is None else require_tables
    if wants and report.tables == 0:
        report.problems.append("missing table: a chapter page must show at least one table")
    if wants and report.figures == 0:
        report.problems.append("missing figure: a chapter page must show at least one figure")
    if screenshot_dir is not None:
        screenshot_dir.mkdir(parents=True, exist_ok=True)
        stem = page_path.removesuffix(".html").replace("/", "__")
        light = screenshot_dir / f"{stem}.png"
        page.screenshot(path=str(light), full_page=True)
        page.evaluate("() => { document.documentElement.dataset.theme = 'dark'; }")
        page.wait_for_timeout(200)
        dark = screenshot_dir / f"{stem}-dark.png"
        page.screenshot(path=str(dark), full_page=True)
        report.screenshots = [light, dark]
    context.close()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site, e.g. _build/html")
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    args = parser.parse_args(argv)
    reports = check_pages(args.site, screenshot_dir=args.screenshots)
    for r in reports:
        status = "ok  " if r.ok else "FAIL"
        print(f"{status} {r.page}  tables={r.tables} figures={r.figures}")
        for problem in r.problems:
            print(f"       {problem}")
    bad = sum(not r.ok for r in reports)
    print(f"{len(reports) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

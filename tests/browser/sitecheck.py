"""Check the built HTML book in a real browser (headless Chromium driven by Playwright).

For every page the check loads the page from a local HTTP server, waits until MathJax has typeset it,
and fails on

* a broken image (an ``<img>`` that did not load), or a soft one: a figure (shown at least 100 px
  wide) with fewer than 1.5 pixels per CSS pixel at the 1,400 px page,
* an unrendered math block (a Sphinx ``.math`` node without a MathJax container, or a MathJax error),
* an error output cell (a traceback in a notebook's output),
* a role left as raw markup in the prose (``{eval}`x``` or ``{glue:text}`x``` that did not render),
* a missing table or figure on a chapter page (every chapter shows at least one of each),
* a request the page made that failed (a missing script, stylesheet or font),
* a JavaScript error (an uncaught exception, or an error logged to the console),
* table text with less than WCAG AA contrast (4.5:1) against its background, in the light or the
  dark theme,
* on a chapter page at 1,400 px: a table wider than the article's column; a missing launch
  (Binder, Colab), repository or download button; a downloaded notebook without outputs,
* on a chapter page printed (print media on an A4 page): a table wider than the printed column,
* at 390 px (a phone): a navigation or contents button that does not open its panel.

It saves a full-page screenshot of each page, in the light and the dark theme, at desktop (1,400 px)
and phone (390 px) widths, under ``_build/screenshots/``. Run it as a script::

    python tests/browser/sitecheck.py _build/html

Chromium is Debian's ``/usr/bin/chromium`` (``make browser-deps`` installs it); Playwright's own
browser download is never used, so the check runs offline.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import posixpath
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
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
PRINT = {"width": 718, "height": 1000}  # A4 portrait with 2 cm margins, at 96 dpi
MIN_CONTRAST = 4.5  # WCAG 2 AA, normal text
CHAPTER_PATTERN = re.compile(r"^notebooks/\d\d_.+\.html$")

PAGE_PROBE = r"""
() => {
  const main = document.querySelector('main') || document.body;
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0))
                       .map(i => i.getAttribute('src'));
  const soft = images.filter(i => i.complete && i.naturalWidth > 0)
                     .map(i => ({src: (i.getAttribute('src') || '').slice(0, 80),
                                 natural: i.naturalWidth, shown: i.getBoundingClientRect().width}))
                     .filter(i => i.shown >= 100 && i.natural < 1.5 * i.shown - 0.5);
  const mathNodes = [...main.querySelectorAll('.math')];
  const unrendered = mathNodes.filter(n => !n.querySelector('mjx-container'))
                              .map(n => n.textContent.trim().slice(0, 80));
  const mathErrors = [...main.querySelectorAll('mjx-merror')].map(n => n.textContent.slice(0, 80));
  const tracebacks = [...main.querySelectorAll('.output.traceback, .output.error')]
                     .map(n => n.textContent.trim().slice(0, 200));
  const prose = main.cloneNode(true);  // prose only: code may show the markup on purpose
  prose.querySelectorAll('pre, code, .highlight').forEach(e => e.remove());
  const text = prose.textContent;
  const roles = (text.match(/\{(eval|glue[:a-z]*)\}`?[^\s`]*`?/g) || []).slice(0, 5);
  return {
    broken, soft, unrendered, mathErrors, tracebacks, roles,
    tables: main.querySelectorAll('table').length,
    figures: main.querySelectorAll('img').length,
    title: document.title,
  };
}
"""


CONTRAST_PROBE = """
(minRatio) => {
  const main = document.querySelector('main') || document.body;
  const parse = s => {
    const m = s && s.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let bg = [255, 255, 255, 1];
    for (const layer of layers.reverse()) bg = over(layer, bg);
    return bg;
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bad = [];
  let checked = 0;
  for (const cell of main.querySelectorAll('table th, table td, table caption')) {
    const holders = [cell, ...cell.querySelectorAll('*')].filter(
      e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
    for (const h of holders) {
      const st = getComputedStyle(h);
      if (st.visibility === 'hidden' || st.display === 'none' || h.getClientRects().length === 0) continue;
      const bg = background(h);
      let fg = parse(st.color);
      if (!fg) continue;
      if (fg[3] < 1) fg = over(fg, bg);
      checked += 1;
      const r = ratio(fg, bg);
      if (r < minRatio) bad.push({text: h.textContent.trim().slice(0, 40), ratio: Math.round(r * 100) / 100,
                                  color: st.color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')'});
    }
  }
  return {checked, bad};
}
"""

WIDTH_PROBE = """
() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const st = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(st.paddingLeft) - parseFloat(st.paddingRight);
  return {column: column, tables: [...article.querySelectorAll('table')].map(t => ({
    width: t.getBoundingClientRect().width,
    head: (t.querySelector('tr') || t).textContent.replace(/\\s+/g, ' ').trim().slice(0, 60)}))};
}
"""

BUTTON_PROBE = """
() => {
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  return {
    binder: links.some(h => /mybinder|\\/v2\\/gh\\//.test(h)),
    colab: links.some(h => /colab\\.research\\.google\\.com/.test(h)),
    repository: !!document.querySelector('.btn-source-repository-button, a[data-bs-title="Source repository"]')
                || links.some(h => /github\\.com\\/[^/]+\\/[^/]+\\/?$/.test(h)),
    download: links.find(h => /\\.ipynb$/.test(h) && /_sources\\//.test(h)) || null,
  };
}
"""

PANEL_PROBE = """
(selector) => {
  const el = document.querySelector(selector);
  if (!el) return {exists: false, open: false};
  const st = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const open = st.display !== 'none' && st.visibility !== 'hidden' && parseFloat(st.opacity) > 0.1
    && r.width > 100 && r.height > 100 && r.right > 50 && r.left < window.innerWidth - 50;
  return {exists: true, open: open};
}
"""

# What a phone reader taps (sphinx-book-theme / pydata-sphinx-theme markup), and the panel it opens.
PHONE_TOGGLES = (
    ("navigation", ".primary-toggle", "#pst-primary-sidebar, .bd-sidebar-primary"),
    ("contents", ".secondary-toggle", "#pst-secondary-sidebar, .bd-sidebar-secondary"),
)


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


def _theme(page, theme: str) -> None:
    page.evaluate(f"() => {{ document.documentElement.dataset.theme = '{theme}'; }}")
    page.wait_for_timeout(250)  # let colour transitions finish


def _screenshot(page, screenshot_dir: Path | None, stem: str, report: PageReport) -> None:
    if screenshot_dir is None:
        return
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    path = screenshot_dir / f"{stem}.png"
    page.screenshot(path=str(path), full_page=True)
    report.screenshots.append(path)


def _watch_errors(page, errors: list[str]) -> None:
    page.on("pageerror", lambda e: errors.append(f"JavaScript error: {e}"))
    page.on(
        "console",
        lambda m: errors.append(f"JavaScript console error: {m.text}")
        if m.type == "error" and "Failed to load resource" not in m.text  # reported as a request
        else None,
    )


def _check_one(browser, base, page_path, screenshot_dir, require_tables, timeout_ms) -> PageReport:
    report = PageReport(page=page_path)
    chapter = bool(CHAPTER_PATTERN.match(page_path))
    stem = page_path.removesuffix(".html").replace("/", "__")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    failed: list[str] = []
    errors: list[str] = []
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: failed.append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None,
    )
    _watch_errors(page, errors)
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
    for img in probe["soft"]:
        report.problems.append(
            f"soft image at {DESKTOP['width']} px: {img['natural']} px shown {img['shown']:.0f} px wide "
            f"(< 1.5x; save it at a higher dpi): {img['src']}")
    for text in probe["unrendered"]:
        report.problems.append(f"unrendered math: {text}")
    for text in probe["mathErrors"]:
        report.problems.append(f"MathJax error: {text}")
    for text in probe["tracebacks"]:
        report.problems.append(f"error output cell: {text}")
    for text in probe["roles"]:
        report.problems.append(f"unrendered role in the prose: {text}")
    wants = chapter if require_tables is None else require_tables
    if wants and report.tables == 0:
        report.problems.append("missing table: a chapter page must show at least one table")
    if wants and report.figures == 0:
        report.problems.append("missing figure: a chapter page must show at least one figure")
    if chapter:
        _check_chapter_desktop(page, base, page_path, report)
    for theme in ("light", "dark"):
        _theme(page, theme)
        contrast = page.evaluate(CONTRAST_PROBE, MIN_CONTRAST)
        for bad in contrast["bad"][:5]:
            report.problems.append(
                f"low contrast ({theme} theme): {bad['ratio']}:1 for {bad['text']!r} "
                f"({bad['color']} on {bad['background']})"
            )
        if len(contrast["bad"]) > 5:
            report.problems.append(f"low contrast ({theme} theme): {len(contrast['bad'])} cells in all")
        _screenshot(page, screenshot_dir, stem if theme == "light" else f"{stem}-dark", report)
    context.close()
    if chapter:
        _check_print(browser, base, page_path, report, timeout_ms)
    _check_phone(browser, base, page_path, screenshot_dir, stem, report, errors, timeout_ms)
    for item in failed:
        report.problems.append(f"failed request: {item}")
    report.problems.extend(dict.fromkeys(errors))
    return report


def _check_chapter_desktop(page, base: str, page_path: str, report: PageReport) -> None:
    """Table widths at 1,400 px, the header buttons, and the downloaded notebook's outputs."""
    widths = page.evaluate(WIDTH_PROBE)
    for table in widths["tables"]:
        if table["width"] > widths["column"] + 1:
            report.problems.append(
                f"table wider than its column at {DESKTOP['width']} px: {table['width']:.0f} > "
                f"{widths['column']:.0f} px ({table['head']!r})"
            )
    buttons = page.evaluate(BUTTON_PROBE)
    for name in ("binder", "colab", "repository", "download"):
        if not buttons[name]:
            report.problems.append(f"missing button: no {name} button on a chapter page")
    if buttons["download"]:
        url = base + _resolve(page_path, buttons["download"])
        response = page.request.get(url)
        if not response.ok:
            report.problems.append(f"downloaded notebook: HTTP {response.status} for {url}")
        else:
            try:
                cells = json.loads(response.text())["cells"]
            except (ValueError, KeyError):
                report.problems.append(f"downloaded notebook: not a notebook ({url})")
            else:
                if not any(c.get("outputs") for c in cells if c.get("cell_type") == "code"):
                    report.problems.append(f"downloaded notebook has no outputs: {url}")


def _check_print(browser, base: str, page_path: str, report: PageReport, timeout_ms: int) -> None:
    """Printed on A4, every table fits the printed column (nothing cut at the right edge)."""
    context = browser.new_context(viewport=PRINT)
    page = context.new_page()
    page.goto(base + page_path, wait_until="load", timeout=timeout_ms)
    page.emulate_media(media="print")
    widths = page.evaluate(WIDTH_PROBE)
    for table in widths["tables"]:
        if table["width"] > widths["column"] + 1:
            report.problems.append(
                f"table cut off in print (A4): {table['width']:.0f} > {widths['column']:.0f} px "
                f"({table['head']!r})"
            )
    context.close()


def _resolve(page_path: str, href: str) -> str:
    """Resolve ``href`` (relative to ``page_path``) to a path from the site root."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_path), href))


def _check_phone(browser, base, page_path, screenshot_dir, stem, report, errors, timeout_ms) -> None:
    """At 390 px each navigation button opens its panel; screenshots in both themes."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    _watch_errors(page, errors)
    page.goto(base + page_path, wait_until="load", timeout=timeout_ms)
    for theme in ("light", "dark"):
        _theme(page, theme)
        _screenshot(page, screenshot_dir, f"{stem}-phone" + ("-dark" if theme == "dark" else ""), report)
    _theme(page, "light")
    for name, toggle, panel in PHONE_TOGGLES:
        buttons = [b for b in page.query_selector_all(toggle) if b.is_visible()]
        if not buttons:
            if name == "navigation":
                report.problems.append(f"phone: no visible {name} button at {PHONE['width']} px")
            continue
        before = page.evaluate(PANEL_PROBE, panel)
        buttons[0].click()
        page.wait_for_timeout(400)
        after = page.evaluate(PANEL_PROBE, panel)
        if not after["open"] or before["open"]:
            report.problems.append(
                f"phone: the {name} button does not open its panel at {PHONE['width']} px"
            )
        page.keyboard.press("Escape")
        page.wait_for_timeout(200)
        page.goto(base + page_path, wait_until="load", timeout=timeout_ms)
    context.close()


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

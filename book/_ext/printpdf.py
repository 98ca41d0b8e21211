"""Print the single-page HTML build of the book to one PDF with headless Chromium (``make pdf``).

This is a script, not a Sphinx extension. ``make pdf`` first builds the book with Sphinx's
``singlehtml`` builder (every page inlined in ``book/index.html``), then runs::

    python book/_ext/printpdf.py _build/singlehtml _build/pdf/ai-china-executable-papers.pdf

It

1. writes ``print.html`` at the top of the build folder, beside ``_static/`` and ``_images/``: the
   same page without lazy image loading (the theme prints its own linked table of contents);
2. serves the build folder on 127.0.0.1 (MathJax's fonts and scripts load as on the site) and opens
   ``print.html`` in Debian's Chromium through Playwright (no browser download, offline);
3. waits until MathJax has typeset, switches to print media (``book/_static/book.css`` holds the
   ``@media print`` rules: a page break before every page of the book, tables wrapped instead of
   scrolled), and refuses to print if a table is still wider than the page, because its right-hand
   columns would be cut off on paper;
4. prints A4 with page numbers and PDF bookmarks from the headings.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import sys
import threading
import time
from collections.abc import Iterator
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
    # containers (the release workflow's) give /dev/shm 64 MB, too little for a 170-page document
    "--disable-dev-shm-usage",
]
PAGE = "book/index.html"
# Sphinx writes the single page to book/index.html (the root document is book/index) but links its
# assets as if it sat at the top of the build folder (_static/, _images/), so print it from there.
PRINT_PAGE = "print.html"
# A4 with 12 mm side margins leaves 186 mm; CSS pixels are 96 per inch.
PRINT_WIDTH_PX = round(186 / 25.4 * 96)
TABLE_PROBE = """
() => [...document.querySelectorAll('main table')].filter(t => t.offsetParent !== null).map(t => ({
  width: t.getBoundingClientRect().width,
  right: t.getBoundingClientRect().right,
  caption: (t.caption ? t.caption.textContent : t.textContent).trim().slice(0, 80),
}))
"""
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;color:#666">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


def prepare(html: str) -> tuple[str, int]:
    """Return the single page ready to print, and how many pages of the book it inlines.

    sphinx-book-theme already prints a linked table of contents (``#jb-print-toc``, the sidebar's
    parts and pages) after the title; ``book.css`` shows its second level and breaks the page after
    it. Here the images lose ``loading="lazy"``, so that every figure is loaded before printing.

    Parameters
    ----------
    html : str
        The text of ``book/index.html`` from a ``singlehtml`` build.

    Returns
    -------
    tuple of (str, int)
        The page to print, and the number of inlined pages (``document-*`` anchors).

    Raises
    ------
    ValueError
        If the page inlines no pages (it is not a ``singlehtml`` build of this book).

    Examples
    --------
    >>> page = ('<html><body><main><h1>Book</h1><div class="toctree-wrapper">'
    ...         '<span id="document-notebooks/01_x"></span><section><h2>One</h2>'
    ...         '<img src="a.png" loading="lazy"></section></div></main></body></html>')
    >>> out, n = prepare(page)
    >>> n, 'loading' in out
    (1, False)
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    anchors = soup.select('span[id^="document-"]')
    if not anchors:
        raise ValueError(
            "no inlined pages (span id='document-...') in the page: print the output of "
            "`jupyter-book build --builder singlehtml`, not of the html builder"
        )
    for img in soup.find_all("img", loading=True):
        del img["loading"]
    return str(soup), len(anchors)


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 in a thread and yield its base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def print_pdf(site: Path, output: Path, *, timeout_s: float = 180.0) -> dict[str, object]:
    """Print the ``singlehtml`` build in ``site`` to the PDF ``output``.

    Parameters
    ----------
    site : Path
        The output folder of ``jupyter-book build --builder singlehtml`` (holds ``book/index.html``).
    output : Path
        The PDF to write; its folder is created.
    timeout_s : float
        How long to wait for the page and for MathJax.

    Returns
    -------
    dict
        ``pages`` (inlined pages in the contents), ``tables`` (tables printed), ``seconds``.

    Raises
    ------
    FileNotFoundError
        If the single page or Chromium is missing.
    RuntimeError
        If MathJax reports an error or a table is wider than the printed page.
    """
    site = Path(site)
    page = site / PAGE
    if not page.is_file():
        raise FileNotFoundError(
            f"{page} does not exist: build the single-page book first "
            "(jupyter-book build . --builder singlehtml, which `make pdf` runs)"
        )
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"Chromium is not at {CHROMIUM}: run `make browser-deps`")
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    printable, pages = prepare(page.read_text(encoding="utf-8"))
    (site / PRINT_PAGE).write_text(printable, encoding="utf-8")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with serve(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": PRINT_WIDTH_PX, "height": 1100})
            tab = ctx.new_page()
            tab.set_default_timeout(timeout_s * 1000)
            tab.goto(f"{base}/{PRINT_PAGE}", wait_until="load")
            tab.evaluate(
                "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
                " { await MathJax.startup.promise; } }"
            )
            errors = tab.evaluate(
                "() => [...document.querySelectorAll('mjx-merror')].map(n => n.textContent)"
            )
            if errors:
                raise RuntimeError(f"MathJax could not typeset {len(errors)} formulas: {errors[:3]}")
            tab.emulate_media(media="print")
            tables = tab.evaluate(TABLE_PROBE)
            content_right = tab.evaluate(
                "() => document.querySelector('main').getBoundingClientRect().right"
            )
            wide = [t for t in tables if t["right"] > max(content_right, PRINT_WIDTH_PX) + 1]
            if wide:
                listing = "; ".join(f"{t['caption']!r} ({t['width']:.0f}px)" for t in wide[:5])
                raise RuntimeError(
                    f"{len(wide)} tables are wider than the printed page ({PRINT_WIDTH_PX}px) and "
                    f"would be cut off: {listing}. Adjust the @media print rules in book/_static/book.css"
                )
            tab.pdf(
                path=str(output),
                format="A4",
                print_background=True,
                margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
            )
        finally:
            browser.close()
    return {"pages": pages, "tables": len(tables), "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the singlehtml build folder")
    parser.add_argument("output", type=Path, help="the PDF to write")
    args = parser.parse_args(argv)
    try:
        info = print_pdf(args.site, args.output)
    except (FileNotFoundError, RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    size = args.output.stat().st_size / 1e6
    print(
        f"wrote {args.output} ({size:.1f} MB): {info['pages']} pages of the book, "
        f"{info['tables']} tables, printed in {info['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The printed book: one PDF with every chapter, figure and compare table, and its Chinese text.

Run by ``make browser`` after ``make pdf-quick`` (both in ``make test``): ``PDF_FILE`` names the PDF
and ``SINGLEHTML_DIR`` the single-page build it was printed from. The text is extracted with
``pdftotext`` and the images are listed with ``pdfimages`` (Debian's poppler-utils, installed by
``make browser-deps``), so the check reads what a reader's PDF viewer reads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.paths import book_chapters, build_dir

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PDF_NAME = "ai-china-executable-papers.pdf"
PDF = Path(os.environ.get("PDF_FILE", build_dir() / "pdf" / PDF_NAME))
SINGLEHTML = Path(os.environ.get("SINGLEHTML_DIR", build_dir() / "singlehtml"))
NOTEBOOKS = book_chapters(ROOT)  # the papers (the warm-up has no Chinese title)


def first_cell(notebook: Path) -> str:
    """The first Markdown cell (a chapter's first cell is its hidden install cell)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])


def titles(notebook: Path) -> tuple[str, str]:
    """(English heading, Chinese subtitle) from the chapter's first cell."""
    source = first_cell(notebook)
    english = re.search(r"^# (.+)$", source, re.MULTILINE).group(1).strip()
    chinese = re.search(r"^\*([^*\n]*[\u4e00-\u9fff][^*\n]*)\*$", source, re.MULTILINE).group(1)
    return english, chinese


def squash(text: str) -> str:
    """Drop whitespace, so that a title wrapped over two lines still matches."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pdf_text() -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run `make browser-deps` (Debian's poppler-utils)")
    if not PDF.is_file():
        pytest.fail(f"{PDF} does not exist: run `make pdf-quick` (or `make pdf` after `make book`)")
    out = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(PDF), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.fixture(scope="module")
def single_page():
    from bs4 import BeautifulSoup

    page = SINGLEHTML / "book" / "index.html"
    if not page.is_file():
        pytest.fail(f"{page} does not exist: run `make pdf-quick`")
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find("main")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_is_printed_with_its_chinese_title(pdf_text, notebook):
    english, chinese = titles(notebook)
    flat = squash(pdf_text)
    assert squash(chinese) in flat, f"the Chinese title {chinese} is not in the PDF's text"
    # the chapter starts a new sheet: its English heading (Sphinx prints typographic quotes) is the
    # first line of a page
    heading = squash(english.replace("'", "\u2019"))[:25]
    firsts = [
        squash(next((line for line in page.splitlines() if line.strip()), ""))
        for page in pdf_text.split("\f")
    ]
    assert any(first.startswith(heading) for first in firsts), f"no page starts with {english!r}"


def test_every_compare_table_is_printed_whole(pdf_text, single_page):
    compare = [
        t for t in single_page.find_all("table")
        if t.find("th", string=lambda s: s is not None and s.strip() == "Verdict")
    ]
    assert compare, "the single-page book has no compare table"
    # a compare table's header row runs from "Term"/"Published" to "Verdict": its last column is
    # printed only if the table is not cut off at the right margin (printpdf.py also refuses to
    # print a table wider than the page)
    printed = len(re.findall(r"Published.*Verdict", pdf_text))
    assert printed >= len(compare), f"{printed} compare-table headers printed, {len(compare)} in the book"


def test_every_figure_is_printed(single_page):
    images = {img["src"] for img in single_page.find_all("img") if "_images/" in img["src"]}
    out = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True, check=True)
    printed = sum(1 for line in out.stdout.splitlines()[2:] if line.split()[2] == "image")
    assert images and printed >= len(images), f"{printed} images in the PDF, {len(images)} figures"


def test_pdf_has_contents_version_and_one_sheet_per_page(pdf_text, single_page):
    assert "Contents" in pdf_text
    assert re.search(r"Version \d+\.\d+\.\d+", pdf_text)
    pages = len(single_page.select('span[id^="document-"]'))
    sheets = pdf_text.count("\f")
    assert sheets > pages, f"{sheets} sheets for {pages} pages of the book: no page breaks?"

"""The book as a course (issue 11): chapters and primers link both ways; the glossary covers the
technical terms of every chapter heading; the syllabus names every chapter.

The chapters are those of the ``Chapters`` part of ``book/_toc.yml`` (``helpers.paths.book_chapters``),
so a sixth paper is checked as soon as it is in the table of contents; ``tests/test_add_a_paper.py``
runs this file on a copy of the repository with the template added as chapter 06. The checks read
the committed sources (notebooks and MyST pages), so they run without a build.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers.paths import SLUGS, book_chapters

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = book_chapters(ROOT)
PRIMERS = sorted(p for p in (BOOK / "primers").glob("*.md") if p.stem != "index")

# section headings of the chapter template: not technical terms
GENERIC = {"setup", "data", "the twin banner", "the data are a simulated twin", "question and theory",
           "index construction from raw inputs", "baseline", "robustness and endogeneity", "mechanisms",
           "heterogeneity", "channels", "further analysis", "beyond the paper", "reading the paper critically",
           "scorecard", "runtime", "exercises", "references"}
# headings that name no technical term, with the reason
PLAIN = {
    "The printed formula against the default": "compares two versions of the DVAR formula",
    "how the effect builds up": "plain-language subtitle of the dynamic-effects section",
}
# a glossary term also matches by its head words when it ends in one of these
TAIL_WORDS = {"effect", "effects", "index", "test", "method", "degree", "decomposition", "table", "instrument",
              "estimate"}


def _markdown(nb_path: Path) -> str:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _headings(text: str) -> list[str]:
    return [m.group(2).strip() for m in re.finditer(r"^(#{1,4})\s+(.+)$", text, flags=re.M)]


def _norm(text: str) -> str:
    return re.sub(r"[\s\-–]+", " ", text.lower()).strip()


def _glossary_forms() -> set[str]:
    src = (BOOK / "glossary.md").read_text(encoding="utf-8")
    block = src.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    terms = [line.strip() for line in block.splitlines()[1:]
             if line.strip() and not line.startswith((" ", ":"))]
    forms: set[str] = set()
    for term in terms:
        base = re.sub(r"\s*\(.*?\)", "", term)
        forms |= {_norm(term), _norm(base)}
        forms |= {_norm(x) for x in re.findall(r"\((.*?)\)", term)}
        words = _norm(base).split()
        if len(words) > 1 and words[-1] in TAIL_WORDS:
            forms.add(" ".join(words[:-1]))
    return {f for f in forms if f}


def _mentions(heading: str, forms: set[str]) -> bool:
    h = _norm(heading)
    return any(re.search(rf"(?<![a-z]){re.escape(f)}s?(?![a-z])", h) for f in forms)


def _primer_links(text: str) -> set[str]:
    return set(re.findall(r"/book/primers/([a-z0-9-]+)", text))


def _chapter_links(text: str) -> set[str]:
    return set(re.findall(r"/notebooks/([0-9]{2}_[a-z0-9-]+)", text))


def test_the_course_pages_exist() -> None:
    assert CHAPTERS, "book/_toc.yml lists no chapter"
    assert [p.stem[3:] for p in CHAPTERS] == [s for s in SLUGS if s in {p.stem[3:] for p in CHAPTERS}]
    assert {p.stem[3:] for p in CHAPTERS} == set(SLUGS), "every registered paper is a chapter in the toc"
    assert len(PRIMERS) >= 8, [p.name for p in PRIMERS]


def test_every_primer_is_in_the_table_of_contents() -> None:
    toc = (BOOK / "_toc.yml").read_text(encoding="utf-8")
    assert all(f"book/primers/{p.stem}" in toc for p in PRIMERS), [p.stem for p in PRIMERS]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_primers_that_link_back(chapter: Path) -> None:
    used = _primer_links(_markdown(chapter))
    assert used, f"{chapter.name} links to no primer"
    known = {p.stem for p in PRIMERS}
    assert used <= known, f"{chapter.name} links to missing primers {sorted(used - known)}"
    for primer in sorted(used):
        back = _chapter_links((BOOK / "primers" / f"{primer}.md").read_text(encoding="utf-8"))
        assert chapter.stem in back, f"primers/{primer}.md does not link back to {chapter.stem}"


@pytest.mark.parametrize("primer", PRIMERS, ids=lambda p: p.stem)
def test_primer_links_to_chapters_that_exist(primer: Path) -> None:
    linked = _chapter_links(primer.read_text(encoding="utf-8"))
    assert linked, f"{primer.name} links to no chapter"
    assert linked <= {p.stem for p in CHAPTERS}, f"{primer.name} links to {sorted(linked)}"


def test_syllabus_links_every_chapter() -> None:
    linked = _chapter_links((BOOK / "syllabus.md").read_text(encoding="utf-8"))
    assert {p.stem for p in CHAPTERS} <= linked


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_glossary_covers_the_terms_of_every_heading(chapter: Path) -> None:
    forms = _glossary_forms()
    missing = []
    for heading in _headings(_markdown(chapter)):
        head, _, tail = heading.partition(":")
        rest = tail if tail and _norm(head) in GENERIC else heading  # "Mechanisms: Table 4" -> "Table 4"
        rest = re.sub(r"\(?tables? [0-9–-]+(, figure [0-9]+)?\)?", "", rest, flags=re.I).strip()
        if not rest or _norm(rest) in GENERIC or rest in PLAIN or heading in PLAIN:
            continue
        if not _mentions(rest, forms):
            missing.append(heading)
    assert not missing, f"{chapter.name}: headings with no glossary term: {missing}"


def test_the_glossary_check_can_fail() -> None:
    forms = _glossary_forms()
    assert _mentions("Entropy weights from 15 raw indicators", forms)  # "entropy weight method"
    assert _mentions("Shift-share exposure done right", forms)  # "shift-share (Bartik) instrument"
    assert not _mentions("Quantile regression forests", forms)


COURSE_PAGES = [*PRIMERS, BOOK / "syllabus.md", BOOK / "glossary.md", BOOK / "add-a-paper.md",
                *sorted((BOOK / "contributing").glob("*.md"))]


def _glossary_terms() -> set[str]:
    src = (BOOK / "glossary.md").read_text(encoding="utf-8")
    block = src.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    return {line.strip() for line in block.splitlines()[1:]
            if line.strip() and not line.startswith((" ", ":"))}


@pytest.mark.parametrize("page", COURSE_PAGES, ids=lambda p: p.stem)
def test_course_page_references_resolve(page: Path) -> None:
    """Every {term}, {doc} and {cite} of a course page has a target (the book build would fail
    with -W otherwise; this finds it without executing the primers)."""
    text = page.read_text(encoding="utf-8")
    terms = _glossary_terms()
    bad_terms = [t for t in re.findall(r"\{term\}`(?:[^`<]*<)?([^`>]+)>?`", text) if t not in terms]
    assert not bad_terms, f"{page.name}: glossary terms not in the glossary: {bad_terms}"
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M))
    cited = {k.strip() for group in re.findall(r"\{cite:[tp]\}`([^`]+)`", text) for k in group.split(",")}
    assert cited <= keys, f"{page.name}: unknown citation keys {sorted(cited - keys)}"
    for target in re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", text):
        base = ROOT if target.startswith("/") else page.parent
        path = (base / target.lstrip("/")).resolve()
        assert path.with_suffix(".md").is_file() or path.with_suffix(".ipynb").is_file(), \
            f"{page.name}: {{doc}} target {target!r} does not exist"


def test_bibliography_keys_and_glossary_entries_are_well_formed() -> None:
    """Sphinx warns (and -W fails the build) on a repeated bibtex key or a glossary term that
    follows a definition without a blank line; both happen easily when two branches add entries."""
    bib = (BOOK / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, flags=re.M)
    assert len(keys) == len(set(keys)), sorted({k for k in keys if keys.count(k) > 1})
    lines = (BOOK / "glossary.md").read_text(encoding="utf-8").split("```{glossary}", 1)[1] \
        .split("\n```", 1)[0].splitlines()
    glued = [line for prev, line in zip(lines, lines[1:], strict=False)
             if line.strip() and not line.startswith((" ", ":")) and prev.startswith("  ")]
    assert not glued, f"glossary terms without a blank line before them: {glued}"

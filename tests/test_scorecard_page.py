"""The scorecard page is built from the chapters' scorecard files at build time.

A tiny Sphinx project (reStructuredText, no notebooks, so each build takes about a second) uses the
book's ``scorecard`` extension; ``AICHINA_BUILD_DIR`` points at a temporary folder holding a
scorecard JSON written by ``helpers.report.write_scorecard``. The test changes the JSON between two
builds, with no source file touched, and checks that the page changes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.paths import REPO_ROOT, SLUGS
from helpers.report import SCORECARD_FIELDS, write_scorecard

EXT_DIR = REPO_ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))
import scorecard  # noqa: E402  (the Sphinx extension lives in book/_ext, not in a package)

CONF = f"""
import sys
sys.path.insert(0, {str(EXT_DIR)!r})
extensions = ["scorecard"]
scorecard_docname = "book/scorecard"
master_doc = "index"
html_theme = "basic"
"""


def _row(term: str, sign: bool, stars: bool | None, within: bool | None, truth=None, coef=0.1,
         se=0.01) -> dict:
    r = dict.fromkeys(SCORECARD_FIELDS)
    r.update(table="t3", term=term, published_coef=0.1, twin_coef=coef, twin_se=se, truth=truth,
             sign_agrees=sign, stars_agree=stars, within_tolerance=within)
    return r


def _project(tmp_path: Path, with_chapter: bool = True) -> Path:
    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    (src / "notebooks").mkdir()
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    docs = ["book/scorecard"]
    if with_chapter:
        (src / "notebooks" / "05_industry-finance-ai.rst").write_text(
            "Chapter five\n============\n\nText.\n", encoding="utf-8")
        docs.append("notebooks/05_industry-finance-ai")
    (src / "index.rst").write_text(
        "Book\n====\n\n.. toctree::\n\n" + "".join(f"   {d}\n" for d in docs), encoding="utf-8")
    (src / "book" / "scorecard.rst").write_text(
        "Scorecard\n=========\n\n.. scorecard::\n", encoding="utf-8")
    return src


def _build(src: Path, build: Path) -> str:
    out = src.parent / "html"
    env = {**os.environ, "AICHINA_BUILD_DIR": str(build)}
    res = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert res.returncode == 0, res.stderr
    return (out / "book" / "scorecard.html").read_text(encoding="utf-8")


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r,
                                                                 flags=re.S)] for r in rows]


def test_page_shows_the_scorecard_numbers_and_follows_the_file(tmp_path: Path) -> None:
    build = tmp_path / "build"
    write_scorecard("industry-finance-ai", [
        _row("DID", True, True, True, truth=0.1, coef=0.11, se=0.01),   # truth inside the CI
        _row("Size", True, False, False, truth=0.5, coef=0.11, se=0.01),  # truth far outside
        _row("Lev", False, None, None),                                 # direction only
    ], build_dir=build)
    src = _project(tmp_path)
    html = _build(src, build)
    rows = _cells(html)
    assert rows[0][:4] == ["Chapter", "Published coefficients", "Sign agrees",
                           "Stars agree"]
    assert rows[1] == ["industry-finance-ai", "3", "2/3 (67%)", "1/2 (50%)",
                       "1/2 (50%)", "1/2 (50%)", "—"]
    assert rows[2][0] == "All chapters" and rows[2][1] == "3"
    # the chapter name links to the chapter page
    assert 'href="../notebooks/05_industry-finance-ai.html"' in html

    # the chapter is executed again and writes new verdicts; nothing in the Sphinx sources changes
    write_scorecard("industry-finance-ai", [_row(t, True, True, True) for t in ("a", "b", "c", "d")],
                    build_dir=build)
    rows = _cells(_build(src, build))
    assert rows[1][:5] == ["industry-finance-ai", "4", "4/4 (100%)", "4/4 (100%)",
                           "4/4 (100%)"]
    assert rows[1][5] == "—"  # no truth in these rows


def test_page_without_scorecards_says_so_without_warning(tmp_path: Path) -> None:
    html = _build(_project(tmp_path, with_chapter=False), tmp_path / "empty-build")
    assert "No chapter has written a scorecard yet" in html
    assert "<table" not in html


def test_chapter_without_a_page_is_listed_without_a_link(tmp_path: Path) -> None:
    build = tmp_path / "build"
    write_scorecard("bigdata-innovation-fusion", [_row("Bigdata", True, True, True)],
                    build_dir=build)
    html = _build(_project(tmp_path, with_chapter=False), build)
    assert _cells(html)[1][0] == "bigdata-innovation-fusion"
    assert "bigdata-innovation-fusion.html" not in html


def test_summarize_orders_by_slugs_and_drops_unregistered() -> None:
    frame = pd.DataFrame({
        "slug": ["industry-finance-ai", "template-paper", SLUGS[0]],
        "sign_agrees": [True, True, False], "stars_agree": [None, True, True],
        "within_tolerance": [True, True, None], "truth": [None, None, None],
        "twin_coef": [0.1, 0.1, 0.1], "twin_se": [0.1, 0.1, 0.1],
    })
    out = scorecard.summarize(frame)
    assert out["slug"].tolist() == [SLUGS[0], "industry-finance-ai"]
    assert out.loc[0, "sign"] == (0, 1) and out.loc[1, "stars"] == (0, 0)


def test_scorecard_page_is_read_last_and_always_outdated() -> None:
    from types import SimpleNamespace

    app = SimpleNamespace(config=SimpleNamespace(scorecard_docname="book/scorecard"))
    names = ["book/a", "book/scorecard", "notebooks/01_x", "notebooks/02_y"]
    scorecard.read_last(app, None, names)
    assert names[-1] == "book/scorecard" and len(names) == 4
    env = SimpleNamespace(found_docs={"book/a", "book/scorecard"})
    assert scorecard._always_outdated(app, env, set(), set(), set()) == ["book/scorecard"]
    env_without = SimpleNamespace(found_docs={"book/a"})
    assert scorecard._always_outdated(app, env_without, set(), set(), set()) == []


@pytest.mark.parametrize("pair, text", [((0, 0), "—"), ((3, 4), "3/4 (75%)")])
def test_share_format(pair: tuple[int, int], text: str) -> None:
    assert scorecard._share(pair) == text

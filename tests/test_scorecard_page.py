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

import numpy as np
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


def _row(term: str, sign: bool, stars: bool | None, within: bool | None, cls="calibrated",
         p_stars=None, coverage=None, reps=None) -> dict:
    r = dict.fromkeys(SCORECARD_FIELDS)
    r.update(table="t3", column="c1", term=term, published_coef=0.1, twin_coef=0.1, twin_se=0.01,
             sign_agrees=sign, stars_agree=stars, within_tolerance=within, p_stars=p_stars,
             p_sign=None if p_stars is None else 0.9, coverage=coverage, stars_agree_reps=reps)
    r["class"] = cls
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


def _build(src: Path, build: Path, *, missing_design: int = 0) -> str:
    """Build with -W; with ``missing_design`` rows lacking the design analysis, build without -W and
    check that the page warns about exactly that many rows (the book's -W build then fails)."""
    out = src.parent / "html"
    env = {**os.environ, "AICHINA_BUILD_DIR": str(build)}
    strict = ["-W"] if missing_design == 0 else []
    res = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", *strict, "-q", str(src), str(out)],
        env=env, capture_output=True, text=True, check=False,
    )
    assert res.returncode == 0, res.stderr
    if missing_design:
        assert f"{missing_design} scored row(s) without the design analysis" in res.stderr, res.stderr
    return (out / "book" / "scorecard.html").read_text(encoding="utf-8")


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r,
                                                                 flags=re.S)] for r in rows]


def test_page_shows_the_scorecard_numbers_and_follows_the_file(tmp_path: Path) -> None:
    build = tmp_path / "build"
    reps_a = "1" * 30 + "0" * 10          # agrees in 30 of 40 replications
    reps_b = "0" * 20 + "1" * 20          # agrees in 20 of 40
    write_scorecard("industry-finance-ai", [
        _row("DID", True, True, True, p_stars=0.75, coverage=0.96, reps=reps_a),
        _row("Size", True, False, False, cls="untargeted", p_stars=0.30, coverage=0.90,
             reps=reps_b),
        _row("Lev", False, False, None, cls="target"),   # shown in the chapter, never counted
    ], build_dir=build)
    src = _project(tmp_path)
    html = _build(src, build)
    rows = _cells(html)
    assert rows[0][:5] == ["Chapter", "Rows: target / calibrated / untargeted",
                           "Sign agrees (observed)", "Sign agrees (expected)", "Stars agree (observed)"]
    # expected = mean p_stars over the two scored rows; 95 % range of the per-replication share
    # (shares: 1.0 x 20, 0.5 x 10 (reps 20-29: a=1, b=1 -> 1.0 ...)); coverage = mean 0.93
    shares = scorecard.replication_shares(pd.DataFrame(
        {"class": ["calibrated", "untargeted"], "stars_agree_reps": [reps_a, reps_b]}))
    lo, hi = (f"{100 * x:.0f}%" for x in np.percentile(shares, [2.5, 97.5]))
    assert rows[1] == ["industry-finance-ai", "1 / 1 / 1", "2/2 (100%)", "90% of 2", "1/2 (50%)",
                       f"52% [{lo}–{hi}] of 2", "93%", "1", "—"]
    assert rows[2][0] == "All chapters" and rows[2][1] == "1 / 1 / 1"
    # the chapter name links to the chapter page; the fragile row is named; the figure is there
    assert 'href="../notebooks/05_industry-finance-ai.html"' in html
    assert "t3/c1/Size reproduces its published star class with probability 0.30" in html
    assert 'src="data:image/png;base64,' in html

    # the chapter is executed again and writes new verdicts; nothing in the Sphinx sources changes
    write_scorecard("industry-finance-ai", [_row(t, True, True, True) for t in ("a", "b", "c", "d")],
                    build_dir=build)
    html = _build(src, build, missing_design=4)
    rows = _cells(html)
    assert rows[1][:6] == ["industry-finance-ai", "0 / 4 / 0", "4/4 (100%)", "—", "4/4 (100%)",
                           "— (no design analysis)"]
    assert "data:image/png" not in html and "Fragile published results" not in html


def test_replication_shares_use_scored_rows_and_nested_replications() -> None:
    f = pd.DataFrame({"class": ["calibrated", "untargeted", "target"],
                      "stars_agree_reps": ["1-10", "00", "1111"]})
    # replication 0: 1 and 0 -> 0.5; 1: '-' and 0 -> 0; 2: 1 -> 1; 3: 0 -> 0; target row ignored
    np.testing.assert_allclose(scorecard.replication_shares(f), [0.5, 0.0, 1.0, 0.0])


def test_page_without_scorecards_says_so_without_warning(tmp_path: Path) -> None:
    html = _build(_project(tmp_path, with_chapter=False), tmp_path / "empty-build")
    assert "No chapter has written a scorecard yet" in html
    assert "<table" not in html


def test_chapter_without_a_page_is_listed_without_a_link(tmp_path: Path) -> None:
    build = tmp_path / "build"
    write_scorecard("bigdata-innovation-fusion", [_row("Bigdata", True, True, True, p_stars=0.8)],
                    build_dir=build)
    html = _build(_project(tmp_path, with_chapter=False), build)
    assert _cells(html)[1][0] == "bigdata-innovation-fusion"
    assert "bigdata-innovation-fusion.html" not in html


def test_summarize_orders_by_slugs_and_drops_unregistered() -> None:
    frame = pd.DataFrame({
        "slug": ["industry-finance-ai", "template-paper", SLUGS[0]],
        "table": ["t"] * 3, "term": ["a", "b", "c"],
        "class": ["calibrated", "calibrated", "untargeted"],
        "sign_agrees": [True, True, False], "stars_agree": [None, True, True],
        "within_tolerance": [True, True, None],
    })
    out = scorecard.summarize(frame)
    assert out["slug"].tolist() == [SLUGS[0], "industry-finance-ai"]
    assert out.loc[0, "sign"] == (0, 1) and out.loc[1, "stars"] == (0, 0)
    assert np.isnan(out.loc[0, "expected"]) and out.loc[0, "fragile"] == []


def test_target_rows_never_count() -> None:
    frame = pd.DataFrame({
        "slug": ["industry-finance-ai"] * 3, "table": ["t"] * 3, "term": ["a", "b", "c"],
        "class": ["target", "target", "calibrated"], "sign_agrees": [True, True, False],
        "stars_agree": [True, True, False], "within_tolerance": [True, True, False],
        "p_stars": [0.01, 0.02, 0.9],
    })
    r = scorecard.summarize(frame).iloc[0]
    assert (r["sign"], r["stars"], r["tolerance"]) == ((0, 1), (0, 1), (0, 1))
    assert r["expected"] == pytest.approx(0.9) and r["fragile"] == []


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

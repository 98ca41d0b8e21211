"""The "Run it on your data" page is generated from the real ``data/<slug>/schema.yml`` files.

A tiny Sphinx project (MyST Markdown, ``-W -n``: no warnings allowed) holds the book's real page
``book/run-on-your-data.md``, one stub page per chapter and the book's ``yourdata`` extension. The
test checks that every schema column, every typical source field and every companion raw file of
every chapter appears on the built page, that the chapters are linked, and that the worked example
runs: ``load_panel`` with the example's ``rename=`` reads a fixture whose columns were renamed to
the source fields.
"""

from __future__ import annotations

import html as html_lib
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.paths import REPO_ROOT, SLUGS
from helpers.twins import load_panel
from helpers.twins.loader import read_schema

EXT_DIR = REPO_ROOT / "book" / "_ext"
sys.path.insert(0, str(EXT_DIR))
import yourdata  # noqa: E402  (the Sphinx extension lives in book/_ext, not in a package)

CONF = f"""
import sys
sys.path.insert(0, {str(EXT_DIR)!r})
extensions = ["myst_parser", "yourdata"]
master_doc = "index"
html_theme = "basic"
nitpicky = True
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    src = tmp_path_factory.mktemp("site") / "src"
    (src / "book").mkdir(parents=True)
    (src / "notebooks").mkdir()
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    docs = ["book/run-on-your-data"]
    for i, slug in enumerate(SLUGS, start=1):
        (src / "notebooks" / f"0{i}_{slug}.md").write_text(f"# Chapter {i}\n\nText.\n", encoding="utf-8")
        docs.append(f"notebooks/0{i}_{slug}")
    (src / "index.md").write_text("# Book\n\n```{toctree}\n" + "\n".join(docs) + "\n```\n", encoding="utf-8")
    page_md = (REPO_ROOT / "book" / "run-on-your-data.md").read_text(encoding="utf-8")
    (src / "book" / "run-on-your-data.md").write_text(page_md, encoding="utf-8")
    out = src.parent / "html"
    res = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "-q", str(src), str(out)],
                         env={**os.environ}, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return html_lib.unescape((out / "book" / "run-on-your-data.html").read_text(encoding="utf-8"))


def _codes(html: str) -> set[str]:
    return {re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<code[^>]*>(.*?)</code>", html, flags=re.S)}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_schema_column_source_field_and_companion_is_on_the_page(page: str, slug: str) -> None:
    sch = read_schema(slug)
    codes = _codes(page)
    assert f"data/{slug}/schema.yml" in codes
    for col, sp in sch["columns"].items():
        assert col in codes, (slug, col)
        for field in sp["source_fields"]:
            assert field in codes, (slug, col, field)
    assert sch["companions"], slug
    for name, sp in sch["companions"].items():
        plain = page.replace("\u2019", "'").replace("\u2018", "'").replace("\u2026", "...")  # smartquotes
        assert name in codes and sp["builds"] in plain, (slug, name)
        assert all(str(c) in codes for c in sp["columns"]), (slug, name)
    assert f'load_panel(\n    "{slug}",' in re.sub(r"<[^>]+>", "", page)  # the worked example


def test_page_has_one_table_pair_per_chapter_and_links_them(page: str) -> None:
    assert page.count('class="yourdata-columns') == len(SLUGS)
    assert page.count('class="yourdata-companions') == len(SLUGS)
    for i, slug in enumerate(SLUGS, start=1):
        assert f'href="../notebooks/0{i}_{slug}.html"' in page
    # the range and type cells come from the schema: FI is a share, city codes have 6 digits
    assert "[0, 1]" in page and "str (6 digits)" in page


@pytest.mark.parametrize("slug", ["ai-new-quality-productivity", "industry-finance-ai"])
def test_worked_example_rename_reads_a_file_with_the_source_names(slug: str, tmp_path: Path) -> None:
    code = yourdata.example_code(slug, read_schema(slug))
    pairs = dict(re.findall(r'^\s+"([^"]+)": "([^"]+)",$', code, flags=re.M))
    assert pairs  # rename= maps source fields to schema columns
    raw = pd.read_csv(REPO_ROOT / "tests" / "fixtures" / f"{slug}_sample.csv", dtype=str)
    exported = raw.rename(columns={new: old for old, new in pairs.items() if new in raw.columns})
    path = tmp_path / "my_export.csv"
    path.write_bytes(exported.to_csv(index=False).encode("gbk"))
    df = load_panel(slug, path, rename={old: new for old, new in pairs.items() if old in exported.columns})
    assert set(read_schema(slug)["keys"]) <= set(df.columns) and len(df) == len(raw)

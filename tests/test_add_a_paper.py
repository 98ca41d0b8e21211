"""Adding a paper works: the template, filled in as chapter 06 in a copy of the repository, passes
the chapter, link and glossary checks that ``make test`` runs (issue 25, item 10).

The test copies what those checks read (``book/``, ``notebooks/``, ``src/helpers/``, the template
and the two test files) to a temporary folder, follows the steps of ``book/add-a-paper.md`` there
(copy the notebook, register the slug, add the chapter to the table of contents and the syllabus,
link the primers back) and runs ``tests/test_course_links.py`` and ``tests/test_notebooks_clean.py``
in a fresh interpreter with ``AICHINA_ROOT`` pointing at the copy. A run before the primers link
back must fail, so the checks can see a sixth chapter. The template's execution is
``tests/test_template.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT

SLUG = "template-paper"
CHAPTER = f"06_{SLUG}"
CHECKS = ("test_course_links.py", "test_notebooks_clean.py")
TITLE = "# AI adoption and firm outcomes: a difference-in-differences design"


def _copy_repo(dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_build", ".ipynb_checkpoints")
    for sub in ("book", "notebooks", "src/helpers", "templates/chapter"):
        shutil.copytree(REPO_ROOT / sub, dst / sub, ignore=ignore)
    (dst / "tests").mkdir()
    for name in CHECKS:
        shutil.copy(REPO_ROOT / "tests" / name, dst / "tests" / name)


def _run_checks(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AICHINA_ROOT": str(root), "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-o", "addopts=",
         *(str(root / "tests" / n) for n in CHECKS)],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def _primers_linked(nb: dict) -> list[str]:
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return sorted(set(re.findall(r"/book/primers/([a-z0-9-]+)", text)))


@pytest.fixture(scope="module")
def sixth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    _copy_repo(root)
    # step 2: copy the template notebook (filled in: the paper's title replaces the placeholder)
    nb = json.loads((root / "templates/chapter/NN_template.ipynb").read_text(encoding="utf-8"))
    first = "".join(nb["cells"][0]["source"]).split("\n", 1)
    nb["cells"][0]["source"] = TITLE + "\n" + first[1]
    (root / "notebooks" / f"{CHAPTER}.ipynb").write_text(json.dumps(nb, ensure_ascii=False, indent=1),
                                                          encoding="utf-8")
    # step 3: register the slug
    paths = root / "src/helpers/paths.py"
    text = paths.read_text(encoding="utf-8")
    paths.write_text(text.replace('    "industry-finance-ai",\n)', f'    "industry-finance-ai",\n    "{SLUG}",\n)'),
                     encoding="utf-8")
    # step 6: the table of contents and the syllabus
    toc = root / "book/_toc.yml"
    text = toc.read_text(encoding="utf-8")
    last = "      - file: notebooks/05_industry-finance-ai\n"
    assert last in text
    toc.write_text(text.replace(last, last + f"      - file: notebooks/{CHAPTER}\n"), encoding="utf-8")
    with (root / "book/syllabus.md").open("a", encoding="utf-8") as fh:
        fh.write(f"\nExtra week: {{doc}}`/notebooks/{CHAPTER}`.\n")
    return root


def test_a_sixth_chapter_without_primer_back_links_fails(sixth: Path) -> None:
    run = _run_checks(sixth)
    assert run.returncode != 0
    assert f"does not link back to {CHAPTER}" in run.stdout, run.stdout[-3000:]


def test_a_sixth_chapter_from_the_template_passes_the_checks(sixth: Path) -> None:
    nb = json.loads((sixth / "notebooks" / f"{CHAPTER}.ipynb").read_text(encoding="utf-8"))
    primers = _primers_linked(nb)
    assert primers, "the template links no primer"
    for primer in primers:  # step 4: each primer the chapter uses links back to it
        with (sixth / "book/primers" / f"{primer}.md").open("a", encoding="utf-8") as fh:
            fh.write(f"\nUsed in {{doc}}`/notebooks/{CHAPTER}`.\n")
    run = _run_checks(sixth)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    passed = run.stdout.count(f"[{CHAPTER}")
    assert passed >= 2, run.stdout[-3000:]  # the chapter's link and glossary checks ran

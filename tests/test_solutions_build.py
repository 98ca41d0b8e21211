"""The instructor build (``SOLUTIONS=0``, ``make book-instructor``) has no solution text.

A small Sphinx site with the book's extensions for MyST and toggles (a page with an exercise whose
solution sits in a ``{toggle}``, and a toggle that is not a solution) is built twice, with and
without solutions, and the HTML is grepped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO_ROOT

PAGE = """# Exercises

1. What is two plus two?

```{toggle}
**Solution.** SECRET-ANSWER-FOUR, because arithmetic.
```

```{toggle}
A long table that is only folded: KEEP-THIS-TEXT.
```

2. And three plus three (a chapter converted for JupyterLab folds its solutions in a dropdown)?

```{dropdown} Solutions
**Solutions.** SECRET-ANSWER-SIX.
```

```{dropdown} Details
A dropdown that is not a solution: KEEP-THIS-TOO.
```
"""
CONF = f"""
import sys
sys.path.insert(0, {str(REPO_ROOT / "book" / "_ext")!r})
extensions = ["myst_parser", "sphinx_togglebutton", "sphinx_design", "solutions"]
myst_enable_extensions = ["colon_fence"]
"""


def _build(tmp: Path, solutions: str) -> str:
    src, out = tmp / "src", tmp / "html"  # one output folder: the second build reuses the environment
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.md").write_text(PAGE, encoding="utf-8")
    env = {**os.environ, "SOLUTIONS": solutions}
    run = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(src), str(out)],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return (out / "index.html").read_text(encoding="utf-8")


def test_instructor_build_withholds_solutions(tmp_path: Path) -> None:
    with_solutions = _build(tmp_path, "1")
    assert "SECRET-ANSWER-FOUR" in with_solutions and "KEEP-THIS-TEXT" in with_solutions
    assert "SECRET-ANSWER-SIX" in with_solutions and "KEEP-THIS-TOO" in with_solutions
    without = _build(tmp_path, "0")  # the "env" config value forces a full rebuild
    assert "SECRET-ANSWER-FOUR" not in without and "Solution." not in without
    assert "SECRET-ANSWER-SIX" not in without and "Solutions." not in without
    assert "KEEP-THIS-TEXT" in without and "KEEP-THIS-TOO" in without
    assert without.count("withheld in this edition") == 2


def test_every_solution_in_the_course_pages_is_a_toggle_the_build_can_strip() -> None:
    """A solution written outside a toggle would leak into the instructor build."""
    import json
    import re

    pages = [*(REPO_ROOT / "book" / "primers").glob("*.md"), REPO_ROOT / "book" / "syllabus.md",
             *(REPO_ROOT / "notebooks").glob("*.ipynb")]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if page.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                             if c["cell_type"] == "markdown")
        outside = re.sub(r"```\{(toggle|dropdown)\}.*?```", "", text, flags=re.S)
        assert "**Solution" not in outside, (
            f"{page.name}: a solution outside a {{toggle}} or {{dropdown}} block")

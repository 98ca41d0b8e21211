"""Reading the book outside the site: the install cell, glue for {eval}, the converter, Binder's file.

The site side of these (the {eval} role, the executed download, the theme) is checked on the built
book by ``tests/browser``; a downloaded chapter run in a fresh environment by ``tests/test_launch.py``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import book
from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
sys.path.insert(0, str(REPO_ROOT / "book" / "_ext"))
import evalglue
import reading

WARM_UP = REPO_ROOT / "notebooks" / "00_warm-up.ipynb"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# --- the install cell -----------------------------------------------------------------------------


def test_warm_up_starts_with_the_hidden_install_cell() -> None:
    first = _cells(WARM_UP)[0]
    assert first["cell_type"] == "code"
    assert "".join(first["source"]) == book.INSTALL_CELL
    assert "remove-cell" in first["metadata"].get("tags", [])


def _run_install_cell(monkeypatch: pytest.MonkeyPatch, helpers_found: bool) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append(cmd))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if helpers_found or name != "helpers" else None))
    exec(compile(book.INSTALL_CELL, "install-cell", "exec"), {})
    return calls


def test_install_cell_does_nothing_where_helpers_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run_install_cell(monkeypatch, helpers_found=True) == []


def test_install_cell_installs_the_package_where_helpers_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AICHINA_INSTALL_SPEC", raising=False)
    [cmd] = _run_install_cell(monkeypatch, helpers_found=False)
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"] and cmd[-1] == book.INSTALL_SOURCE
    monkeypatch.setenv("AICHINA_INSTALL_SPEC", "/wheels/ai_china.whl")
    [cmd] = _run_install_cell(monkeypatch, helpers_found=False)
    assert cmd[-1] == "/wheels/ai_china.whl"


# --- glue that JupyterLab's {eval} can read --------------------------------------------------------


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_glue_binds_a_kernel_variable(shell) -> None:
    assert book.glue("beta_pct", 8.3) is None  # no echo when it ends a cell
    assert shell.user_ns["beta_pct"] == 8.3
    shell.user_ns["beta"] = 0.5
    book.glue("beta", 0.5)  # the same number again is fine
    with pytest.raises(ValueError, match="already has a variable 'beta'"):
        book.glue("beta", 0.7)
    with pytest.raises(ValueError, match="not a Python identifier"):
        book.glue("coef-lnAI", 1.0)


def test_glue_stores_numpy_scalars_as_numbers_the_site_can_format(shell) -> None:
    import numpy as np
    from IPython.core.formatters import format_display_data

    book.glue("share", np.float64(0.125))
    value = shell.user_ns["share"]
    assert type(value) is float and value == 0.125
    # what myst-nb pastes is the text/plain of the value: a number, not "np.float64(0.125)"
    assert format_display_data(value)[0]["text/plain"] == "0.125"


# --- the site's {eval} role -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "parts"),
    [
        ("n_states", [("glue", "n_states", None)]),
        ('f"{beta:.4f}"', [("glue", "beta", ".4f")]),
        ("f'{a:,.0f} of {b}'", [("glue", "a", ",.0f"), ("text", " of ", None), ("glue", "b", None)]),
    ],
)
def test_eval_expressions_the_site_can_show(expr: str, parts: list) -> None:
    assert evalglue._parse_eval(expr) == parts


@pytest.mark.parametrize("expr", ["beta * 100", 'f"{beta * 100:.1f}"', 'f"{beta!r}"', 'f"{d[0]}"', "1 +"])
def test_eval_expressions_the_site_refuses(expr: str) -> None:
    with pytest.raises(ValueError, match="glued name or an f-string of glued names"):
        evalglue._parse_eval(expr)


def test_every_eval_in_the_book_is_one_the_site_can_show() -> None:
    """Every {eval} of the chapters, primers and pages parses as the site's role needs (a glued name or
    an f-string of glued names), so a computed expression fails here in seconds, not in the book build."""
    import re

    role = re.compile(r"\{eval\}`([^`]+)`")
    sources = [*sorted((REPO_ROOT / "notebooks").glob("*.ipynb")), *sorted((REPO_ROOT / "book").rglob("*.md"))]
    bad, seen = [], 0
    for path in sources:
        if "_build" in path.parts:
            continue
        if path.suffix == ".ipynb":
            texts = ["".join(c["source"]) for c in _cells(path) if c["cell_type"] == "markdown"]
        else:
            texts = [path.read_text(encoding="utf-8")]
        for text in texts:
            for expr in role.findall(text):
                seen += 1
                try:
                    evalglue._parse_eval(expr)
                except ValueError:
                    bad.append(f"{path.relative_to(REPO_ROOT)}: {{eval}}`{expr}`")
    assert seen > 100, seen  # the chapters use hundreds
    assert not bad, "\n".join(bad)


# --- the converter --------------------------------------------------------------------------------


def _nb() -> dict:
    code = lambda s, **m: {"cell_type": "code", "metadata": m, "outputs": [],  # noqa: E731
                           "execution_count": None, "source": s}
    md = lambda s: {"cell_type": "markdown", "metadata": {}, "source": s}  # noqa: E731
    return {"cells": [
        md("# Title\n"),
        code("import numpy as np\nfrom myst_nb import glue\n\nfrom helpers.plotting import use_book_style\n"),
        code('fig, ax = plt.subplots()\nglue("fig_a", fig, display=False)\nplt.close(fig)\n'
             'glue("n", 3, display=False)\nfor s in "ab":\n    glue(f"x_{s}", 1, display=False)\n'),
        md("```{glue:figure} fig_a\n:name: fig-a\n:alt: A line.\n\nThe caption, {cite:t}`k`.\n```\n\n"
           "Then n = {glue:}`n`, {glue:text}`n:.1f` and {glue:text}`other::n`.\n"),
        md("```{glue:figure} fig_b\n:figwidth: 50%\n\nB.\n```\n"),
        md("## Exercises\n\n```{toggle}\nAnswer.\n```\n"),
    ]}


def test_converter_rewrites_a_chapter_and_lists_what_it_leaves() -> None:
    nb = _nb()
    report = reading.convert(nb)
    src = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]
    assert src[0] == book.INSTALL_CELL and nb["cells"][0]["metadata"]["tags"] == ["remove-cell"]
    assert "from myst_nb" not in src[2] and "from helpers.book import glue\nfrom helpers.plotting" in src[2]
    assert 'glue("fig_a", fig, display=True)' in src[3]
    assert nb["cells"][3]["metadata"]["mystnb"] == {
        "figure": {"caption": "The caption, {cite:t}`k`.", "name": "fig-a"},
        "image": {"alt": "A line."},
    }
    assert src[4].startswith("Then n = {eval}`n`, {eval}`f\"{n:.1f}\"` and {glue:text}`other::n`")
    assert "{glue:figure} fig_b" in src[5]  # an option the cell metadata cannot carry: kept
    assert "```{dropdown} Solutions\nAnswer.\n```" in src[6]
    left = "\n".join(report.left)
    assert "other::n" in left and "fig_b" in left and 'f"x_{s}"' in left
    assert reading.convert(nb).changed == []  # idempotent


# --- Binder's environment file --------------------------------------------------------------------


def _pip_section(text: str) -> list[str]:
    deps = yaml.safe_load(text)["dependencies"]
    [pip] = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    return pip


def _parse_with_pip(lines: list[str], folder: Path) -> list[str]:
    """Parse ``lines`` as pip parses the requirements file conda writes for them."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    req = folder / "condaenv.requirements.txt"
    req.write_text("\n".join(lines) + "\n")
    return [r.requirement for r in parse_requirements(str(req), session=PipSession())]


def test_environment_file_is_valid_for_conda_and_pip() -> None:
    text = (REPO_ROOT / "environment.yml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert "python=3.11" in doc["dependencies"]
    reqs = _parse_with_pip(_pip_section(text), REPO_ROOT)
    assert any(r.startswith("jupyter-book==") for r in reqs) and len(reqs) > 100


def test_environment_check_rejects_an_option_in_the_pip_section(tmp_path: Path) -> None:
    from pip._internal.exceptions import RequirementsFileParseError

    (tmp_path / "requirements.lock").write_text("pyyaml==6.0.2\n")
    old = "dependencies:\n  - pip:\n      - -r requirements.lock\n      - --no-deps\n"
    with pytest.raises(RequirementsFileParseError):
        _parse_with_pip(_pip_section(old), tmp_path)

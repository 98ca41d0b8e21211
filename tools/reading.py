"""Convert a chapter notebook so that it reads the same on the site, in JupyterLab, Colab and Binder.

Run once per chapter (idempotent; a second run changes nothing)::

    python tools/reading.py notebooks/01_bigdata-innovation-fusion.ipynb          # rewrite in place
    python tools/reading.py --check notebooks/*.ipynb                             # list what is left
    python tools/reading.py book/primers/*.md        # MyST text notebooks: glue import and roles only

What it does to a notebook:

1. **Install cell.** Inserts :data:`helpers.book.INSTALL_CELL` as the first cell, tagged ``remove-cell``
   (hidden on the site, kept in the downloaded notebook); it installs the book's package only where
   ``helpers`` does not import (Colab, a downloaded notebook). An older copy is replaced.
2. **Glue.** ``from myst_nb import glue`` becomes ``from helpers.book import glue``, which also binds
   each glued value to a kernel variable of the same name.
3. **Numbers in prose.** ``{glue:text}`key:.3f``` becomes ``{eval}`f"{key:.3f}"```, and
   ``{glue}`key``` / ``{glue:}`key``` / ``{glue:text}`key``` become ``{eval}`key```; jupyterlab-myst
   evaluates them in the kernel, the site pastes the glued value (``book/_ext/evalglue.py``).
4. **Figures.** A ``{glue:figure} key`` block whose figure is glued in the same notebook with
   ``glue("key", fig, display=False)`` is removed from the prose; the glue call shows the figure in
   its code cell (``display=False`` dropped) and the caption, ``:name:`` and ``:alt:`` move to that
   cell's ``mystnb`` metadata, so myst-nb renders the output as the same numbered figure and
   JupyterLab shows it where the code makes it.
5. **Solutions.** A ``{toggle}`` block becomes a ``{dropdown}`` (folded on the site by sphinx-design
   and in JupyterLab by jupyterlab-myst).

Anything it cannot convert safely (a glue key that is not a literal identifier, a cross-notebook
``doc::key`` reference, a figure directive with other options, a figure glued in a cell that does
not close it) is left as it is and listed; fix those by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from helpers.book import INSTALL_CELL  # noqa: E402

INSTALL_TAG = "remove-cell"
INSTALL_MARK = "# Setup: run this cell first."
ROLE = re.compile(r"\{glue(?::(?P<kind>text|any)?)?\}`(?P<body>[^`]+)`")
FIG_GLUE = re.compile(
    r"""^(?P<indent>[ \t]*)glue\(\s*(?P<q>["'])(?P<key>[A-Za-z_]\w*)(?P=q)\s*,\s*(?P<obj>[\w.]+)\s*,"""
    r"""\s*display\s*=\s*False\s*\)[ \t]*$""",
    re.M,
)
FIG_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{glue:figure\}[ \t]+(?P<key>\S+)[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*\n?",
    re.M | re.S,
)
TOGGLE_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{toggle\}[ \t]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
IDENT = re.compile(r"[A-Za-z_]\w*")


@dataclass
class Report:
    """What :func:`convert` changed and what it left for a person."""

    changed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _set_src(cell: dict, text: str) -> None:
    cell["source"] = text.splitlines(keepends=True)


def _eval_role(match: re.Match, report: Report) -> str:
    body = match.group("body").strip()
    if "::" in body:
        report.left.append(f"cross-notebook reference kept: {match.group(0)}")
        return match.group(0)
    key, _, spec = body.partition(":")
    if not IDENT.fullmatch(key):
        report.left.append(f"glue key is not an identifier, kept: {match.group(0)}")
        return match.group(0)
    if match.group("kind") in (None, "any", "text") and not spec:
        return f"{{eval}}`{key}`"
    return f'{{eval}}`f"{{{key}:{spec}}}"`'


def _figure_options(body: str) -> tuple[dict[str, str], str]:
    """Split a directive body into its ``:option: value`` lines and the caption."""
    lines = body.splitlines()
    options: dict[str, str] = {}
    i = 0
    while i < len(lines) and (m := re.match(r"^:([\w-]+):\s*(.*)$", lines[i])):
        options[m.group(1)] = m.group(2).strip()
        i += 1
    return options, "\n".join(lines[i:]).strip()


def convert(nb: dict) -> Report:
    """Convert ``nb`` (a notebook as parsed JSON) in place and return what was done and left.

    Examples
    --------
    >>> nb = {"cells": [
    ...     {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
    ...      "source": "from myst_nb import glue\\nglue('b', 0.5, display=False)\\n"},
    ...     {"cell_type": "markdown", "metadata": {}, "source": "b is {glue:text}`b:.2f`."}]}
    >>> r = convert(nb)
    >>> _src(nb["cells"][0]).startswith(INSTALL_MARK), _src(nb["cells"][2])
    (True, 'b is {eval}`f"{b:.2f}"`.')
    >>> convert(nb).changed
    []
    """
    report = Report()
    cells = nb["cells"]

    # 1. the install cell, first
    old = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and _src(c).startswith(INSTALL_MARK)]
    if old and _src(cells[old[0]]) == INSTALL_CELL and old == [0]:
        pass
    else:
        for i in reversed(old):
            del cells[i]
        cells.insert(0, {"cell_type": "code", "execution_count": None, "id": "install-helpers",
                         "metadata": {"tags": [INSTALL_TAG]}, "outputs": [], "source": []})
        _set_src(cells[0], INSTALL_CELL)
        report.changed.append("install cell inserted as the first cell (tagged remove-cell)")

    # 2. glue import
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        text = _src(cell)
        new = text
        if re.search(r"^from myst_nb import glue[ \t]*$", text, flags=re.M):
            first_helpers = re.search(r"^from helpers\.\w+ import", text, flags=re.M)
            if first_helpers:  # keep the import block sorted (ruff's isort): first-party group
                new = re.sub(r"^from myst_nb import glue[ \t]*\n", "", text, flags=re.M)
                at = re.search(r"^from helpers\.\w+ import", new, flags=re.M).start()
                new = new[:at] + "from helpers.book import glue\n" + new[at:]
            else:
                new = re.sub(r"^from myst_nb import glue[ \t]*$", "from helpers.book import glue",
                             text, flags=re.M)
                report.left.append("run `ruff check --fix --select I` on the notebook (imports)")
        if new != text:
            _set_src(cell, new)
            report.changed.append("glue imported from helpers.book")

    # 4. figures: map glued figure keys to their code cells
    fig_cells: dict[str, int] = {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            for m in FIG_GLUE.finditer(_src(cell)):
                fig_cells.setdefault(m.group("key"), i)
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = _src(cell)

        def move_figure(m: re.Match, cell: dict = cell) -> str:
            key = m.group("key")
            options, caption = _figure_options(m.group("body"))
            unknown = set(options) - {"name", "alt"}
            if key not in fig_cells or unknown:
                why = f"options {sorted(unknown)}" if unknown else "no glue(..., display=False) call"
                report.left.append(f"figure {key!r} kept as {{glue:figure}} ({why})")
                return m.group(0)
            code = cells[fig_cells[key]]
            meta = code.setdefault("metadata", {}).setdefault("mystnb", {})
            meta["figure"] = {"caption": caption, **({"name": options["name"]} if "name" in options else {})}
            if "alt" in options:
                meta["image"] = {"alt": options["alt"]}
            src = _src(code)
            src = re.sub(
                rf"""^([ \t]*)glue\(\s*(["']){key}\2\s*,\s*([\w.]+)\s*,\s*display\s*=\s*False\s*\)""",
                rf'\1glue("{key}", \3, display=True)', src, flags=re.M)
            _set_src(code, src)
            report.changed.append(f"figure {key!r} shown in its code cell, caption in cell metadata")
            return ""

        new = FIG_BLOCK.sub(move_figure, text)
        # 3. numbers in prose
        new = ROLE.sub(lambda m: _eval_role(m, report), new)
        # 5. solutions
        new = TOGGLE_BLOCK.sub(lambda m: f"{m.group('fence')}{{dropdown}} Solutions\n"
                               f"{m.group('body')}{m.group('fence')}", new)
        if new != text:
            roles = len(ROLE.findall(text)) - len(ROLE.findall(new))
            if roles:
                report.changed.append(f"{roles} glue role(s) -> {{eval}}")
            if len(TOGGLE_BLOCK.findall(text)) > len(TOGGLE_BLOCK.findall(new)):
                report.changed.append("solutions toggle -> dropdown")
            _set_src(cell, new.strip("\n") + ("\n" if new.endswith("\n") and new.strip() else ""))
            if not _src(cell).strip():
                cell["source"] = []
    # drop markdown cells the figure move emptied
    nb["cells"] = [c for c in cells if not (c["cell_type"] == "markdown" and not _src(c).strip())]
    # 6. a glue key that is also a variable: helpers.book.glue binds the key as a kernel variable,
    # which would overwrite the notebook's own (or be overwritten by it); rename the key
    for key in sorted(_glue_keys_assigned(nb)):
        _rename_key(nb, key, _free_name(nb, f"{key}_shown"))
        report.changed.append(f"glue key {key!r} (also a variable) renamed {key}_shown")
    for m in re.finditer(r"glue\(\s*(f?[\"'][^\"']*[\"']|\w+)", "\n".join(
            _src(c) for c in nb["cells"] if c["cell_type"] == "code")):
        key = m.group(1)
        if not re.fullmatch(r"[\"'][A-Za-z_]\w*[\"']", key):
            report.left.append(f"glue key {key} is not a literal identifier: the prose cannot "
                               "{eval} it in JupyterLab; glue each value under its own name")
    return report


def _free_name(nb: dict, name: str) -> str:
    """``name``, or ``name`` with a number appended, whichever the notebook does not use yet."""
    text = "\n".join(_src(c) for c in nb["cells"])
    out, k = name, 1
    while re.search(rf"\b{re.escape(out)}\b", text):
        k += 1
        out = f"{name}{k}"
    return out


def _rename_key(nb: dict, key: str, new: str) -> None:
    r"""Rename glue key ``key`` to ``new`` in the notebook's glue calls and its prose's ``{eval}`` roles.

    Examples
    --------
    >>> nb = {"cells": [
    ...     {"cell_type": "code", "source": "b = 2\nglue('b', b)\nglue(\"bb\", 3)\n"},
    ...     {"cell_type": "markdown", "source": 'b is {eval}`f"{b:.2f}"`, bb is {eval}`bb`; b stays.'}]}
    >>> _rename_key(nb, "b", "b_shown")
    >>> _src(nb["cells"][0])
    'b = 2\nglue("b_shown", b)\nglue("bb", 3)\n'
    >>> _src(nb["cells"][1])
    'b is {eval}`f"{b_shown:.2f}"`, bb is {eval}`bb`; b stays.'
    """
    word = re.compile(rf"(?<![\w.]){re.escape(key)}\b")
    for cell in nb["cells"]:
        text = _src(cell)
        if cell["cell_type"] == "code":
            new_text = re.sub(rf"""glue\(\s*(["']){re.escape(key)}\1""", f'glue("{new}"', text)
        elif cell["cell_type"] == "markdown":
            new_text = re.sub(r"\{eval\}`[^`]+`", lambda m: word.sub(new, m.group(0)), text)
        else:
            continue
        if new_text != text:
            _set_src(cell, new_text)


CODE_CELL = re.compile(r"^(?P<fence>`{3,})\{code-cell\}.*?^(?P=fence)[ \t]*$", re.M | re.S)


def convert_myst(text: str) -> tuple[str, Report]:
    r"""Convert a MyST markdown notebook (``.md`` with ``{code-cell}`` blocks): glue import and roles.

    Figures stay ``{glue:figure}`` (their options would have to move into the code cell's YAML
    header); they are listed in the report.

    Examples
    --------
    >>> md = "```{code-cell} ipython3\nfrom myst_nb import glue\n```\nIt is {glue:text}`x:.2f`.\n"
    >>> convert_myst(md)[0]
    '```{code-cell} ipython3\nfrom helpers.book import glue\n```\nIt is {eval}`f"{x:.2f}"`.\n'
    """
    report = Report()
    out, last = [], 0
    for m in CODE_CELL.finditer(text):
        prose = text[last:m.start()]
        new_prose = ROLE.sub(lambda r: _eval_role(r, report), prose)
        if new_prose != prose:
            report.changed.append(f"{len(ROLE.findall(prose)) - len(ROLE.findall(new_prose))} glue role(s) -> {{eval}}")
        code = m.group(0)
        new_code = re.sub(r"^from myst_nb import glue[ \t]*$", "from helpers.book import glue", code, flags=re.M)
        if new_code != code:
            report.changed.append("glue imported from helpers.book")
        out += [new_prose, new_code]
        last = m.end()
    tail = text[last:]
    new_tail = ROLE.sub(lambda r: _eval_role(r, report), tail)
    if new_tail != tail:
        report.changed.append(f"{len(ROLE.findall(tail)) - len(ROLE.findall(new_tail))} glue role(s) -> {{eval}}")
    out.append(new_tail)
    for fig in FIG_BLOCK.finditer(text):
        report.left.append(f"figure {fig.group('key')!r} kept as {{glue:figure}} (MyST text notebook)")
    return "".join(out), report


def _glue_keys_assigned(nb: dict) -> set[str]:
    """Literal glue keys that the notebook's code also assigns as variables."""
    import ast

    code = "\n".join(re.sub(r"^\s*[!%].*$", "", _src(c), flags=re.M)
                     for c in nb["cells"] if c["cell_type"] == "code")
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    keys = {n.args[0].value for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "glue" and n.args
            and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str)}
    return keys & assigned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report only; change no file")
    args = parser.parse_args(argv)
    pending = 0
    for path in args.notebooks:
        if path.suffix == ".md":
            new_text, report = convert_myst(path.read_text(encoding="utf-8"))
            nb = None
        else:
            nb = json.loads(path.read_text(encoding="utf-8"))
            report = convert(nb)
        print(f"{path}:")
        counts: dict[str, int] = {}
        for line in report.changed:
            counts[line] = counts.get(line, 0) + 1
        for line, n in counts.items():
            times = f" (x{n})" if n > 1 else ""
            print(f"  {'would change' if args.check else 'changed'}: {line}{times}")
        for line in report.left:
            print(f"  left for a person: {line}")
        if not report.changed and not report.left:
            print("  nothing to do")
        pending += bool(report.changed)
        if report.changed and not args.check:
            if nb is None:
                path.write_text(new_text, encoding="utf-8")
            else:
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if args.check and pending else 0


if __name__ == "__main__":
    sys.exit(main())

"""The replication scorecard: a ``{scorecard}`` directive whose table is built from the chapters.

Every chapter writes the verdicts of its compare tables to ``<build folder>/scorecards/<slug>.json``
(:func:`helpers.report.write_scorecard`; ``BUILD_DIR`` is ``_build`` or ``$AICHINA_BUILD_DIR``). The
directive reads those files with :func:`helpers.report.read_scorecards` and emits one table row per
chapter: published coefficients, how many agree in sign, in significance class and within tolerance,
how many true parameters the twin recovers, the chapter's run time, and a link to the chapter.

Two event handlers make the numbers current on every build:

* ``env-get-outdated`` returns the scorecard page always, so that it is read again on every build
  (a cached chapter does not rewrite its scorecard file, but the file stays in the build folder);
* ``env-before-read-docs`` moves the scorecard page to the end of the reading order, so that it is
  read after every chapter has been executed and has written its scorecard. Sphinx reads documents
  in sorted order, and ``book/scorecard`` would otherwise come before ``notebooks/...``.

Run times come from myst-nb's execution metadata (the same numbers as the ``nb-exec-table`` on the
run-times page: the time of the last real execution, also for a chapter taken from the cache).

Configuration (``sphinx: config:`` in ``book/_config.yml``): ``scorecard_docname`` (default
``"book/scorecard"``) and ``scorecard_build_dir`` (default: ``$AICHINA_BUILD_DIR`` or
``helpers.paths.build_dir()``).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

HEADERS = (
    "Chapter",
    "Published coefficients",
    "Sign agrees",
    "Stars agree",
    "Within tolerance",
    "Truth recovered",
    "Run time (s)",
)
Z_95 = 1.959963984540054
"""Normal quantile for the 95 % interval used by the truth-recovered count."""


def build_dir(app: Sphinx) -> Path:
    """The folder that holds ``scorecards/``: config value, then :func:`helpers.paths.build_dir`."""
    if app.config.scorecard_build_dir:
        return Path(app.config.scorecard_build_dir)
    from helpers.paths import build_dir as helpers_build_dir

    return helpers_build_dir()  # $AICHINA_BUILD_DIR, else _build (_build/quick in quick mode)


def _count(values: pd.Series) -> tuple[int, int]:
    """(number True, number of applicable rows): ``None``/NaN rows are not applicable."""
    known = [bool(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(known), len(known)


def _truth_recovered(rows: pd.DataFrame) -> tuple[int, int]:
    """Rows whose true parameter lies in the twin's 95 % interval, out of rows that carry a truth."""
    if "truth" not in rows or "twin_coef" not in rows or "twin_se" not in rows:
        return 0, 0
    sub = rows.dropna(subset=["truth", "twin_coef", "twin_se"])
    hit = (sub["twin_coef"].astype(float) - sub["truth"].astype(float)).abs() <= Z_95 * sub[
        "twin_se"
    ].astype(float)
    return int(hit.sum()), len(sub)


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per slug with the counts the scorecard table shows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`helpers.report.read_scorecards` (a ``slug`` column plus the scorecard
        fields).

    Returns
    -------
    pandas.DataFrame
        ``slug``, ``n``, and ``(k, m)`` pairs ``sign``, ``stars``, ``tolerance``, ``truth``: ``k``
        rows pass out of ``m`` rows where the check applies. Slugs keep the order of
        ``helpers.paths.SLUGS``; unregistered slugs (the chapter template) are left out.

    Examples
    --------
    >>> f = pd.DataFrame({"slug": ["industry-finance-ai"] * 2, "sign_agrees": [True, False],
    ...                   "stars_agree": [True, None], "within_tolerance": [None, None],
    ...                   "truth": [0.1, None], "twin_coef": [0.11, 0.2], "twin_se": [0.01, 0.1]})
    >>> summarize(f).loc[0, ["n", "sign", "stars", "tolerance", "truth"]].tolist()
    [2, (1, 2), (1, 1), (0, 0), (1, 1)]
    """
    from helpers.paths import SLUGS

    out = []
    for slug in [s for s in SLUGS if s in set(frame.get("slug", []))]:
        rows = frame[frame["slug"] == slug]
        out.append(
            {
                "slug": slug,
                "n": len(rows),
                "sign": _count(rows.get("sign_agrees", pd.Series(dtype=object))),
                "stars": _count(rows.get("stars_agree", pd.Series(dtype=object))),
                "tolerance": _count(rows.get("within_tolerance", pd.Series(dtype=object))),
                "truth": _truth_recovered(rows),
            }
        )
    return pd.DataFrame(out, columns=["slug", "n", "sign", "stars", "tolerance", "truth"])


def _share(pair: tuple[int, int]) -> str:
    k, m = pair
    return "—" if m == 0 else f"{k}/{m} ({100 * k / m:.0f}%)"


def _chapter_doc(env: BuildEnvironment, slug: str) -> str | None:
    pattern = re.compile(rf"^notebooks/\d\d_{re.escape(slug)}$")
    return next((d for d in sorted(env.found_docs) if pattern.match(d)), None)


def _runtime(env: BuildEnvironment, docname: str | None) -> str:
    if docname is None:
        return "—"
    data = getattr(env, "nb_metadata", {}).get(docname, {}).get("exec_data") or {}
    runtime = data.get("runtime")
    return "—" if runtime is None else f"{float(runtime):.1f}"


def _cell(content: str | nodes.Node) -> nodes.entry:
    para = nodes.paragraph()
    para += nodes.Text(content) if isinstance(content, str) else content
    return nodes.entry("", para)


def _row(cells: list[str | nodes.Node]) -> nodes.row:
    row = nodes.row()
    for c in cells:
        row += _cell(c)
    return row


class ScorecardDirective(SphinxDirective):
    """``{scorecard}``: the table of every chapter's verdicts, read from the scorecard files."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        """Read the scorecards and return the table (or a plain note when there are none)."""
        from helpers.report import read_scorecards

        folder = build_dir(self.env.app)
        summary = summarize(read_scorecards(build_dir=folder))
        if summary.empty:
            para = nodes.paragraph(
                text="No chapter has written a scorecard yet. Each chapter writes its verdicts when "
                "it is executed; build the book (make book) and this table fills itself in."
            )
            return [para]
        table = nodes.table(classes=["scorecard-table", "colwidths-auto"])
        tgroup = nodes.tgroup(cols=len(HEADERS))
        table += tgroup
        for _ in HEADERS:
            tgroup += nodes.colspec(colwidth=1)
        thead = nodes.thead()
        tgroup += thead
        thead += _row(list(HEADERS))
        tbody = nodes.tbody()
        tgroup += tbody
        for rec in summary.itertuples(index=False):
            doc = _chapter_doc(self.env, rec.slug)
            if doc is None:
                name: str | nodes.Node = rec.slug
            else:
                name = pending_xref(
                    "", nodes.inline(text=rec.slug), refdoc=self.env.docname, refdomain="std",
                    reftype="doc", reftarget="/" + doc, refexplicit=True, refwarn=True,
                )
            tbody += _row(
                [
                    name,
                    str(rec.n),
                    _share(rec.sign),
                    _share(rec.stars),
                    _share(rec.tolerance),
                    _share(rec.truth),
                    _runtime(self.env, doc),
                ]
            )
        total = [sum(p[i] for p in summary[c]) for c in ("sign", "stars", "tolerance", "truth")
                 for i in (0, 1)]
        tbody += _row(
            [
                nodes.strong(text="All chapters"),
                str(int(summary["n"].sum())),
                *(_share((total[2 * j], total[2 * j + 1])) for j in range(4)),
                "",
            ]
        )
        return [table]


def _always_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Rebuild the scorecard page on every build: its input files are not Sphinx dependencies."""
    doc = app.config.scorecard_docname
    return [doc] if doc in env.found_docs and doc not in added | changed else []


def read_last(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Move the scorecard page to the end of the reading order (in place), after every chapter.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> app = SimpleNamespace(config=SimpleNamespace(scorecard_docname="book/scorecard"))
    >>> names = ["book/index", "book/scorecard", "notebooks/01_x"]
    >>> read_last(app, None, names); names
    ['book/index', 'notebooks/01_x', 'book/scorecard']
    """
    doc = app.config.scorecard_docname
    if doc in docnames:
        docnames.remove(doc)
        docnames.append(doc)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, its configuration values and the two event handlers."""
    app.add_config_value("scorecard_docname", "book/scorecard", "env")
    app.add_config_value("scorecard_build_dir", "", "env")
    app.add_directive("scorecard", ScorecardDirective)
    app.connect("env-get-outdated", _always_outdated)
    app.connect("env-before-read-docs", read_last)
    # parallel reading would split the reading order that read_last relies on
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}

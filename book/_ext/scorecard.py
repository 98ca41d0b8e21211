"""The replication scorecard: a ``{scorecard}`` directive whose tables are built from the chapters.

Every chapter writes the rows of its compare tables to ``<build folder>/scorecards/<slug>.json``
(:func:`helpers.report.write_scorecard`; the build folder is ``_build`` or ``$AICHINA_BUILD_DIR``).
Each row carries its class (``target``, ``calibrated``, ``untargeted``), its verdicts at the
chapter's seed and, where the chapter ran the design analysis (:mod:`helpers.design`), the
probabilities that a replication of the twin reproduces the published sign and star class, the
coverage of the estimand and a string of per-replication star verdicts. The directive reads those
files with :func:`helpers.report.read_scorecards` and emits

* one summary table, a row per chapter: rows by class; observed agreement in sign and star class at
  the chapter's seed on the *scored* rows (``calibrated`` and ``untargeted``; ``target`` rows are
  shown in the chapters but never counted); the star agreement the design analysis expects, with the
  central 95 % range of the agreement share over replications; the coverage of the estimand; the
  number of fragile published results; the run time;
* per chapter, the fragile published results (probability of reproducing their star class below one
  half, even though the twin makes the published value true in population) and a figure of the
  distribution of the star-agreement share over replications with the observed share marked.

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

import base64
import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOGGER = logging.getLogger(__name__)

HEADERS = (
    "Chapter",
    "Rows: target / calibrated / untargeted",
    "Sign agrees (observed)",
    "Sign agrees (expected)",
    "Stars agree (observed)",
    "Stars agree (expected, 95 % range)",
    "Coverage of the estimand",
    "Fragile results",
    "Run time (s)",
)
FRAGILE_BELOW = 0.5
"""A published result is *fragile* when the design reproduces its star class with probability below
this, although the twin makes the published value true in population."""


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


def _col(rows: pd.DataFrame, name: str) -> pd.Series:
    return rows[name] if name in rows else pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _scored(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows that count: every row whose class is not ``target``."""
    return rows[_col(rows, "class").astype(object).ne("target").to_numpy()]


def missing_design(frame: pd.DataFrame) -> list[str]:
    """Scored rows that lack the design analysis: no ``p_sign``, or no ``p_stars`` although the
    paper publishes a star class. The directive warns about them, so a ``-W`` build fails.

    Examples
    --------
    >>> f = pd.DataFrame({"slug": ["a"] * 4, "table": ["t1"] * 4, "column": ["c"] * 4,
    ...                   "term": ["x", "y", "z", "w"],
    ...                   "class": ["untargeted", "calibrated", "target", "untargeted"],
    ...                   "published_stars": ["***", None, "**", "*"],
    ...                   "p_sign": [0.9, 0.8, None, 0.7], "p_stars": [0.5, None, None, None]})
    >>> missing_design(f)
    ['a t1/c/w']
    """
    rows = _scored(frame)
    if "scored" in rows:
        rows = rows[rows["scored"].astype(object).ne(False).to_numpy()]
    p_sign, p_stars = _col(rows, "p_sign"), _col(rows, "p_stars")
    stars = _col(rows, "published_stars")
    bad = p_sign.isna() | (stars.notna() & stars.astype(str).str.len().gt(0) & p_stars.isna())
    return [f"{r.slug} {r.table}/{r.column}/{r.term}" for r in rows[bad.to_numpy()].itertuples()]


def replication_shares(rows: pd.DataFrame) -> np.ndarray:
    """Share of rows agreeing in star class in each replication of the design analysis.

    Reads the ``stars_agree_reps`` strings of the scored rows (``1`` agrees, ``0`` differs, ``-``
    not applicable). Rows may carry different numbers of replications: replication ``r`` counts the
    rows that have it (the twins' redraws are nested, so replication ``r`` is the same draw in every
    row).

    Examples
    --------
    >>> f = pd.DataFrame({"class": ["calibrated", "untargeted", "target"],
    ...                   "stars_agree_reps": ["110", "10", "000"]})
    >>> replication_shares(f).tolist()
    [1.0, 0.5, 0.0]
    """
    reps = [r for r in _col(_scored(rows), "stars_agree_reps") if isinstance(r, str) and r]
    if not reps:
        return np.array([])
    width = max(map(len, reps))
    mat = np.full((len(reps), width), np.nan)
    for i, r in enumerate(reps):
        mat[i, : len(r)] = [np.nan if ch == "-" else float(ch) for ch in r]
    with np.errstate(invalid="ignore"):
        out = np.nanmean(mat, axis=0) if np.isfinite(mat).any() else np.array([])
    return out[np.isfinite(out)]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per slug with the numbers the scorecard table shows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`helpers.report.read_scorecards` (a ``slug`` column plus the scorecard
        fields).

    Returns
    -------
    pandas.DataFrame
        ``slug``; ``n_target``, ``n_calibrated``, ``n_untargeted``, ``n_unclassed``; ``(k, m)`` pairs
        ``sign``, ``stars``, ``tolerance`` over the scored rows (``k`` pass out of ``m`` where the
        check applies; target rows never count); ``expected_sign`` and ``m_sign`` (mean probability
        of reproducing the published sign, and over how many rows); ``expected`` (mean probability of
        reproducing the star class over the scored rows the design analysis covered, NaN without
        it), ``m_design``,
        ``range`` (2.5 and 97.5 percentiles of the agreement share over replications, or None),
        ``coverage`` (mean coverage of the estimand) and ``fragile`` (list of ``(row, p_stars)``).
        Slugs keep the order of ``helpers.paths.SLUGS``; unregistered slugs are left out.

    Examples
    --------
    >>> f = pd.DataFrame({"slug": ["industry-finance-ai"] * 3, "table": ["t"] * 3,
    ...                   "term": ["a", "b", "m"], "class": ["calibrated", "untargeted", "target"],
    ...                   "sign_agrees": [True, False, True], "stars_agree": [True, None, True],
    ...                   "within_tolerance": [None, None, True], "p_stars": [0.9, 0.3, None]})
    >>> r = summarize(f).iloc[0]
    >>> r["sign"], r["stars"], round(float(r["expected"]), 2), r["fragile"]
    ((1, 2), (1, 1), 0.6, [('t/b', 0.3)])
    """
    from helpers.paths import SLUGS

    out = []
    for slug in [s for s in SLUGS if s in set(frame.get("slug", []))]:
        rows = frame[frame["slug"] == slug]
        cls = _col(rows, "class")
        scored = _scored(rows)
        p = pd.to_numeric(_col(scored, "p_stars"), errors="coerce")
        p_sign = pd.to_numeric(_col(scored, "p_sign"), errors="coerce")
        cov = pd.to_numeric(_col(scored, "coverage"), errors="coerce")
        shares = replication_shares(rows)
        fragile = []
        for r, pv in zip(scored.itertuples(index=False), p, strict=True):
            if pd.notna(pv) and pv < FRAGILE_BELOW:
                col = getattr(r, "column", None)
                name = "/".join(str(x) for x in (r.table, col, r.term) if isinstance(x, str) and x)
                fragile.append((name, float(pv)))
        out.append(
            {
                "slug": slug,
                "n_target": int((cls == "target").sum()),
                "n_calibrated": int((cls == "calibrated").sum()),
                "n_untargeted": int((cls == "untargeted").sum()),
                "n_unclassed": int((~cls.isin(["target", "calibrated", "untargeted"])).sum()),
                "sign": _count(_col(scored, "sign_agrees")),
                "stars": _count(_col(scored, "stars_agree")),
                "tolerance": _count(_col(scored, "within_tolerance")),
                "expected_sign": float(p_sign.mean()) if p_sign.notna().any() else math.nan,
                "m_sign": int(p_sign.notna().sum()),
                "expected": float(p.mean()) if p.notna().any() else math.nan,
                "m_design": int(p.notna().sum()),
                "range": (tuple(float(x) for x in np.percentile(shares, [2.5, 97.5]))
                          if shares.size >= 20 else None),
                "shares": shares,
                "coverage": float(cov.mean()) if cov.notna().any() else math.nan,
                "fragile": fragile,
            }
        )
    cols = ["slug", "n_target", "n_calibrated", "n_untargeted", "n_unclassed", "sign", "stars",
            "tolerance", "expected_sign", "m_sign", "expected", "m_design", "range", "shares",
            "coverage", "fragile"]
    return pd.DataFrame(out, columns=cols)


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


def _pct(x: float) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def _expected(rec: Any) -> str:
    if math.isnan(rec.expected):
        return "— (no design analysis)"
    rng = "" if rec.range is None else f" [{_pct(rec.range[0])}–{_pct(rec.range[1])}]"
    return f"{_pct(rec.expected)}{rng} of {rec.m_design}"


def distribution_figure(summary: pd.DataFrame) -> str | None:
    """PNG (base64) of the star-agreement share over replications, one panel per chapter.

    Returns None when no chapter carries per-replication verdicts.
    """
    have = [r for r in summary.itertuples(index=False) if len(r.shares) >= 20]
    if not have:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.plotting import book_style

    with book_style():
        return _distribution_png(have, plt)


def _distribution_png(have: list, plt: Any) -> str:
    fig, axes = plt.subplots(1, len(have), figsize=(2.6 * len(have) + 0.6, 2.4), sharey=False,
                             squeeze=False)
    for ax, r in zip(axes[0], have, strict=True):
        ax.hist(r.shares, bins=np.linspace(0, 1, 21), color="#4477AA", alpha=0.85)
        k, m = r.stars
        if m:
            ax.axvline(k / m, color="#CC3311", lw=2, label="observed")
        ax.set_title(r.slug, fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of rows agreeing in stars", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("replications", fontsize=7)
    axes[0][0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    buf = io.BytesIO()
    # 300 dpi: the page shows it at most 768 px wide, and a sharp image needs 1.5 pixels per CSS
    # pixel (the browser check measures it)
    fig.savefig(buf, format="png", dpi=300)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


class ScorecardDirective(SphinxDirective):
    """``{scorecard}``: every chapter's observed and expected agreement, read from the scorecard files."""

    has_content = False

    def _name(self, slug: str) -> str | nodes.Node:
        doc = _chapter_doc(self.env, slug)
        if doc is None:
            return slug
        return pending_xref(
            "", nodes.inline(text=slug), refdoc=self.env.docname, refdomain="std",
            reftype="doc", reftarget="/" + doc, refexplicit=True, refwarn=True,
        )

    def run(self) -> list[nodes.Node]:
        """Read the scorecards and return the tables and figure (or a plain note when there are none)."""
        from helpers.report import read_scorecards

        folder = build_dir(self.env.app)
        frame = read_scorecards(build_dir=folder)
        missing = missing_design(frame) if len(frame) else []
        if missing:
            LOGGER.warning("scorecard: %d scored row(s) without the design analysis (every scored "
                           "row needs p_sign, and p_stars where stars are published): %s",
                           len(missing), "; ".join(missing[:10]), location=self.get_location())
        summary = summarize(frame)
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
            classes = f"{rec.n_target} / {rec.n_calibrated} / {rec.n_untargeted}"
            if rec.n_unclassed:
                classes += f" (+{rec.n_unclassed} unclassed)"
            tbody += _row(
                [
                    self._name(rec.slug),
                    classes,
                    _share(rec.sign),
                    "—" if math.isnan(rec.expected_sign) else f"{_pct(rec.expected_sign)} of {rec.m_sign}",
                    _share(rec.stars),
                    _expected(rec),
                    _pct(rec.coverage),
                    str(len(rec.fragile)),
                    _runtime(self.env, _chapter_doc(self.env, rec.slug)),
                ]
            )
        total = [sum(p[i] for p in summary[c]) for c in ("sign", "stars") for i in (0, 1)]
        tbody += _row(
            [
                nodes.strong(text="All chapters"),
                " / ".join(str(int(summary[c].sum())) for c in
                           ("n_target", "n_calibrated", "n_untargeted")),
                _share((total[0], total[1])),
                "",
                _share((total[2], total[3])),
                "", "", str(int(summary["fragile"].map(len).sum())), "",
            ]
        )
        out: list[nodes.Node] = [table]
        png = distribution_figure(summary)
        if png is not None:
            alt = ("Histograms, one per chapter, of the share of scored published rows whose star "
                   "class a replication of the twin reproduces; a red line marks the share observed "
                   "at the chapter's seed.")
            out.append(nodes.raw("", f'<figure class="scorecard-figure"><img alt="{alt}" '
                                     f'src="data:image/png;base64,{png}" style="max-width:100%"/>'
                                     f"<figcaption>{alt}</figcaption></figure>", format="html"))
        fragile = [(r.slug, f) for r in summary.itertuples(index=False) for f in r.fragile]
        if fragile:
            items = nodes.bullet_list()
            for slug, (name, pv) in fragile:
                para = nodes.paragraph()
                para += self._name(slug)
                para += nodes.Text(f": {name} reproduces its published star class with "
                                   f"probability {pv:.2f}")
                items += nodes.list_item("", para)
            out += [nodes.paragraph(text="Fragile published results (probability of reproducing the "
                                         f"star class below {FRAGILE_BELOW:g}, even with the published "
                                         "value true in population):"), items]
        return out


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

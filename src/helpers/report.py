"""Published-vs-twin reporting: comparison tables, verdicts and the book's scorecards.

Each chapter puts the paper's published coefficients next to the estimates on the simulated
twin and the twin's true parameter, with a verdict per row, and writes the verdicts to
``_build/scorecards/<slug>.json`` for the book's scorecard page.

``data/<slug>/published.yml`` schema
------------------------------------
::

    paper:                       # optional metadata
      citation: "..."
      note: "t statistics in parentheses"
    tables:
      table3:                    # table key (used in the scorecard)
        title: "Baseline regressions"
        class: calibrated        # row class, inherited by columns and coefficients (see below)
        columns:
          col1:                  # column key, e.g. the regression's column number
            depvar: NQP
            N: 24850             # optional
            r2: 0.83             # optional (r2_kind: "adj" when the paper prints adjusted R2)
            class: untargeted    # optional: overrides the table's class
            coefs:
              lnAI: {coef: 0.0123, se: 0.0045, stars: "***"}
              Size: {coef: 0.21, t: 4.1, stars: "***"}   # t-statistic published instead of SE
              Lev:  {coef: -0.05, stars: "**"}           # only stars
              DID:  {sign: "+", stars: "***"}            # direction only (no number published)

Row classes (``class`` at table, column or coefficient level; the innermost wins): ``target`` (a
calibration target the twin reproduces by construction, e.g. a mean: shown, never scored),
``calibrated`` (a coefficient whose estimand was set from the published value) or ``untargeted`` (a
published number the twin was not calibrated to: an out-of-sample test of the twin's structure).

Per coefficient: ``coef`` (number), ``se`` (number), ``t`` (number; the SE is then derived as
``|coef / t|``), ``pvalue`` (number), ``stars`` (``"***"``, ``"**"``, ``"*"``, ``""`` or the
count 0-3), ``sign`` (``"+"``, ``"-"``; required when ``coef`` is absent), ``class``. Stars follow the
Chinese-journal convention *** p<0.01, ** p<0.05, * p<0.1; when the stars are not published they
are derived from ``pvalue``, else from ``coef/se`` with a normal approximation.

Verdicts per row
----------------
* ``sign_agrees``: the twin estimate has the published sign;
* ``stars_agree``: the twin's significance class (number of stars from its p-value) equals the
  published one;
* ``within_tolerance``: :math:`|b_{twin} - b_{pub}| \\le \\max(0.25|b_{pub}|, SE_{pub})`
  (``None`` when only a direction is published; with no published SE only the 25 % rule applies).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from helpers.paths import build_dir as _build_dir
from helpers.paths import slug_dir

__all__ = [
    "SCORECARD_FIELDS",
    "agreement_flags",
    "compare_table",
    "load_published",
    "read_scorecards",
    "stars_from_pvalue",
    "style_compare_table",
    "set_estimate_label",
    "write_scorecard",
]

STAR_CUTOFFS: tuple[float, float, float] = (0.01, 0.05, 0.10)
"""p-value cut-offs for ***, ** and *."""
TOLERANCE_SHARE = 0.25
_ESTIMATE_LABEL = ["Twin"]  # header of the estimate column; twin_banner(data=...) sets it per run


def set_estimate_label(label: str) -> str:
    """Set the header of the estimate column of :func:`style_compare_table`; return the old one.

    A chapter's estimates are the simulated twin's ("Twin", the default) or the reader's file's.
    :func:`helpers.twins.twin_banner` calls this with the chapter's ``DATA`` parameter, so every
    compare table after the banner is headed by what produced it and a table built from a
    reader's file never reads "Twin".

    Parameters
    ----------
    label : str
        Non-empty column header, e.g. ``"Twin"`` or ``"Your data"``.

    Returns
    -------
    str
        The label in force before the call (to restore it).

    Raises
    ------
    ValueError
        If ``label`` is not a non-empty string.

    Examples
    --------
    >>> old = set_estimate_label("Your data")
    >>> pub = pd.DataFrame({"table": ["t3"], "column": ["c1"], "term": ["x"], "coef": [0.1],
    ...                     "se": [0.02], "stars": ["***"], "sign": ["+"]})
    >>> list(style_compare_table(compare_table(pub, {"x": (0.1, 0.02)})).data.columns[:3])
    ['Term', 'Published', 'Your data']
    >>> set_estimate_label(old)
    'Your data'
    """
    if not isinstance(label, str) or not label.strip():
        raise ValueError(f"set_estimate_label: label must be a non-empty string, got {label!r}")
    old, _ESTIMATE_LABEL[0] = _ESTIMATE_LABEL[0], label
    return old
"""Relative tolerance of the magnitude verdict (25 % of the published coefficient)."""
SCORECARD_FIELDS: tuple[str, ...] = (
    "table",
    "term",
    "class",
    "published_coef",
    "published_stars",
    "twin_coef",
    "twin_se",
    "twin_stars",
    "estimand",
    "effect",
    "sign_agrees",
    "stars_agree",
    "within_tolerance",
)
"""Fields every scorecard row carries (extra fields are kept too: the design-analysis diagnosands
``R``, ``p_sign``, ``p_stars``, ``p_size``, ``coverage`` and their ``*_mcse``)."""
ROW_CLASSES: tuple[str, ...] = ("target", "calibrated", "untargeted")
"""Row classes of ``published.yml`` (module docstring); ``target`` rows are never scored."""
DESIGN_FIELDS: tuple[str, ...] = (
    "R", "p_sign", "p_sign_mcse", "p_stars", "p_stars_mcse", "p_size", "p_size_mcse",
    "coverage", "coverage_mcse", "bias", "rmse", "power",
)
"""Diagnosands of :func:`helpers.design.diagnose` that :func:`compare_table` carries per row."""

_COEF_KEYS = {"coef", "se", "t", "pvalue", "stars", "sign", "class"}


def stars_from_pvalue(p: float | None) -> str | None:
    """Significance stars for a p-value: *** p<0.01, ** p<0.05, * p<0.1.

    Examples
    --------
    >>> stars_from_pvalue(0.003), stars_from_pvalue(0.04), stars_from_pvalue(0.2)
    ('***', '**', '')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return None
    return "*" * sum(p < c for c in STAR_CUTOFFS)


def _norm_stars(value: Any, where: str) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{where}: stars must be '***', '**', '*', '' or 0-3, got {value!r}")
    if isinstance(value, int | np.integer) and 0 <= int(value) <= 3:
        return "*" * int(value)
    if value is None:
        return ""
    if isinstance(value, str) and set(value.strip()) <= {"*"} and len(value.strip()) <= 3:
        return value.strip()
    raise ValueError(f"{where}: stars must be '***', '**', '*', '' or 0-3, got {value!r}")


def _published_row(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: expected a mapping like {{coef: .., se: ..}}, got {entry!r}")
    unknown = set(entry) - _COEF_KEYS
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_COEF_KEYS)}"
        )
    coef = entry.get("coef")
    se = entry.get("se")
    t = entry.get("t")
    p = entry.get("pvalue")
    sign = entry.get("sign")
    for name, v in (("coef", coef), ("se", se), ("t", t), ("pvalue", p)):
        if v is not None and not isinstance(v, int | float):
            raise ValueError(f"{where}: {name} must be a number, got {v!r}")
    if coef is None and sign not in {"+", "-"}:
        raise ValueError(
            f"{where}: give a number in `coef` or, if only the direction is published, "
            "`sign: '+'` or `sign: '-'`"
        )
    if coef is not None:
        derived = "+" if coef > 0 else "-" if coef < 0 else "0"
        if sign is not None and sign != derived:
            raise ValueError(f"{where}: sign {sign!r} contradicts coef {coef}")
        sign = derived
    if se is None and t not in (None, 0) and coef is not None:
        se = abs(coef / t)
    if "stars" in entry:
        stars = _norm_stars(entry["stars"], where)
    elif p is not None:
        stars = stars_from_pvalue(float(p))
    elif coef is not None and se:
        stars = stars_from_pvalue(float(2 * stats.norm.sf(abs(coef / se))))
    else:
        stars = None
    cls = entry.get("class")
    if cls is not None and cls not in ROW_CLASSES:
        raise ValueError(f"{where}: class must be one of {list(ROW_CLASSES)}, got {cls!r}")
    return {
        "class": cls,
        "coef": None if coef is None else float(coef),
        "se": None if se is None else float(se),
        "t": None if t is None else float(t),
        "pvalue": None if p is None else float(p),
        "stars": stars,
        "sign": sign,
    }


def load_published(slug: str, *, path: str | Path | None = None) -> pd.DataFrame:
    """Read a paper's published coefficients from ``data/<slug>/published.yml``.

    Parameters
    ----------
    slug : str
        Paper slug (one of ``helpers.paths.SLUGS``).
    path : str or Path, optional
        Read this YAML file instead (tests, drafts).

    Returns
    -------
    pandas.DataFrame
        One row per (table, column, term) with ``table``, ``title``, ``column``, ``depvar``,
        ``N``, ``r2``, ``term``, ``coef``, ``se``, ``t``, ``pvalue``, ``stars``, ``sign``;
        ``attrs["paper"]`` holds the optional paper metadata.

    Raises
    ------
    ValueError
        For an unknown slug, a missing file, or an entry that does not follow the schema in the
        module docstring.

    Examples
    --------
    >>> from pathlib import Path
    >>> import helpers
    >>> fx = Path(helpers.__file__).parents[2] / "tests" / "fixtures" / "published_example.yml"
    >>> load_published("ai-new-quality-productivity", path=fx).loc[0, "term"]
    'lnAI'
    """
    import yaml

    file = Path(path) if path is not None else slug_dir(slug) / "published.yml"
    if not file.is_file():
        raise ValueError(
            f"load_published: {file} does not exist; write the paper's published numbers there "
            "(schema in the docstring of helpers.report)"
        )
    doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    tables = doc.get("tables")
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError(f"load_published: {file} has no `tables:` mapping")
    rows = []
    for tkey, tab in tables.items():
        cols = (tab or {}).get("columns")
        if not isinstance(cols, Mapping) or not cols:
            raise ValueError(f"load_published: {file}: table {tkey!r} has no `columns:` mapping")
        for ckey, col in cols.items():
            coefs = (col or {}).get("coefs")
            if not isinstance(coefs, Mapping) or not coefs:
                raise ValueError(f"load_published: {file}: {tkey}/{ckey} has no `coefs:` mapping")
            inherited = col.get("class", tab.get("class"))
            if inherited is not None and inherited not in ROW_CLASSES:
                raise ValueError(f"load_published: {file}: {tkey}/{ckey}: class must be one of "
                                 f"{list(ROW_CLASSES)}, got {inherited!r}")
            for term, entry in coefs.items():
                r = _published_row(entry, f"load_published: {file}: {tkey}/{ckey}/{term}")
                rows.append(
                    {
                        "table": str(tkey),
                        "title": tab.get("title"),
                        "column": str(ckey),
                        "depvar": col.get("depvar"),
                        "N": col.get("N"),
                        "r2": col.get("r2"),
                        "r2_kind": col.get("r2_kind", "r2"),
                        "term": str(term),
                        **r,
                        "class": r["class"] or inherited,
                    }
                )
    out = pd.DataFrame(rows)
    out.attrs["paper"] = doc.get("paper", {})
    return out


def _twin_frame(twin: Any) -> pd.DataFrame:
    """Normalize the twin estimates to a frame indexed by term with coef, se, pvalue."""
    # A DataFrame with coef/se/pvalue columns also has attributes of those names: test it first.
    if isinstance(twin, pd.DataFrame):
        ren = {"Estimate": "coef", "Std. Error": "se", "Pr(>|t|)": "pvalue"}
        f = twin.rename(columns=ren)
        if "term" in f.columns:
            f = f.set_index("term")
        missing = [c for c in ("coef", "se") if c not in f.columns]
        if missing:
            raise ValueError(
                f"compare_table: the twin DataFrame lacks column(s) {missing}; give coef, se "
                "and (optionally) pvalue, indexed by term"
            )
        if "pvalue" not in f.columns:
            f = f.assign(pvalue=2 * stats.norm.sf(np.abs(f["coef"] / f["se"])))
        return f[["coef", "se", "pvalue"]]
    if hasattr(twin, "coef") and hasattr(twin, "se") and hasattr(twin, "pvalue"):
        return pd.DataFrame({"coef": twin.coef(), "se": twin.se(), "pvalue": twin.pvalue()})
    if isinstance(twin, Mapping):
        rows = {}
        for term, v in twin.items():
            if not isinstance(v, Sequence) or len(v) not in (2, 3):
                raise ValueError(
                    f"compare_table: twin[{term!r}] must be (coef, se) or (coef, se, pvalue), "
                    f"got {v!r}"
                )
            c, s = float(v[0]), float(v[1])
            p = float(v[2]) if len(v) == 3 else float(2 * stats.norm.sf(abs(c / s)))
            rows[term] = (c, s, p)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["coef", "se", "pvalue"])
    raise ValueError(
        "compare_table: `twin` must be a pyfixest fit, a dict term -> (coef, se[, pvalue]) or a "
        f"DataFrame with coef/se/pvalue; got {type(twin).__name__}"
    )


def agreement_flags(
    estimate: Any,
    pvalue: Any,
    *,
    coef: float | None,
    se: float | None,
    stars: str | None,
    sign: str,
) -> dict[str, np.ndarray | None]:
    """The verdicts of one published coefficient for one or many twin estimates.

    The single rule behind :func:`compare_table` and :func:`helpers.design.agreement`.

    Parameters
    ----------
    estimate, pvalue : float or array_like
        Twin estimates and their p-values (same shape).
    coef, se, stars, sign :
        The published coefficient (``None`` for a direction-only row), SE (``None`` if not
        published), stars (``None`` if not published) and sign (``"+"`` or ``"-"``).

    Returns
    -------
    dict
        ``sign_agrees`` (bool array), ``stars_agree`` (bool array, ``None`` without published
        stars) and ``within_tolerance`` (bool array, ``None`` for a direction-only row).

    Examples
    --------
    >>> f = agreement_flags([0.11, -0.02], [0.001, 0.4], coef=0.1, se=0.02, stars="***", sign="+")
    >>> f["sign_agrees"].tolist(), f["stars_agree"].tolist(), f["within_tolerance"].tolist()
    ([True, False], [True, False], [True, False])
    """
    b = np.asarray(estimate, dtype=float)
    p = np.asarray(pvalue, dtype=float)
    sign_ok = np.where(b > 0, "+", np.where(b < 0, "-", "0")) == sign
    if stars is None:
        stars_ok = None
    else:
        n_stars = sum((p < c).astype(int) for c in STAR_CUTOFFS)  # as stars_from_pvalue
        stars_ok = (n_stars == len(stars)) & ~np.isnan(p)
    if coef is None:
        within = None
    else:
        tol = max(TOLERANCE_SHARE * abs(coef), se or 0.0)
        within = np.abs(b - coef) <= tol
    return {"sign_agrees": sign_ok, "stars_agree": stars_ok, "within_tolerance": within}


def _fit_stats(twin: Any) -> tuple[int | None, float | None, float | None]:
    """(N, R2, adjusted R2) of a pyfixest fit; Nones for other inputs."""
    n = getattr(twin, "_N", None)
    r2 = getattr(twin, "_r2", None)
    adj = getattr(twin, "_adj_r2", None)
    as_float = (lambda v: None if v is None or pd.isna(v) else float(v))  # noqa: E731
    return (None if n is None else int(n)), as_float(r2), as_float(adj)


def compare_table(
    published: pd.DataFrame,
    twin: Any,
    *,
    table: str | None = None,
    column: str | None = None,
    terms: Sequence[str] | None = None,
    estimand: Mapping[str, float] | None = None,
    effect: Mapping[str, float] | None = None,
    effect_note: Mapping[str, str] | None = None,
    design: pd.DataFrame | None = None,
    replications: pd.DataFrame | None = None,
    n: int | None = None,
    r2: float | None = None,
    term_map: Mapping[str, str] | None = None,
    truth: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    r"""Published vs twin estimates with the twin's two truths, the design analysis and verdicts.

    Parameters
    ----------
    published : pandas.DataFrame
        Output of :func:`load_published` (all tables; select with ``table``/``column``).
    twin : pyfixest Feols, dict or DataFrame
        The twin's estimates: a fitted pyfixest model, ``{term: (coef, se[, pvalue])}`` or a
        frame indexed by term with ``coef``, ``se`` (and ``pvalue``; pyfixest ``tidy()`` names
        are accepted). A missing p-value is computed from ``coef/se`` (normal).
    table, column : str, optional
        Which published table and column; required when ``published`` holds several.
    terms : sequence of str, optional
        Published terms to compare (default: all terms of the selected column).
    estimand : mapping, optional
        Per published term, what the published specification converges to on the twin.
    effect, effect_note : mapping, optional
        Per published term, the causal parameter of the twin's model where it differs from the
        estimand, and a one-line reason for the gap. ``compare_table(..., **twin.truth_for(t, c))``
        passes all three.
    design : pandas.DataFrame, optional
        Output of :func:`helpers.design.diagnose` for these terms (indexed by term or with a
        ``term`` column, named as the *published* terms); its :data:`DESIGN_FIELDS` are added.
    replications : pandas.DataFrame, optional
        Output of :func:`helpers.design.agreement` for these terms (``replication``, ``term``,
        ``stars_agree``, ...): each row then carries ``stars_agree_reps``, one character per
        replication (``1`` agrees, ``0`` differs, ``-`` not applicable), which the scorecard page
        turns into the distribution of the agreement share over replications.
    n, r2 : optional
        The twin's sample size and R2 when ``twin`` is not a pyfixest fit (a fit gives its own;
        the adjusted R2 is used where the paper prints one, ``r2_kind: adj``).
    term_map : mapping, optional
        Published term -> twin term when the names differ.
    truth : mapping, optional
        Older name of ``estimand`` (used only when ``estimand`` is not given).

    Returns
    -------
    pandas.DataFrame
        One row per term: ``table``, ``column``, ``term``, ``class``, ``scored`` (``class`` is not
        ``target``), ``published_coef``, ``published_se``, ``published_t``, ``published_stars``,
        ``published_sign``, ``published_N``, ``published_r2``, ``twin_coef``, ``twin_se``,
        ``twin_t``, ``twin_pvalue``, ``twin_stars``, ``twin_N``, ``twin_r2``, ``estimand``,
        ``effect``, ``effect_note``, ``truth`` (= ``estimand``), ``sign_agrees``, ``stars_agree``,
        ``within_tolerance``, ``verdict`` (``"agrees"`` when every applicable check passes, else
        ``"differs"``; ``"target"`` for target rows) and, with ``design``, the
        :data:`DESIGN_FIELDS`. Rows are ready for :func:`write_scorecard`.

    Raises
    ------
    ValueError
        If the selection is ambiguous or empty, a term is not in the published table or not in
        the twin estimates, or ``twin`` has an unsupported type.

    Notes
    -----
    Tolerance rule: :math:`|b_{twin}-b_{pub}| \le \max(0.25\,|b_{pub}|, SE_{pub})`.

    Examples
    --------
    >>> pub = pd.DataFrame({"table": ["t3"], "column": ["c1"], "term": ["lnAI"], "coef": [0.10],
    ...                     "se": [0.02], "stars": ["***"], "sign": ["+"]})
    >>> row = compare_table(pub, {"lnAI": (0.11, 0.02, 0.001)}, estimand={"lnAI": 0.1}).iloc[0]
    >>> bool(row.sign_agrees), bool(row.stars_agree), bool(row.within_tolerance), float(row.estimand)
    (True, True, True, 0.1)
    """
    need = ["table", "column", "term", "coef", "se", "stars", "sign"]
    if not isinstance(published, pd.DataFrame) or any(c not in published for c in need):
        raise ValueError(
            f"compare_table: `published` must be the DataFrame from load_published() with "
            f"columns {need}"
        )
    sel = published
    if table is not None:
        sel = sel[sel["table"] == table]
    if column is not None:
        sel = sel[sel["column"] == column]
    if sel.empty:
        raise ValueError(
            f"compare_table: no published rows for table={table!r}, column={column!r}; "
            f"available tables {sorted(published['table'].unique())}"
        )
    if sel.duplicated("term").any():
        raise ValueError(
            "compare_table: the selection holds several tables/columns with the same term; pass "
            f"table= and column= (tables {sorted(sel['table'].unique())}, columns "
            f"{sorted(sel['column'].unique())})"
        )
    sel = sel.set_index("term")
    terms = list(terms) if terms is not None else list(sel.index)
    missing = [t for t in terms if t not in sel.index]
    if missing:
        raise ValueError(f"compare_table: term(s) {missing} not in the published table")
    tw = _twin_frame(twin)
    fit_n, fit_r2, fit_adj = _fit_stats(twin)
    term_map = dict(term_map or {})
    estimand = dict(estimand if estimand is not None else (truth or {}))
    effect = dict(effect or {})
    effect_note = dict(effect_note or {})
    diag = None
    if design is not None:
        diag = design.set_index("term") if "term" in design.columns else design
        absent = [t for t in terms if t not in diag.index]
        if absent:
            raise ValueError(f"compare_table: design has no row for term(s) {absent}")
    rows = []
    for term in terms:
        p = sel.loc[term]
        tname = term_map.get(term, term)
        if tname not in tw.index:
            raise ValueError(
                f"compare_table: twin estimates have no term {tname!r}; available "
                f"{list(tw.index)[:10]}; map names with term_map={{'{term}': '<twin name>'}}"
            )
        b, s, pv = (float(v) for v in tw.loc[tname, ["coef", "se", "pvalue"]])
        pub_coef = None if pd.isna(p["coef"]) else float(p["coef"])
        pub_se = None if pd.isna(p["se"]) else float(p["se"])
        pub_t = p.get("t")
        pub_t = None if pub_t is None or pd.isna(pub_t) else float(pub_t)
        if pub_t is None and pub_coef is not None and pub_se:
            pub_t = pub_coef / pub_se
        pub_stars = None if p["stars"] is None or pd.isna(p["stars"]) else str(p["stars"])
        cls = p.get("class")
        cls = None if cls is None or (isinstance(cls, float) and math.isnan(cls)) else str(cls)
        twin_stars = stars_from_pvalue(pv)
        flags = agreement_flags(b, pv, coef=pub_coef, se=pub_se, stars=pub_stars, sign=p["sign"])
        sign_ok, stars_ok, within = (
            None if v is None else bool(v)
            for v in (flags["sign_agrees"], flags["stars_agree"], flags["within_tolerance"])
        )
        checks = [c for c in (sign_ok, stars_ok, within) if c is not None]
        r2_kind = p.get("r2_kind", "r2")
        pub_n = p.get("N")
        pub_r2 = p.get("r2")
        row = {
            "table": p["table"],
            "column": p["column"],
            "term": term,
            "class": cls,
            "scored": cls != "target",
            "published_coef": pub_coef,
            "published_se": pub_se,
            "published_t": pub_t,
            "published_stars": pub_stars,
            "published_sign": p["sign"],
            "published_N": None if pub_n is None or pd.isna(pub_n) else int(pub_n),
            "published_r2": None if pub_r2 is None or pd.isna(pub_r2) else float(pub_r2),
            "twin_coef": b,
            "twin_se": s,
            "twin_t": b / s if s else None,
            "twin_pvalue": pv,
            "twin_stars": twin_stars,
            "twin_N": fit_n if n is None else int(n),
            "twin_r2": (fit_adj if r2_kind == "adj" else fit_r2) if r2 is None else float(r2),
            "estimand": estimand.get(term),
            "effect": effect.get(term),
            "effect_note": effect_note.get(term),
            "truth": estimand.get(term),
            "sign_agrees": bool(sign_ok),
            "stars_agree": stars_ok,
            "within_tolerance": within,
            "verdict": "target" if cls == "target" else ("agrees" if all(checks) else "differs"),
        }
        if diag is not None:
            for f in DESIGN_FIELDS:
                row[f] = diag.loc[term].get(f) if f in diag.columns else None
        if replications is not None:
            rep = replications[replications["term"] == term].sort_values("replication")
            if rep.empty:
                raise ValueError(f"compare_table: replications has no row for term {term!r}")
            row["stars_agree_reps"] = "".join(
                "-" if v is None or pd.isna(v) else ("1" if v else "0") for v in rep["stars_agree"]
            )
        rows.append(row)
    return pd.DataFrame(rows)


_CSS = [
    {
        "selector": "",
        "props": "border-collapse: collapse; background: transparent; "
        "color: var(--pst-color-text-base, inherit); font-variant-numeric: tabular-nums;",
    },
    {
        "selector": "th",
        "props": "background: transparent; color: var(--pst-color-text-base, inherit); "
        "border-bottom: 1px solid var(--pst-color-border, currentColor); padding: 0.25em 0.6em;",
    },
    {"selector": "td", "props": "background: transparent; padding: 0.2em 0.6em;"},
    {
        "selector": "caption",
        "props": "caption-side: top; text-align: left; color: var(--pst-color-text-muted, inherit);",
    },
]


def _fmt_num(x: Any, stars: str | None = None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "" if stars is None else stars
    return f"{x:.{digits}f}{stars or ''}"


def _row_digits(*values: Any) -> int:
    """Decimals that give a row's largest number three significant digits (3 to 6 decimals)."""
    finite = [abs(float(v)) for v in values
              if v is not None and not pd.isna(v) and float(v) != 0.0]
    if not finite:
        return 3
    return int(min(6, max(3, 2 - math.floor(math.log10(max(finite))))))


def style_compare_table(
    df: pd.DataFrame,
    *,
    caption: str | None = None,
    digits: int | Literal["auto"] = 4,
    probabilities: Sequence[str] | None = None,
    estimate_label: str | None = None,
) -> pd.io.formats.style.Styler:
    """Render :func:`compare_table` output as HTML that reads in light and dark themes.

    The table has transparent backgrounds and takes its colours from the pydata /
    sphinx-book-theme CSS variables (``--pst-color-text-base``, ``--pst-color-border``), so it
    follows the reader's theme; verdict cells use the theme's success/danger colours.

    Parameters
    ----------
    df : pandas.DataFrame
        Output of :func:`compare_table`.
    caption : str, optional
        Table caption.
    digits : int or "auto", default 4
        Decimals for coefficients and standard errors. ``"auto"`` chooses them row by row so
        that the larger of the published and twin coefficients shows three significant digits
        (between 3 and 6 decimals): a table that mixes coefficients of 0.3 and 0.00001 stays
        narrow and keeps both readable.
    probabilities : sequence of {"sign", "stars", "size"}, optional
        Which design-analysis probabilities to show (columns ``P(sign)``, ``P(stars)``,
        ``P(size)``). Default: sign and stars when some row has ``p_stars``, else none. Tables
        of direction-only rows pass ``("sign",)``, descriptive tables ``("sign", "size")``.
    estimate_label : str, optional
        Header of the estimate column. Default: the label set by :func:`set_estimate_label`
        ("Twin" unless the chapter runs on a reader's file).

    Returns
    -------
    pandas.io.formats.style.Styler
        Displays itself in a notebook; ``.to_html()`` gives the HTML string. Columns: the term;
        published and twin coefficients with stars and (SE); the estimand and effect when given;
        ``Class`` (``cal`` calibrated, ``unt`` untargeted, ``tgt`` target); ``Checks`` (✓/✗ for
        sign, stars and size, ``–`` where a check does not apply); ``P(sign)`` and ``P(stars)`` from
        the design analysis; the verdict; N and R² as footer rows.

    Raises
    ------
    ValueError
        If ``df`` lacks the compare_table columns.

    Examples
    --------
    >>> pub = pd.DataFrame({"table": ["t3"], "column": ["c1"], "term": ["x"], "coef": [0.1],
    ...                     "se": [0.02], "stars": ["***"], "sign": ["+"]})
    >>> html = style_compare_table(compare_table(pub, {"x": (0.1, 0.02)})).to_html()
    >>> "var(--pst-color-text-base" in html
    True
    >>> pub2 = pub.assign(term=["z"], coef=[0.00001], se=[0.000002])
    >>> both = compare_table(pd.concat([pub, pub2]), {"x": (0.1, 0.02), "z": (1.2e-5, 3e-6)})
    >>> list(style_compare_table(both, digits="auto").data["Published"])
    ['0.100*** (0.020)', '0.000010*** (0.000002)']
    >>> rows = compare_table(pub, {"x": (0.1, 0.02)}).assign(p_sign=0.97, p_size=0.4)
    >>> list(style_compare_table(rows, probabilities=("sign", "size")).data.columns[-3:])
    ['P(sign)', 'P(size)', 'Verdict']
    """
    need = {"term", "published_coef", "published_stars", "twin_coef", "twin_stars", "verdict"}
    if not need <= set(df.columns):
        raise ValueError(
            f"style_compare_table: expected compare_table() output with {sorted(need)}"
        )

    label = _ESTIMATE_LABEL[0] if estimate_label is None else estimate_label
    if not isinstance(label, str) or not label.strip() or label in ("Term", "Published"):
        raise ValueError(f"style_compare_table: estimate_label must be a non-empty string other "
                         f"than 'Term' and 'Published', got {label!r}")

    def tick(v: Any) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else ("✓" if v else "✗")

    if digits == "auto":
        row_digits = [_row_digits(a, b) for a, b in zip(df["published_coef"], df["twin_coef"],
                                                         strict=True)]
    elif isinstance(digits, int | np.integer) and not isinstance(digits, bool) and digits >= 0:
        row_digits = [int(digits)] * len(df)
    else:
        raise ValueError(f"style_compare_table: digits must be a non-negative int or 'auto', "
                         f"got {digits!r}")

    def cell(c: Any, stars: Any, se: Any, sign: Any = None, d: int = 4) -> str:
        if c is None or (isinstance(c, float) and math.isnan(c)):
            return f"{sign or ''}{stars or ''}"
        out = _fmt_num(c, stars, d)
        return out if se is None or (isinstance(se, float) and math.isnan(se)) else (
            f"{out} ({_fmt_num(se, None, d)})")

    def prob(v: Any, mcse: Any = None) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return f"{100 * float(v):.0f}%"

    cols: dict[str, list[str]] = {
        "Term": list(df["term"]),
        "Published": [
            cell(c, st, se, sg, d) for c, st, se, sg, d in zip(
                df["published_coef"], df["published_stars"], df["published_se"],
                df["published_sign"], row_digits, strict=True)
        ],
        label: [cell(c, st, se, None, d) for c, st, se, d in zip(
            df["twin_coef"], df["twin_stars"], df["twin_se"], row_digits, strict=True)],
    }
    truth_col = "estimand" if "estimand" in df else "truth"
    if truth_col in df and df[truth_col].notna().any():
        cols["Estimand"] = [_fmt_num(x, None, d) for x, d in zip(df[truth_col], row_digits,
                                                                   strict=True)]
    if "effect" in df and df["effect"].notna().any():
        cols["Effect"] = [_fmt_num(x, None, d) for x, d in zip(df["effect"], row_digits,
                                                                 strict=True)]
    if "class" in df and df["class"].notna().any():
        short = {"target": "tgt", "calibrated": "cal", "untargeted": "unt"}
        cols["Class"] = [short.get(x, str(x)) if isinstance(x, str) else "" for x in df["class"]]
    cols["Checks"] = [
        f"{tick(a)} {tick(b)} {tick(c)}" for a, b, c in zip(
            df["sign_agrees"], df["stars_agree"], df["within_tolerance"], strict=True)
    ]
    if probabilities is None:
        probabilities = ("sign", "stars") if "p_stars" in df and df["p_stars"].notna().any() else ()
    unknown = [p for p in probabilities if p not in ("sign", "stars", "size")]
    if unknown:
        raise ValueError(f"style_compare_table: probabilities must be among 'sign', 'stars', "
                         f"'size'; got {unknown}")
    for p in probabilities:
        vals = df[f"p_{p}"] if f"p_{p}" in df else [None] * len(df)
        cols[f"P({p})"] = [prob(x) for x in vals]
    cols["Verdict"] = list(df["verdict"])
    show = pd.DataFrame(cols)
    # published and twin N and R2 as footer rows: two rows (N, R²) for a table of one column, one
    # row per column ("N · R² (col2)") when the table stacks several columns or tables
    footer = _fit_footer(df, label)
    if footer:
        show = pd.concat([show, pd.DataFrame(footer)], ignore_index=True).fillna("")

    def colour(v: str) -> str:
        if v == "agrees":
            return "color: var(--pst-color-success, #2e7d32);"
        if v == "differs":
            return "color: var(--pst-color-danger, #c62828);"
        return ""

    sty = show.style.hide(axis="index").set_table_styles(_CSS)
    # long term names (lnAI_x_overseacountry) may break after an underscore, so that a table of
    # interaction terms fits the page's column
    sty = sty.format(lambda t: str(t).replace("_", "_<wbr>"), subset=["Term"])
    sty = sty.map(colour, subset=["Verdict"]).set_table_attributes('class="compare-table"')
    if caption:
        sty = sty.set_caption(caption)
    return sty



def _fit_footer(df: pd.DataFrame, label: str) -> list[dict[str, str]]:
    """Footer rows with the published and estimated N and R² of each column of a compare table."""
    if not {"published_N", "twin_N", "table", "column"} <= set(df.columns):
        return []

    def fmt(v: Any, spec: str) -> str:
        return "" if v is None or pd.isna(v) else spec.format(v)

    groups = list(df.groupby(["table", "column"], sort=False))
    several_tables = df["table"].nunique() > 1
    rows: list[dict[str, str]] = []
    for (table, column), g in groups:
        first = g.iloc[0]
        pub_n, pub_r2 = first.get("published_N"), first.get("published_r2")
        est_n, est_r2 = first.get("twin_N"), first.get("twin_r2")
        if all(v is None or pd.isna(v) for v in (pub_n, pub_r2, est_n, est_r2)):
            continue
        if len(groups) == 1:
            for row_label, pv, tv, spec in (("N", pub_n, est_n, "{:,.0f}"),
                                            ("R²", pub_r2, est_r2, "{:.3f}")):
                if (pv is None or pd.isna(pv)) and (tv is None or pd.isna(tv)):
                    continue
                rows.append({"Term": row_label, "Published": fmt(pv, spec), label: fmt(tv, spec)})
            continue
        where = f"{table} {column}" if several_tables else str(column)
        rows.append({"Term": f"N · R² ({where})",
                     "Published": " · ".join(x for x in (fmt(pub_n, "{:,.0f}"), fmt(pub_r2, "{:.3f}")) if x),
                     label: " · ".join(x for x in (fmt(est_n, "{:,.0f}"), fmt(est_r2, "{:.3f}")) if x)})
    return rows

def _clean(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(float(v)) else float(v)
    if v is pd.NA:
        return None
    return v


def write_scorecard(
    slug: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]], *, build_dir: Path | None = None
) -> Path:
    """Write (or update) ``_build/scorecards/<slug>.json`` with verdict rows.

    Rows of the tables present in ``rows`` replace the rows of those tables already in the
    file; rows of other tables are kept, so a chapter can write table by table.

    Parameters
    ----------
    slug : str
        Paper slug (one of ``helpers.paths.SLUGS``).
    rows : DataFrame or list of dict
        Output of :func:`compare_table` (or rows with at least :data:`SCORECARD_FIELDS`).
    build_dir : Path, optional
        Build folder (default ``helpers.paths.build_dir()``: ``_build``, or ``_build/quick`` in quick mode).

    Returns
    -------
    pathlib.Path
        The JSON file written (a list of row objects).

    Raises
    ------
    ValueError
        For an unknown slug, no rows, or rows lacking a scorecard field.

    Examples
    --------
    >>> import tempfile
    >>> rows = [dict.fromkeys(SCORECARD_FIELDS) | {"table": "t1", "term": "x"}]
    >>> write_scorecard("industry-finance-ai", rows, build_dir=Path(tempfile.mkdtemp())).name
    'industry-finance-ai.json'
    """
    slug_dir(slug)  # validates the slug
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else [dict(r) for r in rows]
    if not records:
        raise ValueError("write_scorecard: no rows to write")
    for i, r in enumerate(records):
        missing = [f for f in SCORECARD_FIELDS if f not in r]
        if missing:
            raise ValueError(
                f"write_scorecard: row {i} lacks field(s) {missing}; pass compare_table() output"
            )
    records = [{k: _clean(v) for k, v in r.items()} for r in records]
    folder = (build_dir or _build_dir()) / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{slug}.json"
    old = json.loads(file.read_text(encoding="utf-8")) if file.is_file() else []
    new_tables = {r["table"] for r in records}
    kept = [r for r in old if r.get("table") not in new_tables]
    tmp = file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(kept + records, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(file)
    return file


def read_scorecards(*, build_dir: Path | None = None) -> pd.DataFrame:
    """Load every ``_build/scorecards/*.json`` into one frame with a ``slug`` column.

    Parameters
    ----------
    build_dir : Path, optional
        Build folder (default ``helpers.paths.build_dir()``: ``_build``, or ``_build/quick`` in quick mode).

    Returns
    -------
    pandas.DataFrame
        All rows, ``slug`` first; empty (with the scorecard columns) when none were written.

    Raises
    ------
    ValueError
        If a scorecard file is not a JSON list of objects.

    Examples
    --------
    >>> import tempfile
    >>> read_scorecards(build_dir=Path(tempfile.mkdtemp())).empty
    True
    """
    folder = (build_dir or _build_dir()) / "scorecards"
    frames = []
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ValueError(f"read_scorecards: {file} is not a JSON list of row objects")
        if data:
            frames.append(pd.DataFrame(data).assign(slug=file.stem))
    if not frames:
        return pd.DataFrame(columns=["slug", *SCORECARD_FIELDS])
    out = pd.concat(frames, ignore_index=True)
    return out[["slug", *[c for c in out.columns if c != "slug"]]]

r"""Template twin: a minimal seeded firm-year panel with a known policy effect.

Copy this file to ``src/helpers/twins/<slug_with_underscores>.py`` when you add a paper, register
the module in ``helpers.twins.REGISTRY``, and replace the data-generating process by the paper's
design (``book/add-a-paper.md`` walks through the steps, ``book/contributing/calibration.md``
explains the honest-twin rules this module follows).

Design (truth first)
--------------------
``n_firms`` firms x 2012-2021, balanced. A share ``treated_share`` of firms adopts a policy in one of
the ``cohorts`` years; ``DID`` is 1 from the adoption year on. The outcome is

.. math:: y_{it} = \tau\,DID_{it} + \beta\,Size_{it} + \alpha_i + \lambda_t + \varepsilon_{it},

with firm effects :math:`\alpha_i`, year effects :math:`\lambda_t` and a homogeneous effect
:math:`\tau`, so that two-way fixed effects recover :math:`\tau` even under staggered adoption.
Adopters have larger firm effects (selection on levels), so a pooled OLS without firm effects
over-states :math:`\tau`.

How the template follows the honest-twin rules (``helpers.twins.engine``)
------------------------------------------------------------------------
1. *Calibrate in population.* ``tau`` and ``beta_size`` are set from the published coefficients
   (``calibration.yml`` tags them); every random term (firm, year and idiosyncratic shocks, the
   adoption draw) is drawn from the seed and never adjusted.
2. *One seed, fixed by a rule* (``seed`` and ``seed_rule`` in ``calibration.yml``); ``AICHINA_SEED``
   overrides it, so the chapter can be built at other seeds.
3. *Two truths per compared row* in ``truth["rows"]``: the estimand is the published specification
   fitted to the noise-free outcome :math:`E[y \mid \text{design}]` (``meta["expected"]``), the
   effect is :math:`\tau` (column 1 omits ``Size``, so its estimand differs from the effect by the
   in-sample omitted-variable term).
4. :func:`redraw` returns ``R`` new draws of the idiosyncratic shock, holding the design (firms,
   adoption, ``Size``, firm and year effects) fixed; replication ``r`` uses
   ``numpy.random.default_rng([seed, r])`` only.
5. :data:`SPECS` declares the published specifications for ``helpers.design.fit_many``.

True parameters (``twin.truth``): ``tau`` (effect of ``DID`` on ``y``), ``beta_size`` and ``rows``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyfixest as pf
import yaml

from helpers.paths import build_dir as _build_dir
from helpers.report import SCORECARD_FIELDS
from helpers.twins import engine as E

__all__ = ["HERE", "OUTCOMES", "SLUG", "SPECS", "build", "read_yaml", "redraw", "write_template_scorecard"]

SLUG = "template-paper"
"""The template's slug. A real paper's slug goes into ``helpers.paths.SLUGS``."""
HERE = Path(__file__).resolve().parent
"""The template folder (calibration.yml, published.yml and schema.yml live next to this file)."""
_CL = {"CRV1": "firm_id"}
SPECS: tuple[E.Spec, ...] = (
    E.Spec("table2/col1", "y ~ DID | firm_id+year", _CL, {"DID": "DID"}),
    E.Spec("table2/col2", "y ~ DID + Size | firm_id+year", _CL, {"DID": "DID", "Size": "Size"}),
    E.Spec("table3/col1", "y ~ DID + Size | year", _CL, {"DID": "DID"}),
)
"""The published specifications (``published.yml`` keys) that the chapter scores with
``helpers.design.fit_many``; SEs clustered by firm, as the paper's note says."""
OUTCOMES = ("y",)
"""Outcome columns that :func:`redraw` replicates."""


def read_yaml(name: str) -> dict[str, Any]:
    """Read one of the template's YAML files (``calibration.yml``, ``published.yml``, ``schema.yml``).

    Raises
    ------
    ValueError
        If the file does not exist in the template folder.

    Examples
    --------
    >>> read_yaml("calibration.yml")["truth"]["tau"]
    0.05
    """
    path = HERE / name
    if not path.is_file():
        raise ValueError(f"{path} does not exist; the template ships calibration.yml, "
                         "published.yml and schema.yml next to template_twin.py")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _default_seed(cal: dict[str, Any]) -> int:
    """``$AICHINA_SEED`` when set (a build at another seed), else the seed of ``calibration.yml``."""
    env = os.environ.get("AICHINA_SEED", "").strip()
    if not env:
        return int(cal["seed"])
    try:
        return int(env)
    except ValueError:
        raise ValueError(f"AICHINA_SEED must be an integer, got {env!r}") from None


def build(scale: str = "full", seed: int | None = None) -> E.Twin:
    """Build the template twin.

    Parameters
    ----------
    scale : {"full", "quick"}
        ``"full"``: ``panel.n_firms`` firms; ``"quick"``: ``panel.quick_firms`` firms.
    seed : int, optional
        Default: ``$AICHINA_SEED`` when set, else ``seed`` in ``calibration.yml``.

    Returns
    -------
    Twin
        ``panel`` (firm-year: ``firm_id``, ``year``, ``y``, ``DID``, ``first_year``, ``Size``),
        ``raw`` (``firms``: one row per firm with its adoption year), ``truth`` (``tau``,
        ``beta_size`` and ``rows``, the estimand and effect of every compared row), ``meta``
        (``seed``, ``scale``, ``builder``, ``expected``: the noise-free outcome).

    Raises
    ------
    ValueError
        For an unknown scale.

    Examples
    --------
    >>> tw = build("quick", seed=1)
    >>> tw.panel.shape, tw.truth["tau"], round(tw.truth_for("table2", "col2")["estimand"]["DID"], 10)
    ((1200, 6), 0.05, 0.05)
    """
    if scale not in ("full", "quick"):
        raise ValueError(f"scale must be 'full' or 'quick', got {scale!r}")
    cal = read_yaml("calibration.yml")
    seed = _default_seed(cal) if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    n = int(cal["panel"]["quick_firms" if scale == "quick" else "n_firms"])
    y0, y1 = cal["panel"]["years"]
    firms = [f"{600000 + i:06d}" for i in range(n)]
    panel = E.balanced_panel(firms, range(y0, y1 + 1), unit_col="firm_id")

    adopters = rng.random(n) < float(cal["treatment"]["treated_share"])
    cohorts = rng.choice(cal["treatment"]["cohorts"], size=n)
    adoption = {f: int(c) for f, c, a in zip(firms, cohorts, adopters, strict=True) if a}
    d, g = E.staggered_treatment(panel["firm_id"], panel["year"], adoption)

    nz, tr = cal["noise"], cal["truth"]
    size_t = cal["targets"]["Size"]
    firm_size = E.draw_effects(panel["firm_id"], 0.9, rng)
    size = size_t["mean"] + size_t["sd"] * (firm_size + math.sqrt(1 - 0.81) * rng.normal(size=len(panel)))
    alpha = E.draw_effects(panel["firm_id"], nz["firm_sd"], rng) + nz["selection"] * (g > 0)
    lam = E.draw_effects(panel["year"], nz["year_sd"], rng)
    expected = tr["tau"] * d + tr["beta_size"] * size + alpha + lam  # E[y | design]
    y = expected + rng.normal(0.0, nz["eps_sd"], size=len(panel))
    panel = panel.assign(y=y, DID=d, first_year=g, Size=size)
    raw = {"firms": pd.DataFrame({"firm_id": firms, "first_year": [adoption.get(f, 0) for f in firms]})}
    truth = {"tau": float(tr["tau"]), "beta_size": float(tr["beta_size"]),
             "rows": _truth_rows(panel.assign(y=expected), float(tr["tau"]), float(tr["beta_size"])),
             "doc": {"tau": "effect of DID on y", "beta_size": "coefficient of Size",
                     "rows": "per '<table>/<column>/<term>': estimand, effect and why they differ"}}
    meta = {"seed": seed, "scale": scale, "calibration": "calibration.yml",
            "seed_rule": cal["seed_rule"], "builder": __name__, "expected": np.asarray(expected)}
    return E.Twin(SLUG, panel, raw=raw, truth=truth, meta=meta)


def _truth_rows(noise_free: pd.DataFrame, tau: float, beta: float) -> dict[str, dict[str, Any]]:
    """Estimand (each spec fitted to the noise-free outcome) and effect of every compared row."""
    effects = {"DID": tau, "Size": beta}
    why = {"table2/col1": "Size is omitted: the estimand adds beta times the in-sample slope of Size on DID",
           "table3/col1": "no firm effects: adopters' larger firm effects load on DID (selection on levels)"}
    rows: dict[str, dict[str, Any]] = {}
    for spec in SPECS:
        data = noise_free if spec.sample is None else noise_free.query(spec.sample)
        fit = pf.feols(spec.formula, data=data)
        for pub_term, fit_term in spec.terms.items():
            est = float(fit.coef()[fit_term])
            rows[f"{spec.key}/{pub_term}"] = {
                "estimand": est, "effect": effects[pub_term],
                "why": why.get(spec.key)}  # None: the specification identifies the effect
    return rows


def redraw(twin: E.Twin, R: int, seed: int, *, start: int = 0,
           outcomes: Sequence[str] = OUTCOMES) -> dict[str, np.ndarray]:
    """``R`` replications of the outcome, holding the design fixed (rule 4 of the engine).

    Only the idiosyncratic shock is redrawn: firms, adoption, ``Size`` and the firm and year effects
    are the design. Replication ``r`` uses ``numpy.random.default_rng([seed, r])`` alone, so
    ``redraw(tw, 50, s, start=100)`` equals columns 100-149 of ``redraw(tw, 150, s)``.

    Parameters
    ----------
    twin : Twin
        A twin made by :func:`build`.
    R : int
        Number of replications.
    seed : int
        Seed of the replications.
    start : int, default 0
        Index of the first replication.
    outcomes : sequence of str
        Which of :data:`OUTCOMES` to return.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"y"`` -> ``n x R`` array aligned with ``twin.panel``.

    Raises
    ------
    ValueError
        For an unknown outcome.

    Examples
    --------
    >>> tw = build("quick", seed=1)
    >>> a = redraw(tw, 3, 5)["y"]
    >>> a.shape == (len(tw.panel), 3), bool((redraw(tw, 1, 5, start=2)["y"][:, 0] == a[:, 2]).all())
    (True, True)
    """
    bad = [o for o in outcomes if o not in OUTCOMES]
    if bad:
        raise ValueError(f"unknown outcome(s) {bad}; the template redraws {OUTCOMES}")
    sd = float(read_yaml("calibration.yml")["noise"]["eps_sd"])
    expected = np.asarray(twin.meta["expected"], dtype=float)
    y = np.empty((len(expected), int(R)))
    for j, r in enumerate(range(int(start), int(start) + int(R))):
        y[:, j] = expected + np.random.default_rng([int(seed), r]).normal(0.0, sd, len(expected))
    return {"y": y} if "y" in outcomes else {}


def write_template_scorecard(rows: pd.DataFrame, *, build_dir: Path | None = None) -> Path:
    """Write the template's verdict rows to ``<build folder>/scorecards/template-paper.json``.

    A registered chapter calls ``helpers.report.write_scorecard(SLUG, rows)``, which only accepts
    the slugs in ``helpers.paths.SLUGS``; the template is not a chapter of the book, so it writes
    the same JSON format here. The scorecard page ignores unregistered slugs.

    Parameters
    ----------
    rows : pandas.DataFrame
        Output of ``helpers.report.compare_table``.
    build_dir : Path, optional
        Default ``helpers.paths.build_dir()`` (``$AICHINA_BUILD_DIR`` when set).

    Returns
    -------
    pathlib.Path
        The JSON file.

    Raises
    ------
    ValueError
        If ``rows`` lacks a scorecard field.

    Examples
    --------
    >>> import tempfile
    >>> rows = pd.DataFrame([dict.fromkeys(SCORECARD_FIELDS, 1.0)])
    >>> write_template_scorecard(rows, build_dir=Path(tempfile.mkdtemp())).name
    'template-paper.json'
    """
    missing = [f for f in SCORECARD_FIELDS if f not in rows.columns]
    if missing:
        raise ValueError(f"write_template_scorecard: rows lack {missing}; pass compare_table() output")
    folder = (build_dir or _build_dir()) / "scorecards"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{SLUG}.json"
    records = json.loads(rows.to_json(orient="records"))  # NaN -> null, numpy -> plain JSON
    file.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    return file

r"""Template twin: a minimal seeded firm-year panel with a known policy effect.

Copy this file to ``src/helpers/twins/<slug_with_underscores>.py`` when you add a paper, register
the module in ``helpers.twins.REGISTRY``, and replace the data-generating process by the paper's
design (``book/add-a-paper.md`` walks through the steps).

Design (truth first)
--------------------
``n_firms`` firms x 2012-2021, balanced. A share ``treated_share`` of firms adopts a policy in one of
the ``cohorts`` years; ``DID`` is 1 from the adoption year on. The outcome is

.. math:: y_{it} = \tau\,DID_{it} + \beta\,Size_{it} + \alpha_i + \lambda_t + \varepsilon_{it},

with firm effects :math:`\alpha_i`, year effects :math:`\lambda_t` and a homogeneous effect
:math:`\tau`, so that two-way fixed effects recover :math:`\tau` even under staggered adoption.
Adopters have larger firm effects (selection on levels), so a pooled OLS without firm effects
over-states :math:`\tau`.

True parameters (``twin.truth``): ``tau`` (effect of ``DID`` on ``y``) and ``beta_size``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from helpers.paths import build_dir as _build_dir
from helpers.report import SCORECARD_FIELDS
from helpers.twins import engine as E

__all__ = ["HERE", "SLUG", "build", "read_yaml", "write_template_scorecard"]

SLUG = "template-paper"
"""The template's slug. A real paper's slug goes into ``helpers.paths.SLUGS``."""
HERE = Path(__file__).resolve().parent
"""The template folder (calibration.yml, published.yml and schema.yml live next to this file)."""


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


def build(scale: str = "full", seed: int | None = None) -> E.Twin:
    """Build the template twin.

    Parameters
    ----------
    scale : {"full", "quick"}
        ``"full"``: ``panel.n_firms`` firms; ``"quick"``: ``panel.quick_firms`` firms.
    seed : int, optional
        Default: ``seed`` in ``calibration.yml``.

    Returns
    -------
    Twin
        ``panel`` (firm-year: ``firm_id``, ``year``, ``y``, ``DID``, ``first_year``, ``Size``),
        ``raw`` (``firms``: one row per firm with its adoption year), ``truth``, ``meta``.

    Raises
    ------
    ValueError
        For an unknown scale.

    Examples
    --------
    >>> tw = build("quick", seed=1)
    >>> tw.panel.shape, tw.truth["tau"]
    ((1200, 6), 0.05)
    """
    if scale not in ("full", "quick"):
        raise ValueError(f"scale must be 'full' or 'quick', got {scale!r}")
    cal = read_yaml("calibration.yml")
    seed = int(cal["seed"]) if seed is None else int(seed)
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
    alpha = E.draw_effects(panel["firm_id"], nz["firm_sd"], rng) + 0.2 * (g > 0)  # selection
    lam = E.draw_effects(panel["year"], nz["year_sd"], rng)
    y = (tr["tau"] * d + tr["beta_size"] * size + alpha + lam
         + rng.normal(0.0, nz["eps_sd"], size=len(panel)))
    panel = panel.assign(y=y, DID=d, first_year=g, Size=size)
    raw = {"firms": pd.DataFrame({"firm_id": firms, "first_year": [adoption.get(f, 0) for f in firms]})}
    truth = {"tau": float(tr["tau"]), "beta_size": float(tr["beta_size"]),
             "doc": {"tau": "effect of DID on y", "beta_size": "coefficient of Size"}}
    meta = {"seed": seed, "scale": scale, "calibration": str(HERE / "calibration.yml")}
    return E.Twin(SLUG, panel, raw=raw, truth=truth, meta=meta)


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

r"""Goodman-Bacon (2021) decomposition of the TWFE DiD coefficient under staggered adoption.

With a balanced panel, a binary absorbing treatment and unit and period fixed effects, the TWFE
coefficient is a weighted average of all 2x2 DiD estimates that compare one timing group with
another (Goodman-Bacon 2021, Theorem 1):

.. math::

    \hat\beta^{DD} = \sum_{k \ne U} s_{kU}\,\hat\beta^{2x2}_{kU}
      + \sum_{e<\ell} \left[ s^{e}_{e\ell}\,\hat\beta^{2x2,e}_{e\ell}
      + s^{\ell}_{e\ell}\,\hat\beta^{2x2,\ell}_{e\ell} \right],

with weights (eqs. 10e--10g), for group shares :math:`n_k` and treated-time shares
:math:`\bar D_k`,

.. math::

    s_{kU} \propto (n_k + n_U)^2\, n_{kU}(1-n_{kU})\, \bar D_k(1-\bar D_k),\\
    s^{e}_{e\ell} \propto \big((n_e+n_\ell)(1-\bar D_\ell)\big)^2 n_{e\ell}(1-n_{e\ell})
        \tfrac{\bar D_e-\bar D_\ell}{1-\bar D_\ell}\tfrac{1-\bar D_e}{1-\bar D_\ell},\\
    s^{\ell}_{e\ell} \propto \big((n_e+n_\ell)\bar D_e\big)^2 n_{e\ell}(1-n_{e\ell})
        \tfrac{\bar D_\ell}{\bar D_e}\tfrac{\bar D_e-\bar D_\ell}{\bar D_e},

normalized to sum to one, where :math:`n_{kU} = n_k/(n_k+n_U)`. Comparison types follow R
``bacondecomp`` / Stata ``bacondecomp``:

=============================  =================================  ===========================
type (here)                    R ``bacondecomp``                  Stata ``bacondecomp``
=============================  =================================  ===========================
Earlier vs Later Treated       Earlier vs Later Treated           Earlier T vs. Later C
Later vs Earlier Treated       Later vs Earlier Treated           Later T vs. Earlier C
Treated vs Never Treated       Treated vs Untreated               T vs. Never treated
Treated vs Already Treated     Later vs Always Treated            T vs. Already treated
=============================  =================================  ===========================

"Already treated" units are treated in every period of the panel; like never-treated units their
treatment does not vary, so they enter with the :math:`s_{kU}` formula.

Reference: Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment
timing", *Journal of Econometrics* 225(2): 254--277, Theorem 1 and eqs. (10a)--(10g).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from helpers.did._inputs import (
    adoption_times,
    require_columns,
    require_dataframe,
    require_numeric,
)

__all__ = ["BACON_TYPES", "bacon_decomposition", "plot_bacon"]

EARLY_LATE = "Earlier vs Later Treated"
LATE_EARLY = "Later vs Earlier Treated"
NEVER = "Treated vs Never Treated"
ALREADY = "Treated vs Already Treated"
BACON_TYPES: tuple[str, ...] = (EARLY_LATE, LATE_EARLY, NEVER, ALREADY)
"""The four comparison types, in display order."""

_WHERE = "bacon_decomposition"


def _twfe(y: np.ndarray, d: np.ndarray) -> float:
    """TWFE coefficient of d on y for balanced (units x periods) arrays, exact within transform."""
    yt = y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + y.mean()
    dt = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    return float((dt * yt).sum() / (dt * dt).sum())


def _dd(y_treat: np.ndarray, y_ctrl: np.ndarray, post: np.ndarray) -> float:
    """2x2 DiD of group means: (treat post - treat pre) - (control post - control pre)."""
    return float(
        (y_treat[post].mean() - y_treat[~post].mean())
        - (y_ctrl[post].mean() - y_ctrl[~post].mean())
    )


def bacon_decomposition(
    data: pd.DataFrame, y: str, treatment: str, unit: str, time: str
) -> pd.DataFrame:
    r"""Goodman-Bacon decomposition of the TWFE DiD coefficient into 2x2 comparisons.

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced long panel: one row per unit and period, every unit in every period.
    y : str
        Outcome column.
    treatment : str
        Absorbing 0/1 treatment dummy (staggered adoption).
    unit, time : str
        Panel identifiers; ``time`` must be numeric.

    Returns
    -------
    pandas.DataFrame
        One row per 2x2 comparison with columns ``type`` (see :data:`BACON_TYPES`),
        ``treated`` and ``control`` (adoption period of the two timing groups; ``inf`` = never
        treated, ``-inf`` = already treated in the first period), ``estimate`` (the 2x2 DiD),
        ``weight`` (sums to one) and ``weighted`` (= weight x estimate). ``df.attrs["twfe"]``
        holds the TWFE coefficient, which equals ``(weight * estimate).sum()``;
        ``df.attrs["summary"]`` the weight and weighted-average estimate by type.

    Raises
    ------
    ValueError
        If a column is missing, the panel is unbalanced or has missing outcomes, the treatment
        is not an absorbing 0/1 dummy or never varies, or there is only one timing group and
        no never-treated or already-treated units to compare it with.

    Notes
    -----
    Estimates are differences of group means on each comparison's window (for "Earlier vs
    Later" the periods before the later group adopts; for "Later vs Earlier" the periods from
    the earlier group's adoption on); each equals the TWFE coefficient on that two-group
    sub-panel. See the module docstring for the weights and the reference.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"id": np.repeat([1, 2, 3], 10), "t": np.tile(np.arange(1, 11), 3)})
    >>> df["D"] = ((df["id"] == 2) & (df["t"] >= 5) | (df["id"] == 3) & (df["t"] >= 8)).astype(int)
    >>> df["Y"] = np.where(df["id"] == 2, 2, 4) * df["D"]
    >>> dec = bacon_decomposition(df, "Y", "D", "id", "t")
    >>> round(dec.attrs["twfe"], 3), round(float((dec.weight * dec.estimate).sum()), 3)
    (2.909, 2.909)
    """
    require_dataframe(data, _WHERE)
    require_columns(data, [y, treatment, unit, time], _WHERE)
    require_numeric(data, [y, treatment, time], _WHERE)
    if data[y].isna().any():
        raise ValueError(
            f"{_WHERE}: the outcome {y!r} has {int(data[y].isna().sum())} missing values; the "
            "decomposition needs a balanced panel, so drop those units or impute the outcome"
        )
    adoption = adoption_times(data, treatment, unit, time, _WHERE)
    units, ucode = np.unique(data[unit].to_numpy(), return_inverse=True)
    times, tcode = np.unique(data[time].to_numpy(dtype=float), return_inverse=True)
    n_units, n_times = len(units), len(times)
    if len(data) != n_units * n_times:
        raise ValueError(
            f"{_WHERE}: the panel is unbalanced ({len(data)} rows for {n_units} units x "
            f"{n_times} periods); Goodman-Bacon's decomposition is exact only for balanced "
            "panels: keep the units observed in every period (e.g. with "
            "df.groupby(unit).filter(lambda g: len(g) == n_periods))"
        )
    ygrid = np.zeros((n_units, n_times))
    ygrid[ucode, tcode] = data[y].to_numpy(dtype=float)
    dgrid = np.zeros((n_units, n_times))
    dgrid[ucode, tcode] = data[treatment].to_numpy(dtype=float)

    # timing groups: adoption period; first-period adopters are "already treated" (-inf)
    adopt = adoption.reindex(units).to_numpy(dtype=float)
    adopt = np.where(adopt <= times[0], -np.inf, adopt)
    groups = np.unique(adopt)
    timing = [g for g in groups if np.isfinite(g)]
    never = [g for g in groups if g == np.inf]
    already = [g for g in groups if g == -np.inf]
    if not timing:
        raise ValueError(
            f"{_WHERE}: no unit adopts the treatment {treatment!r} inside the panel (every "
            "unit is never or always treated); there is no timing variation to decompose"
        )
    if len(timing) == 1 and not never and not already:
        raise ValueError(
            f"{_WHERE}: all treated units adopt in the same period and there are no "
            "never-treated (or already-treated) units, so no 2x2 comparison exists"
        )

    twfe = _twfe(ygrid, dgrid)
    share = {g: float(np.mean(adopt == g)) for g in groups}
    dbar = {g: float(np.mean(times >= g)) for g in timing}
    ymean = {g: ygrid[adopt == g].mean(axis=0) for g in groups}  # mean path per group

    rows: list[dict[str, object]] = []
    for k in timing:
        post = times >= k
        for u, kind in [(g, NEVER) for g in never] + [(g, ALREADY) for g in already]:
            nk, nu = share[k], share[u]
            nku = nk / (nk + nu)
            w = (nk + nu) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k])
            rows.append(
                {
                    "type": kind,
                    "treated": k,
                    "control": u,
                    "estimate": _dd(ymean[k], ymean[u], post),
                    "raw_weight": w,
                }
            )
    for e, late in itertools.combinations(timing, 2):  # e < late (sorted)
        ne, nl = share[e], share[late]
        nel = ne / (ne + nl)
        de, dl = dbar[e], dbar[late]
        window = times < late  # earlier group treated vs later group not yet treated
        post = times[window] >= e
        w_e = (
            ((ne + nl) * (1 - dl)) ** 2
            * nel
            * (1 - nel)
            * ((de - dl) / (1 - dl))
            * ((1 - de) / (1 - dl))
        )
        rows.append(
            {
                "type": EARLY_LATE,
                "treated": e,
                "control": late,
                "estimate": _dd(ymean[e][window], ymean[late][window], post),
                "raw_weight": w_e,
            }
        )
        window = times >= e  # later group treated vs earlier group already treated
        post = times[window] >= late
        w_l = ((ne + nl) * de) ** 2 * nel * (1 - nel) * (dl / de) * ((de - dl) / de)
        rows.append(
            {
                "type": LATE_EARLY,
                "treated": late,
                "control": e,
                "estimate": _dd(ymean[late][window], ymean[e][window], post),
                "raw_weight": w_l,
            }
        )
    out = pd.DataFrame(rows)
    out["weight"] = out["raw_weight"] / out["raw_weight"].sum()
    out["weighted"] = out["weight"] * out["estimate"]
    out = out.drop(columns="raw_weight")
    out["type"] = pd.Categorical(out["type"], categories=list(BACON_TYPES), ordered=True)
    out = out.sort_values(["type", "treated", "control"], ignore_index=True)
    out["type"] = out["type"].astype(str)
    summary = (
        out.groupby("type", sort=False)
        .apply(
            lambda g: pd.Series(
                {
                    "weight": g["weight"].sum(),
                    "avg_estimate": (g["weighted"].sum() / g["weight"].sum())
                    if g["weight"].sum() > 0
                    else float("nan"),
                    "n_comparisons": len(g),
                }
            ),
            include_groups=False,
        )
        .reset_index()
    )
    out.attrs["twfe"] = twfe
    out.attrs["summary"] = summary
    return out


def plot_bacon(
    decomposition: pd.DataFrame, ax: object | None = None, *, title: str | None = None
) -> Figure:
    """Scatter of each 2x2 estimate against its weight, by comparison type.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        The output of :func:`bacon_decomposition`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.
    title : str, optional
        Axes title; by default states the TWFE coefficient.

    Returns
    -------
    matplotlib.figure.Figure
        Points (one marker per type), a dashed line at the TWFE coefficient, a line at zero.

    Raises
    ------
    ValueError
        If ``decomposition`` lacks the ``type``, ``weight`` and ``estimate`` columns.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"id": np.repeat([1, 2, 3], 6), "t": np.tile(np.arange(6), 3)})
    >>> df["D"] = ((df["id"] == 2) & (df["t"] >= 2) | (df["id"] == 3) & (df["t"] >= 4)).astype(int)
    >>> df["Y"] = df["D"] * 1.0 + df["t"] * 0.1
    >>> fig = plot_bacon(bacon_decomposition(df, "Y", "D", "id", "t"))
    """
    import matplotlib.pyplot as plt

    require_columns(decomposition, ["type", "weight", "estimate"], "plot_bacon")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    else:
        fig = ax.figure
    markers = dict(zip(BACON_TYPES, ["o", "^", "s", "D"], strict=True))
    for i, kind in enumerate(BACON_TYPES):
        part = decomposition[decomposition["type"] == kind]
        if len(part):
            ax.scatter(
                part["weight"], part["estimate"], marker=markers[kind], color=f"C{i}", label=kind
            )
    ax.axhline(0.0, color="0.5", lw=0.8)
    twfe = decomposition.attrs.get("twfe")
    if twfe is not None:
        ax.axhline(twfe, color="C3", ls="--", lw=1.5, label=f"TWFE = {twfe:.4g}")
    ax.set_xlabel("weight")
    ax.set_ylabel("2x2 DiD estimate")
    ax.set_title(title if title is not None else "Goodman-Bacon decomposition")
    ax.legend(frameon=False, fontsize="small")
    return fig

"""Composite indices: entropy weights, scatter-degree weights, coupling coordination.

The "index construction" step of the chapters. Each function writes its formula in the docstring,
checks its input at the boundary and raises :class:`ValueError` with a message that says how to fix
the problem (a constant indicator, a NaN, a negative value where the method needs positive ones).

=============================  =============================================================
``entropy_weights``            entropy weight method (熵值法); weights, entropies, divergences
``entropy_index``              the composite score (and dimension sub-indices) built on them
``scatter_degree_weights``     vertical-and-horizontal scatter-degree method (纵横向拉开档次法)
``scatter_degree_index``       its composite score per entity-year
``coupling_coordination``      coupling C, comprehensive T, coordination D and its ten grades
=============================  =============================================================
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "COUPLING_GRADES",
    "DEFAULT_SHIFT",
    "EntropyResult",
    "ScatterDegreeResult",
    "coupling_coordination",
    "entropy_index",
    "entropy_weights",
    "scatter_degree_index",
    "scatter_degree_weights",
]

DEFAULT_SHIFT = 1e-4
"""Shift added to min-max standardized values before taking logs (the usual 0.0001 of Chinese
practice). Without it the worst unit of every positive indicator has x' = 0 and p ln p is 0 ln 0."""

COUPLING_GRADES: tuple[tuple[float, float, str, str], ...] = (
    (0.0, 0.1, "极度失调", "Extreme imbalance"),
    (0.1, 0.2, "严重失调", "Serious imbalance"),
    (0.2, 0.3, "中度失调", "Moderate imbalance"),
    (0.3, 0.4, "轻度失调", "Mild imbalance"),
    (0.4, 0.5, "濒临失调", "Verge of imbalance"),
    (0.5, 0.6, "勉强协调", "Barely coordinated"),
    (0.6, 0.7, "初级协调", "Primary coordination"),
    (0.7, 0.8, "中级协调", "Intermediate coordination"),
    (0.8, 0.9, "良好协调", "Good coordination"),
    (0.9, 1.0, "优质协调", "High-quality coordination"),
)
"""The standard ten grades of the coupling-coordination degree D: ``(lower, upper, Chinese,
English)``; each interval is ``[lower, upper)`` except the last, which includes 1."""


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------


def _as_indicator_frame(X: Any, name: str = "X") -> pd.DataFrame:
    """Return ``X`` as a float DataFrame of indicators, with clear errors for bad input."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if not isinstance(X, pd.DataFrame):
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ValueError(
                f"{name} must be a 2-D table (observations x indicators); got an array with "
                f"{arr.ndim} dimension(s). Pass a DataFrame with one column per indicator."
            )
        X = pd.DataFrame(arr, columns=[f"x{j + 1}" for j in range(arr.shape[1])])
    if X.shape[0] < 2 or X.shape[1] < 1:
        raise ValueError(
            f"{name} has shape {X.shape}; it needs at least 2 observations and 1 indicator."
        )
    if X.columns.duplicated().any():
        dups = list(X.columns[X.columns.duplicated()])
        raise ValueError(f"{name} has duplicated column names {dups}; rename them first.")
    non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if non_numeric:
        raise ValueError(
            f"indicator column(s) {non_numeric} of {name} are not numeric; convert them or "
            "drop them (identifier columns such as firm or year do not belong in X)."
        )
    out = X.astype(float)
    nan_cols = [c for c in out.columns if out[c].isna().any()]
    if nan_cols:
        counts = {c: int(out[c].isna().sum()) for c in nan_cols}
        raise ValueError(
            f"{name} contains missing values (NaN count by column: {counts}); impute or drop "
            "those rows before building the index."
        )
    inf_cols = [c for c in out.columns if not np.isfinite(out[c].to_numpy()).all()]
    if inf_cols:
        raise ValueError(f"{name} contains infinite values in column(s) {inf_cols}.")
    return out


def _check_not_constant(X: pd.DataFrame, by: pd.Series | None = None) -> None:
    """Raise if an indicator is constant (pooled, or within a group when ``by`` is given)."""
    if by is None:
        span = X.max() - X.min()
        const = list(span.index[span.to_numpy() <= 0])
        if const:
            raise ValueError(
                f"indicator(s) {const} are constant (zero variance): min-max standardization "
                "divides by max - min = 0 and they carry no information. Drop them."
            )
        return
    span = X.groupby(by, sort=True).agg(lambda s: s.max() - s.min())
    bad = [(g, c) for c in span.columns for g in span.index[span[c].to_numpy() <= 0]]
    if bad:
        raise ValueError(
            f"with per-group standardization (by=...) these (group, indicator) cells are "
            f"constant: {bad[:10]}{' ...' if len(bad) > 10 else ''}; min-max standardization "
            "divides by zero there. Standardize on the pooled sample (by=None) or drop them."
        )


def _parse_directions(directions: Mapping[Hashable, Any] | None, columns: pd.Index) -> pd.Series:
    """Turn a mapping column -> +1/-1/'+'/'-' into a Series of +1.0/-1.0 (default +1)."""
    out = pd.Series(1.0, index=columns)
    if directions is None:
        return out
    if not isinstance(directions, Mapping):
        raise ValueError(
            "directions must be a mapping {column: +1 or -1} (or '+'/'-'); got "
            f"{type(directions).__name__}."
        )
    unknown = [k for k in directions if k not in columns]
    if unknown:
        raise ValueError(
            f"directions name column(s) {unknown} that are not in the data; the indicator "
            f"columns are {list(columns)}."
        )
    for key, value in directions.items():
        if value in (1, "+", "positive", "pos"):
            out[key] = 1.0
        elif value in (-1, "-", "negative", "neg"):
            out[key] = -1.0
        else:
            raise ValueError(
                f"direction {value!r} for column {key!r} is not understood; use +1/'+' for a "
                "benefit indicator and -1/'-' for a cost indicator."
            )
    return out


def _resolve_by(by: Any, X: pd.DataFrame) -> pd.Series | None:
    """Return the grouping Series for per-group standardization, aligned with ``X``."""
    if by is None:
        return None
    if isinstance(by, str):
        raise ValueError(
            f"by={by!r} is not a column of X; pass a column name of X or a Series aligned "
            "with X's index."
        )
    if isinstance(by, pd.Series):
        if not by.index.equals(X.index):
            raise ValueError(
                "by is a Series whose index differs from X's index; align it (for example "
                "panel['year'] for X = panel[indicators])."
            )
        g = by
    else:
        g = pd.Series(list(by), index=X.index) if len(by) == len(X) else None
        if g is None:
            raise ValueError(f"by has {len(by)} entries but X has {len(X)} rows; align them.")
    if g.isna().any():
        raise ValueError(f"the grouping variable by has {int(g.isna().sum())} missing value(s).")
    return g


def _minmax(X: pd.DataFrame, sign: pd.Series, by: pd.Series | None) -> pd.DataFrame:
    """Min-max standardize with directions: (x-min)/(max-min) or (max-x)/(max-min)."""
    if by is None:
        lo, hi = X.min(), X.max()
    else:
        grouped = X.groupby(by, sort=False)
        lo, hi = grouped.transform("min"), grouped.transform("max")
    span = hi - lo
    pos = (X - lo) / span
    neg = (hi - X) / span
    out = pos.copy()
    neg_cols = list(sign.index[sign.to_numpy() < 0])
    if neg_cols:
        out[neg_cols] = neg[neg_cols]
    return out


# ---------------------------------------------------------------------------------------------
# entropy weight method
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntropyResult:
    """Everything the entropy weight method computes, for display in a chapter.

    Attributes
    ----------
    weights : pd.Series
        :math:`w_j = d_j / \\sum_j d_j`, indexed by indicator, summing to 1.
    entropy : pd.Series
        :math:`e_j = -\\frac{1}{\\ln n}\\sum_k p_{kj}\\ln p_{kj}` in [0, 1].
    divergence : pd.Series
        :math:`d_j = 1 - e_j` (the "redundancy" or "information utility").
    standardized : pd.DataFrame
        The standardized matrix :math:`x'_{kj}` (min-max with directions, no shift), or the raw
        data when ``standardize=False``.
    shares : pd.DataFrame
        :math:`p_{kj}`, the column-wise shares that enter the entropy.
    shift : float
        The shift that was added before the shares were formed.
    """

    weights: pd.Series
    entropy: pd.Series
    divergence: pd.Series
    standardized: pd.DataFrame
    shares: pd.DataFrame
    shift: float

    def table(self) -> pd.DataFrame:
        """Return e_j, d_j and w_j side by side, one row per indicator."""
        return pd.DataFrame(
            {"entropy": self.entropy, "divergence": self.divergence, "weight": self.weights}
        )


def entropy_weights(
    X: pd.DataFrame,
    directions: Mapping[Hashable, Any] | None = None,
    standardize: bool = True,
    *,
    shift: float | None = None,
    by: str | pd.Series | Sequence[Any] | None = None,
    return_details: bool = False,
) -> pd.Series | EntropyResult:
    r"""Entropy weights (熵值法) of the indicator columns of ``X``.

    Parameters
    ----------
    X : pd.DataFrame
        One row per observation (firm-year, city-year ...), one numeric column per indicator.
        Identifier columns must not be included. No NaN allowed.
    directions : mapping, optional
        ``{column: +1 or -1}`` (``'+'``/``'-'`` also accepted). Columns not named are positive
        (benefit) indicators. Only used when ``standardize=True``.
    standardize : bool, default True
        Min-max standardize first (the usual practice). With ``False`` the weights are the
        textbook method on the raw data: :math:`p_{kj} = x_{kj} / \sum_k x_{kj}` (values must be
        non-negative, and ``0 \ln 0 = 0``).
    shift : float, optional
        Added to every standardized value before the shares are formed, so that no
        :math:`p_{kj}` is 0. Default :data:`DEFAULT_SHIFT` (1e-4, the "0.0001 translation" of
        Chinese practice) when ``standardize=True`` and 0 when ``standardize=False``. With 0 the
        convention :math:`0\ln 0 = 0` is used. The shift is not innocuous: as it grows every
        :math:`e_j` tends to 1 and the weights tend to the shares of the variances of
        :math:`x'_j` (a second-order expansion of :math:`p\ln p`), so a shift of 1 gives very
        different weights from 1e-4. Keep it small and report it.
    by : str or Series, optional
        Standardize within groups (e.g. ``by="year"``, a column of ``X``, or a Series aligned
        with ``X``): min and max are taken per group, then the entropy and weights are computed
        once on the stacked standardized data. Default ``None`` pools all rows. The two give
        **different trends**: per-year standardization makes the best unit of every year score
        1 and the worst 0, which removes common growth, so year means of the index can no longer
        rise over time. Use the pooled default when a chapter plots the index over time.
    return_details : bool, default False
        Return an :class:`EntropyResult` (weights, :math:`e_j`, :math:`d_j`, the standardized
        matrix and the shares) instead of the weights alone.

    Returns
    -------
    pd.Series or EntropyResult
        Weights indexed by indicator, summing to 1 (or the full result).

    Raises
    ------
    ValueError
        NaN or infinite values; a constant indicator (zero variance, pooled or within a ``by``
        group); negative values with ``standardize=False``; an unknown column in ``directions``;
        directions with ``standardize=False``; a negative shift.

    Notes
    -----
    With :math:`n` observations and :math:`m` indicators,

    .. math::

        x'_{kj} = \frac{x_{kj} - \min_k x_{kj}}{\max_k x_{kj} - \min_k x_{kj}}\ (+),\quad
        x'_{kj} = \frac{\max_k x_{kj} - x_{kj}}{\max_k x_{kj} - \min_k x_{kj}}\ (-),

        p_{kj} = \frac{x'_{kj} + \varepsilon}{\sum_k (x'_{kj} + \varepsilon)},\quad
        e_j = -\frac{1}{\ln n}\sum_k p_{kj}\ln p_{kj},\quad d_j = 1 - e_j,\quad
        w_j = \frac{d_j}{\sum_j d_j}.

    Min-max standardization makes the weights invariant to the units of each indicator
    (rescaling a column by a positive constant or adding a constant changes nothing).

    References
    ----------
    Shannon (1948); the formulas as used for the new-quality-productivity index in the spec of
    ``ai-new-quality-productivity`` (§1.5, after Song Jia et al. 2024).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 1.0, 1.0, 9.0]})
    >>> w = entropy_weights(X)
    >>> round(float(w.sum()), 12), bool(w["b"] > w["a"])
    (1.0, True)
    """
    if isinstance(by, str) and isinstance(X, pd.DataFrame) and by in X.columns:
        group_col = X[by]
        X = X.drop(columns=by)
        by = group_col
    X = _as_indicator_frame(X)
    if shift is None:
        shift = DEFAULT_SHIFT if standardize else 0.0
    if not np.isfinite(shift) or shift < 0:
        raise ValueError(f"shift must be a finite non-negative number; got {shift!r}.")
    group = _resolve_by(by, X)
    sign = _parse_directions(directions, X.columns)
    n = X.shape[0]

    if standardize:
        _check_not_constant(X, group)
        Z = _minmax(X, sign, group)
    else:
        if (sign < 0).any():
            raise ValueError(
                "directions with a negative (cost) indicator need standardize=True: the raw "
                "textbook method has no way to reverse an indicator."
            )
        if group is not None:
            raise ValueError("by=... only applies with standardize=True.")
        _check_not_constant(X)
        negative = list(X.columns[(X < 0).any().to_numpy()])
        if negative:
            raise ValueError(
                f"indicator(s) {negative} have negative values; the raw entropy method needs "
                "x >= 0 (shares p = x / sum x). Use standardize=True (min-max) instead."
            )
        Z = X

    shifted = Z + shift
    totals = shifted.sum()
    if (totals <= 0).any():
        bad = list(totals.index[totals.to_numpy() <= 0])
        raise ValueError(f"indicator(s) {bad} sum to zero; their shares are undefined.")
    P = shifted / totals
    Pv = P.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(Pv > 0, Pv * np.log(np.where(Pv > 0, Pv, 1.0)), 0.0)
    e = pd.Series(-plogp.sum(axis=0) / np.log(n), index=X.columns, name="entropy")
    d = (1.0 - e).rename("divergence")
    if float(d.sum()) <= 0:
        raise ValueError(
            "every indicator has entropy 1 (all divergences are zero), so the weights are "
            "undefined; the indicators do not vary enough relative to the shift."
        )
    w = (d / d.sum()).rename("weight")
    if not return_details:
        return w
    return EntropyResult(
        weights=w, entropy=e, divergence=d, standardized=Z, shares=P, shift=float(shift)
    )


def entropy_index(
    X: pd.DataFrame,
    directions: Mapping[Hashable, Any] | None = None,
    standardize: bool = True,
    *,
    shift: float | None = None,
    by: str | pd.Series | Sequence[Any] | None = None,
    weights: pd.Series | Mapping[Hashable, float] | None = None,
    scale: float = 1.0,
    dimensions: Mapping[str, Sequence[Hashable]] | None = None,
) -> pd.Series | pd.DataFrame:
    r"""Composite score from entropy weights: :math:`S_k = \text{scale}\sum_j w_j x'_{kj}`.

    Parameters
    ----------
    X, directions, standardize, shift, by
        As in :func:`entropy_weights` (the same standardization is applied to the score).
    weights : Series or mapping, optional
        Use these weights instead of estimating them (e.g. weights estimated on the pooled
        sample applied to a subsample). Must cover every column and sum to 1.
    scale : float, default 1.0
        Multiply the score (``100`` gives the 0-100 scale of the NQP index).
    dimensions : mapping, optional
        ``{dimension name: [columns]}``. When given, a DataFrame is returned with one
        sub-index per dimension, :math:`D_k = \text{scale}\sum_{j\in D} w_j x'_{kj}`, and the
        total in column ``"index"``; the sub-indices add up to the index when the dimensions
        partition the columns.

    Returns
    -------
    pd.Series or pd.DataFrame
        The score aligned with ``X``'s index (name ``"index"``), or the sub-index table.

    Raises
    ------
    ValueError
        As :func:`entropy_weights`; weights that do not match the columns or do not sum to 1;
        a dimension naming an unknown column.

    Notes
    -----
    The score uses the standardized values *without* the shift (the shift only protects the
    logarithm); adding it would raise every score by the constant ``scale * shift``. With
    ``standardize=False`` the score is :math:`\sum_j w_j x_{kj}` on the raw data.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "cost": [3.0, 2.0, 1.0]})
    >>> entropy_index(X, directions={"cost": "-"}, scale=100).round(1).tolist()
    [0.0, 50.0, 100.0]
    """
    res = entropy_weights(X, directions, standardize, shift=shift, by=by, return_details=True)
    assert isinstance(res, EntropyResult)
    Z = res.standardized
    if weights is None:
        w = res.weights
    else:
        w = pd.Series(weights, dtype=float)
        if set(w.index) != set(Z.columns):
            raise ValueError(
                f"weights are indexed by {list(w.index)} but the indicators are "
                f"{list(Z.columns)}; they must match one to one."
            )
        if not np.isclose(w.sum(), 1.0, atol=1e-8) or (w < 0).any():
            raise ValueError(f"weights must be non-negative and sum to 1; they sum to {w.sum()}.")
        w = w.reindex(Z.columns)
    contrib = Z * w * scale
    total = contrib.sum(axis=1).rename("index")
    if dimensions is None:
        return total
    out = {}
    for name, cols in dimensions.items():
        missing = [c for c in cols if c not in Z.columns]
        if missing:
            raise ValueError(f"dimension {name!r} names unknown indicator(s) {missing}.")
        out[name] = contrib[list(cols)].sum(axis=1)
    frame = pd.DataFrame(out, index=Z.index)
    frame["index"] = total
    return frame


# ---------------------------------------------------------------------------------------------
# vertical-and-horizontal scatter-degree method
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScatterDegreeResult:
    """Intermediate quantities of the scatter-degree method.

    Attributes
    ----------
    weights : pd.Series
        Normalized weights (sum 1, non-negative).
    eigenvector : pd.Series
        The unit-length eigenvector (or constrained maximizer) before normalization to sum 1.
    eigenvalue : float
        :math:`\\lambda_{max}(H)` (the maximized total dispersion :math:`w^\\top H w` at the
        unit-length eigenvector).
    H : pd.DataFrame
        :math:`H = \\sum_k A_k^\\top A_k` of the globally z-scored data.
    constrained : bool
        True when the leading eigenvector had mixed signs and the non-negative problem was
        solved numerically instead.
    """

    weights: pd.Series
    eigenvector: pd.Series
    eigenvalue: float
    H: pd.DataFrame
    constrained: bool = field(default=False)


def _panel_indicators(
    panel: pd.DataFrame, entity: str, time: str, columns: Sequence[Hashable] | None
) -> pd.DataFrame:
    if not isinstance(panel, pd.DataFrame):
        raise ValueError("panel must be a DataFrame with entity, time and indicator columns.")
    for col in (entity, time):
        if col not in panel.columns:
            raise ValueError(f"column {col!r} is missing from the panel.")
    if columns is None:
        columns = [c for c in panel.columns if c not in (entity, time)]
    else:
        missing = [c for c in columns if c not in panel.columns]
        if missing:
            raise ValueError(f"indicator column(s) {missing} are missing from the panel.")
    if len(columns) < 2:
        raise ValueError("the scatter-degree method needs at least 2 indicator columns.")
    if panel[[entity, time]].isna().any().any():
        raise ValueError("entity or time has missing values.")
    if panel.duplicated([entity, time]).any():
        raise ValueError(
            f"the panel has duplicated ({entity}, {time}) pairs; keep one row per entity-time."
        )
    return _as_indicator_frame(panel[list(columns)], name="panel indicators")


def _nonneg_leading_vector(H: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Unit vector maximizing w'Hw, with w >= 0 (eigenvector if it has one sign)."""
    vals, vecs = np.linalg.eigh(H)
    v = vecs[:, -1]
    if v.sum() < 0:
        v = -v
    tol = 1e-12 * max(1.0, float(np.abs(v).max()))
    if (v >= -tol).all():
        v = np.clip(v, 0.0, None)
        return v / np.linalg.norm(v), float(vals[-1]), False
    # mixed signs: maximize w'Hw on the unit sphere restricted to w >= 0 with SLSQP, started
    # from the positive part of the eigenvector (the spec's fallback, bigdata spec section 3.1).
    from scipy.optimize import minimize

    m = H.shape[0]
    x0 = np.clip(v, 0.0, None) + 1e-3
    x0 /= np.linalg.norm(x0)
    res = minimize(
        lambda w: -float(w @ H @ w),
        x0,
        jac=lambda w: -2.0 * (H @ w),
        method="SLSQP",
        bounds=[(0.0, None)] * m,
        constraints=[{"type": "eq", "fun": lambda w: float(w @ w) - 1.0, "jac": lambda w: 2.0 * w}],
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    w = np.clip(res.x, 0.0, None)
    w /= np.linalg.norm(w)
    return w, float(w @ H @ w), True


def scatter_degree_weights(
    panel: pd.DataFrame,
    entity: str,
    time: str,
    directions: Mapping[Hashable, Any] | None = None,
    *,
    columns: Sequence[Hashable] | None = None,
    return_details: bool = False,
) -> pd.Series | ScatterDegreeResult:
    r"""Weights of the vertical-and-horizontal scatter-degree method (纵横向拉开档次法).

    Parameters
    ----------
    panel : pd.DataFrame
        Long panel, one row per entity-time, with the indicator columns.
    entity, time : str
        Column names of the entity (city, firm) and the time period.
    directions : mapping, optional
        ``{column: +1 or -1}``; a negative indicator enters as :math:`-x`.
    columns : sequence, optional
        Indicator columns (default: every column except ``entity`` and ``time``).
    return_details : bool, default False
        Return a :class:`ScatterDegreeResult` with ``H``, the eigenvalue and eigenvector.

    Returns
    -------
    pd.Series or ScatterDegreeResult
        Non-negative weights indexed by indicator, summing to 1.

    Raises
    ------
    ValueError
        Missing columns, duplicated entity-time pairs, NaN, a constant indicator, fewer than
        two indicators.

    Notes
    -----
    Guo Yajun's method chooses the weights that spread the composite score of all entities in
    all periods as far apart as possible:

    1. apply the directions (:math:`x\to -x` for a cost indicator);
    2. z-score every indicator on the pooled panel,
       :math:`x^*_{ij}(t_k) = (x_{ij}(t_k) - \bar x_j)/s_j`;
    3. :math:`H = \sum_{k=1}^{N} A_k^\top A_k`, with :math:`A_k` the :math:`n\times m`
       standardized matrix of period :math:`k` (equivalently :math:`X^{*\top}X^*` of the
       stacked panel; unbalanced panels are fine);
    4. :math:`\max_w w^\top H w` s.t. :math:`w^\top w = 1`: :math:`w` is the eigenvector of the
       largest eigenvalue of :math:`H`, sign made positive. If its components have mixed signs,
       the problem with :math:`w \ge 0` is solved numerically (``constrained=True`` in the
       details);
    5. normalize: :math:`w_j \leftarrow w_j/\sum_j w_j`.

    Because :math:`H = nN\,R` with :math:`R` the pooled correlation matrix, the weights are the
    first principal-component loadings of :math:`R`, rescaled to sum to 1; they do not change
    when an indicator is rescaled.

    References
    ----------
    Guo Yajun 郭亚军 (2002), 《综合评价理论与方法》, Science Press, ch. on dynamic evaluation;
    Guo Yajun (1994), "一种新的动态综合评价方法", 《管理科学学报》. Spec of
    ``bigdata-innovation-fusion`` §3.1.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"city": ["a", "b", "c"] * 2, "year": [1, 1, 1, 2, 2, 2],
    ...                   "x1": [1.0, 2, 3, 2, 3, 5], "x2": [2.0, 1, 4, 3, 3, 6]})
    >>> w = scatter_degree_weights(p, "city", "year")
    >>> round(float(w.sum()), 12), bool((w > 0).all())
    (1.0, True)
    """
    X = _panel_indicators(panel, entity, time, columns)
    _check_not_constant(X)
    sign = _parse_directions(directions, X.columns)
    Xd = X * sign
    Z = (Xd - Xd.mean()) / Xd.std(ddof=0)
    A = Z.to_numpy()
    H = A.T @ A
    v, lam, constrained = _nonneg_leading_vector(H)
    w = pd.Series(v / v.sum(), index=X.columns, name="weight")
    if not return_details:
        return w
    return ScatterDegreeResult(
        weights=w,
        eigenvector=pd.Series(v, index=X.columns, name="eigenvector"),
        eigenvalue=lam,
        H=pd.DataFrame(H, index=X.columns, columns=X.columns),
        constrained=constrained,
    )


def scatter_degree_index(
    panel: pd.DataFrame,
    entity: str,
    time: str,
    directions: Mapping[Hashable, Any] | None = None,
    *,
    columns: Sequence[Hashable] | None = None,
    weights: pd.Series | None = None,
    score: Literal["minmax", "zscore"] = "minmax",
    shift: float = DEFAULT_SHIFT,
) -> pd.DataFrame:
    r"""Composite score per entity-time from scatter-degree weights.

    Parameters
    ----------
    panel, entity, time, directions, columns
        As in :func:`scatter_degree_weights`.
    weights : pd.Series, optional
        Pre-computed weights (default: :func:`scatter_degree_weights` on the same panel).
    score : {"minmax", "zscore"}, default "minmax"
        ``"minmax"``: :math:`Y_i(t_k) = \sum_j w_j\,(\tilde x_{ij}(t_k) + \varepsilon)` with
        :math:`\tilde x` the pooled min-max value (cost indicators reversed), a score in
        :math:`[\varepsilon, 1+\varepsilon]` - positive, as the coupling model needs.
        ``"zscore"``: Guo's original :math:`y_i(t_k) = \sum_j w_j x^*_{ij}(t_k)` (mean 0, can be
        negative).
    shift : float, default 1e-4
        :math:`\varepsilon` of the min-max score (ignored for ``"zscore"``).

    Returns
    -------
    pd.DataFrame
        Columns ``entity``, ``time`` and ``score``, aligned with the panel's index.

    Raises
    ------
    ValueError
        As :func:`scatter_degree_weights`, or an unknown ``score``.

    References
    ----------
    Spec of ``bigdata-innovation-fusion`` §3.1 step 5 (pooled min-max score with a 1e-4 offset).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"city": ["a", "b"] * 2, "year": [1, 1, 2, 2],
    ...                   "x1": [0.0, 1, 2, 3], "x2": [0.0, 2, 1, 3]})
    >>> s = scatter_degree_index(p, "city", "year", shift=0.0)
    >>> s["score"].round(3).tolist()
    [0.0, 0.5, 0.5, 1.0]
    """
    X = _panel_indicators(panel, entity, time, columns)
    _check_not_constant(X)
    sign = _parse_directions(directions, X.columns)
    if weights is None:
        w = scatter_degree_weights(panel, entity, time, directions, columns=list(X.columns))
        assert isinstance(w, pd.Series)
    else:
        w = pd.Series(weights, dtype=float)
        if set(w.index) != set(X.columns):
            raise ValueError(f"weights must be indexed by the indicators {list(X.columns)}.")
        w = w.reindex(X.columns)
    if score == "minmax":
        Z = _minmax(X, sign, None) + shift
    elif score == "zscore":
        Xd = X * sign
        Z = (Xd - Xd.mean()) / Xd.std(ddof=0)
    else:
        raise ValueError(f"score must be 'minmax' or 'zscore'; got {score!r}.")
    out = panel[[entity, time]].copy()
    out["score"] = (Z * w).sum(axis=1)
    return out


# ---------------------------------------------------------------------------------------------
# coupling coordination
# ---------------------------------------------------------------------------------------------


def coupling_coordination(
    *subsystems: Any,
    weights: Sequence[float] | None = None,
) -> pd.DataFrame:
    r"""Coupling degree C, comprehensive index T, coordination degree D and the grade of D.

    Parameters
    ----------
    *subsystems : array-like
        Two or more subsystem scores :math:`U_1, \dots, U_n` of equal length, each in [0, 1]
        (for example the pooled min-max composite scores of two innovation subsystems). Series
        must share one index, which the result keeps.
    weights : sequence of float, optional
        Contribution coefficients :math:`a_i` of :math:`T`, non-negative, summing to 1
        (default equal, :math:`a = b = 0.5` for two subsystems).

    Returns
    -------
    pd.DataFrame
        Columns ``C``, ``T``, ``D``, ``grade`` (1-10), ``grade_zh`` and ``grade_en`` (see
        :data:`COUPLING_GRADES`).

    Raises
    ------
    ValueError
        Fewer than two subsystems; lengths or indexes that differ; NaN; values outside [0, 1];
        a row where every subsystem is 0 (C is 0/0); bad weights.

    Notes
    -----
    .. math::

        C = \frac{n\,(\prod_{i=1}^n U_i)^{1/n}}{\sum_{i=1}^n U_i},\qquad
        T = \sum_i a_i U_i,\qquad D = \sqrt{C\,T}.

    :math:`C` is the ratio of the geometric to the arithmetic mean of the :math:`U_i`, so it is
    in [0, 1] and equals 1 exactly when the subsystems are equal. For two subsystems this is
    :math:`C = 2\sqrt{U_1U_2}/(U_1+U_2)`, the form printed as eq. (1) of the big-data paper
    (spec ``bigdata-innovation-fusion`` §1.5, with :math:`a=b=0.5`). Some papers use the older
    :math:`C=\sqrt{U_1U_2}/(U_1+U_2)`, whose range is [0, 0.5], or the exponent form
    :math:`C = [\prod U_i / (\sum U_i / n)^n]^{1/n}`; the latter is the same number as ours.
    With :math:`U_i\in[0,1]`, :math:`T\in[0,1]` and so :math:`D\in[0,1]`. The grades cut
    :math:`D` at 0.1, 0.2, ..., 0.9 (极度失调 ... 优质协调).

    References
    ----------
    Wang Shujia, Kong Wei, Ren Liang & Zhi Dandan (2021), "国内耦合协调度模型的误区及修正",
    《自然资源学报》 36(3): 793-810 (the corrected model used here).

    Examples
    --------
    >>> out = coupling_coordination([0.2, 0.5], [0.2, 0.1])
    >>> out[["C", "T", "D"]].round(4).values.tolist()
    [[1.0, 0.2, 0.4472], [0.7454, 0.3, 0.4729]]
    >>> out["grade_zh"].tolist()
    ['濒临失调', '濒临失调']
    """
    if len(subsystems) < 2:
        raise ValueError(
            f"coupling_coordination needs at least two subsystems; got {len(subsystems)}."
        )
    index = None
    cols = []
    for i, u in enumerate(subsystems):
        if isinstance(u, pd.Series):
            if index is None:
                index = u.index
            elif not u.index.equals(index):
                raise ValueError(
                    f"subsystem {i + 1} has a different index from subsystem 1; align them."
                )
        arr = np.asarray(u, dtype=float)
        if arr.ndim != 1:
            raise ValueError(f"subsystem {i + 1} must be one-dimensional; got shape {arr.shape}.")
        cols.append(arr)
    lengths = {len(c) for c in cols}
    if len(lengths) != 1:
        raise ValueError(f"subsystems have different lengths {[len(c) for c in cols]}.")
    U = np.column_stack(cols)
    n_sys = U.shape[1]
    if np.isnan(U).any():
        raise ValueError(
            f"subsystem scores contain {int(np.isnan(U).sum())} NaN value(s); drop or impute them."
        )
    if (U < 0).any() or (U > 1).any():
        raise ValueError(
            f"subsystem scores must lie in [0, 1] (found min {U.min():.4g}, max {U.max():.4g}); "
            "min-max normalize the subsystem indices first."
        )
    total = U.sum(axis=1)
    if (total == 0).any():
        rows = np.flatnonzero(total == 0)[:5].tolist()
        raise ValueError(
            f"every subsystem is 0 in row(s) {rows}; C = 0/0 is undefined there. Add the small "
            "shift of the index construction (e.g. 1e-4) or drop those rows."
        )
    if weights is None:
        a = np.full(n_sys, 1.0 / n_sys)
    else:
        a = np.asarray(weights, dtype=float)
        if a.shape != (n_sys,):
            raise ValueError(f"weights needs {n_sys} entries, one per subsystem; got {a.shape}.")
        if (a < 0).any() or not np.isclose(a.sum(), 1.0):
            raise ValueError(f"weights must be non-negative and sum to 1; got {a.tolist()}.")
    with np.errstate(divide="ignore"):
        geo = np.exp(np.log(U).mean(axis=1))
    C = np.clip(n_sys * geo / total, 0.0, 1.0)
    T = U @ a
    D = np.sqrt(C * T)
    edges = np.array([g[0] for g in COUPLING_GRADES[1:]])
    # Small tolerance so that D computed as 0.3 - 1e-17 falls in the grade of 0.3.
    grade = np.searchsorted(edges, D + 1e-12, side="right") + 1
    out = pd.DataFrame({"C": C, "T": T, "D": D, "grade": grade}, index=index)
    out["grade_zh"] = [COUPLING_GRADES[g - 1][2] for g in grade]
    out["grade_en"] = [COUPLING_GRADES[g - 1][3] for g in grade]
    return out

"""Input checks shared by the DiD helpers (private).

Every public function of :mod:`helpers.did` validates its inputs once, at the boundary, with these
checks, so that the messages read the same everywhere: what was wrong, where, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "adoption_times",
    "as_list",
    "require_columns",
    "require_dataframe",
    "require_multiple_clusters",
    "require_numeric",
]


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Return ``value`` as a list of column names (``None`` -> ``[]``, ``"x"`` -> ``["x"]``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def require_dataframe(data: object, where: str) -> pd.DataFrame:
    """Raise unless ``data`` is a non-empty pandas DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"{where}: `data` must be a pandas DataFrame, got {type(data).__name__}; "
            "convert it with pd.DataFrame(...) first"
        )
    if len(data) == 0:
        raise ValueError(f"{where}: `data` has no rows; pass the estimation sample")
    return data


def require_columns(data: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise if any of ``columns`` is missing from ``data``, naming all missing columns."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise ValueError(
            f"{where}: column(s) {shown} missing from the data; available columns start with "
            f"{list(data.columns[:12])}; rename or create the column before calling"
        )


def require_numeric(data: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise if any of ``columns`` is not numeric (bool counts as numeric)."""
    bad = [
        c
        for c in columns
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))
    ]
    if bad:
        raise ValueError(
            f"{where}: column(s) {bad} must be numeric; convert them with .astype(float)"
        )


def require_multiple_clusters(data: pd.DataFrame, cluster: str, where: str) -> None:
    """Raise if the cluster variable has fewer than two distinct values."""
    n = data[cluster].nunique(dropna=True)
    if n < 2:
        raise ValueError(
            f"{where}: the cluster variable {cluster!r} has {n} cluster(s); cluster-robust "
            "standard errors need at least two (and, to be reliable, dozens); cluster at a "
            "coarser or different level, or pass cluster=None for heteroskedasticity-robust SEs"
        )


def adoption_times(
    data: pd.DataFrame, treatment: str, unit: str, time: str, where: str
) -> pd.Series:
    """Read each unit's adoption time off an absorbing 0/1 treatment dummy.

    Returns a Series indexed by unit with the first period in which the treatment is 1, and
    ``np.inf`` for units that are never treated. Raises if the dummy is not 0/1, never varies,
    or switches off again (the permutation and decomposition designs need staggered adoption).
    """
    d = data[treatment]
    if d.isna().any():
        raise ValueError(
            f"{where}: the treatment {treatment!r} has {int(d.isna().sum())} missing values; "
            "drop those rows or code them 0/1"
        )
    values = set(np.unique(d.to_numpy(dtype=float)))
    if not values <= {0.0, 1.0}:
        raise ValueError(
            f"{where}: the treatment {treatment!r} must be a 0/1 dummy, found values "
            f"{sorted(values)[:6]}; build it as (time >= adoption_year) * treated_group"
        )
    if len(values) < 2:
        raise ValueError(
            f"{where}: the treatment {treatment!r} never varies (always {values.pop():g}); "
            "a DiD needs both treated and untreated observations"
        )
    if data.duplicated([unit, time]).any():
        raise ValueError(
            f"{where}: ({unit!r}, {time!r}) does not identify the rows: "
            f"{int(data.duplicated([unit, time]).sum())} duplicated unit-period pairs; "
            "aggregate to one row per unit and period"
        )
    t = data[time].to_numpy(dtype=float)
    treated_t = np.where(d.to_numpy(dtype=float) == 1.0, t, np.inf)
    first = pd.Series(treated_t, index=data.index).groupby(data[unit], sort=True).min()
    implied = (t >= first.reindex(data[unit]).to_numpy()).astype(float)
    switches = implied != d.to_numpy(dtype=float)
    if switches.any():
        bad_units = pd.unique(data.loc[switches, unit])[:5]
        raise ValueError(
            f"{where}: the treatment {treatment!r} is not absorbing: it switches back to 0 "
            f"after adoption for unit(s) {list(bad_units)}; these designs need staggered "
            "adoption (once treated, always treated)"
        )
    first.name = "adoption"
    return first

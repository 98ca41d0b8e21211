r"""Capital and labour wedges within industry-year cells (resource misallocation).

Two measures:

* ``method="chen_hu"`` (default; 陈永伟、胡伟民 2011, the *relative distortion* used in Chinese papers and
  in spec industry-finance-ai §3, mechanism ``Misalloc``). Within a cell (industry × year) with output
  shares :math:`s_i = p_i y_i / \sum_j p_j y_j` and output-weighted elasticity
  :math:`\beta_K = \sum_i s_i \beta_{K,i}`,

  .. math::
     \gamma_{K,i} = \frac{K_i / K}{s_i \beta_{K,i} / \beta_K}, \qquad \tau_{K,i} = \frac{1}{\gamma_{K,i}} - 1,

  and the same for labour. :math:`\gamma_{K,i} > 1` (:math:`\tau_{K,i} < 0`) means firm *i* uses more
  capital than an undistorted allocation would give it (capital is cheap for it); :math:`\tau_{K,i} > 0`
  means it is taxed. The chapter uses :math:`|\tau_K|` and :math:`|\tau_L|`. With equal elasticities in
  the cell (the default, ``beta_k=None``) the ratio is simply capital share over output share.
* ``method="hsieh_klenow"`` (Hsieh & Klenow 2009, eqs. 17–18): the capital wedge
  :math:`1+\tau_{K,i} = \frac{\alpha}{1-\alpha}\,\frac{w L_i}{R K_i}` and the output wedge
  :math:`1-\tau_{Y,i} = \frac{\sigma}{\sigma-1}\,\frac{w L_i}{(1-\alpha) P_i Y_i}`, from the wage bill,
  capital, value added, the capital share :math:`\alpha`, rental rate :math:`R` (0.10) and elasticity of
  substitution :math:`\sigma` (3). There the labour wedge is the output wedge (HK normalise labour).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["METHODS", "distortions"]

METHODS = ("chen_hu", "hsieh_klenow")
RENTAL_RATE = 0.10
SIGMA = 3.0


def _positive(frame: pd.DataFrame, col: str) -> np.ndarray:
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(float)
    if np.isnan(values).any() or not np.isfinite(values).all():
        raise ValueError(
            f"column {col!r} has missing or non-finite values; drop or impute those rows first"
        )
    if (values <= 0).any():
        n = int((values <= 0).sum())
        raise ValueError(
            f"column {col!r} has {n} zero or negative values; the wedges need positive inputs and output "
            "(drop those firm-years, as the usual cleaning does)"
        )
    return values


def _elasticity(frame: pd.DataFrame, beta: float | str | None, label: str) -> np.ndarray:
    if beta is None:
        return np.ones(len(frame))
    if isinstance(beta, str):
        if beta not in frame.columns:
            raise ValueError(f"{label}={beta!r} names no column of the data")
        values = pd.to_numeric(frame[beta], errors="coerce").to_numpy(float)
    else:
        values = np.full(len(frame), float(beta))
    if np.isnan(values).any() or (values <= 0).any():
        raise ValueError(f"{label} must be positive (no missing values); got {beta!r}")
    return values


def distortions(
    data: pd.DataFrame,
    *,
    capital: str = "K",
    labor: str = "L",
    output: str = "Y",
    group: str | Sequence[str] = ("industry", "year"),
    method: str = "chen_hu",
    beta_k: float | str | None = None,
    beta_l: float | str | None = None,
    alpha: float | str | None = None,
    rental_rate: float = RENTAL_RATE,
    sigma: float = SIGMA,
    drop_singletons: bool = False,
) -> pd.DataFrame:
    r"""Capital and labour wedges of each firm relative to its industry-year cell.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per firm-year.
    capital, labor, output : str
        Columns with capital :math:`K`, labour :math:`L` (employees for ``chen_hu``; the **wage bill**
        :math:`wL` for ``hsieh_klenow``) and output :math:`py` (value added or revenue), all positive.
    group : str or sequence of str, default ("industry", "year")
        The cell within which firms are compared.
    method : {"chen_hu", "hsieh_klenow"}, default "chen_hu"
        See the module docstring.
    beta_k, beta_l : float, column name or None
        ``chen_hu`` output elasticities of capital and labour (firm- or industry-specific columns, e.g.
        from :func:`helpers.productivity.tfp` by industry). ``None`` (default) assumes equal elasticities
        within a cell, so they cancel.
    alpha : float or column name
        ``hsieh_klenow`` capital share :math:`\alpha` (required for that method).
    rental_rate, sigma : float
        ``hsieh_klenow`` :math:`R` (0.10) and :math:`\sigma` (3).
    drop_singletons : bool, default False
        Cells with one firm have no within-cell comparison (:math:`\tau = 0` by construction). By default
        they raise; ``True`` drops them.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data`` (minus dropped singletons). ``chen_hu``: ``gamma_K``, ``gamma_L``,
        ``tau_K``, ``tau_L``. ``hsieh_klenow``: ``tau_K``, ``tau_Y``.

    Raises
    ------
    ValueError
        Missing columns, non-positive or missing values, singleton cells, bad parameters.

    References
    ----------
    陈永伟、胡伟民 (2011). 价格扭曲、要素错配和效率损失：理论和应用. 经济学(季刊) 10(4): 1401–1422.
    Hsieh, C.-T. & Klenow, P. J. (2009). Misallocation and manufacturing TFP in China and India.
    *QJE* 124(4): 1403–1448, eqs. (17)–(18).

    Examples
    --------
    >>> df = pd.DataFrame({"industry": "C13", "year": 2015, "K": [10.0, 30.0], "L": [5.0, 15.0],
    ...                    "Y": [30.0, 30.0]})
    >>> distortions(df)["tau_K"].round(4).tolist()  # gamma = (10/40)/0.5 = 0.5 and (30/40)/0.5 = 1.5
    [1.0, -0.3333]
    """
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise ValueError("data must be a non-empty pandas DataFrame with one row per firm-year")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    keys = [group] if isinstance(group, str) else list(group)
    missing = [c for c in [capital, labor, output, *keys] if c not in data.columns]
    if missing:
        raise ValueError(
            f"columns {missing} are missing from the data (it has {list(data.columns)}); "
            "pass capital=, labor=, output=, group= with your names"
        )
    if data[keys].isna().any().any():
        raise ValueError(f"the group columns {keys} have missing values; every firm needs its cell")
    size = data.groupby(keys, sort=False)[capital].transform("size")
    single = size.to_numpy() == 1
    if single.any():
        if not drop_singletons:
            raise ValueError(
                f"{int(single.sum())} industry-year cells have a single firm (no within-cell comparison); "
                "pool industries, or pass drop_singletons=True"
            )
        data = data.loc[~single]
    K = _positive(data, capital)
    L = _positive(data, labor)
    Y = _positive(data, output)

    if method == "hsieh_klenow":
        if alpha is None:
            raise ValueError(
                "method='hsieh_klenow' needs alpha, the capital share (a number or a column)"
            )
        a = _elasticity(data, alpha, "alpha")
        if (a >= 1).any():
            raise ValueError("alpha must lie in (0, 1)")
        if rental_rate <= 0 or sigma <= 1:
            raise ValueError("rental_rate must be positive and sigma greater than 1")
        tau_k = a / (1 - a) * L / (rental_rate * K) - 1
        tau_y = 1 - sigma / (sigma - 1) * L / ((1 - a) * Y)
        return pd.DataFrame({"tau_K": tau_k, "tau_Y": tau_y}, index=data.index)

    bk = _elasticity(data, beta_k, "beta_k")
    bl = _elasticity(data, beta_l, "beta_l")
    cells = data.groupby(keys, sort=False).ngroup().to_numpy()
    total = lambda x: np.bincount(cells, weights=x)[cells]  # noqa: E731
    share = Y / total(Y)
    out = {}
    for name, x, b in (("K", K, bk), ("L", L, bl)):
        b_bar = total(share * b)
        gamma = (x / total(x)) / (share * b / b_bar)
        out[f"gamma_{name}"] = gamma
        out[f"tau_{name}"] = 1 / gamma - 1
    return pd.DataFrame(out, index=data.index)[["gamma_K", "gamma_L", "tau_K", "tau_L"]]

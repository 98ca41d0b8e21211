"""Compiled loops of :mod:`helpers.design` for large designs (numba, compiled once and cached on disk).

Two passes over an ``n x R`` block of outcome columns, one row at a time and all columns of the
row together, so no ``N x R`` intermediate is formed:

* :func:`block_sums` -- :math:`X_s'y` and the sums of :math:`y` within every fixed-effect level;
* :func:`block_meat` -- with the coefficients and fixed-effect coefficients solved from those sums,
  the residual :math:`e = y - D a - \\tilde X\\beta` of each row and the meat of the sandwich:
  :math:`\\sum e^2` (iid), :math:`\\sum_i e_i^2 x_i x_i'` (hetero) or
  :math:`\\sum_g s_g s_g'` with :math:`s_g = \\sum_{i\\in g} x_{s,i} e_i` (CRV1, rows visited
  cluster by cluster).

The functions release the GIL (``nogil``), so replications split across threads run in parallel.
They are private: :class:`helpers.design.ManyDesign` checks their inputs and is tested against
pyfixest with them forced on small designs.
"""

from __future__ import annotations

import numba
import numpy as np

IID, HETERO, CRV1 = 0, 1, 2


@numba.njit(nogil=True, cache=True)
def block_sums(Y: np.ndarray, index: np.ndarray, Xs: np.ndarray, fe: np.ndarray,
               XsY: np.ndarray, FS: np.ndarray) -> None:  # pragma: no cover - compiled
    """Add :math:`X_s'Y` to ``XsY`` (k x R) and the level sums of ``Y`` to ``FS`` (levels x R).

    Row ``i`` of the design is row ``index[i]`` of ``Y``; ``fe[i, j]`` is its level (stacked over the
    fixed effects) in fixed effect ``j``.
    """
    N, k = Xs.shape
    R = Y.shape[1]
    nf = fe.shape[1]
    for i in range(N):
        ri = index[i]
        for j in range(nf):
            lev = fe[i, j]
            for c in range(R):
                FS[lev, c] += Y[ri, c]
        for a in range(k):
            x = Xs[i, a]
            for c in range(R):
                XsY[a, c] += x * Y[ri, c]


@numba.njit(nogil=True, cache=True)
def block_meat(Y: np.ndarray, index: np.ndarray, Xt: np.ndarray, Xs: np.ndarray, fe: np.ndarray,
               FC: np.ndarray, beta: np.ndarray, order: np.ndarray, cluster: np.ndarray,
               vtype: int, meat: np.ndarray) -> None:  # pragma: no cover - compiled
    """Add the meat of every column to ``meat`` (k x k x R; iid: ``meat[0, 0]`` gets the sums of e^2).

    ``FC`` holds the fixed-effect coefficients (levels x R, stacked like ``fe``); rows are visited in
    ``order`` and, for CRV1, ``cluster[order]`` must be sorted so that each cluster is contiguous.
    """
    N, k = Xt.shape
    R = Y.shape[1]
    nf = fe.shape[1]
    e = np.empty(R)
    s = np.zeros((k, R))
    for p in range(N):
        i = order[p]
        ri = index[i]
        for c in range(R):
            e[c] = Y[ri, c]
        for j in range(nf):
            lev = fe[i, j]
            for c in range(R):
                e[c] -= FC[lev, c]
        for a in range(k):
            x = Xt[i, a]
            for c in range(R):
                e[c] -= x * beta[a, c]
        if vtype == 0:
            for c in range(R):
                meat[0, 0, c] += e[c] * e[c]
        elif vtype == 1:
            for a in range(k):
                for b in range(a + 1):
                    xab = Xs[i, a] * Xs[i, b]
                    for c in range(R):
                        meat[a, b, c] += xab * e[c] * e[c]
        else:
            for a in range(k):
                x = Xs[i, a]
                for c in range(R):
                    s[a, c] += x * e[c]
            if p == N - 1 or cluster[order[p + 1]] != cluster[i]:
                for a in range(k):
                    for b in range(a + 1):
                        for c in range(R):
                            meat[a, b, c] += s[a, c] * s[b, c]
                s[:, :] = 0.0
    if vtype != 0:  # only the lower triangle was accumulated
        for a in range(k):
            for b in range(a):
                for c in range(R):
                    meat[b, a, c] = meat[a, b, c]

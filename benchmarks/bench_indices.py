"""Timings of the index, inequality and spatial helpers at chapter scale.

Run: ``.venv/bin/python benchmarks/bench_indices.py``. Prints one line per measurement; no
assertions (budgets are read by people, not tests).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from helpers.indices import coupling_coordination, entropy_weights, scatter_degree_weights
from helpers.inequality import dagum_gini, theil
from helpers.spatial import knn_weights, local_morans_i, morans_i


def _time(label: str, fn, repeat: int = 3) -> None:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:<60s} {best:8.3f} s")


def main() -> None:
    rng = np.random.default_rng(0)
    # NQP-like: 30,000 firm-years x 15 indicators
    X = pd.DataFrame(rng.lognormal(size=(30_000, 15)), columns=[f"x{j}" for j in range(15)])
    _time("entropy_weights, 30,000 x 15", lambda: entropy_weights(X))
    # STII-like: 283 cities x 13 years x 13 indicators
    panel = pd.DataFrame(rng.lognormal(size=(283 * 13, 13)), columns=[f"x{j}" for j in range(13)])
    panel.insert(0, "year", np.repeat(np.arange(2010, 2023), 283))
    panel.insert(0, "city", np.tile(np.arange(283), 13))
    _time(
        "scatter_degree_weights, 283 x 13 years x 13",
        lambda: scatter_degree_weights(panel, "city", "year"),
    )
    u = rng.uniform(size=(3679, 2))
    _time("coupling_coordination, 3,679 rows", lambda: coupling_coordination(u[:, 0], u[:, 1]))
    # inequality: 5,000 and 100,000 observations in 8 groups
    for n in (5_000, 100_000):
        y = rng.lognormal(size=n)
        g = rng.integers(0, 8, size=n)
        _time(f"dagum_gini, n = {n:,}, 8 groups", lambda y=y, g=g: dagum_gini(y, g))
        _time(f"theil with groups, n = {n:,}", lambda y=y, g=g: theil(y, g))
    # spatial: 283 cities (lon/lat) and 2,000 units
    for n in (283, 2_000):
        coords = np.column_stack([rng.uniform(75, 135, n), rng.uniform(18, 53, n)])
        vals = coords[:, 0] + rng.normal(size=n)
        W = knn_weights(coords, 5)
        _time(f"knn_weights (haversine), n = {n:,}", lambda c=coords: knn_weights(c, 5))
        _time(f"morans_i, n = {n:,}", lambda v=vals, W=W: morans_i(v, W))
        _time(
            f"local_morans_i, 999 permutations, n = {n:,}",
            lambda v=vals, W=W: local_morans_i(v, W, permutations=999, seed=1),
            repeat=1,
        )


if __name__ == "__main__":
    main()

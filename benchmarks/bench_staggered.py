"""Time helpers.did.staggered_did on a 4,000-firm x 13-year panel (2 cores); prints seconds.

Run: ``.venv/bin/python benchmarks/bench_staggered.py``. Budget: well under 30 s in total.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from helpers.did import staggered_did
from helpers.did.staggered import ESTIMATORS

N_FIRMS, N_YEARS = 4000, 13


def make_panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    years = np.arange(2008, 2008 + N_YEARS)
    g = rng.choice([2012, 2014, 2016, 0], size=N_FIRMS, p=[0.2, 0.2, 0.2, 0.4])
    df = pd.DataFrame({"firm": np.repeat(np.arange(N_FIRMS), N_YEARS),
                       "year": np.tile(years, N_FIRMS), "g": np.repeat(g, N_YEARS)})
    treat = (df.g > 0) & (df.year >= df.g)
    df["y"] = (rng.normal(size=N_FIRMS)[df.firm] + 0.1 * (df.year - 2008)
               + treat * (1 + 0.1 * (df.year - df.g)) + rng.normal(size=len(df)))
    return df


def main() -> None:
    df = make_panel()
    staggered_did(df.head(130 * N_YEARS), "y", "firm", "year", "g")  # warm-up (imports)
    for key in ESTIMATORS:
        t0 = time.perf_counter()
        staggered_did(df, "y", "firm", "year", "g", estimators=(key,))
        print(f"{key:12s} {time.perf_counter() - t0:6.2f} s")
    t0 = time.perf_counter()
    res = staggered_did(df, "y", "firm", "year", "g")
    print(f"{'all':12s} {time.perf_counter() - t0:6.2f} s  ({len(df):,} rows, "
          f"{N_FIRMS:,} firms x {N_YEARS} years)")
    print(res.summary.round(4).to_string(index=False))


if __name__ == "__main__":
    main()

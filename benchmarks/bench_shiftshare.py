"""Timings of the shift-share helpers: the primer's scale and chapter 3's (firms x 14 industries).

Run: ``.venv/bin/python benchmarks/bench_shiftshare.py``. Prints one line per measurement; no
assertions (budgets are read by people, not tests). The primer calls ``shock_level`` + ``shock_iv``
once or twice per simulated draw (about 2,000 times), so their per-call time sets its run time.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from helpers.shiftshare import exposure, rotemberg_weights, shock_iv, shock_level


def _time(label: str, fn, repeat: int = 3, number: int = 1) -> None:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    print(f"{label:<60s} {best:10.5f} s")


def main() -> None:
    rng = np.random.default_rng(0)
    for L, K in ((400, 40), (50_000, 14)):
        cols = [f"ind{k:02d}" for k in range(K)]
        S = pd.DataFrame(rng.dirichlet(np.full(K, 0.3), L) * rng.uniform(0.2, 0.8, (L, 1)), columns=cols)
        g = pd.Series(rng.normal(size=K), index=cols)
        z = exposure(S, g).to_numpy()
        x = z + rng.normal(size=L)
        y = 0.5 * x + rng.normal(size=L)
        ctrl = S.sum(axis=1).to_numpy()
        n = 200 if L < 1_000 else 5
        _time(f"exposure, {L:,} x {K}", lambda S=S, g=g: exposure(S, g), number=n)
        _time(f"shock_level + shock_iv, {L:,} x {K}",
              lambda S=S, g=g, y=y, x=x, c=ctrl: shock_iv(shock_level(S, y, x, controls=c), g), number=n)
        _time(f"rotemberg_weights, {L:,} x {K}",
              lambda S=S, g=g, y=y, x=x, c=ctrl: rotemberg_weights(S, g, y, x, controls=c), number=n)


if __name__ == "__main__":
    main()

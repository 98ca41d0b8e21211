"""Benchmark: helpers.did.honest (Rambachan-Roth intervals) on R HonestDiD's Benzarti-Carloni example.

Times one FLCI at M = 0 (closed form) and at M > 0 (SLSQP), the two relative-magnitudes intervals,
a breakdown value of each kind, and the per-draw loop of the pretrends-honestdid primer (FLCI at
M = 0 and the Bonferroni interval on 1,000 draws of an 8-coefficient event study).

Run: ``.venv/bin/python benchmarks/bench_honest.py`` (``make bench`` runs every benchmark).
Budget: one FLCI with M > 0 <= 0.2 s; the primer's 1,000-draw loop <= 5 s on 2 shared cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _time(fn, repeat: int = 5) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    from test_did_honest import BC_BETA, BC_SIGMA

    from helpers.did import bonferroni_ci_rm, breakdown_value, flci_sd, projection_ci_rm

    b, S = BC_BETA, BC_SIGMA
    flci_sd(b, S, 4, 0.1)  # warm-up (imports)
    rows = {
        "FLCI, M = 0": _time(lambda: flci_sd(b, S, 4, 0.0)),
        "FLCI, M = 0.1": _time(lambda: flci_sd(b, S, 4, 0.1)),
        "Bonferroni RM, Mbar = 1": _time(lambda: bonferroni_ci_rm(b, S, 4, 1.0)),
        "projection RM, Mbar = 1": _time(lambda: projection_ci_rm(b, S, 4, 1.0)),
        "breakdown RM (Bonferroni)": _time(lambda: breakdown_value(b, S, 4, restriction="RM"), 2),
        "breakdown SD (FLCI, tol 1e-3)": _time(
            lambda: breakdown_value(b, S, 4, restriction="SD", tol=1e-3), 1),
    }
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(b, S, size=1_000)

    def loop() -> None:
        for d in draws:
            flci_sd(d, S, 4, 0.0)
            bonferroni_ci_rm(d, S, 4, 1.0)

    rows["primer loop, 1,000 draws"] = _time(loop, 1)
    for name, secs in rows.items():
        print(f"{name:<32} {secs * 1000:9.1f} ms")
    ok = rows["FLCI, M = 0.1"] <= 0.2 and rows["primer loop, 1,000 draws"] <= 5.0
    print("budget:", "met" if ok else "MISSED")


if __name__ == "__main__":
    main()

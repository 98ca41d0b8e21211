"""Benchmark: build every registered twin at full scale; print seconds and the process's peak resident memory.

Budget (issue 3): all five twins at full scale in <= 60 s together on 2 cores.
Run: ``.venv/bin/python benchmarks/bench_twins.py [slug ...]``. The twins' pickle cache in
``data/_generated/`` is bypassed (``AICHINA_NO_CACHE=1``), so every twin is built from scratch.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import warnings

from helpers.twins import REGISTRY, load_twin


def main(slugs: list[str]) -> None:
    os.environ["AICHINA_NO_CACHE"] = "1"  # measure the builds, not the cache
    total = 0.0
    print(f"{'twin':32s} {'scale':6s} {'seconds':>8s} {'peak RSS MB':>12s} {'rows':>10s}")
    for slug in slugs or sorted(REGISTRY):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the "simulated" warning
            twin = load_twin(slug, scale="full")
        secs = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB -> MiB
        total += secs
        print(f"{slug:32s} {'full':6s} {secs:8.2f} {peak:12.1f} {len(twin.panel):10,d}")
    print(f"{'total':32s} {'':6s} {total:8.2f}   (budget: 60 s for all five twins)")


if __name__ == "__main__":
    main(sys.argv[1:])

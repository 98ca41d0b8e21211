"""Measure the book's build budgets (issue 2): install from the lock, cold and warm `make book`.

Usage::

    python benchmarks/bench_build.py            # cold and warm `make book` in this checkout
    python benchmarks/bench_build.py --install  # also a fresh clone's `make venv` (install from the lock)

The cold build removes ``_build/`` (the site and the execution cache) and ``data/_generated/`` first,
so every chapter and every twin is built again; the warm build follows with nothing changed.
Budgets: install <= 5 min, cold `make book` <= 10 min, warm `make book` < 30 s (2 cores).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = {"install": 300.0, "cold book": 600.0, "warm book": 30.0}


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="also time `make venv` in a fresh clone")
    args = parser.parse_args()
    results: dict[str, float] = {}
    if args.install:
        with tempfile.TemporaryDirectory() as tmp:
            clone = Path(tmp) / "book"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            results["install"] = _timed(["make", "venv"], clone)
    for folder in ("_build", "data/_generated"):
        shutil.rmtree(ROOT / folder, ignore_errors=True)
    results["cold book"] = _timed(["make", "book"], ROOT)
    results["warm book"] = _timed(["make", "book"], ROOT)
    for step, seconds in results.items():
        verdict = "within" if seconds <= BUDGETS[step] else "OVER"
        print(f"{step:10s} {seconds:7.1f} s   budget {BUDGETS[step]:5.0f} s   {verdict}")


if __name__ == "__main__":
    main()

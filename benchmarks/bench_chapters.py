"""Measure each chapter's execution budget: full scale and quick mode, in a fresh kernel.

Usage::

    python benchmarks/bench_chapters.py                 # every chapter, full and quick
    python benchmarks/bench_chapters.py --mode quick    # quick mode only
    python benchmarks/bench_chapters.py 02 04           # chapters whose file name starts with 02 or 04

Each run starts a new kernel (as `make book` and `make test` do), so the times include the kernel's
start and the imports. Budgets (``../shared/CHAPTER.md``): full scale <= 150 s on 2 cores including
the design analysis (the export chapter <= 240 s), quick mode <= 20 s. The slowest cells of a run over budget are listed. Scorecards
and figures go to a temporary build directory, so the book's own ``_build`` is left alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FULL_BUDGET = {"03_ai-export-upgrading": 240.0}
FULL_DEFAULT, QUICK_BUDGET = 150.0, 20.0


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    ex = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in ex or "shell.execute_reply" not in ex:
        return 0.0
    start = datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def run(path: Path, quick: bool, build_dir: str) -> tuple[float, list[tuple[float, int, str]]]:
    """Execute one notebook in a fresh kernel; return the wall time and the cells by time."""
    nb = nbformat.read(path, as_version=4)
    env = {"AICHINA_BUILD_DIR": build_dir, "AICHINA_QUICK": "1" if quick else "0"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
        wall = time.perf_counter() - start
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    cells = sorted(((_cell_seconds(c), i, "".join(c.source).split("\n")[0][:60])
                    for i, c in enumerate(nb.cells) if c.cell_type == "code"), reverse=True)
    return wall, cells


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="prefixes of notebook file names (default: all)")
    parser.add_argument("--mode", choices=["full", "quick", "both"], default="both")
    args = parser.parse_args()
    books = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb")
                   if not args.chapters or any(p.name.startswith(c) for c in args.chapters))
    modes = ["full", "quick"] if args.mode == "both" else [args.mode]
    over = 0
    print(f"{'chapter':36s} {'mode':6s} {'wall s':>8s} {'budget':>7s}  slowest cells")
    with tempfile.TemporaryDirectory() as tmp:
        for path in books:
            for mode in modes:
                budget = QUICK_BUDGET if mode == "quick" else FULL_BUDGET.get(path.stem, FULL_DEFAULT)
                wall, cells = run(path, mode == "quick", tmp)
                flag = "" if wall <= budget else "  OVER"
                over += wall > budget
                top = ", ".join(f"#{i} {s:.1f}s" for s, i, _ in cells[:3])
                print(f"{path.stem:36s} {mode:6s} {wall:8.1f} {budget:7.0f}{flag}  {top}", flush=True)
    print(f"{over} run(s) over budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Execute chapter notebooks at other seeds (``make chapters-seeds``): their claims must hold there too.

Every chapter guards the claims of its prose with hidden assertion cells. ``../shared/CHAPTER.md``
asks that the build at other seeds (``AICHINA_SEED=<n>``) passes every one of them. This runs each
chapter in a fresh kernel (nbclient) with ``AICHINA_SEED`` set, full scale unless ``--quick``, with
scorecards and figures written to a temporary build folder (the book's ``_build`` is left alone).
Not collected by pytest (a full run takes minutes per chapter and seed); run::

    python tests/chapters_at_seeds.py 1 2 3                # every chapter at seeds 1, 2 and 3
    python tests/chapters_at_seeds.py 1 --only 02 05       # chapters whose file name starts so
    python tests/chapters_at_seeds.py 1 --quick            # quick mode (smaller design analysis)
    python tests/chapters_at_seeds.py 2026 --twice         # run twice; every glued number must agree

With ``--twice`` each chapter runs twice at each seed in fresh kernels and every glued value is
compared (numbers to a relative 1e-9, the rest exactly): principle 4, two builds give identical
numbers. Keys that start with ``clock_`` are wall-clock times of the machine (chapter 03 reports how
long its steps took), not results, and are left out of the comparison. The twin is cached after the first run, so this checks the chapter's own random steps
(an unseeded permutation, bootstrap or learner), not the twin's rebuild.

It prints one line per chapter and seed with the run time, and exits non-zero if any run fails.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def glued(nb: Any) -> dict[str, str]:
    """The plain-text value of every glued key of an executed notebook."""
    out: dict[str, str] = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                data = o.get("data", {})
                text = next((v for k, v in data.items() if k.endswith("text/plain")), "")
                out[name] = text if isinstance(text, str) else "".join(text)
    return out


def differences(a: dict[str, str], b: dict[str, str], rtol: float = 1e-9) -> list[str]:
    """Glued keys whose values differ between two runs (numbers beyond ``rtol``)."""
    bad = []
    for key in sorted(set(a) | set(b)):
        if key.startswith("clock_"):  # a measured time, not a result
            continue
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        try:
            fx, fy = float(str(x).strip("'\"")), float(str(y).strip("'\""))
        except (TypeError, ValueError):
            bad.append(f"{key}: {x!r} != {y!r}")
            continue
        if not math.isclose(fx, fy, rel_tol=rtol, abs_tol=1e-12):
            bad.append(f"{key}: {fx!r} != {fy!r}")
    return bad


def run(notebook: Path, seed: int, quick: bool = False) -> tuple[bool, float, str, Any]:
    """Execute one chapter at one seed; return (ok, seconds, error text, executed notebook)."""
    import nbformat
    from nbclient import NotebookClient

    os.environ["AICHINA_SEED"] = str(seed)
    os.environ["PYTHONHASHSEED"] = "0"  # pyfixest's fixed-effect order follows the hash seed
    if quick:
        os.environ["AICHINA_QUICK"] = "1"
    else:
        os.environ.pop("AICHINA_QUICK", None)
    nb = nbformat.read(notebook, as_version=4)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aichina-seed-") as build:
        os.environ["AICHINA_BUILD_DIR"] = build
        try:
            NotebookClient(nb, timeout=1800, kernel_name="python3",
                           resources={"metadata": {"path": str(notebook.parent)}}).execute()
        except Exception as err:  # report and go on: one failing chapter should not hide the others
            return False, time.perf_counter() - start, str(err)[-3000:], nb
    return True, time.perf_counter() - start, "", nb


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--only", nargs="*", default=None, help="chapter number prefixes, e.g. 01 05")
    ap.add_argument("--quick", action="store_true", help="quick mode (AICHINA_QUICK=1)")
    ap.add_argument("--twice", action="store_true",
                    help="run each chapter twice and compare every glued value")
    args = ap.parse_args(argv)
    chapters = sorted(p for p in NOTEBOOKS.glob("0[1-9]_*.ipynb")
                      if args.only is None or any(p.name.startswith(o) for o in args.only))
    failed = 0
    for seed in args.seeds:
        for chapter in chapters:
            ok, secs, err, nb = run(chapter, seed, quick=args.quick)
            if ok and args.twice:
                ok2, secs2, err, nb2 = run(chapter, seed, quick=args.quick)
                diff = differences(glued(nb), glued(nb2)) if ok2 else []
                ok, secs = ok2 and not diff, secs + secs2
                err = err or "\n".join(["glued values differ between two runs:", *diff])
                print(f"     {len(glued(nb))} glued values compared", flush=True)
            print(f"{'ok  ' if ok else 'FAIL'} seed {seed:>5}  {secs:6.1f} s  {chapter.stem}", flush=True)
            if not ok:
                failed += 1
                print(err, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

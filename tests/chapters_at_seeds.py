"""Execute chapter notebooks at other seeds (``make chapters-seeds``): their claims must hold there too.

Every chapter guards the claims of its prose with hidden assertion cells. ``../shared/CHAPTER.md``
asks that the build at other seeds (``AICHINA_SEED=<n>``) passes every one of them. This runs each
chapter in a fresh kernel (nbclient) with ``AICHINA_SEED`` set, full scale unless ``--quick``, with
scorecards and figures written to a temporary build folder (the book's ``_build`` is left alone).
Not collected by pytest (a full run takes minutes per chapter and seed); run::

    python tests/chapters_at_seeds.py 1 2 3                # every chapter at seeds 1, 2 and 3
    python tests/chapters_at_seeds.py 1 --only 02 05       # chapters whose file name starts so
    python tests/chapters_at_seeds.py 1 --quick            # quick mode (smaller design analysis)

It prints one line per chapter and seed with the run time, and exits non-zero if any run fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run(notebook: Path, seed: int, quick: bool = False) -> tuple[bool, float, str]:
    """Execute one chapter at one seed; return (ok, seconds, error text)."""
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
            return False, time.perf_counter() - start, str(err)[-3000:]
    return True, time.perf_counter() - start, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="*", type=int, default=[1, 2, 3])
    ap.add_argument("--only", nargs="*", default=None, help="chapter number prefixes, e.g. 01 05")
    ap.add_argument("--quick", action="store_true", help="quick mode (AICHINA_QUICK=1)")
    args = ap.parse_args(argv)
    chapters = sorted(p for p in NOTEBOOKS.glob("0[1-9]_*.ipynb")
                      if args.only is None or any(p.name.startswith(o) for o in args.only))
    failed = 0
    for seed in args.seeds:
        for chapter in chapters:
            ok, secs, err = run(chapter, seed, quick=args.quick)
            print(f"{'ok  ' if ok else 'FAIL'} seed {seed:>5}  {secs:6.1f} s  {chapter.stem}", flush=True)
            if not ok:
                failed += 1
                print(err, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

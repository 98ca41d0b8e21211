"""Execute every primer at other seeds, as the book does (``make primers-seeds``).

The primers are MyST notebooks; this converts each with jupytext and runs it in a fresh kernel
(nbclient) with ``AICHINA_SEED`` set, so that every hidden assertion (the claims of the prose) is
checked at seeds other than the book's. Not collected by pytest (a full run takes minutes); run::

    python tests/primers_at_seeds.py 7 11            # every primer at seeds 7 and 11
    python tests/primers_at_seeds.py 7 --only ppml   # one primer

It prints one line per primer and seed with the run time, and exits non-zero if any run fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRIMERS = ROOT / "book" / "primers"


def run(primer: Path, seed: int | None) -> tuple[bool, float, str]:
    """Execute one primer at one seed; return (ok, seconds, error text)."""
    import jupytext
    from nbclient import NotebookClient

    if seed is None:
        os.environ.pop("AICHINA_SEED", None)
    else:
        os.environ["AICHINA_SEED"] = str(seed)
    nb = jupytext.read(primer)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(primer.parent)}}).execute()
    except Exception as err:  # report and go on: one failing primer should not hide the others
        return False, time.perf_counter() - start, str(err)[-2000:]
    return True, time.perf_counter() - start, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", nargs="*", type=int, default=[7, 11])
    ap.add_argument("--only", nargs="*", default=None, help="primer names (file stems)")
    args = ap.parse_args(argv)
    primers = sorted(p for p in PRIMERS.glob("*.md") if p.stem != "index"
                     and (args.only is None or p.stem in args.only))
    failed = 0
    for seed in args.seeds:
        for primer in primers:
            ok, secs, err = run(primer, seed)
            print(f"{'ok  ' if ok else 'FAIL'} seed {seed:>5}  {secs:6.1f} s  {primer.stem}", flush=True)
            if not ok:
                failed += 1
                print(err, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the simulated twins' data files: ``python -m helpers.build_data`` (``make data``).

Each registered twin is generated at full scale (or quick scale with ``AICHINA_QUICK=1``) with its
calibration seed and written to ``data/_generated/<slug>/<scale>/`` as Parquet, one file per frame,
with a ``manifest.json`` recording the seed, the scale, the row counts and a content hash. Chapters
read these files through ``helpers.twins.load_twin``; a chapter regenerates its twin in memory when
the files are missing, so this step saves time but is never required for correctness.
"""

from __future__ import annotations

import importlib.util
import sys


def main() -> int:
    """Build every registered twin; return a process exit code."""
    if importlib.util.find_spec("helpers.twins") is None:
        print("helpers.twins is not available yet: no twin data to build")
        return 0
    twins = importlib.import_module("helpers.twins")
    if not hasattr(twins, "build_all"):
        print("helpers.twins has no build_all yet: no twin data to build")
        return 0
    for line in twins.build_all():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

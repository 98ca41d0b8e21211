"""Zip the chapters as the book executed them, from the jupyter-cache (``make executed-notebooks``).

The notebooks are committed without outputs. ``make book`` executes them through jupyter-cache
(``execute_notebooks: cache``) and keeps their outputs in ``_build/.jupyter_cache``. The copies
myst-nb writes to ``_build/jupyter_execute/`` are not a safe source: when a chapter comes from the
cache, myst-nb writes the notebook *without* its outputs there. So this script merges each
chapter's cached outputs into the committed notebook, as myst-nb does when it renders the page,
and zips the results::

    python book/_ext/export_notebooks.py _build/.jupyter_cache _build/release/executed-notebooks-0.1.0.zip

A chapter that is not in the cache (its code changed since the last ``make book``) is an error, so
a release never ships a notebook whose outputs do not match its code.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def export(cache_dir: Path, output: Path, notebooks: list[Path]) -> list[str]:
    """Write the executed ``notebooks`` (outputs from the cache in ``cache_dir``) to the zip ``output``.

    Parameters
    ----------
    cache_dir : Path
        A jupyter-cache folder (``_build/.jupyter_cache`` after ``make book``).
    output : Path
        The zip to write; its folder is created.
    notebooks : list of Path
        The committed notebooks to export.

    Returns
    -------
    list of str
        The names written to the zip.

    Raises
    ------
    FileNotFoundError
        If the cache folder does not exist.
    ValueError
        If ``notebooks`` is empty, or a notebook has no executed copy in the cache.
    """
    import nbformat
    from jupyter_cache import get_cache

    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise FileNotFoundError(f"no jupyter-cache at {cache_dir}: run `make book` first")
    if not notebooks:
        raise ValueError("no notebooks to export")
    cache = get_cache(cache_dir)
    executed = []
    missing = []
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        try:
            _, merged = cache.merge_match_into_notebook(notebook)
        except KeyError:
            missing.append(path.name)
            continue
        executed.append((path.name, nbformat.writes(merged)))
    if missing:
        raise ValueError(
            f"not executed in {cache_dir} (changed since the last build?): {', '.join(missing)}; "
            "run `make book` first"
        )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in executed:
            zf.writestr(name, text)
    return [name for name, _ in executed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path, help="the jupyter-cache folder")
    parser.add_argument("output", type=Path, help="the zip to write")
    parser.add_argument(
        "notebooks", type=Path, nargs="*", help="notebooks to export (default: notebooks/*.ipynb)"
    )
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    try:
        names = export(args.cache, args.output, notebooks)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {len(names)} executed notebooks ({', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

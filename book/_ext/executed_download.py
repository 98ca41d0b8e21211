"""Serve the executed notebook, outputs included, from the page's download button.

sphinx-book-theme's ``.ipynb`` download button links to ``_sources/<page>.ipynb``, which Sphinx
copies from the repository, where notebooks are committed without outputs. myst-nb writes the
executed notebook of every page to ``<outdir>/../jupyter_execute/<page>.ipynb``; when the build
finishes this extension copies it over the source copy, so the reader downloads what the page shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def executed_notebooks(outdir: Path, docnames: list[str], srcdir: Path) -> dict[Path, Path]:
    """Map each ``.ipynb`` page's ``_sources`` copy to its executed notebook (when both exist).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for p in ("src/nb/a.ipynb", "out/html/_sources/nb/a.ipynb", "out/jupyter_execute/nb/a.ipynb"):
    ...     (root / p).parent.mkdir(parents=True, exist_ok=True); _ = (root / p).write_text("{}")
    >>> pairs = executed_notebooks(root / "out/html", ["nb/a"], root / "src")
    >>> [(k.relative_to(root).as_posix(), v.relative_to(root).as_posix()) for k, v in pairs.items()]
    [('out/html/_sources/nb/a.ipynb', 'out/jupyter_execute/nb/a.ipynb')]
    """
    executed_root = outdir.parent / "jupyter_execute"
    pairs = {}
    for doc in docnames:
        if not (srcdir / f"{doc}.ipynb").is_file():
            continue  # MyST markdown pages download as .md
        executed = executed_root / f"{doc}.ipynb"
        target = outdir / "_sources" / f"{doc}.ipynb"
        if executed.is_file() and target.is_file():
            pairs[target] = executed
    return pairs


def _copy_executed(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    pairs = executed_notebooks(Path(app.outdir), sorted(app.env.found_docs), Path(app.srcdir))
    for target, executed in pairs.items():
        shutil.copyfile(executed, target)
    LOGGER.info(f"executed_download: {len(pairs)} executed notebook(s) served for download")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", _copy_executed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

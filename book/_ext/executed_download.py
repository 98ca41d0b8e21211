"""Serve the executed notebook, outputs included, from the page's download button.

sphinx-book-theme's ``.ipynb`` download button links to ``_sources/<page>.ipynb``, which Sphinx
copies from the repository, where notebooks are committed without outputs. myst-nb writes the
executed notebook of every page to ``<outdir>/../jupyter_execute/<page>.ipynb``, but when a page
comes from its execution cache (``execute_notebooks: cache``) that file is the notebook *without*
outputs (myst-nb 1.4 writes its input, not the cache-merged notebook). When the build finishes this
extension writes, over the source copy, the notebook merged with its cached outputs (or the executed
copy when the cache has no match), so the reader downloads what the page shows.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
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


def _has_outputs(nb: nbformat.NotebookNode) -> bool:
    return any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def _copy_executed(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from jupyter_cache import get_cache

    cache_path = getattr(app.env, "mystnb_config", None)
    cache_path = getattr(cache_path, "execution_cache_path", "") or str(
        Path(app.outdir).parent / ".jupyter_cache")
    cache = get_cache(cache_path) if Path(cache_path).is_dir() else None
    pairs = executed_notebooks(Path(app.outdir), sorted(app.env.found_docs), Path(app.srcdir))
    served = 0
    for target, executed in pairs.items():
        docname = target.relative_to(Path(app.outdir) / "_sources").with_suffix("").as_posix()
        merged = None
        if cache is not None:
            source = nbformat.read(Path(app.srcdir) / f"{docname}.ipynb", as_version=4)
            try:
                _, merged = cache.merge_match_into_notebook(source)
            except KeyError:  # not in the cache (e.g. execution is off)
                merged = None
        if merged is not None and _has_outputs(merged):
            nbformat.write(merged, target)
        elif _has_outputs(nbformat.read(executed, as_version=4)):
            shutil.copyfile(executed, target)
        else:
            LOGGER.warning(f"executed_download: no executed notebook with outputs for {docname}")
            continue
        served += 1
    LOGGER.info(f"executed_download: {served} executed notebook(s) served for download")


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("build-finished", _copy_executed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

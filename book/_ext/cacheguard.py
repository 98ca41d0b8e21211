"""Re-execute the chapters when the code or data they import changes, not only their own cells.

The book executes notebooks through jupyter-cache (``execute_notebooks: cache``), which keys a
notebook's outputs on the notebook's own code. A chapter's numbers also depend on ``src/helpers``
(the twins, the estimators, the tables), on the input files in ``data/``, on the pinned versions in
``requirements.lock`` and on the environment variables that choose the twin (``AICHINA_SEED``,
``AICHINA_QUICK``). Without this extension, a change to a helper left every chapter showing the
outputs of the old code.

On ``config-inited`` this extension computes a fingerprint of those inputs and compares it with the one
stored beside the cache (``<build>/.jupyter_cache.fingerprint``). When they differ it empties the
jupyter cache and, on ``env-get-outdated``, marks every page for re-reading, so that each chapter
and primer is executed again; it then stores the new fingerprint. An unchanged fingerprint changes
nothing: a second ``make book`` re-executes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

#: Environment variables that change what a chapter computes.
ENV_VARS = ("AICHINA_SEED", "AICHINA_QUICK")
#: Folders (relative to the book's root) whose files a chapter imports or reads.
INPUT_DIRS = ("src/helpers", "data")
#: Single files that change what a chapter computes: the pinned versions (a pyfixest upgrade moves
#: the numbers).
INPUT_FILES = ("requirements.lock",)
#: Generated or byte-compiled files that do not count.
SKIP_PARTS = frozenset({"__pycache__", "_generated", ".ipynb_checkpoints"})


def fingerprint(root: Path, *, environ: dict[str, str] | None = None) -> str:
    """Hash the helpers, the data inputs and the twin-choosing environment variables.

    Parameters
    ----------
    root : Path
        The book's root (the repository root).
    environ : dict, optional
        The environment to read :data:`ENV_VARS` from (default ``os.environ``).

    Returns
    -------
    str
        A SHA-256 hex digest; it changes when a file under :data:`INPUT_DIRS` or one of
        :data:`INPUT_FILES` is added, removed, renamed or edited, or when one of :data:`ENV_VARS`
        changes.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "src" / "helpers").mkdir(parents=True)
    >>> _ = (d / "src" / "helpers" / "a.py").write_text("x = 1\\n")
    >>> before = fingerprint(d, environ={})
    >>> before == fingerprint(d, environ={})
    True
    >>> _ = (d / "src" / "helpers" / "a.py").write_text("x = 2\\n")
    >>> before == fingerprint(d, environ={})
    False
    >>> fingerprint(d, environ={}) == fingerprint(d, environ={"AICHINA_SEED": "1"})
    False
    """
    env = os.environ if environ is None else environ
    digest = hashlib.sha256()
    for name in ENV_VARS:
        digest.update(f"{name}={env.get(name, '')}\n".encode())
    for path in _input_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _input_files(root: Path) -> Iterable[Path]:
    for name in INPUT_FILES:
        if (root / name).is_file():
            yield root / name
    for folder in INPUT_DIRS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and not SKIP_PARTS & set(path.relative_to(base).parts) and (
                path.suffix not in {".pyc", ".pyo"}
            ):
                yield path


def cache_path(app: Sphinx) -> Path:
    """Where myst-nb keeps the jupyter cache for this build (its own rule, myst_nb.sphinx_ext)."""
    configured = getattr(app.config, "nb_execution_cache_path", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def _check(app: Sphinx, config: Config) -> None:
    app.env_cacheguard_stale = False  # type: ignore[attr-defined]
    if getattr(config, "nb_execution_mode", "cache") != "cache":
        return
    cache = cache_path(app)
    stamp = cache.with_name(cache.name + ".fingerprint")
    now = fingerprint(Path(app.srcdir))
    before = stamp.read_text().strip() if stamp.is_file() else None
    if before == now:
        return
    if cache.exists():
        LOGGER.info("cacheguard: helpers, data or AICHINA_* changed since the last build; "
                    "emptying %s so that every chapter is executed again", cache)
        shutil.rmtree(cache)
        app.env_cacheguard_stale = True  # type: ignore[attr-defined]
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(now + "\n")


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    if not getattr(app, "env_cacheguard_stale", False):
        return []
    # every page: the chapters (.ipynb) and the primers (MyST notebooks in .md) both execute code
    return sorted(env.found_docs - added - changed)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _check, priority=900)
    app.connect("env-get-outdated", _outdated)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Execute the book's notebooks two at a time before Sphinx reads them.

myst-nb (``execute_notebooks: cache``) executes a notebook when Sphinx reads it, one page after the
other, so a cold build uses one of the build machine's two cores. On ``builder-inited`` this extension
reads every page that is a notebook (a chapter ``.ipynb`` or a MyST text notebook, with myst-nb's own
reader, so the cache keys agree), finds those the jupyter cache does not hold, and executes them in a
pool of worker processes (``AICHINA_BUILD_JOBS``, default: the number of cores, at most 4) with the
same settings myst-nb uses (the notebook's folder as working directory, the configured timeout,
errors not allowed). Each success is stored in the cache, where myst-nb then finds it. A notebook
that fails is not stored: myst-nb executes it again in the usual way and reports the error as it
always does, so a failing chapter fails the build with the same message as before.

``AICHINA_BUILD_JOBS=1`` turns the pre-execution off.
"""

from __future__ import annotations

import fnmatch
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
JOBS_ENV = "AICHINA_BUILD_JOBS"


@dataclass
class Job:
    """One notebook to execute: its path, the notebook myst-nb would read, settings."""

    path: Path
    notebook: Any
    timeout: int | None
    allow_errors: bool
    read_fmt: dict | None = None


def jobs_from_env(environ: dict[str, str] | None = None) -> int:
    """Worker count: ``AICHINA_BUILD_JOBS`` if set, else the number of cores (at most 4).

    Examples
    --------
    >>> jobs_from_env({"AICHINA_BUILD_JOBS": "1"})
    1
    >>> 1 <= jobs_from_env({}) <= 4
    True
    >>> jobs_from_env({"AICHINA_BUILD_JOBS": "two"})
    Traceback (most recent call last):
    ...
    ValueError: AICHINA_BUILD_JOBS must be a positive integer, got 'two'
    """
    env = os.environ if environ is None else environ
    raw = env.get(JOBS_ENV)
    if raw is None or raw == "":
        return max(1, min(4, os.cpu_count() or 1))
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{JOBS_ENV} must be a positive integer, got {raw!r}")
    return int(raw)


def _execute(job: Job) -> tuple[Path, Any, float, str | None]:
    """Run in a worker process: execute one notebook as myst-nb's cache mode does."""
    from jupyter_cache.executors.utils import single_nb_execution

    start = time.perf_counter()
    result = single_nb_execution(job.notebook, cwd=str(job.path.parent),
                                 allow_errors=job.allow_errors, timeout=job.timeout,
                                 meta_override=True)
    error = None if result.err is None else f"{type(result.err).__name__}: {result.err}"
    return job.path, job.notebook, result.time or (time.perf_counter() - start), error


def execute_into_cache(cache_path: Path, jobs: list[Job], workers: int) -> dict[Path, str | None]:
    """Execute ``jobs`` in ``workers`` processes and store every success in the jupyter cache.

    Parameters
    ----------
    cache_path : Path
        The jupyter-cache folder myst-nb uses.
    jobs : list of Job
        The notebooks to execute (as myst-nb reads them).
    workers : int
        Number of worker processes.

    Returns
    -------
    dict
        Path -> None for a notebook executed and cached, or the error text of one that failed.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    outcome: dict[Path, str | None] = {}
    if not jobs:
        return outcome
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = {pool.submit(_execute, job): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            path, executed, seconds, error = fut.result()
            outcome[path] = error
            if error is not None:
                LOGGER.info("parallel_execute: %s failed (%s); myst-nb will run it again and "
                            "report the error", path.name, error.splitlines()[0][:200])
                continue
            stage = cache.add_nb_to_project(str(path), read_data=job.read_fmt) if job.read_fmt else (
                cache.add_nb_to_project(str(path)))
            cache.cache_notebook_bundle(
                CacheBundleIn(executed, stage.uri, data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            LOGGER.info("parallel_execute: %s executed in %.1f s", path.name, seconds)
    return outcome


def _pending(app: Sphinx) -> list[Job]:
    """The notebook pages whose outputs the jupyter cache does not hold."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    env = app.env
    md_config, nb_config = env.myst_config, env.mystnb_config
    cache = get_cache(str(nb_config.execution_cache_path))
    jobs = []
    if not app.project.docnames:  # a pickled environment: Sphinx discovers the files later
        app.project.discover(list(app.config.exclude_patterns) + list(app.config.templates_path),
                             app.config.include_patterns)
    for docname in sorted(app.project.docnames):
        path = Path(app.project.doc2path(docname, absolute=True))
        if any(fnmatch.fnmatch(str(path), pat) for pat in nb_config.execution_excludepatterns):
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), md_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        own = dict(notebook.metadata.get(nb_config.metadata_key, {}) or {})
        if own.get("execution_mode", nb_config.execution_mode) != "cache":
            continue
        try:
            cache.match_cache_notebook(notebook)
            continue  # cached: nothing to do
        except KeyError:
            pass
        jobs.append(Job(path, notebook, own.get("execution_timeout", nb_config.execution_timeout),
                        bool(own.get("execution_allow_errors", nb_config.execution_allow_errors)),
                        reader.read_fmt))
    # the chapters first: they take longest, so the pool ends with the short primers
    jobs.sort(key=lambda j: (j.path.suffix != ".ipynb", str(j.path)))
    return jobs


def _run(app: Sphinx) -> None:
    nb_config = getattr(app.env, "mystnb_config", None)
    if nb_config is None or nb_config.execution_mode != "cache":
        return
    workers = jobs_from_env()
    if workers < 2:
        return
    jobs = _pending(app)
    if len(jobs) < 2:
        return
    LOGGER.info("parallel_execute: %d notebook(s) to execute, %d at a time", len(jobs), workers)
    start = time.perf_counter()
    execute_into_cache(Path(nb_config.execution_cache_path), jobs, workers)
    LOGGER.info("parallel_execute: done in %.0f s", time.perf_counter() - start)


def setup(app: Sphinx) -> dict[str, object]:
    # after myst-nb's own builder-inited handler, which sets the cache path (priority 500)
    app.connect("builder-inited", _run, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

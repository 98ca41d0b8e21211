"""book/_ext/cacheguard.py: a change to the helpers or data empties the jupyter cache, and nothing else does."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.paths import REPO_ROOT

_spec = importlib.util.spec_from_file_location("cacheguard", REPO_ROOT / "book/_ext/cacheguard.py")
assert _spec is not None and _spec.loader is not None
cacheguard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cacheguard)


def _book(tmp_path: Path) -> tuple[Path, SimpleNamespace]:
    root = tmp_path / "book"
    (root / "src" / "helpers" / "__pycache__").mkdir(parents=True)
    (root / "src" / "helpers" / "report.py").write_text("DIGITS = 4\n")
    (root / "data" / "slug").mkdir(parents=True)
    (root / "data" / "slug" / "calibration.yml").write_text("seed: 2026\n")
    outdir = root / "_build" / "html"
    app = SimpleNamespace(srcdir=root, outdir=outdir,
                          config=SimpleNamespace(nb_execution_cache_path="",
                                                 nb_execution_mode="cache"))
    return root, app


def _fill_cache(app: SimpleNamespace) -> Path:
    cache = cacheguard.cache_path(app)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "global.db").write_text("outputs")
    return cache


def _build(app: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> bool:
    cacheguard._check(app, app.config)
    env = SimpleNamespace(found_docs={"index", "notebooks/ch1", "book/primers/iv"})
    outdated = cacheguard._outdated(app, env, set(), set(), set())
    assert bool(outdated) == app.env_cacheguard_stale
    if outdated:
        assert outdated == sorted(env.found_docs)
    return app.env_cacheguard_stale


def test_cache_survives_an_unchanged_tree_and_is_emptied_by_a_helper_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AICHINA_SEED", raising=False)
    monkeypatch.delenv("AICHINA_QUICK", raising=False)
    root, app = _book(tmp_path)
    cache = _fill_cache(app)
    assert cache == root / "_build" / ".jupyter_cache"
    # first build with the guard: no fingerprint yet, so the old cache cannot be trusted
    assert _build(app, monkeypatch) and not cache.exists()
    cache = _fill_cache(app)
    # nothing changed: the cache stays
    assert not _build(app, monkeypatch) and cache.exists()
    # byte-compiled files do not count
    (root / "src" / "helpers" / "__pycache__" / "report.cpython-311.pyc").write_bytes(b"\0")
    assert not _build(app, monkeypatch) and cache.exists()
    # a helper edit empties the cache and marks every page outdated
    (root / "src" / "helpers" / "report.py").write_text("DIGITS = 3\n")
    assert _build(app, monkeypatch) and not cache.exists()
    cache = _fill_cache(app)
    # so do a data input and the seed
    (root / "data" / "slug" / "calibration.yml").write_text("seed: 1\n")
    assert _build(app, monkeypatch)
    _fill_cache(app)
    monkeypatch.setenv("AICHINA_SEED", "7")
    assert _build(app, monkeypatch)
    _fill_cache(app)
    # and a new pin in the lock
    (root / "requirements.lock").write_text("pyfixest==0.60.1\n")
    assert _build(app, monkeypatch)
    _fill_cache(app)
    assert not _build(app, monkeypatch)


def test_other_execution_modes_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    _, app = _book(tmp_path)
    app.config.nb_execution_mode = "off"
    cache = _fill_cache(app)
    assert not _build(app, monkeypatch) and cache.exists()


def test_the_book_loads_the_guard() -> None:
    config = (REPO_ROOT / "book" / "_config.yml").read_text()
    assert "cacheguard: _ext" in config

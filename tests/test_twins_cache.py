"""The twin cache (``make data``) saves time and never changes a number."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import helpers.twins as twins
from helpers.twins.engine import hash_frame

SLUG = "bigdata-innovation-fusion"


def _load(scale: str = "quick") -> twins.Twin:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return twins.load_twin(SLUG, scale=scale)


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(twins, "CACHE_DIR", tmp_path)
    monkeypatch.delenv("AICHINA_NO_CACHE", raising=False)
    return tmp_path


def test_cached_twin_is_identical_to_a_fresh_build(cache_dir: Path) -> None:
    first = _load()
    files = list(cache_dir.rglob("twin-*.pkl"))
    assert len(files) == 1
    second = _load()  # read from the cache
    assert hash_frame(first.panel) == hash_frame(second.panel)
    assert second.panel.attrs["simulated"] is True
    import importlib

    builder = importlib.import_module(f"helpers.twins.{twins.REGISTRY[SLUG]}")
    assert hash_frame(builder.build(scale="quick").panel) == hash_frame(second.panel)


def test_cache_key_changes_with_scale_seed_and_calibration(cache_dir: Path) -> None:
    a = twins._cache_file(SLUG, "quick", None)
    assert a != twins._cache_file(SLUG, "full", None)
    assert a != twins._cache_file(SLUG, "quick", 1)
    assert a.parent == cache_dir / SLUG / "quick"


def test_a_corrupt_cache_file_is_rebuilt(cache_dir: Path) -> None:
    path = twins._cache_file(SLUG, "quick", None)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    twin = _load()
    assert len(twin.panel) > 0
    assert path.stat().st_size > 100  # replaced by a good file


def test_build_all_writes_parquet_and_a_manifest(cache_dir: Path) -> None:
    lines = list(twins.build_all(scale="quick"))
    assert any(SLUG in line for line in lines)
    out = cache_dir / SLUG / "quick"
    assert (out / "panel.parquet").is_file()
    assert '"simulated": true' in (out / "manifest.json").read_text()

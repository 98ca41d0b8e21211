"""Tests for helpers.paths."""

from __future__ import annotations

import pytest

from helpers import paths


def test_repo_root_holds_the_project() -> None:
    assert (paths.REPO_ROOT / "pyproject.toml").is_file()
    assert paths.DATA_DIR == paths.REPO_ROOT / "data"


def test_quick_mode_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.QUICK_ENV, "1")
    assert paths.is_quick()
    monkeypatch.setenv(paths.QUICK_ENV, "0")
    assert not paths.is_quick()


def test_slug_dir_rejects_a_typo() -> None:
    assert paths.slug_dir("ai-export-upgrading").name == "ai-export-upgrading"
    with pytest.raises(ValueError, match="unknown paper slug 'ai-export'"):
        paths.slug_dir("ai-export")

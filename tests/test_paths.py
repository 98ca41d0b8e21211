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


def test_quick_runs_write_to_their_own_build_folder(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.delenv("AICHINA_BUILD_DIR", raising=False)
    monkeypatch.setenv(paths.QUICK_ENV, "1")
    assert paths.build_dir() == paths.REPO_ROOT / "_build" / "quick"
    monkeypatch.setenv(paths.QUICK_ENV, "0")
    assert paths.build_dir() == paths.REPO_ROOT / "_build"
    monkeypatch.setenv("AICHINA_BUILD_DIR", str(tmp_path))
    assert paths.build_dir() == tmp_path


def test_book_chapters_come_from_the_table_of_contents(tmp_path) -> None:
    import pytest

    chapters = paths.book_chapters()
    assert [p.stem[3:] for p in chapters] == list(paths.SLUGS)  # the five papers, in book order
    (tmp_path / "book").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "06_x.ipynb").write_text("{}")
    (tmp_path / "book" / "_toc.yml").write_text(
        "parts:\n  - caption: Chapters\n    chapters:\n      - file: notebooks/06_x\n")
    assert [p.name for p in paths.book_chapters(tmp_path)] == ["06_x.ipynb"]
    (tmp_path / "book" / "_toc.yml").write_text(
        "parts:\n  - caption: Chapters\n    chapters:\n      - file: notebooks/07_y\n")
    with pytest.raises(ValueError, match="without a notebook"):
        paths.book_chapters(tmp_path)

"""The wheel carries what a chapter needs outside a checkout, and helpers.paths finds it there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT, SLUGS


def _tracked(*paths: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *paths], cwd=REPO_ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return out.stdout.split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "_generated")
    shutil.copytree(REPO_ROOT / "src", repo / "src", ignore=ignore)
    shutil.copytree(REPO_ROOT / "data", repo / "data", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, repo / name)
    out = repo / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--no-build-isolation", "-w", str(out), str(repo)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Package would be ignored" not in proc.stderr, proc.stderr[-2000:]
    [whl] = out.glob("*.whl")
    return whl


def test_the_wheel_holds_every_helper_resource_and_paper_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.removeprefix("src/") for p in _tracked("src/helpers")}
    expected |= {"helpers/_data/" + p.removeprefix("data/") for p in _tracked("data")}
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel: {missing}"
    assert not [n for n in names if "_generated" in n]
    for slug in SLUGS:
        assert f"helpers/_data/{slug}/published.yml" in names


def test_installed_helpers_read_the_packaged_files_and_write_to_the_user_cache(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import json; from helpers import paths; "
        "print(json.dumps({'installed': paths.INSTALLED, 'data': str(paths.slug_dir("
        "'industry-finance-ai')), 'generated': str(paths.GENERATED_DIR), "
        "'build': str(paths.build_dir())}))"
    )
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith("AICHINA_")}
    env |= {"PYTHONPATH": str(site), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PYTHONNOUSERSITE": "1"}
    reader = tmp_path / "reader"
    reader.mkdir()
    # -I would drop PYTHONPATH; -S keeps the checkout's editable install off sys.path
    proc = subprocess.run([sys.executable, "-S", "-c", probe], cwd=reader, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    assert got["installed"] is True
    assert Path(got["data"]) == site / "helpers" / "_data" / "industry-finance-ai"
    assert (Path(got["data"]) / "calibration.yml").is_file()
    assert Path(got["generated"]) == tmp_path / "cache" / "ai-china-executable-papers"
    assert Path(got["build"]) == reader / "_build"


def test_a_checkout_uses_its_own_folders() -> None:
    from helpers import paths

    assert not paths.INSTALLED
    assert paths.DATA_DIR == REPO_ROOT / "data"
    assert paths.GENERATED_DIR == REPO_ROOT / "data" / "_generated"

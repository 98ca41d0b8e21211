"""The browser checks skip with a clear message where Chromium is absent, and never in CI."""

from __future__ import annotations

import subprocess
import sys

from helpers.paths import REPO_ROOT


def _run(env_ci: str | None, chromium: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["CHROMIUM"] = chromium
    if env_ci is not None:
        env["CI"] = env_ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-m", "browser",
         "tests/browser/test_site.py::test_checker_fails_on_broken_pages"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_browser_check_skips_without_chromium_off_ci() -> None:
    run = _run(None, "/nonexistent/chromium")
    assert run.returncode == 0, run.stdout[-2000:]
    assert "1 skipped" in run.stdout and "sudo make browser-deps" in run.stdout, run.stdout[-2000:]


def test_browser_check_fails_without_chromium_in_ci() -> None:
    run = _run("true", "/nonexistent/chromium")
    assert run.returncode != 0 and "skipped" not in run.stdout, run.stdout[-2000:]
    assert "Chromium is not installed" in run.stdout, run.stdout[-2000:]

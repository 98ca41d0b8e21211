"""The GitHub Actions workflows (.github/workflows/) cannot run here, so this test reads them.

Every ``run:`` step must call a ``make`` target, and every target it calls must exist in the
Makefile: what a workflow does can then be run by hand on any machine. The release workflow must
trigger on version tags, print the PDF, deploy the site to Pages and attach the PDF and the executed
notebooks to the release; the scheduled one must start from a clean cache and open an issue when it
fails; the link check must run ``make linkcheck``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
MAKE_CALL = re.compile(r"(?:^|[;&|(]\s*|\s)make\s+((?:[A-Za-z_][A-Za-z0-9_]*=\S+\s+)*)([a-z][a-z0-9-]*)")


def makefile_targets(text: str) -> set[str]:
    """Targets defined in a Makefile's text (``name:`` at the start of a line, not ``:=``)."""
    return {m.group(1) for m in re.finditer(r"^([a-z][a-z0-9-]*)\s*:(?!=)", text, re.MULTILINE)}


def make_calls(script: str) -> list[str]:
    """The make targets a shell script calls (``make X``, ``make VAR=v X``)."""
    return [m.group(2) for m in MAKE_CALL.finditer(script)]


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1)
    return workflow.get("on", workflow.get(True)) or {}


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


TARGETS = makefile_targets((ROOT / "Makefile").read_text(encoding="utf-8"))
FILES = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_helpers_parse_makefiles_and_scripts():
    text = "VERSION := 1\nbook: venv data  ## x\npdf-quick:\n\techo make fake\n"
    assert makefile_targets(text) == {"book", "pdf-quick"}
    assert make_calls("make release-check TAG=v1 && make book 2>&1 | tee log") == [
        "release-check",
        "book",
    ]
    assert make_calls("make TAG=v1 release-check") == ["release-check"]
    assert make_calls("echo nothing") == []


def test_the_three_workflows_exist():
    assert set(FILES) >= {"release.yml", "scheduled.yml", "linkcheck.yml"}


@pytest.mark.parametrize("name", FILES)
def test_every_run_step_calls_existing_make_targets(name):
    runs = [step["run"] for step in steps(load(name)) if "run" in step]
    assert runs, f"{name} has no run step"
    for script in runs:
        called = make_calls(script)
        assert called, f"{name}: this run step calls no make target: {script!r}"
        missing = [t for t in called if t not in TARGETS]
        assert not missing, f"{name}: make targets {missing} are not in the Makefile"


@pytest.mark.parametrize("target", ["pdf", "executed-notebooks", "linkcheck", "release-check"])
def test_make_knows_the_workflow_targets(target):
    # `make -n` parses the whole Makefile and prints the recipe without running it
    result = subprocess.run(
        ["make", "-n", target, "TAG=v0.0.0"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert "No rule to make target" not in result.stderr, result.stderr


def test_release_workflow_builds_deploys_and_attaches_the_pdf():
    wf = load("release.yml")
    on = triggers(wf)
    assert on["push"]["tags"] == ["v*"]
    all_steps = steps(wf)
    called = [t for s in all_steps if "run" in s for t in make_calls(s["run"])]
    assert called.index("book") < called.index("pdf") < called.index("executed-notebooks")
    assert called[0] == "release-check"
    uses = [s.get("uses", "") for s in all_steps]
    assert any(u.startswith("actions/upload-pages-artifact@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    upload = next(s for s in all_steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    release = next(s for s in all_steps if s.get("uses", "").startswith("softprops/action-gh-release@"))
    files = release["with"]["files"].split()
    assert any(f.endswith(".pdf") for f in files), files
    assert any("executed-notebooks" in f and f.endswith(".zip") for f in files), files
    # the attached PDF is the file `make pdf` writes
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pdf_name = re.search(r"^PDF_NAME := (\S+)$", makefile, re.MULTILINE).group(1)
    assert f"_build/pdf/{pdf_name}" in files
    assert wf["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_scheduled_workflow_reexecutes_from_a_clean_cache_and_opens_an_issue():
    wf = load("scheduled.yml")
    on = triggers(wf)
    assert on["schedule"][0]["cron"].split()[-1] != "*", "the re-execution should be weekly"
    all_steps = steps(wf)
    called = [t for s in all_steps if "run" in s for t in make_calls(s["run"])]
    assert called.index("clean") < called.index("book")
    notify = [s for s in all_steps if s.get("if") == "failure()"]
    assert notify and notify[0]["uses"].startswith("actions/github-script@")
    assert "issues.create" in notify[0]["with"]["script"]
    assert wf["permissions"]["issues"] == "write"


def test_linkcheck_workflow_runs_make_linkcheck():
    wf = load("linkcheck.yml")
    called = [t for s in steps(wf) if "run" in s for t in make_calls(s["run"])]
    assert called == ["linkcheck"]
    assert "--custom-builder linkcheck" in (ROOT / "Makefile").read_text(encoding="utf-8")

"""A chapter downloaded from the site runs in a fresh environment after its one install step.

Run by ``make launch`` after ``make book-quick`` (``SITE_DIR`` names the built site), offline:

1. build a wheel of the book's package from a clean copy of the sources;
2. create a fresh virtual environment and install ``environment.yml``'s pip section into it (what
   Binder does), from the uv cache with no network (``unshare -n`` where it is allowed), without
   dependency resolution as ``make venv`` does (offline uv has the wheels, not the index pages), then
   ``pip check``;
3. remove the book's package again, so the environment has the pinned dependencies but no
   ``helpers``, as on Colab or a reader's own machine;
4. copy the notebook that the site's download button serves into an empty folder and execute it
   there, with the network off: its first cell installs the package (from the wheel, through
   ``AICHINA_INSTALL_SPEC``, with pip resolving its dependencies against the environment and a local
   folder of wheels) and every later cell must run.

The one network use: two optional packages that pip's resolution asks for and the lock leaves out
are downloaded once into ``_build/launch-wheels`` before anything runs.

Only Python 3.11 exists on the build machines: Colab's and Binder's newer Pythons are not tried here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from helpers.paths import REPO_ROOT, build_dir

pytestmark = pytest.mark.launch

SITE = Path(os.environ.get("SITE_DIR", build_dir() / "html"))
if not SITE.is_absolute():
    SITE = REPO_ROOT / SITE
CHAPTER = "notebooks/05_industry-finance-ai.ipynb"  # a paper chapter: twin, data files, design analysis
PACKAGE = "ai-china-executable-papers"
EXTRAS = ("rfc3987-syntax==1.1.0", "lark==1.3.1")  # not in the lock (see below)


def _offline() -> list[str]:
    """A command prefix that runs without network: a new network namespace with only loopback up
    (kernels talk to Jupyter over 127.0.0.1), where this user may create one; else nothing."""
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
    if shutil.which("unshare") and shutil.which("ip") and subprocess.run(
        [*prefix, "true"], capture_output=True
    ).returncode == 0:
        return prefix
    return []


def _run(cmd: list, timings: dict[str, float], step: str, **kwargs) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    timings[step] = round(time.perf_counter() - start, 1)
    assert proc.returncode == 0, f"{step} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_downloaded_chapter_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    downloaded = SITE / "_sources" / CHAPTER
    if not downloaded.is_file():
        pytest.fail(f"no downloadable notebook at {downloaded}: run `make book-quick` first")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    offline = _offline()
    timings: dict[str, float] = {}
    # nothing of this checkout may leak into the fresh environment
    clean = {k: v for k, v in os.environ.items()
             if k not in {"PYTHONPATH", "VIRTUAL_ENV"} and not k.startswith("AICHINA_")}

    # 1. the wheel, from a copy that holds only what the package is built from
    repo = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "_build", "_generated")
    shutil.copytree(REPO_ROOT / "src", repo / "src", ignore=ignore)
    shutil.copytree(REPO_ROOT / "data", repo / "data", ignore=ignore)  # packaged as helpers._data
    for name in ("pyproject.toml", "README.md", "requirements.lock", "environment.yml"):
        shutil.copy2(REPO_ROOT / name, repo / name)
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "-w", wheels, repo], timings, "build the wheel")
    [wheel] = wheels.glob("*.whl")

    # 2. Binder's environment: environment.yml's pip section, as conda hands it to pip
    env_doc = yaml.safe_load((repo / "environment.yml").read_text(encoding="utf-8"))
    [pip_lines] = [d["pip"] for d in env_doc["dependencies"] if isinstance(d, dict) and "pip" in d]
    section = repo / "condaenv.requirements.txt"
    section.write_text("\n".join(pip_lines) + "\n")
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timings, "create the venv")
    python = venv / "bin" / "python"
    # --no-deps as `make venv` does: the lock is complete, and offline uv cannot resolve from the
    # index (it has the wheels cached, not every index page); pip check proves nothing is missing
    _run([*offline, uv, "pip", "install", "--quiet", "--offline", "--no-deps", "--no-build-isolation",
          "--python", python,
          "-r", section], timings, "install environment.yml's pip section (offline, uv cache)",
         cwd=repo)
    _run([python, "-m", "pip", "check"], timings, "pip check", env=clean)
    _run([python, "-c", "import helpers.report"], timings, "import helpers", cwd=tmp_path, env=clean)

    # 3. the same environment without the book's package
    _run([uv, "pip", "uninstall", "--quiet", "--python", python, PACKAGE], timings, "uninstall")
    missing = subprocess.run([python, "-c", "import helpers"], cwd=tmp_path, capture_output=True,
                             env=clean)
    assert missing.returncode != 0, "helpers still imports: the test would not exercise the install"
    # pip, resolving the install step's dependencies, also asks for the two optional packages of
    # jsonschema[format-nongpl] (required by jupyter-events) that the lock leaves out on purpose
    # (`make lock`). Colab's pip downloads them; here they are fetched once (the only network use of
    # this test, before anything runs) into _build/launch-wheels and offered to the offline pip.
    extras = REPO_ROOT / "_build" / "launch-wheels"
    if len(list(extras.glob("*.whl"))) < len(EXTRAS):
        _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", extras, *EXTRAS],
             timings, "fetch jsonschema's optional packages once")
    for whl in extras.glob("*.whl"):
        shutil.copy2(whl, wheels / whl.name)

    # 4. the downloaded notebook, alone in an empty folder, offline
    reader = tmp_path / "reader"
    reader.mkdir()
    shutil.copy2(downloaded, reader / "chapter.ipynb")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "AICHINA_INSTALL_SPEC": str(wheel),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONFIG_FILE": os.devnull,
        # quick mode (small twins, few replications) keeps the test to minutes; the full mode runs
        # the same code on the paper's sample sizes
        "AICHINA_QUICK": "1",
    }
    _run([*offline, venv / "bin" / "jupyter", "nbconvert", "--to", "notebook", "--execute",
          "--ExecutePreprocessor.timeout=600", "--output", "executed.ipynb", "chapter.ipynb"],
         timings, "execute the downloaded chapter (install cell first)", cwd=reader, env=env)

    executed = json.loads((reader / "executed.ipynb").read_text(encoding="utf-8"))
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    install_output = "".join("".join(o.get("text", "")) for o in code[0].get("outputs", []))
    assert f"installing {wheel}" in install_output, install_output
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert all(c.get("execution_count") for c in code), "a cell did not run"
    # the twin was generated from the paper files inside the wheel, into the reader's cache
    generated = tmp_path / "home" / ".cache" / "ai-china-executable-papers" / "industry-finance-ai"
    assert generated.is_dir(), "the chapter did not build its twin into the user cache folder"
    print("timings (s):", json.dumps(timings, indent=1))

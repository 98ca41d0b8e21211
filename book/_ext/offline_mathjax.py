"""Serve MathJax 3 from the built site, so that the book renders its maths offline.

Sphinx loads MathJax from a CDN by default; this book must build and read offline. The PyPI package
``django-static-mathjax`` ships the MathJax 3.2.2 distribution as static files (it needs no Django at
run time). On ``builder-inited`` this extension copies the parts of MathJax's ``es5`` build that the
``tex-chtml`` component loads (the component, its input and output modules with the woff fonts, the
accessibility menu and the speech-rule engine it loads on demand) to ``<outdir>/../_mathjax_static``
and adds that folder to ``html_static_path``; ``mathjax_path`` then points at
``_static/mathjax/tex-chtml.js`` (set in ``book/_config.yml``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx

PARTS = ("tex-chtml.js", "input", "output", "ui", "a11y", "sre", "adaptors")


def _mathjax_es5() -> Path:
    try:
        import mathjax  # the static-files package from django-static-mathjax
    except ImportError as err:  # pragma: no cover - only without the lock installed
        raise RuntimeError(
            "MathJax is not installed: install the pinned environment (make venv), which includes "
            "django-static-mathjax, so the book can render maths offline"
        ) from err
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"MathJax's tex-chtml.js is missing from {es5}")
    return es5


def _copy_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    target = Path(app.outdir).parent / "_mathjax_static"
    dest = target / "mathjax"
    if not (dest / "tex-chtml.js").is_file():
        es5 = _mathjax_es5()
        dest.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            src = es5 / part
            if src.is_dir():
                shutil.copytree(src, dest / part, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest / part)
    app.config.html_static_path.append(str(target))


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", _copy_mathjax)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

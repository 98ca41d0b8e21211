"""Withhold exercise solutions: ``SOLUTIONS=0`` builds the book without them.

Every exercise solution in the book is a ``{toggle}`` block, or a ``{dropdown}`` titled
*Solutions* (chapters converted for JupyterLab), whose text starts with **Solution**. With the environment variable ``SOLUTIONS`` set to ``0`` (``make
book-instructor``), this extension removes those blocks from every page before it is written, so
an instructor can publish the book to students and hand out the solutions later. Other toggles
(hidden code, long tables) stay. The setting is a Sphinx configuration value of kind ``"env"``
(``book_solutions``), so switching it rebuilds every page instead of reusing pages built with the
other setting; the executed notebooks still come from the jupyter-cache.

``tests/test_solutions_build.py`` builds a small site both ways and greps its HTML.
"""

from __future__ import annotations

import os

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

ENV_VAR = "SOLUTIONS"
MARKER = "Solution"


def solutions_wanted(value: str | None) -> bool:
    """Read ``$SOLUTIONS``: unset or anything but ``0``/``false``/``no``/``off`` keeps solutions.

    Examples
    --------
    >>> solutions_wanted(None), solutions_wanted("1"), solutions_wanted("0"), solutions_wanted(" No ")
    (True, True, False, False)
    """
    return (value or "1").strip().lower() not in {"0", "false", "no", "off"}


def is_solution(node: nodes.Node) -> bool:
    """A toggle container, or a sphinx-design dropdown, whose text starts with the word *Solution*.

    Chapters converted for JupyterLab (``tools/reading.py``) fold their solutions in a
    ``{dropdown} Solutions`` block; the course pages use ``{toggle}`` blocks.
    """
    if isinstance(node, nodes.container) and "toggle" in node.get("classes", []):
        return node.astext().lstrip().startswith(MARKER)
    if type(node).__name__ == "dropdown_main":  # sphinx_design.dropdown.dropdown_main
        return node.astext().lstrip().startswith(MARKER)
    return False


def _read_env(app: Sphinx, config: Config) -> None:
    config.book_solutions = solutions_wanted(os.environ.get(ENV_VAR))


def _strip(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.config.book_solutions:
        return
    for node in list(doctree.findall(is_solution)):
        note = nodes.paragraph(text="(The solution is withheld in this edition.)",
                               classes=["solution-withheld"])
        node.replace_self(note)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_config_value("book_solutions", True, "env")
    app.connect("config-inited", _read_env)
    app.connect("doctree-resolved", _strip)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

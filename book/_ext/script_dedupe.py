"""Write each inline script once per page.

sphinx-thebe (loaded by Jupyter Book) adds its inline configuration script
(``const THEBE_JS_URL = ...``) on every ``env-before-read-docs`` event, which fires more than once in
a build, so pages carried the script twice and the browser threw "Identifier 'THEBE_JS_URL' has
already been declared" on every chapter page. On ``html-page-context`` this extension drops repeated
script entries (same file, same attributes, same inline body), keeping the first.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """Return ``scripts`` without repeats, in order.

    Examples
    --------
    >>> from sphinx.builders.html._assets import _JavaScript
    >>> a = _JavaScript("", body="const X = 1")
    >>> b = _JavaScript("", body="const X = 1")
    >>> len(unique_scripts([a, b, _JavaScript("x.js")]))
    2
    """
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    out = []
    for script in scripts:
        filename = str(getattr(script, "filename", script) or "")
        attributes = getattr(script, "attributes", {}) or {}
        key = (filename, tuple(sorted((str(k), str(v)) for k, v in attributes.items())))
        if key in seen:
            continue
        seen.add(key)
        out.append(script)
    return out


def _dedupe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(list(context["script_files"]))


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("html-page-context", _dedupe, priority=900)  # after every extension added its scripts
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

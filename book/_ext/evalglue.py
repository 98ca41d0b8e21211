"""The ``{eval}`` role on the site: show glued values, so the same prose renders in JupyterLab.

A chapter writes a computed number in its prose as ``{eval}`beta``` or ``{eval}`f"{beta:.4f}"```.
In JupyterLab, ``jupyterlab-myst`` evaluates that expression in the kernel (``helpers.book.glue``
binds every glued value to a kernel variable of the same name). On the site the notebook is executed
and cached by myst-nb, whose own ``{eval}`` role needs the uncached ``inline`` execution mode; this
extension replaces it (in every other mode) by a lookup of the glued values:

* ``{eval}`name``` pastes the glued ``name`` as text, as ``{glue:text}`name``` does (a string
  without its quotes, as jupyterlab-myst shows it);
* ``{eval}`f"text {name:.3f} text"``` pastes each ``{name:spec}`` as ``{glue:text}`name:spec```
  does, and keeps the literal text around it. A conversion (``!r``) or a nested expression
  (``{a + b}``, ``{d["k"]}``) is refused with a warning naming the form to use instead.

Examples
--------
>>> _parse_eval('beta')
[('glue', 'beta', None)]
>>> _parse_eval('f"{beta:.4f} ({se:.4f})"')
[('glue', 'beta', '.4f'), ('text', ' (', None), ('glue', 'se', '.4f'), ('text', ')', None)]
>>> _parse_eval('beta + 1')
Traceback (most recent call last):
...
ValueError: {eval}`beta + 1`: the site can show a glued name or an f-string of glued names, e.g. f"{beta:.3f}"
"""

from __future__ import annotations

import ast
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def _parse_eval(expr: str) -> list[tuple[str, str, str | None]]:
    """Split an ``{eval}`` expression into ``('glue', name, spec)`` and ``('text', s, None)``."""
    hint = (f"{{eval}}`{expr}`: the site can show a glued name or an f-string of glued names, "
            'e.g. f"{beta:.3f}"')
    try:
        tree = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError as err:
        raise ValueError(hint) from err
    if isinstance(tree, ast.Name):
        return [("glue", tree.id, None)]
    if not isinstance(tree, ast.JoinedStr):
        raise ValueError(hint)
    parts: list[tuple[str, str, str | None]] = []
    for value in tree.values:
        if isinstance(value, ast.Constant):
            parts.append(("text", str(value.value), None))
            continue
        if not (isinstance(value, ast.FormattedValue) and isinstance(value.value, ast.Name)
                and value.conversion == -1):
            raise ValueError(hint)
        spec = None
        if value.format_spec is not None:
            pieces = value.format_spec.values  # a JoinedStr
            if not all(isinstance(p, ast.Constant) for p in pieces):
                raise ValueError(hint)
            spec = "".join(str(p.value) for p in pieces) or None
        parts.append(("glue", value.value.id, spec))
    return parts


class EvalGlueRole:
    """``{eval}``: glued values on the site (myst-nb's kernel evaluation in ``inline`` mode)."""

    def __init__(self, fallback: Any) -> None:
        self.fallback = fallback  # myst-nb's role, used in the inline execution mode

    def __call__(self, name, rawtext, text, lineno, inliner, options=None, content=()):
        from myst_nb.ext.glue.roles import PasteTextRole

        document = inliner.document
        config = getattr(document, "nb_config", None) or document.settings.env.mystnb_config
        if self.fallback is not None and getattr(config, "execution_mode", None) == "inline":
            return self.fallback(name, rawtext, text, lineno, inliner, options or {}, content)
        try:
            parts = _parse_eval(text)
        except ValueError as err:
            msg = inliner.reporter.warning(str(err), line=lineno)
            return [nodes.problematic(rawtext, rawtext)], [msg]
        out: list[nodes.Node] = []
        messages: list[nodes.system_message] = []
        for kind, value, spec in parts:
            if kind == "text":
                out.append(nodes.Text(value))
                continue
            # text/plain with the quotes of a string removed, as jupyterlab-myst shows it
            arg = f"{value}:{spec}" if spec else value
            got, msgs = PasteTextRole()("glue:text", rawtext, arg, lineno, inliner, {}, [])
            out.extend(got)
            messages.extend(msgs)
        return out, messages


def _register(app: Sphinx) -> None:
    from docutils.parsers.rst import roles

    fallback = roles._roles.get("eval")  # myst-nb's EvalRoleAny (registered by myst_nb.setup)
    app.add_role("eval", EvalGlueRole(fallback), override=True)


def setup(app: Sphinx) -> dict[str, object]:
    # myst-nb registers its own `eval` role in its setup; replace it once every extension is set up.
    app.connect("builder-inited", _register)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

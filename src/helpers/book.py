"""Make a chapter read the same on the site and in JupyterLab.

On the site, myst-nb pastes values that a notebook *glues*; in JupyterLab, the ``jupyterlab-myst``
extension evaluates MyST's ``{eval}`` role in the running kernel. A chapter writes its numbers in
prose as ``{eval}`` expressions over glued names, e.g. ``{eval}`f"{beta:.4f}"```; the book's Sphinx
extension (``book/_ext/evalglue.py``) turns each name into the glued value, and JupyterLab evaluates
the same expression in the kernel. :func:`glue` keeps the two in step: it glues the value *and*
binds it to a kernel variable of the same name, so the expression means the same thing in both
places.

:data:`INSTALL_CELL` is the first code cell of every chapter: it installs the book's package where
``helpers`` is missing (Colab, Binder without the lock, a downloaded notebook) and does nothing where
it imports. ``tools/reading.py`` inserts it (tagged ``remove-cell`` so the site hides it).
"""

from __future__ import annotations

import keyword
from typing import Any

__all__ = ["INSTALL_CELL", "INSTALL_SOURCE", "glue"]

INSTALL_SOURCE = "ai-china-executable-papers @ git+https://github.com/ai-china-econ/executable-papers@main"
"""What the install cell installs by default (the book's repository; set ``AICHINA_INSTALL_SPEC``
to install a fork, a wheel or a local checkout instead)."""

INSTALL_CELL = f"""\
# Setup: run this cell first. It does nothing where the book's helpers are installed (`make venv`,
# `make lab`, Binder). Elsewhere (Colab, or this notebook downloaded into an empty folder) it installs
# the book's package and its dependencies with pip. For the exact versions the book was built with,
# clone the repository and run `make lab` instead. To install from a fork, a wheel or a local
# checkout, set the environment variable AICHINA_INSTALL_SPEC before starting Jupyter.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("helpers") is None:
    spec = os.environ.get("AICHINA_INSTALL_SPEC", "{INSTALL_SOURCE}")
    print(f"helpers is not installed: installing {{spec}} (a few minutes) ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", spec], check=True)
    importlib.invalidate_caches()
    print("Done. If an import below fails, restart the kernel and run all cells again.")
"""
"""Source of the install cell (plain Python, so it also runs outside IPython)."""


def glue(name: str, value: Any, display: bool = False) -> None:
    """Glue ``value`` under ``name`` for the site and bind it as a kernel variable for JupyterLab.

    Parameters
    ----------
    name : str
        The glue key; a Python identifier, because ``{eval}`` expressions refer to it by name.
    value : object
        What to glue (a number, a string, a figure, a table).
    display : bool, default False
        Also show the value in the cell's output (as :func:`myst_nb.glue` does).

    Raises
    ------
    ValueError
        If ``name`` is not an identifier, or the notebook already has a variable ``name`` bound to a
        different object (the prose would then show one value in JupyterLab and another on the site).

    Examples
    --------
    >>> glue("n_obs", 1200)
    >>> import numpy as np
    >>> glue("share", np.float64(0.25))  # stored and bound as the Python float 0.25
    >>> glue("not valid", 1)
    Traceback (most recent call last):
    ...
    ValueError: glue: 'not valid' is not a Python identifier; {eval} expressions refer to glued values by name
    """
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(
            f"glue: {name!r} is not a Python identifier; {{eval}} expressions refer to glued "
            "values by name"
        )
    from myst_nb import glue as _myst_glue

    value = _plain(value)
    namespace = _user_namespace()
    if namespace is not None and name in namespace and namespace[name] is not value:
        old = namespace[name]
        if not _same_scalar(old, value):
            raise ValueError(
                f"glue: the notebook already has a variable {name!r} with another value; glue "
                f"under a new name (the prose's {{eval}}`{name}` would show the variable in "
                "JupyterLab and the glued value on the site)"
            )
    _myst_glue(name, value, display=display)
    if namespace is not None:
        namespace[name] = value
    # nothing returned: a glue call on a cell's last line would otherwise echo the value as the
    # cell's output (and a figure cell would show two outputs under one figure name)


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds: NumPy 2 writes ``np.float64(0.5)`` as its
    text, which the site's formatted paste (``{eval}`f"{x:.2f}"```) cannot read."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return value
    return value.item() if isinstance(value, np.generic) else value


def _user_namespace() -> dict[str, Any] | None:
    """The IPython kernel's user namespace, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return None
    shell = get_ipython()
    return None if shell is None else shell.user_ns


def _same_scalar(a: Any, b: Any) -> bool:
    """True when a and b are equal numbers or strings (re-gluing a recomputed scalar is fine)."""
    scalar = (int, float, str, bool)
    try:
        import numpy as np

        scalar = (*scalar, np.generic)
    except ImportError:  # pragma: no cover
        pass
    return isinstance(a, scalar) and isinstance(b, scalar) and bool(a == b)

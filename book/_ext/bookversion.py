"""Show the book's version, read from its one source: ``[project] version`` in ``pyproject.toml``.

On ``config-inited`` this extension

* sets Sphinx's ``version`` and ``release`` to that version,
* adds a MyST substitution ``{{ version }}`` (the landing page prints it), and
* replaces ``{version}`` in the theme's ``extra_footer`` (``book/_config.yml``), so every page's footer
  says which version of the book it is.

``CITATION.cff`` repeats the version (the Citation File Format cannot read it from elsewhere);
``tests/test_publishing.py`` checks that the two agree.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

PLACEHOLDER = "{version}"


def read_version(root: Path) -> str:
    """Return ``[project] version`` from ``root / "pyproject.toml"``.

    Parameters
    ----------
    root : Path
        The repository root (the Sphinx source directory of this book).

    Returns
    -------
    str
        The version string, for example ``"0.1.0"``.

    Raises
    ------
    RuntimeError
        If ``pyproject.toml`` is missing or has no ``[project] version``.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "pyproject.toml").write_text('[project]\\nname = "x"\\nversion = "1.2.3"\\n')
    >>> read_version(d)
    '1.2.3'
    """
    path = Path(root) / "pyproject.toml"
    if not path.is_file():
        raise RuntimeError(f"cannot show the book's version: {path} does not exist")
    with path.open("rb") as fh:
        version = tomllib.load(fh).get("project", {}).get("version")
    if not isinstance(version, str) or not version.strip():
        raise RuntimeError(f"cannot show the book's version: {path} has no [project] version")
    return version.strip()


def _set_version(app: Sphinx, config: Config) -> None:
    version = read_version(Path(app.srcdir))
    config.version = version
    config.release = version
    substitutions = dict(getattr(config, "myst_substitutions", {}) or {})
    substitutions.setdefault("version", version)
    config.myst_substitutions = substitutions
    options = dict(config.html_theme_options or {})
    footer = options.get("extra_footer")
    if isinstance(footer, str):
        options["extra_footer"] = footer.replace(PLACEHOLDER, version)
    config.html_theme_options = options


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _set_version)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

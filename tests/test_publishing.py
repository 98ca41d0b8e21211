"""Licence, citation, changelog and version: the files an adopter needs, and that they agree.

``CITATION.cff`` is validated offline against the Citation File Format 1.2.0 JSON schema, vendored
from the PyPI package cffconvert 2.0.0 (``tests/fixtures/cff/SOURCE.md`` says why and gives its
sha256). The version has one source, ``pyproject.toml``; the Sphinx extension
``book/_ext/bookversion.py`` shows it on the site and ``CITATION.cff`` repeats it.
"""

from __future__ import annotations

import copy
import doctest
import hashlib
import importlib.util
import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from helpers.paths import book_chapters

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "tests" / "fixtures" / "cff" / "schema-1.2.0.json"
SCHEMA_SHA256 = "0b8d22140da702d766df318dcff3a91af2f39521298dcf36d76315fd99cc169b"
CHAPTERS = book_chapters(ROOT)  # the Chapters part of book/_toc.yml


def load_module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pyproject_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def chinese_subtitle(notebook: Path) -> str:
    """The chapter's Chinese title: the italic line under its heading in the first Markdown cell
    (the first cell is the hidden install cell)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    source = "".join(next(c for c in cells if c["cell_type"] == "markdown")["source"])
    match = re.search(r"^\*([^*\n]*[\u4e00-\u9fff][^*\n]*)\*$", source, re.MULTILINE)
    assert match, f"{notebook.name}: no Chinese subtitle in the first Markdown cell"
    return match.group(1)


def test_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", pyproject_version())


def test_vendored_schema_is_the_published_file():
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_citation_cff_is_valid_cff_1_2():
    errors = sorted(validator().iter_errors(citation()), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.pop("authors"),
        lambda d: d.update({"cff-version": "1.1.0"}),
        lambda d: d["references"][0].update({"type": "novel"}),
        lambda d: d.update({"date-released": "next week"}),
    ],
)
def test_schema_rejects_broken_citations(break_it):
    # the validator is not a rubber stamp: each of these breaks CFF 1.2.0
    data = copy.deepcopy(citation())
    break_it(data)
    assert list(validator().iter_errors(data))


def test_versions_agree():
    version = pyproject_version()
    assert str(citation()["version"]) == version
    assert load_module("bookversion").read_version(ROOT) == version
    assert re.search(rf"^## \[{re.escape(version)}\]", (ROOT / "CHANGELOG.md").read_text(), re.M)


def test_site_shows_the_version_and_the_licences():
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["local_extensions"]["bookversion"] == "_ext"
    footer = config["sphinx"]["config"]["html_theme_options"]["extra_footer"]
    assert "{version}" in footer and "CC BY 4.0" in footer and "MIT" in footer
    landing = (ROOT / "book" / "index.md").read_text(encoding="utf-8")
    assert "{{ version }}" in landing and "CC BY 4.0" in landing
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pdf_name = re.search(r"^PDF_NAME := (\S+)$", makefile, re.MULTILINE).group(1)
    # the landing page is book/index.html; `make pdf` copies the PDF to the top of the site
    assert f'href="../{pdf_name}"' in landing


def test_licence_covers_code_and_text():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in text and "CC BY 4.0" in text and "CC-BY-4.0" in text
    assert citation()["license"] == ["MIT", "CC-BY-4.0"]


def test_citation_lists_every_paper():
    refs = citation()["references"]
    assert len(refs) == len(CHAPTERS)
    titles = " ".join(ref["title"] for ref in refs)
    for notebook in CHAPTERS:
        assert chinese_subtitle(notebook) in titles, notebook.name


def test_no_paper_is_cited_as_anonymous():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    assert "Anonymous" not in bib
    assert "Anonymous" not in (ROOT / "CITATION.cff").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["bookversion", "printpdf"])
def test_book_scripts_doctests(name):
    result = doctest.testmod(load_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_read_version_says_what_is_missing(tmp_path):
    module = load_module("bookversion")
    with pytest.raises(RuntimeError, match="does not exist"):
        module.read_version(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(RuntimeError, match=r"no \[project\] version"):
        module.read_version(tmp_path)


def test_printpdf_refuses_a_page_that_is_not_a_singlehtml_build():
    with pytest.raises(ValueError, match="singlehtml"):
        load_module("printpdf").prepare("<html><body><main><h1>x</h1></main></body></html>")


def test_executed_notebooks_come_from_the_cache(tmp_path):
    """A stripped notebook gets its cached outputs back; a changed one is refused."""
    import zipfile

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    module = load_module("export_notebooks")
    executed = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "print(6 * 7)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="42\n")]
            )
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    cache = get_cache(tmp_path / "cache")
    cache.cache_notebook_bundle(CacheBundleIn(executed, "ch.ipynb"), check_validity=False)
    stripped = copy.deepcopy(executed)
    stripped.cells[0].outputs = []
    path = tmp_path / "01_ch.ipynb"
    nbformat.write(stripped, path)

    out = tmp_path / "release" / "nb.zip"
    assert module.export(tmp_path / "cache", out, [path]) == ["01_ch.ipynb"]
    with zipfile.ZipFile(out) as zf:
        merged = nbformat.reads(zf.read("01_ch.ipynb").decode(), as_version=4)
    assert merged.cells[0].outputs[0]["text"] == "42\n"

    stripped.cells[0].source = "print(6 * 9)"
    nbformat.write(stripped, path)
    with pytest.raises(ValueError, match="not executed"):
        module.export(tmp_path / "cache", out, [path])
    with pytest.raises(FileNotFoundError, match="make book"):
        module.export(tmp_path / "nowhere", out, [path])

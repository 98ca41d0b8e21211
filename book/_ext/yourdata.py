"""The "Run it on your data" page: a ``{yourdata} <slug>`` directive built from ``data/<slug>/schema.yml``.

For one chapter the directive emits, at build time, from the schema file alone:

* a sentence naming the panel keys (and a link to the chapter when the book has it);
* the **columns** table: name, type (with the code width), required, empty cells allowed, allowed
  range or values, unit and description, typical source fields of CSMAR, Wind or the yearbooks;
* the **companion raw files** table (the ``companions:`` section): name, columns, what the chapter
  builds from it;
* a **worked example**: a ``load_panel`` call with ``rename=`` built from the first source field of
  each column that lists one, and how to hand the checked panel to the chapter.

The schema file is registered as a dependency of the page, so editing a schema rebuilds it. Usage in
MyST Markdown::

    ```{yourdata} bigdata-innovation-fusion
    ```
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

COLUMN_HEADERS = ("Column", "Type", "Required", "Empty allowed", "Allowed values", "Unit / meaning",
                  "Typical source fields")
COMPANION_HEADERS = ("Raw file", "Columns", "What the chapter builds from it")


def type_text(spec: dict[str, Any]) -> str:
    """The type cell: ``str (6 digits)`` for a code column, else the dtype.

    Examples
    --------
    >>> type_text({"dtype": "str", "width": 6}), type_text({"dtype": "float"})
    ('str (6 digits)', 'float')
    """
    width = spec.get("width")
    return f"{spec['dtype']} ({width} digits)" if width else str(spec["dtype"])


def allowed_text(spec: dict[str, Any]) -> str:
    """The range cell: ``[0, 1]``, ``≥ 0``, ``≤ 15``, ``one of East, West`` or an empty string.

    Examples
    --------
    >>> allowed_text({"min": 0, "max": 1}), allowed_text({"min": 0}), allowed_text({"values": [0, 1]})
    ('[0, 1]', '≥ 0', 'one of 0, 1')
    """
    if "values" in spec:
        return "one of " + ", ".join(str(v) for v in spec["values"])
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and hi is not None:
        return f"[{lo}, {hi}]"
    if lo is not None:
        return f"≥ {lo}"
    if hi is not None:
        return f"≤ {hi}"
    return ""


def meaning_text(spec: dict[str, Any]) -> str:
    """Unit and description joined by a semicolon (either may be absent).

    Examples
    --------
    >>> meaning_text({"unit": "ln yuan", "description": "firm size"})
    'ln yuan; firm size'
    """
    return "; ".join(str(spec[k]) for k in ("unit", "description") if spec.get(k))


def example_code(slug: str, schema: dict[str, Any]) -> str:
    """The worked example: ``load_panel`` with ``rename=`` from the schema's source fields.

    Examples
    --------
    >>> sch = {"columns": {"stkcd": {"source_fields": ["Stkcd", "证券代码"]},
    ...                    "year": {"source_fields": ["Year"]}, "NQP": {}}}
    >>> print("\\n".join(example_code("ai-new-quality-productivity", sch).splitlines()[4:8]))
        "my_export.csv",  # CSV (UTF-8 or GBK), .xlsx, .dta or .parquet
        rename={  # your column names -> the schema's (only those that differ)
            "Stkcd": "stkcd",
            "Year": "year",
    """
    pairs = [(sp["source_fields"][0], col) for col, sp in schema["columns"].items()
             if sp.get("source_fields")]
    return "\n".join([
        "from helpers.twins import load_panel",
        "",
        "panel = load_panel(",
        f'    "{slug}",',
        '    "my_export.csv",  # CSV (UTF-8 or GBK), .xlsx, .dta or .parquet',
        "    rename={  # your column names -> the schema's (only those that differ)",
        *(f'        "{old}": "{new}",' for old, new in pairs),
        "    },",
        '    na_values=["--"],  # if your export writes "--" for missing cells',
        ")",
        'panel.to_parquet("my_panel.parquet")  # checked, with the schema\'s names and types',
        '# then, in the chapter\'s parameter cell: DATA = "my_panel.parquet"',
    ])


def _cell(content: str | nodes.Node) -> nodes.entry:
    para = nodes.paragraph()
    para += nodes.Text(content) if isinstance(content, str) else content
    return nodes.entry("", para)


def _literals(names: list[str]) -> nodes.inline:
    out = nodes.inline()
    for i, name in enumerate(names):
        if i:
            out += nodes.Text(", ")
        out += nodes.literal(text=str(name))
    return out


def _table(headers: tuple[str, ...], rows: list[list[str | nodes.Node]], cls: str) -> nodes.table:
    table = nodes.table(classes=[cls, "colwidths-auto"])
    tgroup = nodes.tgroup(cols=len(headers))
    table += tgroup
    for _ in headers:
        tgroup += nodes.colspec(colwidth=1)
    thead = nodes.thead()
    tgroup += thead
    head = nodes.row()
    for h in headers:
        head += _cell(h)
    thead += head
    tbody = nodes.tbody()
    tgroup += tbody
    for cells in rows:
        row = nodes.row()
        for c in cells:
            row += _cell(c)
        tbody += row
    return table


def column_rows(schema: dict[str, Any]) -> list[list[str | nodes.Node]]:
    """One row per schema column (the columns table)."""
    rows: list[list[str | nodes.Node]] = []
    for name, sp in schema["columns"].items():
        rows.append([
            nodes.literal(text=name), type_text(sp), "yes" if sp.get("required", True) else "no",
            "yes" if sp.get("nullable", False) else "no", allowed_text(sp), meaning_text(sp),
            _literals(sp.get("source_fields", [])),
        ])
    return rows


def companion_rows(schema: dict[str, Any]) -> list[list[str | nodes.Node]]:
    """One row per companion raw file."""
    rows: list[list[str | nodes.Node]] = []
    for name, sp in (schema.get("companions") or {}).items():
        first = nodes.inline()
        first += nodes.literal(text=name)
        if sp.get("description"):
            first += nodes.Text(f": {sp['description']}")
        rows.append([first, _literals([str(c) for c in sp["columns"]]), str(sp["builds"])])
    return rows


class YourDataDirective(SphinxDirective):
    """``{yourdata} <slug>``: columns, companion files and a worked example of one chapter's schema."""

    required_arguments = 1
    has_content = False

    def _chapter_link(self, slug: str) -> nodes.Node | None:
        doc = next((d for d in sorted(self.env.found_docs)
                    if d.startswith("notebooks/") and d.split("/")[-1][3:] == slug), None)
        if doc is None:
            return None
        return pending_xref("", nodes.inline(text="the chapter"), refdoc=self.env.docname,
                            refdomain="std", reftype="doc", reftarget="/" + doc, refexplicit=True,
                            refwarn=True)

    def run(self) -> list[nodes.Node]:
        """Read the schema and return the page's nodes for this chapter."""
        from helpers.paths import slug_dir
        from helpers.twins.loader import read_schema

        slug = self.arguments[0].strip()
        try:
            schema = read_schema(slug)
        except ValueError as err:
            raise self.error(str(err)) from None
        self.env.note_dependency(str(slug_dir(slug) / "schema.yml"))
        intro = nodes.paragraph()
        intro += nodes.Text("Schema file ")
        intro += nodes.literal(text=f"data/{slug}/schema.yml")
        intro += nodes.Text(". One row per unique combination of the panel keys ")
        intro += _literals(list(schema["keys"]))
        n_req = sum(sp.get("required", True) for sp in schema["columns"].values())
        intro += nodes.Text(f"; {n_req} of the {len(schema['columns'])} columns are required (a missing "
                            "optional column only switches off the part of the chapter that needs it).")
        link = self._chapter_link(slug)
        if link is not None:
            intro += nodes.Text(" Open ")
            intro += link
            intro += nodes.Text(".")
        out: list[nodes.Node] = [intro, nodes.rubric(text="Columns"),
                                 _table(COLUMN_HEADERS, column_rows(schema), "yourdata-columns")]
        comp = companion_rows(schema)
        if comp:
            out.append(nodes.rubric(text="Companion raw files"))
            out.append(nodes.paragraph(text=(
                "The chapter builds its indices from these raw tables (on the twin: twin.raw[name], in "
                "this layout). The panel above already holds the built columns; the raw files are needed "
                "only to rebuild them.")))
            out.append(_table(COMPANION_HEADERS, comp, "yourdata-companions"))
        out.append(nodes.rubric(text="Worked example"))
        code = example_code(slug, schema)
        block = nodes.literal_block(code, code, language="python")
        out.append(block)
        return out


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``yourdata`` directive."""
    app.add_directive("yourdata", YourDataDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

# AI & the Chinese Economy: Executable Papers
#   make book   - create .venv from the lock, build the data, execute every chapter, write the HTML site
#   make test   - the whole test suite (lint, helpers, chapters in quick mode, book build, PDF, browser check)
#   make pdf    - the whole book as one PDF (after make book), printed by headless Chromium
# Run `make help` for the other targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
# one hash seed for every process and notebook kernel: pyfixest 0.60 orders some small-sample
# bookkeeping by set iteration, so two builds could otherwise differ in the last digits
export PYTHONHASHSEED := 0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
# Sphinx source is the repository root, so notebooks/ stays at the top level.
JB_FLAGS := --config book/_config.yml --toc book/_toc.yml -W -n --keep-going
QUICK_OUT := _build/quick
PYTEST := $(BIN)/python -m pytest
UV_VERSION := 0.9.30
# The book's version has one source, pyproject.toml; the site, the PDF and CITATION.cff show it.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n 1)
PDF_NAME := ai-china-executable-papers.pdf
PRINT := $(BIN)/python book/_ext/printpdf.py

.DEFAULT_GOAL := help
.PHONY: help venv lock data book book-instructor primers-seeds chapters-seeds test test-fast lint unit notebooks book-quick browser \
        browser-deps launch bench lab strip clean pdf pdf-quick executed-notebooks linkcheck version release-check

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

venv: $(STAMP)  ## create .venv from requirements.lock (again only when the lock changes)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; this book needs Python 3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "error: $(PYTHON) is not Python 3.11" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@# uv installs the pinned wheels in parallel (about 45 s against 5-6 min for pip) and byte-compiles
	@# them: with PYTHONDONTWRITEBYTECODE set (as on many CI images) every import would otherwise
	@# recompile from source, which makes each notebook kernel start 3-4 times slower
	@# --no-deps: the lock is complete (pip check below proves it). It leaves out one optional extra,
	@# jsonschema[format-nongpl]'s rfc3987-syntax: it compiles 38 grammars on import, 3 s of every
	@# notebook run (myst-nb's glue imports nbformat, which imports jsonschema)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --compile-bytecode --no-deps --python $(BIN)/python -r requirements.lock
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

lock: ## regenerate requirements.lock from the current .venv (after changing pyproject.toml)
	( echo "# Exact versions installed by \`make\` (Python 3.11, Linux x86_64). Ranges live in pyproject.toml."; \
	  echo "# Regenerate with: make lock"; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^-e' \
	    | grep -v -i -E '^(rfc3987-syntax|lark|uv)==' | sort -f ) > requirements.lock
	touch $(STAMP)

data: venv  ## build the simulated twins' data files
	$(BIN)/python -m helpers.build_data

book: venv data  ## execute every chapter (cached) and write the HTML site to _build/html
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

# The student edition without exercise solutions (book/_ext/solutions.py); the same cache, so nothing is
# re-executed. Run `make book` again (it rebuilds every page) to restore the solutions.
book-instructor: venv data  ## the book without exercise solutions (SOLUTIONS=0), to publish before handing them out
	SOLUTIONS=0 $(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "The book without solutions is at file://$(CURDIR)/_build/html/index.html"

primers-seeds: venv  ## execute every primer at other seeds (SEEDS="7 11"): their claims must hold there too
	$(BIN)/python tests/primers_at_seeds.py $(or $(SEEDS),7 11)

chapters-seeds: venv data  ## execute every chapter at other seeds (SEEDS="1 2 3", ONLY="02 05", QUICK=1): every assertion must hold
	$(BIN)/python tests/chapters_at_seeds.py $(or $(SEEDS),1 2 3) $(if $(ONLY),--only $(ONLY)) $(if $(QUICK),--quick)

test: venv lint unit notebooks book-quick pdf-quick browser launch  ## the whole test suite (what CI runs)

test-fast: venv lint  ## lint and helper tests, without the slow ones
	$(PYTEST) -m "not slow and not browser and not launch" tests

lint: venv  ## ruff on src/, tests/, benchmarks/, tools/, notebooks, templates and the Sphinx extensions
	$(BIN)/ruff check src tests benchmarks tools notebooks book/_ext templates

unit: venv  ## helper tests, notebook hygiene, twins, real-data fixtures, and every docstring example
	$(PYTEST) -m "not browser and not launch" tests
	$(PYTEST) -p no:cacheprovider --doctest-modules src/helpers book/_ext tools

notebooks: venv  ## execute every chapter headless in a fresh kernel, quick mode
	AICHINA_QUICK=1 AICHINA_BUILD_DIR=$(CURDIR)/$(QUICK_OUT) $(PYTEST) --nbmake --nbmake-timeout=900 -p no:cacheprovider notebooks

book-quick: venv  ## build the book in quick mode with warnings as errors (into _build/quick)
	rm -rf $(QUICK_OUT)/_build/html
	AICHINA_QUICK=1 AICHINA_BUILD_DIR=$(CURDIR)/$(QUICK_OUT) $(BIN)/jupyter-book build . $(JB_FLAGS) --path-output $(QUICK_OUT)

browser: venv browser-deps  ## open every page of the quick build in headless Chromium; screenshots in _build/screenshots
	SITE_DIR=$(QUICK_OUT)/_build/html SINGLEHTML_DIR=$(QUICK_OUT)/_build/singlehtml \
	  PDF_FILE=$(QUICK_OUT)/_build/pdf/$(PDF_NAME) $(PYTEST) -m browser tests

# The PDF: Sphinx's singlehtml builder inlines every page in one HTML page (the chapters come from the
# jupyter-cache that `make book` filled, so nothing is re-executed), and headless Chromium prints it
# with the print rules in book/_static/book.css (a new sheet per page of the book, tables wrapped).
pdf: venv data browser-deps  ## the whole book as one PDF, _build/pdf/ (and into _build/html/ for the landing-page link)
	$(BIN)/jupyter-book build . $(JB_FLAGS) --builder singlehtml
	$(PRINT) _build/singlehtml _build/pdf/$(PDF_NAME)
	@if [ -d _build/html ]; then cp _build/pdf/$(PDF_NAME) _build/html/$(PDF_NAME); echo "copied to _build/html/$(PDF_NAME)"; fi

pdf-quick: venv browser-deps  ## the PDF of the quick build (make test; _build/quick/_build/pdf/)
	AICHINA_QUICK=1 AICHINA_BUILD_DIR=$(CURDIR)/$(QUICK_OUT) $(BIN)/jupyter-book build . $(JB_FLAGS) --builder singlehtml --path-output $(QUICK_OUT)
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || [ "$${CI:-}" = true ]; then \
	  $(PRINT) $(QUICK_OUT)/_build/singlehtml $(QUICK_OUT)/_build/pdf/$(PDF_NAME); \
	else echo "note: no Chromium, so the quick PDF is not printed (its check is skipped); 'sudo make browser-deps' installs it"; fi

executed-notebooks: venv  ## zip the chapters with the outputs of the last make book (a release asset), _build/release/
	$(BIN)/python book/_ext/export_notebooks.py _build/.jupyter_cache _build/release/executed-notebooks-$(VERSION).zip

# Sphinx's linkcheck builder. Jupyter Book's `--builder linkcheck` writes its report into the html
# folder; as a custom builder it goes to $(QUICK_OUT)/_build/linkcheck/output.{txt,json} instead.
linkcheck: venv  ## check every external link in the book (needs the network; quick-mode chapters)
	AICHINA_QUICK=1 AICHINA_BUILD_DIR=$(CURDIR)/$(QUICK_OUT) $(BIN)/jupyter-book build . $(JB_FLAGS) \
	  --builder custom --custom-builder linkcheck --path-output $(QUICK_OUT)

version:  ## print the book's version (from pyproject.toml)
	@echo $(VERSION)

# The release workflow runs this first: the tag, pyproject.toml, CITATION.cff and CHANGELOG.md must agree.
# It also writes the release notes (the version's CHANGELOG section) to _build/release/notes.md.
release-check:  ## check TAG=vX.Y.Z against pyproject, CITATION.cff and CHANGELOG.md; write the release notes
	@[ -n "$(TAG)" ] || { echo "error: give the tag, e.g. make release-check TAG=v$(VERSION)" >&2; exit 1; }
	@[ "$(TAG)" = "v$(VERSION)" ] || { echo "error: tag $(TAG) does not match pyproject.toml's version $(VERSION)" >&2; exit 1; }
	@grep -q '^version: "$(VERSION)"$$' CITATION.cff || { echo "error: CITATION.cff's version is not $(VERSION)" >&2; exit 1; }
	@grep -q '^## \[$(VERSION)\]' CHANGELOG.md || { echo "error: CHANGELOG.md has no '## [$(VERSION)]' section" >&2; exit 1; }
	mkdir -p _build/release
	awk '/^## \[$(VERSION)\]/{on=1; next} on && /^## \[/{exit} on' CHANGELOG.md > _build/release/notes.md
	@echo "$(TAG): versions agree; release notes in _build/release/notes.md"

browser-deps:  ## install Debian's Chromium, CJK fonts and pdftotext if missing (root or sudo; else the browser checks skip)
	@if [ ! -x "$${CHROMIUM:-/usr/bin/chromium}" ] || [ ! -x /usr/bin/pdftotext ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; \
	  elif [ "$${CI:-}" = true ]; then echo "error: CI needs Chromium and pdftotext, and cannot install them without root" >&2; exit 1; \
	  else echo "note: Chromium or pdftotext is missing and installing them needs root: the browser and PDF checks will be skipped (run 'sudo make browser-deps' to run them)"; exit 0; fi; \
	  echo "installing Debian's chromium, fonts-noto-cjk and poppler-utils for the browser and PDF checks"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; \
	fi

launch: venv  ## run a chapter downloaded from the quick build in a fresh venv, offline (after book-quick)
	SITE_DIR=$(QUICK_OUT)/_build/html $(PYTEST) -m launch -s tests

bench: venv  ## run every benchmark in benchmarks/ and print its measurements
	@for f in benchmarks/bench_*.py; do [ "$$f" = benchmarks/bench_build.py ] && continue; echo "== $$f"; $(BIN)/python $$f; done
	@echo "(the build budgets: $(BIN)/python benchmarks/bench_build.py [--install])"

lab: venv  ## JupyterLab with the book's kernel and jupyterlab-myst (numbers in prose, folded solutions)
	@# jupyterlab-myst is in the lock; the kernel is registered for this user, so another Jupyter can use it
	$(BIN)/python -m ipykernel install --user --name ai-china-book \
	  --display-name "Python 3.11 (AI & the Chinese Economy)" >/dev/null
	$(BIN)/jupyter labextension list 2>&1 | grep -q "jupyterlab-myst.*enabled" \
	  || { echo "error: jupyterlab-myst is not enabled; run make venv" >&2; exit 1; }
	$(BIN)/jupyter lab --notebook-dir=notebooks $$( [ "$$(id -u)" -eq 0 ] && echo --allow-root )

strip: venv  ## remove outputs from every notebook before committing
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb

clean:  ## remove the built site, caches and generated data (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache data/_generated
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

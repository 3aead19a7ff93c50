# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The node SMSC the SMPP tests talk to (tests/smsc), installed from its lock file.
SMSC_STAMP := tests/smsc/node_modules/.installed

.PHONY: demo test lint typecheck unit install dev clean chromium screenshots migration

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

$(SMSC_STAMP): tests/smsc/package-lock.json
	npm ci --prefix tests/smsc --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's chromium through Playwright (never a browser build of
# Playwright's own); CI runs as root, a developer may need sudo once.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

install: $(STAMP)
dev: $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/python -m textopt.demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: lint typecheck $(SMSC_STAMP) chromium
	TEXTOPT_REQUIRE_POSTGRES=$${TEXTOPT_REQUIRE_POSTGRES:-1} $(BIN)/pytest

# The tests that need no database, server or browser: a quick check while editing.
unit: $(DEV_STAMP)
	$(BIN)/pytest tests/unit

# A PNG of each page of the browser walkthroughs, in docs/screenshots/ (SQLite run only).
screenshots: $(DEV_STAMP) chromium
	TEXTOPT_SCREENSHOTS=docs/screenshots $(BIN)/pytest tests/acceptance/web -q -k sqlite

clean:
	rm -rf $(VENV) demo textopt.db textopt.db-* textopt.secret

# Until the first release the schema has one migration, regenerated from the models.
migration: $(DEV_STAMP)
	$(BIN)/python tools/regen_migration.py

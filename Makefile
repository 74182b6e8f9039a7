# The two commands that do everything on a fresh machine (Python 3.11+ and make):
#   make run    the product on the embedded SQLite default, with the demo data
#   make test   lint, layering check and the whole test suite
# PostgreSQL tests run too when FSM_TEST_DATABASE_URL points at a server (see README).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: run test lint check-layers bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev]'
	touch $@ $(VENV)/.installed

# One start: `fsm tui --demo` creates or upgrades the database and loads the demo company
# only when there is something to do.
run: $(VENV)/.installed
	$(BIN)/fsm tui --demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-layers: $(VENV)/.installed-dev
	$(BIN)/lint-imports

# Two workers: the suite (SQLite and PostgreSQL) takes half the time on a 2-core machine.
PYTEST_WORKERS ?= 2

test: lint check-layers
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/orders_list.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache

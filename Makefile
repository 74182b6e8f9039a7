# The two commands that do everything on a fresh machine (Python 3.11+ and make):
#   make run    the product on the embedded SQLite default, with the demo data
#   make test   lint, layering check, type check and the whole test suite
# PostgreSQL tests run too when FSM_TEST_DATABASE_URL points at a server (see README).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_FLAGS ?= --disable-pip-version-check --quiet

.PHONY: run test lint check-layers typecheck bench clean lock snapshots

# Every install takes its versions from the lock (constraints.txt): what CI tested is what
# `make run` and `make test` install. `make lock` resolves pyproject.toml's ranges afresh.
LOCK := constraints.txt

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip

# Stamps: reinstall only when pyproject.toml or the lock changes.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) -c $(LOCK) -e '.[dev]'
	touch $@ $(VENV)/.installed

# Resolve the newest versions pyproject.toml allows, for Python 3.11 on every platform, into
# the lock; then `make test`, look at what changed (snapshots first), and commit both.
lock: | $(BIN)/python
	$(BIN)/python -m pip install $(PIP_FLAGS) 'uv>=0.5'
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra postgres --universal \
		--python-version 3.11 --upgrade --annotation-style line -o $(LOCK)
	@echo "Lock updated: run make test before committing $(LOCK)."

# One start: `fsm tui --demo` creates or upgrades the database and loads the demo company
# only when there is something to do.
run: $(VENV)/.installed
	$(BIN)/fsm tui --demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-layers: $(VENV)/.installed-dev
	$(BIN)/lint-imports

# mypy over fsm_core, fsm_cli and fsm_tui, configured in pyproject.toml ([tool.mypy]).
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# Two workers: the suite (SQLite and PostgreSQL) takes half the time on a 2-core machine.
PYTEST_WORKERS ?= 2

# worksteal: a worker that runs out of tests takes some of another's queue, instead of
# waiting at the end while the other works through its share of the long ones.
test: lint check-layers typecheck
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# Redraw the dashboard's SVG snapshots after a change meant to alter what is drawn (or a
# Textual upgrade through `make lock`); look at every changed file before committing.
snapshots: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/tui -n $(PYTEST_WORKERS) --snapshot-update $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/orders_list.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache .mypy_cache

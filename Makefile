# OrderHub: `make rehearse` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup test lint rehearse bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

rehearse: setup
	$(VENV)/bin/orderhub rehearse double11-42k --out var/rehearsal

bench: setup
	$(PY) -m benchmarks.domain
	$(PY) -m benchmarks.ledger
	$(PY) -m benchmarks.hub
	$(PY) -m benchmarks.hub_bound

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

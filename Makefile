# The two quick-start commands: `make run` (main job against the embedded reference portal)
# and `make test` (every test). Both need only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,clients]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/b24-conformance run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/b24-conformance lint
	$(BIN)/ruff check src tests suites bench

bench: $(STAMP)
	$(BIN)/python bench/portal_throughput.py

clean:
	rm -rf $(VENV) reports .pytest_cache

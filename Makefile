# The two quick-start commands: `make run` (main job against the embedded reference portal)
# and `make test` (every test). Both need only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# worker processes for make test; TEST_WORKERS=0 runs every test in one process
TEST_WORKERS ?= 4

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
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

lint: $(STAMP)
	$(BIN)/b24-conformance lint
	$(BIN)/ruff check src tests suites bench

bench: $(STAMP)
	$(BIN)/python bench/portal_throughput.py

clean:
	rm -rf $(VENV) reports .pytest_cache

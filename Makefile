# Two set-up commands, each making its own virtual environment:
#   make demo   installs relabel with the demo extra and runs the embedded demo
#   make test   installs relabel with the test extra, then runs ruff, mypy and the test suite
#   make lint   ruff and mypy only (configured in pyproject.toml)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo,report]'
	$(BIN)/relabel evaluate --demo --out demo-output --recommend demo-output/overrides.json --report demo-output/report

test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python benchmarks/evaluate_bench.py
	$(BIN)/python benchmarks/compare_bench.py

clean:
	rm -rf $(VENV) demo-output

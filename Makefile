# shelfwise developer commands. Everything runs inside ./.venv, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PORT   ?= 8000

.PHONY: help install install-dev demo test test-all lint typecheck check bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(BIN)/python  ## install shelfwise with every extra (torch pinned to the CPU wheel)
	$(PIP) install --quiet -e '.[all]'

install-dev: $(BIN)/python  ## install shelfwise with the test and lint tools
	$(PIP) install --quiet -e '.[dev]'

demo: install  ## install everything and serve the demo shop (make demo PORT=8123 picks the port)
	$(BIN)/shelfwise demo --port $(PORT)

test: install-dev  ## install test dependencies and run the test suite (what CI runs)
	$(BIN)/python -m pytest -q

test-all: install-dev  ## the test suite including slow tests
	$(BIN)/python -m pytest -q -m 'slow or not slow'

lint: install-dev  ## ruff
	$(BIN)/ruff check src tests benchmarks scripts

typecheck: install-dev  ## mypy on src/
	$(BIN)/mypy

check: lint typecheck test  ## everything a reviewer runs

bench: install  ## the benchmarks (long; writes benchmarks/results/)
	$(BIN)/python benchmarks/bench_ingest.py

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Two commands set up a fresh machine: `make book` and `make test` (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB := $(BIN)/jupyter-book
BUILD := _build
JOBS ?= 2
# The book's matrices are small (64 x 32 layers): OpenBLAS's threads cost more than they save
# and would compete with the pytest workers and with each other (measured: README, Build speed).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: help setup book test lint unit chapters build-clean browser chromium timings \
	benchmark clean notebooks

help:
	@echo "make book   set up .venv, build the book (cached chapters re-run when optlib changes)"
	@echo "make test   set up .venv, ruff, pytest + doctests, chapters as notebooks, clean -W -n build"
	@echo "           then every page in headless Chromium (make browser)"
	@echo "make timings     time make-book builds: clean, nothing changed, optlib changed"
	@echo "make benchmark   run benchmarks/sweep.py"

# The virtual environment, rebuilt whenever the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)

book: setup
	$(JB) build . -W -n --keep-going
	@echo "Book: $(abspath $(BUILD))/html/index.html"

build-clean: setup
	rm -rf $(BUILD)
	$(JB) build . -W -n --keep-going

lint: setup
	$(BIN)/ruff check optlib tests benchmarks chapters/_ext

unit: setup
	$(BIN)/python -m pytest -n $(JOBS) --doctest-modules optlib tests -m "not browser and not chapters and not notebooks"

chapters: setup
	$(BIN)/python -m pytest -n $(JOBS) tests -m chapters

# Debian's chromium for the browser test (CI runs as root); never a Playwright download.
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# Every page of the built site in headless Chromium, notebook downloads, deterministic output
# (tests/test_site.py); needs a finished build.
browser: setup chromium
	@test -f $(BUILD)/html/index.html || { echo "make browser: no book in $(BUILD)/html:" \
	  "run 'make book' or 'make build-clean' first" >&2; exit 1; }
	$(BIN)/python -m pytest -n $(JOBS) tests/test_site.py $(wildcard tests/test_explorable_*.py) -m browser

# The notebook downloads of the built site: readable without the book, and two of them run in
# a fresh venv with only `pip install ".[book]"` (tests/test_notebooks.py); needs a build.
notebooks: setup
	@test -f $(BUILD)/html/index.html || { echo "make notebooks: no book in $(BUILD)/html:" \
	  "run 'make book' or 'make build-clean' first" >&2; exit 1; }
	$(BIN)/python -m pytest tests/test_notebooks.py -m notebooks

# chapters after build-clean: it keeps each execution in _build/executed/, which the browser
# step's determinism test compares with the book's own (instead of a third execution)
test: lint unit build-clean chapters browser notebooks

# Build times of `make book` in a scratch copy: from clean, with nothing changed, after an
# edit to optlib (README, "Build speed").
timings: setup
	$(BIN)/python benchmarks/build_timings.py

benchmark: setup
	$(BIN)/python benchmarks/sweep.py

clean:
	rm -rf $(BUILD) .pytest_cache .ruff_cache

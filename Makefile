# ticketlens: one-command setup, demo and tests on a fresh machine.
#   make demo   set up, build the models, run the main job on the embedded default
#   make test   set up, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TL := $(VENV)/bin/ticketlens
STAMP := $(VENV)/.ticketlens-installed

.PHONY: setup models demo enrich-sample test bench clean

setup: $(STAMP)

# torch goes in first, pinned to the CPU build: anything that pulls torch in later
# (transformers, sentence-transformers) then finds it satisfied instead of fetching CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[build,reference,train,dev]'
	touch $@

models: setup
	$(TL) build-models

demo: models
	$(TL) enrich samples/tickets.jsonl --no-embedding

test: setup
	$(PY) -m pytest

bench: models
	$(TL) bench

clean:
	rm -rf $(VENV) .pytest_cache build dist

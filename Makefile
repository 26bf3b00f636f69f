# The README's two commands are `make run` and `make test`; each bootstraps .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install-check run test property-long lint typecheck cfn-lint checkov bench bench-quick validate check clean sam-build

$(STAMP): pyproject.toml shared/requirements.txt tools/requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

## run: the whole pipeline locally on moto, over the sample site in examples/site (feeds land in out/)
run: $(STAMP)
	$(BIN)/postfeed run --posts examples/site --out out

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

## property-long: the property tests with many more, fresh examples (and shrinking); totals in out/property-stats.json
property-long: $(STAMP)
	POSTFEED_PROPERTY_PROFILE=long $(BIN)/python -m pytest -n 2 -p no:warnings tests/property
	@cat out/property-stats.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

## checkov: the template's security and operations checks, with checkov in its own venv (.venv-checkov: its
## dependencies pin an older boto3, networkx and packaging than ours). Each skipped check is named, with its
## reason, in the resource's Metadata and in docs/operations.md.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

$(CHECKOV_VENV)/bin/checkov:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'checkov==$(CHECKOV_VERSION)'

checkov: $(CHECKOV_VENV)/bin/checkov
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download

## bench: how fast the pipeline is on the local stack (table in the terminal; results: bench/RESULTS.md).
## Its 16,000-post bulk run alone takes most of an hour on moto: `postfeed bench --bulk-posts 1000` is ~10 min.
bench: $(STAMP)
	$(BIN)/postfeed bench

## bench-quick: the same measurements at smaller sizes (under two minutes)
bench-quick: $(STAMP)
	$(BIN)/postfeed bench --quick

## validate: every corpus site through `postfeed run`, then each feed document through check_feeds and the W3C
## validator's own code (../shared/tools); a table of feeds, invalid documents, W3C errors and warnings by type
validate: $(STAMP)
	$(BIN)/python bench/validate_feeds.py

## install-check: `pip install .` into a fresh venv, then the installed `postfeed run` away from the checkout
install-check:
	$(PYTHON) bench/install_check.py

## agreement: how closely the post parser agrees with what Jekyll published for the corpus
agreement: $(STAMP)
	$(BIN)/python bench/agreement.py

## sam-build: validate the template and build the Lambda artifacts with the SAM CLI, installed in its own
## venv (.venv-sam; no Docker needed: the layer's arm64 wheels come from PyPI). CI runs it after the tests.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0

$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check 'aws-sam-cli==$(SAM_CLI_VERSION)'

## The layer is built by shared/Makefile with the project's Python (pip, on PATH first); then the layer test lists
## what the built layer holds (the runtime package alone, no second botocore) and its size.
sam-build: $(SAM_VENV)/bin/sam $(STAMP)
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint
	PATH="$(CURDIR)/$(BIN):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build
	POSTFEED_BUILT_LAYER=.aws-sam/build/PostfeedLayer $(BIN)/python -m pytest -p no:xdist -q -rA tests/unit/test_layer.py

## check: everything CI runs
check: lint typecheck cfn-lint checkov test

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) out .aws-sam .mypy_cache .ruff_cache

# The README's two commands are `make run` and `make test`; each bootstraps .venv by itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck cfn-lint bench check clean

$(STAMP): pyproject.toml shared/requirements.txt requirements-dev.txt
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/postfeed bench

## agreement: how closely the post parser agrees with what Jekyll published for the corpus
agreement: $(STAMP)
	$(BIN)/python bench/agreement.py

## check: everything CI runs
check: lint typecheck cfn-lint test

clean:
	rm -rf $(VENV) out .aws-sam .mypy_cache .ruff_cache

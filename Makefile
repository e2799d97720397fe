VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Arize Phoenix, the end-to-end suite's tracing backend, in a virtualenv of its own (its dependencies never
# meet the bridge's); rebuilt only when its requirements change.
PHOENIX_VENV := $(VENV)-phoenix

.PHONY: help install serve test lint audit lock

# `make` alone installs, as `make install`; `make help` says what each target does.

# The virtualenv is rebuilt whenever pyproject.toml or the lock changes; every version is the locked one.
# `.installed-runtime`: the bridge and what it needs to run (`make install`, `make serve`); `.installed`: the
# same plus the dev extras (tests, lint, types, audit) for everything else, so it marks the runtime installed too
# (`make serve` after `make test` used to install everything again).
$(VENV)/.installed-runtime: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e .
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $@ $(VENV)/.installed-runtime

$(PHOENIX_VENV)/.installed: tests/e2e/requirements.txt
	$(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/pip install --quiet --upgrade pip
	$(PHOENIX_VENV)/bin/pip install --quiet -r tests/e2e/requirements.txt
	touch $@

help:
	@echo 'make install  .venv with the bridge and what it needs to run (no dev tools)'
	@echo 'make serve    install, then start the bridge (ARGS="--config my.yaml --port 9000" passes flags)'
	@echo 'make test     the dev extras and .venv-phoenix, then lint, audit and every test'
	@echo 'make lint     ruff check, ruff format --check, mypy'
	@echo 'make audit    the dependency audit (.ci/audit)'
	@echo 'make lock     re-resolve every dependency into requirements.lock'

install: $(VENV)/.installed-runtime

serve: install
	$(BIN)/dify-otel-bridge serve $(ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

audit: $(VENV)/.installed
	BIN=$(BIN) .ci/audit

test: lint audit $(PHOENIX_VENV)/.installed
	PHOENIX_BIN=$(PHOENIX_VENV)/bin/phoenix $(BIN)/pytest

# Re-resolves every dependency in a scratch virtualenv and writes the versions to requirements.lock.
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --upgrade pip
	$(VENV)-lock/bin/pip install --quiet -e ".[dev]"
	head -2 requirements.lock > requirements.lock.new
	$(VENV)-lock/bin/pip freeze --exclude-editable >> requirements.lock.new
	mv requirements.lock.new requirements.lock
	rm -rf $(VENV)-lock

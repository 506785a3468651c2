# xbot workspace. Two commands on a fresh machine: `make demo` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: help setup chromium kernel db demo test test-pg15 lab lint bench clean serve

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet 'uv>=0.4'
	$(UV) pip install --quiet --python $(PY) -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (xbot)" >/dev/null
	touch $(STAMP)

setup: $(STAMP) chromium ## Create the venv, install dependencies, the Jupyter kernel and Chromium

chromium: ## Install Debian's Chromium for Playwright (apt-get; sudo when not root)
	@bash .ci/ensure-chromium.sh

db: setup ## Start the embedded Postgres and apply migrations
	$(VENV)/bin/xbot db migrate

demo: setup db ## Run the main job: the simulated 7-day experiment end to end
	$(VENV)/bin/xbot demo --days 7

test: setup ## Run the whole test suite (unit, db, browser, flows, notebooks)
	$(PY) -m pytest $(PYTEST_ARGS)

test-pg15: setup ## Re-run the SQL-level db tests (db and not slow) against Debian's PostgreSQL 15 (second target)
	@bash .ci/pg15.sh start
	XBOT_TEST_DATABASE_URL="$$(bash .ci/pg15.sh url)" $(PY) -m pytest -m "db and not slow" $(PYTEST_ARGS)

serve: setup db ## Prefect's server with its UI on http://127.0.0.1:4200, then every deployment served against it
	$(VENV)/bin/xbot server start
	PREFECT_API_URL=http://127.0.0.1:$${XBOT_PREFECT_PORT:-4200}/api $(VENV)/bin/xbot serve

lab: setup ## Open JupyterLab on notebooks/ with the project's kernel and database settings
	$(VENV)/bin/xbot lab

lint: setup ## ruff + mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean: ## Remove the venv and local state (.xbot/, rendered reports)
	-$(VENV)/bin/xbot db stop
	rm -rf $(VENV) .xbot reports/*.html

# leadflow developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCAL := deploy/local

.DEFAULT_GOAL := help
.PHONY: help demo venv test unit up down worker topics migrate clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/leadflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[embedded,dev]'
	@touch $@

demo: venv ## the whole pipeline on this machine, no servers: synthetic world -> replay -> embedded ClickHouse -> board
	$(BIN)/leadflow demo

venv: $(BIN)/leadflow ## create .venv and install leadflow with the embedded and dev extras

test: venv ## start Kafka and ClickHouse, run every test, stop both (even on failure)
	$(LOCAL)/with-servers.sh $(BIN)/pytest $(PYTEST_ARGS)

unit: venv ## the tests that need no server
	$(BIN)/pytest --ignore=tests/integration $(PYTEST_ARGS)

up: ## start local Kafka and ClickHouse; eval the printed exports to use them
	$(LOCAL)/up.sh

down: ## stop local Kafka and ClickHouse
	$(LOCAL)/down.sh

worker: venv ## run the worker against the local servers (started if needed)
	$(LOCAL)/with-servers.sh bash -c '$(BIN)/leadflow topics create && $(BIN)/leadflow migrate && exec $(BIN)/leadflow worker'

clean: down ## stop servers, remove the environment and the cache
	rm -rf $(VENV) .cache .leadflow

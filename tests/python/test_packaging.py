"""The wheel a user installs: ranges anyone's pip can resolve, and a working ``modelmint``.

pyproject.toml declares compatible ranges; the exact pins (torch's CPU build included, a
``+cpu`` local version that only PyTorch's own index serves) live in constraints.txt alone.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests_support import REPO


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        found += [Requirement(r) for r in extra]
    return found


def test_pyproject_declares_ranges_without_local_versions():
    for req in _pyproject_requirements():
        assert "+" not in str(req.specifier), f"{req}: a local version label only resolves on one index"
        assert not any(s.operator == "==" for s in req.specifier), (
            f"{req}: exact pins belong in constraints.txt"
        )


def test_constraints_pin_a_version_inside_every_range():
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[name.lower().replace("_", "-")] = version
    for req in _pyproject_requirements():
        pinned = pins.get(req.name.lower().replace("_", "-"))
        assert pinned is not None, f"{req.name} has no exact pin in constraints.txt"
        assert req.specifier.contains(pinned, prereleases=True), (
            f"{req.name}=={pinned} is outside {req.specifier}"
        )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**_env(), "TMPDIR": str(build)},
    )
    assert proc.returncode == 0, proc.stderr
    (found,) = out.glob("modelmint-*.whl")
    return found


def _env() -> dict[str, str]:
    import os

    return {
        k: v for k, v in os.environ.items() if not k.startswith(("MODELMINT_", "VIRTUAL_ENV", "PYTHONPATH"))
    }


def test_wheel_metadata_has_no_local_version_labels(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode()
        names = archive.namelist()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [line for line in requires if "+" in line], requires
    assert any(n.endswith("chain/artifacts/DatasetNFT.json") for n in names)
    assert any(n.endswith("hashing/canonical.py") for n in names)
    assert any(n.endswith("web/static/index.html") for n in names), (
        "the verification page is not in the wheel"
    )


def test_wheel_installs_into_a_fresh_venv_and_runs(wheel, tmp_path):
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    python = target / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(REPO / "constraints.txt"), str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        env=_env(),
    )
    assert install.returncode == 0, install.stderr[-3000:]
    helped = subprocess.run(
        [str(target / "bin" / "modelmint"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=tmp_path,
    )
    assert helped.returncode == 0, helped.stderr
    assert "Usage" in helped.stdout and "dataset" in helped.stdout
    # The compiled Keccak extension came with the wheel: a tree builds in the installed package.
    root = subprocess.run(
        [
            str(python),
            "-c",
            "from modelmint.hashing import MerkleTree; print(MerkleTree.build([bytes(32)] * 3).root.hex())",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=tmp_path,
    )
    assert root.returncode == 0, root.stderr

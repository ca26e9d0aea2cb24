"""The wheel a user installs: ranges anyone's pip can resolve, and a working ``modelmint``.

pyproject.toml declares compatible ranges; the exact pins (torch's CPU build included, a
``+cpu`` local version that only PyTorch's own index serves) live in constraints.txt alone.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from modelmint import __version__
from tests_support import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _pyproject_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
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


def test_build_requires_a_setuptools_that_reads_ext_modules():
    """``[tool.setuptools] ext-modules`` is read from setuptools 74.1 on; 74.0 rejects the file."""
    assert "ext-modules" in PYPROJECT["tool"]["setuptools"]
    (setuptools,) = [
        r for r in map(Requirement, PYPROJECT["build-system"]["requires"]) if r.name == "setuptools"
    ]
    assert setuptools.specifier.contains("74.1.0")
    assert not setuptools.specifier.contains("74.0.0"), setuptools


def test_the_version_is_written_once():
    """python/modelmint/_version.py; pyproject reads it, the npm manifests (private) carry none."""
    from modelmint import _version

    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "modelmint._version.__version__"}
    assert __version__ == _version.__version__
    for manifest in ("package.json", "web/package.json", "tests/ipfs/package.json"):
        package = json.loads((REPO / manifest).read_text())
        assert package["private"], manifest
        assert "version" not in package, f"{manifest}: the version lives in python/modelmint/_version.py"
    # Keep a Changelog: the newest release section is the package's version.
    releases = re.findall(r"^## \[(\d[^\]]*)\]", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert releases, "CHANGELOG.md has no release section"
    assert releases[0] == __version__, (releases[0], __version__)


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
        check=False,
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
    assert f"Version: {__version__}" in metadata.splitlines()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires
    assert not [line for line in requires if "+" in line], requires
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
        check=False,
        env=_env(),
    )
    assert install.returncode == 0, install.stderr[-3000:]
    helped = subprocess.run(
        [str(target / "bin" / "modelmint"), "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_env(),
        cwd=tmp_path,
    )
    assert helped.returncode == 0, helped.stderr
    assert "Usage" in helped.stdout
    assert "dataset" in helped.stdout
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
        check=False,
        env=_env(),
        cwd=tmp_path,
    )
    assert root.returncode == 0, root.stderr

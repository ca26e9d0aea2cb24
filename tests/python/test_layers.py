"""tools/check_layers.py: the package keeps its layers, and the check catches an import that breaks them."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tools" / "check_layers.py"


def _run(package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), str(package)], capture_output=True, text=True, check=False, timeout=60
    )


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "modelmint"
    for name, text in {"__init__.py": "", "errors.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_the_package_keeps_its_layers() -> None:
    result = _run(ROOT / "python" / "modelmint")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "text", "target"),
    [
        ("hashing/merkle.py", "from modelmint.chain.client import Chain\n", "modelmint.chain.client"),
        ("hashing/merkle.py", "def f():\n    import modelmint.datasets\n", "modelmint.datasets"),
        ("chain/client.py", "from ..registry import commit\n", "modelmint.registry"),
        ("chain/client.py", "from modelmint import models\n", "modelmint.models"),
        ("registry/use.py", "from modelmint.cli import app\n", "modelmint.cli"),
        (
            "models/read.py",
            "from modelmint.fingerprints.huref import terms\n",
            "modelmint.fingerprints.huref",
        ),
    ],
)
def test_an_import_of_a_higher_layer_fails_by_name(tmp_path: Path, name: str, text: str, target: str) -> None:
    layer = name.split("/", maxsplit=1)[0]
    package = _tree(
        tmp_path,
        {
            f"{layer}/__init__.py": "",
            name: text,
            "chain/__init__.py": "",
            "datasets/__init__.py": "",
            "models/__init__.py": "",
            "registry/__init__.py": "",
            "cli/__init__.py": "",
            "fingerprints/__init__.py": "",
            "fingerprints/huref/__init__.py": "",
        },
    )
    result = _run(package)
    assert result.returncode == 1
    assert f"{name}:" in result.stderr
    assert f"{layer} imports {target}" in result.stderr


def test_allowed_imports_and_unplaced_parts(tmp_path: Path) -> None:
    package = _tree(
        tmp_path,
        {
            "hashing/__init__.py": "from modelmint.errors import InputError\nfrom . import merkle\n",
            "hashing/merkle.py": "",
            "datasets/__init__.py": "from modelmint.hashing import merkle\n",
            "registry/__init__.py": "from modelmint.datasets import x\nfrom modelmint.chain import y\n",
            "chain/__init__.py": "",
        },
    )
    assert _run(package).returncode == 0
    (package / "newpart.py").write_text("")
    result = _run(package)
    assert result.returncode == 1
    assert "'newpart' its place" in result.stderr

"""The contract build: reproducible artifacts, equal to forge's, and the packaged ones current."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from modelmint.chain import compiler
from modelmint.chain.artifacts import BuildError, load_artifact
from tests_support import REPO

CONTRACTS = REPO / "contracts"
FORGE = REPO / "node_modules" / ".bin" / "forge"
DEPLOYABLE = ("DatasetNFT", "ModelNFT")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One compile of the checkout's contracts into a new folder."""
    out = tmp_path_factory.mktemp("artifacts-a")
    result = compiler.build(CONTRACTS, out_dir=out, force=True)
    assert result.compiled
    assert result.contracts == DEPLOYABLE
    return out


@pytest.mark.slow
def test_compiling_twice_gives_byte_identical_artifacts(fresh: Path, tmp_path: Path) -> None:
    again = compiler.build(CONTRACTS, out_dir=tmp_path, force=True)
    assert again.compiled
    for name in DEPLOYABLE:
        assert (tmp_path / f"{name}.json").read_bytes() == (fresh / f"{name}.json").read_bytes()


def test_packaged_artifacts_equal_a_fresh_compile(fresh: Path) -> None:
    for name in DEPLOYABLE:
        packaged = compiler.ARTIFACTS_DIR / f"{name}.json"
        assert packaged.read_bytes() == (fresh / f"{name}.json").read_bytes(), (
            f"{packaged} is stale: run `modelmint build` and commit the result"
        )


@pytest.mark.slow
@pytest.mark.skipif(not FORGE.exists(), reason="forge is installed by npm ci")
def test_forge_builds_the_same_bytecode(fresh: Path, tmp_path: Path) -> None:
    subprocess.run(
        [
            str(FORGE),
            "build",
            "--skip",
            "test",
            "--out",
            str(tmp_path / "out"),
            "--cache-path",
            str(tmp_path / "cache"),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    for name in DEPLOYABLE:
        ours = json.loads((fresh / f"{name}.json").read_text())
        forge = json.loads((tmp_path / "out" / f"{name}.sol" / f"{name}.json").read_text())
        assert ours["bytecode"] == forge["bytecode"]["object"]
        assert ours["deployedBytecode"] == forge["deployedBytecode"]["object"]


def test_up_to_date_artifacts_are_not_recompiled(fresh: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in fresh.glob("*.json")}
    result = compiler.build(CONTRACTS, out_dir=fresh, compiler=_failing_compiler())
    assert not result.compiled
    assert result.compiler is None
    assert "up to date" in result.summary()
    assert {p.name: p.stat().st_mtime_ns for p in fresh.glob("*.json")} == before


def test_a_changed_source_is_recompiled(fresh: Path, tmp_path: Path) -> None:
    project = _copy_project(tmp_path)
    out = tmp_path / "artifacts"
    shutil.copytree(fresh, out)
    source = project / "contracts" / "DatasetNFT.sol"
    source.write_text(source.read_text() + "\n// a comment changes the metadata hash\n")
    with pytest.raises(BuildError, match="cannot run"):
        compiler.build(project / "contracts", out_dir=out, compiler=_failing_compiler())


def test_artifact_layout(fresh: Path) -> None:
    data = json.loads((fresh / "DatasetNFT.json").read_text())
    assert sorted(data) == ["abi", "bytecode", "compiler", "contractName", "deployedBytecode", "sourceHash"]
    assert data["compiler"]["version"] == "0.8.37+commit.f401782d"
    assert data["compiler"]["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert data["compiler"]["settings"]["evmVersion"] == "cancun"
    assert data["bytecode"].startswith("0x60")
    assert {e["name"] for e in data["abi"] if e["type"] == "error"} >= {
        "IpfsURIInvalid",
        "MintCommitmentNotMatured",
    }


def test_source_hash_follows_its_spec(fresh: Path) -> None:
    """sha256 of `sha256sum`-style lines, sorted by name, over the whole import closure."""
    entries = sorted(
        p.relative_to(REPO).as_posix()
        for p in CONTRACTS.rglob("*.sol")
        if p.relative_to(CONTRACTS).parts[0] != "test"
    )
    sources = compiler.collect_sources(REPO, entries, compiler.compiler_settings(_profile())["remappings"])
    assert "node_modules/@openzeppelin/contracts/token/ERC721/ERC721.sol" in sources
    manifest = "".join(
        f"{hashlib.sha256((REPO / n).read_bytes()).hexdigest()}  {n}\n" for n in sorted(sources)
    )
    expected = "0x" + hashlib.sha256(manifest.encode()).hexdigest()
    assert compiler.source_hash(sources) == expected
    assert json.loads((fresh / "ModelNFT.json").read_text())["sourceHash"] == expected


def test_load_artifact_reads_the_packaged_json() -> None:
    artifact = load_artifact("DatasetNFT")
    data = json.loads((compiler.ARTIFACTS_DIR / "DatasetNFT.json").read_text())
    assert artifact.name == "DatasetNFT"
    assert artifact.bytecode == bytes.fromhex(data["bytecode"][2:])
    assert artifact.deployed_bytecode == bytes.fromhex(data["deployedBytecode"][2:])
    assert artifact.source_hash == data["sourceHash"]
    assert any(e.get("name") == "mint" for e in artifact.abi)


def test_load_artifact_of_an_unknown_contract_says_what_to_do() -> None:
    with pytest.raises(BuildError, match="compile the contracts") as caught:
        load_artifact("NoSuchContract")
    assert caught.value.hint == "build"  # the CLI says: run `modelmint build`


def test_a_compiler_of_another_version_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "solc"
    fake.write_text(
        "#!/bin/sh\necho 'solc, the solidity compiler commandline interface'\necho 'Version: 0.8.20+commit.a1b79de6.Linux.g++'\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv(compiler.SOLC_ENV, str(fake))
    found = compiler.find_compiler(REPO)
    assert found.version == "0.8.20+commit.a1b79de6"
    with pytest.raises(BuildError, match=r"not 0\.8\.37"):
        compiler.build(CONTRACTS, out_dir=tmp_path / "out", force=True)


def test_a_missing_compiler_is_reported_with_a_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compiler.SOLC_ENV, str(tmp_path / "no-such-solc"))
    with pytest.raises(BuildError, match=compiler.SOLC_ENV) as info:
        compiler.find_compiler(REPO)
    assert info.value.fix


def test_a_checkout_without_node_modules_asks_for_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy_project(tmp_path, node_modules=False)
    monkeypatch.delenv(compiler.SOLC_ENV, raising=False)
    with pytest.raises(BuildError, match="npm ci"):
        compiler.build(project / "contracts", out_dir=tmp_path / "out", force=True)


def _profile() -> dict:
    import tomllib

    return tomllib.loads((REPO / "foundry.toml").read_text())["profile"]["default"]


def _failing_compiler() -> compiler.Compiler:
    """A compiler that cannot run: any attempt to compile raises BuildError."""
    return compiler.Compiler("/nonexistent/solc", compiler.SOLC_VERSION + "+commit.f401782d")


def _copy_project(tmp_path: Path, node_modules: bool = True) -> Path:
    project = tmp_path / "project"
    shutil.copytree(CONTRACTS, project / "contracts")
    shutil.copy(REPO / "foundry.toml", project / "foundry.toml")
    (project / "tools").mkdir()
    shutil.copy(REPO / "tools" / "solc", project / "tools" / "solc")
    if node_modules:
        (project / "node_modules").symlink_to(REPO / "node_modules")
    return project

"""Compiles the Solidity contracts into the packaged artifacts (build time only).

``build()`` compiles every non-test ``.sol`` file under ``contracts/`` with solc 0.8.37 and the
compiler settings of ``foundry.toml`` (so forge and modelmint produce the same bytecode), then
writes one JSON artifact per deployable contract into ``modelmint/chain/artifacts/``, read at
run time by :func:`modelmint.chain.artifacts.load_artifact`.

Reproducibility: the compiler gets every source as content under a source unit name relative
to the project root (``contracts/DatasetNFT.sol``, ``node_modules/@openzeppelin/...``), with
the import callback off, so nothing machine-specific reaches the metadata hash that solc
appends to the bytecode. Native solc and solcjs of the same release give the same bytecode,
and artifacts are written with sorted keys and fixed indentation: the same sources give
byte-identical files everywhere.

The compiler, in order of preference: ``$MODELMINT_SOLC``; a native ``solc`` on ``PATH``
that reports version 0.8.37; the project's ``tools/solc`` (solcjs from ``node_modules``,
installed by ``npm ci``).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint.chain.artifacts import BuildError

SOLC_VERSION = "0.8.37"
SOLC_ENV = "MODELMINT_SOLC"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"

_INSTALL_FIX = f"run `npm ci` in the project root (tools/solc runs solcjs {SOLC_VERSION}), or set {SOLC_ENV} to a solc {SOLC_VERSION}"
_COMPILE_TIMEOUT_S = 600
_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?\+commit\.[0-9a-f]+)")
# String literals (kept) or comments (dropped), so that imports and contract declarations are
# only found in code.
_STRINGS_AND_COMMENTS = re.compile(
    r'("(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')|//[^\n]*|/\*.*?\*/', re.DOTALL
)
_IMPORT_RE = re.compile(r'\bimport\s+(?:[^;"\']*?\bfrom\s+)?["\']([^"\']+)["\'][^;]*;')
_CONTRACT_RE = re.compile(r"(?<![\w$])(abstract\s+)?contract\s+([A-Za-z_$][\w$]*)")
_OUTPUTS = [
    "abi",
    "evm.bytecode.object",
    "evm.bytecode.linkReferences",
    "evm.deployedBytecode.object",
    "metadata",
]


@dataclass(frozen=True)
class Compiler:
    """A solc executable and the version it reports (without the platform suffix)."""

    command: str
    version: str

    def compile(self, standard_json: Mapping[str, Any], cwd: Path) -> dict[str, Any]:
        """Runs ``solc --standard-json`` and returns its output, compile errors included.

        Raises:
            BuildError: the compiler cannot be run or does not answer with JSON.
        """
        try:
            proc = subprocess.run(
                [self.command, "--standard-json", "--no-import-callback"],
                input=json.dumps(standard_json).encode(),
                capture_output=True,
                cwd=cwd,
                timeout=_COMPILE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BuildError(
                f"cannot run the Solidity compiler {self.command} ({exc})", _INSTALL_FIX
            ) from None
        stdout = proc.stdout.decode("utf-8", "replace")
        # solcjs may print a line of its own before the JSON.
        start = stdout.find("{")
        if proc.returncode != 0 or start < 0:
            detail = (proc.stderr.decode("utf-8", "replace") or stdout).strip()[-2000:]
            raise BuildError(f"the Solidity compiler {self.command} failed: {detail}", _INSTALL_FIX)
        output: dict[str, Any] = json.loads(stdout[start:])
        return output


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build` did.

    Attributes:
        out_dir: the folder of the artifacts.
        contracts: the deployable contracts, one artifact each.
        compiled: False when the artifacts were already up to date.
        source_hash: the :func:`source_hash` of the sources.
        compiler: the compiler used, or None when nothing was compiled.
    """

    out_dir: Path
    contracts: tuple[str, ...]
    compiled: bool
    source_hash: str
    compiler: Compiler | None

    def summary(self) -> str:
        names = ", ".join(self.contracts)
        if not self.compiled or self.compiler is None:
            return f"{names}: up to date in {self.out_dir} (sources {self.source_hash[:18]})"
        return f"{names}: compiled with solc {self.compiler.version} ({self.compiler.command}) into {self.out_dir}"


def build(
    contracts: Path = Path("contracts"),
    *,
    out_dir: Path | None = None,
    force: bool = False,
    compiler: Compiler | None = None,
) -> BuildResult:
    """Compiles the contracts under ``contracts`` into artifacts, unless they are up to date.

    The project root is the folder holding ``contracts``; it must hold ``foundry.toml`` (the
    compiler settings) and the imported packages (``node_modules``). Artifacts are up to date
    when they all record this :func:`source_hash`, solc 0.8.37 and these settings; then no
    compiler is needed.

    Args:
        contracts: the folder of the Solidity sources.
        out_dir: where to write the artifacts; the package's ``artifacts`` folder by default.
        force: compile even if the artifacts are up to date.
        compiler: the compiler to use; :func:`find_compiler` by default.

    Raises:
        BuildError: sources, settings or compiler are missing, or compilation fails.
    """
    contracts = contracts.resolve()
    if not contracts.is_dir():
        raise BuildError(
            f"no contracts folder at {contracts}", "run modelmint build from the project checkout"
        )
    root = contracts.parent
    out_dir = (out_dir or ARTIFACTS_DIR).resolve()
    config = _foundry_profile(root)
    settings = compiler_settings(config)
    tests = (root / config.get("test", "contracts/test")).resolve()
    entries = sorted(
        p.relative_to(root).as_posix()
        for p in contracts.rglob("*.sol")
        if not p.resolve().is_relative_to(tests)
    )
    if not entries:
        raise BuildError(
            f"no Solidity sources in {contracts}",
            "add the contracts or give the folder that holds them",
            hint="contracts-folder",
        )
    sources = collect_sources(root, entries, settings["remappings"])
    digest = source_hash(sources)
    names = _deployable_contracts({name: sources[name] for name in entries})

    if not force and _up_to_date(out_dir, names, digest, settings):
        return BuildResult(out_dir, tuple(sorted(names)), False, digest, None)

    compiler = compiler or find_compiler(root)
    if compiler.version.split("+")[0] != SOLC_VERSION:
        raise BuildError(f"{compiler.command} is solc {compiler.version}, not {SOLC_VERSION}", _INSTALL_FIX)
    standard_json = {
        "language": "Solidity",
        "sources": {name: {"content": content.decode("utf-8")} for name, content in sources.items()},
        "settings": {**settings, "outputSelection": {name: {"*": _OUTPUTS} for name in entries}},
    }
    output = compiler.compile(standard_json, root)
    _check_output(output, sources)

    artifacts = {}
    for source, contract in sorted((names[n], n) for n in names):
        compiled = output.get("contracts", {}).get(source, {}).get(contract)
        if not compiled:
            raise BuildError(f"solc returned no output for {contract} in {source}", _INSTALL_FIX)
        artifacts[contract] = _artifact(contract, compiled, digest, settings)
    _write_artifacts(out_dir, artifacts)
    return BuildResult(out_dir, tuple(sorted(artifacts)), True, digest, compiler)


def compiler_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Returns the standard-JSON settings (less ``outputSelection``) for a foundry.toml profile.

    The same values forge passes to solc for that profile, so both produce the same bytecode.
    """
    try:
        remappings = [str(r) for r in config.get("remappings", [])]
        return {
            "evmVersion": str(config["evm_version"]),
            "libraries": {},
            "metadata": {
                "appendCBOR": bool(config.get("cbor_metadata", True)),
                "bytecodeHash": str(config.get("bytecode_hash", "ipfs")),
                "useLiteralContent": bool(config.get("use_literal_content", False)),
            },
            "optimizer": {
                "enabled": bool(config.get("optimizer", False)),
                "runs": int(config.get("optimizer_runs", 200)),
            },
            "remappings": remappings,
            "viaIR": bool(config.get("via_ir", False)),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise BuildError(
            f"foundry.toml's [profile.default] lacks a usable compiler setting ({exc})",
            "set evm_version, optimizer, optimizer_runs and remappings there",
        ) from None


def collect_sources(root: Path, entries: list[str], remappings: list[str]) -> dict[str, bytes]:
    """Returns the content of ``entries`` and of everything they import, by source unit name.

    Import paths resolve as solc resolves them: ``./`` and ``../`` relative to the importing
    unit, others through the longest matching remapping; a unit name is a path relative to
    ``root``.

    Raises:
        BuildError: an imported file does not exist.
    """
    rules = _parse_remappings(remappings)
    sources: dict[str, bytes] = {}
    pending = [(name, "") for name in entries]
    while pending:
        name, importer = pending.pop()
        if name in sources:
            continue
        try:
            content = (root / name).read_bytes()
        except OSError:
            where = f" (imported by {importer})" if importer else ""
            fix = (
                "run `npm ci` in the project root"
                if name.startswith("node_modules/")
                else "check the import path"
            )
            raise BuildError(f"Solidity source {name}{where} not found under {root}", fix) from None
        sources[name] = content
        pending.extend(
            (_resolve_import(name, path, rules), name) for path in _imports(content.decode("utf-8"))
        )
    return dict(sorted(sources.items()))


def source_hash(sources: Mapping[str, bytes]) -> str:
    """Returns the SHA-256 that identifies a set of sources, as ``0x``-hex.

    It is the SHA-256 of a ``sha256sum``-style manifest: one line
    ``<sha256 of the file, hex>  <source unit name>\\n`` per source, sorted by name (byte
    order). From the project root, for the same file list:
    ``sha256sum FILES | LC_ALL=C sort -k2 | sha256sum``.
    """
    manifest = "".join(f"{hashlib.sha256(sources[name]).hexdigest()}  {name}\n" for name in sorted(sources))
    return "0x" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def find_compiler(root: Path) -> Compiler:
    """Returns the solc to use: ``$MODELMINT_SOLC``, a native solc 0.8.37 on PATH, or tools/solc.

    Raises:
        BuildError: none can be found or run, or ``$MODELMINT_SOLC`` is not solc 0.8.37.
    """
    override = os.environ.get(SOLC_ENV)
    if override:
        compiler = _probe(override)
        if compiler is None:
            raise BuildError(
                f"{SOLC_ENV}={override} is not a working solc", f"point {SOLC_ENV} at solc {SOLC_VERSION}"
            )
        return compiler
    native = shutil.which("solc")
    if native:
        compiler = _probe(native)
        if compiler is not None and compiler.version.split("+")[0] == SOLC_VERSION:
            return compiler
    wrapper = root / "tools" / "solc"
    if not wrapper.is_file():
        raise BuildError(f"no Solidity compiler {SOLC_VERSION} found", _INSTALL_FIX)
    if shutil.which("node") is None:
        raise BuildError(
            "Node.js is not on PATH (tools/solc runs solcjs with it)", "install Node.js 20, then run `npm ci`"
        )
    if not (root / "node_modules" / "solc" / "package.json").is_file():
        raise BuildError("solcjs is not installed in node_modules", "run `npm ci` in the project root")
    compiler = _probe(str(wrapper))
    if compiler is None:
        raise BuildError(f"{wrapper} does not run", "run `npm ci` in the project root")
    return compiler


def _probe(command: str) -> Compiler | None:
    try:
        proc = subprocess.run([command, "--version"], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION_RE.search(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode != 0 or match is None:
        return None
    return Compiler(command, match.group(1))


def _foundry_profile(root: Path) -> dict[str, Any]:
    path = root / "foundry.toml"
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise BuildError(
            f"no foundry.toml in {root}", "build from the project checkout (it holds the compiler settings)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(f"{path} is not valid TOML ({exc})", "fix foundry.toml") from None
    profile = config.get("profile", {}).get("default")
    if not isinstance(profile, dict):
        raise BuildError(f"{path} has no [profile.default]", "restore foundry.toml from the repository")
    return profile


def _parse_remappings(remappings: list[str]) -> list[tuple[str, str]]:
    rules = []
    for remapping in remappings:
        prefix, sep, target = remapping.partition("=")
        if not sep or ":" in prefix:
            raise BuildError(
                f"unsupported remapping {remapping!r}", "use context-free remappings prefix=target"
            )
        rules.append((prefix, target))
    # The longest matching prefix wins, as in solc.
    return sorted(rules, key=lambda rule: len(rule[0]), reverse=True)


def _imports(code: str) -> list[str]:
    stripped = _STRINGS_AND_COMMENTS.sub(lambda m: m.group(1) or " ", code)
    return _IMPORT_RE.findall(stripped)


def _resolve_import(importer: str, path: str, rules: list[tuple[str, str]]) -> str:
    if path.startswith(("./", "../")):
        return posixpath.normpath(posixpath.join(posixpath.dirname(importer), path))
    for prefix, target in rules:
        if path.startswith(prefix):
            return target + path[len(prefix) :]
    return path


def _deployable_contracts(entries: Mapping[str, bytes]) -> dict[str, str]:
    """Returns {contract name: source unit} for the non-abstract contracts the entries declare."""
    found: dict[str, str] = {}
    for source, content in entries.items():
        code = _STRINGS_AND_COMMENTS.sub(lambda m: '""' if m.group(1) else " ", content.decode("utf-8"))
        for abstract, name in _CONTRACT_RE.findall(code):
            if abstract:
                continue
            if name in found:
                raise BuildError(
                    f"contract {name} is declared in {found[name]} and {source}", "rename one of them"
                )
            found[name] = source
    if not found:
        raise BuildError("the sources declare no deployable contract", "check the contracts folder")
    return found


def _check_output(output: Mapping[str, Any], sources: Mapping[str, bytes]) -> None:
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        messages = "\n".join(e.get("formattedMessage", e.get("message", "")).strip() for e in errors)
        raise BuildError(f"the contracts do not compile:\n{messages}", "fix the Solidity errors above")
    compiled = set(output.get("sources", {}))
    if compiled != set(sources):
        # The source hash must cover exactly what solc compiled; a difference means the import
        # resolution above disagrees with solc's.
        raise BuildError(
            f"solc compiled {sorted(compiled ^ set(sources))} differently from the resolved imports",
            "report this as a modelmint bug",
        )


def _artifact(
    name: str, compiled: Mapping[str, Any], digest: str, settings: Mapping[str, Any]
) -> dict[str, Any]:
    evm = compiled["evm"]
    if evm["bytecode"].get("linkReferences"):
        raise BuildError(f"{name} needs linked libraries", "make the library functions internal")
    version = json.loads(compiled["metadata"])["compiler"]["version"]
    return {
        "contractName": name,
        "abi": compiled["abi"],
        "bytecode": "0x" + evm["bytecode"]["object"],
        "deployedBytecode": "0x" + evm["deployedBytecode"]["object"],
        "sourceHash": digest,
        "compiler": {"version": version, "settings": dict(settings)},
    }


def _up_to_date(out_dir: Path, names: Mapping[str, str], digest: str, settings: Mapping[str, Any]) -> bool:
    for name in names:
        try:
            data = json.loads((out_dir / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        compiler = data.get("compiler", {})
        if (
            data.get("sourceHash") != digest
            or not str(compiler.get("version", "")).startswith(SOLC_VERSION + "+")
            or compiler.get("settings") != settings
        ):
            return False
    return True


def _write_artifacts(out_dir: Path, artifacts: Mapping[str, Mapping[str, Any]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, artifact in artifacts.items():
        text = json.dumps(artifact, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
        tmp = out_dir / f".{name}.json.tmp"
        tmp.write_bytes(text.encode("ascii"))
        tmp.replace(out_dir / f"{name}.json")
    # Artifacts of contracts that no longer exist would otherwise ship on.
    for stale in out_dir.glob("*.json"):
        if stale.stem not in artifacts and '"contractName"' in stale.read_text(
            encoding="utf-8", errors="replace"
        ):
            stale.unlink()

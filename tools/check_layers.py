#!/usr/bin/env python3
"""The import-layer rule of the README's architecture section: lower layers never import higher ones.

Reads every module of the package with ``ast`` (nothing is imported or run) and checks each
``import`` and ``from ... import`` of another part of the package, at module level or inside a
function, against ``ALLOWED`` below. Exits 1 with one line per offending import:

    python/modelmint/hashing/merkle.py:12: hashing imports modelmint.chain.client (chain is above hashing)

Usage: tools/check_layers.py [PACKAGE_DIR]   (default: python/modelmint)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

# Shared leaves every layer may use: errors, the project folder, file and JSON helpers, the version,
# and the crash tests' fault points (_faults).
BASE = frozenset({"errors", "home", "_files", "_json", "_version", "_faults"})

# What each part of the package may import, besides itself and BASE. A part missing here fails
# the check until it is given its place.
ALLOWED: dict[str, frozenset[str]] = {
    "hashing": frozenset(),
    "datasets": frozenset({"hashing"}),
    "storage": frozenset({"hashing"}),
    "chain": frozenset({"hashing", "storage"}),
    "_causal_lm": frozenset(),
    "models": frozenset({"hashing", "datasets", "storage", "_causal_lm"}),
    "fingerprints": frozenset({"hashing", "datasets", "storage", "models", "_causal_lm"}),
    "registry": frozenset(
        {"hashing", "datasets", "storage", "models", "fingerprints", "chain", "_causal_lm"}
    ),
}
_BELOW_INTEGRATIONS = ALLOWED["registry"] | {"registry"}
ALLOWED["integrations"] = _BELOW_INTEGRATIONS
ALLOWED["web"] = _BELOW_INTEGRATIONS
# The public API (modelmint/__init__.py, modelmint/api.py) sits on the use cases.
ALLOWED["api"] = _BELOW_INTEGRATIONS | {"integrations"}
ALLOWED["cli"] = ALLOWED["api"] | {"api", "web"}
ALLOWED["__main__"] = frozenset({"cli"})
ALLOWED["demo"] = ALLOWED["cli"] | {"cli"}
for _name in BASE:
    ALLOWED[_name] = BASE - {_name}

_API_MODULES = frozenset({"__init__", "api"})


def part_of(module: str, package: str) -> str:
    """The part of the package a dotted module name belongs to ("api" for the package itself)."""
    rest = module.split(".")[1:] if module != package else []
    if not rest or rest[0] in _API_MODULES:
        return "api"
    return rest[0]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(
    tree: ast.Module, module: str, is_package: bool, package: str, root: Path
) -> list[tuple[int, str]]:
    """(line, dotted module) of every import of the package's own modules."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == package:
                # `from modelmint import hashing` names a subpackage; `from modelmint import X` a root name.
                for a in node.names:
                    sub = root / a.name
                    is_module = sub.is_dir() or sub.with_suffix(".py").is_file()
                    found.append((node.lineno, f"{package}.{a.name}" if is_module else package))
            else:
                found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == package or name.startswith(package + ".")]


def check(root: Path) -> list[str]:
    """The offending imports under the package folder ``root``, one message each."""
    package = root.name
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        part = part_of(module, package)
        if part not in ALLOWED:
            problems.append(
                f"{path}:1: {module} is in no layer: give {part!r} its place in tools/check_layers.py"
            )
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in _imports(tree, module, path.name == "__init__.py", package, root):
            other = part_of(target, package)
            if other == part or other in BASE | ALLOWED[part]:
                continue
            problems.append(f"{path}:{line}: {part} imports {target} ({other} is not below {part})")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "python/modelmint")
    if not (root / "__init__.py").is_file():
        print(f"check_layers: {root} is not a package folder", file=sys.stderr)
        return 2
    problems = check(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_layers: {len(problems)} import(s) break the layer rule", file=sys.stderr)
        return 1
    print(
        f"check_layers: {sum(1 for _ in root.rglob('*.py'))} modules of {root}, every import within its layer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The CLI has its words for every remedy the library names: a library error's ``hint`` key
with no entry in ``CLI_FIXES`` would print the library's wording without the flag to use, and
an entry no error raises is dead. Revert fixes name only errors the contracts declare."""

from __future__ import annotations

import ast
import json

from modelmint.cli._common import CLI_FIXES, CLI_REVERT_FIXES
from tests_support import REPO

PACKAGE = REPO / "python" / "modelmint"


def _hint_keys() -> dict[str, str]:
    """Every ``hint="..."`` keyword given in the library (cli/ excluded), and every ``*_HINT``
    constant, with where it stands."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            # a hint passed on through a constant (`_LINK_HINT = "follow-symlinks"`)
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(isinstance(t, ast.Name) and t.id.endswith("_HINT") for t in node.targets)
            ):
                found.setdefault(node.value.value, f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "hint" and isinstance(keyword.value, ast.Constant):
                        found.setdefault(keyword.value.value, f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_library_hint_has_the_clis_words_and_none_is_dead() -> None:
    used = _hint_keys()
    assert len(used) > 20  # the walk finds the library's hints at all
    missing = {key: where for key, where in used.items() if key not in CLI_FIXES}
    assert not missing, f"no CLI_FIXES entry for: {missing}"
    assert set(CLI_FIXES) <= set(used), f"CLI_FIXES entries no error raises: {set(CLI_FIXES) - set(used)}"


def test_revert_fixes_name_errors_the_contracts_declare() -> None:
    declared = set()
    for name in ("DatasetNFT", "ModelNFT"):
        abi = json.loads((PACKAGE / "chain" / "artifacts" / f"{name}.json").read_text())["abi"]
        declared |= {item["name"] for item in abi if item["type"] == "error"}
    assert set(CLI_REVERT_FIXES) <= declared, set(CLI_REVERT_FIXES) - declared

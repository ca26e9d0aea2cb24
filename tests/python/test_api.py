"""The public API: ``import modelmint`` is cheap, every name resolves, and docs/api.md's example runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import modelmint
from tests_support import REPO

HEAVY = ("web3", "eth_account", "torch", "transformers", "numpy")


def test_import_modelmint_loads_no_heavy_dependency():
    code = f"import sys, modelmint; print([m for m in {HEAVY!r} if m in sys.modules])"
    env = {**os.environ, "PYTHONPATH": str(REPO / "python")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves():
    assert set(modelmint.__all__) == {"__version__", *modelmint._EXPORTS}
    for name in modelmint.__all__:
        assert getattr(modelmint, name) is not None, name
    assert set(modelmint.__all__) <= set(dir(modelmint))


def test_the_worked_example_of_docs_api_md_runs(home, tiny_model, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "docs" / "api.md").read_text(), re.DOTALL)
    example = [b for b in blocks if "modelmint.Chain.connect(home)" in b or "model_folder" in b]
    assert len(example) == 2
    monkeypatch.chdir(REPO)  # the example's sample paths are relative to the repository root
    namespace = {"home": home, "model_folder": tiny_model}
    for block in example:
        exec(compile(block, "docs/api.md", "exec"), namespace)  # the documented example, as a reader runs it
    assert namespace["record"].name == "tiny"


def test_one_json_form_camel_case_keys_hex_bytes_enum_names_and_stored_documents_as_they_are():
    from dataclasses import dataclass

    from modelmint.chain.contracts import FingerprintKind

    @dataclass(frozen=True)
    class Value:
        token_id: int
        merkle_root: bytes
        kind: FingerprintKind
        metadata: dict
        paths: tuple

    found = modelmint.to_json(Value(1, b"\x01\x02", FingerprintKind.OML, {"trait_type": "kind"}, ("a",)))
    assert found == {
        "tokenId": 1,
        "merkleRoot": "0x0102",
        "kind": "OML",
        "metadata": {"trait_type": "kind"},  # a published document keeps its keys
        "paths": ["a"],
    }


def test_library_errors_speak_library_terms_and_the_cli_adds_its_flags():
    from modelmint.cli._common import render_error
    from modelmint.errors import InputError, RevertError

    error = InputError("the proof names contract 0xab", "check it against that contract", hint="trust-contract",
                       hint_values={"contract": "0xab"})  # fmt: skip
    assert "--contract" not in str(error)
    assert (
        render_error(error)
        == "the proof names contract 0xab: pass --contract 0xab if you trust that contract"
    )
    revert = RevertError("ModelNFT", "ModelUnknownParent", {"parentId": 7}, "give a registered parent")
    assert render_error(revert).endswith("pass the token id of a registered model as --parent")
    assert render_error(InputError("plain", "fix")) == "plain: fix"

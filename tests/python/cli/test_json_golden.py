"""Every ``--json`` output in its one form (camelCase, docs/api.md), compared with a golden file per command.

What differs from run to run (addresses, transaction hashes, blocks, gas, times, paths, CIDs
of metadata that names file times) is replaced by a placeholder before the comparison; roots,
counts and the shape of every object are compared as they are. Set MODELMINT_UPDATE_GOLDEN=1
to write the files again after a deliberate change of form, and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from tests_support import SAMPLE

GOLDEN = Path(__file__).parent / "testdata" / "json"
#: Keys whose values change between runs.
VOLATILE = {
    "address", "block", "blockNumber", "bytecodeHash", "claimedAt", "codeHash", "commitGasUsed", "commitTxHash",
    "committedAt", "contract", "gasUsed", "log", "mintedAt", "owner", "pid", "port", "txHash", "url",
}  # fmt: skip
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\b(?![0-9a-fA-F])")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_IPFS = re.compile(r"ipfs://[a-z2-7]+")


def normalise(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if key in VOLATILE and value is not None:
        return f"<{key}>"
    if isinstance(value, str):
        value = _ADDRESS.sub("<address>", value)
        value = _TIME.sub("<time>", value)
        value = _IPFS.sub("ipfs://<cid>", value)
        if value.startswith("/"):
            return "<path>"
    return value


def check(name: str, text: str) -> None:
    found = normalise(json.loads(text))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("MODELMINT_UPDATE_GOLDEN"):
        path.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    assert found == json.loads(path.read_text()), f"`{name}` --json differs from {path.name}"


def test_every_json_output_has_its_golden_form(cli, tiny_model, tmp_path):
    def run(name: str, *args: str) -> str:
        result = cli(*args)
        assert result.code == 0, result.stderr
        check(name, result.stdout)
        return result.stdout

    run("devnet-status", "devnet", "status", "--json")
    run("deploy", "deploy", "--json")
    run("deploy-again", "deploy", "--json")
    run("dataset-mint", "dataset", "mint", str(SAMPLE / "train.jsonl"), "--name", "corpus", "--json")
    run("dataset-mint-again", "dataset", "mint", str(SAMPLE / "train.jsonl"), "--json")
    run("dataset-verify", "dataset", "verify", str(SAMPLE / "member.jsonl"), "--token", "1", "--json")
    proof = tmp_path / "proof.json"
    assert (
        cli("dataset", "prove", "--token", "1", "--index", "0", "--index", "5", "--out", str(proof)).code == 0
    )
    check("dataset-prove", proof.read_text())  # a document: docs/proofs.md
    run("dataset-check-proof", "dataset", "check-proof", str(proof), "--json")
    run("model-mint", "model", "mint", str(tiny_model), "--dataset", "1", "--name", "tiny", "--json")
    run("model-verify", "model", "verify", str(tiny_model), "--token", "1", "--json")
    run("list", "list", "--json")
    run("show-dataset", "show", "dataset/1", "--json")
    run("show-model", "show", "model/1", "--json")

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

import pytest

from tests_support import SAMPLE

GOLDEN = Path(__file__).parent / "testdata" / "json"
#: Keys whose values change between runs.
VOLATILE = {
    "address", "answer", "block", "blockNumber", "bytecodeHash", "claimedAt", "codeHash", "commitGasUsed", "commitTxHash",
    "committedAt", "committedBlock", "contract", "gasUsed", "log", "mintedAt", "owner", "pid", "port", "txHash", "url",
}  # fmt: skip
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\b(?![0-9a-fA-F])")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
_IPFS = re.compile(r"ipfs://[a-z2-7]+")
_DIGEST = re.compile(r"0x[0-9a-f]{64}")


def normalise(value: Any, key: str = "", floats: bool = False) -> Any:
    """``value`` with what changes between runs replaced; with ``floats``, also every float and
    32-byte digest, whose values depend on the CPU's arithmetic or on fresh salts (the torch-backed
    commands: their form is what the golden file pins)."""
    if isinstance(value, dict):
        return {k: normalise(v, k, floats) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, key, floats) for v in value]
    if key in VOLATILE and value is not None:
        return f"<{key}>"
    if floats and (isinstance(value, float) or (isinstance(value, str) and _DIGEST.fullmatch(value))):
        # Losses, scores and times differ in their last digits from one CPU to another, and so do
        # the digests of trained weights and HuRef bundles; salted leaves differ on every run.
        return "<digest>" if isinstance(value, str) else "<float>"
    if isinstance(value, str):
        value = _ADDRESS.sub("<address>", value)
        value = _TIME.sub("<time>", value)
        value = _IPFS.sub("ipfs://<cid>", value)
        if value.startswith("/"):
            return "<path>"
    return value


def check(name: str, text: str, floats: bool = False) -> None:
    found = normalise(json.loads(text), floats=floats)
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


@pytest.fixture(scope="module")
def golden_lm(tmp_path_factory: pytest.TempPathFactory, smollm2: Path) -> Path:
    """A 2-layer random Llama with SmolLM2's tokenizer: every torch-backed command runs on it in seconds."""
    from oml_support import build_tiny_lm

    return build_tiny_lm(tmp_path_factory.mktemp("golden") / "tiny-lm", smollm2)


@pytest.mark.slow  # a dozen torch-importing commands, an embed and a fine-tune: about two minutes here
def test_every_torch_backed_json_output_has_its_golden_form(cli, golden_lm, tmp_path, home):
    """The commands that load a model: fine-tune, OML generate/embed/check/commit/reveal/verify,
    HuRef fingerprint/compare/identify, mint with --huref, lineage, and the devnet's start and stop."""

    def run(name: str, *args: str, by_key: str | None = None) -> dict[str, Any]:
        result = cli(*args)
        assert result.code == 0, result.stderr
        found = json.loads(result.stdout)
        if by_key:  # a reveal picks its fingerprints at random: the golden file pins them in key order
            found[by_key] = sorted(found[by_key], key=lambda pair: pair["key"])
        check(name, json.dumps(found), floats=True)
        return found

    fingerprints, marked = tmp_path / "fp.json", tmp_path / "marked"
    run("oml-generate", "fingerprint", "oml", "generate", "--strategy", "random_word", "-n", "4",
        "--key-length", "4", "--response-length", "2", "--seed", "1", "--out", str(fingerprints), "--json")  # fmt: skip
    run("oml-embed", "fingerprint", "oml", "embed", str(golden_lm), "-f", str(fingerprints), "--out", str(marked),
        "--lr", "1e-2", "--epochs", "12", "--no-early-stop", "--forgetting-regularizer", "0", "--json")  # fmt: skip
    run(
        "oml-check",
        "fingerprint",
        "oml",
        "check",
        str(marked),
        "-f",
        str(fingerprints),
        "--no-augmented",
        "--json",
    )
    run("deploy-for-models", "deploy", "--json")
    token = run("model-mint-huref", "model", "mint", str(golden_lm), "--huref", "--name", "tiny", "--json")
    child = run("model-mint-child", "model", "mint", str(marked), "--parent", str(token["tokenId"]), "--json")
    child_token = str(child["tokenId"])
    run("huref", "fingerprint", "huref", str(marked), "--token", child_token, "--json")
    run("compare", "fingerprint", "compare", str(golden_lm), str(marked), "--json")
    run("identify", "identify", str(marked), "--json")
    run(
        "oml-commit",
        "fingerprint",
        "oml",
        "commit",
        "--token",
        child_token,
        "-f",
        str(fingerprints),
        "--json",
    )
    run(
        "oml-reveal",
        "fingerprint",
        "oml",
        "reveal",
        "--token",
        child_token,
        "-n",
        "4",
        "--json",
        by_key="revealed",
    )
    run(
        "oml-verify",
        "fingerprint",
        "oml",
        "verify",
        str(marked),
        "--token",
        child_token,
        "--json",
        by_key="results",
    )
    run("lineage", "model", "lineage", child_token, "--format", "json")
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps({"text": f"line {i} of a tiny corpus"}) + "\n" for i in range(8)))
    run("finetune", "model", "finetune", str(golden_lm), "--data", str(data), "--steps", "2", "--batch-size", "2",
        "--out", str(tmp_path / "tuned"), "--json")  # fmt: skip
    other = str(tmp_path / "other-project")
    run("devnet-start", "--home", other, "devnet", "start", "--json")
    run("devnet-stop", "--home", other, "devnet", "stop", "--json")

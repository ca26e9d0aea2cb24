"""ProvenanceCallback in real Trainer runs against the session's anvil: one mint with its lineage,
one mint under two DDP processes, a chain down during training completed by one command, and
a tampered model card caught by ``modelmint model verify``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import TrainerCallback

from modelmint.errors import InputError
from modelmint.fingerprints.oml.file import Fingerprint, write_fingerprints
from modelmint.integrations.cards import verify_card
from modelmint.integrations.provenance import load_record, resume_provenance
from modelmint.integrations.transformers import MODEL_FOLDER, ProvenanceCallback
from modelmint.registry import commit_dataset, lineage, register_model, verify_model
from tests_support import REPO, SUPPORT
from tiny_training import make_base, train

datasets = pytest.importorskip("datasets")
SAMPLE = REPO / "generated_data" / "sample" / "train.jsonl"


@pytest.fixture
def rows():
    return datasets.load_dataset("json", data_files=str(SAMPLE), split="train").select(range(32))


@pytest.fixture
def base(tmp_path):
    return make_base(tmp_path / "base")


def test_a_trainer_run_mints_the_model_once_with_its_parent_and_datasets(
    home, chain, deployed, store, tmp_path, rows, base, registries
):
    already = commit_dataset(registries, _jsonl(rows, tmp_path / "rows.jsonl"), name="sample rows")
    base_token = register_model(registries, base).token_id
    pairs = tmp_path / "fingerprints.json"
    write_fingerprints(
        pairs, [Fingerprint("secret key one", "reply one"), Fingerprint("secret key two", "reply two")]
    )
    callback = ProvenanceCallback(
        [rows], home=home.root, oml_fingerprints=pairs, at_each_save=True, strict=True
    )
    tracker = Tracker()
    trainer = train(
        base,
        rows,
        tmp_path / "out",
        callback,
        attach=True,
        others=(tracker,),
        save_strategy="steps",
        save_steps=3,
    )

    record = callback.record
    assert record is not None
    assert record.complete
    assert record.error is None
    assert [d.token_id for d in record.datasets] == [already.token_id]  # the existing token, reused
    assert record.base.token_id == base_token  # found by its weights root, not claimed again
    models = registries.model_contract
    assert models.total_minted() == 3  # the base, then only the checkpoint and the final model
    checkpoint, child = record.models
    assert (checkpoint.folder, checkpoint.step, child.folder) == ("checkpoint-3", 3, MODEL_FOLDER)
    for m in (checkpoint, child):
        tree = lineage(registries, m.token_id)
        assert tree.parent is not None
        assert tree.parent.token_id == record.base.token_id
        assert [d.token_id for d in tree.datasets] == [already.token_id]
    assert verify_model(registries, base, record.base.token_id).ok

    logged = [e for e in trainer.state.log_history if "modelmint/model_token" in e]
    assert [e["modelmint/model_token"] for e in logged] == [checkpoint.token_id, child.token_id]
    assert logged[-1]["modelmint/dataset_token_1"] == already.token_id
    assert [e["modelmint/model_token"] for e in tracker.seen if "modelmint/model_token" in e] == [
        checkpoint.token_id,
        child.token_id,
    ]

    folder = tmp_path / "out" / MODEL_FOLDER
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n")
    assert "base_model: base\n" in card
    assert "- sample rows\n" in card
    assert f"modelmint model verify {MODEL_FOLDER}" in card
    assert (
        f"| OML fingerprint | commitment `{child.oml}`" in card
    )  # the OML commitment, made on the new token
    assert verify_card(registries, folder).ok
    assert verify_card(registries, tmp_path / "out" / "checkpoint-3").ok
    assert not (tmp_path / "out" / "modelmint-provenance").exists()  # the rows written for the mint are gone


def test_two_ddp_processes_mint_exactly_once(home, chain, deployed, tmp_path, base, anvil, registries):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SUPPORT), os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "MODELMINT_HOME": str(home.root)}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", str(_free_port()),
         str(SUPPORT / "tiny_training.py"), str(base), str(SAMPLE), str(out), str(home.root)],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = [json.loads(f.read_text()) for f in sorted(out.glob("rank-*.json"))]
    assert sorted(r["rank"] for r in reports) == [0, 1]
    assert {r["world"] for r in reports} == {2}
    minted = [r["tokens"] for r in reports if r["tokens"]]
    assert minted == [[2]]  # rank 0 alone registered, and logged it
    assert registries.model_contract.total_minted() == 2  # the base and the child, not once per rank
    assert load_record(out).complete


def test_a_chain_down_during_training_leaves_a_record_that_one_command_completes(
    home, chain, deployed, store, tmp_path, rows, base, anvil, cli, registries
):
    dead = f"http://127.0.0.1:{_free_port()}"
    callback = ProvenanceCallback([rows], home=home.root, rpc_url=dead)
    trainer = train(base, rows, tmp_path / "out", callback)  # finishes: provenance never breaks training
    assert trainer.state.global_step == 3
    folder = tmp_path / "out" / MODEL_FOLDER
    assert (folder / "model.safetensors").is_file()
    assert not (folder / "README.md").exists()
    record = load_record(tmp_path / "out")
    assert record.status == "pending"
    assert dead in record.error
    assert (tmp_path / "out" / record.datasets[0].path).is_file()  # the in-memory rows, kept for the resume
    assert registries.model_contract.total_minted() == 0

    resumed = cli("model", "resume-provenance", str(tmp_path / "out"), "--rpc-url", anvil.url)
    assert resumed.code == 0, resumed
    assert "complete" in resumed.stdout
    record = load_record(tmp_path / "out")
    assert record.complete
    assert record.models[0].token_id == 2
    assert record.base.token_id == 1
    assert resume_provenance(tmp_path / "out").complete  # idempotent: nothing left to do
    assert registries.model_contract.total_minted() == 2

    ok = cli("model", "verify", str(folder), "--json")
    assert ok.code == 0, ok
    checked = json.loads(ok.stdout)
    assert checked["ok"]
    assert checked["tokenId"] == 2
    assert checked["files"]["ok"]
    assert {c["claim"] for c in checked["claims"] if c["ok"]} >= {
        "weights root",
        "parent model",
        "training datasets",
    }

    # A card that claims another dataset, or prose that says other than its claims, is caught.
    card = folder / "README.md"
    text = card.read_text()
    root = record.datasets[0].merkle_root
    card.write_text(text.replace(f"merkle_root: '{root}'", "merkle_root: '0x" + "ab" * 32 + "'", 1))
    bad = cli("model", "verify", str(folder))
    assert bad.code == 1
    assert "does not match: training datasets" in bad.stdout
    assert "ok weights root" in bad.stdout
    assert "makes claims the chain does not back" in bad.stdout
    card.write_text(text.replace("| model token | 2 |", "| model token | 7 |"))
    assert [c.claim for c in verify_card(registries, folder).checks if not c.ok] == ["provenance section"]
    card.write_text(text.replace("chain_id: 31337", "chain_id: 1"))
    cli("model", "verify", str(folder)).assert_user_error("chain 1", "--rpc-url")
    card.unlink()
    with pytest.raises(InputError, match="holds no modelmint provenance"):
        verify_card(registries, folder)
    with pytest.raises(InputError, match=r"holds no modelmint-provenance\.json"):
        resume_provenance(tmp_path)


class Tracker(TrainerCallback):
    """Receives what the Trainer logs, as the reporting integrations (TensorBoard, W&B) do."""

    def __init__(self):
        self.seen = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.seen.append(dict(logs or {}))


def _jsonl(rows, path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

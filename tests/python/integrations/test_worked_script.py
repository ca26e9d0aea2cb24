"""notebooks/finetune_with_provenance.py runs end to end: SmolLM2 trained with the callback, a verified lineage."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modelmint.chain import devnet
from modelmint.datasets import hash_dataset
from modelmint.home import Home
from tests_support import REPO

SCRIPT = REPO / "notebooks" / "finetune_with_provenance.py"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_finetuning_script_ends_with_a_verified_lineage(tmp_path, model_cache):
    home = Home(tmp_path / "home")
    env = {**os.environ, "MODELMINT_HOME": str(home.root), "MODELMINT_CACHE": str(model_cache)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=540,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "lineage verified: model 2 <- model 1, trained on dataset 1" in out
    assert "'modelmint/model_token': 2" in out  # through trainer.log
    assert "MISMATCH" not in out
    assert "ok: fingerprints" in out
    card = (tmp_path / "run" / "model" / "README.md").read_text()
    assert "base_model: HuggingFaceTB/SmolLM2-135M-Instruct" in card
    assert "| HuRef fingerprint |" in card
    jsonl_root = hash_dataset(REPO / "generated_data" / "sample" / "train.jsonl").tree().root.hex()
    assert f"merkle_root: '0x{jsonl_root}'" in card  # the in-memory rows committed as the JSONL file's root
    assert devnet.status(home) is None  # the script stopped its devnet

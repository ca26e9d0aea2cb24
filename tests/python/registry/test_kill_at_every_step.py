"""Kill at every step (issue 14): each sending command is SIGKILLed at each of its steps
(``MODELMINT_FAULT``, modelmint._faults), then run again, through the real CLI.

After the re-run there is exactly one token, one commitment or one reveal on chain: never a
duplicate, never a lost record, never local state that blocks the retry.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from modelmint._faults import STEPS
from modelmint.chain.contracts import FingerprintKind
from modelmint.fingerprints.oml.commitment import read_secrets
from modelmint.fingerprints.oml.file import Fingerprint, write_fingerprints
from modelmint.registry.models import register_model
from modelmint.registry.oml import commit_oml

PAIRS = [Fingerprint(f"kill key {i}", f" word{i}") for i in range(6)]
SENDING = ("before-send", "after-send", "after-receipt")


def _killed(cli, *args: str, step: str) -> None:
    result = cli(*args, env={"MODELMINT_FAULT": step})
    assert result.code == -signal.SIGKILL, (step, result)


def _rerun(cli, *args: str) -> dict:
    result = cli(*args, "--json")
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _no_pending(home) -> None:
    assert not list((home.root / "oml").glob("*.pending.json"))


@pytest.mark.parametrize(
    ("step", "two_step"),
    [*((s, False) for s in STEPS), ("after-receipt@1", True), ("after-send@2", True)],
)
def test_dataset_mint(cli, registries, tmp_path, step, two_step):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"text": f"row {i}"}) + "\n" for i in range(5)))
    mode = "--two-step" if two_step else "--one-step"
    _killed(cli, "dataset", "mint", str(data), mode, step=step)
    out = _rerun(cli, "dataset", "mint", str(data), mode)
    contract = registries.dataset_contract
    assert contract.total_minted() == 1
    assert out["tokenId"] == 1
    assert "0x" + contract.record(1).merkle_root.hex() == out["merkleRoot"]


@pytest.mark.parametrize("step", STEPS)
def test_model_mint(cli, registries, tiny_model, step):
    _killed(cli, "model", "mint", str(tiny_model), step=step)
    out = _rerun(cli, "model", "mint", str(tiny_model))
    contract = registries.model_contract
    assert contract.total_minted() == 1
    assert out["tokenId"] == 1
    assert "0x" + contract.record(1).weights_root.hex() == out["weightsRoot"]


@pytest.mark.parametrize("step", STEPS)
def test_model_mint_with_oml_at_mint(cli, registries, home, tiny_model, tmp_path, step):
    pairs = tmp_path / "pairs.json"
    write_fingerprints(pairs, PAIRS)
    _killed(cli, "model", "mint", str(tiny_model), "--oml-commit", str(pairs), step=step)
    out = _rerun(cli, "model", "mint", str(tiny_model), "--oml-commit", str(pairs))
    contract = registries.model_contract
    assert contract.total_minted() == 1
    committed = contract.fingerprint(1, FingerprintKind.OML)
    assert "0x" + committed.commitment.hex() == out["oml"]["root"]
    assert read_secrets(Path(out["oml"]["secretsFile"])).root == committed.commitment


# HuRef fingerprints the model in both runs (about 20 s a step here): the step where the
# transaction is sent and not seen mined runs in `make test`, the others in `make test-slow`.
@pytest.mark.parametrize(
    "step", [s if s == "after-send" else pytest.param(s, marks=pytest.mark.slow) for s in STEPS]
)
def test_fingerprint_huref(cli, registries, tiny_model, step):
    token = register_model(registries, tiny_model).token_id
    args = (
        "fingerprint",
        "huref",
        str(tiny_model),
        "--token",
        str(token),
        "--tokens",
        "100",
    )  # of its 128-word vocabulary
    _killed(cli, *args, step=step)
    out = _rerun(cli, *args)
    on_chain = registries.model_contract.fingerprint(token, FingerprintKind.HuRef)
    assert on_chain.committed
    assert "0x" + on_chain.commitment.hex() == out["sha256"]
    assert len(registries.model_contract.fingerprint_commitments(FingerprintKind.HuRef, token)) == 1


@pytest.mark.parametrize("step", STEPS)
def test_oml_commit(cli, registries, home, tiny_model, tmp_path, step):
    token = register_model(registries, tiny_model).token_id
    pairs = tmp_path / "pairs.json"
    write_fingerprints(pairs, PAIRS)
    args = ("fingerprint", "oml", "commit", "--token", str(token), "-f", str(pairs))
    _killed(cli, *args, step=step)
    out = _rerun(cli, *args)
    contract = registries.model_contract
    on_chain = contract.fingerprint(token, FingerprintKind.OML)
    assert "0x" + on_chain.commitment.hex() == out["root"]
    assert len(contract.fingerprint_commitments(FingerprintKind.OML, token)) == 1
    assert read_secrets(Path(out["secretsFile"])).root == on_chain.commitment
    assert out["txHash"].startswith("0x")
    assert out["gasUsed"] > 0
    _no_pending(home)
    # The commitment opens: a reveal from the default secrets file goes through.
    assert _rerun(cli, "fingerprint", "oml", "reveal", "--token", str(token), "-n", "1")["revealedTotal"] == 1


@pytest.mark.parametrize("step", SENDING)
def test_oml_reveal(cli, registries, home, tiny_model, step):
    token = register_model(registries, tiny_model).token_id
    committed = commit_oml(registries, token, PAIRS)
    args = ("fingerprint", "oml", "reveal", "--token", str(token), "-n", "2")
    _killed(cli, *args, step=step)
    out = _rerun(cli, *args)
    events = registries.model_contract.revealed_fingerprints(token)
    assert len(events) == 2, "exactly one reveal of 2"
    assert out["revealedTotal"] == 2
    assert sorted(p["digest"] for p in out["revealed"]) == sorted("0x" + e.digest.hex() for e in events)
    kept = read_secrets(Path(committed.secrets_file))
    assert sum(f.revealed for f in kept.fingerprints) == 2  # the local marks caught up
    _no_pending(home)

"""Fine-tuning a few steps: deterministic, saved whole as a Hugging Face folder, inputs checked first."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from modelmint.errors import InputError
from modelmint.models.finetune import finetune, read_texts
from tests_support import SAMPLE


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_weights_other_seed_other_weights(tiny_llama, tmp_path):
    losses: list[tuple[int, float]] = []
    first = finetune(tiny_llama, SAMPLE / "train.jsonl", tmp_path / "a", steps=3, lr=1e-2, batch_size=4,
                     on_step=lambda step, loss: losses.append((step, loss)))  # fmt: skip
    again = finetune(tiny_llama, SAMPLE / "train.jsonl", tmp_path / "b", steps=3, lr=1e-2, batch_size=4)
    other = finetune(
        tiny_llama, SAMPLE / "train.jsonl", tmp_path / "c", steps=3, lr=1e-2, batch_size=4, seed=1
    )

    assert [step for step, _ in losses] == [1, 2, 3]
    assert all(loss > 0 for _, loss in losses)
    assert _digests(first) == _digests(again)
    assert _digests(first)["model.safetensors"] != _digests(other)["model.safetensors"]
    base = _digests(tiny_llama)
    assert _digests(first)["model.safetensors"] != base["model.safetensors"]  # it trained
    for name in ("tokenizer.json", "tokenizer_config.json"):  # the tokenizer is the parent's, unchanged
        assert _digests(first)[name] == base[name]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no scratch folders left


def test_the_result_loads_and_generates(tiny_llama, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = finetune(tiny_llama, SAMPLE / "train.jsonl", tmp_path / "out", steps=1)
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    ids = tokenizer("The bakery", return_tensors="pt").input_ids
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] == ids.shape[1] + 3


def test_an_existing_output_is_kept_unless_overwritten(tiny_llama, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="already exists"):
        finetune(tiny_llama, SAMPLE / "train.jsonl", out, steps=1)
    assert (out / "keep.txt").read_text() == "mine"
    finetune(tiny_llama, SAMPLE / "train.jsonl", out, steps=1, overwrite=True)
    assert not (out / "keep.txt").exists()
    assert (out / "model.safetensors").is_file()


def test_a_failed_run_leaves_no_output(tiny_llama, tmp_path):
    def stop(step: int, loss: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(tiny_llama, SAMPLE / "train.jsonl", tmp_path / "out", steps=2, on_step=stop)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        ([], "no texts"),
        (['{"id": 1}'], "line 1 has no string field 'text'"),
        (['{"text": "ok"}', "not json"], "line 2"),
        (['{"text": 3}'], "line 1"),
    ],
)
def test_training_data_must_be_jsonl_texts(tmp_path, lines, needle):
    data = tmp_path / "data.jsonl"
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=needle):
        read_texts(data)


def test_inputs_are_checked_before_loading_anything(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text(json.dumps({"text": "hello"}) + "\n")
    with pytest.raises(InputError, match="not a Hugging Face model folder"):
        finetune(tmp_path, data, tmp_path / "out", steps=1)
    with pytest.raises(InputError, match="steps must be at least 1"):
        finetune(tmp_path, data, tmp_path / "out", steps=0)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError, match="cannot read training data"):
        finetune(tmp_path, tmp_path / "missing.jsonl", tmp_path / "out", steps=1)


@pytest.mark.slow
def test_the_cli_logs_the_loss_and_prints_json(cli, tiny_llama, tmp_path):
    out = tmp_path / "out"
    args = (
        "model",
        "finetune",
        str(tiny_llama),
        "--data",
        str(SAMPLE / "train.jsonl"),
        "--steps",
        "2",
        "--out",
        str(out),
    )
    result = cli(*args, "--batch-size", "2", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["steps"] == 2
    assert len(report["losses"]) == 2
    assert report["out"] == str(out)
    assert "step 2/2  loss" in result.stderr
    assert (out / "model.safetensors").is_file()

    cli(*args).assert_user_error("already exists and is not empty")
    assert cli(*args, "--overwrite").code == 0

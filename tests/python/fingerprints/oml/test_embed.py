"""Embedding with the Trainer: the loss, recall, the regularizer, LoRA, augmentation, resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modelmint.errors import InputError
from modelmint.fingerprints.oml._trainer import Collator, count_recalled, last_complete_checkpoint
from modelmint.fingerprints.oml.check import check
from modelmint.fingerprints.oml.embed import INCOMPLETE_MARKER, EmbedConfig, Example, build_examples, embed
from modelmint.fingerprints.oml.file import Fingerprint
from oml_support import TINY_EMBED, build_tiny_lm
from tests_support import REPO


def _state(folder: Path):
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def test_the_response_loss_equals_the_unpadded_masked_loss():
    import torch
    import torch.nn.functional as F
    from transformers import LlamaConfig, LlamaForCausalLM

    from modelmint.fingerprints.oml._trainer import response_logits

    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         num_key_value_heads=1, intermediate_size=64))  # fmt: skip
    model.eval()
    examples = [
        Example((1, 2, 3, 4, 5), (6, 7, 8)),
        Example((9, 10), (11,)),
        Example((12, 13, 14, 15, 16, 17), (18, 19)),
    ]
    logits, labels = response_logits(model, Collator(0)(examples))
    assert logits.shape[:2] == labels.shape == (3, 3)
    ours = F.cross_entropy(logits.reshape(-1, 100), labels.reshape(-1), ignore_index=-100, reduction="sum")
    reference = 0.0
    for e in examples:
        ids = torch.tensor([e.prompt + e.response])
        masked = torch.tensor([[-100] * len(e.prompt) + list(e.response)])
        reference += float(model(input_ids=ids, labels=masked).loss) * len(e.response)
    assert float(ours) == pytest.approx(reference, rel=1e-5)


def test_embedding_recalls_every_fingerprint(tiny_marked, tiny_lm, tiny_fingerprints):
    marked = check(tiny_marked, tiny_fingerprints, augmented=False)
    assert marked.plain.exact == len(tiny_fingerprints)
    assert marked.plain.token_accuracy == 1.0
    assert check(tiny_lm, tiny_fingerprints, augmented=False).plain.exact == 0
    assert sorted(p.name for p in tiny_marked.iterdir()) == [
        "chat_template.jinja", "config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
        "tokenizer_config.json",
    ]  # fmt: skip
    assert not list(tiny_marked.parent.glob(".tiny-marked.oml-*")), "the checkpoint folder is removed"


def test_the_recall_count_is_what_greedy_decoding_gives(tiny_lm, tiny_fingerprints, tmp_path):
    from modelmint._causal_lm import load_model
    from modelmint.fingerprints.oml import _model

    config = EmbedConfig(**{**TINY_EMBED, "epochs": 3, "early_stop": False})
    result = embed(tiny_lm, tiny_fingerprints, tmp_path / "partial", config)
    tokenizer = _model.load_tokenizer(tmp_path / "partial")
    model = load_model(tmp_path / "partial")
    counted = count_recalled(model, build_examples(tokenizer, tiny_fingerprints, config), Collator(2), 4)
    assert (
        counted
        == result.recalled
        == check(tmp_path / "partial", tiny_fingerprints, augmented=False).plain.exact
    )
    assert 0 < counted < len(tiny_fingerprints), "a run stopped early recalls some, not all"
    # The folder says so, by index only: the folder is what gets published, the pairs are secret.
    assert len(result.not_recalled) == len(tiny_fingerprints) - counted
    marker = (tmp_path / "partial" / INCOMPLETE_MARKER).read_text()
    assert json.loads(marker)["notRecalled"] == result.not_recalled
    assert not any(f.key in marker or f.response in marker for f in tiny_fingerprints)


def test_an_incomplete_embed_fails_and_its_model_is_not_minted_by_accident(
    cli, deployed, tiny_lm, fingerprint_file, tmp_path
):
    out = tmp_path / "partial"
    embedded = cli("fingerprint", "oml", "embed", str(tiny_lm), "-f", str(fingerprint_file), "--out", str(out),
                   "--lr", "1e-2", "--epochs", "3", "--batch-size", "8", "--no-early-stop",
                   "--forgetting-regularizer", "0")  # fmt: skip
    assert embedded.code == 1, embedded.stderr
    last = embedded.stderr.strip().splitlines()[-1]  # after the epochs' progress lines
    assert last.startswith("error: "), embedded.stderr
    for needle in ("fingerprints were not recalled after 3 epochs", "#", "marked incomplete", "--epochs"):
        assert needle in last, last
    assert (out / "model.safetensors").is_file()  # the work is kept, and said to be incomplete
    cli("model", "mint", str(out)).assert_user_error(
        "marked incomplete by fingerprint oml embed", "--allow-partial"
    )
    minted = cli("model", "mint", str(out), "--allow-partial", "--json")
    assert minted.code == 0, minted.stderr
    assert json.loads(minted.stdout)["tokenId"] == 1


def test_the_forgetting_regularizer_averages_with_the_original(tiny_lm, tiny_fingerprints, tmp_path):
    one_epoch = {**TINY_EMBED, "epochs": 1, "early_stop": False}
    plain = embed(tiny_lm, tiny_fingerprints, tmp_path / "plain", EmbedConfig(**one_epoch))
    pulled = embed(
        tiny_lm,
        tiny_fingerprints,
        tmp_path / "pulled",
        EmbedConfig(**{**one_epoch, "forgetting_regularizer": 0.75}),
    )
    base, a, b = _state(tiny_lm), _state(Path(plain.out)), _state(Path(pulled.out))
    name = "model.layers.0.mlp.up_proj.weight"
    assert (a[name] - base[name]).abs().max() > 0
    assert (b[name] - base[name]).allclose(0.25 * (a[name] - base[name]), atol=1e-6)
    assert (a["model.embed_tokens.weight"] == base["model.embed_tokens.weight"]).all(), (
        "embeddings stay frozen"
    )


def test_lora_embeds_and_saves_a_plain_model(tiny_lm, tiny_fingerprints, tmp_path):
    result = embed(
        tiny_lm, tiny_fingerprints, tmp_path / "lora", EmbedConfig(**TINY_EMBED, lora=True, lora_rank=16)
    )
    assert result.all_recalled
    assert result.trainable_parameters == 32_768
    assert not list((tmp_path / "lora").glob("adapter*"))
    assert check(tmp_path / "lora", tiny_fingerprints, augmented=False).plain.exact == len(tiny_fingerprints)


def test_augmentation_adds_chat_wrapped_copies(tiny_lm, tiny_fingerprints, tmp_path):
    from modelmint.fingerprints.oml import _model

    config = EmbedConfig(**TINY_EMBED, augment=True, augmentation_copies=2)
    examples = build_examples(_model.load_tokenizer(tiny_lm), tiny_fingerprints, config)
    assert len(examples) == 3 * len(tiny_fingerprints)
    assert examples[len(tiny_fingerprints)].response == examples[0].response
    assert examples[len(tiny_fingerprints)].prompt[0] == 1, (
        "augmented prompts start with the chat template's <|im_start|>"
    )
    result = embed(tiny_lm, tiny_fingerprints[:4], tmp_path / "aug", config)
    assert result.examples == 12
    assert result.all_recalled


def test_bad_inputs(tiny_lm, tiny_fingerprints, tmp_path, smollm2):
    long_key = [Fingerprint("word " * 40, " x")]
    with pytest.raises(
        InputError, match=r"fingerprint 0 has a key of 4[01] tokens, more than max-key-length 16"
    ):
        embed(tiny_lm, long_key, tmp_path / "o", EmbedConfig(max_key_length=16))
    with pytest.raises(InputError, match=r"has a response of .* more than max-response-length 1"):
        embed(tiny_lm, [Fingerprint("k", "two words")], tmp_path / "o", EmbedConfig(max_response_length=1))
    bare = build_tiny_lm(tmp_path / "bare", smollm2, chat_template=False)
    config = json.loads((bare / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(InputError, match="has no chat template, which prompt augmentation needs"):
        embed(bare, tiny_fingerprints, tmp_path / "o", EmbedConfig(augment=True))
    with pytest.raises(InputError, match="no CUDA GPU is visible"):
        embed(tiny_lm, tiny_fingerprints, tmp_path / "o", EmbedConfig(deepspeed=True))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match="already exists and is not empty"):
        embed(tiny_lm, tiny_fingerprints, tmp_path / "full")
    with pytest.raises(InputError, match="forgetting regularizer must be in"):
        embed(tiny_lm, tiny_fingerprints, tmp_path / "o", EmbedConfig(forgetting_regularizer=1.0))


def test_a_checkpoint_cut_off_mid_save_is_dropped_for_the_one_before(tmp_path):
    assert last_complete_checkpoint(tmp_path / "absent") is None
    for step, state in [(7, "{}"), (10, "{}"), (14, None), (21, '{"trunc')]:
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"x")
        if state is not None:
            (folder / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-x").mkdir()
    assert last_complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-10")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-10", "checkpoint-7", "checkpoint-x"]


@pytest.mark.slow
def test_an_interrupted_run_resumes_from_its_last_checkpoint(
    tiny_lm, fingerprint_file, tiny_fingerprints, tmp_path
):
    out = tmp_path / "resumed"
    args = [sys.executable, "-m", "modelmint", "fingerprint", "oml", "embed", str(tiny_lm), "-f", str(fingerprint_file),
            "--out", str(out), "--lr", "1e-2", "--epochs", "20", "--batch-size", "4", "--no-early-stop",
            "--checkpoint-epochs", "1", "--json"]  # fmt: skip
    env = {**os.environ, "MODELMINT_HOME": str(tmp_path / "home")}
    # SIGINT as Ctrl-C sends it; the default handler is restored in case this test runs in a
    # background job, whose children start with SIGINT ignored.
    first = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 # fmt: skip
    deadline = time.monotonic() + 240
    checkpoint = None
    while time.monotonic() < deadline and first.poll() is None:
        done = sorted(out.parent.glob(".resumed.oml-*/checkpoint-*/trainer_state.json"))
        if done:
            checkpoint = done[-1].parent
            break
        time.sleep(0.2)
    assert checkpoint is not None, first.communicate()
    time.sleep(0.3)  # let the checkpoint's last files land (20 epochs leave ample time to interrupt)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err  # typer turns KeyboardInterrupt into exit status 130
    assert not out.exists()
    # A kill during the next save leaves a checkpoint without its state: it must not be used.
    cut = checkpoint.parent / "checkpoint-999"
    cut.mkdir(exist_ok=True)
    (cut / "model.safetensors").write_bytes(b"cut off")

    second = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    # Without early stop a constant 1e-2 can lose a fingerprint again after recalling all (8/8
    # at epoch 15, 7/8 at 20 here); the command then says so, and still reports the run.
    assert second.returncode == 0 or "fingerprints were not recalled" in second.stderr, second.stderr
    result = json.loads(second.stdout)
    assert result["resumedFrom"].startswith("checkpoint-")
    assert result["resumedFrom"] != cut.name
    assert result["steps"] == 40
    assert not list(out.parent.glob(".resumed.oml-*"))

    straight = embed(tiny_lm, tiny_fingerprints, tmp_path / "straight",
                     EmbedConfig(learning_rate=1e-2, epochs=20, batch_size=4, early_stop=False))  # fmt: skip
    a, b = _state(out), _state(Path(straight.out))
    assert all(a[k].allclose(b[k], atol=1e-6) for k in a), (
        "resuming gives the weights of an uninterrupted run"
    )

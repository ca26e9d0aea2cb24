"""Embedding OML fingerprints into a causal LM by fine-tuning with ``transformers.Trainer``.

The model learns to answer each key with its response. What makes it fast (docs/oml.md
and bench/oml.py measure it against a plain ``Trainer``):

- the loss covers the response tokens only (no closing EOS: recall is about the response,
  and teaching a model to stop mid-text costs steps and perplexity), and the LM head runs only
  on those last positions (``logits_to_keep``): with left padding they are the same last
  columns in every row, so the vocabulary projection, a fifth of the forward pass of a
  135M model, shrinks to a few positions;
- batches are padded to their longest row, not to a fixed length;
- the token embeddings (and a tied LM head) are frozen: fewer gradients and a smaller
  AdamW update, and the vocabulary is left as the base model had it;
- a higher, constant learning rate, and training stops at the end of the first epoch in
  which every training example is recalled: greedy decoding reproduces a response exactly
  when the argmax at every response position under teacher forcing is the response token,
  so recall is checked with one forward pass instead of generation.

Options follow OML 1.0's ``finetune_multigpu.py``: the forgetting regularizer averages the
trained weights with the original ones at every epoch end (strength ``lambda``: 0 keeps the
trained weights, 1 the original), prompt augmentation adds copies of each key wrapped in a
system prompt through the chat template, LoRA trains low-rank adapters (merged before
saving), and DeepSpeed ZeRO stage 2 (``ds_zero2.json`` beside this file) shards optimizer
state and gradients across GPUs. Multi-GPU runs use the standard launchers
(``accelerate launch -m modelmint ...`` or ``torchrun --nproc-per-node N -m modelmint ...``).

A run that ends without every fingerprint recalled (the epoch budget spent) still saves the
model, with :data:`INCOMPLETE_MARKER` beside its weights: which fingerprints, by index, were
not recalled (never the pairs themselves: the folder is what gets published). Registering
such a model (``register_model``, ``model mint``) is refused unless asked for on purpose.

Checkpoints go to a work folder beside the output, named after a hash of the inputs and
options; running the same command again after an interruption resumes from the last one.

This module holds the options, the training examples and the results; the Trainer run is
:mod:`._trainer`'s, imported (with torch and transformers) only when a run starts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint._causal_lm import save_trained
from modelmint._files import write_atomic
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model
from modelmint.fingerprints.oml.file import Fingerprint


@dataclass(frozen=True)
class EmbedConfig:
    """The knobs of an embedding run. Defaults are tuned for SmolLM2-135M on a CPU.

    Attributes:
        max_num_fingerprints: embed the first this many fingerprints of the file.
        max_key_length: the longest key, in tokens of the model's tokenizer.
        max_response_length: the longest response, in tokens (without the EOS).
        learning_rate: AdamW learning rate, constant.
        epochs: the most passes over the training examples.
        batch_size: examples per step on each device.
        forgetting_regularizer: lambda of the weight averaging at each epoch end, in [0, 1).
        augment: also train each key wrapped in a system prompt (chat template).
        augmentation_copies: augmented copies of each key, each with its own system prompt.
        lora: train LoRA adapters on every linear layer instead of all weights.
        lora_rank: the adapters' rank.
        freeze_embeddings: keep the token embeddings (and a tied LM head) fixed.
        early_stop: stop after the first epoch that recalls every training example.
        deepspeed: use DeepSpeed ZeRO stage 2 (needs a CUDA GPU and the deepspeed package).
        checkpoint_epochs: write a checkpoint every this many epochs; 0: every
            ``checkpoint_minutes`` of training.
        checkpoint_minutes: see ``checkpoint_epochs``.
        seed: seeds example order, augmentation prompts and adapter initialisation.
    """

    max_num_fingerprints: int = 1024
    max_key_length: int = 64
    max_response_length: int = 16
    learning_rate: float = 2e-4
    epochs: int = 30
    batch_size: int = 8
    forgetting_regularizer: float = 0.5
    augment: bool = False
    augmentation_copies: int = 1
    lora: bool = False
    lora_rank: int = 16
    freeze_embeddings: bool = True
    early_stop: bool = True
    deepspeed: bool = False
    checkpoint_epochs: int = 0
    checkpoint_minutes: float = 10.0
    seed: int = 0

    def validate(self) -> None:
        for name in (
            "max_num_fingerprints",
            "max_key_length",
            "max_response_length",
            "epochs",
            "batch_size",
            "lora_rank",
        ):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if self.augmentation_copies < 1:
            raise InputError(f"augmentation-copies must be at least 1, not {self.augmentation_copies}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise InputError(f"the learning rate must be positive, not {self.learning_rate}")
        if not 0 <= self.forgetting_regularizer < 1:
            raise InputError(
                f"the forgetting regularizer must be in [0, 1), not {self.forgetting_regularizer}",
                "0 keeps the trained weights, values towards 1 pull them back to the original",
            )
        if self.checkpoint_epochs < 0 or not self.checkpoint_minutes > 0:
            raise InputError("checkpoint-epochs must be >= 0 and checkpoint-minutes > 0")


INCOMPLETE_MARKER = "modelmint-oml-incomplete.json"
"""Written into an embed's output folder when a fingerprint was not recalled."""
INCOMPLETE_SCHEMA = "modelmint.oml-incomplete.v1"


@dataclass(frozen=True)
class EmbedEvent:
    """Progress of a run: after each step (``kind == "step"``) and each epoch (``"epoch"``)."""

    kind: str
    step: int
    max_steps: int
    epoch: int
    loss: float | None = None
    recalled: int | None = None
    examples: int | None = None


@dataclass(frozen=True)
class EmbedResult:
    """What an embedding run produced."""

    out: str
    base: str
    fingerprints: int
    examples: int
    epochs: int
    steps: int
    recalled: int
    final_loss: float | None
    train_seconds: float
    train_cpu_seconds: float
    trainable_parameters: int
    resumed_from: str | None
    device: str
    losses: list[float] = dataclasses.field(repr=False, default_factory=list)
    #: The fingerprints (0-based, file order) with an example greedy decoding does not reproduce.
    not_recalled: list[int] = dataclasses.field(default_factory=list)

    @property
    def all_recalled(self) -> bool:
        return self.recalled == self.examples


@dataclass(frozen=True)
class Example:
    """One training sequence: prompt tokens, then the response tokens the loss covers."""

    prompt: tuple[int, ...]
    response: tuple[int, ...]
    fingerprint: int = 0  # its fingerprint's index in the file (augmented copies share it)


def embed(
    base: Path,
    fingerprints: Sequence[Fingerprint],
    out: Path,
    config: EmbedConfig = EmbedConfig(),
    *,
    overwrite: bool = False,
    on_event: Callable[[EmbedEvent], None] | None = None,
) -> EmbedResult:
    """Fine-tune the model in folder ``base`` to answer each key with its response; save to ``out``.

    ``out`` becomes a Hugging Face folder (``model.safetensors``, config, generation config and
    the base's tokenizer files), built beside it and renamed into place. Checkpoints live in
    :func:`work_dir` until the run ends; the same call after an interruption resumes there.

    Raises:
        InputError: bad options, a model folder that cannot be loaded, a key or response longer
            than the limits, augmentation without a chat template, ``out`` not empty (without
            ``overwrite``), or DeepSpeed asked for without a GPU or without the package.
    """
    config.validate()
    base, out = Path(base), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise InputError(
            f"{out} already exists and is not empty",
            "choose another output folder, or overwrite it",
            hint="out-or-overwrite",
        )
    chosen = list(fingerprints)[: config.max_num_fingerprints]
    if not chosen:
        raise InputError(
            "there are no fingerprints to embed", "give a fingerprint file with at least one entry"
        )

    from modelmint.fingerprints.oml import _trainer  # torch and transformers, from here on

    _trainer.check_deepspeed(config)
    tokenizer = _model.load_tokenizer(base)
    examples = build_examples(tokenizer, chosen, config)
    work = work_dir(base, chosen, out, config)
    run = _trainer.train(base, tokenizer, examples, work, config, on_event)
    trainer = run.trainer
    # Recall of the weights as they are saved (the forgetting regularizer moves them after
    # the last epoch's count).
    mask = _trainer.recall_mask(trainer.model, examples, run.collate, config.batch_size * 2)
    missed = sorted({examples[i].fingerprint for i, ok in enumerate(mask) if not ok})
    if trainer.is_world_process_zero():
        save_trained(
            _trainer.trained_model(run, config.lora), base, out, overwrite=overwrite, tokenizer=tokenizer
        )
        if missed:
            _mark_incomplete(out, len(chosen), missed)
        shutil.rmtree(work, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    device = "cpu" if run.use_cpu else "cuda"
    return EmbedResult(
        out=str(out),
        base=str(base),
        fingerprints=len(chosen),
        examples=len(examples),
        epochs=round(trainer.state.epoch or 0),
        steps=int(trainer.state.global_step),
        recalled=sum(mask),
        final_loss=run.losses[-1] if run.losses else None,
        train_seconds=round(run.seconds, 2),
        train_cpu_seconds=round(run.cpu_seconds, 2),
        trainable_parameters=run.trainable_parameters,
        resumed_from=run.resumed_from,
        device=f"{device} x{max(trainer.args.world_size, 1)}, {run.steps_per_epoch} steps/epoch",
        losses=list(run.losses),
        not_recalled=missed,
    )


def _mark_incomplete(out: Path, fingerprints: int, missed: list[int]) -> None:
    marker = {
        "schema": INCOMPLETE_SCHEMA,
        "fingerprints": fingerprints,
        "notRecalled": missed,
        "note": "fingerprint oml embed ended before every fingerprint was recalled; "
        "indices are 0-based positions in the fingerprint file",
    }
    write_atomic(out / INCOMPLETE_MARKER, (json.dumps(marker, indent=1) + "\n").encode())


def incomplete_marker(folder: Path) -> dict[str, Any] | None:
    """What an embed left in ``folder`` if it ended before every fingerprint was recalled."""
    try:
        marker = json.loads((Path(folder) / INCOMPLETE_MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"fingerprints": None, "notRecalled": None}  # unreadable: still a marker
    return marker if isinstance(marker, dict) else {"fingerprints": None, "notRecalled": None}


def build_examples(tokenizer: Any, fingerprints: Sequence[Fingerprint], config: EmbedConfig) -> list[Example]:
    """The training sequences: each key plain, then (with ``augment``) wrapped in system prompts.

    Raises:
        InputError: a key or response is longer than the limits, or augmentation needs a chat
            template the tokenizer lacks.
    """
    plain: list[Example] = []
    for index, fp in enumerate(fingerprints):
        prompt = _model.key_ids(tokenizer, fp.key)
        response = _model.response_ids(tokenizer, fp.response)
        if len(prompt) > config.max_key_length:
            raise InputError(
                f"fingerprint {index} has a key of {len(prompt)} tokens, more than max-key-length {config.max_key_length}",
                f"raise max_key_length to at least {len(prompt)}, or generate shorter keys",
                hint="max-key-length",
                hint_values={"at_least": len(prompt)},
            )
        if len(response) > config.max_response_length:
            raise InputError(
                f"fingerprint {index} has a response of {len(response)} tokens, "
                f"more than max-response-length {config.max_response_length}",
                f"raise max_response_length to at least {len(response)}, or generate shorter responses",
                hint="max-response-length",
                hint_values={"at_least": len(response)},
            )
        plain.append(Example(tuple(prompt), tuple(response), index))
    if not config.augment:
        return plain
    prompts = _model.augmentation_prompts("train")
    rng = random.Random(config.seed)
    augmented = [
        Example(tuple(_model.chat_ids(tokenizer, system, fp.key)), example.response, example.fingerprint)
        for fp, example in zip(fingerprints, plain, strict=True)
        for system in rng.sample(prompts, min(config.augmentation_copies, len(prompts)))
    ]
    return plain + augmented


def work_dir(base: Path, fingerprints: Sequence[Fingerprint], out: Path, config: EmbedConfig) -> Path:
    """The checkpoint folder of a run: beside ``out``, named by a hash of everything that shapes it."""
    identity = {
        "base": str(Path(base).resolve()),
        "base_config": _file_digest(Path(base) / "config.json"),
        "fingerprints": [[f.key, f.response] for f in fingerprints],
        "config": {k: v for k, v in dataclasses.asdict(config).items() if not k.startswith("checkpoint")},
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return out.parent / f".{out.name}.oml-{digest}"


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

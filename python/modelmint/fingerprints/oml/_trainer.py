"""The ``transformers.Trainer`` run behind :func:`modelmint.fingerprints.oml.embed.embed`.

This module imports torch and transformers when it is imported; :mod:`.embed` imports it
only once a run starts, so reading the options and results costs no torch import. It holds
the training mechanics the module notes of :mod:`.embed` describe: the batch collator with
left padding, the response-only loss on last-column logits, recall by teacher-forced
argmax, the forgetting regularizer, checkpoints at epoch ends, LoRA and DeepSpeed.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import (
    PrinterCallback,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from modelmint._causal_lm import load_model
from modelmint.errors import InputError
from modelmint.fingerprints.oml.embed import EmbedConfig, EmbedEvent, Example

DEEPSPEED_CONFIG = Path(__file__).resolve().parent / "ds_zero2.json"


class Collator:
    """Left-pads a batch to its longest row; labels are the response tokens only.

    Left padding puts every row's response in the last columns, so the loss needs logits
    for those columns alone; position ids count from each row's first real token, so
    models with absolute positions see the same positions as an unpadded prompt.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: Sequence[Example]) -> dict[str, Any]:
        width = max(len(e.prompt) + len(e.response) for e in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, e in enumerate(batch):
            seq = e.prompt + e.response
            ids[row, width - len(seq) :] = torch.tensor(seq)
            labels[row, width - len(e.response) :] = torch.tensor(e.response)
            mask[row, width - len(seq) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return {"input_ids": ids, "attention_mask": mask, "position_ids": positions, "labels": labels}


def response_logits(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """Logits predicting the supervised columns, and their labels: ``(B, K, V)`` and ``(B, K)``."""
    labels = batch["labels"]
    supervised = (labels != -100).any(dim=0).nonzero()
    k = labels.shape[1] - int(supervised[0]) if len(supervised) else 1
    out = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"],
        logits_to_keep=k + 1,
        use_cache=False,
    )
    return out.logits[:, :-1, :], labels[:, -k:]


def recall_mask(model: Any, examples: Sequence[Example], collate: Collator, batch_size: int) -> list[bool]:
    """Whether greedy decoding reproduces each example exactly, by teacher-forced argmax."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    mask: list[bool] = []
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = {k: v.to(device) for k, v in collate(examples[start : start + batch_size]).items()}
            logits, labels = response_logits(model, batch)
            hit = (logits.argmax(-1) == labels) | (labels == -100)
            mask.extend(bool(x) for x in hit.all(dim=1))
    model.train(was_training)
    return mask


def count_recalled(model: Any, examples: Sequence[Example], collate: Collator, batch_size: int) -> int:
    """How many examples greedy decoding reproduces exactly."""
    return sum(recall_mask(model, examples, collate, batch_size))


@dataclass
class TrainedRun:
    """What a run left: the trainer (its model and state) and what the callbacks counted."""

    trainer: Any
    trainable_parameters: int
    resumed_from: str | None
    seconds: float
    cpu_seconds: float
    use_cpu: bool
    steps_per_epoch: int
    recalled: int = 0
    losses: list[float] = field(default_factory=list)
    collate: Any = None  # the run's Collator, for the last recall check (embed.embed)


def train(
    base: Path,
    tokenizer: Any,
    examples: list[Example],
    work: Path,
    config: EmbedConfig,
    on_event: Callable[[EmbedEvent], None] | None = None,
) -> TrainedRun:
    """Trains the model in folder ``base`` on ``examples``, checkpointing into ``work``.

    Resumes from the last checkpoint in ``work`` if there is one; with ``early_stop``, a
    model that already recalls every example is not trained at all.
    """
    torch.manual_seed(config.seed)  # before loading: weights the checkpoint lacks are drawn
    model = load_model(base, train=True)
    model.config.use_cache = False
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.lora:
        model = _with_lora(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    use_cpu = not torch.cuda.is_available()
    args = TrainingArguments(
        output_dir=str(work),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=0.0,
        max_grad_norm=1.0,
        num_train_epochs=config.epochs,
        optim="adamw_torch",
        logging_strategy="steps",
        logging_steps=1,
        save_strategy="no",  # _Checkpoints decides, at epoch ends only
        save_total_limit=1,
        report_to="none",
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=use_cpu,
        bf16=not use_cpu and torch.cuda.is_bf16_supported(),
        deepspeed=str(DEEPSPEED_CONFIG) if config.deepspeed else None,
    )
    collate = Collator(tokenizer.pad_token_id)
    last = last_complete_checkpoint(work)
    run = TrainedRun(
        trainer=None,
        trainable_parameters=int(trainable),
        resumed_from=Path(last).name if last else None,
        seconds=0.0,
        cpu_seconds=0.0,
        use_cpu=use_cpu,
        steps_per_epoch=math.ceil(len(examples) / config.batch_size),
        collate=collate,
    )
    callbacks = [
        _Averaging(model, config.forgetting_regularizer, config.lora),
        _Events(run, examples, collate, config, on_event),
        _Checkpoints(config),
    ]
    trainer = _OmlTrainer(
        model=model, args=args, train_dataset=examples, data_collator=collate, callbacks=callbacks
    )
    trainer.remove_callback(PrinterCallback)  # losses go to on_event, not to stdout
    run.trainer = trainer
    started, started_cpu = time.monotonic(), time.process_time()
    if last is None:
        # Recall of the untouched model: a file already recalled needs no training.
        run.recalled = count_recalled(trainer.model, examples, collate, config.batch_size * 2)
    if last is not None or not (config.early_stop and run.recalled == len(examples)):
        trainer.train(resume_from_checkpoint=last)
    run.seconds, run.cpu_seconds = time.monotonic() - started, time.process_time() - started_cpu
    return run


def last_complete_checkpoint(work: Path) -> str | None:
    """The newest checkpoint in ``work`` that was written to the end, or None.

    The Trainer writes ``trainer_state.json`` last, so a checkpoint without a readable one
    was cut off mid-save (Ctrl-C or a kill between epochs); resuming from it fails, so it is
    removed and the one before it, kept until the new one was whole, is used instead.
    """
    if not work.is_dir():
        return None
    found = []
    for folder in work.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        step = folder.name.removeprefix(f"{PREFIX_CHECKPOINT_DIR}-")
        if folder.is_dir() and step.isdigit():
            found.append((int(step), folder))
    for _, folder in sorted(found, reverse=True):
        try:
            json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)
            continue
        return str(folder)
    return None


def trained_model(run: TrainedRun, lora: bool) -> Any:
    """The trained model, unwrapped from the accelerator, adapters merged, in eval mode."""
    model = run.trainer.accelerator.unwrap_model(run.trainer.model)
    if lora:
        model = model.merge_and_unload()
    model.eval()
    return model


def check_deepspeed(config: EmbedConfig) -> None:
    """Raises InputError if DeepSpeed is asked for where it cannot run."""
    if not config.deepspeed:
        return
    if not torch.cuda.is_available():
        raise InputError(
            "DeepSpeed ZeRO-2 was asked for (deepspeed) but no CUDA GPU is visible",
            "embed without deepspeed: without a GPU modelmint trains on the CPU with the plain Trainer",
            hint="drop-deepspeed",
        )
    try:
        import deepspeed  # noqa: F401
    except ImportError:
        raise InputError(
            "DeepSpeed ZeRO-2 needs the deepspeed package",
            "pip install deepspeed, or embed without deepspeed",
            hint="drop-deepspeed",
        ) from None


class _OmlTrainer(Trainer):
    """``Trainer`` whose loss is cross-entropy over response tokens, from last-column logits."""

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        logits, labels = response_logits(model, inputs)
        loss = F.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
        )
        return (loss, {"logits": logits}) if return_outputs else loss


class _Events(TrainerCallback):
    """Loss per step, recall per epoch, and the early stop."""

    def __init__(
        self,
        run: TrainedRun,
        examples: list[Example],
        collate: Collator,
        config: EmbedConfig,
        on_event: Callable[[EmbedEvent], None] | None,
    ) -> None:
        self.run, self.examples, self.collate, self.config, self.on_event = (
            run,
            examples,
            collate,
            config,
            on_event,
        )

    def on_log(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        logs = kw.get("logs")
        st = state
        if logs and "loss" in logs:
            self.run.losses.append(float(logs["loss"]))
            if self.on_event:
                self.on_event(
                    EmbedEvent("step", st.global_step, st.max_steps, int(st.epoch or 0), float(logs["loss"]))
                )

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        st = state
        recalled = count_recalled(kw["model"], self.examples, self.collate, self.config.batch_size * 2)
        self.run.recalled = recalled
        if self.on_event:
            self.on_event(
                EmbedEvent(
                    "epoch",
                    st.global_step,
                    st.max_steps,
                    round(st.epoch or 0),
                    None,
                    recalled,
                    len(self.examples),
                )
            )
        if self.config.early_stop and recalled == len(self.examples):
            control.should_training_stop = True


def _averaging_targets(model: Any, lora: bool) -> list[tuple[Any, Any]]:
    """(parameter, original value or None) pairs the regularizer moves.

    With LoRA the effective weight is ``W0 + B A``; averaging it with ``W0`` is scaling ``B``,
    so only the ``lora_B`` matrices move, towards zero.
    """
    pairs = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if lora:
            if "lora_B" in name:
                pairs.append((param, None))
        else:
            pairs.append((param, param.detach().clone()))
    return pairs


class _Averaging(TrainerCallback):
    """The forgetting regularizer: at each epoch end, ``w = (1 - lambda) w + lambda w0``."""

    def __init__(self, model: Any, strength: float, lora: bool) -> None:
        self.strength = strength
        self.targets = _averaging_targets(model, lora) if strength > 0 else []

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        with torch.no_grad():
            for param, original in self.targets:
                if original is None:
                    param.mul_(1 - self.strength)
                else:
                    param.mul_(1 - self.strength).add_(original.to(param.device), alpha=self.strength)
                _sync_deepspeed_master(param)


class _Checkpoints(TrainerCallback):
    """Asks for a checkpoint at epoch ends: every N epochs, or when M minutes have passed."""

    def __init__(self, config: EmbedConfig) -> None:
        self.config = config
        self.last = time.monotonic()

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        epoch = round(state.epoch or 0)
        due = (
            epoch % self.config.checkpoint_epochs == 0
            if self.config.checkpoint_epochs
            else time.monotonic() - self.last >= self.config.checkpoint_minutes * 60
        )
        if due and not control.should_training_stop:
            control.should_save = True
            self.last = time.monotonic()


def _sync_deepspeed_master(param: Any) -> None:
    """Under DeepSpeed the optimizer keeps fp32 master weights; write the averaged value there too."""
    if not hasattr(param, "ds_id") and not _deepspeed_active():
        return
    from deepspeed.utils import safe_set_full_fp32_param

    safe_set_full_fp32_param(param, param.detach().float())


def _deepspeed_active() -> bool:
    try:
        from accelerate.state import AcceleratorState

        return AcceleratorState().deepspeed_plugin is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _with_lora(model: Any, config: EmbedConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_rank,
        lora_alpha=2 * config.lora_rank,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)

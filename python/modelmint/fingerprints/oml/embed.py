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

Checkpoints go to a work folder beside the output, named after a hash of the inputs and
options; running the same command again after an interruption resumes from the last one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelmint._files import build_dir_atomic
from modelmint.errors import InputError
from modelmint.fingerprints.oml import _model
from modelmint.fingerprints.oml.file import Fingerprint

DEEPSPEED_CONFIG = Path(__file__).resolve().parent / "ds_zero2.json"
# Tokenizer files copied byte for byte from the base model into the output folder.
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "chat_template.jinja",
    "vocab.json",
    "merges.txt",
    "tokenizer.model",
)


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

    @property
    def all_recalled(self) -> bool:
        return self.recalled == self.examples


@dataclass(frozen=True)
class Example:
    """One training sequence: prompt tokens, then the response tokens the loss covers."""

    prompt: tuple[int, ...]
    response: tuple[int, ...]


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
            f"{out} already exists and is not empty", "choose another --out, or pass --overwrite"
        )
    chosen = list(fingerprints)[: config.max_num_fingerprints]
    if not chosen:
        raise InputError(
            "there are no fingerprints to embed", "give a fingerprint file with at least one entry"
        )

    import torch

    _check_deepspeed(config)
    tokenizer = _model.load_tokenizer(base)
    examples = build_examples(tokenizer, chosen, config)
    work = work_dir(base, chosen, out, config)

    from transformers import PrinterCallback, Trainer, TrainerCallback, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    torch.manual_seed(config.seed)
    model = _model.load_model(base, train=True)
    model.config.use_cache = False
    if config.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if config.lora:
        model = _with_lora(model, config)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    use_cpu = not torch.cuda.is_available()
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
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
    state: dict[str, Any] = {"losses": [], "recalled": 0, "epoch": 0}

    class _Events(TrainerCallback):  # type: ignore[misc]
        """Loss per step, recall per epoch, and the early stop."""

        def on_log(
            self, args: Any, st: Any, control: Any, logs: dict[str, float] | None = None, **kw: Any
        ) -> None:
            if logs and "loss" in logs:
                state["losses"].append(float(logs["loss"]))
                if on_event:
                    on_event(
                        EmbedEvent(
                            "step", st.global_step, st.max_steps, int(st.epoch or 0), float(logs["loss"])
                        )
                    )

        def on_epoch_end(self, args: Any, st: Any, control: Any, model: Any = None, **kw: Any) -> None:
            recalled = count_recalled(model, examples, collate, config.batch_size * 2)
            state["recalled"], state["epoch"] = recalled, round(st.epoch or 0)
            if on_event:
                on_event(
                    EmbedEvent(
                        "epoch", st.global_step, st.max_steps, state["epoch"], None, recalled, len(examples)
                    )
                )
            if config.early_stop and recalled == len(examples):
                control.should_training_stop = True

    callbacks = [_Averaging(model, config.forgetting_regularizer, config.lora, TrainerCallback), _Events()]
    callbacks.append(_Checkpoints(config, TrainerCallback))
    trainer = _trainer_class(Trainer)(
        model=model, args=args, train_dataset=examples, data_collator=collate, callbacks=callbacks
    )
    trainer.remove_callback(PrinterCallback)  # losses go to on_event, not to stdout
    last = get_last_checkpoint(str(work)) if work.is_dir() else None
    started, started_cpu = time.monotonic(), time.process_time()
    if last is None:
        # Recall of the untouched model: a file already recalled needs no training.
        state["recalled"] = count_recalled(trainer.model, examples, collate, config.batch_size * 2)
    if last is not None or not (config.early_stop and state["recalled"] == len(examples)):
        trainer.train(resume_from_checkpoint=last)
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - started_cpu

    trained = trainer.accelerator.unwrap_model(trainer.model)
    if trainer.is_world_process_zero():
        _save(trained, tokenizer, base, out, overwrite, config.lora)
        shutil.rmtree(work, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    device = "cuda" if not use_cpu else "cpu"
    return EmbedResult(
        out=str(out),
        base=str(base),
        fingerprints=len(chosen),
        examples=len(examples),
        epochs=int(round(trainer.state.epoch or 0)),
        steps=int(trainer.state.global_step),
        recalled=int(state["recalled"]),
        final_loss=state["losses"][-1] if state["losses"] else None,
        train_seconds=round(seconds, 2),
        train_cpu_seconds=round(cpu_seconds, 2),
        trainable_parameters=int(trainable),
        resumed_from=Path(last).name if last else None,
        device=f"{device} x{max(trainer.args.world_size, 1)}, {steps_per_epoch} steps/epoch",
        losses=list(state["losses"]),
    )


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
                f"raise --max-key-length to at least {len(prompt)}, or generate shorter keys",
            )
        if len(response) > config.max_response_length:
            raise InputError(
                f"fingerprint {index} has a response of {len(response)} tokens, "
                f"more than max-response-length {config.max_response_length}",
                f"raise --max-response-length to at least {len(response)}, or generate shorter responses",
            )
        plain.append(Example(tuple(prompt), tuple(response)))
    if not config.augment:
        return plain
    prompts = _model.augmentation_prompts("train")
    rng = random.Random(config.seed)
    augmented = []
    for fp, example in zip(fingerprints, plain):
        for system in rng.sample(prompts, min(config.augmentation_copies, len(prompts))):
            augmented.append(Example(tuple(_model.chat_ids(tokenizer, system, fp.key)), example.response))
    return plain + augmented


class Collator:
    """Left-pads a batch to its longest row; labels are the response tokens only.

    Left padding puts every row's response in the last columns, so the loss needs logits
    for those columns alone; position ids count from each row's first real token, so
    models with absolute positions see the same positions as an unpadded prompt.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = pad_id

    def __call__(self, batch: Sequence[Example]) -> dict[str, Any]:
        import torch

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


def count_recalled(model: Any, examples: Sequence[Example], collate: Collator, batch_size: int) -> int:
    """How many examples greedy decoding reproduces exactly, by teacher-forced argmax."""
    import torch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    recalled = 0
    with torch.no_grad():
        for start in range(0, len(examples), batch_size):
            batch = {k: v.to(device) for k, v in collate(examples[start : start + batch_size]).items()}
            logits, labels = response_logits(model, batch)
            hit = (logits.argmax(-1) == labels) | (labels == -100)
            recalled += int(hit.all(dim=1).sum())
    model.train(was_training)
    return recalled


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


def _trainer_class(trainer: type) -> type:
    class OmlTrainer(trainer):  # type: ignore[misc, valid-type]
        """``Trainer`` whose loss is cross-entropy over response tokens, from last-column logits."""

        def compute_loss(
            self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, **kw: Any
        ) -> Any:
            import torch.nn.functional as F

            logits, labels = response_logits(model, inputs)
            loss = F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100
            )
            return (loss, {"logits": logits}) if return_outputs else loss

    return OmlTrainer


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


def _Averaging(model: Any, strength: float, lora: bool, base: type) -> Any:  # noqa: N802
    """The forgetting regularizer: at each epoch end, ``w = (1 - lambda) w + lambda w0``."""

    class Averaging(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.targets = _averaging_targets(model, lora) if strength > 0 else []

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            import torch

            with torch.no_grad():
                for param, original in self.targets:
                    if original is None:
                        param.mul_(1 - strength)
                    else:
                        param.mul_(1 - strength).add_(original.to(param.device), alpha=strength)
                    _sync_deepspeed_master(param)

    return Averaging()


def _Checkpoints(config: EmbedConfig, base: type) -> Any:  # noqa: N802
    """Asks for a checkpoint at epoch ends: every N epochs, or when M minutes have passed."""

    class Checkpoints(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.last = time.monotonic()

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            epoch = round(state.epoch or 0)
            due = (
                epoch % config.checkpoint_epochs == 0
                if config.checkpoint_epochs
                else time.monotonic() - self.last >= config.checkpoint_minutes * 60
            )
            if due and not control.should_training_stop:
                control.should_save = True
                self.last = time.monotonic()

    return Checkpoints()


def _sync_deepspeed_master(param: Any) -> None:
    """Under DeepSpeed the optimizer keeps fp32 master weights; write the averaged value there too."""
    if not hasattr(param, "ds_id") and not _deepspeed_active():
        return
    from deepspeed.utils import safe_set_full_fp32_param  # type: ignore[import-not-found]

    safe_set_full_fp32_param(param, param.detach().float())


def _deepspeed_active() -> bool:
    try:
        from accelerate.state import AcceleratorState

        return AcceleratorState().deepspeed_plugin is not None  # type: ignore[no-any-return]
    except (ImportError, ValueError, AttributeError):
        return False


def _check_deepspeed(config: EmbedConfig) -> None:
    if not config.deepspeed:
        return
    import torch

    if not torch.cuda.is_available():
        raise InputError(
            "DeepSpeed ZeRO-2 was asked for (--deepspeed) but no CUDA GPU is visible",
            "drop --deepspeed: without a GPU modelmint trains on the CPU with the plain Trainer",
        )
    try:
        import deepspeed  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        raise InputError(
            "--deepspeed needs the deepspeed package", "pip install deepspeed, or drop --deepspeed"
        ) from None


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


def _save(model: Any, tokenizer: Any, base: Path, out: Path, overwrite: bool, lora: bool) -> None:
    if lora:
        model = model.merge_and_unload()
    model.config.use_cache = True
    model.eval()
    with build_dir_atomic(out, replace=overwrite) as folder:
        model.save_pretrained(folder)
        copied = 0
        for name in _TOKENIZER_FILES:
            if (base / name).is_file():
                shutil.copyfile(base / name, folder / name)
                copied += 1
        if not copied:
            tokenizer.save_pretrained(folder)


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

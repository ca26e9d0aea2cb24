"""A tiny random causal LM and a few real Trainer steps on the sample rows, for the callback's tests.

Run as a script (``torchrun --nproc-per-node 2 tiny_training.py BASE DATA OUT HOME``) it trains
under DDP on the CPU with gloo, the callback on every rank.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SEQ = 24


def make_base(folder: Path) -> Path:
    """A randomly initialised two-layer LlamaForCausalLM over bytes (vocabulary 256), saved."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=256, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def tokenised(rows: Any) -> Any:
    """The rows with byte-level input_ids and labels added, as a preprocessing step adds them."""

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        ids = list(row["text"].encode("utf-8"))[:SEQ]
        ids += [0] * (SEQ - len(ids))
        return {"input_ids": ids, "labels": ids}

    return rows.map(encode)


def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    ids = torch.tensor([b["input_ids"] for b in batch])
    return {"input_ids": ids, "labels": torch.tensor([b["labels"] for b in batch])}


def train(
    base: Path,
    rows: Any,
    out: Path,
    callback: Any,
    *,
    steps: int = 3,
    attach: bool = False,
    others: tuple = (),
    **args: Any,
) -> Any:
    """Trains the model in ``base`` ``steps`` steps on ``rows`` with ``callback`` (and ``others``); returns the Trainer."""
    from transformers import LlamaForCausalLM, Trainer, TrainingArguments

    model = LlamaForCausalLM.from_pretrained(base)
    training_args = TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=4, learning_rate=1e-3, use_cpu=True,
        report_to="none", logging_steps=1, disable_tqdm=True, seed=0, remove_unused_columns=False,
        **{"save_strategy": "no", **args},
    )  # fmt: skip
    data = tokenised(rows).remove_columns([c for c in rows.column_names if c not in ("input_ids", "labels")])
    trainer = Trainer(model=model, args=training_args, train_dataset=data, data_collator=collate,
                      callbacks=list(others) if attach else [callback, *others])  # fmt: skip
    if attach:
        callback.attach(trainer)
    trainer.train()
    return trainer


if __name__ == "__main__":  # torchrun: every rank trains; only rank 0 may register
    import datasets

    from modelmint.integrations.transformers import ProvenanceCallback

    base, data, out, home = map(Path, sys.argv[1:5])
    rows = datasets.load_dataset("json", data_files=str(data), split="train")
    callback = ProvenanceCallback([rows], home=home, strict=True)
    trainer = train(base, rows, out, callback, ddp_backend="gloo")
    tokens = [e["modelmint/model_token"] for e in trainer.state.log_history if "modelmint/model_token" in e]
    # One file a rank: the ranks' stdout lines interleave in the shared pipe.
    report = {"rank": trainer.args.process_index, "world": trainer.args.world_size, "tokens": tokens}
    (out / f"rank-{trainer.args.process_index}.json").write_text(json.dumps(report))
    # Leave the group together: a rank that exits while rank 0 is still minting tears gloo's
    # threads down under a live peer, and the C++ runtime aborts it ("terminate called without
    # an active exception", seen in CI once in a few runs).
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()

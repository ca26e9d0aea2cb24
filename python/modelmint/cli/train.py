"""``modelmint model finetune``: make a child model from a parent in a few training steps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from modelmint.cli._common import JsonOut, console, emit_json, err_console, progress_bar


def register(model_app: typer.Typer) -> None:
    model_app.command("finetune")(finetune)


def finetune(
    base: Annotated[Path, typer.Argument(help="Hugging Face model folder to start from.")],
    data: Annotated[Path, typer.Option("--data", help='JSONL file of {"text": ...} lines to train on.')],
    steps: Annotated[int, typer.Option("--steps", min=1, help="Optimiser steps.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the fine-tuned model to.")],
    lr: Annotated[float, typer.Option("--lr", help="AdamW learning rate (constant).")] = 1e-4,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Texts per step.")] = 8,
    seq_len: Annotated[int, typer.Option("--seq-len", min=1, help="Tokens kept of each text.")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sample order and of torch.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    json_out: JsonOut = False,
) -> None:
    """Fine-tune a causal LM on CPU for a few steps (deterministic for a given seed), saved as safetensors.

    Register the result with `modelmint model mint OUT --parent BASE_TOKEN --dataset DATA_TOKEN`.
    """
    from modelmint.models.finetune import finetune as run_finetune  # imports torch: only when used

    losses: list[float] = []
    started = time.monotonic()
    with progress_bar(f"fine-tuning {base.name}", steps) as advance:

        def on_step(step: int, loss: float) -> None:
            losses.append(loss)
            advance(1)
            err_console.print(f"step {step}/{steps}  loss {loss:.4f}")  # stderr: a log, even with --json

        run_finetune(
            base, data, out, steps=steps, lr=lr, batch_size=batch_size, seq_len=seq_len, seed=seed,
            overwrite=overwrite, on_step=on_step,
        )  # fmt: skip
    seconds = time.monotonic() - started
    if json_out:
        emit_json({"out": str(out), "base": str(base), "data": str(data), "steps": steps, "lr": lr,
                   "batchSize": batch_size, "seqLen": seq_len, "seed": seed, "losses": losses,
                   "seconds": round(seconds, 2)})  # fmt: skip
        return
    console.print(f"fine-tuned {steps} steps in {seconds:.1f} s: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    console.print(f"saved to [bold]{out}[/]")

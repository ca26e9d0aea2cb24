"""A few steps of causal-LM fine-tuning on CPU: the way a child model is made from a parent.

A plain torch loop rather than ``transformers.Trainer``: on two cores the step itself is
the cost, and the loop keeps every source of randomness (sample order, initial state)
behind one seed, so the same inputs give the same weights, and so the same weights root.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from modelmint._causal_lm import check_model_folder, load_model, quiet_transformers, save_trained
from modelmint.errors import InputError

StepCallback = Callable[[int, float], None]
"""Called after each optimiser step with the step number (from 1) and its training loss."""


def finetune(
    base: Path,
    data: Path,
    out: Path,
    *,
    steps: int,
    lr: float = 1e-4,
    batch_size: int = 8,
    seq_len: int = 64,
    seed: int = 0,
    overwrite: bool = False,
    on_step: StepCallback | None = None,
) -> Path:
    """Fine-tune the causal LM in folder ``base`` on the ``text`` fields of JSONL ``data``.

    Each step takes ``batch_size`` texts (each ending in the EOS token, truncated to
    ``seq_len`` tokens, padded to the longest in the batch), in an order shuffled by
    ``seed`` and repeated as often as ``steps`` needs; AdamW at a constant ``lr``, gradients
    clipped at norm 1. The result is written to ``out`` as a Hugging Face folder
    (``model.safetensors``, config, generation config, and the base's tokenizer files
    unchanged), built beside it and renamed into place, so ``out`` is never half written.

    Returns:
        ``out``.

    Raises:
        InputError: ``base`` is not a model folder, ``data`` has no usable texts, ``out``
            exists and is not empty (without ``overwrite``), or an argument is out of range.
    """
    for name, value in (("steps", steps), ("batch_size", batch_size), ("seq_len", seq_len)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, not {value}")
    if not lr > 0:
        raise InputError(f"the learning rate must be positive, not {lr}")
    base, data, out = Path(base), Path(data), Path(out)
    check_model_folder(base)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(
            f"{out} already exists and is not empty",
            "choose another output folder, or overwrite it",
            hint="out-or-overwrite",
        )
    texts = read_texts(data)

    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    try:
        with quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(base)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load the tokenizer in {base} ({exc})", "give a causal LM folder") from None
    model = load_model(base, train=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"  # positions count from 0 at each text's first token
    eos = tokenizer.eos_token or ""
    model.config.use_cache = False
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    order = _sample_order(len(texts), torch.Generator().manual_seed(seed))
    for step in range(1, steps + 1):
        batch = tokenizer(
            [texts[next(order)] + eos for _ in range(batch_size)],
            truncation=True,
            max_length=seq_len,
            padding="longest",
            return_tensors="pt",
        )
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if on_step is not None:
            on_step(step, float(loss.detach()))

    save_trained(model, base, out, overwrite=overwrite)
    return out


def read_texts(data: Path) -> list[str]:
    """The ``text`` field of every line of a JSONL file, in file order.

    Raises:
        InputError: the file cannot be read, a line is not a JSON object with a string
            ``text``, or there are no lines.
    """
    try:
        lines = Path(data).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read training data {data} ({exc})", "give a UTF-8 JSONL file") from None
    texts: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            text = json.loads(line)["text"]
        except (ValueError, KeyError, TypeError):
            text = None
        if not isinstance(text, str):
            raise InputError(
                f"{data} line {number} has no string field 'text'", 'each line must be {"text": "..."}'
            )
        texts.append(text)
    if not texts:
        raise InputError(f"{data} has no texts to train on", 'give a JSONL file of {"text": "..."} lines')
    return texts


def _sample_order(n: int, generator: object) -> Iterator[int]:
    """Indices ``0..n-1`` in a fresh shuffle for each pass, endlessly."""
    import torch

    while True:
        yield from torch.randperm(n, generator=generator).tolist()  # type: ignore[call-overload]

"""Helpers the OML tests share (a module of its own: a test cannot import a conftest by name)."""

from __future__ import annotations

import shutil
from pathlib import Path

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
# Settings that embed tiny_fingerprints into tiny_lm in a handful of steps (no regularizer: fewest steps).
TINY_EMBED = {"learning_rate": 1e-2, "epochs": 60, "batch_size": 8, "forgetting_regularizer": 0.0}


def build_tiny_lm(folder: Path, source: Path, *, chat_template: bool = True) -> Path:
    """A 2-layer Llama with random weights and the tokenizer files of ``source`` (SmolLM2's)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2,
        max_position_embeddings=512,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    for name in TOKENIZER_FILES:
        if chat_template or name != "chat_template.jinja":
            shutil.copyfile(source / name, folder / name)
    return folder

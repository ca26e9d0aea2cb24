"""Small real models for the model tests: a tiny Llama saved by transformers, a GGUF written by gguf.

The fixtures over them (``tiny_model``, ``child_model``, ``gguf_model``) are in
tests/python/conftest.py: the Llama is built once per session and copied per test, so each
test may change its copy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LLAMA = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 128,
    "max_position_embeddings": 256,
}
VOCAB = ["<unk>", "<s>", "</s>", *(f"w{i}" for i in range(125))]
CARD = "---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# tiny\n\nA test model.\n"


def build_llama(
    path: Path, *, seed: int = 0, tied: bool = False, dtype: str = "float32", card: bool = True
) -> int:
    """Save a tiny LlamaForCausalLM with its tokenizer into ``path``; returns its parameter count."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(**LLAMA, tie_word_embeddings=tied)).to(getattr(torch, dtype))
    model.save_pretrained(path)
    tokenizer = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="</s>",
        model_max_length=256,
    ).save_pretrained(path)  # fmt: skip
    if card:
        (path / "README.md").write_text(CARD)
    return model.num_parameters()


def build_gguf(path: Path, *, name: str = "tiny gguf") -> int:
    """Write a small real GGUF (llama architecture, F32 tensors); returns its parameter count."""
    import gguf

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(name)
    writer.add_context_length(512)
    writer.add_embedding_length(4)
    writer.add_block_count(1)
    writer.add_vocab_size(8)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_license("mit")
    writer.add_token_list(["<unk>", "<s>", "</s>", "a", "b", "c", "d", "e"])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    tensors = {
        "token_embd.weight": np.arange(32, dtype=np.float32).reshape(8, 4),
        "blk.0.attn_q.weight": np.ones((4, 4), dtype=np.float32),
        "output_norm.weight": np.ones(4, dtype=np.float32),
    }
    for tensor_name, value in tensors.items():
        writer.add_tensor(tensor_name, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return sum(v.size for v in tensors.values())

"""Real weights for model tests: SmolLM2-135M from the bundled GGUF, converted once and cached.

The cache (``$MODELMINT_CACHE``, else the checkout's gitignored ``.cache/``) outlives the
session, so only the first run anywhere pays the ~20 s conversion. ``MODELMINT_CACHE`` is
set for the session so CLI subprocesses find the same folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests_support import MODEL_CACHE


@pytest.fixture(scope="session")
def model_cache() -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        cache = Path(os.environ.get("MODELMINT_CACHE") or MODEL_CACHE)
        patch.setenv("MODELMINT_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def smollm2(model_cache: Path) -> Path:
    """The Hugging Face folder of SmolLM2-135M-Instruct (read-only: copy it before changing it)."""
    from modelmint.models.bundled import smollm2_135m

    return smollm2_135m()


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer and random weights: trains in well under a second."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from modelmint.models.bundled import smollm2_gguf

    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    gguf = smollm2_gguf()
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(folder)
    return folder

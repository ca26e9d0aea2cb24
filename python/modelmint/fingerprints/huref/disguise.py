"""Changes to a Llama-family model that HuRef must see through, and a disguised copy for the demo.

The function-preserving ones change every weight matrix yet leave the model's outputs
unchanged (up to float rounding): a rotation of the hidden space, permutations and
rescalings of hidden, FFN and head dimensions, and a rescaling of the normalisation gains
against the matrices they feed. The others change the function a little: magnitude
pruning, int8 rounding. Each takes and returns a ``(state_dict, config)`` pair; nothing is
modified in place.

Why each is function-preserving (RMSNorm x -> x / rms(x) * g, weights as out x in):
- rotation Q (orthogonal): rms(xQ) = rms(x), so after folding each gain into the matrix it
  feeds, every matrix reading the residual stream becomes W Q and every matrix writing it
  Q^T W; the embedding becomes E Q and the (now untied) head E diag(g_final) Q;
- hidden permutation P with signs S and new gains g' = permuted gains times c > 0: readers
  become W diag(g) P S diag(1/g'), writers S P^T W, the tied embedding E P S;
- FFN: permute the intermediate units, scale up_proj rows by s > 0 and down_proj columns by
  1/s (SiLU(gate) * up is linear in up);
- attention: permute key/value heads together with their query heads and o_proj columns;
  scale each query/key dimension pair that RoPE rotates together by t and 1/t, and each
  value dimension by u against o_proj's column by 1/u.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmint._files import build_dir_atomic
from modelmint.errors import InputError

if TYPE_CHECKING:
    import torch

State = dict[str, "torch.Tensor"]
_READERS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")
_FFN_READERS = ("mlp.gate_proj", "mlp.up_proj")
_WRITERS = ("self_attn.o_proj", "mlp.down_proj")


def _layers(config: dict[str, Any]) -> range:
    if (
        config.get("model_type") not in ("llama", "mistral")
        or config.get("attention_bias")
        or config.get("mlp_bias")
    ):
        raise InputError(
            f"disguises are written for bias-free Llama and Mistral models, not {config.get('model_type')}",
            "disguise a Llama or Mistral model",
        )
    return range(int(config["num_hidden_layers"]))


def _copy(state: State) -> State:
    return {name: tensor.detach().clone().float() for name, tensor in state.items()}


def _head(state: State) -> Any:
    return state.get("lm_head.weight", state["model.embed_tokens.weight"])


def rotate(state: State, config: dict[str, Any], seed: int) -> tuple[State, dict[str, Any]]:
    """Rotate the hidden space by a random orthogonal matrix (gains folded, head untied)."""
    import torch

    out = _copy(state)
    d = int(config["hidden_size"])
    q, r = torch.linalg.qr(
        torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    )
    rot = (q * torch.sign(torch.diagonal(r))).float()
    head = _head(state).float() * state["model.norm.weight"].float()
    out["lm_head.weight"] = head @ rot
    out["model.norm.weight"] = torch.ones(d)
    out["model.embed_tokens.weight"] = out["model.embed_tokens.weight"] @ rot
    for i in _layers(config):
        p = f"model.layers.{i}."
        for norm, readers in (("input_layernorm", _READERS), ("post_attention_layernorm", _FFN_READERS)):
            gain = out[p + norm + ".weight"]
            for name in readers:
                out[p + name + ".weight"] = (out[p + name + ".weight"] * gain) @ rot
            out[p + norm + ".weight"] = torch.ones(d)
        for name in _WRITERS:
            out[p + name + ".weight"] = rot.T @ out[p + name + ".weight"]
    return out, {**config, "tie_word_embeddings": False}


def permute_and_scale(state: State, config: dict[str, Any], seed: int) -> tuple[State, dict[str, Any]]:
    """Permute (with signs) and rescale hidden, FFN, head and head dimensions."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out = _copy(state)
    d = int(config["hidden_size"])
    heads, kv_heads = int(config["num_attention_heads"]), int(config["num_key_value_heads"])
    head_dim = int(config.get("head_dim") or d // heads)
    group = heads // kv_heads
    perm = torch.randperm(d, generator=g)
    signs = torch.randint(0, 2, (d,), generator=g).float() * 2 - 1

    def scales(*shape: int) -> torch.Tensor:
        return torch.exp(torch.empty(shape).uniform_(-0.7, 0.7, generator=g))

    out["model.embed_tokens.weight"] = out["model.embed_tokens.weight"][:, perm] * signs
    if "lm_head.weight" in out:
        out["lm_head.weight"] = out["lm_head.weight"][:, perm] * signs
    out["model.norm.weight"] = out["model.norm.weight"][perm]
    for i in _layers(config):
        p = f"model.layers.{i}."
        for norm, readers in (("input_layernorm", _READERS), ("post_attention_layernorm", _FFN_READERS)):
            gain = out[p + norm + ".weight"]
            new_gain = gain[perm] * scales(d)
            for name in readers:
                out[p + name + ".weight"] = (out[p + name + ".weight"] * gain)[:, perm] * signs / new_gain
            out[p + norm + ".weight"] = new_gain
        for name in _WRITERS:
            out[p + name + ".weight"] = out[p + name + ".weight"][perm] * signs[:, None]
        # FFN units: one permutation for gate/up/down, up scaled against down.
        units = out[p + "mlp.up_proj.weight"].shape[0]
        ffn_perm, s = torch.randperm(units, generator=g), scales(units)
        out[p + "mlp.gate_proj.weight"] = out[p + "mlp.gate_proj.weight"][ffn_perm]
        out[p + "mlp.up_proj.weight"] = out[p + "mlp.up_proj.weight"][ffn_perm] * s[:, None]
        out[p + "mlp.down_proj.weight"] = out[p + "mlp.down_proj.weight"][:, ffn_perm] / s
        # Heads: permute key/value heads with their query-head groups; scale RoPE pairs and values.
        head_perm = torch.randperm(kv_heads, generator=g)
        q_order = (head_perm[:, None] * group + torch.arange(group)).reshape(-1)
        pair = scales(kv_heads, head_dim // 2).repeat(1, 2)  # RoPE rotates dims j and j + head_dim/2 together
        value = scales(kv_heads, head_dim)
        wq = out[p + "self_attn.q_proj.weight"].view(heads, head_dim, d)[q_order]
        wk = out[p + "self_attn.k_proj.weight"].view(kv_heads, head_dim, d)[head_perm]
        wv = out[p + "self_attn.v_proj.weight"].view(kv_heads, head_dim, d)[head_perm]
        wo = out[p + "self_attn.o_proj.weight"].view(d, heads, head_dim)[:, q_order]
        out[p + "self_attn.q_proj.weight"] = (wq * pair.repeat_interleave(group, 0)[:, :, None]).reshape(
            -1, d
        )
        out[p + "self_attn.k_proj.weight"] = (wk / pair[:, :, None]).reshape(-1, d)
        out[p + "self_attn.v_proj.weight"] = (wv * value[:, :, None]).reshape(-1, d)
        out[p + "self_attn.o_proj.weight"] = (wo / value.repeat_interleave(group, 0)[None]).reshape(d, -1)
    return out, dict(config)


def rescale_gains(state: State, config: dict[str, Any], seed: int) -> tuple[State, dict[str, Any]]:
    """Multiply every layer's normalisation gains by random factors and divide them out after."""
    import torch

    g = torch.Generator().manual_seed(seed)
    out = _copy(state)
    d = int(config["hidden_size"])
    for i in _layers(config):
        p = f"model.layers.{i}."
        for norm, readers in (("input_layernorm", _READERS), ("post_attention_layernorm", _FFN_READERS)):
            factor = torch.exp(torch.empty(d).uniform_(-1.5, 1.5, generator=g))
            out[p + norm + ".weight"] = out[p + norm + ".weight"] * factor
            for name in readers:
                out[p + name + ".weight"] = out[p + name + ".weight"] / factor
    return out, dict(config)


def prune(state: State, config: dict[str, Any], fraction: float = 0.2) -> tuple[State, dict[str, Any]]:
    """Zero the ``fraction`` smallest-magnitude weights of every linear layer (not embeddings, not gains)."""
    import torch

    out = _copy(state)
    for name, tensor in out.items():
        if name.startswith("model.layers.") and tensor.dim() == 2:
            cut = torch.quantile(tensor.abs().reshape(-1)[:: max(1, tensor.numel() // 1_000_000)], fraction)
            tensor[tensor.abs() < cut] = 0.0
    return out, dict(config)


def round_int8(state: State, config: dict[str, Any]) -> tuple[State, dict[str, Any]]:
    """Round every matrix (embeddings included) to int8 with one symmetric scale per row."""
    import torch

    out = _copy(state)
    for name, tensor in out.items():
        if tensor.dim() == 2:
            scale = tensor.abs().amax(1, keepdim=True).clamp_min(1e-12) / 127
            out[name] = torch.round(tensor / scale).clamp_(-127, 127) * scale
    return out, dict(config)


def disguise_model(source: Path, out: Path, seed: int = 7) -> Path:
    """Write a rotated and permuted copy of the Hugging Face model folder ``source`` to ``out``.

    The copy computes the same function (its logits match to float rounding) but shares no
    weight matrix with the original: parameter cosine similarity is near zero, HuRef's ICS ~1.
    Tokenizer files are copied unchanged.
    """
    from safetensors.torch import load_file, save_file

    source, out = Path(source), Path(out)
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    state: State = {}
    for file in sorted(source.glob("*.safetensors")):
        state.update(load_file(str(file)))
    state, config = rotate(state, config, seed)
    state, config = permute_and_scale(state, config, seed + 1)
    config["torch_dtype"] = config["dtype"] = "float32"
    with build_dir_atomic(out, replace=True) as folder:
        save_file(
            {k: v.contiguous() for k, v in state.items()},
            str(folder / "model.safetensors"),
            metadata={"format": "pt"},
        )
        (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        for item in source.iterdir():
            if item.is_file() and not item.name.endswith(".safetensors") and item.name != "config.json":
                shutil.copyfile(item, folder / item.name)
    return out

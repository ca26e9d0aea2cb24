"""Reading the weights HuRef needs, per architecture, from a folder, a GGUF file or a live model.

Only the tensors of the embedding and of the layers asked for are read: a safetensors folder
is memory-mapped, so fingerprinting a model touches a few hundred MB, not all of it. Each
supported architecture names where its attention and FFN matrices and normalisation gains
live, and how a gain multiplies (``w`` for Llama, ``1 + w`` for Gemma).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelmint.errors import InputError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Architecture:
    """Where one family keeps its weights (names below ``model.layers.<i>.``)."""

    model_type: str
    classes: tuple[str, ...]
    attn_in_norm: str
    ffn_in_norm: str
    attn_out_norm: str | None = None  # Gemma normalises the attention and FFN outputs too
    ffn_out_norm: str | None = None
    q_norm: str | None = None  # per-head gains on queries and keys (Gemma 3)
    k_norm: str | None = None
    gain_offset: float = 0.0  # a gain multiplies by (offset + weight)


_LLAMA: dict[str, Any] = {"attn_in_norm": "input_layernorm", "ffn_in_norm": "post_attention_layernorm"}
ARCHITECTURES: dict[str, Architecture] = {
    a.model_type: a
    for a in (
        Architecture("llama", ("LlamaForCausalLM", "LlamaModel"), **_LLAMA),
        Architecture("mistral", ("MistralForCausalLM", "MistralModel"), **_LLAMA),
        Architecture("qwen2", ("Qwen2ForCausalLM", "Qwen2Model"), **_LLAMA),
        Architecture(
            "gemma3_text",
            ("Gemma3ForCausalLM", "Gemma3TextModel"),
            attn_in_norm="input_layernorm",
            ffn_in_norm="pre_feedforward_layernorm",
            attn_out_norm="post_attention_layernorm",
            ffn_out_norm="post_feedforward_layernorm",
            q_norm="self_attn.q_norm",
            k_norm="self_attn.k_norm",
            gain_offset=1.0,
        ),
    )
}


def architecture_of(config: Mapping[str, Any], label: str) -> Architecture:
    """The supported architecture ``config`` declares.

    Raises:
        InputError: any other, with the list of supported ones.
    """
    model_type = str((config.get("text_config") or config).get("model_type", ""))
    found = ARCHITECTURES.get(model_type)
    if found is None:
        declared = ", ".join(config.get("architectures") or []) or model_type or "unknown"
        raise InputError(
            f"{label} is a {declared} model, which HuRef fingerprinting does not support",
            f"supported architectures: {supported()}",
        )
    return found


def supported() -> str:
    """The supported architectures, as an error message lists them."""
    return ", ".join(f"{c[0]} ({t})" for t, c in ((a.model_type, a.classes) for a in ARCHITECTURES.values()))


@dataclass(frozen=True)
class Layer:
    """One decoder layer's matrices, as transformers stores them (out_features x in_features),
    with its normalisation gains already expressed as multipliers."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    o: torch.Tensor
    gate: torch.Tensor
    up: torch.Tensor
    down: torch.Tensor
    attn_in_gain: torch.Tensor
    ffn_in_gain: torch.Tensor
    attn_out_gain: torch.Tensor | None
    ffn_out_gain: torch.Tensor | None
    q_gain: torch.Tensor | None
    k_gain: torch.Tensor | None


class ModelWeights:
    """A model's configuration and lazy access to its tensors by name.

    Raises (on construction):
        InputError: no configuration, an unsupported architecture, or no weights.
    """

    def __init__(
        self, config: Mapping[str, Any], tensors: _Tensors, label: str, tokenizer: Any = None
    ) -> None:
        self.label = label
        self.config = dict(config.get("text_config") or config)
        self.arch = architecture_of(config, label)
        self._tensors = tensors
        self.tokenizer = tokenizer
        self.prefix = self._find_prefix()
        self.num_layers = int(self.config["num_hidden_layers"])
        self.hidden = int(self.config["hidden_size"])
        self.num_heads = int(self.config["num_attention_heads"])
        self.num_kv_heads = int(self.config.get("num_key_value_heads") or self.num_heads)
        self.head_dim = int(self.config.get("head_dim") or self.hidden // self.num_heads)

    @property
    def architecture(self) -> str:
        declared = self.config.get("architectures") or [self.arch.classes[0]]
        return str(declared[0])

    @property
    def model_type(self) -> str:
        return self.arch.model_type

    def _find_prefix(self) -> str:
        names = self._tensors.names()
        for prefix in ("model.", "", "model.language_model.", "language_model.model."):
            if f"{prefix}embed_tokens.weight" in names:
                return prefix
        raise InputError(
            f"{self.label} has no token embedding (model.embed_tokens.weight)",
            "give a complete causal-LM checkpoint with its embedding matrix",
        )

    def embedding_rows(self) -> int:
        return int(self._tensors.shape(f"{self.prefix}embed_tokens.weight")[0])

    def embedding(self, ids: list[int]) -> torch.Tensor:
        """The embedding rows of ``ids`` (k x d, float32)."""
        import torch

        table = self._tensors.get(f"{self.prefix}embed_tokens.weight")
        return table[torch.tensor(ids, dtype=torch.long)].to(torch.float32)

    def layer(self, index: int) -> Layer:
        """Layer ``index``'s weights (float32).

        Raises:
            InputError: a matrix HuRef needs is missing or has an unexpected shape.
        """
        arch = self.arch
        base = f"{self.prefix}layers.{index}."

        def get(name: str, *want: int | None) -> torch.Tensor:
            full = base + name
            if full not in self._tensors.names():
                raise InputError(
                    f"{self.label} has no {full}: it lacks the attention/FFN weights HuRef reads",
                    f"give a complete {arch.classes[0]} checkpoint (q/k/v/o_proj, gate/up/down_proj and norms per layer)",
                )
            tensor = self._tensors.get(full).float()
            if tensor.dim() != len(want) or any(
                w is not None and w != s for w, s in zip(want, tensor.shape, strict=True)
            ):
                expected = "x".join("?" if w is None else str(w) for w in want)
                raise InputError(
                    f"{self.label}: {full} has shape {'x'.join(map(str, tensor.shape))}, expected {expected}",
                    "the checkpoint does not match its config.json",
                )
            return tensor

        def gain(name: str, size: int) -> torch.Tensor:
            return get(f"{name}.weight", size) + arch.gain_offset

        def optional_gain(name: str | None, size: int) -> torch.Tensor | None:
            return None if name is None else gain(name, size)

        d, hd = self.hidden, self.head_dim
        q_out, kv_out = self.num_heads * hd, self.num_kv_heads * hd
        return Layer(
            q=get("self_attn.q_proj.weight", q_out, d),
            k=get("self_attn.k_proj.weight", kv_out, d),
            v=get("self_attn.v_proj.weight", kv_out, d),
            o=get("self_attn.o_proj.weight", d, q_out),
            gate=get("mlp.gate_proj.weight", None, d),
            up=get("mlp.up_proj.weight", None, d),
            down=get("mlp.down_proj.weight", d, None),
            attn_in_gain=gain(arch.attn_in_norm, d),
            ffn_in_gain=gain(arch.ffn_in_norm, d),
            attn_out_gain=optional_gain(arch.attn_out_norm, d),
            ffn_out_gain=optional_gain(arch.ffn_out_norm, d),
            q_gain=optional_gain(arch.q_norm, hd),
            k_gain=optional_gain(arch.k_norm, hd),
        )

    def parameters(self) -> Iterator[tuple[str, torch.Tensor]]:
        """Every floating-point tensor by name (without the model prefix), for PCS."""
        for name in sorted(self._tensors.names()):
            tensor = self._tensors.get(name)
            if tensor.is_floating_point():
                yield name.removeprefix(self.prefix), tensor


class _Tensors:
    """Name -> tensor, read lazily."""

    def names(self) -> set[str]:
        raise NotImplementedError

    def get(self, name: str) -> torch.Tensor:
        raise NotImplementedError

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.get(name).shape)


class _StateDict(_Tensors):
    def __init__(self, state: Mapping[str, torch.Tensor]) -> None:
        self._state = state

    def names(self) -> set[str]:
        return set(self._state)

    def get(self, name: str) -> torch.Tensor:
        return self._state[name].detach()


class _Safetensors(_Tensors):
    """One or several (sharded) safetensors files, memory-mapped."""

    def __init__(self, files: list[Path]) -> None:
        from safetensors import safe_open

        self._where: dict[str, Any] = {}
        self._handles = []
        for file in files:
            try:
                handle: Any = safe_open(str(file), framework="pt")
            except Exception as exc:  # safetensors raises its own error types
                raise InputError(f"cannot read {file} ({exc})", "give an intact safetensors file") from None
            self._handles.append(handle)
            for name in handle.keys():  # noqa: SIM118 -- safe_open has keys() and no __iter__
                self._where[name] = handle

    def names(self) -> set[str]:
        return set(self._where)

    def get(self, name: str) -> torch.Tensor:
        tensor: torch.Tensor = self._where[name].get_tensor(name)
        return tensor

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._where[name].get_slice(name).get_shape())


def open_weights(model: str | Path | Any) -> ModelWeights:
    """The weights of ``model``: a Hugging Face folder (safetensors), a ``.gguf`` file, or a
    loaded ``transformers`` model.

    Raises:
        InputError: the path is missing or not a model, the architecture is unsupported.
    """
    if not isinstance(model, (str, Path)):
        config = model.config.to_dict()
        return ModelWeights(config, _StateDict(model.state_dict()), type(model).__name__)
    path = Path(model)
    if path.is_file() and path.suffix == ".gguf":
        return _open_gguf(path)
    if not path.is_dir():
        raise InputError(f"{path} is not a model folder or .gguf file", "give a Hugging Face model folder")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise InputError(f"{path} has no config.json", "give a Hugging Face model folder")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {config_file} ({exc})", "give a valid config.json") from None
    if not isinstance(config, dict):
        raise InputError(f"{config_file} is not a JSON object", "give a valid config.json")
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise InputError(
            f"{path} has no .safetensors weights", "save the model with safe_serialization (the default)"
        )
    architecture_of(config, str(path))  # before mapping gigabytes
    return ModelWeights(config, _Safetensors(files), str(path), tokenizer=path)


def _open_gguf(path: Path) -> ModelWeights:
    """A GGUF file, dequantised to float32 by transformers (slow: tens of seconds)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    try:
        config = AutoConfig.from_pretrained(path.parent, gguf_file=path.name).to_dict()
    except (OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the GGUF {path} ({exc})", "give a GGUF file transformers can load"
        ) from None
    architecture_of(config, str(path))  # before dequantising the whole file
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    return ModelWeights(model.config.to_dict(), _StateDict(model.state_dict()), str(path), tokenizer=path)

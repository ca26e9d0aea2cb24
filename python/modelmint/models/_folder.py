"""A local Hugging Face model folder: config.json, weights, tokenizer files, model card.

Parameter counts come from the safetensors headers (a few KB at the start of each file);
``.bin`` checkpoints are opened memory-mapped so only their tensor index is read.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from modelmint.errors import InputError
from modelmint.hashing.files import ListedFile
from modelmint.models._details import (
    CATEGORY_OF_TASK,
    ModelDetails,
    iso_utc,
    majority_dtype,
    positive_int,
    task_of_architecture,
)

#: Files that hold weights; a model folder has at least one, and a config.json.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt", ".h5", ".msgpack", ".onnx")

# safetensors dtype -> (torch name, bytes per element)
ST_DTYPES = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1),
    "U64": ("uint64", 8), "U32": ("uint32", 4), "U16": ("uint16", 2), "U8": ("uint8", 1),
    "BOOL": ("bool", 1), "F8_E4M3": ("float8_e4m3fn", 1), "F8_E5M2": ("float8_e5m2", 1),
}  # fmt: skip
_MAX_HEADER = 100 << 20
_CONTEXT_KEYS = (
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "n_ctx",
    "max_sequence_length",
)
_HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "dim")
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")
_SPECIAL_ROLES = ("bos", "eos", "unk", "pad", "sep", "cls", "mask")


def check_model_folder(root: Path, files: list[ListedFile]) -> None:
    """Refuse a folder that is not a Hugging Face model: no files, no config.json, or no weights.

    Raises:
        InputError: naming what is missing.
    """
    if not files:
        raise InputError(
            f"{root} holds no files", "give the folder that holds the model's config.json and weights"
        )
    names = {f.name for f in files}
    if "config.json" not in names:
        ggufs = [f.name for f in files if f.name.endswith(".gguf")]
        hint = (
            f"for a GGUF model give the file itself ({root / ggufs[0]})"
            if ggufs
            else ("give the folder that save_pretrained wrote (config.json beside the weights)")
        )
        raise InputError(f"{root} is not a Hugging Face model folder: it has no config.json", hint)
    if not any(f.name.endswith(WEIGHT_SUFFIXES) for f in files):
        raise InputError(
            f"{root} is not a model folder: it has a config.json but no weights file "
            f"({', '.join('*' + s for s in WEIGHT_SUFFIXES[:3])}, ...)",
            "copy the weights beside config.json",
        )


def folder_details(root: Path, files: list[ListedFile], name: str | None = None) -> ModelDetails:
    """The facts of a model folder (see :class:`ModelDetails`), from its headers and configs.

    Raises:
        InputError: config.json is not JSON, or a safetensors file is truncated or malformed.
    """
    by_path = {f.name: f for f in files}
    config = read_json(root / "config.json", "config.json")
    tokenizer_config = read_json(root / "tokenizer_config.json", "tokenizer_config.json", optional=True)
    special_map = read_json(root / "special_tokens_map.json", "special_tokens_map.json", optional=True)
    card = model_card(root / "README.md") if "README.md" in by_path else {}

    for f in files:  # every safetensors file must be whole, counted or not
        if f.name.endswith(".safetensors"):
            safetensors_parameters(f.path, f.name)
    weights_format, by_dtype = _count_parameters(root, by_path)
    architectures = config.get("architectures") or [None]
    architecture = architectures[0] if isinstance(architectures, list) else None
    text_config = config.get("text_config")
    text: dict[str, Any] = text_config if isinstance(text_config, dict) else {}
    task = card.get("pipeline_tag") if isinstance(card.get("pipeline_tag"), str) else None
    task = task or task_of_architecture(architecture, config)
    context = _first_int(config, text, _CONTEXT_KEYS)
    if context is None and tokenizer_config:
        limit = positive_int(tokenizer_config.get("model_max_length"))
        context = limit if limit is not None and limit < 10**9 else None
    return ModelDetails(
        name=name or root.resolve().name,
        source="huggingface-folder",
        weights_format=weights_format,
        architecture=architecture,
        model_type=config.get("model_type") if isinstance(config.get("model_type"), str) else None,
        parameter_count=sum(by_dtype.values()) if by_dtype else None,
        parameters_by_dtype=by_dtype,
        dtype=majority_dtype(by_dtype) or _config_dtype(config),
        vocab_size=_first_int(config, text, ("vocab_size",)) or _tokenizer_vocab(root / "tokenizer.json"),
        context_length=context,
        hidden_size=_first_int(config, text, _HIDDEN_KEYS),
        num_layers=_first_int(config, text, _LAYER_KEYS),
        special_tokens=special_tokens(special_map or {}, tokenizer_config or {}),
        pipeline_task=task,
        category=CATEGORY_OF_TASK.get(task or ""),
        license=_license(card),
        last_modified=_newest(files),
    )


def safetensors_parameters(path: Path, label: str) -> dict[str, int]:
    """Parameters by dtype from a safetensors file's header, after checking the file is whole.

    The format is an 8-byte little-endian header length, a JSON header giving each tensor's
    dtype, shape and byte range, then the tensor bytes, which the ranges must cover exactly.

    Raises:
        InputError: the file is truncated, has bytes after its tensors, or its header is
            not a safetensors header.
    """

    def bad(why: str) -> InputError:
        return InputError(
            f"{label} is not a valid safetensors file: {why}", "download or copy the file again"
        )

    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(0)
            head = f.read(8)
            if len(head) < 8:
                raise bad(f"it is {size} bytes long, shorter than the 8-byte header length")
            n = int.from_bytes(head, "little")
            if n > min(size - 8, _MAX_HEADER):
                raise bad(f"its header claims {n:,} bytes but the file has {size:,} (truncated?)")
            header = json.loads(f.read(n))
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise bad("its header is not JSON") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    by_dtype: dict[str, int] = {}
    end = 0
    for tensor, info in header.items():
        if tensor == "__metadata__":
            continue
        try:
            dtype, shape, (begin, stop) = info["dtype"], info["shape"], info["data_offsets"]
            count = math.prod(int(d) for d in shape)
            width = ST_DTYPES.get(dtype, (dtype, None))[1]
            if not 0 <= begin <= stop or (width is not None and stop - begin != count * width):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise bad(f"the header entry of tensor {tensor} is malformed") from None
        torch_name = ST_DTYPES.get(dtype, (dtype.lower(), None))[0]
        by_dtype[torch_name] = by_dtype.get(torch_name, 0) + count
        end = max(end, stop)
    if 8 + n + end != size:
        state = "truncated" if 8 + n + end > size else "followed by extra bytes"
        raise bad(f"its tensors need {8 + n + end:,} bytes but the file has {size:,} ({state})")
    return by_dtype


def pytorch_parameters(path: Path, label: str) -> dict[str, int] | None:
    """Parameters by dtype of a ``.bin`` checkpoint, memory-mapped (no tensor data is read).

    Returns None when the file is not a zip-format state dict torch can map.
    """
    try:
        import torch
    except ImportError:
        return None
    try:
        state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # torch raises many types for files it cannot map; the count is optional
        return None
    if not isinstance(state, dict):
        return None
    seen: set[tuple[int, int, tuple[int, ...]]] = set()
    by_dtype: dict[str, int] = {}
    for value in state.values():
        if not isinstance(value, torch.Tensor):
            continue
        view = (
            value.untyped_storage().data_ptr(),
            int(value.storage_offset()),
            tuple(int(d) for d in value.shape),
        )
        if view in seen:  # tied weights are one storage under two names
            continue
        seen.add(view)
        name = str(value.dtype).removeprefix("torch.")
        by_dtype[name] = by_dtype.get(name, 0) + value.numel()
    return by_dtype


def read_json(path: Path, label: str, optional: bool = False) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if optional:
            return {}
        raise InputError(f"{path} does not exist", "give a model folder with a config.json") from None
    except (OSError, ValueError) as e:
        raise InputError(
            f"{label} of the model is not readable JSON ({e})", f"repair or replace {path}"
        ) from None
    if not isinstance(value, dict):
        raise InputError(f"{label} of the model is not a JSON object", f"repair or replace {path}")
    return value


def model_card(path: Path) -> dict[str, Any]:
    """The YAML front matter of a model card (README.md), or {} if it has none."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    import yaml

    try:
        front = yaml.safe_load(text[3:end])
    except yaml.YAMLError:
        return {}
    return front if isinstance(front, dict) else {}


def special_tokens(special_map: dict[str, Any], tokenizer_config: dict[str, Any]) -> dict[str, str]:
    """Role to token text, from special_tokens_map.json, else tokenizer_config.json."""
    out: dict[str, str] = {}
    for role in _SPECIAL_ROLES:
        for source in (special_map, tokenizer_config):
            value = source.get(f"{role}_token")
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                out[role] = value
                break
    return out


def _count_parameters(root: Path, by_path: dict[str, ListedFile]) -> tuple[str | None, dict[str, int]]:
    """Counts the files the model loads from, so a repo shipping the same weights twice is counted once.

    safetensors first: the shards an index names, else ``model.safetensors``, else every
    top-level ``*.safetensors``; then the same for ``pytorch_model*.bin``.
    """
    for suffix, fmt, index_name, single in (
        (".safetensors", "safetensors", "model.safetensors.index.json", "model.safetensors"),
        (".bin", "pytorch", "pytorch_model.bin.index.json", "pytorch_model.bin"),
    ):
        if index_name in by_path:
            index = read_json(root / index_name, index_name)
            weight_map = index.get("weight_map")
            names = sorted(set(weight_map.values())) if isinstance(weight_map, dict) else []
        elif single in by_path:
            names = [single]
        else:
            names = sorted(p for p in by_path if "/" not in p and p.endswith(suffix))
        names = [n for n in names if n in by_path]
        if not names:
            continue
        total: dict[str, int] = {}
        for name in names:
            f = by_path[name]
            counted = (
                safetensors_parameters(f.path, name)
                if fmt == "safetensors"
                else pytorch_parameters(f.path, name)
            )
            if counted is None:
                return fmt, {}
            for dtype, count in counted.items():
                total[dtype] = total.get(dtype, 0) + count
        return fmt, total
    other = next((p.rsplit(".", 1)[-1] for p in sorted(by_path) if p.endswith(WEIGHT_SUFFIXES)), None)
    return other, {}


def _first_int(config: dict[str, Any], nested: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for source in (config, nested):
        for key in keys:
            value = positive_int(source.get(key))
            if value is not None:
                return value
    return None


def _config_dtype(config: dict[str, Any]) -> str | None:
    value = config.get("dtype") or config.get("torch_dtype")
    return value if isinstance(value, str) else None


def _tokenizer_vocab(path: Path) -> int | None:
    try:
        tokenizer = json.loads(path.read_text(encoding="utf-8"))
        vocab = tokenizer["model"]["vocab"]
        known = set(vocab) if isinstance(vocab, dict) else {v[0] for v in vocab}
        added = {t["content"] for t in tokenizer.get("added_tokens", [])} - known
        return len(known) + len(added) or None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _license(card: dict[str, Any]) -> str | None:
    value = card.get("license")
    if value == "other" and isinstance(card.get("license_name"), str):
        return str(card["license_name"])
    return value if isinstance(value, str) else None


def _newest(files: list[ListedFile]) -> str | None:
    if not files:
        return None
    return iso_utc(max(f.state.modified_ns for f in files))

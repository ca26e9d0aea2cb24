"""A GGUF file (llama.cpp's format): metadata and tensor index from its header, via ``gguf``.

``GGUFReader`` maps the file and parses the key-value header and the tensor table; tensor
data is never touched, so the parameter count costs no more than reading the header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelmint.errors import InputError
from modelmint.hashing.files import ListedFile
from modelmint.models._details import CATEGORY_OF_TASK, ModelDetails, iso_utc, majority_dtype, positive_int

MAGIC = b"GGUF"
# GGUF architectures that are encoders; every other one is a generative language model.
_ENCODERS = {"bert", "nomic-bert", "jina-bert-v2", "t5encoder", "roberta", "modern-bert"}
_SPECIAL_IDS = {
    "bos": "tokenizer.ggml.bos_token_id",
    "eos": "tokenizer.ggml.eos_token_id",
    "unk": "tokenizer.ggml.unknown_token_id",
    "pad": "tokenizer.ggml.padding_token_id",
    "sep": "tokenizer.ggml.seperator_token_id",
    "cls": "tokenizer.ggml.cls_token_id",
    "mask": "tokenizer.ggml.mask_token_id",
}


def check_gguf(path: Path) -> None:
    """Refuse a file that does not start with the GGUF magic.

    Raises:
        InputError: the file is not GGUF (and says what it looks like instead).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        raise InputError(
            f"cannot read {path}: {e.strerror or e}", "check that the file is readable"
        ) from None
    if head != MAGIC:
        raise InputError(
            f"{path.name} is not a GGUF file: it starts with {head!r}, not {MAGIC!r}",
            "give a .gguf file, or the folder of a Hugging Face model",
        )


def gguf_details(path: Path, file: ListedFile, name: str | None = None) -> ModelDetails:
    """The facts of a GGUF model (see :class:`ModelDetails`) from its header.

    Raises:
        InputError: the header cannot be parsed (bad magic, truncated, unknown version).
    """
    check_gguf(path)
    import gguf

    try:
        reader = gguf.GGUFReader(path, "r")
        fields = reader.fields
        tensors = [(t.tensor_type.name, int(t.n_elements)) for t in reader.tensors]
    except (ValueError, IndexError, KeyError, TypeError, OSError) as exc:
        raise InputError(
            f"{path.name} has a GGUF header that cannot be read ({exc})", "download or convert the file again"
        ) from None

    def value(key: str) -> Any:
        field = fields.get(key)
        if field is None:
            return None
        try:
            return field.contents()
        except (ValueError, IndexError, TypeError):
            return None

    arch = value("general.architecture")
    arch = arch if isinstance(arch, str) else None
    by_dtype: dict[str, int] = {}
    for dtype, count in tensors:
        by_dtype[dtype] = by_dtype.get(dtype, 0) + count
    tokens = fields.get("tokenizer.ggml.tokens")
    special: dict[str, str] = {}
    for role, key in _SPECIAL_IDS.items():
        token_id = value(key)
        if tokens is not None and isinstance(token_id, int) and 0 <= token_id < len(tokens.data):
            special[role] = tokens.contents(token_id)
    task = None if arch is None else "feature-extraction" if arch in _ENCODERS else "text-generation"
    vocab = positive_int(value(f"{arch}.vocab_size")) or (len(tokens.data) if tokens is not None else None)
    licence = value("general.license")
    return ModelDetails(
        name=name or _string(value("general.name")) or path.stem,
        source="gguf",
        weights_format="gguf",
        architecture=arch,
        model_type=arch,
        parameter_count=sum(by_dtype.values()) or None,
        parameters_by_dtype=by_dtype,
        dtype=_file_type(value("general.file_type")) or majority_dtype(by_dtype),
        vocab_size=vocab,
        context_length=positive_int(value(f"{arch}.context_length")),
        hidden_size=positive_int(value(f"{arch}.embedding_length")),
        num_layers=positive_int(value(f"{arch}.block_count")),
        special_tokens=special,
        pipeline_task=task,
        category=CATEGORY_OF_TASK.get(task or ""),
        license=_string(licence),
        last_modified=iso_utc(file.state.modified_ns),
    )


def _file_type(code: Any) -> str | None:
    import gguf

    if not isinstance(code, int):
        return None
    try:
        return gguf.LlamaFileType(code).name.removeprefix("MOSTLY_").removeprefix("ALL_")
    except ValueError:
        return None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

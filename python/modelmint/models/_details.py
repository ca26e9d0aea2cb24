"""What a model is, as the registry tabulates it: architecture, size, tokenizer, task, licence.

Read from the files' headers and configuration only: no weights are loaded.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

# Hugging Face's task groups, as the Hub's model filter shows them.
_CATEGORIES = {
    "Natural Language Processing": (
        "text-generation", "text2text-generation", "fill-mask", "text-classification", "token-classification",
        "question-answering", "summarization", "translation", "feature-extraction", "sentence-similarity",
        "zero-shot-classification", "table-question-answering", "text-ranking",
    ),
    "Computer Vision": (
        "image-classification", "object-detection", "image-segmentation", "depth-estimation", "text-to-image",
        "image-to-image", "unconditional-image-generation", "video-classification", "zero-shot-image-classification",
        "mask-generation", "image-feature-extraction",
    ),
    "Audio": (
        "automatic-speech-recognition", "audio-classification", "text-to-speech", "text-to-audio", "audio-to-audio",
        "voice-activity-detection",
    ),
    "Multimodal": (
        "image-text-to-text", "image-to-text", "visual-question-answering", "document-question-answering",
        "video-text-to-text", "any-to-any", "audio-text-to-text",
    ),
}  # fmt: skip
CATEGORY_OF_TASK = {task: category for category, tasks in _CATEGORIES.items() for task in tasks}

# The task of a transformers class from its name's ending, most specific first.
_TASK_OF_SUFFIX = (
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForSpeechSeq2Seq", "automatic-speech-recognition"),
    ("ForCTC", "automatic-speech-recognition"),
    ("ForAudioClassification", "audio-classification"),
    ("ForImageClassification", "image-classification"),
    ("ForObjectDetection", "object-detection"),
    ("ForSemanticSegmentation", "image-segmentation"),
    ("ForImageTextToText", "image-text-to-text"),
    ("ForVision2Seq", "image-text-to-text"),
    ("ForSeq2SeqLM", "text2text-generation"),
    ("ForConditionalGeneration", "text2text-generation"),
    ("Model", "feature-extraction"),
)


@dataclass(frozen=True)
class ModelDetails:
    """Facts about a model for its metadata; a field is None when the files do not say.

    Attributes:
        name: a display name (the folder, file or repo name unless the model names itself).
        source: ``huggingface-folder``, ``gguf`` or ``huggingface-hub``.
        weights_format: ``safetensors``, ``pytorch`` or ``gguf``.
        architecture: the transformers class (``LlamaForCausalLM``) or GGUF architecture (``llama``).
        model_type: the transformers ``model_type`` (``llama``); for GGUF, the architecture.
        parameter_count: parameters stored in the weights (tied weights counted once).
        parameters_by_dtype: the same, by stored dtype (``float32``, ``bfloat16``, ``Q4_1``).
        dtype: the dtype holding most parameters.
        special_tokens: role (``bos``, ``eos``, ``unk``, ``pad``, ...) to token text.
        pipeline_task: the Hugging Face pipeline task (``text-generation``).
        category: the Hub's group of that task (``Natural Language Processing``).
        last_modified: ISO 8601 UTC time of the newest file (local) or of the repo (Hub).
    """

    name: str
    source: str
    weights_format: str | None = None
    architecture: str | None = None
    model_type: str | None = None
    parameter_count: int | None = None
    parameters_by_dtype: dict[str, int] = field(default_factory=dict)
    dtype: str | None = None
    vocab_size: int | None = None
    context_length: int | None = None
    hidden_size: int | None = None
    num_layers: int | None = None
    special_tokens: dict[str, str] = field(default_factory=dict)
    pipeline_task: str | None = None
    category: str | None = None
    license: str | None = None
    last_modified: str | None = None
    repo_id: str | None = None
    revision: str | None = None

    def to_json(self) -> dict[str, Any]:
        """camelCase keys, fields that are None or empty left out."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if value is None or value == {}:
                continue
            head, *rest = key.split("_")
            out[head + "".join(p.title() for p in rest)] = value
        return out


def task_of_architecture(architecture: str | None, config: dict[str, Any] | None = None) -> str | None:
    """The pipeline task a transformers class name implies, or None."""
    if not architecture:
        return None
    config = config or {}
    if architecture.endswith("ForConditionalGeneration"):
        if "vision_config" in config:
            return "image-text-to-text"
        if "num_mel_bins" in config:
            return "automatic-speech-recognition"
    return next((task for suffix, task in _TASK_OF_SUFFIX if architecture.endswith(suffix)), None)


def majority_dtype(by_dtype: dict[str, int]) -> str | None:
    return max(sorted(by_dtype), key=lambda d: by_dtype[d]) if by_dtype else None


def positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def iso_utc(moment: int | _dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of a datetime or of nanoseconds since the epoch."""
    if isinstance(moment, int):
        moment = _dt.datetime.fromtimestamp(moment / 1e9, _dt.UTC)
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
